// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text
/**
 * The campaign experiment's CDK construct: the state machine (placeholders, timeout, no schedule), the task-token
 * permissions (the role invokes the campaign-token Lambda and may not report tasks itself; the Lambda writes token
 * records only), the `clv-<env>-campaign-completer` managed policy (SendTask* on this state machine only), and
 * cdk-nag in every environment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ENVIRONMENT_NAMES,
  type EnvironmentConfig,
  type EnvironmentName,
} from '../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { placeholdersOf } from '../../lib/constructs/orchestration/asl-definition.js';
import {
  CAMPAIGN_COMPLETER_ACTIONS,
  CampaignExperimentPipeline,
  campaignExperimentSettings,
} from '../../lib/constructs/pipelines/campaign-experiment-pipeline.js';
import { pipelineSettingsSchemas } from '../../lib/contracts/pipeline-inputs.js';
import { repoRoot } from '../../lib/paths.js';
import { nagFindings } from '../helpers/platform.js';
import { asArray, flat } from '../stacks/templates.js';
import { pipelineStack, TRAINING_IMAGE_URI } from './helpers/pipeline-stack.js';

const ASL_TEXT = fs.readFileSync(path.join(repoRoot, 'state-machines', 'campaign-experiment.asl.json'), 'utf8');
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type Resource = { Type: string; Properties: Record<string, unknown> };

/** The construct in a stack of its own over imported lake resources (helpers/pipeline-stack.ts). */
function campaignStack(env: EnvironmentName, config: EnvironmentConfig = loadEnvironmentConfig(env)) {
  const { stack, ...parts } = pipelineStack('Campaign', env);
  const pipeline = new CampaignExperimentPipeline(stack, 'CampaignExperiment', {
    config,
    ...parts,
    trainingImageUri: TRAINING_IMAGE_URI,
  });
  return { stack, pipeline };
}

interface Synth {
  pipeline: CampaignExperimentPipeline;
  template: Template;
}
const synths = {} as Record<EnvironmentName, Synth>;

beforeAll(() => {
  process.env.CDK_VALIDATION = 'false';
  for (const env of ENVIRONMENT_NAMES) {
    const { stack, pipeline } = campaignStack(env);
    synths[env] = { pipeline, template: Template.fromStack(stack) };
  }
}, 300_000);

const resources = (t: Template, type: string) => Object.entries(t.findResources(type)) as [string, Resource][];

function machine(env: EnvironmentName): [string, Resource] {
  const found = resources(synths[env].template, 'AWS::StepFunctions::StateMachine').filter(
    ([, r]) => r.Properties.StateMachineName === `clv-${env}-campaign-experiment`,
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** The statements of the inline policies whose logical id starts with `prefix`. */
function statementsOf(env: EnvironmentName, prefix: string): Statement[] {
  return resources(synths[env].template, 'AWS::IAM::Policy')
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('campaign experiment construct', () => {
  it.each(ENVIRONMENT_NAMES)('%s: cdk-nag clean', (env) => {
    expect(nagFindings(synths[env].pipeline)).toEqual([]);
  });

  it('fills exactly the placeholders of the ASL file and times out a day after the longest wait', () => {
    const [, m] = machine('prod');
    const subs = m.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(subs).sort()).toEqual(placeholdersOf(ASL_TEXT));
    expect(flat(subs.CampaignTokenFunctionArn)).toMatch(/^<CampaignExperimentCampaignToken[0-9A-F]+\.Arn>$/);
    expect(flat(subs.ExperimentAnalysisFunctionArn)).toMatch(/^<CampaignExperimentExperimentAnalysis[0-9A-F]+\.Arn>$/);
    const days = loadEnvironmentConfig('prod').campaigns.maxCampaignDays;
    expect(JSON.parse(m.Properties.DefinitionString as string).TimeoutSeconds).toBe((days + 1) * 86_400);
  });

  it('has no schedule (campaigns are started by hand)', () => {
    const schedules = resources(synths.prod.template, 'AWS::Scheduler::Schedule').filter(([id]) =>
      id.startsWith('CampaignExperiment'),
    );
    expect(schedules).toEqual([]);
  });

  it('task token: the role invokes the campaign-token Lambda and cannot report tasks itself', () => {
    const role = statementsOf('prod', 'CampaignExperimentRole');
    const token = role.find((s) => s.Sid === 'CampaignToken');
    expect(token?.Action).toEqual('lambda:InvokeFunction');
    expect(asArray(token?.Resource).map(flat)).toEqual([
      expect.stringMatching(/^<CampaignExperimentCampaignToken[0-9A-F]+\.Arn>$/),
    ]);
    const actions = role.flatMap((s) => asArray(s.Action));
    expect(actions.filter((a) => a.startsWith('states:SendTask'))).toEqual([]);
    expect(actions).toContain('sagemaker:UpdateModelPackage');
  });

  it('the campaign-token Lambda writes token records under artifacts campaigns/ only', () => {
    const fn = statementsOf('prod', 'CampaignExperimentCampaignToken');
    const writes = fn.filter((s) => asArray(s.Action).includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(asArray(writes[0]?.Resource).map(flat)).toEqual([
      expect.stringMatching(/^<.*ArtifactsBucket.*>\/campaigns\/\*$|artifacts.*\/campaigns\/\*$/),
    ]);
    expect(fn.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('states:'))).toEqual([]);
  });

  it.each(ENVIRONMENT_NAMES)('%s: the completer policy allows SendTask* on this state machine only', (env) => {
    const [machineId] = machine(env);
    const policies = resources(synths[env].template, 'AWS::IAM::ManagedPolicy').filter(
      ([, p]) => p.Properties.ManagedPolicyName === `clv-${env}-campaign-completer`,
    );
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0] as [string, Resource];
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const report = statements.find((s) => s.Sid === 'ReportCampaignTasks');
    expect(asArray(report?.Action).sort()).toEqual([...CAMPAIGN_COMPLETER_ACTIONS].sort());
    expect(asArray(report?.Resource).map(flat)).toEqual([`<${machineId}>`]);
    const tokens = statements.find((s) => s.Sid === 'ReadTaskTokens');
    expect(tokens?.Action).toBe('s3:GetObject');
    expect(asArray(tokens?.Resource).map(flat)[0]).toMatch(/\/campaigns\/\*\/task-token\.json$/);
    // SendTask* appears nowhere else: only holders of this policy can resume a campaign
    const everywhere = [
      ...resources(synths[env].template, 'AWS::IAM::Policy').flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      ),
      ...resources(synths[env].template, 'AWS::IAM::ManagedPolicy').flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      ),
    ];
    const senders = everywhere.filter((s) => asArray(s.Action).some((a) => a.startsWith('states:SendTask')));
    expect(senders).toEqual([report]);
  });

  it('settings come from the config and satisfy the ValidateInput schema; bad settings never synthesize', () => {
    const config = loadEnvironmentConfig('dev');
    const settings = campaignExperimentSettings(config);
    expect(settings).toEqual({
      canary_share: 0.05,
      ab_share: 0.5,
      alpha: 0.05,
      default_max_days: config.campaigns.defaultMaxDays,
      max_campaign_days: config.campaigns.maxCampaignDays,
    });
    expect(pipelineSettingsSchemas['campaign-experiment'].safeParse(settings).success).toBe(true);
    const bad = { ...config, campaigns: { ...config.campaigns, defaultMaxDays: config.campaigns.maxCampaignDays + 1 } };
    expect(() => campaignStack('dev', bad)).toThrow(
      /invalid ValidateInput settings: default_max_days: expected at most max_campaign_days/,
    );
  });
});
