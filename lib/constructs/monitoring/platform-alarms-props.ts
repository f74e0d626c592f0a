import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';

/** Properties of {@link PlatformAlarms}. */
export interface PlatformAlarmsProps {
  /**
   * The scopes whose construct trees are searched (the platform's other stacks): every AslStateMachine, TeamFunction
   * and Firehose delivery stream found in them gets its alarms, so pipelines added later are covered.
   */
  readonly watched: readonly IConstruct[];
  /** Where every alarm (ALARM and OK) is sent: the alerts topic, routed as High by the alert router. */
  readonly alertsTopic: sns.ITopic;
  /** Firehose DeliveryToS3.DataFreshness (oldest record not yet in S3, seconds) above which the alarm fires. */
  readonly firehoseMaxDataFreshnessSeconds: number;
  /** Period of every alarm's metric (minutes). @default 5 */
  readonly periodMinutes?: number;
  /** Periods that must breach before an alarm fires. @default 1 */
  readonly evaluationPeriods?: number;
}
