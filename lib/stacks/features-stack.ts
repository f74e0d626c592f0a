import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type { Construct } from 'constructs';
import { clvGluePackageAsset, GlueSecurityConfiguration, PlatformGlueJob } from '../constructs/etl/glue-job.js';
import { prefixStatement } from '../constructs/security/s3-prefix-access.js';
import { featureContract, featureGroupFeatureDefinitions } from '../contracts/feature-contract.js';
import { GLUE_JOBS } from '../contracts/glue-jobs.js';
import { lakeTable } from '../contracts/lake-tables.js';
import type { LakeSource, PlatformStackProps } from './platform-stack-props.js';

/** Properties of the Features stack. */
export interface FeaturesStackProps extends PlatformStackProps {
  readonly lake: LakeSource;
}

/** Offline-store prefix in the features bucket (the Feature Group's S3Uri). */
export const OFFLINE_STORE_PREFIX = lakeTable('customer_features_offline').prefix;
/** Where build_features writes one <snapshot_id>.json record per run. */
export const SNAPSHOTS_PREFIX = 'snapshots';

/**
 * Features: the SageMaker Feature Group of customer features (definitions from the feature contract; offline store
 * in the features bucket with the platform key and the lake's Glue table; online store from config) with its role,
 * and the build_features Glue job that writes point-in-time snapshots into the offline store.
 */
export class FeaturesStack extends Stack {
  readonly featureGroupName: string;
  readonly featureGroup: sagemaker.CfnFeatureGroup;
  readonly featureStoreRole: iam.Role;
  readonly buildFeaturesJob: PlatformGlueJob;

  constructor(scope: Construct, id: string, props: FeaturesStackProps) {
    super(scope, id, props);
    const { config } = props;
    const lake = props.lake.refsFor(this);
    const env = config.name;
    this.featureGroupName = `clv-${env}-customer-features`;
    const featureGroupArn = this.formatArn({
      service: 'sagemaker',
      resource: 'feature-group',
      resourceName: this.featureGroupName,
    });
    const offlineTable = lakeTable('customer_features_offline').name;
    const catalogArns = [
      this.formatArn({ service: 'glue', resource: 'catalog' }),
      this.formatArn({ service: 'glue', resource: 'database', resourceName: lake.databaseName }),
      this.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.databaseName}/${offlineTable}` }),
    ];

    this.featureStoreRole = new iam.Role(this, 'FeatureStoreRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `SageMaker Feature Store: offline store of ${this.featureGroupName}`,
    });
    this.featureStoreRole.addToPolicy(
      prefixStatement(this.featureStoreRole, {
        sid: 'OfflineStore',
        bucket: lake.featuresBucket,
        prefixes: [`${OFFLINE_STORE_PREFIX}/`],
        actions: ['s3:PutObject', 's3:GetObject'],
        namedBy: 'SageMaker Feature Store (account/region/feature group/event-time partitions)',
      }),
    );
    this.featureStoreRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OfflineStoreBucket',
        actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'],
        resources: [lake.featuresBucket.bucketArn],
      }),
    );
    this.featureStoreRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OfflineStoreTable',
        actions: ['glue:GetTable'],
        resources: catalogArns,
      }),
    );
    this.featureStoreRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [lake.key.keyArn],
      }),
    );

    this.featureGroup = new sagemaker.CfnFeatureGroup(this, 'CustomerFeatures', {
      featureGroupName: this.featureGroupName,
      description: `Customer features for CLV (contract ${featureContract.contract} v${featureContract.version})`,
      recordIdentifierFeatureName: featureContract.record_identifier,
      eventTimeFeatureName: featureContract.event_time_feature,
      featureDefinitions: featureGroupFeatureDefinitions(),
      roleArn: this.featureStoreRole.roleArn,
      // offlineStoreConfig/onlineStoreConfig are untyped JSON in the L1: CloudFormation's PascalCase keys.
      offlineStoreConfig: {
        S3StorageConfig: {
          S3Uri: `s3://${lake.featuresBucket.bucketName}/${OFFLINE_STORE_PREFIX}`,
          KmsKeyId: lake.key.keyArn,
        },
        // The lake declares the offline-store table (lib/contracts/lake-tables.ts); Feature Store uses it.
        DisableGlueTableCreation: true,
        DataCatalogConfig: { Catalog: 'AwsDataCatalog', Database: lake.databaseName, TableName: offlineTable },
        TableFormat: 'Glue',
      },
      onlineStoreConfig: config.featureStore.onlineStoreEnabled
        ? { EnableOnlineStore: true, SecurityConfig: { KmsKeyId: lake.key.keyArn } }
        : undefined,
    });
    this.featureGroup.node.addDependency(this.featureStoreRole);

    const security = new GlueSecurityConfiguration(this, 'GlueSecurity', {
      name: `clv-${env}-features-glue`,
      key: lake.key,
    });
    const online = config.featureStore.onlineStoreEnabled;
    this.buildFeaturesJob = new PlatformGlueJob(this, 'BuildFeatures', {
      scriptName: GLUE_JOBS.build_features.scriptName,
      environmentName: env,
      description: GLUE_JOBS.build_features.description,
      packageAsset: clvGluePackageAsset(this, 'ClvGluePackage'),
      extraFiles: lake.glueContractFiles,
      securityConfiguration: security.configuration,
      key: lake.key,
      tempBucket: lake.artifactsBucket,
      workerType: config.glue.workerType,
      numberOfWorkers: config.glue.numberOfWorkers,
      timeoutMinutes: config.glue.timeoutMinutes,
      defaultArguments: {
        ...GLUE_JOBS.build_features.defaultArguments,
        '--store': 'sagemaker',
        '--region': this.region,
        '--account-id': this.account,
        '--online-store': String(online),
        '--feature-group-name': this.featureGroupName,
        '--offline-store-uri': `s3://${lake.featuresBucket.bucketName}/${OFFLINE_STORE_PREFIX}`,
      },
      policyStatements: (role) => [
        new iam.PolicyStatement({
          sid: 'ListLakeBuckets',
          actions: ['s3:ListBucket'],
          resources: [lake.curatedBucket.bucketArn, lake.featuresBucket.bucketArn],
        }),
        prefixStatement(role, {
          sid: 'ReadSilver',
          bucket: lake.curatedBucket,
          prefixes: ['silver/'],
          actions: ['s3:GetObject'],
          namedBy: 'the ingest and sessionize jobs (table/dt= partitions, Spark part files)',
        }),
        prefixStatement(role, {
          sid: 'WriteOfflineStore',
          bucket: lake.featuresBucket,
          prefixes: [`${OFFLINE_STORE_PREFIX}/`],
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          namedBy: 'Feature Store (resolved offline-store URI) and Spark part files',
        }),
        prefixStatement(role, {
          sid: 'WriteSnapshots',
          bucket: lake.featuresBucket,
          prefixes: [`${SNAPSHOTS_PREFIX}/`],
          actions: ['s3:GetObject', 's3:PutObject'],
          namedBy: 'the job (<snapshot_id>.json, derived from cutoff and schema hash)',
        }),
        new iam.PolicyStatement({
          sid: 'FeatureGroup',
          actions: ['sagemaker:DescribeFeatureGroup', ...(online ? ['sagemaker:PutRecord'] : [])],
          resources: [featureGroupArn],
        }),
        new iam.PolicyStatement({
          sid: 'OfflineStorePartitions',
          actions: ['glue:GetTable', 'glue:BatchCreatePartition'],
          resources: catalogArns,
        }),
      ],
    });
  }
}
