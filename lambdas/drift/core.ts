/**
 * Drift statistics over binned counts (pure): PSI, the Kolmogorov–Smirnov statistic of the binned CDFs, the
 * chi-square test of a categorical distribution, severity, and the per-feature report the drift Lambda and
 * `clv drift` share. The counts come from sql/monitoring/drift_bins.sql (Lambda) or DuckDB (CLI): data of any
 * size never enters here, only O(features x bins) numbers. Decision 0030.
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { DRIFT_PREDICTION_FEATURE, type DriftKind, driftKind } from '../../lib/contracts/drift-features.js';

/**
 * Floor of a bin's proportion in PSI and of a baseline proportion in the chi-square expected counts: an empty
 * bin would make ln(q/p) infinite. 1e-4 (0.01 %) is the common choice: a bin empty at the baseline that holds
 * 1 % of the current rows adds (0.01 - 0.0001) * ln(100) ≈ 0.046 (below Low on its own), 5 % adds ≈ 0.26
 * (Medium). The floor is applied without renormalising (the other bins are unchanged).
 */
export const PROPORTION_FLOOR = 1e-4;

export type Severity = 'none' | 'low' | 'medium';
const SEVERITY_ORDER: readonly Severity[] = ['none', 'low', 'medium'];

export interface DriftThresholds {
  /** PSI at or above: Low. */
  readonly psi_low: number;
  /** PSI above: Medium. */
  readonly psi_medium: number;
}

/** One (feature, bin) row of drift_bins.sql or of the CLI's binning. */
export interface DriftBinRow {
  readonly feature: string;
  readonly kind: DriftKind;
  readonly bin: number;
  /** Numeric bins: inclusive lower edge (-1e308 open); null for the NULL bin and categorical bins. */
  readonly lower: number | null;
  /** Numeric bins: exclusive upper edge (1e308 open); null for the NULL bin and categorical bins. */
  readonly upper: number | null;
  /** Categorical bins: the category (`__other__` for unseen ones); null for the NULL bin and numeric bins. */
  readonly category: string | null;
  readonly baseline_count: number;
  readonly current_count: number;
}

export interface FeatureDrift {
  readonly kind: DriftKind;
  readonly psi: number;
  /** Numeric: max |CDF_baseline - CDF_current| over the ordered non-NULL bins; null for categorical features. */
  readonly ks: number | null;
  /** Categorical: Pearson's chi-square statistic of the current counts against the baseline proportions. */
  readonly chi_square: number | null;
  readonly chi_square_p_value: number | null;
  readonly severity: Severity;
  readonly baseline_total: number;
  readonly current_total: number;
  readonly bins: readonly DriftBinRow[];
}

export interface DriftAlert {
  readonly feature: string;
  readonly metric: 'psi';
  readonly value: number;
  readonly threshold: number;
  readonly severity: Exclude<Severity, 'none'>;
}

export interface DriftSummary {
  readonly features: Readonly<Record<string, FeatureDrift>>;
  readonly max_severity: Severity;
  /** PSI of the model output; null when the prediction is not among the features compared (CLI). */
  readonly prediction_psi: number | null;
  readonly prediction_severity: Severity | null;
  readonly alerts: readonly DriftAlert[];
}

/** The result set has no rows: the model has no baseline, or the query read nothing. */
export class EmptyDriftResultError extends Error {
  override readonly name = 'EmptyDriftResultError';
}
/** A monitored feature has no bins (the baseline lacks it, or the query left it out). */
export class MissingDriftFeatureError extends Error {
  override readonly name = 'MissingDriftFeatureError';
}
/** A feature's baseline counts sum to 0: there is nothing to compare with. */
export class EmptyBaselineError extends Error {
  override readonly name = 'EmptyBaselineError';
}
/** A feature's current counts sum to 0: the scoring run has no rows (or no predictions) to compare. */
export class EmptyCurrentError extends Error {
  override readonly name = 'EmptyCurrentError';
}
/** The bins of a feature are inconsistent (duplicate bin, kind other than the contract's, negative count). */
export class InvalidDriftBinsError extends Error {
  override readonly name = 'InvalidDriftBinsError';
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

function proportions(counts: readonly number[], what: string): number[] {
  const total = sum(counts);
  if (!(total > 0)) throw new RangeError(`${what} counts sum to ${total}: proportions need a positive total`);
  return counts.map((c) => c / total);
}

/**
 * Population Stability Index of two binned distributions (counts, same bins in the same order):
 * Σ (q_i - p_i) · ln(q_i / p_i) with p = baseline and q = current proportions, each floored at PROPORTION_FLOOR.
 */
export function psi(baseline: readonly number[], current: readonly number[]): number {
  if (baseline.length !== current.length || baseline.length === 0) {
    throw new RangeError(`psi: ${baseline.length} baseline bins vs ${current.length} current bins`);
  }
  const p = proportions(baseline, 'baseline');
  const q = proportions(current, 'current');
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = Math.max(p[i] as number, PROPORTION_FLOOR);
    const qi = Math.max(q[i] as number, PROPORTION_FLOOR);
    total += (qi - pi) * Math.log(qi / pi);
  }
  return total;
}

/**
 * Kolmogorov–Smirnov statistic from binned counts: max over the bins of |F_baseline - F_current|, the CDFs
 * accumulated over the ordered bins and normalised by each side's total (pass the non-NULL bins only).
 * Null when either side is empty. A bin-level statistic: values within one bin are not told apart.
 */
export function ksFromBins(baseline: readonly number[], current: readonly number[]): number | null {
  if (baseline.length !== current.length) {
    throw new RangeError(`ksFromBins: ${baseline.length} baseline bins vs ${current.length} current bins`);
  }
  const nb = sum(baseline);
  const nc = sum(current);
  if (!(nb > 0) || !(nc > 0)) return null;
  let fb = 0;
  let fc = 0;
  let max = 0;
  for (let i = 0; i < baseline.length; i++) {
    fb += (baseline[i] as number) / nb;
    fc += (current[i] as number) / nc;
    max = Math.max(max, Math.abs(fb - fc));
  }
  return Math.min(max, 1);
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
}

/**
 * Pearson's chi-square goodness of fit of the current counts to the baseline distribution: expected_i =
 * max(p_i, PROPORTION_FLOOR) · N_current (p = baseline proportions). A bin empty on both sides is left out (it
 * carries no information and no degree of freedom); a bin empty only at the baseline (`__other__`, a category
 * unseen at training) keeps the floored expectation, so new categories weigh heavily but finitely.
 * df = bins kept - 1; the p-value is the upper tail of the chi-square distribution (@stdlib); with df < 1 the
 * statistic is 0 and the p-value 1.
 */
export function chiSquare(baseline: readonly number[], current: readonly number[]): ChiSquareResult {
  if (baseline.length !== current.length) {
    throw new RangeError(`chiSquare: ${baseline.length} baseline bins vs ${current.length} current bins`);
  }
  const p = proportions(baseline, 'baseline');
  const n = sum(current);
  if (!(n > 0)) throw new RangeError(`chiSquare: current counts sum to ${n}`);
  let statistic = 0;
  let kept = 0;
  for (let i = 0; i < p.length; i++) {
    const observed = current[i] as number;
    if ((baseline[i] as number) === 0 && observed === 0) continue;
    kept++;
    const expected = Math.max(p[i] as number, PROPORTION_FLOOR) * n;
    statistic += (observed - expected) ** 2 / expected;
  }
  const df = kept - 1;
  if (df < 1) return { statistic: 0, df: Math.max(df, 0), pValue: 1 };
  return { statistic, df, pValue: 1 - chisquareCdf(statistic, df) };
}

/** 'medium' when psi > psi_medium, 'low' when psi >= psi_low, else 'none'. */
export function severity(value: number, thresholds: DriftThresholds): Severity {
  if (value > thresholds.psi_medium) return 'medium';
  if (value >= thresholds.psi_low) return 'low';
  return 'none';
}

export function maxSeverity(values: readonly Severity[]): Severity {
  return values.reduce<Severity>((a, b) => (SEVERITY_ORDER.indexOf(b) > SEVERITY_ORDER.indexOf(a) ? b : a), 'none');
}

/** The NULL bin: no range (numeric) or no category (categorical). */
export const isNullBin = (r: DriftBinRow): boolean =>
  r.kind === 'numeric' ? r.lower === null && r.upper === null : r.category === null;

function checkBins(feature: string, rows: DriftBinRow[]): DriftBinRow[] {
  const expected = driftKind(feature);
  const sorted = [...rows].sort((a, b) => a.bin - b.bin);
  const seen = new Set<number>();
  for (const r of sorted) {
    if (expected !== undefined && r.kind !== expected) {
      throw new InvalidDriftBinsError(`feature ${feature}: kind ${r.kind}, the contract says ${expected}`);
    }
    if (r.kind !== (sorted[0] as DriftBinRow).kind) throw new InvalidDriftBinsError(`feature ${feature}: mixed kinds`);
    if (seen.has(r.bin)) throw new InvalidDriftBinsError(`feature ${feature}: bin ${r.bin} appears twice`);
    seen.add(r.bin);
    for (const [name, v] of [
      ['baseline_count', r.baseline_count],
      ['current_count', r.current_count],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) {
        throw new InvalidDriftBinsError(`feature ${feature} bin ${r.bin}: ${name} ${v} is not a count`);
      }
    }
  }
  return sorted;
}

/** The drift of one feature from its bins. */
export function driftOfFeature(feature: string, rows: DriftBinRow[], thresholds: DriftThresholds): FeatureDrift {
  const bins = checkBins(feature, rows);
  const kind = (bins[0] as DriftBinRow).kind;
  const baseline = bins.map((b) => b.baseline_count);
  const current = bins.map((b) => b.current_count);
  const baselineTotal = sum(baseline);
  const currentTotal = sum(current);
  if (baselineTotal === 0) {
    throw new EmptyBaselineError(`feature ${feature}: the baseline counts sum to 0 (no baseline to compare with)`);
  }
  if (currentTotal === 0) {
    throw new EmptyCurrentError(`feature ${feature}: the current counts sum to 0 (no scored rows to compare)`);
  }
  const value = psi(baseline, current);
  let ks: number | null = null;
  let chi: ChiSquareResult | null = null;
  if (kind === 'numeric') {
    const ordered = bins.filter((b) => !isNullBin(b));
    ks = ksFromBins(
      ordered.map((b) => b.baseline_count),
      ordered.map((b) => b.current_count),
    );
  } else {
    chi = chiSquare(baseline, current);
  }
  return {
    kind,
    psi: value,
    ks,
    chi_square: chi ? chi.statistic : null,
    chi_square_p_value: chi ? chi.pValue : null,
    severity: severity(value, thresholds),
    baseline_total: baselineTotal,
    current_total: currentTotal,
    bins,
  };
}

/**
 * Per-feature drift of the bins of `features` (default: every feature in the rows). Fails with a named error
 * when there are no rows, a requested feature has no bins, or a feature's baseline or current total is 0.
 */
export function featureDrift(
  rows: readonly DriftBinRow[],
  thresholds: DriftThresholds,
  features?: readonly string[],
): Record<string, FeatureDrift> {
  if (rows.length === 0) throw new EmptyDriftResultError('no drift bins: the result set is empty');
  const byFeature = new Map<string, DriftBinRow[]>();
  for (const r of rows) {
    const list = byFeature.get(r.feature) ?? [];
    list.push(r);
    byFeature.set(r.feature, list);
  }
  const wanted = features ?? [...byFeature.keys()];
  const missing = wanted.filter((f) => !byFeature.has(f));
  if (missing.length > 0) {
    throw new MissingDriftFeatureError(
      `no bins for the monitored feature(s) ${missing.join(', ')} (present: ${[...byFeature.keys()].join(', ')})`,
    );
  }
  return Object.fromEntries(wanted.map((f) => [f, driftOfFeature(f, byFeature.get(f) as DriftBinRow[], thresholds)]));
}

/** Max severity, the prediction's PSI and severity, and one alert per feature at Low or above. */
export function summarize(features: Record<string, FeatureDrift>, thresholds: DriftThresholds): DriftSummary {
  const alerts: DriftAlert[] = [];
  for (const [feature, d] of Object.entries(features)) {
    if (d.severity === 'none') continue;
    alerts.push({
      feature,
      metric: 'psi',
      value: d.psi,
      threshold: d.severity === 'medium' ? thresholds.psi_medium : thresholds.psi_low,
      severity: d.severity,
    });
  }
  const prediction = features[DRIFT_PREDICTION_FEATURE];
  return {
    features,
    max_severity: maxSeverity(Object.values(features).map((d) => d.severity)),
    prediction_psi: prediction ? prediction.psi : null,
    prediction_severity: prediction ? prediction.severity : null,
    alerts,
  };
}

/** One row of the gold monitoring_metrics table (lib/contracts/lake-tables.ts), partition key run_date included. */
export interface MonitoringMetricRow {
  readonly run_id: string;
  readonly pipeline: string;
  readonly model_version: string;
  readonly metric: string;
  readonly feature: string | null;
  readonly value: number;
  readonly details: string;
  readonly created_at: string;
  readonly run_date: string;
}

export interface DriftRunContext {
  readonly run_id: string;
  readonly model_version: string;
  readonly scoring_date: string;
  readonly thresholds: DriftThresholds;
  readonly created_at: string;
}

/** The monitoring_metrics rows of a drift run: per feature psi, and ks (numeric) or chi_square and its p-value. */
export function driftMetricRows(summary: DriftSummary, ctx: DriftRunContext): MonitoringMetricRow[] {
  const rows: MonitoringMetricRow[] = [];
  for (const [feature, d] of Object.entries(summary.features)) {
    const details = JSON.stringify({
      kind: d.kind,
      severity: d.severity,
      thresholds: ctx.thresholds,
      scoring_date: ctx.scoring_date,
      baseline_total: d.baseline_total,
      current_total: d.current_total,
      bins: d.bins.map((b) => ({
        bin: b.bin,
        ...(b.kind === 'numeric' ? { lower: b.lower, upper: b.upper } : { category: b.category }),
        baseline_count: b.baseline_count,
        current_count: b.current_count,
      })),
    });
    const metrics: [string, number | null][] = [
      ['psi', d.psi],
      ['ks', d.ks],
      ['chi_square', d.chi_square],
      ['chi_square_p_value', d.chi_square_p_value],
    ];
    for (const [metric, value] of metrics) {
      if (value === null) continue;
      rows.push({
        run_id: ctx.run_id,
        pipeline: 'monitoring',
        model_version: ctx.model_version,
        metric,
        feature,
        value,
        details,
        created_at: ctx.created_at,
        run_date: ctx.scoring_date,
      });
    }
  }
  return rows;
}
