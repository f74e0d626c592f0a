import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { TeamFunction } from '../constructs/compute/team-function.js';
import { SAGEMAKER_CODE_PREFIX, SageMakerCode } from '../constructs/ml/sagemaker-code.js';
import { SageMakerExecutionRole } from '../constructs/ml/sagemaker-execution-role.js';
import { xgboostImageUri } from '../constructs/ml/xgboost-image.js';
import { AslStateMachine } from '../constructs/orchestration/asl-state-machine.js';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { nagBucketArn, nagResource, prefixStatement } from '../constructs/security/s3-prefix-access.js';
import { type LakeTable, lakeTable } from '../contracts/lake-tables.js';
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
/** Training job output (the ASL's OutputDataConfig.S3OutputPath, s3://<artifacts>/models/training). */
export const MODEL_ARTIFACTS_PREFIX = 'models/training/';
/** Evaluation reports (s3://<artifacts>/evaluations/<execution name>/evaluation.json, model_card.md). */
export const EVALUATIONS_PREFIX = 'evaluations/';
/** Job-name prefixes the training pipeline uses (ASL: States.Format('clv-train-{}', ...) etc.). */
export const TRAINING_JOB_PREFIXES = { training: 'clv-train-', tuning: 'clv-hpo-', processing: 'clv-eval-' } as const;

/**
 * ML: the model registry (a Model Package Group) and the pipelines: the daily data pipeline
 * (state-machines/data-pipeline.asl.json) with its quality-gate Lambda and schedule; the weekly training pipeline
 * (state-machines/training-pipeline.asl.json) with its model-gate Lambda, the SageMaker execution role, the
 * SageMaker code in the artifacts bucket and its schedule.
 */
export class MlStack extends Stack {
  readonly modelPackageGroupName: string;
  readonly qualityGateFunction?: TeamFunction;
  readonly dataPipeline?: AslStateMachine;
  readonly modelGateFunction?: TeamFunction;
  readonly sagemakerRole?: iam.Role;
  readonly sagemakerCode?: SageMakerCode;
  readonly trainingPipeline?: AslStateMachine;

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
      const training = this.buildTrainingPipeline(props, props.lake.refsFor(this), props.dataPipeline.alertsTopic);
      this.modelGateFunction = training.fn;
      this.sagemakerRole = training.sagemakerRole;
      this.sagemakerCode = training.code;
      this.trainingPipeline = training.machine;
    }
  }

  /**
   * What Athena queries over one lake table need: the workgroup, the table's catalog entries, the table's objects
   * and the results prefix. `readsResults`: the state machine itself reads the result rows (GetQueryResults).
   */
  private athenaStatements(
    lake: LakeRefs,
    table: LakeTable,
    tableBucket: s3.IBucket,
    readSid: string,
    readsResults: boolean,
  ): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'AthenaQuery',
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          ...(readsResults ? ['athena:GetQueryResults'] : []),
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
          this.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.databaseName}/${table.name}` }),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaBuckets',
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: [tableBucket.bucketArn, lake.athenaResultsBucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'AthenaResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [lake.athenaResultsBucket.arnForObjects(`${ATHENA_RESULTS_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        sid: readSid,
        actions: ['s3:GetObject'],
        resources: [tableBucket.arnForObjects(`${table.prefix}/*`)],
      }),
    ];
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
      ...this.athenaStatements(lake, silver, lake.curatedBucket, 'AthenaReadsSilverTransactions', false),
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

  /**
   * The training pipeline: Athena training/validation/test sets from the offline store → SageMaker training (or
   * tuning) → evaluation (processing job) → model gate (Lambda) → Model Registry → SNS. See
   * docs/runbooks/training-pipeline.md.
   */
  private buildTrainingPipeline(
    props: MlStackProps,
    lake: LakeRefs,
    alertsTopic: sns.ITopic,
  ): { fn: TeamFunction; sagemakerRole: iam.Role; code: SageMakerCode; machine: AslStateMachine } {
    const { config } = props;
    const env = config.name;
    const offline = lakeTable('customer_features_offline');

    const code = new SageMakerCode(this, 'SageMakerCode', {
      artifactsBucket: lake.artifactsBucket,
      key: lake.key,
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
    });

    const sagemakerRole = new SageMakerExecutionRole(this, 'SageMakerExecution', {
      environmentName: env,
      key: lake.key,
      read: [
        {
          bucket: lake.athenaResultsBucket,
          prefixes: [ATHENA_RESULTS_PREFIX],
          namedBy: 'Athena (the training, validation and test sets are <query execution id>.csv results)',
        },
        {
          bucket: lake.artifactsBucket,
          prefixes: [SAGEMAKER_CODE_PREFIX, MODEL_ARTIFACTS_PREFIX],
          namedBy: 'the code deployment (sagemaker/ files) and SageMaker (<job name>/output/model.tar.gz)',
        },
      ],
      write: [
        {
          bucket: lake.artifactsBucket,
          prefixes: [MODEL_ARTIFACTS_PREFIX, EVALUATIONS_PREFIX],
          namedBy: 'SageMaker (<training job name>/output/..., <execution name>/evaluation.json)',
        },
      ],
      jobLogGroups: ['TrainingJobs', 'ProcessingJobs'],
    }).role;

    const fn = new TeamFunction(this, 'ModelGate', {
      entry: 'lambdas/model-gate/handler.ts',
      serviceName: 'model-gate',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 256,
      timeout: Duration.seconds(30),
    });
    fn.addToRolePolicy(
      prefixStatement(fn.role as iam.Role, {
        sid: 'ReadEvaluations',
        bucket: lake.artifactsBucket,
        prefixes: [EVALUATIONS_PREFIX],
        actions: ['s3:GetObject'],
        namedBy: 'the evaluation processing job (<execution name>/evaluation.json)',
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'PlatformKey', actions: ['kms:Decrypt'], resources: [lake.key.keyArn] }),
    );

    const sagemakerArn = (resource: string, resourceName: string) =>
      this.formatArn({ service: 'sagemaker', resource, resourceName });
    const jobs = {
      training: sagemakerArn('training-job', `${TRAINING_JOB_PREFIXES.training}*`),
      tuning: sagemakerArn('hyper-parameter-tuning-job', `${TRAINING_JOB_PREFIXES.tuning}*`),
      processing: sagemakerArn('processing-job', `${TRAINING_JOB_PREFIXES.processing}*`),
    };
    const modelPackages = sagemakerArn('model-package', `${this.modelPackageGroupName}/*`);
    const managedRule = (name: string) =>
      this.formatArn({
        service: 'events',
        resource: 'rule',
        resourceName: `StepFunctionsGetEventsForSageMaker${name}Rule`,
      });
    const statements = [
      new iam.PolicyStatement({
        sid: 'TrainingJobs',
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:ListTags',
        ],
        resources: [jobs.training],
      }),
      new iam.PolicyStatement({
        sid: 'TuningJobs',
        actions: [
          'sagemaker:CreateHyperParameterTuningJob',
          'sagemaker:DescribeHyperParameterTuningJob',
          'sagemaker:StopHyperParameterTuningJob',
          'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
          'sagemaker:ListTags',
        ],
        resources: [jobs.tuning],
      }),
      new iam.PolicyStatement({
        sid: 'ProcessingJobs',
        actions: [
          'sagemaker:CreateProcessingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopProcessingJob',
          'sagemaker:ListTags',
        ],
        resources: [jobs.processing],
      }),
      new iam.PolicyStatement({
        sid: 'SyncRules',
        // The .sync integrations watch job state changes through these Step Functions-managed rules.
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [managedRule('TrainingJobs'), managedRule('TuningJobs'), managedRule('ProcessingJobs')],
      }),
      new iam.PolicyStatement({
        sid: 'PassSageMakerRole',
        actions: ['iam:PassRole'],
        resources: [sagemakerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
      new iam.PolicyStatement({
        sid: 'RegisterModel',
        actions: ['sagemaker:CreateModelPackage'],
        resources: [sagemakerArn('model-package-group', this.modelPackageGroupName), modelPackages],
      }),
      ...this.athenaStatements(lake, offline, lake.featuresBucket, 'AthenaReadsOfflineStore', true),
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [lake.key.keyArn],
      }),
      new iam.PolicyStatement({ sid: 'ModelGate', actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
      new iam.PolicyStatement({ sid: 'Alerts', actions: ['sns:Publish'], resources: [alertsTopic.topicArn] }),
    ];

    const machine = new AslStateMachine(this, 'TrainingPipeline', {
      definitionFile: 'training-pipeline.asl.json',
      stateMachineName: 'training-pipeline',
      environmentName: env,
      timeout: Duration.minutes(config.trainingPipeline.timeoutMinutes),
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      policyStatements: statements,
      definitionSubstitutions: {
        TrainingSetQuery: sqlQuerySubstitution('TrainingSetQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
        TrainingImageUri: xgboostImageUri(this.region),
        SageMakerRoleArn: sagemakerRole.roleArn,
        ModelGateFunctionArn: fn.functionArn,
        ModelPackageGroupName: this.modelPackageGroupName,
        AlertsTopicArn: alertsTopic.topicArn,
      },
    });
    // Executions must not start before the code they run is in place.
    machine.node.addDependency(code);
    const role = machine.role;
    for (const [arn, why] of [
      [jobs.training, 'training jobs are named clv-train-<execution name>'],
      [jobs.tuning, 'tuning jobs are named clv-hpo-<first part of the execution name> (32-character limit)'],
      [jobs.processing, 'evaluation jobs are named clv-eval-<execution name>'],
      [modelPackages, 'Model Registry numbers the versions of the group'],
    ] as const) {
      acknowledgeNag(
        role,
        `AwsSolutions-IAM5[Resource::${nagResource(role, arn)}]`,
        `Named at run time: ${why}; the grant is limited to that name prefix.`,
      );
    }
    for (const [bucket, prefix, why] of [
      [lake.athenaResultsBucket, ATHENA_RESULTS_PREFIX, 'Athena names result objects after the query execution id'],
      [
        lake.featuresBucket,
        `${offline.prefix}/`,
        'the training-set query reads the offline-store files Feature Store named',
      ],
    ] as const) {
      acknowledgeNag(
        role,
        `AwsSolutions-IAM5[Resource::${nagBucketArn(bucket, role)}/${prefix}*]`,
        `Objects under ${prefix}: ${why}; the grant is limited to that prefix.`,
      );
    }

    const { cutoffs } = config.trainingPipeline;
    new scheduler.Schedule(this, 'TrainingPipelineSchedule', {
      scheduleName: `clv-${env}-training-pipeline-weekly`,
      description: 'Weekly training run on the cutoffs of the environment config (trainingPipeline.cutoffs)',
      schedule: scheduler.ScheduleExpression.expression(config.trainingPipeline.scheduleCron, TimeZone.ETC_UTC),
      enabled: config.trainingPipeline.scheduleEnabled,
      target: new targets.StepFunctionsStartExecution(machine.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({
          training_cutoff: cutoffs.training,
          validation_cutoff: cutoffs.validation,
          test_cutoff: cutoffs.test,
          tune: config.trainingPipeline.tune,
        }),
        retryAttempts: 2,
      }),
    });
    return { fn, sagemakerRole, code, machine };
  }
}
