import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IDependable } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link ShadowPipeline}. */
export interface ShadowPipelineProps {
  /** The environment config: `shadow` (thresholds, timeout), `batchScoring.transform`, `logRetentionDays`, `name`. */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (buckets, key, catalog, workgroup). */
  readonly lake: LakeRefs;
  /** Topic of the shadow notices and alerts (`${AlertsTopicArn}`). */
  readonly alertsTopic: sns.ITopic;
  /** Model Registry group of the challenger and the champion (`${ModelPackageGroupName}`). */
  readonly modelPackageGroupName: string;
  /**
   * Role of the SageMaker models (transform jobs) and of the compare and publish processing jobs
   * (`${SageMakerRoleArn}`); it must read artifacts scoring/ and write scoring/ and gold predictions/.
   */
  readonly sagemakerRole: iam.IRole;
  /** The SageMaker code in the artifacts bucket (shadow_compare.py, publish.py). */
  readonly sagemakerCode: IDependable;
  /** The model-registry Lambda (describe, find-production) (`${ModelRegistryFunctionArn}`). */
  readonly modelRegistryFunction: lambda.IFunction;
  /** Image of the processing jobs (`${TrainingImageUri}`). */
  readonly trainingImageUri: string;
}
