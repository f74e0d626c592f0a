import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IDependable } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link BatchScoringPipeline}. */
export interface BatchScoringPipelineProps {
  /** The environment config: `batchScoring` (schedule, timeout, transform), `logRetentionDays`, `name`. */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (buckets, key, catalog, workgroup). */
  readonly lake: LakeRefs;
  /** Topic of every alert and of the scoring notice (`${AlertsTopicArn}`). */
  readonly alertsTopic: sns.ITopic;
  /** Model Registry group whose Production version scores (`${ModelPackageGroupName}`). */
  readonly modelPackageGroupName: string;
  /**
   * Role of the SageMaker model (transform job) and of the publish processing job (`${SageMakerRoleArn}`); passed to
   * SageMaker only. It must read the model artifacts and Athena results and write gold predictions/ and
   * monitoring_metrics/ and artifacts scoring/.
   */
  readonly sagemakerRole: iam.IRole;
  /** The SageMaker code in the artifacts bucket (publish.py): executions must not start before it is in place. */
  readonly sagemakerCode: IDependable;
  /** The model-registry Lambda that finds the Production model (`${ModelRegistryFunctionArn}`). */
  readonly modelRegistryFunction: lambda.IFunction;
  /** Image of the publish processing job (`${TrainingImageUri}`). */
  readonly trainingImageUri: string;
  /**
   * Start the pipeline on its schedule.
   * @default config.batchScoring.scheduleEnabled
   */
  readonly scheduleEnabled?: boolean;
}
