import * as path from 'node:path';
import { ArnFormat, IgnoreMode, Stack, Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { repoRoot } from '../../paths.js';
import { acknowledgeNag } from '../security/acknowledge.js';
import { prefixStatement } from '../security/s3-prefix-access.js';

/** AWS Glue version of every job: Spark 3.5.4, Python 3.11 (what glue-scripts/ is pinned to). */
export const GLUE_VERSION = '5.0';

/**
 * The clv_glue package as a zip for --extra-py-files: the directory asset glue-scripts/ filtered to clv_glue/**
 * (no tests, no caches). CDK fingerprints the source files, so the asset key only changes when the package does;
 * the zip itself is built when the asset is published (files in sorted order, fixed timestamps).
 */
export function clvGluePackageAsset(scope: Construct, id: string): assets.Asset {
  return new assets.Asset(scope, id, {
    path: path.join(repoRoot, 'glue-scripts'),
    ignoreMode: IgnoreMode.GLOB,
    exclude: ['*', '!clv_glue', '!clv_glue/**', '__pycache__', '*.pyc', '.pytest_cache', '.ruff_cache'],
  });
}

/** Properties of {@link PlatformGlueJob}. */
export interface PlatformGlueJobProps {
  /** The script name: glue-scripts/jobs/<scriptName>.py (also the local runtime's job name). */
  readonly scriptName: string;
  readonly environmentName: string;
  readonly description: string;
  /** The clv_glue zip (one per stack, see clvGluePackageAsset). */
  readonly packageAsset: assets.Asset;
  /** Extra files copied to the driver's working directory (--extra-files), as s3://bucket/key URIs. */
  readonly extraFiles?: { uri: string; bucket: s3.IBucket; key: string }[];
  /** Glue security configuration of the stack (see GlueSecurityConfiguration). */
  readonly securityConfiguration: glue.CfnSecurityConfiguration;
  /** The platform key (the security configuration encrypts S3 output, logs and bookmarks with it). */
  readonly key: kms.IKey;
  /** Bucket and prefix for Glue's temporary files (--TempDir). */
  readonly tempBucket: s3.IBucket;
  readonly workerType: string;
  readonly numberOfWorkers: number;
  readonly timeoutMinutes: number;
  /** Job-specific default arguments (run arguments override them). */
  readonly defaultArguments?: Record<string, string>;
  /**
   * What the job itself reads and writes (data, secrets, catalog), given the job's role so prefix grants can
   * carry their acknowledgements (see prefixStatement).
   */
  readonly policyStatements: (role: iam.Role) => iam.PolicyStatement[];
  /** @default 3 (backfills run a few dates at once; the pipeline runs one) */
  readonly maxConcurrentRuns?: number;
}

/**
 * A Glue 5.0 Spark job running glue-scripts/jobs/<script>.py with the clv_glue package, under the platform's
 * Glue security configuration, with a dedicated role that can do what the job does and no more.
 */
export class PlatformGlueJob extends Construct {
  readonly job: glue.CfnJob;
  readonly role: iam.Role;
  readonly jobName: string;
  readonly jobArn: string;
  readonly scriptAsset: assets.Asset;

  constructor(scope: Construct, id: string, props: PlatformGlueJobProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.jobName = `clv-${props.environmentName}-${props.scriptName.replace(/_/g, '-')}`;
    this.jobArn = stack.formatArn({ service: 'glue', resource: 'job', resourceName: this.jobName });
    this.scriptAsset = new assets.Asset(this, 'Script', {
      path: path.join(repoRoot, 'glue-scripts', 'jobs', `${props.scriptName}.py`),
    });
    const tempPrefix = `glue-temp/${this.jobName}/`;
    const securityConfigurationName = props.securityConfiguration.name;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: `Glue job ${this.jobName}`,
    });
    const objectArn = (bucket: s3.IBucket, key: string) => bucket.arnForObjects(key);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCode',
        actions: ['s3:GetObject'],
        resources: [
          objectArn(this.scriptAsset.bucket, this.scriptAsset.s3ObjectKey),
          objectArn(props.packageAsset.bucket, props.packageAsset.s3ObjectKey),
          ...(props.extraFiles ?? []).map((f) => objectArn(f.bucket, f.key)),
        ],
      }),
    );
    this.role.addToPolicy(
      prefixStatement(this.role, {
        sid: 'TempDir',
        bucket: props.tempBucket,
        prefixes: [tempPrefix],
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        namedBy: "Spark's temporary files of each run",
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListTempDir',
        actions: ['s3:ListBucket'],
        resources: [props.tempBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${tempPrefix}*`] } },
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [props.key.keyArn],
      }),
    );
    const glueLogs = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      // Glue names its log groups /aws-glue/jobs/<security configuration>-role/<role>/{output,error,logs-v2}.
      resourceName: `/aws-glue/jobs/${securityConfigurationName}-role/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Logs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [glueLogs, `${glueLogs}:log-stream:*`],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'JobMetrics',
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource-level permissions; the namespace condition scopes it to Glue's metrics.
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
    for (const statement of props.policyStatements(this.role)) this.role.addToPolicy(statement);

    this.job = new glue.CfnJob(this, 'Job', {
      name: this.jobName,
      description: props.description,
      role: this.role.roleArn,
      glueVersion: GLUE_VERSION,
      command: { name: 'glueetl', pythonVersion: '3', scriptLocation: this.scriptAsset.s3ObjectUrl },
      workerType: props.workerType,
      numberOfWorkers: props.numberOfWorkers,
      timeout: props.timeoutMinutes,
      // The state machine owns retries (with backoff and alerts); a job run is not retried behind its back.
      maxRetries: 0,
      executionProperty: { maxConcurrentRuns: props.maxConcurrentRuns ?? 3 },
      securityConfiguration: props.securityConfiguration.ref,
      defaultArguments: {
        '--job-language': 'python',
        '--extra-py-files': props.packageAsset.s3ObjectUrl,
        ...(props.extraFiles && props.extraFiles.length > 0
          ? { '--extra-files': props.extraFiles.map((f) => f.uri).join(',') }
          : {}),
        '--TempDir': `s3://${props.tempBucket.bucketName}/${tempPrefix}`,
        '--job-bookmark-option': 'job-bookmark-disable',
        '--enable-metrics': 'true',
        '--enable-continuous-cloudwatch-log': 'true',
        '--enable-observability-metrics': 'true',
        ...props.defaultArguments,
      },
    });
    const pseudo = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    const nagLogs = `arn:${pseudo(stack.partition, 'Partition')}:logs:${pseudo(stack.region, 'Region')}:${pseudo(stack.account, 'AccountId')}:log-group:/aws-glue/jobs/${securityConfigurationName}-role/*`;
    acknowledgeNag(
      this.role,
      `AwsSolutions-IAM5[Resource::${nagLogs}]`,
      'Glue creates its log groups per run as /aws-glue/jobs/<security configuration>-role/<role name>/...; the grant covers only the groups of this security configuration.',
    );
    acknowledgeNag(
      this.role,
      `AwsSolutions-IAM5[Resource::${nagLogs}:log-stream:*]`,
      'Glue names log streams after the job run id; the grant covers only the log groups of this security configuration.',
    );
    acknowledgeNag(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited to the Glue namespace by condition.',
    );
  }
}

/**
 * The Glue security configuration of a stack's jobs: S3 output SSE-KMS, CloudWatch Logs SSE-KMS and job bookmarks
 * CSE-KMS, all with the platform key. One per stack (cdk-nag checks jobs against a configuration in their stack).
 */
export class GlueSecurityConfiguration extends Construct {
  readonly configuration: glue.CfnSecurityConfiguration;

  constructor(scope: Construct, id: string, props: { name: string; key: kms.IKey }) {
    super(scope, id);
    this.configuration = new glue.CfnSecurityConfiguration(this, 'Resource', {
      name: props.name,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.key.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: props.key.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: props.key.keyArn },
      },
    });
  }
}
