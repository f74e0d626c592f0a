/**
 * sql/features/{training,scoring}_set.sql on DuckDB over an offline-store Parquet fixture written here, in the
 * Feature Store layout (year=/month=/day=/hour= partitions, write_time, api_invocation_time, is_deleted).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureContract, featureNames, labelNames } from '../../lib/contracts/feature-contract.js';
import { toDuckDbSql } from '../../local/athena/compat.js';

const REPO = join(import.meta.dirname, '..', '..');
const sql = (name: string) => readFileSync(join(REPO, 'sql', 'features', name), 'utf8');
const DUCK_TYPE = { String: 'VARCHAR', Integral: 'BIGINT', Fractional: 'DOUBLE' } as const;

type Rec = {
  customer: string;
  cutoff: string;
  api: string; // api_invocation_time = write_time, UTC
  recency?: number; // a feature value that tells the versions apart
  labels?: boolean;
  deleted?: boolean;
};

// Cutoff 2024-01-01: a labelled snapshot (t1), a later unlabelled rerun (t2), a later labelled rerun of a only (t3),
// a delete marker for c (t4). Cutoff 2023-12-01: an older snapshot with customer d only there.
const RECORDS: Rec[] = [
  ...['a', 'b', 'c'].map((customer) => ({
    customer,
    cutoff: '2024-01-01',
    api: '2024-01-02 01:00:00',
    recency: 10,
    labels: true,
  })),
  ...['a', 'b', 'c'].map((customer) => ({ customer, cutoff: '2024-01-01', api: '2024-01-09 01:00:00', recency: 20 })),
  { customer: 'a', cutoff: '2024-01-01', api: '2024-01-10 01:00:00', recency: 30, labels: true },
  { customer: 'c', cutoff: '2024-01-01', api: '2024-01-11 01:00:00', deleted: true },
  ...['a', 'b', 'd'].map((customer) => ({
    customer,
    cutoff: '2023-12-01',
    api: '2023-12-02 01:00:00',
    recency: 99,
    labels: true,
  })),
];

function literal(type: 'String' | 'Integral' | 'Fractional', value: string | number | null): string {
  if (value === null) return `CAST(NULL AS ${DUCK_TYPE[type]})`;
  return type === 'String' ? `'${value}'` : `CAST(${value} AS ${DUCK_TYPE[type]})`;
}

function recordSql(r: Rec): string {
  const values = featureContract.features.map((f) => {
    if (r.deleted && f.name !== 'customer_id' && f.name !== 'event_time') return literal(f.type, null);
    switch (f.name) {
      case 'customer_id':
        return literal(f.type, r.customer);
      case 'event_time':
        return literal(f.type, `${r.cutoff}T00:00:00Z`);
      case 'cutoff_date':
        return literal(f.type, r.cutoff);
      case 'snapshot_id':
        return literal(f.type, `${r.cutoff.replaceAll('-', '')}-${r.labels ? 'l365-183' : 'nolabels'}-x`);
      case 'recency_days':
        return literal(f.type, r.recency ?? null);
      case 'label_revenue_12m':
        return literal(f.type, r.labels ? 123.5 : null);
      case 'label_churn_6m':
        return literal(f.type, r.labels ? 0 : null);
      default:
        return literal(f.type, f.type === 'String' ? 'x' : 1);
    }
  });
  const [y, m, d] = r.cutoff.split('-');
  return `SELECT ${values.map((v, i) => `${v} AS ${featureContract.features[i]?.name}`).join(', ')},
    TIMESTAMP '${r.api}' AS write_time, TIMESTAMP '${r.api}' AS api_invocation_time, ${r.deleted ? 'true' : 'false'} AS is_deleted,
    '${y}' AS year, '${m}' AS month, '${d}' AS day, '00' AS hour`;
}

let dir: string;
let instance: DuckDBInstance;
let conn: DuckDBConnection;

async function query(file: string, cutoff: string): Promise<Record<string, unknown>[]> {
  const prepared = await conn.prepare(sql(file));
  prepared.bindVarchar(1, cutoff);
  const result = await prepared.runAndReadAll();
  return result.getRowObjectsJS() as Record<string, unknown>[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offline-store-'));
  const data = join(dir, '000000000000/sagemaker/local/offline-store/clv-customer-features-1700000000/data');
  mkdirSync(join(data, '..'), { recursive: true });
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(`CREATE TABLE fixture AS ${RECORDS.map(recordSql).join('\nUNION ALL\n')}`);
  await conn.run(`COPY fixture TO '${data}' (FORMAT PARQUET, PARTITION_BY (year, month, day, hour))`);
  await conn.run(
    `CREATE VIEW customer_features_offline AS SELECT * FROM read_parquet('${dir}/*/sagemaker/*/offline-store/clv-customer-features-*/data/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
  );
});

afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sql/features on DuckDB', () => {
  it('the fixture has the offline-store layout', async () => {
    const parts = await conn.runAndReadAll(
      `SELECT DISTINCT year, month, day, hour FROM customer_features_offline ORDER BY year, month`,
    );
    expect(parts.getRowObjectsJS()).toEqual([
      { year: '2023', month: '12', day: '01', hour: '00' },
      { year: '2024', month: '01', day: '01', hour: '00' },
    ]);
  });

  it('training_set: one row per eligible customer, the latest labelled record, contract columns', async () => {
    const rows = await query('training_set.sql', '2024-01-01');
    expect(rows.map((r) => r.customer_id)).toEqual(['a', 'b']); // c deleted, d only at another cutoff
    expect(Object.keys(rows[0] ?? {})).toEqual(featureNames());
    const [a, b] = rows;
    expect(a?.recency_days).toBe(30n); // a: the t3 labelled rerun, the latest record
    expect(b?.recency_days).toBe(10n); // b's latest *labelled* record (t1), not the unlabelled t2
    for (const r of rows) {
      expect(r.label_revenue_12m).toBe(123.5);
      expect(r.label_churn_6m).toBe(0n);
      expect(r.event_time).toBe('2024-01-01T00:00:00Z');
    }
  });

  it('scoring_set: the latest non-deleted record per customer, without labels', async () => {
    const rows = await query('scoring_set.sql', '2024-01-01');
    expect(rows.map((r) => r.customer_id)).toEqual(['a', 'b']);
    expect(Object.keys(rows[0] ?? {})).toEqual(featureNames().filter((n) => !labelNames().includes(n)));
    expect(rows.map((r) => r.recency_days)).toEqual([30n, 20n]);
  });

  it('selects by cutoff only', async () => {
    const rows = await query('training_set.sql', '2023-12-01');
    expect(rows.map((r) => [r.customer_id, r.recency_days])).toEqual([
      ['a', 99n],
      ['b', 99n],
      ['d', 99n],
    ]);
    expect(await query('scoring_set.sql', '2022-01-01')).toEqual([]);
  });

  it('training_set stacks several cutoffs: one row per customer and cutoff, each picked within its own cutoff', async () => {
    const expected = [
      ['2023-12-01', 'a', 99n],
      ['2023-12-01', 'b', 99n],
      ['2023-12-01', 'd', 99n],
      ['2024-01-01', 'a', 30n],
      ['2024-01-01', 'b', 10n],
    ];
    // the JSON array text States.JsonToString writes (the ASL's ExecutionParameters) and a plain list
    for (const list of ['["2023-12-01","2024-01-01"]', '2024-01-01, 2023-12-01']) {
      const rows = await query('training_set.sql', list);
      expect(rows.map((r) => [r.cutoff_date, r.customer_id, r.recency_days])).toEqual(expected);
      for (const r of rows) expect(r.event_time).toBe(`${r.cutoff_date}T00:00:00Z`); // features as of the row's cutoff
    }
    // a list of one is the single-cutoff query; a listed cutoff without records adds nothing
    expect((await query('training_set.sql', '["2024-01-01"]')).map((r) => r.customer_id)).toEqual(['a', 'b']);
    expect((await query('training_set.sql', '["2024-01-01","2022-01-01"]')).map((r) => r.customer_id)).toEqual([
      'a',
      'b',
    ]);
  });

  it('rejects a cutoff that is not a date, also as one item of a list', async () => {
    await expect(query('training_set.sql', 'not-a-date')).rejects.toThrow(/date/i);
    await expect(query('training_set.sql', '["2024-01-01","2024-13-01"]')).rejects.toThrow(/date/i);
  });

  it('training_set runs through the local Athena compat layer with the ASL parameter literal', async () => {
    const duck = toDuckDbSql(sql('training_set.sql'), [`'["2023-12-01","2024-01-01"]'`]);
    const rows = (await conn.runAndReadAll(duck)).getRowObjectsJS();
    expect(rows.map((r) => `${r.cutoff_date}/${r.customer_id}`)).toEqual([
      '2023-12-01/a',
      '2023-12-01/b',
      '2023-12-01/d',
      '2024-01-01/a',
      '2024-01-01/b',
    ]);
  });
});
