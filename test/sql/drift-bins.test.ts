/**
 * sql/monitoring/drift_bins.sql on the local Athena engine over fixtures in the lake layout: a drift baseline CSV
 * per model (as drift_baseline.py writes it), the offline store at the scoring cutoff (reruns, a delete marker,
 * another cutoff) and predictions partitions of two model versions and two dates. The expected counts include
 * bin edges, the __other__ bin (a category unseen at training), the NULL bins, a feature constant at training and the
 * monitored population's boundary (recency 365 in, 366 out, never-buyers out).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftOfFeature, featureDrift } from '../../lambdas/drift/core.js';
import { binRowsFromResultSet } from '../../lambdas/drift/event.js';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { readSqlQuery, SQL_QUERIES } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { type LakeTableLike, tableDirectory } from '../../local/athena/catalog.js';
import { runAthenaQuery } from '../../local/athena/engine.js';
import { resultSet } from '../../local/athena/results.js';
import { tokenize } from '../../local/athena/sql-tokens.js';
import { type FixtureRow, writeParquetTable } from './lake-fixture.js';

const D = '2024-03-03';
const OTHER_DATE = '2024-02-25';
const M1 = 'clv-m1';
const M2 = 'clv-m2';
const table = (name: string): LakeTableLike => lakeTable(name) as unknown as LakeTableLike;
const TABLES = ['drift_baselines', 'customer_features_offline', 'predictions'].map(table);

// As drift_baseline.py writes it (pandas to_csv: NULL = empty field, open ends -1e+308 / 1e+308).
const BASELINE_M1 = `model_version,feature,kind,bin,lower,upper,category,baseline_count
${M1},recency_days,numeric,0,-1e+308,10.0,,40
${M1},recency_days,numeric,1,10.0,20.0,,30
${M1},recency_days,numeric,2,20.0,1e+308,,30
${M1},recency_days,numeric,3,,,,0
${M1},tenure_days,numeric,0,-1e+308,1e+308,,100
${M1},tenure_days,numeric,1,,,,0
${M1},predicted_revenue_12m,numeric,0,-1e+308,100.0,,50
${M1},predicted_revenue_12m,numeric,1,100.0,1e+308,,50
${M1},predicted_revenue_12m,numeric,2,,,,0
${M1},country,categorical,0,,,DE,30
${M1},country,categorical,1,,,GB,60
${M1},country,categorical,2,,,__other__,0
${M1},country,categorical,3,,,,10
`;
const BASELINE_M2 = `model_version,feature,kind,bin,lower,upper,category,baseline_count
${M2},recency_days,numeric,0,-1e+308,1e+308,,7
${M2},recency_days,numeric,1,,,,0
`;

interface Rec {
  recency_days?: number | null;
  tenure_days?: number | null;
  country?: string | null;
}

function record(customer_id: string, cutoff: string, api: string, rec: Rec, deleted = false): FixtureRow {
  const [year, month, day] = cutoff.split('-');
  return {
    customer_id,
    event_time: `${cutoff}T00:00:00Z`,
    cutoff_date: cutoff,
    recency_days: rec.recency_days ?? null,
    tenure_days: rec.tenure_days ?? null,
    country: rec.country ?? null,
    write_time: api,
    api_invocation_time: api,
    is_deleted: deleted,
    year: year as string,
    month: month as string,
    day: day as string,
    hour: '00',
  };
}

const T1 = '2024-03-04 01:00:00';
const T2 = '2024-03-05 01:00:00';
const FEATURES: FixtureRow[] = [
  record('a', D, T1, { recency_days: 5, tenure_days: 100, country: 'GB' }),
  record('b', D, T1, { recency_days: 10, tenure_days: 100, country: 'DE' }), // on the edge 10: bin [10, 20)
  record('c', D, T1, { recency_days: 3, tenure_days: 100, country: 'GB' }),
  record('c', D, T2, { recency_days: 25, tenure_days: 100, country: 'FR' }), // the later rerun wins; FR unseen
  record('d', D, T1, { recency_days: 2, tenure_days: null, country: null }), // NULL bins
  // the monitored population (decision 0035): a purchase at most 365 days before the cutoff
  record('h', D, T1, { recency_days: 366, tenure_days: 100, country: 'GB' }), // lapsed a day too long: out
  record('i', D, T1, { recency_days: 365, tenure_days: 100, country: 'GB' }), // on the boundary: in
  record('j', D, T1, { recency_days: null, tenure_days: 100, country: 'GB' }), // never bought: out
  record('e', D, T1, { recency_days: 15, tenure_days: 100, country: ' ' }), // blank country: NULL
  record('f', D, T1, { recency_days: 1, tenure_days: 100, country: 'GB' }),
  record('f', D, T2, { recency_days: 1, tenure_days: 100, country: 'GB' }, true), // erased since: not scored
  record('g', OTHER_DATE, T1, { recency_days: 1, tenure_days: 1, country: 'GB' }), // another cutoff
];

function prediction(customer_id: string, revenue: number, date: string, model: string): FixtureRow {
  return {
    customer_id,
    predicted_revenue_12m: revenue,
    churn_probability: 0.5,
    clv_score: 50,
    tier: 'Low',
    reasons_method: 'none',
    scoring_date: date,
    model_version: model,
  };
}

const PREDICTIONS: FixtureRow[] = [
  prediction('a', 50, D, M1),
  prediction('b', 150, D, M1),
  prediction('c', 100, D, M1), // on the edge 100: bin [100, inf)
  prediction('d', 99.9, D, M1),
  prediction('h', 500, D, M1), // outside the monitored population: not read
  prediction('i', 120, D, M1),
  prediction('j', 5, D, M1), // outside the monitored population: not read
  prediction('e', 0, D, M2), // another model version: not read
  prediction('a', 1e6, OTHER_DATE, M1), // another date: not read
];

let root: string;

async function driftBins(parameters: string[]) {
  return runAthenaQuery({
    sql: readSqlQuery('DriftBinsQuery'),
    parameters,
    database: 'clv_test',
    root,
    tables: TABLES,
  });
}

const q = (s: string) => `'${s}'`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'drift-sql-'));
  const dir = tableDirectory(table('drift_baselines'), root);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${M1}.csv`), BASELINE_M1);
  writeFileSync(join(dir, `${M2}.csv`), BASELINE_M2);
  await writeParquetTable(root, table('customer_features_offline'), FEATURES);
  await writeParquetTable(root, table('predictions'), PREDICTIONS);
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('sql/monitoring/drift_bins.sql', () => {
  it('is declared as DriftBinsQuery and takes three positional parameters', () => {
    expect(SQL_QUERIES.DriftBinsQuery).toBe('sql/monitoring/drift_bins.sql');
    const sql = readFileSync(join(repoRoot, 'sql/monitoring/drift_bins.sql'), 'utf8');
    expect(tokenize(sql).filter((t) => t.kind === 'param')).toHaveLength(3);
    expect(sql).toMatch(/^-- Parameters: /m);
  });

  it('counts the current run in the baseline bins: edges, __other__, NULL bins, a constant feature', async () => {
    const result = await driftBins([q(M1), q(D), q(M1)]);
    expect(result.columns.map((c) => [c.name, c.type])).toEqual([
      ['feature', 'varchar'],
      ['kind', 'varchar'],
      ['bin', 'integer'],
      ['lower', 'double'],
      ['upper', 'double'],
      ['category', 'varchar'],
      ['baseline_count', 'bigint'],
      ['current_count', 'bigint'],
    ]);
    const rows = result.rows.map(([feature, , bin, , , category, baseline, current]) => [
      feature,
      bin,
      category,
      baseline,
      current,
    ]);
    expect(rows).toEqual([
      // a GB, i GB, b DE, c FR (unseen: __other__), d NULL and e blank (NULL bin); f erased, g another cutoff,
      // h (recency 366) and j (never bought) outside the monitored population
      ['country', '0', 'DE', '30', '1'],
      ['country', '1', 'GB', '60', '2'],
      ['country', '2', '__other__', '0', '1'],
      ['country', '3', null, '10', '2'],
      // a 50, d 99.9 | b 150, c 100 (edge: upper bin), i 120; the M2, other-date, h and j predictions are not read
      ['predicted_revenue_12m', '0', null, '50', '2'],
      ['predicted_revenue_12m', '1', null, '50', '3'],
      ['predicted_revenue_12m', '2', null, '0', '0'],
      // a 5, d 2 | b 10 (edge), e 15 | c 25 (the rerun), i 365; no NULL recency in the monitored population
      ['recency_days', '0', null, '40', '2'],
      ['recency_days', '1', null, '30', '2'],
      ['recency_days', '2', null, '30', '2'],
      ['recency_days', '3', null, '0', '0'],
      // constant at training: one bin; d NULL
      ['tenure_days', '0', null, '100', '5'],
      ['tenure_days', '1', null, '0', '1'],
    ]);
    // the open ends and the NULL bin's range
    const recency = result.rows.filter((r) => r[0] === 'recency_days').map((r) => [r[3], r[4]]);
    expect(recency.map(([lo, hi]) => [lo === null ? null : Number(lo), hi === null ? null : Number(hi)])).toEqual([
      [-1e308, 10],
      [10, 20],
      [20, 1e308],
      [null, null],
    ]);
  });

  it('the result set feeds the drift core (header row first, as athena:getQueryResults returns it)', async () => {
    const result = await driftBins([q(M1), q(D), q(M1)]);
    const bins = binRowsFromResultSet(resultSet(result.columns, result.rows, true) as never);
    const drift = featureDrift(bins, { psi_low: 0.1, psi_medium: 0.25 });
    expect(Object.keys(drift).sort()).toEqual(['country', 'predicted_revenue_12m', 'recency_days', 'tenure_days']);
    expect(drift.country?.current_total).toBe(6);
    expect(drift.predicted_revenue_12m?.current_total).toBe(5);
    expect(drift.tenure_days?.ks).toBe(0);
    expect(
      driftOfFeature(
        'country',
        bins.filter((b) => b.feature === 'country'),
        { psi_low: 0.1, psi_medium: 0.25 },
      ).chi_square,
    ).toBeGreaterThan(0);
  });

  it('reads only the given model version; a model without a baseline gives no rows', async () => {
    const m2 = await driftBins([q(M2), q(D), q(M2)]);
    // M2's baseline: recency_days only; the monitored population at D is the same (6 customers)
    expect(m2.rows.map((r) => [r[0], r[2], r[6], r[7]])).toEqual([
      ['recency_days', '0', '7', '6'],
      ['recency_days', '1', '0', '0'],
    ]);
    expect((await driftBins([q('clv-none'), q(D), q('clv-none')])).rows).toEqual([]);
  });

  it('a date without feature records counts 0 everywhere; a value that is not a date fails', async () => {
    const none = await driftBins([q(M1), q('2024-01-01'), q(M1)]);
    expect(none.rows).toHaveLength(13);
    expect(none.rows.every((r) => r[7] === '0')).toBe(true);
    await expect(driftBins([q(M1), q('2024-13-01'), q(M1)])).rejects.toThrow(/2024-13-01/);
  });
});
