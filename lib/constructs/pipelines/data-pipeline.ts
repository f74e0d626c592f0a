import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { DataPipelineSettings } from '../../contracts/pipeline-inputs.js';
import { sqlQuerySubstitution } from '../../contracts/sql-queries.js';
import { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { prefixStatement } from '../security/s3-prefix-access.js';
import type { DataPipelineProps } from './data-pipeline-props.js';
import { athenaContext, pipelineSchedule, pipelineStateMachine, validateInputFunction } from './pipeline-parts.js';
import { ATHENA_RESULTS_PREFIX, QUALITY_REPORTS_PREFIX } from './prefixes.js';

/** The ValidateInput settings of the data pipeline (C2), from the environment config. */
export function dataPipelineSettings(props: Pick<DataPipelineProps, 'config'>): DataPipelineSettings {
  const { rollingCutoffs } = props.config.trainingPipeline;
  return {
    rolling_cutoffs: {
      label_horizon_days: rollingCutoffs.labelHorizonDays,
      spacing_days: rollingCutoffs.spacingDays,
      stacked_snapshots: rollingCutoffs.stackedSnapshots,
    },
    training_snapshots_weekday: props.config.dataPipeline.trainingSnapshotsWeekday,
  };
}

/**
 * The daily data pipeline (state-machines/data-pipeline.asl.json): ingest → quality aggregates (Athena) → quality
 * gate (Lambda) → sessionize → build features and snapshots, with its ValidateInput and quality-gate Lambdas, its
 * role (from the file's Tasks), log group and daily schedule. Runbook: docs/runbooks/data-pipeline.md.
 */
export class DataPipeline extends Construct {
  /** The state machine, its role and log group. */
  readonly machine: AslStateMachine;
  /** The first Task's Lambda. */
  readonly validateInputFunction: TeamFunction;
  readonly qualityGateFunction: TeamFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DataPipelineProps) {
    super(scope, id);
    const { config, lake } = props;
    const env = config.name;

    this.validateInputFunction = validateInputFunction(
      this,
      'data-pipeline',
      dataPipelineSettings(props),
      config,
      lake.key,
    );

    const fn = new TeamFunction(this, 'QualityGate', {
      entry: 'lambdas/quality-gate/handler.ts',
      serviceName: 'quality-gate',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: props.qualityGateMemorySize ?? 512,
      timeout: Duration.minutes(2),
    });
    fn.addToRolePolicy(
      prefixStatement(fn.role as iam.Role, {
        sid: 'ReadAggregates',
        bucket: lake.athenaResultsBucket,
        prefixes: [ATHENA_RESULTS_PREFIX],
        actions: ['s3:GetObject'],
        namedBy: 'Athena (<query execution id>.csv)',
      }),
    );
    fn.addToRolePolicy(
      prefixStatement(fn.role as iam.Role, {
        sid: 'WriteQualityReports',
        bucket: lake.artifactsBucket,
        prefixes: [QUALITY_REPORTS_PREFIX],
        actions: ['s3:PutObject'],
        namedBy: 'the gate (dt=<run date>/result.json and report.html)',
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [lake.key.keyArn],
      }),
    );
    this.qualityGateFunction = fn;

    const glueJobs = {
      IngestTransactionsJobName: props.ingestTransactionsJobName,
      SessionizeClickstreamJobName: props.sessionizeClickstreamJobName,
      BuildFeaturesJobName: props.buildFeaturesJobName,
    };
    this.machine = pipelineStateMachine(this, Stack.of(this), {
      pipeline: 'data-pipeline',
      config,
      key: lake.key,
      timeoutMinutes: config.dataPipeline.timeoutMinutes,
      substitutions: {
        ...glueJobs,
        FeatureGroupName: props.featureGroupName,
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        QualityGateFunctionArn: fn.functionArn,
        AlertsTopicArn: props.alertsTopic.topicArn,
        QualityAggregatesQuery: sqlQuerySubstitution('QualityAggregatesQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        RawBucket: lake.rawBucket.bucketName,
        CuratedBucket: lake.curatedBucket.bucketName,
        FeaturesBucket: lake.featuresBucket.bucketName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          QualityGateFunctionArn: fn,
        },
        glueJobs,
        athena: athenaContext(lake, [['silver_transactions', lake.curatedBucket]]),
        alertsTopic: props.alertsTopic,
      },
    });

    this.schedule = pipelineSchedule(this, this.machine, {
      scheduleName: `clv-${env}-data-pipeline-daily`,
      description: 'Daily data pipeline run; the input carries the scheduled time, whose UTC day is the run date',
      cron: config.dataPipeline.scheduleCron,
      enabled: props.scheduleEnabled ?? config.dataPipeline.scheduleEnabled,
    });
  }
}
