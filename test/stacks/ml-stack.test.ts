import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { placeholdersOf } from '../../lib/constructs/orchestration/asl-definition.js';
import { repoRoot } from '../../lib/paths.js';
import { asArray, type PlatformTemplates, policyStatements, synthTemplates } from './templates.js';

const ASL_FILE = path.join(repoRoot, 'state-machines', 'data-pipeline.asl.json');
type State = {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Next?: string;
};
const asl = JSON.parse(fs.readFileSync(ASL_FILE, 'utf8')) as { States: Record<string, State> };

let t: PlatformTemplates;
let ml: Template;
let dev: Template;

beforeAll(() => {
  t = synthTemplates('prod');
  ml = t.ml;
  dev = synthTemplates('dev').ml;
});

describe('data pipeline ASL', () => {
  const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');

  it('runs ingest → quality aggregates → quality gate → sessionize → build features', () => {
    const resources = Object.fromEntries(tasks.map(([name, s]) => [name, s.Resource]));
    expect(resources).toMatchObject({
      IngestTransactions: 'arn:aws:states:::glue:startJobRun.sync',
      QualityAggregates: 'arn:aws:states:::athena:startQueryExecution.sync',
      QualityGate: 'arn:aws:states:::lambda:invoke',
      SessionizeClickstream: 'arn:aws:states:::glue:startJobRun.sync',
      BuildFeatures: 'arn:aws:states:::glue:startJobRun.sync',
    });
    expect(asl.States.IngestTransactions?.Next).toBe('HasCustomers');
    expect(asl.States.QualityAggregates?.Next).toBe('QualityGate');
    expect(asl.States.SessionizeClickstream?.Next).toBe('HasFeatureSnapshots');
  });

  it('ingests the customers extract with the same Glue job, between the transactions ingest and the quality checks', () => {
    expect(asl.States.HasCustomers).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.customers', BooleanEquals: true },
            { Variable: '$.backfill_from', IsPresent: true },
          ],
          Next: 'IngestCustomersBackfill',
        },
        { Variable: '$.customers', BooleanEquals: true, Next: 'IngestCustomers' },
      ],
      Default: 'QualityAggregates',
    });
    expect(asl.States.IngestTransactionsBackfill?.Next).toBe('HasCustomers');
    for (const name of ['IngestCustomers', 'IngestCustomersBackfill']) {
      const customers = asl.States[name];
      expect(customers?.Resource, name).toBe('arn:aws:states:::glue:startJobRun.sync');
      expect(customers?.Parameters?.JobName, name).toBe(asl.States.IngestTransactions?.Parameters?.JobName);
      expect(customers?.Parameters?.Arguments, name).toMatchObject({ '--dataset': 'customers' });
      expect(customers?.Next, name).toBe('QualityAggregates');
    }
    // A backfill ingests every CRM extract dated in its range; the daily path the date's extract only.
    expect(asl.States.IngestCustomersBackfill?.Parameters?.Arguments).toMatchObject({
      '--date-from.$': '$.backfill_from',
    });
    expect(asl.States.IngestCustomers?.Parameters?.Arguments).not.toHaveProperty('--date-from.$');
  });

  it('builds one snapshot per feature_snapshots item in a Map, one at a time, caught by the alerting path', () => {
    expect(asl.States.HasFeatureSnapshots).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.feature_snapshots', IsPresent: true, Next: 'BuildFeatureSnapshots' }],
      Default: 'BuildFeatures',
    });
    const map = asl.States.BuildFeatureSnapshots as State & {
      MaxConcurrency: number;
      ItemsPath: string;
      ItemProcessor: { States: Record<string, State> };
    };
    expect(map).toMatchObject({ Type: 'Map', MaxConcurrency: 1, ItemsPath: '$.feature_snapshots' });
    expect(map.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'NotifyFailure' })]);
    const inner = map.ItemProcessor.States.BuildFeatureSnapshot;
    expect(inner?.Resource).toBe('arn:aws:states:::glue:startJobRun.sync');
    expect(inner?.Retry?.length).toBeGreaterThan(0);
    expect(inner?.Parameters?.JobName).toBe(asl.States.BuildFeatures?.Parameters?.JobName);
    // The same arguments as the single build, the cutoff and the labels flag coming from the item.
    const fixed = (args: unknown) =>
      Object.fromEntries(
        Object.entries(args as Record<string, string>).filter(([k]) => k !== '--cutoff.$' && k !== '--with-labels.$'),
      );
    expect(fixed(inner?.Parameters?.Arguments)).toEqual(fixed(asl.States.BuildFeatures?.Parameters?.Arguments));
    expect(inner?.Parameters?.Arguments).toMatchObject({
      '--cutoff.$': '$.cutoff',
      '--with-labels.$': '$.with_labels',
    });
  });

  it('retries and catches every job, query and Lambda task, and the catch alerts and fails', () => {
    for (const [name, state] of tasks.filter(([, s]) => !s.Resource?.includes('sns:publish'))) {
      expect(state.Retry?.length, name).toBeGreaterThan(0);
      // ValidateInput fails without an alert on an invalid input (the caller's mistake), alerts on anything else.
      const invalidInput =
        name === 'ValidateInput'
          ? [expect.objectContaining({ ErrorEquals: ['InvalidPipelineInput'], Next: 'InvalidInput' })]
          : [];
      expect(state.Catch, name).toEqual([
        ...invalidInput,
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'NotifyFailure' }),
      ]);
    }
    expect(asl.States.NotifyFailure?.Resource).toBe('arn:aws:states:::sns:publish');
    expect(asl.States.NotifyFailure?.Next).toBe('PipelineFailed');
    expect(asl.States.PipelineFailed?.Type).toBe('Fail');
  });

  it('sends a High alert and fails on a critical quality failure, a Low alert and goes on for warnings', () => {
    const severity = (name: string) =>
      ((asl.States[name]?.Parameters?.MessageAttributes ?? {}) as Record<string, { StringValue: string }>).severity
        ?.StringValue;
    expect(severity('AlertQualityFailed')).toBe('High');
    expect(asl.States.AlertQualityFailed?.Next).toBe('QualityGateFailed');
    expect(asl.States.QualityGateFailed?.Type).toBe('Fail');
    expect(severity('AlertQualityWarning')).toBe('Low');
    expect(asl.States.AlertQualityWarning?.Next).toBe('HasClickstream');
    expect(severity('NotifyFailure')).toBe('High');
  });
});

describe('ML stack: the data pipeline state machine', () => {
  it('every state machine carries its configured timeout in the deployed definition (TimeoutSeconds)', () => {
    const config = loadEnvironmentConfig('prod');
    const timeouts = Object.values(ml.findResources('AWS::StepFunctions::StateMachine')).map((m) => {
      const props = (m as { Properties: { StateMachineName: string; DefinitionString: string } }).Properties;
      return [
        props.StateMachineName,
        (JSON.parse(props.DefinitionString) as { TimeoutSeconds?: number }).TimeoutSeconds,
      ];
    });
    expect(Object.fromEntries(timeouts)).toEqual({
      'clv-prod-data-pipeline': config.dataPipeline.timeoutMinutes * 60,
      'clv-prod-training-pipeline': config.trainingPipeline.timeoutMinutes * 60,
      'clv-prod-batch-scoring': config.batchScoring.timeoutMinutes * 60,
      'clv-prod-monitoring': config.monitoring.timeoutMinutes * 60,
      'clv-prod-shadow': config.shadow.timeoutMinutes * 60,
      'clv-prod-promotion': config.shadow.promotionTimeoutMinutes * 60,
      'clv-prod-campaign-experiment': (config.campaigns.maxCampaignDays + 1) * 24 * 3600,
    });
  });

  it('is deployed with every placeholder substituted, logging ALL and tracing', () => {
    const machines = (
      Object.values(ml.findResources('AWS::StepFunctions::StateMachine')) as {
        Properties: Record<string, unknown>;
      }[]
    ).filter((m) => m.Properties.StateMachineName === 'clv-prod-data-pipeline');
    expect(machines).toHaveLength(1);
    const props = machines[0]?.Properties as Record<string, unknown>;
    expect(props.StateMachineName).toBe('clv-prod-data-pipeline');
    const text = fs.readFileSync(ASL_FILE, 'utf8');
    expect(Object.keys(props.DefinitionSubstitutions as object).sort()).toEqual(placeholdersOf(text));
    expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    const subs = props.DefinitionSubstitutions as Record<string, unknown>;
    expect(subs.IngestTransactionsJobName).toBe('clv-prod-ingest-transactions');
    expect(subs.BuildFeaturesJobName).toBe('clv-prod-build-features');
    expect(subs.GlueDatabase).toBe('clv_prod');
    expect(subs.AthenaWorkGroup).toBe('clv-prod');
    expect(subs.QualityAggregatesQuery).toMatch(/FROM silver_transactions/);
  });

  it('its role can run exactly the three named Glue jobs, the workgroup, the gate Lambda and the alerts topic', () => {
    const statements = policyStatements(ml).filter((s) => s.policy.startsWith('DataPipelineRole'));
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
    expect(asArray(bySid.GlueJobs?.Action).sort()).toEqual(
      ['glue:BatchStopJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:StartJobRun'].sort(),
    );
    const jobs = asArray(bySid.GlueJobs?.Resource).map((r) => JSON.stringify(r));
    expect(jobs).toHaveLength(3);
    for (const name of ['ingest-transactions', 'sessionize-clickstream', 'build-features']) {
      expect(jobs.some((j) => j.includes(`:job/clv-prod-${name}`))).toBe(true);
    }
    expect(JSON.stringify(bySid.AthenaQuery?.Resource)).toContain(':workgroup/clv-prod');
    expect(bySid.QualityGate?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^DataPipelineQualityGate/), 'Arn'],
    });
    expect(asArray(bySid.Alerts?.Action)).toEqual(['sns:Publish']);
    expect(JSON.stringify(bySid.Alerts?.Resource)).toContain('Alerts');
  });

  it('runs daily on a UTC schedule whose input carries the scheduled time; off in dev, on in prod', () => {
    const cron = loadEnvironmentConfig('prod').dataPipeline.scheduleCron;
    ml.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: cron,
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^DataPipelineStateMachine') },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
      }),
    });
    dev.hasResourceProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
  });

  it('the quality gate Lambda reads Athena results and writes quality reports only', () => {
    const statements = policyStatements(ml).filter((s) => s.policy.startsWith('DataPipelineQualityGateRole'));
    const s3 = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => [s.Sid, asArray(s.Action)])).toEqual(
      expect.arrayContaining([
        ['ReadAggregates', ['s3:GetObject']],
        ['WriteQualityReports', ['s3:PutObject']],
      ]),
    );
    expect(s3).toHaveLength(2);
  });
});
