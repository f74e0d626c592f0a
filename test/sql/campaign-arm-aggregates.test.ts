/**
 * sql/campaigns/arm_aggregates.sql on the local Athena engine (DuckDB) over campaign_audiences and campaign_outcomes
 * fixtures: the LEFT JOIN semantics (no outcome row = not converted, 0 revenue, not unsubscribed), the reconciliation
 * columns, one campaign's partition only, and the result handed to the analysis Lambda's run as the ResultSet the
 * state machine's GetQueryResults returns.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeExperiment } from '../../lambdas/experiment-analysis/core.js';
import { ExperimentDataError, runAnalysis } from '../../lambdas/experiment-analysis/run.js';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { readSqlQuery, SQL_QUERIES, sqlQuerySubstitution } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import type { LakeTableLike } from '../../local/athena/catalog.js';
import { runAthenaQuery } from '../../local/athena/engine.js';
import { resultSet } from '../../local/athena/results.js';
import { MemoryObjectStore } from '../lambdas/helpers/memory-store.js';
import { type FixtureRow, writeParquetTable } from './lake-fixture.js';

const table = (name: string): LakeTableLike => lakeTable(name) as unknown as LakeTableLike;
const TABLES = ['campaign_audiences', 'campaign_outcomes'].map(table);
const SQL = readFileSync(join(repoRoot, 'sql/campaigns/arm_aggregates.sql'), 'utf8');

function member(campaign: string, customer: string, arm: string): FixtureRow {
  return {
    campaign_id: campaign,
    customer_id: customer,
    arm,
    model_version: arm === 'control' ? 'clv-champion' : 'clv-challenger',
    clv_score: 90,
    predicted_revenue_12m: 500,
    tier: 'High',
    assignment_hash: 0.5,
    selected_at: '2024-01-08T06:00:00Z',
  };
}

function outcome(campaign: string, customer: string, converted: number, revenue: number, unsubscribed = 0): FixtureRow {
  return {
    campaign_id: campaign,
    customer_id: customer,
    converted,
    revenue,
    unsubscribed,
    observed_at: '2024-02-05T00:00:00Z',
  };
}

const AUDIENCE: FixtureRow[] = [
  // c1: 4 control, 3 treatment
  ...['a1', 'a2', 'a3', 'a4'].map((c) => member('c1', c, 'control')),
  ...['b1', 'b2', 'b3'].map((c) => member('c1', c, 'treatment')),
  // c2: a duplicate outcome, an invalid outcome, an unknown arm
  member('c2', 'x1', 'control'),
  member('c2', 'x2', 'treatment'),
  member('c2', 'x3', 'canary'),
];

const OUTCOMES: FixtureRow[] = [
  outcome('c1', 'a1', 1, 10),
  outcome('c1', 'a2', 0, 0, 1),
  outcome('c1', 'a3', 1, 30),
  // a4 has no outcome row: not converted, 0 revenue, not unsubscribed
  outcome('c1', 'b1', 1, 20.5),
  outcome('c1', 'b2', 1, 40),
  outcome('c1', 'b3', 0, 0, 1),
  outcome('c1', 'zz', 1, 1_000), // not in the audience: ignored, counted
  outcome('c1', 'x1', 1, 999), // a customer of another campaign's audience: outside c1's audience
  outcome('c2', 'x1', 1, 5),
  outcome('c2', 'x1', 1, 5), // duplicate
  outcome('c2', 'x2', 2, -1), // invalid
];

let root: string;

async function query(campaign: string) {
  const result = await runAthenaQuery({
    sql: SQL,
    parameters: [`'${campaign}'`, `'${campaign}'`],
    database: 'clv_test',
    root,
    tables: TABLES,
  });
  return result;
}

const records = (r: Awaited<ReturnType<typeof query>>) =>
  r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] ?? null])));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'campaign-sql-'));
  await writeParquetTable(root, table('campaign_audiences'), AUDIENCE);
  await writeParquetTable(root, table('campaign_outcomes'), OUTCOMES);
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('sql/campaigns/arm_aggregates.sql', () => {
  it('is the CampaignArmAggregatesQuery placeholder, the campaign id once per table (in WHERE), substitutable', () => {
    expect(SQL_QUERIES.CampaignArmAggregatesQuery).toBe('sql/campaigns/arm_aggregates.sql');
    expect(readSqlQuery('CampaignArmAggregatesQuery')).toBe(SQL);
    expect(SQL.match(/\?/g)).toHaveLength(2);
    expect(JSON.parse(`"${sqlQuerySubstitution('CampaignArmAggregatesQuery')}"`)).toBe(SQL.trim());
  });

  it('aggregates each arm over the audience LEFT JOIN outcomes and reconciles the rest', async () => {
    const r = await query('c1');
    expect(r.columns.map((c) => [c.name, c.type])).toEqual([
      ['arm', 'varchar'],
      ['n', 'bigint'],
      ['conversions', 'bigint'],
      ['revenue_sum', 'double'],
      ['revenue_sum_sq', 'double'],
      ['unsubscribes', 'bigint'],
      ['outcomes_matched', 'bigint'],
      ['outcomes_outside_audience', 'bigint'],
      ['duplicate_outcome_rows', 'bigint'],
      ['invalid_outcome_rows', 'bigint'],
      ['unknown_arm_rows', 'bigint'],
    ]);
    expect(records(r)).toEqual([
      {
        arm: 'control',
        n: '4',
        conversions: '2',
        revenue_sum: '40.0',
        revenue_sum_sq: '1000.0',
        unsubscribes: '1',
        outcomes_matched: '3',
        outcomes_outside_audience: '2',
        duplicate_outcome_rows: '0',
        invalid_outcome_rows: '0',
        unknown_arm_rows: '0',
      },
      {
        arm: 'treatment',
        n: '3',
        conversions: '2',
        revenue_sum: '60.5',
        revenue_sum_sq: '2020.25',
        unsubscribes: '1',
        outcomes_matched: '3',
        outcomes_outside_audience: '2',
        duplicate_outcome_rows: '0',
        invalid_outcome_rows: '0',
        unknown_arm_rows: '0',
      },
    ]);
  });

  it('an unknown campaign gives both arms with n = 0 (the analysis then refuses it)', async () => {
    const rows = records(await query('nope'));
    expect(rows.map((x) => [x.arm, x.n, x.conversions, x.revenue_sum])).toEqual([
      ['control', '0', '0', '0.0'],
      ['treatment', '0', '0', '0.0'],
    ]);
  });

  it('flags duplicate and invalid outcome rows and unknown arms', async () => {
    const [control] = records(await query('c2'));
    expect(control).toMatchObject({ duplicate_outcome_rows: '1', invalid_outcome_rows: '1', unknown_arm_rows: '1' });
  });
});

describe('the analysis Lambda over the query result (GetQueryResults ResultSet)', () => {
  const event = async (campaign: string) => {
    const r = await query(campaign);
    return {
      campaign_id: campaign,
      run_id: 'exec-1',
      expected_share: 0.5,
      alpha: 0.05,
      gold_bucket: 'clv-local-gold',
      result_set: resultSet(r.columns, r.rows, true),
    };
  };

  it('reads the arms by column name, analyses and writes analysis.json and report.html', async () => {
    const store = new MemoryObjectStore();
    const out = await runAnalysis(await event('c1'), { store, now: () => new Date('2024-02-06T00:00:00Z') });
    expect(out.aggregates).toEqual({
      control: { n: 4, conversions: 2, revenue_sum: 40, revenue_sum_sq: 1000, unsubscribes: 1 },
      treatment: { n: 3, conversions: 2, revenue_sum: 60.5, revenue_sum_sq: 2020.25, unsubscribes: 1 },
    });
    expect(out.data_checks).toEqual({
      outcomes_matched: { control: 3, treatment: 3 },
      outcomes_outside_audience: 2,
      duplicate_outcome_rows: 0,
      invalid_outcome_rows: 0,
      unknown_arm_rows: 0,
    });
    const expected = analyzeExperiment({ ...out.aggregates, expected_share: 0.5, alpha: 0.05 });
    expect(out.decision).toBe(expected.decision);
    expect(out.conversion).toEqual(expected.conversion);
    expect(out.analysis_uri).toBe('s3://clv-local-gold/campaigns/reports/campaign_id=c1/analysis.json');
    expect(out.report_uri).toBe('s3://clv-local-gold/campaigns/reports/campaign_id=c1/report.html');
    const doc = JSON.parse(store.objects.get(out.analysis_uri)?.body ?? '{}');
    expect(doc).toMatchObject({ campaign_id: 'c1', run_id: 'exec-1', analyzed_at: '2024-02-06T00:00:00.000Z' });
    expect(doc.srm.p_value).toBe(out.srm.p_value);
    expect(store.objects.get(out.report_uri)?.contentType).toMatch(/^text\/html/);
  });

  it('refuses flagged outcome data with an ExperimentDataError naming the counts', async () => {
    const e = await event('c2');
    await expect(runAnalysis(e, { store: new MemoryObjectStore() })).rejects.toThrow(ExperimentDataError);
    await expect(runAnalysis(e, { store: new MemoryObjectStore() })).rejects.toThrow(
      /campaign c2: the outcomes cannot be analysed: 1 duplicate outcome row\(s\).*1 invalid outcome row\(s\).*1 audience row\(s\) whose arm/,
    );
  });

  it('an unknown campaign (empty arms) is an InsufficientDataError, nothing written', async () => {
    const store = new MemoryObjectStore();
    await expect(runAnalysis(await event('nope'), { store })).rejects.toThrow(/InsufficientData|at least 2 per arm/);
    expect(store.objects.size).toBe(0);
  });
});
