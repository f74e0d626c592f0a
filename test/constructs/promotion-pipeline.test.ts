/**
 * The promotion pipeline construct: the approval rule (this environment's group, Approved, the whole event to the
 * state machine, a role that may start it only), the state machine's role (UpdateModelPackage on this group's
 * packages only, the audit prefix only), the substitutions, and cdk-nag in every environment.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { placeholdersOf, readAslFile } from '../../lib/constructs/orchestration/asl-definition.js';
import { MODEL_PACKAGE_STATE_CHANGE, rulesMatching, SAGEMAKER_EVENT_SOURCE } from '../../lib/contracts/event-rules.js';
import { ALL_ENVIRONMENTS, nagFindings } from '../helpers/platform.js';
import { asArray, policyStatements } from '../stacks/templates.js';
import { ACCOUNT, REGION, rolloutStack } from './helpers/rollout-stack.js';

/** The statements of the policies whose logical id starts with `policyPrefix`. */
const statements = (template: Template, policyPrefix: string) =>
  policyStatements(template).filter((st) => st.policy.startsWith(policyPrefix));

describe('promotion pipeline construct', () => {
  const { stack } = rolloutStack('prod');
  const template = Template.fromStack(stack);

  it('an EventBridge rule: aws.sagemaker model package state change, this group, Approved → the promotion machine', () => {
    const rules = template.findResources('AWS::Events::Rule');
    const [rule] = Object.values(rules) as { Properties: Record<string, unknown> }[];
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule?.Properties).toMatchObject({
      Name: 'clv-prod-promotion-on-approval',
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        detail: { ModelPackageGroupName: ['clv-prod-clv-models'], ModelApprovalStatus: ['Approved'] },
      },
    });
    const [target] = (rule?.Properties.Targets ?? []) as { Arn: unknown; RoleArn: unknown; Input?: unknown }[];
    expect(target?.Arn).toEqual({ Ref: expect.stringMatching(/^PromotionStateMachine/) });
    expect(target?.Input).toBeUndefined(); // the whole event is the input (ValidateInput parses it)
    expect(target).toMatchObject({
      DeadLetterConfig: expect.anything(),
      RetryPolicy: { MaximumEventAgeInSeconds: 86400 },
    });
    const ruleRole = statements(template, 'PromotionStateMachineEventsRole');
    expect(ruleRole).toHaveLength(1);
    expect(ruleRole[0]).toMatchObject({ Action: 'states:StartExecution' });
    expect(ruleRole[0]?.Resource).toEqual({ Ref: expect.stringMatching(/^PromotionStateMachine/) });
  });

  it('the rule table matches only approvals of this environment group (the local dispatcher uses the same table)', () => {
    const ctx = { environmentName: 'prod', modelPackageGroupName: 'clv-prod-clv-models' };
    const event = (group: string, status: string) => ({
      source: SAGEMAKER_EVENT_SOURCE,
      'detail-type': MODEL_PACKAGE_STATE_CHANGE,
      detail: { ModelPackageGroupName: group, ModelApprovalStatus: status },
    });
    expect(rulesMatching(event('clv-prod-clv-models', 'Approved'), ctx).map((r) => r.name)).toEqual([
      'promotion-on-approval',
    ]);
    expect(rulesMatching(event('clv-prod-clv-models', 'Rejected'), ctx)).toEqual([]);
    expect(rulesMatching(event('clv-dev-clv-models', 'Approved'), ctx)).toEqual([]);
  });

  it('the state machine role updates this group’s packages only and writes the audit prefix only', () => {
    const all = statements(template, 'PromotionRoleDefaultPolicy');
    const update = all.filter((s) => asArray(s.Action).includes('sagemaker:UpdateModelPackage'));
    expect(update).toHaveLength(1);
    expect(update[0]?.Resource).toBe(`arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/clv-prod-clv-models/*`);
    const put = all.filter((s) => asArray(s.Action).includes('s3:PutObject'));
    expect(put).toHaveLength(1);
    expect(put[0]?.Resource).toBe('arn:aws:s3:::clv-prod-gold/audit/promotions/*');
    const actions = all.flatMap((s) => asArray(s.Action)).sort();
    for (const a of actions) {
      expect(a).toMatch(
        /^(lambda:InvokeFunction|sagemaker:UpdateModelPackage|s3:PutObject|sns:Publish|kms:(Decrypt|GenerateDataKey)|logs:.*|xray:.*)$/,
      );
    }
  });

  it('fills exactly the placeholders of state-machines/promotion.asl.json', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine') as Record<
      string,
      { Properties: { StateMachineName: string; DefinitionSubstitutions: Record<string, unknown> } }
    >;
    const promo = Object.values(machines).find((m) => m.Properties.StateMachineName === 'clv-prod-promotion');
    expect(Object.keys(promo?.Properties.DefinitionSubstitutions ?? {}).sort()).toEqual(
      placeholdersOf(readAslFile('promotion.asl.json').text),
    );
  });

  for (const env of ALL_ENVIRONMENTS) {
    it(`cdk-nag clean in ${env}`, () => {
      expect(nagFindings(rolloutStack(env).stack)).toEqual([]);
    });
  }
});
