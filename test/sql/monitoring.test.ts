/**
 * sql/monitoring/proxy_performance.sql and matured_cohort.sql through the local Athena engine over Parquet fixtures
 * (predictions, the batch-scoring rows of monitoring_metrics, silver transactions), against values worked out by
 * hand below: window boundaries, returns, the production run of a date (the one published last), Spearman with
 * ties, top decile vs bottom half, AOV and churn by tier, RMSE and the normalized Gini of the matured cohort.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { SQL_QUERIES } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import type { LakeTableLike } from '../../local/athena/catalog.js';
import { runAthenaQuery } from '../../local/athena/engine.js';
import { type FixtureRow, writeParquetTable } from './lake-fixture.js';

const table = (name: string): LakeTableLike => lakeTable(name) as unknown as LakeTableLike;
const TABLES = ['predictions', 'monitoring_metrics', 'silver_transactions'].map(table);

const R0 = '2024-01-07'; // previous window's run (M1)
const R1 = '2024-02-04'; // current window's run: M1 first, then a rerun by M2 published later (production = M2)
const R2 = '2024-03-03'; // a run too recent for the 30-day window of 2024-03-10

function prediction(date: string, model: string, customer: string, revenue: number, tier: string): FixtureRow {
  return {
    customer_id: customer,
    predicted_revenue_12m: revenue,
    churn_probability: 0.5,
    clv_score: 50,
    tier,
    reasons_method: 'none',
    scoring_date: date,
    model_version: model,
  };
}

const PREDICTIONS: FixtureRow[] = [
  // R0/M1: a 400 High, b 300 High, c 200 Medium, d 100 Low
  prediction(R0, 'clv-m1', 'a', 400, 'High'),
  prediction(R0, 'clv-m1', 'b', 300, 'High'),
  prediction(R0, 'clv-m1', 'c', 200, 'Medium'),
  prediction(R0, 'clv-m1', 'd', 100, 'Low'),
  // R1/M1: published first, superseded by the M2 rerun (must not be read)
  prediction(R1, 'clv-m1', 'a', 1, 'Low'),
  // R1/M2: the order reversed against what they spend
  prediction(R1, 'clv-m2', 'a', 100, 'Low'),
  prediction(R1, 'clv-m2', 'b', 200, 'Medium'),
  prediction(R1, 'clv-m2', 'c', 300, 'High'),
  prediction(R1, 'clv-m2', 'd', 400, 'High'),
  prediction(R2, 'clv-m2', 'a', 100, 'Low'),
];

function run(date: string, model: string, createdAt: string, pipeline = 'batch-scoring'): FixtureRow[] {
  return ['rows_scored', 'rows_rejected'].map((metric) => ({
    run_id: `run-${date}-${model}`,
    pipeline,
    model_version: model,
    metric,
    feature: null,
    value: metric === 'rows_scored' ? 4 : 0,
    details: '{}',
    created_at: createdAt,
    run_date: date,
  }));
}

const METRICS: FixtureRow[] = [
  ...run(R0, 'clv-m1', `${R0}T07:00:00Z`),
  ...run(R1, 'clv-m1', `${R1}T07:00:00Z`),
  ...run(R1, 'clv-m2', `${R1}T09:00:00Z`),
  ...run(R2, 'clv-m2', `${R2}T07:00:00Z`),
  // a shadow run's rows (another pipeline) never count as a production run
  ...run(R1, 'clv-m9', `${R1}T23:00:00Z`, 'shadow'),
];

let line = 0;
function tx(customer: string, ts: string, amount: number, o: Partial<FixtureRow> = {}): FixtureRow {
  line += 1;
  return {
    invoice_id: `inv-${line}`,
    customer_id: customer,
    invoice_ts: ts,
    sku: 'sku-1',
    quantity: amount >= 0 ? 1 : -1,
    unit_price: Math.abs(amount),
    amount,
    amount_raw: amount,
    is_cancellation: false,
    is_return: amount < 0,
    is_gift_card: false,
    is_non_product: false,
    is_outlier_capped: false,
    country: 'United Kingdom',
    dt: ts.slice(0, 10),
    ...o,
  };
}

// Windows of 30 days: R0 → [2024-01-07, 2024-02-06), R1 → [2024-02-04, 2024-03-05).
const TRANSACTIONS: FixtureRow[] = [
  // R0 window: a 100 (one order), b 50, c nothing, d 20 then a return of 5 (net 15, gross 20, one order)
  tx('a', '2024-01-07 00:00:00', 100), // the window's first instant: in
  tx('b', '2024-01-20 12:00:00', 50),
  tx('d', '2024-01-10 10:00:00', 20),
  tx('d', '2024-01-12 10:00:00', -5),
  tx('c', '2024-01-06 23:59:59', 999), // before the window
  tx('c', '2024-02-06 00:00:00', 999), // the window's end: out (also before R1: outside R1's window too? no: in it)
  tx('b', '2024-01-25 10:00:00', 70, { is_non_product: true }), // postage: never spend
  tx('e', '2024-01-25 10:00:00', 70), // a customer that was not scored: ignored
  // R1 window [2024-02-04, 2024-03-05): a 100, b 50, d 15 (c's 999 on 02-06 is in it: c 999)
  tx('a', '2024-02-10 10:00:00', 100),
  tx('b', '2024-02-11 10:00:00', 50),
  tx('d', '2024-03-04 23:59:59', 15),
  tx('a', '2024-03-05 00:00:00', 500), // R1 window's end: out
];

let root: string;

async function query(placeholder: string, parameters: string[]): Promise<Record<string, string | null>[]> {
  const file = SQL_QUERIES[placeholder];
  if (!file) throw new Error(`no query ${placeholder}`);
  const sql = readFileSync(join(repoRoot, file), 'utf8');
  const result = await runAthenaQuery({ sql, parameters, database: 'clv_test', root, tables: TABLES });
  return result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c.name, r[i] ?? null])));
}

const q = (s: string) => `'${s}'`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'monitoring-sql-'));
  await writeParquetTable(root, table('predictions'), PREDICTIONS);
  await writeParquetTable(root, table('monitoring_metrics'), METRICS);
  await writeParquetTable(root, table('silver_transactions'), TRANSACTIONS);
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Pearson correlation, for the expected values. */
function pearson(x: number[], y: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((xi, i) => {
    const yi = y[i] as number;
    sxy += (xi - mx) * (yi - my);
    sxx += (xi - mx) ** 2;
    syy += (yi - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('sql/monitoring/proxy_performance.sql', () => {
  let rows: Record<string, string | null>[];
  const value = (window: string, metric: string, segment = 'all') => {
    const r = rows.filter((x) => x.run_window === window && x.metric === metric && x.segment === segment);
    expect(r).toHaveLength(1);
    return r[0]?.value === null ? null : Number(r[0]?.value);
  };

  beforeAll(async () => {
    rows = await query('ProxyPerformanceQuery', [q('2024-02-10'), q('2024-01-10'), '30']);
  }, 60_000);

  it('judges the production run of each window: the latest on or before the date, published last', () => {
    const runs = new Set(rows.map((r) => `${r.run_window} ${r.scoring_date} ${r.model_version}`));
    expect([...runs].sort()).toEqual([`current ${R1} clv-m2`, `previous ${R0} clv-m1`]);
  });

  it('counts actual spend inside [scoring date, +30 days) only, net of returns, without non-product lines', () => {
    // R0: a 100 + b 50 + c 0 + d 15
    expect(value('previous', 'total_spend')).toBeCloseTo(165, 9);
    // R1: a 100 + b 50 + c 999 (2024-02-06 is inside R1's window) + d 15
    expect(value('current', 'total_spend')).toBeCloseTo(1164, 9);
    expect(value('previous', 'customers')).toBe(4);
  });

  it('Pearson and Spearman correlations', () => {
    // R0: predicted [400, 300, 200, 100], actual [100, 50, 0, 15]; ranks of actual [4, 3, 1, 2]:
    // Spearman = 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8
    expect(value('previous', 'spearman')).toBeCloseTo(0.8, 9);
    expect(value('previous', 'pearson')).toBeCloseTo(pearson([400, 300, 200, 100], [100, 50, 0, 15]), 9);
    // R1: predicted [100, 200, 300, 400], actual [100, 50, 999, 15]: ranks [3, 2, 4, 1] vs [1, 2, 3, 4]
    // Σd² = 4 + 0 + 1 + 9 = 14 → 1 − 6·14/60 = −0.4
    expect(value('current', 'spearman')).toBeCloseTo(-0.4, 9);
  });

  it('top decile against bottom half of the predicted order', () => {
    // R0: top decile = ceil(4/10) = 1 customer (a: 100); bottom half = positions 3, 4 (c 0, d 15) → 7.5
    expect(value('previous', 'top_decile_spend')).toBeCloseTo(100, 9);
    expect(value('previous', 'bottom_half_spend')).toBeCloseTo(7.5, 9);
  });

  it('AOV and 30-day churn by predicted tier', () => {
    // R0 High: a 100 + b 50 gross over 2 orders = 75, nobody churned; Medium: c bought nothing; Low: d 20 / 1 order
    expect(value('previous', 'aov', 'High')).toBeCloseTo(75, 9);
    expect(value('previous', 'churn_rate', 'High')).toBe(0);
    expect(value('previous', 'aov', 'Medium')).toBeNull();
    expect(value('previous', 'churn_rate', 'Medium')).toBe(1);
    expect(value('previous', 'aov', 'Low')).toBeCloseTo(20, 9);
    expect(value('previous', 'customers', 'High')).toBe(2);
  });

  it('returns no row for a window without a production run old enough', async () => {
    const none = await query('ProxyPerformanceQuery', [q('2023-12-31'), q('2023-12-01'), '30']);
    expect(none).toEqual([]);
  });
});

describe('sql/monitoring/matured_cohort.sql', () => {
  it('RMSE, MAE and the normalized Gini of the cohort against its actual revenue', async () => {
    const rows = await query('MaturedCohortQuery', [q('2024-01-10'), '30']);
    expect(rows).toHaveLength(1);
    const r = rows[0] as Record<string, string | null>;
    expect([r.scoring_date, r.model_version, Number(r.customers)]).toEqual([R0, 'clv-m1', 4]);
    // errors 300, 250, 200, 85
    expect(Number(r.rmse)).toBeCloseTo(Math.sqrt((300 ** 2 + 250 ** 2 + 200 ** 2 + 85 ** 2) / 4), 9);
    expect(Number(r.mae)).toBeCloseTo((300 + 250 + 200 + 85) / 4, 9);
    // Gain curve by prediction: cumulative 100, 150, 150, 165 of T = 165; area = Σ(C(i−1) + C(i)) / (2·T·n)
    // = 965 / 1320; by actual (perfect): 100, 150, 165, 165 → 995 / 1320. Gini = 2·area − 1.
    const gini = (2 * 965) / 1320 - 1;
    const perfect = (2 * 995) / 1320 - 1;
    expect(Number(r.gini_normalized)).toBeCloseTo(gini / perfect, 9);
  });

  it('returns no row when no production run is old enough', async () => {
    expect(await query('MaturedCohortQuery', [q('2023-06-01'), '365'])).toEqual([]);
  });
});
