import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { TeamFunction } from '../constructs/compute/team-function.js';
import { clvGluePackageAsset, GlueSecurityConfiguration, PlatformGlueJob } from '../constructs/etl/glue-job.js';
import { acknowledgeNag } from '../constructs/security/acknowledge.js';
import { prefixStatement } from '../constructs/security/s3-prefix-access.js';
import { GLUE_JOBS } from '../contracts/glue-jobs.js';
import type { IngestionStackProps } from './ingestion-stack-props.js';
import { statefulRemovalPolicy } from './removal.js';

/** Where Firehose writes accepted clickstream events: dynamic partitions from the transformation Lambda. */
export const CLICKSTREAM_PREFIX =
  'landing/clickstream/dt=!{partitionKeyFromLambda:event_date}/hour=!{partitionKeyFromLambda:event_hour}/';
/** Where Firehose writes records it could not deliver or the Lambda rejected (ProcessingFailed), by error type. */
export const CLICKSTREAM_ERROR_PREFIX =
  'landing/clickstream-errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/';

/**
 * Ingestion: the clickstream Kinesis Data Stream (on-demand, KMS-encrypted), the Firehose delivery stream to the
 * raw zone with the validating transformation Lambda, the PII salt secret, and the Glue jobs of the daily batch
 * (ingest_transactions, sessionize_clickstream).
 */
export class IngestionStack extends Stack {
  readonly clickstream: kinesis.Stream;
  readonly transformFunction: TeamFunction;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly piiSalt: secretsmanager.Secret;
  readonly ingestTransactionsJob: PlatformGlueJob;
  readonly sessionizeClickstreamJob: PlatformGlueJob;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config } = props;
    const lake = props.lake.refsFor(this);
    const rawBucket = props.rawBucket ?? lake.rawBucket;
    const env = config.name;
    this.clickstream = new kinesis.Stream(this, 'Clickstream', {
      streamName: `clv-${env}-clickstream`,
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.key,
      retentionPeriod: Duration.hours(48),
    });
    acknowledgeNag(
      this.clickstream,
      'AwsSolutions-KDS3',
      'The stream uses the platform customer-managed KMS key (rotation on, key policy scoped) on purpose: one key for the whole lake path.',
    );

    this.transformFunction = new TeamFunction(this, 'ClickstreamTransform', {
      entry: 'lambdas/clickstream-transform/handler.ts',
      serviceName: 'clickstream-transform',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: props.key,
      memorySize: 512,
      // Firehose waits at most 5 minutes for a transformation; a batch of 1 MiB takes far less.
      timeout: Duration.minutes(1),
    });

    this.deliveryStream = this.clickstreamDelivery(props, rawBucket);
    this.piiSalt = new secretsmanager.Secret(this, 'PiiSalt', {
      secretName: `clv/${env}/pii-salt`,
      description: `HMAC key for PII hashing in the ingest jobs (${env}); never logged, never exported`,
      encryptionKey: props.key,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: statefulRemovalPolicy(config),
    });
    acknowledgeNag(
      this.piiSalt,
      'AwsSolutions-SMG4',
      'The salt keys the PII hashes in silver; rotating it would change every hash and break joins over history. Rotation is a planned re-hash (docs/runbooks/data-pipeline.md), not a schedule.',
    );

    const pkg = clvGluePackageAsset(this, 'ClvGluePackage');
    const security = new GlueSecurityConfiguration(this, 'GlueSecurity', {
      name: `clv-${env}-ingestion-glue`,
      key: lake.key,
    });
    const jobBase = {
      environmentName: env,
      packageAsset: pkg,
      extraFiles: lake.glueContractFiles,
      securityConfiguration: security.configuration,
      key: lake.key,
      tempBucket: lake.artifactsBucket,
      workerType: config.glue.workerType,
      numberOfWorkers: config.glue.numberOfWorkers,
      timeoutMinutes: config.glue.timeoutMinutes,
    };
    const spark = 'the Spark job (partition folders, part files, committer temporaries, EMRFS folder markers)';
    const list = new iam.PolicyStatement({
      sid: 'ListLakeBuckets',
      actions: ['s3:ListBucket'],
      resources: [lake.rawBucket.bucketArn, lake.curatedBucket.bucketArn, lake.artifactsBucket.bucketArn],
    });
    const readWrite = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];

    this.ingestTransactionsJob = new PlatformGlueJob(this, 'IngestTransactions', {
      ...jobBase,
      scriptName: GLUE_JOBS.ingest_transactions.scriptName,
      description: GLUE_JOBS.ingest_transactions.description,
      defaultArguments: {
        '--pii-salt-secret': this.piiSalt.secretArn,
        ...GLUE_JOBS.ingest_transactions.defaultArguments,
      },
      policyStatements: (role) => [
        list,
        prefixStatement(role, {
          sid: 'ReadLanding',
          bucket: lake.rawBucket,
          prefixes: ['landing/transactions/', 'landing/customers/'],
          actions: ['s3:GetObject'],
          namedBy: 'the source systems (one folder per delivery day)',
        }),
        prefixStatement(role, {
          sid: 'WriteSilver',
          bucket: lake.curatedBucket,
          prefixes: ['silver/transactions', 'silver/customers'],
          actions: readWrite,
          namedBy: spark,
        }),
        prefixStatement(role, {
          sid: 'WriteQuarantine',
          bucket: lake.rawBucket,
          prefixes: ['quarantine/transactions', 'quarantine/customers'],
          actions: readWrite,
          namedBy: spark,
        }),
        prefixStatement(role, {
          sid: 'WriteReports',
          bucket: lake.artifactsBucket,
          prefixes: ['reports/reconciliation/ingest_transactions/', 'reports/reconciliation/ingest_customers/'],
          actions: ['s3:GetObject', 's3:PutObject'],
          namedBy: 'the job (dt=<date>/<run id>.json)',
        }),
        new iam.PolicyStatement({
          sid: 'ReadPiiSalt',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.piiSalt.secretArn],
        }),
      ],
    });

    this.sessionizeClickstreamJob = new PlatformGlueJob(this, 'SessionizeClickstream', {
      ...jobBase,
      scriptName: GLUE_JOBS.sessionize_clickstream.scriptName,
      description: GLUE_JOBS.sessionize_clickstream.description,
      defaultArguments: GLUE_JOBS.sessionize_clickstream.defaultArguments,
      policyStatements: (role) => [
        list,
        prefixStatement(role, {
          sid: 'ReadLanding',
          bucket: lake.rawBucket,
          prefixes: ['landing/clickstream/'],
          actions: ['s3:GetObject'],
          namedBy: 'Firehose (dt=/hour= partitions, generated object names)',
        }),
        prefixStatement(role, {
          sid: 'WriteSilver',
          bucket: lake.curatedBucket,
          prefixes: ['silver/sessions'],
          actions: readWrite,
          namedBy: spark,
        }),
        prefixStatement(role, {
          sid: 'WriteQuarantine',
          bucket: lake.rawBucket,
          prefixes: ['quarantine/clickstream'],
          actions: readWrite,
          namedBy: spark,
        }),
        prefixStatement(role, {
          sid: 'WriteReports',
          bucket: lake.artifactsBucket,
          prefixes: ['reports/reconciliation/sessionize_clickstream/'],
          actions: ['s3:GetObject', 's3:PutObject'],
          namedBy: 'the job (dt=<date>/<run id>.json)',
        }),
      ],
    });
  }

  private clickstreamDelivery(props: IngestionStackProps, bucket: s3.IBucket): firehose.CfnDeliveryStream {
    const env = props.config.name;
    const logGroup = new logs.LogGroup(this, 'ClickstreamDeliveryLogs', {
      logGroupName: `/aws/kinesisfirehose/clv-${env}-clickstream`,
      retention: props.config.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logStream = new logs.LogStream(this, 'ClickstreamDeliveryErrors', {
      logGroup,
      logStreamName: 'DestinationDelivery',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'ClickstreamDeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `Firehose clv-${env}-clickstream: reads the stream, transforms, writes the raw zone`,
    });
    const policy = new iam.Policy(this, 'ClickstreamDeliveryPolicy');
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadStream',
        actions: [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
          'kinesis:ListShards',
        ],
        resources: [this.clickstream.streamArn],
      }),
      new iam.PolicyStatement({
        sid: 'Bucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
      prefixStatement(policy, {
        sid: 'WriteRawClickstream',
        bucket,
        prefixes: ['landing/clickstream/', 'landing/clickstream-errors/'],
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        namedBy: 'Firehose (partition values, timestamps and random suffixes)',
      }),
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'Transform',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [this.transformFunction.functionArn],
      }),
      new iam.PolicyStatement({
        sid: 'ErrorLogs',
        actions: ['logs:PutLogEvents'],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    ];
    policy.addStatements(...statements);
    policy.attachToRole(role);

    const stream = new firehose.CfnDeliveryStream(this, 'ClickstreamDelivery', {
      deliveryStreamName: `clv-${env}-clickstream`,
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: this.clickstream.streamArn, roleArn: role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: CLICKSTREAM_PREFIX,
        errorOutputPrefix: CLICKSTREAM_ERROR_PREFIX,
        bufferingHints: {
          intervalInSeconds: props.config.clickstream.bufferIntervalSeconds,
          sizeInMBs: props.config.clickstream.bufferSizeMiB,
        },
        compressionFormat: 'GZIP',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: props.key.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'Lambda',
              parameters: [
                { parameterName: 'LambdaArn', parameterValue: this.transformFunction.functionArn },
                { parameterName: 'BufferSizeInMBs', parameterValue: '1' },
                { parameterName: 'BufferIntervalInSeconds', parameterValue: '60' },
                { parameterName: 'NumberOfRetries', parameterValue: '3' },
              ],
            },
          ],
        },
        s3BackupMode: 'Disabled',
      },
    });
    stream.node.addDependency(policy);
    acknowledgeNag(
      stream,
      'AwsSolutions-KDF1',
      'Server-side encryption of a delivery stream applies to Direct PUT only; this one reads a KMS-encrypted Kinesis stream and writes SSE-KMS objects with the platform key.',
    );
    return stream;
  }
}
