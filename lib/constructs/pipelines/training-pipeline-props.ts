import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IDependable } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link TrainingPipeline}. */
export interface TrainingPipelineProps {
  /** The environment config: `trainingPipeline` (schedule, timeout, tune, rolling cutoffs, gates), `logRetentionDays`, `name`. */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (buckets, key, catalog, workgroup). */
  readonly lake: LakeRefs;
  /** Topic of every alert (`${AlertsTopicArn}`). */
  readonly alertsTopic: sns.ITopic;
  /** Model Registry group the pipeline registers versions in (`${ModelPackageGroupName}`). */
  readonly modelPackageGroupName: string;
  /** Role SageMaker training, tuning and evaluation jobs run with (`${SageMakerRoleArn}`); passed to SageMaker only. */
  readonly sagemakerRole: iam.IRole;
  /** The SageMaker code in the artifacts bucket: executions must not start before it is in place. */
  readonly sagemakerCode: IDependable;
  /** The model-registry Lambda that finds the Production (champion) model (`${ModelRegistryFunctionArn}`). */
  readonly modelRegistryFunction: lambda.IFunction;
  /** Image of the training, tuning and evaluation jobs (`${TrainingImageUri}`). */
  readonly trainingImageUri: string;
  /**
   * Start the pipeline on its schedule.
   * @default config.trainingPipeline.scheduleEnabled
   */
  readonly scheduleEnabled?: boolean;
}
