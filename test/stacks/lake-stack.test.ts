import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { LAKE_TABLES } from '../../lib/contracts/lake-tables.js';
import { ANALYTICS_QUERIES } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { sqlFiles } from '../../lib/stacks/lake-stack.js';
import { synthTemplates } from './templates.js';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

const ZONES = ['raw', 'curated', 'gold', 'features', 'artifacts', 'athena-results'] as const;
const VERSIONED = new Set(['raw', 'curated', 'gold', 'features', 'artifacts']);

let prod: Template;
let dev: Template;
const prodConfig = loadEnvironmentConfig('prod');

function buckets(template: Template): Record<string, Resource> {
  return template.findResources('AWS::S3::Bucket') as Record<string, Resource>;
}
/** The zone bucket: its name is clv-<env>-<zone>-<account>-<region>. */
function zoneBucket(template: Template, env: string, zone: string): [string, Resource] {
  const found = Object.entries(buckets(template)).filter(([, r]) =>
    JSON.stringify(r.Properties.BucketName ?? '').includes(`"clv-${env}-${zone}-"`),
  );
  expect(found, `bucket of zone ${zone}`).toHaveLength(1);
  return found[0] as [string, Resource];
}
function keyId(template: Template): string {
  const keys = Object.keys(template.findResources('AWS::KMS::Key'));
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

beforeAll(() => {
  prod = synthTemplates('prod').lake;
  dev = synthTemplates('dev').lake;
});

describe('Lake stack: KMS key', () => {
  it('has one customer-managed key with rotation, retained in prod and destroyed in dev', () => {
    prod.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    dev.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });
});

describe('Lake stack: bucket security baseline', () => {
  it.each(ZONES)('%s: SSE-KMS with the platform key and a bucket key', (zone) => {
    const [, bucket] = zoneBucket(prod, 'prod', zone);
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId(prod), 'Arn'] },
          },
        },
      ],
    });
  });

  it.each(ZONES)('%s: public access blocked, access logs to the logs bucket, ownership enforced', (zone) => {
    const [, bucket] = zoneBucket(prod, 'prod', zone);
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.LoggingConfiguration).toMatchObject({
      DestinationBucketName: { Ref: expect.stringMatching(/^AccessLogs/) },
      LogFilePrefix: expect.stringMatching(/\/$/),
    });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  it.each(ZONES)('%s: the bucket policy denies requests without TLS (and below TLS 1.2)', (zone) => {
    const [id] = zoneBucket(prod, 'prod', zone);
    prod.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it.each(ZONES)('%s: versioned exactly when its data must not be lost; retained in prod', (zone) => {
    const [, bucket] = zoneBucket(prod, 'prod', zone);
    if (VERSIONED.has(zone)) expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    else expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(zoneBucket(dev, 'dev', zone)[1].DeletionPolicy).toBe('Delete');
  });

  it('the access-logs bucket is SSE-S3 (log delivery cannot use KMS), private, TLS-only and expires logs', () => {
    const logs = Object.entries(buckets(prod)).filter(([id]) => id.startsWith('AccessLogs'));
    expect(logs).toHaveLength(1);
    const [id, bucket] = logs[0] as [string, Resource];
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        { Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: prodConfig.lake.accessLogsExpirationDays },
      ],
    });
    prod.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('Lake stack: lifecycle rules from config', () => {
  const rules = (zone: string) =>
    ((zoneBucket(prod, 'prod', zone)[1].Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] })
      .Rules ?? []) as Record<string, unknown>[];

  it('raw moves to Standard-IA, expires quarantined rows and old versions', () => {
    expect(rules('raw')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'raw-to-infrequent-access',
          Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: prodConfig.lake.rawToInfrequentAccessDays }],
        }),
        expect.objectContaining({
          Id: 'expire-quarantine',
          Prefix: 'quarantine/',
          ExpirationInDays: prodConfig.lake.quarantineExpirationDays,
        }),
        expect.objectContaining({
          Id: 'expire-noncurrent-versions',
          NoncurrentVersionExpiration: { NoncurrentDays: prodConfig.lake.noncurrentVersionExpirationDays },
        }),
      ]),
    );
  });

  it.each(['curated', 'gold', 'features', 'artifacts'])('%s expires old versions', (zone) => {
    expect(rules(zone)).toEqual([
      expect.objectContaining({
        Id: 'expire-noncurrent-versions',
        NoncurrentVersionExpiration: { NoncurrentDays: prodConfig.lake.noncurrentVersionExpirationDays },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      }),
    ]);
  });

  it('Athena results expire', () => {
    expect(rules('athena-results')).toEqual([
      expect.objectContaining({
        Id: 'expire-athena-results',
        ExpirationInDays: prodConfig.lake.athenaResultsExpirationDays,
      }),
    ]);
  });
});

describe('Lake stack: catalog and Athena', () => {
  it('has one Glue database per environment', () => {
    prod.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'clv_prod' } });
    dev.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'clv_dev' } });
  });

  it('declares one Glue table per lake table, at its zone bucket and prefix', () => {
    const tables = Object.values(prod.findResources('AWS::Glue::Table')) as Resource[];
    expect(tables.map((t) => (t.Properties.TableInput as { Name: string }).Name).sort()).toEqual(
      LAKE_TABLES.map((t) => t.name).sort(),
    );
    for (const table of LAKE_TABLES) {
      const input = tables.find((t) => (t.Properties.TableInput as { Name: string }).Name === table.name)?.Properties
        .TableInput as { StorageDescriptor: { Location: unknown; Columns: unknown[] }; PartitionKeys: unknown[] };
      const [bucketId] = zoneBucket(prod, 'prod', table.zone);
      expect(input.StorageDescriptor.Location, table.name).toEqual({
        'Fn::Join': ['', ['s3://', { Ref: bucketId }, `/${table.prefix}/`]],
      });
      expect(input.StorageDescriptor.Columns).toHaveLength(table.columns.length);
      expect(input.PartitionKeys).toHaveLength(table.partitionKeys.length);
    }
  });

  it('projects daily dt partitions instead of cataloguing them', () => {
    prod.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'silver_transactions',
        PartitionKeys: [Match.objectLike({ Name: 'dt', Type: 'string' })],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2009-01-01,NOW',
          'storage.location.template': Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/silver/transactions/dt=\\$\\{dt\\}/$')])],
          }),
        }),
      },
    });
  });

  it('leaves the offline-store table to partitions the feature job registers (hourly, no projection)', () => {
    const table = (Object.values(prod.findResources('AWS::Glue::Table')) as Resource[]).find(
      (t) => (t.Properties.TableInput as { Name: string }).Name === 'customer_features_offline',
    );
    const input = table?.Properties.TableInput as { Parameters: Record<string, unknown>; PartitionKeys: unknown[] };
    expect(input.Parameters['projection.enabled']).toBeUndefined();
    expect(input.PartitionKeys).toEqual(['year', 'month', 'day', 'hour'].map((Name) => ({ Name, Type: 'string' })));
  });

  it('has an Athena workgroup that enforces KMS-encrypted results and the bytes-scanned cutoff', () => {
    prod.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'clv-prod',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: prodConfig.lake.athenaBytesScannedCutoff,
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [keyId(prod), 'Arn'] } },
          OutputLocation: Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/results/$')])],
          }),
        },
      },
    });
    dev.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        BytesScannedCutoffPerQuery: loadEnvironmentConfig('dev').lake.athenaBytesScannedCutoff,
      }),
    });
  });

  it('ships every sql/ file as a named query in the workgroup', () => {
    const files = sqlFiles();
    expect(files).toContain('sql/quality/aggregates.sql');
    prod.resourceCountIs('AWS::Athena::NamedQuery', files.length);
    prod.hasResourceProperties('AWS::Athena::NamedQuery', {
      Name: 'clv-quality-aggregates',
      Database: 'clv_prod',
      WorkGroup: 'clv-prod',
      QueryString: Match.stringLikeRegexp('FROM silver_transactions'),
    });
  });

  it("ships the analysts' queries of sql/analytics/ as named queries, described with their parameters", () => {
    const names = Object.keys(ANALYTICS_QUERIES);
    expect(names).toEqual([
      'scoring_runs',
      'top_customers_by_clv',
      'clv_churn_by_segment',
      'week_over_week_movers',
      'tier_migration_matrix',
    ]);
    const queries = Object.values(
      prod.findResources('AWS::Athena::NamedQuery') as Record<string, { Properties: Record<string, string> }>,
    ).map((r) => r.Properties);
    for (const [name, spec] of Object.entries(ANALYTICS_QUERIES)) {
      const found = queries.filter((q) => q.Name === `clv-analytics-${name}`);
      expect(found, name).toHaveLength(1);
      const q = found[0] as Record<string, string>;
      expect(q.Database).toBe('clv_prod');
      expect(q.WorkGroup).toBe('clv-prod');
      expect(q.QueryString).toBe(readFileSync(join(repoRoot, spec.file), 'utf8'));
      expect(q.Description).toContain(spec.summary);
      expect(q.Description).toContain(`Source: ${spec.file}.`);
      expect(q.Description?.length).toBeLessThanOrEqual(1024);
    }
    dev.hasResourceProperties('AWS::Athena::NamedQuery', {
      Name: 'clv-analytics-tier_migration_matrix',
      Database: 'clv_dev',
      WorkGroup: 'clv-dev',
      Description: Match.stringLikeRegexp("1\\) date A 'YYYY-MM-DD'"),
    });
  });
});
