import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { LakeBucket } from '../constructs/storage/lake-bucket.js';
import type { PlatformStackProps } from './platform-stack-props.js';
import { statefulRemovalPolicy } from './removal.js';

/**
 * The data lake: the platform KMS key and the buckets of every zone (raw/bronze, curated/silver, gold, features,
 * artifacts/models, Athena results) plus the access-logs bucket.
 */
export class LakeStack extends Stack {
  readonly key: kms.Key;
  readonly accessLogsBucket: s3.Bucket;
  readonly rawBucket: s3.Bucket;
  readonly curatedBucket: s3.Bucket;
  readonly goldBucket: s3.Bucket;
  readonly featuresBucket: s3.Bucket;
  readonly artifactsBucket: s3.Bucket;
  readonly athenaResultsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = statefulRemovalPolicy(config);

    this.key = new kms.Key(this, 'PlatformKey', {
      alias: `alias/clv-${config.name}-platform`,
      description: `CLV platform (${config.name}): encrypts the lake, logs, streams and pipeline data`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch Logs encrypts the platform's log groups with this key; scoped to this account's and region's logs.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({ service: 'logs', resource: '*' }),
          },
        },
      }),
    );

    // Server access logs: the log delivery service writes with SSE-S3 only (SSE-KMS is not supported for targets).
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(config.lake.accessLogsExpirationDays) }],
      removalPolicy,
    });
    acknowledgeNag(
      this.accessLogsBucket,
      'AwsSolutions-S1',
      'This is the server access logs target bucket; logging it into itself would loop.',
    );

    const noncurrent: s3.LifecycleRule = {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(config.lake.noncurrentVersionExpirationDays),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    };
    const bucket = (name: string, versioned: boolean, lifecycleRules: s3.LifecycleRule[]) =>
      new LakeBucket(this, name, {
        encryptionKey: this.key,
        accessLogsBucket: this.accessLogsBucket,
        accessLogsPrefix: `${name.toLowerCase()}/`,
        versioned,
        removalPolicy,
        lifecycleRules,
      }).bucket;

    this.rawBucket = bucket('Raw', true, [
      noncurrent,
      {
        id: 'raw-to-infrequent-access',
        transitions: [
          {
            storageClass: s3.StorageClass.INFREQUENT_ACCESS,
            transitionAfter: Duration.days(config.lake.rawToInfrequentAccessDays),
          },
        ],
      },
    ]);
    this.curatedBucket = bucket('Curated', true, [noncurrent]);
    this.goldBucket = bucket('Gold', true, [noncurrent]);
    this.featuresBucket = bucket('Features', true, [noncurrent]);
    this.artifactsBucket = bucket('Artifacts', true, [noncurrent]);
    this.athenaResultsBucket = bucket('AthenaResults', false, [
      { id: 'expire-athena-results', expiration: Duration.days(config.lake.athenaResultsExpirationDays) },
    ]);
  }
}
