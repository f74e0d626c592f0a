import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../security/acknowledge.js';
import { nagResource, prefixStatement } from '../security/s3-prefix-access.js';
import { xgboostRepositoryArn } from './xgboost-image.js';

/** Read-only or read-write access of SageMaker jobs to prefixes of one bucket. */
export interface SageMakerPrefixAccess {
  readonly bucket: s3.IBucket;
  /** Key prefixes ending in "/". */
  readonly prefixes: string[];
  /** Who names the objects under the prefixes (the acknowledgement's reason). */
  readonly namedBy: string;
}

/** Properties of {@link SageMakerExecutionRole}. */
export interface SageMakerExecutionRoleProps {
  readonly environmentName: string;
  readonly key: kms.IKey;
  /** What the jobs read: data channels, code, model artifacts. */
  readonly read: SageMakerPrefixAccess[];
  /** What the jobs write: model artifacts, evaluation reports. */
  readonly write: SageMakerPrefixAccess[];
  /** The SageMaker job types that run with the role (their log groups): e.g. TrainingJobs, ProcessingJobs. */
  readonly jobLogGroups: string[];
}

/**
 * The role SageMaker training, tuning, processing and transform jobs (and the models they serve) run with: reads its inputs and writes its outputs under
 * named prefixes only, uses the platform key, writes the jobs' own CloudWatch log groups, publishes job metrics to
 * SageMaker's namespaces, and pulls the XGBoost framework image of the stack's region.
 */
export class SageMakerExecutionRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SageMakerExecutionRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `SageMaker jobs and models of the CLV pipelines: training, tuning, evaluation, batch transform, publish (${props.environmentName})`,
    });
    const role = this.role;

    props.read.forEach((access, i) => {
      role.addToPolicy(
        prefixStatement(role, {
          sid: `Read${i}`,
          bucket: access.bucket,
          prefixes: access.prefixes,
          actions: ['s3:GetObject'],
          namedBy: access.namedBy,
        }),
      );
    });
    props.write.forEach((access, i) => {
      role.addToPolicy(
        prefixStatement(role, {
          sid: `Write${i}`,
          bucket: access.bucket,
          prefixes: access.prefixes,
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          namedBy: access.namedBy,
        }),
      );
    });
    // S3Prefix inputs are listed (a channel's URI is a key prefix); the listing is limited to the readable prefixes.
    const listed = new Map<string, { bucket: s3.IBucket; prefixes: Set<string> }>();
    for (const access of [...props.read, ...props.write]) {
      const key = stack.resolve(access.bucket.bucketArn);
      const entry = listed.get(JSON.stringify(key)) ?? { bucket: access.bucket, prefixes: new Set<string>() };
      for (const p of access.prefixes) entry.prefixes.add(`${p}*`);
      listed.set(JSON.stringify(key), entry);
    }
    [...listed.values()].forEach((entry, i) => {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: `List${i}`,
          actions: ['s3:ListBucket'],
          resources: [entry.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [...entry.prefixes].sort() } },
        }),
      );
    });

    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
    );

    const logGroupArns = props.jobLogGroups.map((jobs) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `/aws/sagemaker/${jobs}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'JobLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: logGroupArns,
      }),
    );
    for (const arn of logGroupArns) {
      acknowledgeNag(
        role,
        `AwsSolutions-IAM5[Resource::${nagResource(role, arn)}]`,
        'SageMaker writes one log stream per job and instance (<job name>/algo-1-<epoch>) into its fixed log group; the grant is that group only.',
      );
    }

    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PullFrameworkImage',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [xgboostRepositoryArn(stack.region)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrAuthorizationToken',
        // ecr:GetAuthorizationToken has no resource-level permissions: '*' is the only resource it accepts.
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'JobMetrics',
        // cloudwatch:PutMetricData has no resource-level permissions; the namespace condition scopes it.
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      }),
    );
    acknowledgeNag(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions ('*' is required); metrics are limited to the /aws/sagemaker/* namespaces by condition.",
    );
  }
}
