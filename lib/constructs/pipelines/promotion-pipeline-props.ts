import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link PromotionPipeline}. */
export interface PromotionPipelineProps {
  /** The environment config: `shadow.promotionTimeoutMinutes`, `logRetentionDays`, `name`. */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (gold bucket for the audit records, key). */
  readonly lake: LakeRefs;
  /** Topic of the promotion notices and alerts (`${AlertsTopicArn}`). */
  readonly alertsTopic: sns.ITopic;
  /** Model Registry group whose packages it promotes (`${ModelPackageGroupName}`), also the approval rule's filter. */
  readonly modelPackageGroupName: string;
  /** The model-registry Lambda (plan-promotion) (`${ModelRegistryFunctionArn}`). */
  readonly modelRegistryFunction: lambda.IFunction;
  /**
   * Start promotions on the Model Registry's approval events.
   * @default true
   */
  readonly approvalRuleEnabled?: boolean;
}
