/**
 * sql/analytics/*.sql through the local Athena engine (local/athena/engine.ts: the Trino → DuckDB compat layer and
 * one view per lake table) over Parquet fixtures written here in the lake layout: gold predictions partitions
 * (scoring_date=/model_version=) for four scoring dates and three model versions, the feature offline store
 * (year=/month=/day=/hour=) and the batch-scoring rows of monitoring_metrics.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { ANALYTICS_QUERIES, namedQueryDescription } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { sqlFiles } from '../../lib/stacks/lake-stack.js';
import type { LakeTableLike } from '../../local/athena/catalog.js';
import { runAthenaQuery } from '../../local/athena/engine.js';
import { tokenize } from '../../local/athena/sql-tokens.js';
import { type FixtureRow, writeParquetTable } from './lake-fixture.js';

const D1 = '2024-01-07';
const D2 = '2024-01-14';
const D3 = '2024-01-21';
const D4 = '2024-01-28';
const M1 = 'clv-m1'; // scored D1, D2, D3
const M2 = 'clv-m2'; // promoted: rescored D3, scored D4
const M3 = 'clv-m3'; // scored D4 only

const table = (name: string): LakeTableLike => lakeTable(name) as unknown as LakeTableLike;
const TABLES = ['predictions', 'customer_features_offline', 'monitoring_metrics'].map(table);

type Pred = [customer: string, tier: string, clv: number, revenue?: number, churn?: number];

function predictionRows(date: string, model: string, preds: Pred[]): FixtureRow[] {
  return preds.map(([customer_id, tier, clv, revenue, churn]) => ({
    customer_id,
    tier,
    clv_score: clv,
    predicted_revenue_12m: revenue ?? clv * 2,
    churn_probability: churn ?? 0.5,
    reason_1_feature: 'recency_days',
    reason_1_contribution: 0.5,
    reason_2_feature: 'spend_365d',
    reason_2_contribution: 0.25,
    reason_3_feature: 'tenure_days',
    reason_3_contribution: -0.125,
    reasons_method: 'tree_shap',
    scoring_date: date,
    model_version: model,
  }));
}

const PREDICTIONS: FixtureRow[] = [
  ...predictionRows(D1, M1, [
    ['a', 'High', 300],
    ['b', 'High', 320],
    ['z', 'Platinum', 9999], // a tier value outside High/Medium/Low; the top score of all, but not the latest date
  ]),
  ...predictionRows(D2, M1, [
    ['a', 'High', 400],
    ['b', 'High', 350],
    ['c', 'Medium', 200],
    ['d', 'Medium', 120],
    ['e', 'Low', 0],
    ['g', 'Low', 80], // gone at D3
  ]),
  ...predictionRows(D3, M1, [
    ['a', 'High', 500, 1000, 0.125],
    ['b', 'Medium', 300, 600, 0.25], // ties with c
    ['c', 'High', 300, 650, 0.5],
    ['d', 'Medium', 120, 200, 0.75],
    ['e', 'Low', 40, 50, 0.5],
    ['f', 'Low', 10, 20, 0.875], // new at D3
  ]),
  // a rerun of D3 by the promoted model: the M1 queries must not see it
  ...predictionRows(D3, M2, [
    ['a', 'Low', 1, 2, 0.25],
    ['y', 'High', 777, 1500, 0.125],
  ]),
  ...predictionRows(D4, M2, [['y', 'High', 800, 1600, 0.125]]),
  ...predictionRows(D4, M3, [['q', 'Medium', 55]]),
];

/** One offline-store record: the attributes of a customer at a cutoff (every other feature NULL). */
function feature(customer_id: string, cutoff: string, country: string, channel: string, api: string, deleted = false) {
  const [year, month, day] = cutoff.split('-');
  return {
    customer_id,
    event_time: `${cutoff}T00:00:00Z`,
    cutoff_date: cutoff,
    country,
    acquisition_channel: channel,
    write_time: api,
    api_invocation_time: api,
    is_deleted: deleted,
    year: year as string,
    month: month as string,
    day: day as string,
    hour: '00',
  };
}

const FEATURES: FixtureRow[] = [
  feature('a', D3, 'GB', 'organic', '2024-01-22 01:00:00'),
  feature('b', D3, 'GB', 'organic', '2024-01-22 01:00:00'),
  feature('c', D3, 'DE', 'organic', '2024-01-22 01:00:00'),
  feature('c', D3, 'GB', 'paid_search', '2024-01-23 01:00:00'), // a later rerun of the snapshot wins
  feature('d', D3, 'DE', 'referral', '2024-01-22 01:00:00'),
  feature('e', D3, 'GB', 'organic', '2024-01-22 01:00:00'),
  feature('e', D3, 'GB', 'organic', '2024-01-24 01:00:00', true), // erased since: unknown
  // f has no record at D3: unknown
  feature('a', D2, 'FR', 'email', '2024-01-15 01:00:00'), // another cutoff: ignored
];

function metric(date: string, model: string, run: string, at: string, name: string, value: number, pipeline?: string) {
  return {
    run_id: run,
    pipeline: pipeline ?? 'batch-scoring',
    model_version: model,
    metric: name,
    feature: null,
    value,
    details: JSON.stringify({ scoring_date: date }),
    created_at: at,
    run_date: date,
  };
}

const run = (date: string, model: string, id: string, at: string, scored: number, rejected: number) => [
  metric(date, model, id, at, 'rows_scored', scored),
  metric(date, model, id, at, 'rows_rejected', rejected),
  metric(date, model, id, at, 'clv_mean', 123.5),
];

const METRICS: FixtureRow[] = [
  ...run(D2, M1, 'run-d2', '2024-01-15T06:10:00Z', 6, 0),
  ...run(D3, M1, 'run-d3', '2024-01-22T06:10:00Z', 6, 1),
  ...run(D3, M2, 'run-d3-rerun', '2024-01-22T09:00:00Z', 2, 0),
  ...run(D4, M2, 'run-d4', '2024-01-29T06:10:00Z', 1, 0),
  metric(D4, M2, 'monitoring-d4', '2024-01-29T07:00:00Z', 'rows_scored', 999, 'monitoring'), // not a scoring run
];

let root: string;

async function query(name: string, parameters: string[]): Promise<Record<string, string | null>[]> {
  const spec = ANALYTICS_QUERIES[name];
  if (!spec) throw new Error(`no analytics query ${name}`);
  const sql = readFileSync(join(repoRoot, spec.file), 'utf8');
  const result = await runAthenaQuery({ sql, parameters, database: 'clv_test', root, tables: TABLES });
  return result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c.name, r[i] ?? null])));
}

const pick = (rows: Record<string, string | null>[], ...cols: string[]) => rows.map((r) => cols.map((c) => r[c]));
const q = (s: string) => `'${s}'`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'analytics-sql-'));
  await writeParquetTable(root, table('predictions'), PREDICTIONS);
  await writeParquetTable(root, table('customer_features_offline'), FEATURES);
  await writeParquetTable(root, table('monitoring_metrics'), METRICS);
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('sql/analytics: declarations', () => {
  const files = sqlFiles().filter((f) => f.startsWith('sql/analytics/'));

  it('every file of sql/analytics/ is declared in ANALYTICS_QUERIES, and every declaration has its file', () => {
    expect(files).toEqual(
      Object.values(ANALYTICS_QUERIES)
        .map((q) => q.file)
        .sort(),
    );
    for (const [name, spec] of Object.entries(ANALYTICS_QUERIES)) {
      expect(spec.file).toBe(`sql/analytics/${name}.sql`);
    }
  });

  it.each(Object.entries(ANALYTICS_QUERIES))('%s: its ? count equals its declared parameters', (_, spec) => {
    const sql = readFileSync(join(repoRoot, spec.file), 'utf8');
    expect(tokenize(sql).filter((t) => t.kind === 'param')).toHaveLength(spec.parameters.length);
    expect(sql).toMatch(/^-- Parameters: /m);
  });

  it('a named query description carries the summary and numbered parameters, within 1024 characters', () => {
    const d = namedQueryDescription('sql/analytics/tier_migration_matrix.sql');
    expect(d).toContain('1) date A');
    expect(d).toContain('4) the model version that scored B');
    expect(namedQueryDescription('sql/analytics/scoring_runs.sql')).toContain('execution parameters): none.');
    for (const f of files) expect(namedQueryDescription(f).length).toBeLessThanOrEqual(1024);
  });

  it('an undeclared sql/analytics/ file fails the description (and so the synth)', () => {
    expect(() => namedQueryDescription('sql/analytics/not_declared.sql')).toThrow(
      /sql\/analytics\/not_declared\.sql is not declared in ANALYTICS_QUERIES/,
    );
  });
});

describe('sql/analytics on the local Athena engine', () => {
  it('the fixture has the lake layout (partitions read back from the paths)', async () => {
    const result = await runAthenaQuery({
      sql: 'SELECT scoring_date, model_version, COUNT(*) AS n FROM predictions GROUP BY 1, 2 ORDER BY 1, 2',
      database: 'clv_test',
      root,
      tables: TABLES,
    });
    expect(result.rows).toEqual([
      [D1, M1, '3'],
      [D2, M1, '6'],
      [D3, M1, '6'],
      [D3, M2, '2'],
      [D4, M2, '1'],
      [D4, M3, '1'],
    ]);
  });

  describe('scoring_runs', () => {
    it('lists the published batch-scoring runs, latest date first, and marks the last run of each date', async () => {
      const rows = await query('scoring_runs', []);
      expect(
        pick(rows, 'scoring_date', 'model_version', 'run_id', 'published_at', 'rows_scored', 'rows_rejected'),
      ).toEqual([
        [D4, M2, 'run-d4', '2024-01-29T06:10:00Z', '1', '0'],
        [D3, M2, 'run-d3-rerun', '2024-01-22T09:00:00Z', '2', '0'],
        [D3, M1, 'run-d3', '2024-01-22T06:10:00Z', '6', '1'],
        [D2, M1, 'run-d2', '2024-01-15T06:10:00Z', '6', '0'],
      ]);
      expect(rows.map((r) => r.is_latest_for_date)).toEqual(['true', 'true', 'false', 'true']);
    });
  });

  describe('top_customers_by_clv', () => {
    it('ranks the latest scoring date of the model version; ties share a rank and are ordered by customer', async () => {
      const rows = await query('top_customers_by_clv', [q(M1), '2']);
      // D3 is M1's latest date: z (9999 at D1) and the M2 rerun of D3 are not there; b and c tie at 300
      expect(pick(rows, 'scoring_date', 'model_version', 'clv_rank', 'customer_id', 'clv_score', 'tier')).toEqual([
        [D3, M1, '1', 'a', '500.0', 'High'],
        [D3, M1, '2', 'b', '300.0', 'Medium'],
        [D3, M1, '2', 'c', '300.0', 'High'],
      ]);
      expect(rows[0]).toEqual({
        scoring_date: D3,
        model_version: M1,
        clv_rank: '1',
        customer_id: 'a',
        clv_score: '500.0',
        tier: 'High',
        predicted_revenue_12m: '1000.0',
        churn_probability: '0.125',
        reason_1_feature: 'recency_days',
        reason_1_contribution: '0.5',
        reason_2_feature: 'spend_365d',
        reason_2_contribution: '0.25',
        reason_3_feature: 'tenure_days',
        reason_3_contribution: '-0.125',
        reasons_method: 'tree_shap',
      });
    });

    it('N is a number of ranks: at the boundary of a tie and just past it', async () => {
      const ids = async (n: string) => (await query('top_customers_by_clv', [q(M1), n])).map((r) => r.customer_id);
      expect(await ids('0')).toEqual([]);
      expect(await ids('1')).toEqual(['a']);
      expect(await ids('3')).toEqual(['a', 'b', 'c']); // rank 3 does not exist (two at rank 2)
      expect(await ids('4')).toEqual(['a', 'b', 'c', 'd']);
      expect(await ids('100')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    });

    it('another model version: its own latest date; an unknown one: nothing', async () => {
      expect(pick(await query('top_customers_by_clv', [q(M2), '10']), 'scoring_date', 'customer_id')).toEqual([
        [D4, 'y'],
      ]);
      expect(await query('top_customers_by_clv', [q('clv-unknown'), '10'])).toEqual([]);
    });
  });

  describe('clv_churn_by_segment', () => {
    const COLS = [
      'country',
      'acquisition_channel',
      'tier',
      'customers',
      'total_clv_score',
      'avg_clv_score',
      'avg_predicted_revenue_12m',
      'avg_churn_probability',
      'expected_churners',
      'share_of_total_clv',
    ];
    const share = (x: number) => String(x / 1270); // D3/M1 total CLV = 500 + 300 + 300 + 120 + 40 + 10

    it('groups by the point-in-time country and channel of the feature store and by tier', async () => {
      const rows = await query('clv_churn_by_segment', [q(D3), q(M1)]);
      expect(rows.every((r) => r.scoring_date === D3 && r.model_version === M1)).toBe(true);
      expect(pick(rows, ...COLS)).toEqual([
        ['DE', 'referral', 'Medium', '1', '120.0', '120.0', '200.0', '0.75', '0.75', share(120)],
        ['GB', 'organic', 'High', '1', '500.0', '500.0', '1000.0', '0.125', '0.125', share(500)],
        ['GB', 'organic', 'Medium', '1', '300.0', '300.0', '600.0', '0.25', '0.25', share(300)],
        // c: the later record of the snapshot (GB, paid_search), not the first (DE, organic)
        ['GB', 'paid_search', 'High', '1', '300.0', '300.0', '650.0', '0.5', '0.5', share(300)],
        // e: erased since (delete marker); f: no record at D3
        ['unknown', 'unknown', 'Low', '2', '50.0', '25.0', '35.0', '0.6875', '1.375', share(50)],
      ]);
    });

    it('reads the one model version of the date', async () => {
      const rows = await query('clv_churn_by_segment', [q(D3), q(M2)]);
      expect(pick(rows, 'country', 'acquisition_channel', 'tier', 'customers', 'total_clv_score')).toEqual([
        ['GB', 'organic', 'Low', '1', '1.0'],
        ['unknown', 'unknown', 'High', '1', '777.0'],
      ]);
    });

    it('a date without predictions gives no rows; a value that is not a date fails the query', async () => {
      expect(await query('clv_churn_by_segment', [q('2024-01-20'), q(M1)])).toEqual([]);
      await expect(query('clv_churn_by_segment', [q('2024-13-01'), q(M1)])).rejects.toThrow(/2024-13-01/);
    });
  });

  describe('week_over_week_movers', () => {
    const COLS = ['move_rank', 'customer_id', 'direction', 'clv_change', 'clv_change_ratio'];

    it('compares the latest two dates of the model version, biggest absolute move first, ties share a rank', async () => {
      const rows = await query('week_over_week_movers', [q(M1), '100']);
      // D3 vs D2 (not D1); f (new) and g (gone) have no move; the M2 rerun of D3 is not read
      expect(pick(rows, ...COLS)).toEqual([
        ['1', 'a', 'up', '100.0', '0.25'],
        ['1', 'c', 'up', '100.0', '0.5'],
        ['3', 'b', 'down', '-50.0', String(-50 / 350)],
        ['4', 'e', 'up', '40.0', null], // previous score 0: no ratio
        ['5', 'd', 'none', '0.0', '0.0'],
      ]);
      expect(rows[2]).toMatchObject({
        previous_clv_score: '350.0',
        current_clv_score: '300.0',
        previous_tier: 'High',
        current_tier: 'Medium',
        previous_churn_probability: '0.5',
        current_churn_probability: '0.25',
        previous_scoring_date: D2,
        current_scoring_date: D3,
        model_version: M1,
      });
    });

    it('N is a number of ranks: a tie at rank 1 returns both, rank 3 adds the next', async () => {
      const ids = async (n: string) => (await query('week_over_week_movers', [q(M1), n])).map((r) => r.customer_id);
      expect(await ids('1')).toEqual(['a', 'c']);
      expect(await ids('2')).toEqual(['a', 'c']);
      expect(await ids('3')).toEqual(['a', 'c', 'b']);
    });

    it('another model version compares its own dates; one scoring date only gives no rows', async () => {
      expect(pick(await query('week_over_week_movers', [q(M2), '10']), ...COLS, 'previous_scoring_date')).toEqual([
        ['1', 'y', 'up', '23.0', String(23 / 777), D3],
      ]);
      expect(await query('week_over_week_movers', [q(M3), '10'])).toEqual([]);
    });
  });

  describe('tier_migration_matrix', () => {
    const COLS = ['from_tier', 'to_tier', 'customers', 'share_of_from_tier'];

    it('counts every cell from tier at A to tier at B, new and gone customers included', async () => {
      const rows = await query('tier_migration_matrix', [q(D2), q(M1), q(D3), q(M1)]);
      expect(pick(rows, ...COLS)).toEqual([
        ['High', 'High', '1', '0.5'], // a
        ['High', 'Medium', '1', '0.5'], // b
        ['High', 'Low', '0', '0.0'],
        ['High', 'Gone', '0', '0.0'],
        ['Medium', 'High', '1', '0.5'], // c
        ['Medium', 'Medium', '1', '0.5'], // d
        ['Medium', 'Low', '0', '0.0'],
        ['Medium', 'Gone', '0', '0.0'],
        ['Low', 'High', '0', '0.0'],
        ['Low', 'Medium', '0', '0.0'],
        ['Low', 'Low', '1', '0.5'], // e
        ['Low', 'Gone', '1', '0.5'], // g
        ['New', 'High', '0', '0.0'],
        ['New', 'Medium', '0', '0.0'],
        ['New', 'Low', '1', '1.0'], // f
      ]);
    });

    it('a tier outside High/Medium/Low gets its own row; empty rows have no share', async () => {
      const rows = await query('tier_migration_matrix', [q(D1), q(M1), q(D2), q(M1)]);
      expect(rows).toHaveLength(19); // rows High, Medium, Low, Platinum, New x columns High, Medium, Low, Gone - 1
      expect(pick(rows, ...COLS).filter(([, , n]) => n !== '0')).toEqual([
        ['High', 'High', '2', '1.0'],
        ['Platinum', 'Gone', '1', '1.0'],
        ['New', 'Medium', '2', '0.5'],
        ['New', 'Low', '2', '0.5'],
      ]);
      expect(pick(rows, ...COLS).filter(([from]) => from === 'Medium')).toEqual([
        ['Medium', 'High', '0', null],
        ['Medium', 'Medium', '0', null],
        ['Medium', 'Low', '0', null],
        ['Medium', 'Gone', '0', null],
      ]);
      expect(rows.map((r) => r.from_tier).filter((v, i, a) => a.indexOf(v) === i)).toEqual([
        'High',
        'Medium',
        'Low',
        'Platinum',
        'New',
      ]);
    });

    it('each date reads its own model version (across a promotion)', async () => {
      const rows = await query('tier_migration_matrix', [q(D3), q(M1), q(D4), q(M2)]);
      expect(pick(rows, ...COLS).filter(([, , n]) => n !== '0')).toEqual([
        ['High', 'Gone', '2', '1.0'], // a, c
        ['Medium', 'Gone', '2', '1.0'], // b, d
        ['Low', 'Gone', '2', '1.0'], // e, f
        ['New', 'High', '1', '1.0'], // y
      ]);
      const diagonal = await query('tier_migration_matrix', [q(D3), q(M1), q(D3), q(M1)]);
      expect(diagonal.filter((r) => r.customers !== '0').every((r) => r.from_tier === r.to_tier)).toBe(true);
      expect(diagonal.reduce((n, r) => n + Number(r.customers), 0)).toBe(6);
    });

    it('a value that is not a date fails the query', async () => {
      await expect(query('tier_migration_matrix', [q(D2), q(M1), q('2024-02-30'), q(M1)])).rejects.toThrow(
        /2024-02-30/,
      );
    });
  });
});
