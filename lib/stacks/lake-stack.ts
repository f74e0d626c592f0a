import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, IgnoreMode, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { glueTableInput } from '../constructs/catalog/glue-table.js';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { nagBucketArn } from '../constructs/security/s3-prefix-access.js';
import { LakeBucket } from '../constructs/storage/lake-bucket.js';
import { LAKE_TABLES, type LakeZone } from '../contracts/lake-tables.js';
import { namedQueryDescription } from '../contracts/sql-queries.js';
import { repoRoot } from '../paths.js';
import { type LakeBucketKey, lakeBucketName } from './lake-names.js';
import type { LakeRefs, LakeSource, PlatformStackProps } from './platform-stack-props.js';
import { statefulRemovalPolicy } from './removal.js';

/** Every .sql file under sql/ (repository-relative, sorted): each ships as an Athena named query. */
export function sqlFiles(dir = path.join(repoRoot, 'sql')): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.sql'))
    .map((f) => path.posix.join('sql', f.split(path.sep).join('/')))
    .sort();
}

/**
 * The data lake: the platform KMS key and the buckets of every zone (raw/bronze, curated/silver, gold, features,
 * artifacts/models, Athena results) plus the access-logs bucket; the Glue database with one table per entry of
 * lib/contracts/lake-tables.ts; the Athena workgroup (enforced, KMS, bytes-scanned cutoff) with the named queries
 * of sql/ (the pipelines' queries and the analysts' queries of sql/analytics/, described in
 * lib/contracts/sql-queries.ts); and the contracts the Glue jobs read, under s3://<artifacts>/glue/contracts/.
 */
export class LakeStack extends Stack implements LakeSource {
  readonly key: kms.Key;
  readonly accessLogsBucket: s3.Bucket;
  readonly rawBucket: s3.Bucket;
  readonly curatedBucket: s3.Bucket;
  readonly goldBucket: s3.Bucket;
  readonly featuresBucket: s3.Bucket;
  readonly artifactsBucket: s3.Bucket;
  readonly athenaResultsBucket: s3.Bucket;
  /** Glue database of the environment (Athena-friendly: clv_<env>). */
  readonly databaseName: string;
  readonly workGroupName: string;
  /** Where the workgroup writes query results (s3://.../results/). */
  readonly athenaResultsPrefix: string;
  readonly tables: Record<string, glue.CfnTable>;
  /** Keys (in the artifacts bucket) of the contracts the Glue jobs read. */
  readonly glueContractKeys: string[];
  private readonly environmentName: string;
  private readonly views = new Map<Stack, LakeRefs>();

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
        bucketName: lakeBucketName(config.name, (name.charAt(0).toLowerCase() + name.slice(1)) as LakeBucketKey, this),
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
        // Quarantined rows keep the raw row with unhashed PII: short retention.
        id: 'expire-quarantine',
        prefix: 'quarantine/',
        expiration: Duration.days(config.lake.quarantineExpirationDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
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

    this.databaseName = `clv_${config.name}`;
    this.workGroupName = `clv-${config.name}`;
    this.athenaResultsPrefix = `s3://${this.athenaResultsBucket.bucketName}/results/`;

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: this.account,
      databaseInput: {
        name: this.databaseName,
        description: `CLV platform lake (${config.name}): raw, silver, features, predictions and monitoring tables`,
      },
    });
    database.applyRemovalPolicy(removalPolicy);

    const zoneBuckets: Record<LakeZone, s3.IBucket> = {
      raw: this.rawBucket,
      curated: this.curatedBucket,
      gold: this.goldBucket,
      features: this.featuresBucket,
      artifacts: this.artifactsBucket,
    };
    this.tables = {};
    for (const table of LAKE_TABLES) {
      const location = `s3://${zoneBuckets[table.zone].bucketName}/${table.prefix}/`;
      const cfn = new glue.CfnTable(this, `Table-${table.name}`, {
        catalogId: this.account,
        databaseName: this.databaseName,
        tableInput: glueTableInput(table, location),
      });
      cfn.node.addDependency(database);
      this.tables[table.name] = cfn;
    }

    const workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: `CLV platform queries (${config.name}): results encrypted with the platform key`,
      state: 'ENABLED',
      recursiveDeleteOption: removalPolicy === RemovalPolicy.DESTROY,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.lake.athenaBytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.athenaResultsPrefix,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.key.keyArn },
          expectedBucketOwner: this.account,
        },
      },
    });
    workGroup.applyRemovalPolicy(removalPolicy);

    for (const file of sqlFiles()) {
      const name = file.replace(/^sql\//, '').replace(/\.sql$/, '');
      const query = new athena.CfnNamedQuery(this, `NamedQuery-${name.replace(/[^A-Za-z0-9]/g, '-')}`, {
        name: `clv-${name.replace(/\//g, '-')}`,
        description: namedQueryDescription(file),
        database: this.databaseName,
        workGroup: this.workGroupName,
        queryString: fs.readFileSync(path.join(repoRoot, file), 'utf8'),
      });
      query.node.addDependency(workGroup);
      query.node.addDependency(database);
    }

    this.environmentName = config.name;
    this.glueContractKeys = this.deployGlueContracts();
  }

  /**
   * The shared contracts the Glue jobs read (transaction layouts, reference data), copied to
   * s3://<artifacts>/glue/contracts/ under their own names so --extra-files puts them in the job's working directory.
   */
  private deployGlueContracts(): string[] {
    const files = ['transactions-layouts.json', 'reference-data.json'];
    const prefix = 'glue/contracts/';
    const deployment = new s3deploy.BucketDeployment(this, 'GlueContracts', {
      sources: [
        s3deploy.Source.asset(path.join(repoRoot, 'contracts'), {
          ignoreMode: IgnoreMode.GLOB,
          exclude: ['*', ...files.map((f) => `!${f}`)],
        }),
      ],
      destinationBucket: this.artifactsBucket,
      destinationKeyPrefix: prefix,
      prune: true,
      memoryLimit: 256,
    });
    // The deployment handler is CDK's own singleton Lambda; its role and runtime come from aws-s3-deployment.
    const handlerRole = deployment.handlerRole;
    const handler = handlerRole.node.scope as Construct;
    const cdkOwned = 'CDK BucketDeployment handler (aws-s3-deployment)';
    acknowledgeNag(
      handlerRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      `${cdkOwned}: the construct attaches the basic execution policy for its own logs; it runs only during deployments.`,
    );
    for (const action of [
      's3:GetBucket*',
      's3:GetObject*',
      's3:List*',
      's3:Abort*',
      's3:DeleteObject*',
      'kms:GenerateDataKey*',
      'kms:ReEncrypt*',
    ]) {
      acknowledgeNag(
        handlerRole,
        `AwsSolutions-IAM5[Action::${action}]`,
        `${cdkOwned}: action groups come from the construct's bucket/key grants (read the source asset, sync glue/contracts/).`,
      );
    }
    acknowledgeNag(
      handlerRole,
      `AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${this.region}/*]`,
      `${cdkOwned}: reads its source zip from the CDK assets bucket, whose object key is a content hash.`,
    );
    acknowledgeNag(
      handlerRole,
      `AwsSolutions-IAM5[Resource::${nagBucketArn(this.artifactsBucket, handlerRole)}/*]`,
      `${cdkOwned}: the grant covers the destination bucket's objects; the handler only syncs the glue/contracts/ prefix.`,
    );
    acknowledgeNag(
      handler,
      'AwsSolutions-L1',
      `${cdkOwned}: the construct pins its Python runtime; it is not ours to choose.`,
    );
    return files.map((f) => `${prefix}${f}`);
  }

  /**
   * The lake as another stack of the environment sees it: buckets imported by name (with the platform key), the
   * catalog names, the contract files. The consumer must be deployed after this stack (platform.ts adds that).
   */
  refsFor(consumer: Stack): LakeRefs {
    if (consumer === this) throw new Error('refsFor is for the other stacks of the environment');
    const cached = this.views.get(consumer);
    if (cached) return cached;
    const imported = (key: LakeBucketKey, id: string) =>
      s3.Bucket.fromBucketAttributes(consumer, `Lake${id}Bucket`, {
        bucketName: lakeBucketName(this.environmentName, key, consumer),
        encryptionKey: this.key,
      });
    const artifactsBucket = imported('artifacts', 'Artifacts');
    const refs: LakeRefs = {
      key: this.key,
      rawBucket: imported('raw', 'Raw'),
      curatedBucket: imported('curated', 'Curated'),
      goldBucket: imported('gold', 'Gold'),
      featuresBucket: imported('features', 'Features'),
      artifactsBucket,
      athenaResultsBucket: imported('athenaResults', 'AthenaResults'),
      databaseName: this.databaseName,
      workGroupName: this.workGroupName,
      glueContractFiles: this.glueContractKeys.map((key) => ({
        uri: `s3://${artifactsBucket.bucketName}/${key}`,
        bucket: artifactsBucket,
        key,
      })),
    };
    consumer.addStackDependency(this, 'reads and writes the lake buckets by name');
    this.views.set(consumer, refs);
    return refs;
  }
}
