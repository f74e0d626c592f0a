import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { EnvironmentConfig } from '../../config/environment-config.js';

/** Properties of {@link AlertRouting}. */
export interface AlertRoutingProps {
  /** Environment name (dev, staging, prod): part of every resource name. */
  readonly environmentName: string;
  /** The alerts topic every pipeline publishes to; the router subscribes to it and the DLQ alarms notify it. */
  readonly alertsTopic: sns.ITopic;
  /**
   * Customer-managed KMS key (the platform key) of the digest topic, the queues, the table, the secrets and the
   * function's logs and environment. Its key policy must let sns.amazonaws.com and cloudwatch.amazonaws.com use it
   * (the Monitoring stack adds that statement).
   */
  readonly key: kms.IKey;
  /** The environment's `alerting` config (de-duplication TTL, retries, digest emails, secret names, URLs). */
  readonly alerting: EnvironmentConfig['alerting'];
  /** Retention of the function's log group (days, a CloudWatch Logs value). */
  readonly logRetentionDays: number;
  /** Removal policy of the de-duplication table. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Days a message stays in either dead-letter queue (SQS allows 1–14). @default 14 */
  readonly dlqRetentionDays?: number;
  /** Lambda async retries of a failed invocation before the on-failure DLQ (0–2). @default 2 */
  readonly asyncRetryAttempts?: number;
  /** Timeout of the router function (must cover the retries of both deliveries). @default Duration.seconds(60) */
  readonly timeoutSeconds?: number;
}
