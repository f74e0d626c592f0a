/**
 * The campaign experiment's statistics, pure: from the sufficient statistics of each arm (n, conversions, revenue
 * sum and sum of squares, unsubscribes) to the sample-ratio-mismatch check, the conversion and revenue-per-user
 * comparisons with confidence intervals, the unsubscribe guardrail and the decision. Used by the analysis Lambda
 * (over Athena's arm aggregates) and by `clv experiment analyze` (over a per-customer file). The formulas are in
 * docs/experiments.md; the distributions come from @stdlib (no hand-written distribution code).
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { z } from 'zod';

/** SRM: the experiment is invalid when the chi-square p-value of the arms' counts is below this (issue #13). */
export const SRM_P_THRESHOLD = 0.001;
export const DEFAULT_EXPECTED_SHARE = 0.05;
export const DEFAULT_ALPHA = 0.05;

/** Relative slack when checking sum_sq ≥ sum²/n (the sums come from floating-point aggregation). */
const SUM_SQ_TOLERANCE = 1e-9;

const count = z.number().int().nonnegative();

export const armAggregatesSchema = z
  .object({
    /** Customers in the arm (the audience). */
    n: count,
    /** Customers of the arm who converted. */
    conversions: count,
    /** Sum of the customers' revenue (0 for those without a purchase). */
    revenue_sum: z.number().nonnegative(),
    /** Sum of the squared per-customer revenue. */
    revenue_sum_sq: z.number().nonnegative(),
    /** Customers of the arm who unsubscribed. */
    unsubscribes: count,
  })
  .superRefine((a, ctx) => {
    if (a.conversions > a.n) ctx.addIssue({ code: 'custom', path: ['conversions'], message: `exceeds n (${a.n})` });
    if (a.unsubscribes > a.n) ctx.addIssue({ code: 'custom', path: ['unsubscribes'], message: `exceeds n (${a.n})` });
    if (a.n === 0 && a.revenue_sum > 0) ctx.addIssue({ code: 'custom', path: ['revenue_sum'], message: 'n is 0' });
    // Cauchy–Schwarz: Σx² ≥ (Σx)²/n; anything less is not a sum of squares of these values.
    if (a.n > 0 && a.revenue_sum_sq < (a.revenue_sum ** 2 / a.n) * (1 - SUM_SQ_TOLERANCE)) {
      ctx.addIssue({
        code: 'custom',
        path: ['revenue_sum_sq'],
        message: `${a.revenue_sum_sq} is below revenue_sum²/n = ${a.revenue_sum ** 2 / a.n}: not a sum of squares`,
      });
    }
  });

export type ArmAggregates = z.infer<typeof armAggregatesSchema>;

export const analysisInputSchema = z.object({
  control: armAggregatesSchema,
  treatment: armAggregatesSchema,
  /** The treatment arm's expected share of all customers (canary 0.05, A/B 0.5). */
  expected_share: z.number().gt(0).lt(1).default(DEFAULT_EXPECTED_SHARE),
  /** Significance level of the comparisons; the intervals are at 1 − alpha. */
  alpha: z.number().gt(0).lt(1).default(DEFAULT_ALPHA),
});

export type AnalysisInput = z.input<typeof analysisInputSchema>;

export type Decision = 'ship' | 'no_difference' | 'worse' | 'invalid';

export interface SrmResult {
  p_value: number;
  valid: boolean;
  chi_square: number;
  expected_share: number;
  observed_share: number;
}

export interface ProportionComparison {
  control_rate: number;
  treatment_rate: number;
  /** treatment_rate − control_rate. */
  diff: number;
  ci_low: number;
  ci_high: number;
  /** Two-sided, pooled-proportion z-test. */
  p_value: number;
  /** The z statistic; null when the pooled proportion is 0 or 1 (no variation: p_value 1). */
  z: number | null;
}

export interface MeanComparison {
  control_mean: number;
  treatment_mean: number;
  /** treatment_mean − control_mean. */
  diff: number;
  ci_low: number;
  ci_high: number;
  /** Two-sided Welch t-test. */
  p_value: number;
  /** The t statistic; null when both arms have zero variance (then p_value is 1 for equal means, else 0). */
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom; null when both arms have zero variance. */
  df: number | null;
}

export interface GuardrailResult {
  control_rate: number;
  treatment_rate: number;
  p_value: number;
  /** Treatment's unsubscribe rate is significantly higher (p < alpha and treatment_rate > control_rate). */
  worse: boolean;
}

export interface Analysis {
  decision: Decision;
  /** Why: one sentence per finding that drove the decision. */
  reasons: string[];
  alpha: number;
  n: { control: number; treatment: number };
  srm: SrmResult;
  conversion: ProportionComparison;
  revenue_per_user: MeanComparison;
  guardrail: { unsubscribe: GuardrailResult };
}

/** An arm with fewer than two customers: the variances and the tests are undefined. */
export class InsufficientDataError extends Error {
  override name = 'InsufficientDataError';
}

/** Input that is not a pair of arm aggregates (the message names the field). */
export class AnalysisInputError extends Error {
  override name = 'AnalysisInputError';
}

/** Upper tail of the standard normal, two-sided: 2·Φ(−|z|) (accurate far in the tail, unlike 1 − Φ). */
const twoSidedNormal = (zValue: number): number => Math.min(1, 2 * normalCdf(-Math.abs(zValue), 0, 1));

/**
 * Chi-square goodness of fit of the arms' counts against (1 − share, share), 1 degree of freedom.
 * Valid unless p < SRM_P_THRESHOLD.
 */
export function sampleRatioMismatch(nControl: number, nTreatment: number, expectedShare: number): SrmResult {
  const total = nControl + nTreatment;
  const expT = total * expectedShare;
  const expC = total - expT;
  const chi = (nTreatment - expT) ** 2 / expT + (nControl - expC) ** 2 / expC;
  const p = Math.max(0, 1 - chisquareCdf(chi, 1));
  return {
    p_value: p,
    valid: !(p < SRM_P_THRESHOLD),
    chi_square: chi,
    expected_share: expectedShare,
    observed_share: nTreatment / total,
  };
}

/**
 * Two proportions: the two-sided z-test with the pooled proportion, and the interval of the difference
 * (treatment − control) at 1 − alpha with the unpooled standard error.
 */
export function compareProportions(
  xC: number,
  nC: number,
  xT: number,
  nT: number,
  alpha: number,
): ProportionComparison {
  const pC = xC / nC;
  const pT = xT / nT;
  const diff = pT - pC;
  const pooled = (xC + xT) / (nC + nT);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / nC + 1 / nT));
  // pooled 0 or 1: both arms all-0 or all-1, no variation and no difference: p = 1
  const zValue = sePooled > 0 ? diff / sePooled : null;
  const p = zValue === null ? 1 : twoSidedNormal(zValue);
  const seDiff = Math.sqrt((pC * (1 - pC)) / nC + (pT * (1 - pT)) / nT);
  const half = normalQuantile(1 - alpha / 2, 0, 1) * seDiff;
  return {
    control_rate: pC,
    treatment_rate: pT,
    diff,
    ci_low: diff - half,
    ci_high: diff + half,
    p_value: p,
    z: zValue,
  };
}

/** Sample variance (n − 1) from a sum and a sum of squares; rounding can make it a hair below 0: clamped. */
export function sampleVariance(n: number, sum: number, sumSq: number): number {
  return Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
}

/**
 * Welch's t-test of the means (treatment − control) from sums and sums of squares, Welch–Satterthwaite degrees
 * of freedom, and the interval of the difference at 1 − alpha with the t quantile.
 */
export function compareMeans(c: ArmAggregates, t: ArmAggregates, alpha: number): MeanComparison {
  const mC = c.revenue_sum / c.n;
  const mT = t.revenue_sum / t.n;
  const diff = mT - mC;
  const vC = sampleVariance(c.n, c.revenue_sum, c.revenue_sum_sq) / c.n;
  const vT = sampleVariance(t.n, t.revenue_sum, t.revenue_sum_sq) / t.n;
  const se = Math.sqrt(vC + vT);
  if (se === 0) {
    // No variation in either arm: the difference is known exactly.
    return {
      control_mean: mC,
      treatment_mean: mT,
      diff,
      ci_low: diff,
      ci_high: diff,
      p_value: diff === 0 ? 1 : 0,
      t: null,
      df: null,
    };
  }
  const df = (vC + vT) ** 2 / (vC ** 2 / (c.n - 1) + vT ** 2 / (t.n - 1));
  const tValue = diff / se;
  const p = Math.min(1, 2 * tCdf(-Math.abs(tValue), df));
  const half = tQuantile(1 - alpha / 2, df) * se;
  return {
    control_mean: mC,
    treatment_mean: mT,
    diff,
    ci_low: diff - half,
    ci_high: diff + half,
    p_value: p,
    t: tValue,
    df,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3));
const pv = (x: number) => (x < 1e-4 ? x.toExponential(2) : x.toFixed(4));

/** The whole analysis; fails with AnalysisInputError or InsufficientDataError, never returns NaN. */
export function analyzeExperiment(raw: AnalysisInput): Analysis {
  const parsed = analysisInputSchema.safeParse(raw);
  if (!parsed.success) throw new AnalysisInputError(`experiment analysis input: ${z.prettifyError(parsed.error)}`);
  const { control: c, treatment: t, expected_share: share, alpha } = parsed.data;
  for (const [arm, a] of [
    ['control', c],
    ['treatment', t],
  ] as const) {
    if (a.n < 2) {
      throw new InsufficientDataError(
        `the ${arm} arm has ${a.n} customer(s); the analysis needs at least 2 per arm (variances are undefined below)`,
      );
    }
  }
  const srm = sampleRatioMismatch(c.n, t.n, share);
  const conversion = compareProportions(c.conversions, c.n, t.conversions, t.n, alpha);
  const revenue = compareMeans(c, t, alpha);
  const unsub = compareProportions(c.unsubscribes, c.n, t.unsubscribes, t.n, alpha);
  const guardrail: GuardrailResult = {
    control_rate: unsub.control_rate,
    treatment_rate: unsub.treatment_rate,
    p_value: unsub.p_value,
    worse: unsub.p_value < alpha && unsub.treatment_rate > unsub.control_rate,
  };

  const sig = (p: number) => p < alpha;
  const convUp = sig(conversion.p_value) && conversion.diff > 0;
  const convDown = sig(conversion.p_value) && conversion.diff < 0;
  const revUp = sig(revenue.p_value) && revenue.diff > 0;
  const revDown = sig(revenue.p_value) && revenue.diff < 0;
  const reasons: string[] = [];
  let decision: Decision;
  if (!srm.valid) {
    decision = 'invalid';
    reasons.push(
      `sample ratio mismatch: treatment holds ${pct(srm.observed_share)} of ${c.n + t.n} customers, expected ` +
        `${pct(share)} (chi-square p = ${pv(srm.p_value)} < ${SRM_P_THRESHOLD}); the assignment or the data is ` +
        'broken, so no comparison is trusted',
    );
  } else {
    if (guardrail.worse) {
      reasons.push(
        `unsubscribe guardrail: treatment ${pct(guardrail.treatment_rate)} vs control ${pct(guardrail.control_rate)} ` +
          `is significantly higher (p = ${pv(guardrail.p_value)} < ${alpha})`,
      );
    }
    if (convDown) {
      reasons.push(
        `conversion is significantly lower: ${pct(conversion.treatment_rate)} vs ${pct(conversion.control_rate)} ` +
          `(p = ${pv(conversion.p_value)})`,
      );
    }
    if (revDown) {
      reasons.push(
        `revenue per user is significantly lower: ${num(revenue.treatment_mean)} vs ${num(revenue.control_mean)} ` +
          `(p = ${pv(revenue.p_value)})`,
      );
    }
    if (reasons.length > 0) {
      decision = 'worse';
    } else if (convUp || revUp) {
      decision = 'ship';
      if (revUp) {
        reasons.push(
          `revenue per user is significantly higher: ${num(revenue.treatment_mean)} vs ${num(revenue.control_mean)} ` +
            `(diff ${num(revenue.diff)}, ${+(100 * (1 - alpha)).toFixed(2)}% CI [${num(revenue.ci_low)}, ${num(revenue.ci_high)}], ` +
            `p = ${pv(revenue.p_value)})`,
        );
      }
      if (convUp) {
        reasons.push(
          `conversion is significantly higher: ${pct(conversion.treatment_rate)} vs ${pct(conversion.control_rate)} ` +
            `(p = ${pv(conversion.p_value)})`,
        );
      }
      reasons.push('the unsubscribe guardrail holds');
    } else {
      decision = 'no_difference';
      reasons.push(
        `neither conversion (p = ${pv(conversion.p_value)}) nor revenue per user (p = ${pv(revenue.p_value)}) ` +
          `differs significantly at alpha = ${alpha}, and nothing is significantly worse`,
      );
    }
  }
  return {
    decision,
    reasons,
    alpha,
    n: { control: c.n, treatment: t.n },
    srm,
    conversion,
    revenue_per_user: revenue,
    guardrail: { unsubscribe: guardrail },
  };
}
