/**
 * The experiment analysis Lambda's handler and event contract: zod validation naming the field, ResultSet
 * parsing (header row first, by column name), the report, and the local directory store under CLV_LOCAL_ROOT.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/experiment-analysis/handler.js';
import { renderExperimentReport } from '../../lambdas/experiment-analysis/report.js';
import {
  ARM_AGGREGATE_COLUMNS,
  ExperimentDataError,
  parseArmAggregates,
  runAnalysis,
} from '../../lambdas/experiment-analysis/run.js';
import { MemoryObjectStore } from './helpers/memory-store.js';

type Row = Record<(typeof ARM_AGGREGATE_COLUMNS)[number], string | null>;

function row(arm: string, n: number, conv: number, sum: number, sumSq: number, unsub: number): Row {
  return {
    arm,
    n: String(n),
    conversions: String(conv),
    revenue_sum: String(sum),
    revenue_sum_sq: String(sumSq),
    unsubscribes: String(unsub),
    outcomes_matched: String(n),
    outcomes_outside_audience: '0',
    duplicate_outcome_rows: '0',
    invalid_outcome_rows: '0',
    unknown_arm_rows: '0',
  };
}

/** A GetQueryResults ResultSet as Athena returns it: header row first, NULL as {}. */
function resultSetOf(rows: Row[], columns: readonly string[] = ARM_AGGREGATE_COLUMNS) {
  const cells = (values: (string | null)[]) => ({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) });
  return {
    Rows: [cells([...columns]), ...rows.map((r) => cells(columns.map((c) => r[c as keyof Row] ?? null)))],
    ResultSetMetadata: { ColumnInfo: columns.map((c) => ({ Name: c, Type: 'varchar' })) },
  };
}

// 5% canary with a planted revenue and conversion lift
const CONTROL = row('control', 19_000, 1_900, 19_000 * 5, 18_999 * 400 + 19_000 * 25, 40);
const TREATMENT = row('treatment', 1_000, 140, 1_000 * 7, 999 * 441 + 1_000 * 49, 2);

const EVENT = {
  campaign_id: 'spring-canary',
  run_id: 'exec-42',
  expected_share: 0.05,
  alpha: 0.05,
  gold_bucket: 'clv-local-gold',
  result_set: resultSetOf([CONTROL, TREATMENT]),
};

let dir: string | undefined;
afterEach(() => {
  delete process.env.CLV_LOCAL_ROOT;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('experiment-analysis handler', () => {
  it('writes analysis.json and report.html to the local store and returns the analysis with both URIs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exp-handler-'));
    process.env.CLV_LOCAL_ROOT = dir;
    const out = await handler(EVENT);
    expect(out.decision).toBe('ship');
    expect(out.n).toEqual({ control: 19_000, treatment: 1_000 });
    expect(out.srm.valid).toBe(true);
    const prefix = join(dir, 'clv-local-gold', 'campaigns', 'reports', 'campaign_id=spring-canary');
    const doc = JSON.parse(readFileSync(join(prefix, 'analysis.json'), 'utf8'));
    expect(doc.decision).toBe('ship');
    expect(Object.keys(doc)).toEqual(
      expect.arrayContaining(['srm', 'conversion', 'revenue_per_user', 'guardrail', 'decision', 'n', 'data_checks']),
    );
    expect(Object.keys(doc.guardrail.unsubscribe).sort()).toEqual([
      'control_rate',
      'p_value',
      'treatment_rate',
      'worse',
    ]);
    const html = readFileSync(join(prefix, 'report.html'), 'utf8');
    expect(html).toContain('SHIP');
    expect(html).toContain('<svg');
    expect(out.report_uri).toBe('s3://clv-local-gold/campaigns/reports/campaign_id=spring-canary/report.html');
  });

  it('rows in any order, columns by name', async () => {
    const cols = [...ARM_AGGREGATE_COLUMNS].reverse();
    const parsed = parseArmAggregates(resultSetOf([TREATMENT, CONTROL], cols));
    expect(parsed.control.n).toBe(19_000);
    expect(parsed.treatment.conversions).toBe(140);
  });

  it.each([
    ['campaign_id', { campaign_id: 'Bad Id' }, /campaign_id/],
    ['gold_bucket', { gold_bucket: 's3://x' }, /gold_bucket/],
    ['alpha', { alpha: 1.5 }, /alpha/],
    ['result_set', { result_set: { Rows: [] } }, /result_set\.Rows/],
    ['run_id', { run_id: undefined }, /run_id/],
  ])('an invalid %s is refused naming the field', async (_, change, message) => {
    const store = new MemoryObjectStore();
    await expect(runAnalysis({ ...EVENT, ...change }, { store })).rejects.toThrow(message);
    expect(store.objects.size).toBe(0);
  });

  it.each([
    [
      'a missing column',
      resultSetOf([CONTROL, TREATMENT], ARM_AGGREGATE_COLUMNS.slice(0, 5)),
      /no column\(s\) unsubscribes/,
    ],
    ['a missing arm', resultSetOf([CONTROL]), /no row for arm treatment/],
    ['an arm twice', resultSetOf([CONTROL, CONTROL, TREATMENT]), /arm control appears twice/],
    ['an unknown arm', resultSetOf([CONTROL, { ...TREATMENT, arm: 'canary' }]), /unexpected arm "canary"/],
    ['a NULL count', resultSetOf([{ ...CONTROL, n: null }, TREATMENT]), /n of arm control is NULL/],
    ['a non-numeric sum', resultSetOf([CONTROL, { ...TREATMENT, revenue_sum: 'NaN' }]), /revenue_sum of arm treatment/],
  ])('a result set with %s is an ExperimentDataError', async (_, result_set, message) => {
    const p = runAnalysis({ ...EVENT, result_set }, { store: new MemoryObjectStore() });
    await expect(p).rejects.toThrow(ExperimentDataError);
    await expect(runAnalysis({ ...EVENT, result_set }, { store: new MemoryObjectStore() })).rejects.toThrow(message);
  });

  it('a sample ratio mismatch is decided invalid (and still reported)', async () => {
    const store = new MemoryObjectStore();
    const out = await runAnalysis(
      { ...EVENT, result_set: resultSetOf([CONTROL, row('treatment', 1_300, 140, 7_000, 999 * 441 + 49_000, 2)]) },
      { store },
    );
    expect(out.decision).toBe('invalid');
    expect(out.srm.valid).toBe(false);
    expect(store.objects.get(out.report_uri)?.body).toContain('MISMATCH');
  });

  it('the report escapes text and draws both intervals', () => {
    const analysis = {
      decision: 'no_difference' as const,
      reasons: ['<script>alert(1)</script>'],
      alpha: 0.05,
      n: { control: 10, treatment: 10 },
      srm: { p_value: 1, valid: true, chi_square: 0, expected_share: 0.5, observed_share: 0.5 },
      conversion: { control_rate: 0.1, treatment_rate: 0.1, diff: 0, ci_low: -0.1, ci_high: 0.1, p_value: 1, z: 0 },
      revenue_per_user: {
        control_mean: 1,
        treatment_mean: 1,
        diff: 0,
        ci_low: -1,
        ci_high: 1,
        p_value: 1,
        t: 0,
        df: 18,
      },
      guardrail: { unsubscribe: { control_rate: 0, treatment_rate: 0, p_value: 1, worse: false } },
    };
    const arm = { n: 10, conversions: 1, revenue_sum: 10, revenue_sum_sq: 100, unsubscribes: 0 };
    const html = renderExperimentReport(analysis, { title: 'T & <x>', details: [], control: arm, treatment: arm });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('T &amp; &lt;x&gt;');
    expect(html.match(/<svg /g)).toHaveLength(2);
  });
});
