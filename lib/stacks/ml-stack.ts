import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { TeamFunction } from '../constructs/compute/team-function.js';
import { AslStateMachine } from '../constructs/orchestration/asl-state-machine.js';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { nagBucketArn, prefixStatement } from '../constructs/security/s3-prefix-access.js';
import { lakeTable } from '../contracts/lake-tables.js';
import { sqlQuerySubstitution } from '../contracts/sql-queries.js';
import type { LakeRefs, LakeSource, PlatformStackProps } from './platform-stack-props.js';

/** Properties of the ML stack. */
export interface MlStackProps extends PlatformStackProps {
  /** The lake (buckets, key, catalog, workgroup). Without it the stack holds the model registry only. */
  readonly lake?: LakeSource;
  /** What the data pipeline orchestrates (Ingestion, Features and Monitoring stacks). */
  readonly dataPipeline?: {
    readonly alertsTopic: sns.ITopic;
    readonly ingestTransactionsJobName: string;
    readonly sessionizeClickstreamJobName: string;
    readonly buildFeaturesJobName: string;
    readonly featureGroupName: string;
  };
}

/** Where the quality gate writes result.json and report.html (dt=<date>/ below). */
export const QUALITY_REPORTS_PREFIX = 'quality/silver_transactions/';
/** Where the Athena workgroup writes query results. */
export const ATHENA_RESULTS_PREFIX = 'results/';

/**
 * ML: the model registry (a Model Package Group) and the pipelines: the daily data pipeline
 * (state-machines/data-pipeline.asl.json) with its quality-gate Lambda and schedule.
 */
export class MlStack extends Stack {
  readonly modelPackageGroupName: string;
  readonly qualityGateFunction?: TeamFunction;
  readonly dataPipeline?: AslStateMachine;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    super(scope, id, props);
    this.modelPackageGroupName = `clv-${props.config.name}-clv-models`;
    new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `CLV (12-month revenue and churn) models, ${props.config.name}`,
    });
    if (props.lake && props.dataPipeline) {
      const { fn, machine } = this.buildDataPipeline(props, props.lake.refsFor(this), props.dataPipeline);
      this.qualityGateFunction = fn;
      this.dataPipeline = machine;
    }
  }

  private buildDataPipeline(
    props: MlStackProps,
    lake: LakeRefs,
    pipeline: NonNullable<MlStackProps['dataPipeline']>,
  ): { fn: TeamFunction; machine: AslStateMachine } {
    const { config } = props;
    const env = config.name;

    const fn = new TeamFunction(this, 'QualityGate', {
      entry: 'lambdas/quality-gate/handler.ts',
      serviceName: 'quality-gate',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 512,
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

    const jobArn = (name: string) => this.formatArn({ service: 'glue', resource: 'job', resourceName: name });
    const silver = lakeTable('silver_transactions');
    const statements = [
      new iam.PolicyStatement({
        sid: 'GlueJobs',
        actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
        resources: [
          jobArn(pipeline.ingestTransactionsJobName),
          jobArn(pipeline.sessionizeClickstreamJobName),
          jobArn(pipeline.buildFeaturesJobName),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaQuery',
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:StopQueryExecution',
          'athena:GetWorkGroup',
        ],
        resources: [this.formatArn({ service: 'athena', resource: 'workgroup', resourceName: lake.workGroupName })],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaCatalog',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          this.formatArn({ service: 'glue', resource: 'catalog' }),
          this.formatArn({ service: 'glue', resource: 'database', resourceName: lake.databaseName }),
          this.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.databaseName}/${silver.name}` }),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaBuckets',
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: [lake.curatedBucket.bucketArn, lake.athenaResultsBucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [lake.athenaResultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaReadsSilverTransactions',
        actions: ['s3:GetObject'],
        resources: [lake.curatedBucket.arnForObjects(`${silver.prefix}/*`)],
      }),
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [lake.key.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'QualityGate',
        actions: ['lambda:InvokeFunction'],
        resources: [fn.functionArn],
      }),
      new iam.PolicyStatement({
        sid: 'Alerts',
        actions: ['sns:Publish'],
        resources: [pipeline.alertsTopic.topicArn],
      }),
    ];

    const machine = new AslStateMachine(this, 'DataPipeline', {
      definitionFile: 'data-pipeline.asl.json',
      stateMachineName: 'data-pipeline',
      environmentName: env,
      timeout: Duration.minutes(config.dataPipeline.timeoutMinutes),
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      policyStatements: statements,
      definitionSubstitutions: {
        IngestTransactionsJobName: pipeline.ingestTransactionsJobName,
        SessionizeClickstreamJobName: pipeline.sessionizeClickstreamJobName,
        BuildFeaturesJobName: pipeline.buildFeaturesJobName,
        FeatureGroupName: pipeline.featureGroupName,
        QualityGateFunctionArn: fn.functionArn,
        AlertsTopicArn: pipeline.alertsTopic.topicArn,
        QualityAggregatesQuery: sqlQuerySubstitution('QualityAggregatesQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        RawBucket: lake.rawBucket.bucketName,
        CuratedBucket: lake.curatedBucket.bucketName,
        FeaturesBucket: lake.featuresBucket.bucketName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
      },
    });
    for (const [prefix, why] of [
      [`${ATHENA_RESULTS_PREFIX}`, 'Athena names result objects after the query execution id'],
      [`${silver.prefix}/`, 'the aggregates query reads the partition files Spark named (dt=/ingest_dt= part files)'],
    ] as const) {
      const bucket = prefix === ATHENA_RESULTS_PREFIX ? lake.athenaResultsBucket : lake.curatedBucket;
      acknowledgeNag(
        machine.role,
        `AwsSolutions-IAM5[Resource::${nagBucketArn(bucket, machine.role)}/${prefix}*]`,
        `Objects under ${prefix}: ${why}; the grant is limited to that prefix.`,
      );
    }

    new scheduler.Schedule(this, 'DataPipelineSchedule', {
      scheduleName: `clv-${env}-data-pipeline-daily`,
      description: 'Daily data pipeline run; the input carries the scheduled time, whose UTC day is the run date',
      schedule: scheduler.ScheduleExpression.expression(config.dataPipeline.scheduleCron, TimeZone.ETC_UTC),
      enabled: config.dataPipeline.scheduleEnabled,
      target: new targets.StepFunctionsStartExecution(machine.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 2,
      }),
    });
    return { fn, machine };
  }
}
