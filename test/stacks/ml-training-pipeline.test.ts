import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../lib/config/environments.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { xgboostImageUri } from '../../lib/constructs/ml/xgboost-image.js';
import { applySubstitutions, placeholdersOf } from '../../lib/constructs/orchestration/asl-definition.js';
import { readSqlQuery } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { asArray, flat, type PlatformTemplates, policyStatements, synthTemplates } from './templates.js';

const ASL_TEXT = fs.readFileSync(path.join(repoRoot, 'state-machines', 'training-pipeline.asl.json'), 'utf8');
type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

let t: PlatformTemplates;
let ml: Template;
let dev: Template;

beforeAll(() => {
  t = synthTemplates('prod');
  ml = t.ml;
  dev = synthTemplates('dev').ml;
});

function machine(template: Template, name: string): Record<string, unknown> {
  const found = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))
    .map((r) => (r as Resource).Properties)
    .filter((p) => p.StateMachineName === name);
  expect(found, name).toHaveLength(1);
  return found[0] as Record<string, unknown>;
}

/** The statements of one role's policies, by Sid. */
function statementsOf(template: Template, policyPrefix: string) {
  const statements = policyStatements(template).filter((s) => s.policy.startsWith(policyPrefix));
  expect(statements.length, policyPrefix).toBeGreaterThan(0);
  return { all: statements, bySid: Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s])) };
}

describe('ML stack: the training pipeline state machine', () => {
  it('fills every placeholder of the ASL file and no other, leaving no ${ in the definition', () => {
    const props = machine(ml, 'clv-prod-training-pipeline');
    const subs = props.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(subs).sort()).toEqual(placeholdersOf(ASL_TEXT));
    const { TimeoutSeconds, ...deployed } = JSON.parse(props.DefinitionString as string);
    expect(deployed).toEqual(JSON.parse(ASL_TEXT));
    expect(TimeoutSeconds).toBeGreaterThan(0);
    const applied = applySubstitutions(
      props.DefinitionString as string,
      Object.fromEntries(Object.entries(subs).map(([k, v]) => [k, flat(v)])),
    );
    expect(applied).not.toContain('${');
    expect(() => JSON.parse(applied)).not.toThrow();
  });

  it('substitutes the SQL text, catalog names, image, role, Lambda, registry group, bucket and topic', () => {
    const subs = machine(ml, 'clv-prod-training-pipeline').DefinitionSubstitutions as Record<string, unknown>;
    const sql = readSqlQuery('TrainingSetQuery').trim().replace(/;\s*$/, '');
    expect(JSON.parse(`"${subs.TrainingSetQuery as string}"`)).toBe(sql);
    expect(subs.GlueDatabase).toBe('clv_prod');
    expect(subs.AthenaWorkGroup).toBe('clv-prod');
    expect(subs.TrainingImageUri).toBe('141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5');
    expect(subs.ModelPackageGroupName).toBe('clv-prod-clv-models');
    expect(flat(subs.ArtifactsBucket)).toBe('clv-prod-artifacts-<AWS::AccountId>-eu-west-1');
    expect(flat(subs.SageMakerRoleArn)).toMatch(/^<SageMakerExecutionRole[0-9A-F]+\.Arn>$/);
    expect(flat(subs.ModelGateFunctionArn)).toMatch(/^<TrainingPipelineModelGate[0-9A-F]+\.Arn>$/);
    expect(flat(subs.AlertsTopicArn)).toContain('Alerts');
    ml.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', { ModelPackageGroupName: 'clv-prod-clv-models' });
  });

  it('substitutes the ValidateInput and model-registry Lambdas and the platform key of the ASL file', () => {
    const subs = machine(ml, 'clv-prod-training-pipeline').DefinitionSubstitutions as Record<string, unknown>;
    expect(flat(subs.ValidateInputFunctionArn)).toMatch(/ValidateInput/);
    expect(flat(subs.ModelRegistryFunctionArn)).toMatch(/ModelRegistry/);
    expect(flat(subs.KmsKeyArn)).not.toBe('');
  });

  it('logs ALL with execution data to a KMS-encrypted group, traces, encrypts its data', () => {
    const props = machine(ml, 'clv-prod-training-pipeline');
    expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(props.EncryptionConfiguration).toMatchObject({ Type: 'CUSTOMER_MANAGED_KMS_KEY' });
    ml.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/clv-prod-training-pipeline',
      KmsKeyId: Match.anyValue(),
      RetentionInDays: 365,
    });
  });
});

describe('ML stack: the training pipeline role', () => {
  it('runs SageMaker jobs only under the pipeline job-name prefixes, with the managed sync rules', () => {
    const { bySid } = statementsOf(ml, 'TrainingPipelineRole');
    const arns = (sid: string) => asArray(bySid[sid]?.Resource).map(flat);
    expect(asArray(bySid.TrainingJobs?.Action)).toEqual(
      expect.arrayContaining([
        'sagemaker:CreateTrainingJob',
        'sagemaker:DescribeTrainingJob',
        'sagemaker:StopTrainingJob',
      ]),
    );
    expect(arns('TrainingJobs')).toEqual(['arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:training-job/clv-train-*']);
    expect(arns('TuningJobs')).toEqual([
      'arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:hyper-parameter-tuning-job/clv-hpo-*',
    ]);
    expect(arns('ProcessingJobs')).toEqual(['arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:processing-job/clv-eval-*']);
    expect(arns('SyncRules').sort()).toEqual(
      ['ProcessingJobs', 'TrainingJobs', 'TuningJobs'].map(
        (k) => `arn:aws:events:eu-west-1:<AWS::AccountId>:rule/StepFunctionsGetEventsForSageMaker${k}Rule`,
      ),
    );
    expect(asArray(bySid.SyncRules?.Action).sort()).toEqual([
      'events:DescribeRule',
      'events:PutRule',
      'events:PutTargets',
    ]);
    expect(arns('RegisterModel')).toEqual([
      'arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:model-package-group/clv-prod-clv-models',
      'arn:aws:sagemaker:eu-west-1:<AWS::AccountId>:model-package/clv-prod-clv-models/*',
    ]);
  });

  it('passes the SageMaker execution role, and only to SageMaker', () => {
    const { all, bySid } = statementsOf(ml, 'TrainingPipelineRole');
    const passRole = all.filter((s) => asArray(s.Action).includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    expect(flat(bySid.PassSageMakerRole?.Resource)).toMatch(/^<SageMakerExecutionRole[0-9A-F]+\.Arn>$/);
    expect(bySid.PassSageMakerRole?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
  });

  it('queries the offline store in the workgroup, invokes the model gate, publishes alerts; no wildcard resource of its own', () => {
    const { all, bySid } = statementsOf(ml, 'TrainingPipelineRole');
    expect(flat(bySid.AthenaQuery?.Resource)).toBe('arn:aws:athena:eu-west-1:<AWS::AccountId>:workgroup/clv-prod');
    expect(asArray(bySid.AthenaCatalog?.Resource).map(flat)).toContain(
      'arn:aws:glue:eu-west-1:<AWS::AccountId>:table/clv_prod/customer_features_offline',
    );
    expect(flat(bySid.AthenaReadsCustomerFeaturesOffline?.Resource)).toBe(
      'arn:aws:s3:::clv-prod-features-<AWS::AccountId>-eu-west-1/offline-store/*',
    );
    expect(flat(bySid.ModelGate?.Resource)).toMatch(/^<TrainingPipelineModelGate[0-9A-F]+\.Arn>$/);
    expect(asArray(bySid.Alerts?.Action)).toEqual(['sns:Publish']);
    // '*' only in the statement AslStateMachine adds for logging and tracing.
    const star = all.filter((s) => asArray(s.Resource).includes('*'));
    expect(star).toHaveLength(1);
    for (const a of asArray(star[0]?.Action)) expect(a).toMatch(/^(logs|xray):/);
    // The role never touches the artifacts bucket: SageMaker reads and writes it with its own role.
    expect(
      all.some((s) =>
        asArray(s.Resource)
          .map(flat)
          .some((r) => r.includes('-artifacts-')),
      ),
    ).toBe(false);
  });
});

describe('ML stack: the SageMaker execution role', () => {
  it('is assumed by SageMaker of this account only', () => {
    ml.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'sagemaker.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });

  it('reads the channels, code, models and transform output, writes models, evaluations, scoring files and gold predictions and metrics, under named prefixes only', () => {
    const { all } = statementsOf(ml, 'SageMakerExecutionRole');
    const s3 = (action: string) =>
      all
        .filter((s) => asArray(s.Action).includes(action))
        .flatMap((s) => asArray(s.Resource).map(flat))
        .sort();
    const artifacts = 'arn:aws:s3:::clv-prod-artifacts-<AWS::AccountId>-eu-west-1';
    const gold = 'arn:aws:s3:::clv-prod-gold-<AWS::AccountId>-eu-west-1';
    expect(s3('s3:GetObject')).toEqual(
      [
        'arn:aws:s3:::clv-prod-athena-results-<AWS::AccountId>-eu-west-1/results/*',
        `${artifacts}/code/sagemaker/*`,
        `${artifacts}/models/training/*`,
        `${artifacts}/scoring/*`,
        // the campaign audience export reads both models' scores
        `${gold}/predictions/*`,
      ].sort(),
    );
    expect(s3('s3:PutObject')).toEqual(
      [
        `${artifacts}/evaluations/*`,
        `${artifacts}/models/training/*`,
        `${artifacts}/scoring/*`,
        `${artifacts}/campaigns/*`,
        `${gold}/monitoring_metrics/*`,
        `${gold}/predictions/*`,
        `${gold}/drift_baselines/*`,
        `${gold}/campaigns/audiences/*`,
        `${gold}/campaigns/exports/*`,
      ].sort(),
    );
    expect(s3('s3:DeleteObject')).toEqual([]);
    for (const list of all.filter((s) => asArray(s.Action).includes('s3:ListBucket'))) {
      expect(list.Condition, 'ListBucket is limited by s3:prefix').toMatchObject({
        StringLike: { 's3:prefix': expect.any(Array) },
      });
    }
  });

  it('writes the SageMaker job log groups, pulls the regional XGBoost image and uses * only where required', () => {
    const { all, bySid } = statementsOf(ml, 'SageMakerExecutionRole');
    expect(asArray(bySid.JobLogs?.Resource).map(flat).sort()).toEqual([
      'arn:aws:logs:eu-west-1:<AWS::AccountId>:log-group:/aws/sagemaker/ProcessingJobs:*',
      'arn:aws:logs:eu-west-1:<AWS::AccountId>:log-group:/aws/sagemaker/TrainingJobs:*',
      'arn:aws:logs:eu-west-1:<AWS::AccountId>:log-group:/aws/sagemaker/TransformJobs:*',
    ]);
    expect(bySid.PullFrameworkImage?.Resource).toBe('arn:aws:ecr:eu-west-1:141502667606:repository/sagemaker-xgboost');
    const star = all.filter((s) => asArray(s.Resource).includes('*')).flatMap((s) => asArray(s.Action));
    expect(star.sort()).toEqual(['cloudwatch:PutMetricData', 'ecr:GetAuthorizationToken']);
    expect(bySid.JobMetrics?.Condition).toEqual({ StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } });
    expect(asArray(bySid.PlatformKey?.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('builds the image URI for the stack region', () => {
    expect(xgboostImageUri(t.platform.ml.region)).toBe(
      '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5',
    );
  });
});

describe('ML stack: model gate Lambda and SageMaker code', () => {
  it('the model gate reads evaluation reports only', () => {
    const { all } = statementsOf(ml, 'TrainingPipelineModelGateRole');
    const s3 = all.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => [asArray(s.Action), asArray(s.Resource).map(flat)])).toEqual([
      [['s3:GetObject'], ['arn:aws:s3:::clv-prod-artifacts-<AWS::AccountId>-eu-west-1/evaluations/*']],
    ]);
  });

  it('syncs sagemaker/ to code/sagemaker/ of the artifacts bucket with a role limited to that prefix', () => {
    ml.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketKeyPrefix: 'code/sagemaker/',
      Prune: true,
      DestinationBucketName: { 'Fn::Join': ['', ['clv-prod-artifacts-', { Ref: 'AWS::AccountId' }, '-eu-west-1']] },
    });
    const { all } = statementsOf(ml, 'SageMakerCodeDeploymentRole');
    for (const s of all) for (const a of asArray(s.Action)) expect(a).not.toMatch(/\*/);
    const writes = all.filter((s) => asArray(s.Action).includes('s3:PutObject'));
    expect(writes.flatMap((s) => asArray(s.Resource).map(flat))).toEqual([
      'arn:aws:s3:::clv-prod-artifacts-<AWS::AccountId>-eu-west-1/code/sagemaker/*',
    ]);
    // The construct's default grants (whole buckets, wildcard actions) are not in any policy of the stack.
    for (const s of policyStatements(ml)) {
      for (const a of asArray(s.Action))
        expect(a, s.policy).not.toMatch(/^s3:(GetObject|List|GetBucket|DeleteObject|Abort)\*$/);
    }
  });

  it('the state machine is created after the code is in place', () => {
    const machines = ml.findResources('AWS::StepFunctions::StateMachine') as Record<string, Resource>;
    const [, training] =
      Object.entries(machines).find(([, r]) => r.Properties.StateMachineName === 'clv-prod-training-pipeline') ?? [];
    expect(training?.DependsOn ?? []).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SageMakerCodeDeploymentCustomResource/)]),
    );
  });
});

describe('ML stack: the weekly training schedule', () => {
  it('starts the training pipeline weekly (UTC) with its scheduled time only: ValidateInput derives the cutoffs', () => {
    const c = loadEnvironmentConfig('prod').trainingPipeline;
    ml.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'clv-prod-training-pipeline-weekly',
      ScheduleExpression: c.scheduleCron,
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^TrainingPipelineStateMachine') },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
      }),
    });
    expect(c.scheduleCron).toMatch(/^cron\(\S+ \S+ \? \* (SUN|MON|TUE|WED|THU|FRI|SAT) \*\)$/);
  });

  it('is disabled in dev', () => {
    dev.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'clv-dev-training-pipeline-weekly',
      State: 'DISABLED',
    });
  });
});

describe('training pipeline configuration', () => {
  const dev = ENVIRONMENTS.dev as Record<string, Record<string, unknown>>;
  const withTraining = (patch: Record<string, unknown>) => ({
    ...ENVIRONMENTS,
    dev: { ...dev, trainingPipeline: { ...dev.trainingPipeline, ...patch } },
  });

  it('schedules staging and prod, not dev; rolling cutoffs and gate thresholds of the contract', () => {
    expect(loadEnvironmentConfig('dev').trainingPipeline.scheduleEnabled).toBe(false);
    expect(loadEnvironmentConfig('staging').trainingPipeline.scheduleEnabled).toBe(true);
    expect(loadEnvironmentConfig('prod').trainingPipeline.scheduleEnabled).toBe(true);
    const t = loadEnvironmentConfig('dev').trainingPipeline as unknown as Record<string, unknown>;
    expect(t.cutoffs).toBeUndefined();
    expect(t.rollingCutoffs).toEqual({ labelHorizonDays: 365, spacingDays: 91, stackedSnapshots: 2 });
    expect(t.gates).toEqual({
      minGini: 0.3,
      minChurnAuc: 0.6,
      minTopDecileCapture: 0.15,
      minHeuristicRmseReduction: 0,
      minTestRows: 50,
      championMaxRmseIncrease: 0.05,
      championMaxGiniDecrease: 0.02,
      fairnessMinRatio: 0.8,
      fairnessMinSliceCustomers: 30,
    });
  });

  it.each([
    [{ scheduleCron: 'rate(7 days)' }, /dev\.trainingPipeline\.scheduleCron/],
    [{ timeoutMinutes: 10 }, /dev\.trainingPipeline\.timeoutMinutes/],
    [{ tuning: true }, /tuning/],
    [{ cutoffs: { training: '2022-01-01', validation: '2022-07-01', test: '2023-01-01' } }, /cutoffs/],
  ] as const)('rejects %j naming the field', (patch, message) => {
    expect(() => loadEnvironmentConfig('dev', {}, withTraining(patch))).toThrow(message);
  });
});
