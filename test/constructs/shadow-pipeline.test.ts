/**
 * The shadow pipeline construct: the state machine's role (SageMaker models, transform and processing jobs named
 * clv-shadow-* only, the SageMaker role passed to SageMaker only, UpdateModelPackage on this group's packages only,
 * the gold predictions partition registered), the settings and substitutions, the gate Lambda without AWS access of
 * its own, and cdk-nag in every environment.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { placeholdersOf, readAslFile } from '../../lib/constructs/orchestration/asl-definition.js';
import { shadowSettings } from '../../lib/constructs/pipelines/shadow-pipeline.js';
import { pipelineSettingsSchemas } from '../../lib/contracts/pipeline-inputs.js';
import { ALL_ENVIRONMENTS, nagFindings } from '../helpers/platform.js';
import { asArray, policyStatements } from '../stacks/templates.js';
import { ACCOUNT, REGION, rolloutStack } from './helpers/rollout-stack.js';

/** The statements of the policies whose logical id starts with `policyPrefix`. */
const statements = (template: Template, policyPrefix: string) =>
  policyStatements(template).filter((st) => st.policy.startsWith(policyPrefix));

describe('shadow pipeline construct', () => {
  const { stack } = rolloutStack('prod');
  const template = Template.fromStack(stack);
  const role = statements(template, 'ShadowRoleDefaultPolicy');
  const bySid = Object.fromEntries(role.filter((s) => s.Sid).map((s) => [s.Sid as string, s]));
  const sm = (type: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${type}/clv-shadow-*`;

  it('grants SageMaker models, transform and processing jobs named clv-shadow-* only', () => {
    expect(bySid.Models).toMatchObject({ Action: 'sagemaker:CreateModel', Resource: sm('model') });
    expect(bySid.TransformJobs?.Resource).toBe(sm('transform-job'));
    expect(asArray(bySid.TransformJobs?.Action)).toContain('sagemaker:CreateTransformJob');
    expect(bySid.ProcessingJobs?.Resource).toBe(sm('processing-job'));
    expect(bySid.PassSageMakerRole).toMatchObject({
      Action: 'iam:PassRole',
      Resource: `arn:aws:iam::${ACCOUNT}:role/clv-prod-sagemaker`,
      Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
    expect(bySid.PlatformKeyGrants).toMatchObject({ Action: 'kms:CreateGrant' });
    for (const s of role) {
      for (const a of asArray(s.Action).filter((x) => x.startsWith('sagemaker:'))) {
        expect(a).not.toMatch(/^sagemaker:(Delete|CreateModelPackage|CreateEndpoint)/);
      }
    }
  });

  it('updates only this group’s model packages (stage Shadow, Canary, the evidence)', () => {
    const update = role.filter((s) => asArray(s.Action).includes('sagemaker:UpdateModelPackage'));
    expect(update).toHaveLength(1);
    expect(update[0]?.Resource).toBe(`arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/clv-prod-clv-models/*`);
  });

  it('reads the scoring set with Athena and registers the predictions partition in the catalog', () => {
    const actions = role.flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'glue:BatchCreatePartition']));
    expect(actions).toContain('s3:GetObject');
    expect(actions).not.toContain('s3:DeleteObject');
  });

  it('the shadow gate Lambda has no AWS access beyond its logs, traces and environment key', () => {
    const gate = statements(template, 'ShadowShadowGateRoleDefaultPolicy').flatMap((s) => asArray(s.Action));
    for (const a of gate) expect(a).toMatch(/^(logs:|xray:|kms:Decrypt$)/);
  });

  it('settings from the environment config (10% runtime, 15% mean) satisfy the contract', () => {
    for (const env of ALL_ENVIRONMENTS) {
      const s = shadowSettings(loadEnvironmentConfig(env));
      expect(pipelineSettingsSchemas.shadow.safeParse(s).success).toBe(true);
      expect(s.thresholds).toMatchObject({ max_runtime_increase: 0.1, max_mean_shift: 0.15 });
    }
  });

  it('fills exactly the placeholders of state-machines/shadow.asl.json', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine') as Record<
      string,
      { Properties: { StateMachineName: string; DefinitionSubstitutions: Record<string, unknown> } }
    >;
    const m = Object.values(machines).find((x) => x.Properties.StateMachineName === 'clv-prod-shadow');
    expect(Object.keys(m?.Properties.DefinitionSubstitutions ?? {}).sort()).toEqual(
      placeholdersOf(readAslFile('shadow.asl.json').text),
    );
  });

  for (const env of ALL_ENVIRONMENTS) {
    it(`cdk-nag clean in ${env}`, () => {
      expect(nagFindings(rolloutStack(env).stack)).toEqual([]);
    });
  }
});
