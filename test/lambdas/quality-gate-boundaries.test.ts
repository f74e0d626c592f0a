/**
 * The quality gate's checks driven just below / at / just above every bound, one expectation at a time (a suite of
 * one, so a result cannot pass by another check's doing), with each missing-metric and no-baseline branch, the
 * summary's status ladder, the order and cap of the failures the alert carries, and each rule of the gate input.
 */
import { describe, expect, it } from 'vitest';
import { type AggregateRow, Aggregates } from '../../lambdas/quality-gate/aggregates.js';
import { type ExpectationResult, evaluateSuite, summarize } from '../../lambdas/quality-gate/evaluate.js';
import type { Expectation } from '../../lambdas/quality-gate/expectations.js';
import { gateInputSchema, runGate } from '../../lambdas/quality-gate/gate.js';
import { MemoryObjectStore } from './helpers/memory-store.js';

type Row = AggregateRow;
const row = (
  metric: Row['metric'],
  column_name: string,
  value: number | null,
  period: Row['period'] = 'current',
  category = '',
): Row => ({ period, metric, column_name, category, value });
const base = { id: 'e', severity: 'critical', description: 'd' } as const;
const one = (e: Expectation, rows: Row[]): ExpectationResult => {
  const [r] = evaluateSuite([e], new Aggregates(rows));
  if (!r) throw new Error('no result');
  return r;
};
const EPS = 1e-9;

describe('quality gate: each bound just below / at / just above', () => {
  it('row_count_min: at least min rows', () => {
    const e: Expectation = { ...base, kind: 'row_count_min', min: 100 };
    const at = (n: number) => one(e, [row('row_count', '', n)]);
    expect(at(99)).toMatchObject({
      status: 'fail',
      observed: '99',
      expected: '>= 100',
      message: 'only 99 rows, expected at least 100',
    });
    expect(at(100)).toMatchObject({ status: 'pass', message: '100 rows' });
    expect(at(101).status).toBe('pass');
  });

  it('row_count_change: the day-over-day ratio within [minRatio, maxRatio], both ends inclusive', () => {
    const e: Expectation = { ...base, kind: 'row_count_change', minRatio: 0.5, maxRatio: 2 };
    const at = (current: number) => one(e, [row('row_count', '', current), row('row_count', '', 1000, 'previous')]);
    expect(at(499)).toMatchObject({
      status: 'fail',
      observed: '499 vs 1000 (0.50x)',
      expected: '0.5x..2x of the previous day',
      message: 'row count changed 0.50x day over day (1000 → 499)',
    });
    expect(at(500)).toMatchObject({ status: 'pass', message: 'row count ok' });
    expect(at(501).status).toBe('pass');
    expect(at(1999).status).toBe('pass');
    expect(at(2000).status).toBe('pass');
    expect(at(2001)).toMatchObject({ status: 'fail', message: 'row count changed 2.00x day over day (1000 → 2001)' });
  });

  it('null_rate: nulls / rows at most max', () => {
    const e: Expectation = { ...base, kind: 'null_rate', column: 'c', max: 0.1 };
    const at = (nulls: number) => one(e, [row('row_count', '', 1000), row('null_count', 'c', nulls)]);
    expect(at(99)).toMatchObject({ status: 'pass', observed: '9.90% (99/1000)', expected: '<= 10.0%' });
    expect(at(100)).toMatchObject({ status: 'pass', message: 'c null rate ok' });
    expect(at(101)).toMatchObject({
      status: 'fail',
      observed: '10.10% (101/1000)',
      message: 'c is null in 10.10% of rows, at most 10.0% allowed',
    });
  });

  it('value_range: min and max each checked, inclusive, either side open', () => {
    const e: Expectation = { ...base, kind: 'value_range', column: 'q', min: 0, max: 10 };
    const at = (lo: number, hi: number) => one(e, [row('row_count', '', 5), row('min', 'q', lo), row('max', 'q', hi)]);
    expect(at(-EPS, 5)).toMatchObject({ status: 'fail', message: `q out of range: min ${(-EPS).toFixed(4)} < 0` });
    expect(at(0, 10)).toMatchObject({ status: 'pass', observed: '[0, 10]', expected: '[0, 10]' });
    expect(at(EPS, 10 - EPS).status).toBe('pass');
    expect(at(5, 10 + EPS)).toMatchObject({ status: 'fail', message: 'q out of range: max 10.0000 > 10' });
    expect(at(-1, 11).message).toBe('q out of range: min -1 < 0, max 11 > 10');
    expect(at(3, 4).message).toBe('q within range');
    const lowOnly: Expectation = { ...base, kind: 'value_range', column: 'q', min: 0 };
    const onlyLow = (lo: number, hi: number) =>
      one(lowOnly, [row('row_count', '', 5), row('min', 'q', lo), row('max', 'q', hi)]);
    expect(onlyLow(0, 1e12)).toMatchObject({ status: 'pass', expected: '[0, +inf]' });
    expect(onlyLow(-1, 1).status).toBe('fail');
    const highOnly: Expectation = { ...base, kind: 'value_range', column: 'q', max: 0 };
    const onlyHigh = (lo: number, hi: number) =>
      one(highOnly, [row('row_count', '', 5), row('min', 'q', lo), row('max', 'q', hi)]);
    expect(onlyHigh(-1e12, 0)).toMatchObject({ status: 'pass', expected: '[-inf, 0]' });
    expect(onlyHigh(-1, 1).status).toBe('fail');
    // an all-NULL column has NULL min and max: nothing out of range
    expect(at(Number.NaN, Number.NaN).status).toBe('pass');
    expect(one(e, [row('row_count', '', 5), row('min', 'q', null), row('max', 'q', null)]).observed).toBe(
      '[null, null]',
    );
  });

  it('cardinality_change: the distinct-count ratio within [minRatio, maxRatio], both ends inclusive', () => {
    const e: Expectation = { ...base, kind: 'cardinality_change', column: 'sku', minRatio: 0.8, maxRatio: 1.25 };
    const at = (current: number) =>
      one(e, [
        row('row_count', '', 10),
        row('row_count', '', 10, 'previous'),
        row('distinct_count', 'sku', current),
        row('distinct_count', 'sku', 100, 'previous'),
      ]);
    expect(at(79)).toMatchObject({ status: 'fail', message: 'distinct sku changed 0.79x day over day (100 → 79)' });
    expect(at(80).status).toBe('pass');
    expect(at(81).status).toBe('pass');
    expect(at(124).status).toBe('pass');
    expect(at(125)).toMatchObject({ status: 'pass', message: 'distinct sku ok' });
    expect(at(126).status).toBe('fail');
  });

  it('mean_band: the mean within [min, max], both ends inclusive', () => {
    const e: Expectation = { ...base, kind: 'mean_band', column: 'amount', min: 5, max: 50 };
    const at = (mean: number) => one(e, [row('row_count', '', 10), row('mean', 'amount', mean)]);
    expect(at(5 - EPS)).toMatchObject({ status: 'fail', message: 'mean amount 5.0000 is outside [5, 50]' });
    expect(at(5)).toMatchObject({
      status: 'pass',
      observed: '5',
      expected: '[5, 50]',
      message: 'mean amount within band',
    });
    expect(at(5 + EPS).status).toBe('pass');
    expect(at(50 - EPS).status).toBe('pass');
    expect(at(50).status).toBe('pass');
    expect(at(50 + EPS)).toMatchObject({ status: 'fail', observed: '50.0000' });
  });

  it('allowed_categories: any unknown category fails, naming it and its rows', () => {
    const e: Expectation = { ...base, kind: 'allowed_categories', column: 'cur', allowed: ['GBP', 'EUR'] };
    const cats = (...pairs: [string, number][]) => [
      row('row_count', '', 10),
      ...pairs.map(([c, n]) => row('category_count', 'cur', n, 'current', c)),
    ];
    expect(one(e, cats(['GBP', 9], ['EUR', 1]))).toMatchObject({
      status: 'pass',
      observed: 'GBP=9, EUR=1',
      expected: 'one of GBP, EUR',
      message: 'cur categories all known',
    });
    expect(one(e, cats(['GBP', 9], ['USD', 1]))).toMatchObject({
      status: 'fail',
      message: "cur has unknown categories: 'USD' (1 rows)",
    });
  });

  it('column_type: the normalized engine type must equal the expected one', () => {
    const e: Expectation = { ...base, kind: 'column_type', column: 'q', type: 'integer' };
    expect(one(e, [row('row_count', '', 3), row('column_type', 'q', 3, 'current', 'integer')])).toMatchObject({
      status: 'pass',
      observed: 'integer (integer)',
      message: 'q is integer',
    });
    expect(one(e, [row('row_count', '', 3), row('column_type', 'q', 3, 'current', 'varchar')])).toMatchObject({
      status: 'fail',
      observed: 'string (varchar)',
      expected: 'integer',
      message: 'q is string, expected integer',
    });
  });
});

describe('quality gate: missing metrics fail, empty partitions and missing baselines skip', () => {
  const kinds: Expectation[] = [
    { ...base, kind: 'null_rate', column: 'c', max: 0.1 },
    { ...base, kind: 'value_range', column: 'c', min: 0, max: 1 },
    { ...base, kind: 'allowed_categories', column: 'c', allowed: ['a'] },
    { ...base, kind: 'mean_band', column: 'c', min: 0, max: 1 },
    { ...base, kind: 'column_type', column: 'c', type: 'string' },
  ];
  it.each(kinds.map((e) => [e.kind, e] as const))('%s: a missing metric fails, naming the column', (_, e) => {
    const r = one(e, [row('row_count', '', 10)]);
    expect(r.status).toBe('fail');
    expect(r.observed).toBe('missing');
    expect(r.message).toMatch(/ of c is not in the quality aggregates \(column missing from the query or the table\)$/);
  });

  it.each(kinds.map((e) => [e.kind, e] as const))('%s: an empty partition skips', (_, e) => {
    const r = one(e, [row('row_count', '', 0)]);
    expect(r.status).toBe('skipped');
    expect(r.observed).toBe('no rows');
  });

  it('value_range: a missing min or a missing max alone fails', () => {
    const e: Expectation = { ...base, kind: 'value_range', column: 'c', min: 0, max: 1 };
    expect(one(e, [row('row_count', '', 10), row('min', 'c', 0)]).status).toBe('fail');
    expect(one(e, [row('row_count', '', 10), row('max', 'c', 1)]).status).toBe('fail');
  });

  it('null_rate: a NULL null count fails as missing', () => {
    const e: Expectation = { ...base, kind: 'null_rate', column: 'c', max: 0.1 };
    expect(one(e, [row('row_count', '', 10), row('null_count', 'c', null)]).observed).toBe('missing');
  });

  it('row_count_change skips without a previous day; cardinality_change without a previous count', () => {
    const rc: Expectation = { ...base, kind: 'row_count_change', minRatio: 0.5, maxRatio: 2 };
    expect(one(rc, [row('row_count', '', 10)])).toMatchObject({
      status: 'skipped',
      observed: '10',
      expected: '0.5x..2x of the previous day',
      message: 'no previous-day partition to compare with',
    });
    const cc: Expectation = { ...base, kind: 'cardinality_change', column: 'c', minRatio: 0.5, maxRatio: 2 };
    expect(one(cc, [row('row_count', '', 10), row('distinct_count', 'c', 5)])).toMatchObject({
      status: 'skipped',
      observed: '5',
      message: 'no previous-day distinct count',
    });
    const withPrevious = (current: Row[], previous: number | null) => [
      row('row_count', '', 10),
      row('row_count', '', 10, 'previous'),
      ...current,
      row('distinct_count', 'c', previous, 'previous'),
    ];
    expect(one(cc, withPrevious([row('distinct_count', 'c', 5)], 0)).status).toBe('skipped');
    expect(one(cc, withPrevious([row('distinct_count', 'c', 5)], null)).status).toBe('skipped');
    expect(one(cc, withPrevious([], 5))).toMatchObject({ status: 'fail', observed: 'missing' });
    expect(one(cc, withPrevious([row('distinct_count', 'c', null)], 5)).status).toBe('fail');
  });
});

describe('quality gate: the summary and what the alert carries', () => {
  const r = (id: string, status: ExpectationResult['status'], severity: 'critical' | 'warning'): ExpectationResult => ({
    id,
    kind: 'row_count_min',
    severity,
    description: id,
    status,
    observed: '',
    expected: '',
    message: `${id} message`,
  });

  it('fail on any critical failure, warn on warnings only, pass otherwise; counts each outcome', () => {
    expect(summarize([r('a', 'pass', 'critical'), r('b', 'skipped', 'warning')])).toEqual({
      status: 'pass',
      total: 2,
      passed: 1,
      failedCritical: 0,
      failedWarning: 0,
      skipped: 1,
    });
    expect(summarize([r('a', 'pass', 'critical'), r('b', 'fail', 'warning')])).toMatchObject({
      status: 'warn',
      failedCritical: 0,
      failedWarning: 1,
    });
    expect(summarize([r('a', 'fail', 'critical'), r('b', 'fail', 'warning'), r('c', 'pass', 'warning')])).toEqual({
      status: 'fail',
      total: 3,
      passed: 1,
      failedCritical: 1,
      failedWarning: 1,
      skipped: 0,
    });
    expect(summarize([r('a', 'skipped', 'critical')]).status).toBe('pass');
  });

  it('lists critical failures first, at most 20, and says where the report is', async () => {
    const suite: Expectation[] = Array.from({ length: 25 }, (_, i) => ({
      id: `w${String(i).padStart(2, '0')}`,
      severity: i < 22 ? 'warning' : 'critical',
      description: 'rows',
      kind: 'row_count_min',
      min: 10,
    }));
    const store = new MemoryObjectStore();
    await store.putText(
      's3://bucket-a/agg.csv',
      '"dt","metric","column_name","category","value"\n"2024-03-01","row_count","","","5"\n',
      'text/csv',
    );
    const out = await runGate(
      { date: '2024-03-01', runId: 'r1', aggregatesUri: 's3://bucket-a/agg.csv', reportPrefix: 's3://bucket-a/q' },
      { store, suite, now: () => new Date('2024-03-02T00:00:00Z') },
    );
    expect(out.status).toBe('fail');
    expect(out.failures).toHaveLength(20);
    expect(out.failures.slice(0, 3).map((f) => f.severity)).toEqual(['critical', 'critical', 'critical']);
    expect(out.failures.slice(3).every((f) => f.severity === 'warning')).toBe(true);
    expect(out.failures[0]).toEqual({ id: 'w22', severity: 'critical', message: 'only 5 rows, expected at least 10' });
    expect(out.message).toBe(
      'Quality gate FAIL for silver_transactions dt=2024-03-01: 3 critical, 22 warning failures; report s3://bucket-a/q/dt=2024-03-01/report.html',
    );
    expect(out.resultUri).toBe('s3://bucket-a/q/dt=2024-03-01/result.json');
    const doc = JSON.parse(await store.getText(out.resultUri));
    expect(doc).toMatchObject({
      suite: 'silver-transactions',
      dataset: 'silver_transactions',
      date: '2024-03-01',
      runId: 'r1',
      evaluatedAt: '2024-03-02T00:00:00.000Z',
      aggregatesUri: 's3://bucket-a/agg.csv',
    });
    expect(doc.results).toHaveLength(25);
  });

  it('says passed with the counts when nothing fails', async () => {
    const store = new MemoryObjectStore();
    await store.putText(
      's3://bucket-a/agg.csv',
      '"dt","metric","column_name","category","value"\n"2024-03-01","row_count","","","50"\n',
      'text/csv',
    );
    const suite: Expectation[] = [
      { ...base, id: 'a', kind: 'row_count_min', min: 10 },
      { ...base, id: 'b', kind: 'row_count_change', minRatio: 0.5, maxRatio: 2 },
    ];
    const out = await runGate(
      { date: '2024-03-01', runId: 'r1', aggregatesUri: 's3://bucket-a/agg.csv', reportPrefix: 's3://bucket-a/q' },
      { store, suite },
    );
    expect(out.failures).toEqual([]);
    expect(out.message).toBe('Quality gate passed for silver_transactions dt=2024-03-01 (1/2, 1 skipped)');
  });
});

describe('quality gate: the gate input rejects each broken rule', () => {
  const ok = {
    date: '2024-03-01',
    runId: 'exec-1',
    aggregatesUri: 's3://clv-athena-results/q/abc.csv',
    reportPrefix: 's3://clv-quality/reports',
  };
  it('accepts a valid input', () => {
    expect(gateInputSchema.parse(ok)).toEqual(ok);
  });
  it.each([
    ['a date that is not YYYY-MM-DD', { date: '2024-3-1' }],
    ['an impossible date', { date: '2024-02-30' }],
    ['an empty runId', { runId: '' }],
    ['a non-s3 aggregates URI', { aggregatesUri: 'https://x/y.csv' }],
    ['a bucket name with upper case', { aggregatesUri: 's3://Bucket/y.csv' }],
    ['a two-character bucket', { reportPrefix: 's3://ab/reports' }],
    ['a bucket ending in a dash', { reportPrefix: 's3://bucket-/reports' }],
    ['an s3 URI without a key separator', { reportPrefix: 's3://bucket' }],
    ['text before the URI', { reportPrefix: 'see s3://bucket/reports' }],
  ])('rejects %s', (_, over) => {
    const parsed = gateInputSchema.safeParse({ ...ok, ...over });
    expect(parsed.success).toBe(false);
    const field = Object.keys(over)[0] ?? '';
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([field]);
  });
  it('names the s3 rule in its message', () => {
    const parsed = gateInputSchema.safeParse({ ...ok, aggregatesUri: 'x' });
    expect(parsed.error?.issues[0]?.message).toBe('must be an s3://bucket/key URI');
  });
  it('accepts a 3- and a 63-character bucket with dots and dashes', () => {
    expect(gateInputSchema.safeParse({ ...ok, reportPrefix: 's3://a.b/r' }).success).toBe(true);
    expect(gateInputSchema.safeParse({ ...ok, reportPrefix: `s3://${'a'.repeat(63)}/r` }).success).toBe(true);
    expect(gateInputSchema.safeParse({ ...ok, reportPrefix: `s3://${'a'.repeat(64)}/r` }).success).toBe(false);
  });
});
