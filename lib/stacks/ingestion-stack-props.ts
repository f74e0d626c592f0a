import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { LakeSource, PlatformStackProps } from './platform-stack-props.js';

/** Properties of the Ingestion stack. */
export interface IngestionStackProps extends PlatformStackProps {
  /** Platform KMS key (Lake stack). */
  readonly key: kms.IKey;
  /** Raw (bronze) bucket that receives the clickstream. @default - the lake's raw bucket, imported by name */
  readonly rawBucket?: s3.IBucket;
  /** The lake (buckets, catalog, contracts). */
  readonly lake: LakeSource;
}
