/** Pure evaluation of an expectations suite over the aggregates of one run. */
import type { Aggregates } from './aggregates.js';
import { type Expectation, normalizeType, type Severity } from './expectations.js';

/** pass; fail (the expectation does not hold); skipped (no baseline, e.g. no previous day). */
export type ExpectationStatus = 'pass' | 'fail' | 'skipped';
/** pass: every expectation holds; warn: only warnings fail; fail: a critical expectation fails. */
export type GateStatus = 'pass' | 'warn' | 'fail';

export interface ExpectationResult {
  readonly id: string;
  readonly kind: Expectation['kind'];
  readonly severity: Severity;
  readonly description: string;
  readonly status: ExpectationStatus;
  readonly observed: string;
  readonly expected: string;
  readonly message: string;
}

export interface GateSummary {
  readonly status: GateStatus;
  readonly total: number;
  readonly passed: number;
  readonly failedCritical: number;
  readonly failedWarning: number;
  readonly skipped: number;
}

const fmt = (n: number | null | undefined) =>
  n === undefined ? 'missing' : n === null ? 'null' : Number.isInteger(n) ? String(n) : n.toFixed(4);

type Outcome = { status: ExpectationStatus; observed: string; expected: string; message: string };

function ratioCheck(current: number, previous: number, minRatio: number, maxRatio: number, what: string): Outcome {
  const expected = `${minRatio}x..${maxRatio}x of the previous day`;
  const ratio = current / previous;
  const ok = ratio >= minRatio && ratio <= maxRatio;
  return {
    status: ok ? 'pass' : 'fail',
    observed: `${fmt(current)} vs ${fmt(previous)} (${ratio.toFixed(2)}x)`,
    expected,
    message: ok
      ? `${what} ok`
      : `${what} changed ${ratio.toFixed(2)}x day over day (${fmt(previous)} → ${fmt(current)})`,
  };
}

const missing = (what: string, expected: string): Outcome => ({
  status: 'fail',
  observed: 'missing',
  expected,
  message: `${what} is not in the quality aggregates (column missing from the query or the table)`,
});

function check(e: Expectation, agg: Aggregates): Outcome {
  const rows = agg.rowCount('current');
  switch (e.kind) {
    case 'column_type': {
      const engine = agg.columnType('current', e.column);
      if (engine === undefined) {
        return rows === 0
          ? { status: 'skipped', observed: 'no rows', expected: e.type, message: 'empty partition: no type to check' }
          : missing(`type of ${e.column}`, e.type);
      }
      const actual = normalizeType(engine);
      return {
        status: actual === e.type ? 'pass' : 'fail',
        observed: `${actual} (${engine})`,
        expected: e.type,
        message: actual === e.type ? `${e.column} is ${e.type}` : `${e.column} is ${actual}, expected ${e.type}`,
      };
    }
    case 'row_count_min':
      return {
        status: rows >= e.min ? 'pass' : 'fail',
        observed: fmt(rows),
        expected: `>= ${e.min}`,
        message: rows >= e.min ? `${rows} rows` : `only ${rows} rows, expected at least ${e.min}`,
      };
    case 'row_count_change': {
      const previous = agg.rowCount('previous');
      if (previous === 0) {
        return {
          status: 'skipped',
          observed: fmt(rows),
          expected: `${e.minRatio}x..${e.maxRatio}x of the previous day`,
          message: 'no previous-day partition to compare with',
        };
      }
      return ratioCheck(rows, previous, e.minRatio, e.maxRatio, 'row count');
    }
    case 'null_rate': {
      const expected = `<= ${(e.max * 100).toFixed(1)}%`;
      if (rows === 0) return { status: 'skipped', observed: 'no rows', expected, message: 'empty partition' };
      const nulls = agg.value('current', 'null_count', e.column);
      if (nulls === undefined || nulls === null) return missing(`null count of ${e.column}`, expected);
      const rate = nulls / rows;
      const ok = rate <= e.max;
      return {
        status: ok ? 'pass' : 'fail',
        observed: `${(rate * 100).toFixed(2)}% (${nulls}/${rows})`,
        expected,
        message: ok
          ? `${e.column} null rate ok`
          : `${e.column} is null in ${(rate * 100).toFixed(2)}% of rows, at most ${(e.max * 100).toFixed(1)}% allowed`,
      };
    }
    case 'value_range': {
      const expected = `[${e.min ?? '-inf'}, ${e.max ?? '+inf'}]`;
      if (rows === 0) return { status: 'skipped', observed: 'no rows', expected, message: 'empty partition' };
      const lo = agg.value('current', 'min', e.column);
      const hi = agg.value('current', 'max', e.column);
      if (lo === undefined || hi === undefined) return missing(`min/max of ${e.column}`, expected);
      const problems: string[] = [];
      if (e.min !== undefined && lo !== null && lo < e.min) problems.push(`min ${fmt(lo)} < ${e.min}`);
      if (e.max !== undefined && hi !== null && hi > e.max) problems.push(`max ${fmt(hi)} > ${e.max}`);
      return {
        status: problems.length === 0 ? 'pass' : 'fail',
        observed: `[${fmt(lo)}, ${fmt(hi)}]`,
        expected,
        message:
          problems.length === 0 ? `${e.column} within range` : `${e.column} out of range: ${problems.join(', ')}`,
      };
    }
    case 'allowed_categories': {
      const expected = `one of ${e.allowed.join(', ')}`;
      if (rows === 0) return { status: 'skipped', observed: 'no rows', expected, message: 'empty partition' };
      const found = agg.categories('current', e.column);
      if (found.size === 0) return missing(`categories of ${e.column}`, expected);
      const unknown = [...found.entries()].filter(([c]) => !e.allowed.includes(c));
      return {
        status: unknown.length === 0 ? 'pass' : 'fail',
        observed: [...found.entries()].map(([c, n]) => `${c}=${n}`).join(', '),
        expected,
        message:
          unknown.length === 0
            ? `${e.column} categories all known`
            : `${e.column} has unknown categories: ${unknown.map(([c, n]) => `'${c}' (${n} rows)`).join(', ')}`,
      };
    }
    case 'cardinality_change': {
      const current = agg.value('current', 'distinct_count', e.column);
      const previous = agg.value('previous', 'distinct_count', e.column);
      const expected = `${e.minRatio}x..${e.maxRatio}x of the previous day`;
      if (!agg.hasPeriod('previous') || !previous) {
        return { status: 'skipped', observed: fmt(current), expected, message: 'no previous-day distinct count' };
      }
      if (current === undefined || current === null) return missing(`distinct count of ${e.column}`, expected);
      return ratioCheck(current, previous, e.minRatio, e.maxRatio, `distinct ${e.column}`);
    }
    case 'mean_band': {
      const expected = `[${e.min}, ${e.max}]`;
      if (rows === 0) return { status: 'skipped', observed: 'no rows', expected, message: 'empty partition' };
      const mean = agg.value('current', 'mean', e.column);
      if (mean === undefined || mean === null) return missing(`mean of ${e.column}`, expected);
      const ok = mean >= e.min && mean <= e.max;
      return {
        status: ok ? 'pass' : 'fail',
        observed: fmt(mean),
        expected,
        message: ok ? `mean ${e.column} within band` : `mean ${e.column} ${fmt(mean)} is outside [${e.min}, ${e.max}]`,
      };
    }
  }
}

/** Evaluates every expectation; ids must be unique. */
export function evaluateSuite(suite: readonly Expectation[], aggregates: Aggregates): ExpectationResult[] {
  const ids = suite.map((e) => e.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length > 0) throw new Error(`expectation ids must be unique, repeated: ${[...new Set(dupes)].join(', ')}`);
  return suite.map((e) => ({
    id: e.id,
    kind: e.kind,
    severity: e.severity,
    description: e.description,
    ...check(e, aggregates),
  }));
}

export function summarize(results: readonly ExpectationResult[]): GateSummary {
  const failedCritical = results.filter((r) => r.status === 'fail' && r.severity === 'critical').length;
  const failedWarning = results.filter((r) => r.status === 'fail' && r.severity === 'warning').length;
  return {
    status: failedCritical > 0 ? 'fail' : failedWarning > 0 ? 'warn' : 'pass',
    total: results.length,
    passed: results.filter((r) => r.status === 'pass').length,
    failedCritical,
    failedWarning,
    skipped: results.filter((r) => r.status === 'skipped').length,
  };
}
