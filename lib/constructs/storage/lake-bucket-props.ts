import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** Properties of {@link LakeBucket}. */
export interface LakeBucketProps {
  /** KMS key for SSE-KMS (bucket keys on). */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving the server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Prefix of this bucket's access logs in the access-logs bucket. */
  readonly accessLogsPrefix: string;
  /** Keep every version of every object (for data that must not be lost). */
  readonly versioned: boolean;
  /** Removal policy from the environment config. */
  readonly removalPolicy: RemovalPolicy;
  /** Lifecycle rules. @default - none */
  readonly lifecycleRules?: s3.LifecycleRule[];
}
