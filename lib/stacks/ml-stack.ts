import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { TeamFunction } from '../constructs/compute/team-function.js';
import { SAGEMAKER_CODE_PREFIX, SageMakerCode } from '../constructs/ml/sagemaker-code.js';
import { SageMakerExecutionRole } from '../constructs/ml/sagemaker-execution-role.js';
import { xgboostImageUri } from '../constructs/ml/xgboost-image.js';
import type { AslStateMachine } from '../constructs/orchestration/asl-state-machine.js';
import { BatchScoringPipeline } from '../constructs/pipelines/batch-scoring-pipeline.js';
import { CampaignExperimentPipeline } from '../constructs/pipelines/campaign-experiment-pipeline.js';
import { DataPipeline } from '../constructs/pipelines/data-pipeline.js';
import { MonitoringPipeline } from '../constructs/pipelines/monitoring-pipeline.js';
import {
  ATHENA_RESULTS_PREFIX,
  CAMPAIGN_ARTIFACTS_PREFIX,
  CAMPAIGN_AUDIENCES_PREFIX,
  CAMPAIGN_EXPORTS_PREFIX,
  DRIFT_BASELINES_PREFIX,
  EVALUATIONS_PREFIX,
  MODEL_ARTIFACTS_PREFIX,
  MONITORING_METRICS_PREFIX,
  PREDICTIONS_PREFIX,
  SCORING_PREFIX,
} from '../constructs/pipelines/prefixes.js';
import { PromotionPipeline } from '../constructs/pipelines/promotion-pipeline.js';
import { ShadowPipeline } from '../constructs/pipelines/shadow-pipeline.js';
import { TrainingPipeline } from '../constructs/pipelines/training-pipeline.js';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { nagResource } from '../constructs/security/s3-prefix-access.js';
import type { LakeSource, PlatformStackProps } from './platform-stack-props.js';

export {
  ATHENA_RESULTS_PREFIX,
  EVALUATIONS_PREFIX,
  MODEL_ARTIFACTS_PREFIX,
  QUALITY_REPORTS_PREFIX,
  TRAINING_JOB_PREFIXES,
} from '../constructs/pipelines/prefixes.js';

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
  /**
   * The condition table of the Monitoring stack (alert de-duplication, retraining cool-down). Without it the stack
   * has no monitoring pipeline.
   */
  readonly conditionTable?: dynamodb.ITable;
}

/**
 * ML: the model registry (a Model Package Group and the model-registry Lambda that reads its stages), what the
 * SageMaker pipelines share (the execution role, the code in the artifacts bucket) and the three pipelines, one
 * construct each (lib/constructs/pipelines/): the daily data pipeline, the weekly training pipeline and the weekly
 * batch scoring. This stack only wires them together.
 */
export class MlStack extends Stack {
  readonly modelPackageGroupName: string;
  readonly modelRegistryFunction?: TeamFunction;
  readonly sagemakerRole?: iam.Role;
  readonly sagemakerCode?: SageMakerCode;
  readonly data?: DataPipeline;
  readonly training?: TrainingPipeline;
  readonly batchScoring?: BatchScoringPipeline;
  readonly monitoring?: MonitoringPipeline;
  readonly shadow?: ShadowPipeline;
  readonly promotion?: PromotionPipeline;
  readonly campaignExperiment?: CampaignExperimentPipeline;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    super(scope, id, props);
    const { config } = props;
    const env = config.name;
    this.modelPackageGroupName = `clv-${env}-clv-models`;
    new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `CLV (12-month revenue and churn) models, ${env}`,
    });
    if (!props.lake || !props.dataPipeline) return;
    const lake = props.lake.refsFor(this);
    const { alertsTopic } = props.dataPipeline;

    this.data = new DataPipeline(this, 'DataPipeline', { config, lake, ...props.dataPipeline });

    this.sagemakerCode = new SageMakerCode(this, 'SageMakerCode', {
      artifactsBucket: lake.artifactsBucket,
      key: lake.key,
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
    });
    this.sagemakerRole = new SageMakerExecutionRole(this, 'SageMakerExecution', {
      environmentName: env,
      key: lake.key,
      read: [
        {
          bucket: lake.athenaResultsBucket,
          prefixes: [ATHENA_RESULTS_PREFIX],
          namedBy: 'Athena (the training, validation, test and scoring sets are <query execution id>.csv results)',
        },
        {
          bucket: lake.artifactsBucket,
          prefixes: [SAGEMAKER_CODE_PREFIX, MODEL_ARTIFACTS_PREFIX, SCORING_PREFIX],
          namedBy:
            'the code deployment (sagemaker/ files), SageMaker (<job name>/output/model.tar.gz) and the transform job (<execution name>/transform/)',
        },
        {
          bucket: lake.goldBucket,
          prefixes: [PREDICTIONS_PREFIX],
          namedBy: 'the publish job (scoring_date=/model_version= partitions, read by the campaign audience export)',
        },
      ],
      write: [
        {
          bucket: lake.artifactsBucket,
          prefixes: [MODEL_ARTIFACTS_PREFIX, EVALUATIONS_PREFIX, SCORING_PREFIX],
          namedBy:
            'SageMaker (<training job name>/output/..., <execution name>/evaluation.json, <execution name>/transform/ and summary.json)',
        },
        {
          bucket: lake.goldBucket,
          prefixes: [PREDICTIONS_PREFIX, MONITORING_METRICS_PREFIX, DRIFT_BASELINES_PREFIX],
          namedBy:
            'the publish job (scoring_date=/model_version= and run_date= partitions) and the evaluation job (drift_baselines/<model_version>.csv)',
        },
        {
          bucket: lake.goldBucket,
          prefixes: [CAMPAIGN_AUDIENCES_PREFIX, CAMPAIGN_EXPORTS_PREFIX],
          namedBy: 'the campaign audience export (campaign_id=<id>/audience.parquet and audience.csv)',
        },
        {
          bucket: lake.artifactsBucket,
          prefixes: [CAMPAIGN_ARTIFACTS_PREFIX],
          namedBy: 'the campaign audience export (<campaign id>/audience-summary.json)',
        },
      ],
      jobLogGroups: ['TrainingJobs', 'ProcessingJobs', 'TransformJobs'],
    }).role;

    this.modelRegistryFunction = this.buildModelRegistryFunction(config);

    const shared = {
      config,
      lake,
      alertsTopic,
      modelPackageGroupName: this.modelPackageGroupName,
      sagemakerRole: this.sagemakerRole,
      sagemakerCode: this.sagemakerCode,
      modelRegistryFunction: this.modelRegistryFunction,
      trainingImageUri: xgboostImageUri(this.region),
    };
    this.training = new TrainingPipeline(this, 'TrainingPipeline', shared);
    this.batchScoring = new BatchScoringPipeline(this, 'BatchScoring', shared);
    if (props.conditionTable) {
      this.monitoring = new MonitoringPipeline(this, 'Monitoring', {
        config,
        lake,
        alertsTopic,
        conditionTable: props.conditionTable,
        trainingStateMachineName: `clv-${env}-training-pipeline`,
        modelPackageGroupName: this.modelPackageGroupName,
      });
    }
    this.shadow = new ShadowPipeline(this, 'Shadow', shared);
    this.campaignExperiment = new CampaignExperimentPipeline(this, 'CampaignExperiment', shared);
    this.promotion = new PromotionPipeline(this, 'Promotion', {
      config,
      lake,
      alertsTopic,
      modelPackageGroupName: this.modelPackageGroupName,
      modelRegistryFunction: this.modelRegistryFunction,
    });
  }

  /** The daily data pipeline's state machine. */
  get dataPipeline(): AslStateMachine | undefined {
    return this.data?.machine;
  }

  /** The weekly training pipeline's state machine. */
  get trainingPipeline(): AslStateMachine | undefined {
    return this.training?.machine;
  }

  /** The quality-gate Lambda of the data pipeline. */
  get qualityGateFunction(): TeamFunction | undefined {
    return this.data?.qualityGateFunction;
  }

  /** The model-gate Lambda of the training pipeline. */
  get modelGateFunction(): TeamFunction | undefined {
    return this.training?.modelGateFunction;
  }

  /**
   * The model-registry Lambda (lambdas/model-registry/handler.ts): finds the Production version of the group for
   * the training pipeline (champion) and batch scoring. It lists and describes the group's packages, nothing else.
   */
  private buildModelRegistryFunction(config: PlatformStackProps['config']): TeamFunction {
    const fn = new TeamFunction(this, 'ModelRegistry', {
      entry: 'lambdas/model-registry/handler.ts',
      serviceName: 'model-registry',
      environmentName: config.name,
      logRetentionDays: config.logRetentionDays,
      memorySize: 256,
      timeout: Duration.seconds(30),
    });
    const packages = this.formatArn({
      service: 'sagemaker',
      resource: 'model-package',
      resourceName: `${this.modelPackageGroupName}/*`,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DescribeModelPackages',
        actions: ['sagemaker:DescribeModelPackage'],
        resources: [packages],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListModelPackages',
        // sagemaker:ListModelPackages has no resource-level permissions: '*' is the only resource it accepts.
        actions: ['sagemaker:ListModelPackages'],
        resources: ['*'],
      }),
    );
    const role = fn.role as iam.Role;
    acknowledgeNag(
      role,
      `AwsSolutions-IAM5[Resource::${nagResource(role, packages)}]`,
      'Named at run time: Model Registry numbers the versions of the group; the grant (DescribeModelPackage) is that group only.',
    );
    acknowledgeNag(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      "X-Ray tracing and sagemaker:ListModelPackages support no resource-level permissions ('*' is required); the Lambda lists one group's packages by name and describes that group's versions only.",
    );
    return fn;
  }
}
