import * as fs from 'node:fs';
import * as path from 'node:path';
import { type App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as assets from 'aws-cdk-lib/aws-s3-assets';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { CLICKSTREAM_ERROR_PREFIX, CLICKSTREAM_PREFIX } from '../../lib/stacks/ingestion-stack.js';
import { asArray, type PlatformTemplates, policyStatements, synthTemplates } from './templates.js';

let t: PlatformTemplates;
let ing: Template;
const config = loadEnvironmentConfig('prod');

const importedKeyArn = Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('PlatformKey') });
type Res = { Properties: Record<string, unknown> };
const one = (template: Template, type: string, props: Record<string, unknown> = {}): [string, Res] => {
  const found = Object.entries(template.findResources(type, { Properties: props })) as [string, Res][];
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Res];
};
const jobs = () => Object.values(ing.findResources('AWS::Glue::Job')) as Res[];

beforeAll(() => {
  t = synthTemplates('prod');
  ing = t.ingestion;
});

describe('Ingestion: clickstream stream and Firehose', () => {
  it('the Kinesis stream is on-demand and encrypted with the platform key', () => {
    ing.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'clv-prod-clickstream',
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: importedKeyArn },
    });
  });

  it('Firehose reads the stream and writes gzip, SSE-KMS, dynamically partitioned objects to the raw zone', () => {
    const [, stream] = one(ing, 'AWS::KinesisFirehose::DeliveryStream');
    const p = stream.Properties;
    expect(p.DeliveryStreamType).toBe('KinesisStreamAsSource');
    const dest = p.ExtendedS3DestinationConfiguration as Record<string, unknown>;
    expect(dest.Prefix).toBe(CLICKSTREAM_PREFIX);
    expect(dest.Prefix).toContain('dt=!{partitionKeyFromLambda:event_date}/hour=!{partitionKeyFromLambda:event_hour}/');
    expect(dest.ErrorOutputPrefix).toBe(CLICKSTREAM_ERROR_PREFIX);
    expect(dest.ErrorOutputPrefix).toContain('!{firehose:error-output-type}');
    expect(dest.CompressionFormat).toBe('GZIP');
    expect(JSON.stringify(dest.BucketARN)).toContain('clv-prod-raw-');
    expect(dest.EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: expect.anything() } });
    expect(JSON.stringify(dest.EncryptionConfiguration)).toContain('PlatformKey');
    expect(dest.DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
    expect((dest.BufferingHints as { SizeInMBs: number }).SizeInMBs).toBeGreaterThanOrEqual(64);
    expect(dest.CloudWatchLoggingOptions).toMatchObject({ Enabled: true });
  });

  it('Firehose runs the clickstream-transform Lambda on every record', () => {
    const [fnId] = one(ing, 'AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'clickstream-transform' }) },
    });
    const [, stream] = one(ing, 'AWS::KinesisFirehose::DeliveryStream');
    const processors = (
      (stream.Properties.ExtendedS3DestinationConfiguration as Record<string, unknown>).ProcessingConfiguration as {
        Enabled: boolean;
        Processors: { Type: string; Parameters: { ParameterName: string; ParameterValue: unknown }[] }[];
      }
    ).Processors;
    expect(processors).toHaveLength(1);
    expect(processors[0]?.Type).toBe('Lambda');
    expect(processors[0]?.Parameters).toContainEqual({
      ParameterName: 'LambdaArn',
      ParameterValue: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
  });

  it('the transform Lambda is the team function: latest Node.js, ARM64, X-Ray, KMS-encrypted environment', () => {
    ing.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      KmsKeyArn: importedKeyArn,
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'clickstream-transform', CLV_ENVIRONMENT: 'prod' }),
      },
    });
  });

  it('the Firehose role reads only its stream, invokes only its Lambda and writes only the clickstream prefixes', () => {
    const statements = policyStatements(ing).filter((s) => s.policy.startsWith('ClickstreamDeliveryPolicy'));
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(
      ['Bucket', 'ErrorLogs', 'PlatformKey', 'ReadStream', 'Transform', 'WriteRawClickstream'].sort(),
    );
    expect(bySid.ReadStream?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Clickstream/), 'Arn'] });
    const writes = asArray(bySid.WriteRawClickstream?.Resource).map((r) => JSON.stringify(r));
    expect(writes).toHaveLength(2);
    expect(writes.some((w) => w.endsWith('-eu-west-1/landing/clickstream/*"]]}'))).toBe(true);
    expect(writes.some((w) => w.endsWith('-eu-west-1/landing/clickstream-errors/*"]]}'))).toBe(true);
  });
});

describe('Ingestion: Glue jobs', () => {
  it('runs ingest_transactions and sessionize_clickstream on Glue 5.0 with the stack security configuration', () => {
    const [secId, sec] = one(ing, 'AWS::Glue::SecurityConfiguration');
    expect(sec.Properties.EncryptionConfiguration).toEqual({
      S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: expect.anything() }],
      CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: expect.anything() },
      JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: expect.anything() },
    });
    expect(
      jobs()
        .map((j) => j.Properties.Name)
        .sort(),
    ).toEqual(['clv-prod-ingest-transactions', 'clv-prod-sessionize-clickstream']);
    for (const job of jobs()) {
      expect(job.Properties).toMatchObject({
        GlueVersion: '5.0',
        Command: { Name: 'glueetl', PythonVersion: '3' },
        SecurityConfiguration: { Ref: secId },
        WorkerType: config.glue.workerType,
        NumberOfWorkers: config.glue.numberOfWorkers,
        Timeout: config.glue.timeoutMinutes,
        MaxRetries: 0,
      });
      const args = job.Properties.DefaultArguments as Record<string, unknown>;
      expect(JSON.stringify(args['--extra-py-files'])).toMatch(/\.zip"/);
      expect(JSON.stringify(args['--extra-files'])).toContain('/glue/contracts/transactions-layouts.json');
      expect(args['--job-bookmark-option']).toBe('job-bookmark-disable');
    }
  });

  it('gives each job its own role, assumed by Glue only', () => {
    const roles = jobs().map((j) => JSON.stringify(j.Properties.Role));
    expect(new Set(roles).size).toBe(2);
    for (const job of jobs()) {
      const roleId = (job.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      ing.hasResource('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [Match.objectLike({ Principal: { Service: 'glue.amazonaws.com' } })],
          },
        },
      });
      expect(ing.findResources('AWS::IAM::Role')[roleId]).toBeDefined();
    }
  });

  it('keeps the PII salt in Secrets Manager (generated, KMS) and gives it to the ingest job only', () => {
    const [secretId] = one(ing, 'AWS::SecretsManager::Secret', {
      KmsKeyId: importedKeyArn,
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
    const ingest = jobs().find((j) => j.Properties.Name === 'clv-prod-ingest-transactions');
    const ingestArgs = (ingest?.Properties.DefaultArguments ?? {}) as Record<string, unknown>;
    expect(ingestArgs['--pii-salt-secret']).toEqual({
      Ref: secretId,
    });
    const readers = policyStatements(ing).filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(readers).toHaveLength(1);
    expect(readers[0]?.Resource).toEqual({ Ref: secretId });
    expect(readers[0]?.policy).toMatch(/^IngestTransactionsRole/);
  });

  it('lets the ingest job write silver transactions/customers and quarantine, but not sessions', () => {
    const resources = policyStatements(ing)
      .filter((s) => s.policy.startsWith('IngestTransactionsRole'))
      .flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)));
    expect(resources.some((r) => r.includes('/silver/transactions*'))).toBe(true);
    expect(resources.some((r) => r.includes('/quarantine/transactions*'))).toBe(true);
    // The customers extract (--dataset customers, the data pipeline's IngestCustomers) runs as the same job.
    for (const prefix of [
      '/landing/customers/*',
      '/silver/customers*',
      '/quarantine/customers*',
      '/reports/reconciliation/ingest_customers/*',
    ]) {
      expect(
        resources.some((r) => r.includes(prefix)),
        prefix,
      ).toBe(true);
    }
    expect(resources.some((r) => r.includes('/silver/sessions'))).toBe(false);
    expect(resources.some((r) => r.includes('/landing/clickstream'))).toBe(false);
  });
});

describe('Ingestion: the clv_glue package asset', () => {
  it('holds the clv_glue package only (no tests, job entries or caches), at the zip root', () => {
    const asset = t.platform.ingestion.node.findChild('ClvGluePackage') as assets.Asset;
    const outdir = (Stack.of(asset).node.root as App).outdir;
    const root = path.join(outdir, asset.assetPath);
    const files = (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((f) => fs.statSync(path.join(root, f)).isFile())
      .map((f) => f.split(path.sep).join('/'));
    expect(files).toContain('clv_glue/__init__.py');
    expect(files).toContain('clv_glue/features/feature_contract.json');
    expect(files.every((f) => f.startsWith('clv_glue/'))).toBe(true);
    expect(files.some((f) => f.includes('__pycache__') || f.endsWith('.pyc'))).toBe(false);
  });
});
