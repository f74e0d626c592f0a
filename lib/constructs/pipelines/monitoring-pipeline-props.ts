import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link MonitoringPipeline}. */
export interface MonitoringPipelineProps {
  /** The environment config: `monitoring` (thresholds, proxy window, retraining), `logRetentionDays`, `name`. */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (buckets, key, catalog, workgroup). */
  readonly lake: LakeRefs;
  /** Topic of every alert (`${AlertsTopicArn}`): drift, proxy drop, retraining, failures. */
  readonly alertsTopic: sns.ITopic;
  /**
   * The condition table (Monitoring stack) holding the retraining cool-down beside the alert router's
   * de-duplication keys: the monitoring Lambda gets, puts (conditionally) and deletes its one key there.
   */
  readonly conditionTable: dynamodb.ITable;
  /** Name of the training pipeline's state machine (`clv-<env>-training-pipeline`) that a retraining starts. */
  readonly trainingStateMachineName: string;
  /** Model Registry group (the drift baseline is stored with each of its models). */
  readonly modelPackageGroupName: string;
  /**
   * Start the pipeline on batch scoring's ScoringCompleted events (lib/contracts/event-rules.ts).
   * @default true
   */
  readonly eventRuleEnabled?: boolean;
}
