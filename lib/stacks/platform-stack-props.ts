import type { Stack, StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { EnvironmentConfig } from '../config/environment-config.js';

/** Properties every platform stack receives: the validated environment configuration. */
export interface PlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * What other stacks use of the lake, as seen from that stack: buckets are imported by their deterministic names
 * (no CloudFormation exports, so IAM resources are the same literal ARNs in every stack and in cdk-nag's view).
 */
export interface LakeRefs {
  readonly key: kms.IKey;
  readonly rawBucket: s3.IBucket;
  readonly curatedBucket: s3.IBucket;
  readonly goldBucket: s3.IBucket;
  readonly featuresBucket: s3.IBucket;
  readonly artifactsBucket: s3.IBucket;
  readonly athenaResultsBucket: s3.IBucket;
  readonly databaseName: string;
  readonly workGroupName: string;
  /** s3:// URIs (and their bucket/key) of the contracts the Glue jobs read from their working directory. */
  readonly glueContractFiles: { uri: string; bucket: s3.IBucket; key: string }[];
}

/** Gives each consuming stack its view of the lake (LakeStack implements it). */
export interface LakeSource {
  refsFor(consumer: Stack): LakeRefs;
}
