import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IDependable } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link CampaignExperimentPipeline}. */
export interface CampaignExperimentPipelineProps {
  /** The environment config: `campaigns` (shares, alpha, days), `logRetentionDays`, `name`. */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (buckets, key, catalog, workgroup). */
  readonly lake: LakeRefs;
  /** Topic of the campaign notices and alerts (`${AlertsTopicArn}`). */
  readonly alertsTopic: sns.ITopic;
  /** Model Registry group of the champion (Production) and the challenger (Canary) (`${ModelPackageGroupName}`). */
  readonly modelPackageGroupName: string;
  /**
   * Role of the audience export processing job (`${SageMakerRoleArn}`); passed to SageMaker only. It must read gold
   * predictions/ and artifacts code/, and write gold campaigns/audiences/ and campaigns/exports/ and artifacts
   * campaigns/.
   */
  readonly sagemakerRole: iam.IRole;
  /** The SageMaker code in the artifacts bucket (campaign_audience.py): executions must not start before it. */
  readonly sagemakerCode: IDependable;
  /** The model-registry Lambda (find-production, find-stage) (`${ModelRegistryFunctionArn}`). */
  readonly modelRegistryFunction: lambda.IFunction;
  /** Image of the audience export processing job (`${TrainingImageUri}`). */
  readonly trainingImageUri: string;
}
