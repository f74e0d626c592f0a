// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { placeholdersOf } from '../../lib/constructs/orchestration/asl-definition.js';
import { batchScoringSettings } from '../../lib/constructs/pipelines/batch-scoring-pipeline.js';
import { pipelineSettingsSchemas } from '../../lib/contracts/pipeline-inputs.js';
import { readSqlQuery } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { asArray, flat, policyStatements, synthTemplates } from './templates.js';

const ASL_TEXT = fs.readFileSync(path.join(repoRoot, 'state-machines', 'batch-scoring.asl.json'), 'utf8');
type State = { Type: string; Resource?: string; Parameters?: Record<string, unknown> };
const asl = JSON.parse(ASL_TEXT) as { States: Record<string, State> };
type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

let ml: Template;
let dev: Template;
let staging: Template;

beforeAll(() => {
  ml = synthTemplates('prod').ml;
  dev = synthTemplates('dev').ml;
  staging = synthTemplates('staging').ml;
});

function machine(template: Template): [string, Resource] {
  const found = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(
    ([, r]) => (r as Resource).Properties.StateMachineName === 'clv-prod-batch-scoring',
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

function roleStatements() {
  const all = policyStatements(ml).filter((s) => s.policy.startsWith('BatchScoringRole'));
  expect(all.length).toBeGreaterThan(0);
  return { all, bySid: Object.fromEntries(all.filter((s) => s.Sid).map((s) => [s.Sid, s])) };
}

const arns = (s: { Resource: unknown } | undefined) => asArray(s?.Resource).map(flat).sort();

describe('batch scoring: the state machine', () => {
  it('fills exactly the placeholders of the ASL file, with the lake, registry, image, key and topic', () => {
    const [, { Properties: props }] = machine(ml);
    const subs = props.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(subs).sort()).toEqual(placeholdersOf(ASL_TEXT));
    const sql = readSqlQuery('ScoringSetQuery').trim().replace(/;\s*$/, '');
    expect(JSON.parse(`"${subs.ScoringSetQuery as string}"`)).toBe(sql);
    expect(subs.ModelPackageGroupName).toBe('clv-prod-clv-models');
    expect(subs.GlueDatabase).toBe('clv_prod');
    expect(subs.AthenaWorkGroup).toBe('clv-prod');
    expect(subs.TrainingImageUri).toBe('141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5');
    expect(flat(subs.GoldBucket)).toBe('clv-prod-gold-<AWS::AccountId>-eu-west-1');
    expect(flat(subs.ArtifactsBucket)).toBe('clv-prod-artifacts-<AWS::AccountId>-eu-west-1');
    expect(flat(subs.ValidateInputFunctionArn)).toMatch(/^<BatchScoringValidateInput[0-9A-F]+\.Arn>$/);
    expect(flat(subs.ModelRegistryFunctionArn)).toMatch(/^<ModelRegistry[0-9A-F]+\.Arn>$/);
    expect(flat(subs.SageMakerRoleArn)).toMatch(/^<SageMakerExecutionRole[0-9A-F]+\.Arn>$/);
    expect(flat(subs.KmsKeyArn)).toContain('PlatformKey');
    expect(flat(subs.AlertsTopicArn)).toContain('Alerts');
  });

  it('runs with the configured timeout, logs ALL to its own encrypted group, traces, after the code is in place', () => {
    const [, m] = machine(ml);
    expect(JSON.parse(m.Properties.DefinitionString as string).TimeoutSeconds).toBe(
      loadEnvironmentConfig('prod').batchScoring.timeoutMinutes * 60,
    );
    expect(m.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(m.Properties.TracingConfiguration).toEqual({ Enabled: true });
    ml.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/clv-prod-batch-scoring',
      KmsKeyId: Match.anyValue(),
    });
    expect(m.DependsOn ?? []).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SageMakerCodeDeploymentCustomResource/)]),
    );
  });

  it('has its own ValidateInput Lambda with the transform settings of the config (C2), valid for the contract', () => {
    const config = loadEnvironmentConfig('prod');
    const settings = batchScoringSettings(config);
    expect(settings.transform).toEqual({
      instance_type: 'ml.m5.xlarge',
      instance_count: 1,
      max_concurrent_transforms: 1,
      max_payload_in_mb: 100,
      batch_strategy: 'MultiRecord',
      split_type: 'None',
    });
    expect(pipelineSettingsSchemas['batch-scoring'].parse(settings)).toEqual(settings);
    ml.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLV_PIPELINE_SETTINGS: JSON.stringify(settings) }) },
    });
  });
});

describe('batch scoring: the weekly schedule', () => {
  it('starts the state machine weekly (UTC) with its scheduled time only', () => {
    const c = loadEnvironmentConfig('prod').batchScoring;
    expect(c.scheduleCron).toBe('cron(0 6 ? * SUN *)');
    ml.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'clv-prod-batch-scoring-weekly',
      ScheduleExpression: 'cron(0 6 ? * SUN *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^BatchScoringStateMachine') },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
      }),
    });
  });

  it('is enabled per environment: off in dev, on in staging', () => {
    dev.hasResourceProperties('AWS::Scheduler::Schedule', { Name: 'clv-dev-batch-scoring-weekly', State: 'DISABLED' });
    staging.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'clv-staging-batch-scoring-weekly',
      State: 'ENABLED',
    });
  });
});

describe('batch scoring: the role (from the Task resources of the file)', () => {
  it('creates models, transform jobs and publish jobs under their name prefixes only, with the managed rules', () => {
    const { bySid } = roleStatements();
    expect(arns(bySid.Models)).toEqual(['arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:model/clv-model-*']);
    expect(asArray(bySid.Models?.Action)).toEqual(['sagemaker:CreateModel']);
    expect(arns(bySid.TransformJobs)).toEqual([
      'arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:transform-job/clv-score-*',
    ]);
    expect(arns(bySid.ProcessingJobs)).toEqual([
      'arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:processing-job/clv-publish-*',
    ]);
    expect(arns(bySid.SyncRules)).toEqual(
      ['ProcessingJobs', 'TransformJobs'].map(
        (k) => `arn:aws:events:eu-west-1:<AWS::AccountId>:rule/StepFunctionsGetEventsForSageMaker${k}Rule`,
      ),
    );
    // Nothing of the training pipeline.
    expect(bySid.TrainingJobs).toBeUndefined();
    expect(bySid.TuningJobs).toBeUndefined();
    expect(bySid.RegisterModel).toBeUndefined();
  });

  it('passes the SageMaker execution role, and only to SageMaker', () => {
    const { all, bySid } = roleStatements();
    expect(all.filter((s) => asArray(s.Action).includes('iam:PassRole'))).toHaveLength(1);
    expect(flat(bySid.PassSageMakerRole?.Resource)).toMatch(/^<SageMakerExecutionRole[0-9A-F]+\.Arn>$/);
    expect(bySid.PassSageMakerRole?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
    expect(bySid.PlatformKeyGrants?.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': true } });
  });

  it('invokes exactly the ValidateInput and model-registry Lambdas', () => {
    const { all } = roleStatements();
    const invoked = all.filter((s) => asArray(s.Action).includes('lambda:InvokeFunction'));
    expect(invoked.map((s) => s.Sid).sort()).toEqual(['ModelRegistry', 'ValidateInput']);
    expect(invoked.flatMap((s) => asArray(s.Resource).map(flat)).sort()).toEqual([
      expect.stringMatching(/^<BatchScoringValidateInput[0-9A-F]+\.Arn>$/),
      expect.stringMatching(/^<ModelRegistry[0-9A-F]+\.Arn>$/),
    ]);
  });

  it('queries the offline store, stages the scoring set, reads the summary: named prefixes only', () => {
    const { bySid } = roleStatements();
    expect(flat(bySid.AthenaQuery?.Resource)).toBe('arn:aws:athena:eu-west-1:<AWS::AccountId>:workgroup/clv-prod');
    expect(arns(bySid.AthenaCatalog)).toContain(
      'arn:aws:glue:eu-west-1:<AWS::AccountId>:table/clv_prod/customer_features_offline',
    );
    expect(arns(bySid.AthenaReadsCustomerFeaturesOffline)).toEqual([
      'arn:aws:s3:::clv-prod-features-<AWS::AccountId>-eu-west-1/offline-store/*',
    ]);
    const artifacts = 'arn:aws:s3:::clv-prod-artifacts-<AWS::AccountId>-eu-west-1';
    expect(arns(bySid.StageScoringSetFrom)).toEqual([
      'arn:aws:s3:::clv-prod-athena-results-<AWS::AccountId>-eu-west-1/results/*',
    ]);
    expect([asArray(bySid.StageScoringSetTo?.Action), arns(bySid.StageScoringSetTo)]).toEqual([
      ['s3:PutObject'],
      [`${artifacts}/scoring/*`],
    ]);
    expect([asArray(bySid.ReadSummaryObject?.Action), arns(bySid.ReadSummaryObject)]).toEqual([
      ['s3:GetObject'],
      [`${artifacts}/scoring/*`],
    ]);
  });

  it('registers partitions of the predictions table only', () => {
    const { all, bySid } = roleStatements();
    const catalogWrites = all.filter((s) =>
      asArray(s.Action).some((a) => /^glue:(Create|BatchCreate|Update|Delete)/.test(a)),
    );
    expect(catalogWrites.map((s) => s.Sid)).toEqual(['RegisterPartitions']);
    expect(asArray(bySid.RegisterPartitions?.Action)).toEqual(['glue:BatchCreatePartition']);
    expect(arns(bySid.RegisterPartitions)).toEqual([
      'arn:aws:glue:eu-west-1:<AWS::AccountId>:catalog',
      'arn:aws:glue:eu-west-1:<AWS::AccountId>:database/clv_prod',
      'arn:aws:glue:eu-west-1:<AWS::AccountId>:table/clv_prod/predictions',
    ]);
  });

  it('puts ScoringCompleted from clv.platform on the default bus only, and publishes to the alerts topic', () => {
    const { bySid } = roleStatements();
    expect(asArray(bySid.Events?.Action)).toEqual(['events:PutEvents']);
    expect(flat(bySid.Events?.Resource)).toBe('arn:aws:events:eu-west-1:<AWS::AccountId>:event-bus/default');
    expect(bySid.Events?.Condition).toEqual({
      StringEquals: { 'events:source': ['clv.platform'], 'events:detail-type': ['ScoringCompleted'] },
    });
    expect(asArray(bySid.Alerts?.Action)).toEqual(['sns:Publish']);
    expect(flat(bySid.Alerts?.Resource)).toContain('Alerts');
  });

  it("uses '*' only in the statement Step Functions logging and tracing need", () => {
    const { all } = roleStatements();
    const star = all.filter((s) => asArray(s.Resource).includes('*'));
    expect(star).toHaveLength(1);
    for (const a of asArray(star[0]?.Action)) expect(a).toMatch(/^(logs|xray):/);
  });
});

describe('batch scoring: the model-registry Lambda and the SageMaker execution role', () => {
  it('the model-registry Lambda describes the group versions and lists packages, nothing else', () => {
    const statements = policyStatements(ml).filter((s) => s.policy.startsWith('ModelRegistryRole'));
    const sagemaker = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('sagemaker:')));
    expect(sagemaker.map((s) => [asArray(s.Action), asArray(s.Resource).map(flat)])).toEqual([
      [
        ['sagemaker:DescribeModelPackage'],
        ['arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:model-package/clv-prod-clv-models/*'],
      ],
      [['sagemaker:ListModelPackages'], ['*']],
    ]);
    expect(statements.some((s) => asArray(s.Action).some((a) => a.startsWith('s3:')))).toBe(false);
  });

  it('the execution role writes gold predictions and monitoring metrics and the transform log group', () => {
    const all = policyStatements(ml).filter((s) => s.policy.startsWith('SageMakerExecutionRole'));
    const writes = all
      .filter((s) => asArray(s.Action).includes('s3:PutObject'))
      .flatMap((s) => asArray(s.Resource).map(flat));
    const gold = 'arn:aws:s3:::clv-prod-gold-<AWS::AccountId>-eu-west-1';
    expect(writes).toEqual(expect.arrayContaining([`${gold}/predictions/*`, `${gold}/monitoring_metrics/*`]));
    // the other gold writes of the shared role: drift baselines (evaluation job) and campaign audiences (export job)
    expect(writes.filter((w) => w.startsWith(gold)).sort()).toEqual(
      [
        `${gold}/campaigns/audiences/*`,
        `${gold}/campaigns/exports/*`,
        `${gold}/drift_baselines/*`,
        `${gold}/monitoring_metrics/*`,
        `${gold}/predictions/*`,
      ].sort(),
    );
    expect(all.flatMap((s) => asArray(s.Resource).map(flat))).toContain(
      'arn:aws:logs:eu-west-1:<AWS::AccountId>:log-group:/aws/sagemaker/TransformJobs:*',
    );
  });
});

describe('batch scoring ASL: encryption and isolation of the SageMaker resources', () => {
  const tasksOf = (resource: string) =>
    Object.entries(asl.States).filter(([, s]) => s.Type === 'Task' && s.Resource === resource);

  it('encrypts the transform output and volumes with the platform key', () => {
    const transforms = tasksOf('arn:aws:states:::sagemaker:createTransformJob.sync');
    expect(transforms.length).toBeGreaterThan(0);
    for (const [name, s] of transforms) {
      expect(s.Parameters, name).toMatchObject({
        TransformOutput: { KmsKeyId: '${KmsKeyArn}' },
        TransformResources: { VolumeKmsKeyId: '${KmsKeyArn}' },
      });
      const processing = s.Parameters?.DataProcessing as Record<string, unknown> | undefined;
      // A join of input and output must be explicit about what it keeps (a filter), or absent.
      if (processing !== undefined) {
        expect(['Input', 'None'], name).toContain(processing.JoinSource);
        expect(typeof processing.OutputFilter, name).toBe('string');
      }
    }
  });

  it('creates network-isolated models', () => {
    const models = tasksOf('arn:aws:states:::sagemaker:createModel');
    expect(models.length).toBeGreaterThan(0);
    for (const [name, s] of models) {
      expect(s.Parameters?.EnableNetworkIsolation, name).toBe(true);
      expect(s.Parameters?.ExecutionRoleArn, name).toBe('${SageMakerRoleArn}');
    }
  });

  it('runs the publish job network-isolated with encrypted outputs and volume', () => {
    const jobs = tasksOf('arn:aws:states:::sagemaker:createProcessingJob.sync');
    expect(jobs.length).toBeGreaterThan(0);
    for (const [name, s] of jobs) {
      expect(s.Parameters, name).toMatchObject({
        NetworkConfig: { EnableNetworkIsolation: true },
        ProcessingOutputConfig: { KmsKeyId: '${KmsKeyArn}' },
        ProcessingResources: { ClusterConfig: { VolumeKmsKeyId: '${KmsKeyArn}' } },
        RoleArn: '${SageMakerRoleArn}',
      });
    }
  });
});
