import * as path from 'node:path';
import { AssetHashType, BundlingOutput, DockerImage, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { repoRoot } from '../../paths.js';
import { acknowledgeNag } from '../security/acknowledge.js';
import { prefixStatement } from '../security/s3-prefix-access.js';
import { bundleEntries, bundleHash, SOURCE_TARBALL, writeSageMakerBundle } from './sagemaker-source.js';

/** Where the SageMaker code lives in the artifacts bucket (the ASL files reference it). */
export const SAGEMAKER_CODE_PREFIX = 'code/sagemaker/';
/**
 * Files the jobs cannot run without: the entry points the ASL files (training, evaluation, batch scoring's publish) and the model package name, and the feature contract
 * copy clv_model.spec.load_spec reads in the containers (sagemaker/tests checks it equals contracts/).
 */
export const SAGEMAKER_REQUIRED_FILES = [
  'train.py',
  'evaluate.py',
  'inference.py',
  'publish.py',
  'clv_model/__init__.py',
  'clv_model/feature_contract.json',
  'clv_model/drift_features.json',
] as const;

/** Properties of {@link SageMakerCode}. */
export interface SageMakerCodeProps {
  readonly artifactsBucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly environmentName: string;
  readonly logRetentionDays: number;
}

/**
 * Ships sagemaker/ to s3://<artifacts>/code/sagemaker/: the entry points and the clv_model package (with its copy
 * of the feature contract, clv_model/feature_contract.json) as loose files (the evaluation processing job's `code`
 * input) plus `sourcedir.tar.gz` of the same files (script mode's sagemaker_submit_directory and the registered
 * model's SAGEMAKER_SUBMIT_DIRECTORY). The asset is built by a local bundling step (no Docker:
 * lib/constructs/ml/sagemaker-source.ts writes the tarball reproducibly); a BucketDeployment syncs it (prune on),
 * running under a role of our own that can read that one asset object and write that one prefix.
 */
export class SageMakerCode extends Construct {
  /** s3://<artifacts>/code/sagemaker/ */
  readonly prefixUri: string;
  /** s3://<artifacts>/code/sagemaker/sourcedir.tar.gz */
  readonly sourceTarballUri: string;
  readonly asset: assets.Asset;
  readonly deployment: s3deploy.BucketDeployment;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SageMakerCodeProps) {
    super(scope, id);
    const sourceDir = path.join(repoRoot, 'sagemaker');
    this.prefixUri = `s3://${props.artifactsBucket.bucketName}/${SAGEMAKER_CODE_PREFIX}`;
    this.sourceTarballUri = `${this.prefixUri}${SOURCE_TARBALL}`;

    const entries = bundleEntries(sourceDir, SAGEMAKER_REQUIRED_FILES);
    this.asset = new assets.Asset(this, 'Bundle', {
      path: sourceDir,
      // The fingerprint is the content of what ships, nothing else (a test or cache edit does not redeploy).
      assetHashType: AssetHashType.CUSTOM,
      assetHash: bundleHash(entries),
      bundling: {
        // Required by the API; never pulled: the local step below always succeeds (Node only, no external tools).
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/python:3.11-slim'),
        outputType: BundlingOutput.NOT_ARCHIVED,
        local: {
          tryBundle(outputDir: string): boolean {
            writeSageMakerBundle(entries, outputDir);
            return true;
          },
        },
      },
    });

    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Syncs the SageMaker code to ${SAGEMAKER_CODE_PREFIX} of the artifacts bucket (${props.environmentName})`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadBundle',
        actions: ['s3:GetObject'],
        resources: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListCodePrefix',
        actions: ['s3:ListBucket'],
        resources: [props.artifactsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${SAGEMAKER_CODE_PREFIX}*`] } },
      }),
    );
    this.role.addToPolicy(
      prefixStatement(this.role, {
        sid: 'SyncCodePrefix',
        bucket: props.artifactsBucket,
        prefixes: [SAGEMAKER_CODE_PREFIX],
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        namedBy: 'the files of sagemaker/ (sync with prune)',
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
    );

    this.deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [s3deploy.Source.bucket(this.asset.bucket, this.asset.s3ObjectKey)],
      destinationBucket: props.artifactsBucket,
      destinationKeyPrefix: SAGEMAKER_CODE_PREFIX,
      prune: true,
      memoryLimit: 256,
      logGroup,
      // The construct's own grants (s3:GetObject*/List*/DeleteObject* on whole buckets, key wildcards) are dropped:
      // the role above carries exactly what the sync needs.
      role: this.role.withoutPolicyUpdates(),
    });
    // The handler is CDK's singleton function at the stack's root (Custom::CDKBucketDeployment<uuid>...).
    const handlers = Stack.of(this).node.children.filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handlers.length !== 1) {
      throw new Error(
        `SageMakerCode ${id}: expected one BucketDeployment handler in the stack, found ${handlers.length}`,
      );
    }
    acknowledgeNag(
      handlers[0] as Construct,
      'AwsSolutions-L1',
      'CDK BucketDeployment handler (aws-s3-deployment) pins its own Python runtime; it runs only during deployments.',
    );
  }
}
