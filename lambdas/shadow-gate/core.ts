/**
 * Shadow gate (state-machines/shadow.asl.json): judges the challenger's shadow run beside the champion from facts
 * the state machine gathered — both transform jobs' status and times (the .sync results) and the comparison the
 * processing job computed over the two outputs (sagemaker/clv_model/shadow_compare.py; the data stays there).
 *
 * Passes when every check passes:
 * - the challenger's transform job completed;
 * - its runtime (TransformEndTime − TransformStartTime) ≤ the champion's × (1 + max_runtime_increase) +
 *   runtime_tolerance_seconds (at the limit passes);
 * - its mean prediction (predicted_revenue_12m) moved less than max_mean_shift relative to the champion's
 *   (|mean_ch − mean_champ| / |mean_champ| < max_mean_shift; at the limit fails);
 * - it is not degenerate: no predictions, any NaN, any negative value, all zeros, or a single value.
 * The rank correlation (Spearman) and the top-decile overlap are reported, not gated.
 */
import { z } from 'zod';

export const thresholdsSchema = z.strictObject({
  /** Largest relative runtime increase against the champion's transform job (0.10 = 10%). */
  max_runtime_increase: z.number().min(0).max(10),
  /** The mean prediction must move less than this share of the champion's mean (0.15 = 15%). */
  max_mean_shift: z.number().gt(0).max(10),
  /** Seconds added to the runtime limit: job start-up jitter that says nothing about the model. */
  runtime_tolerance_seconds: z.number().min(0).max(3600),
});
export type ShadowThresholds = z.infer<typeof thresholdsSchema>;

/** A .sync time: epoch milliseconds (how Step Functions serializes SageMaker times) or an ISO-8601 string. */
const time = z.union([z.number().nonnegative(), z.iso.datetime({ offset: true })]);

const transformSchema = z.looseObject({
  status: z.string().min(1),
  job_name: z.string().min(1).optional(),
  start_time: time.optional(),
  end_time: time.optional(),
  failure: z.unknown().optional(),
});
export type TransformFacts = z.infer<typeof transformSchema>;

export const predictionStatsSchema = z.looseObject({
  n: z.number().int().nonnegative(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  n_nan: z.number().int().nonnegative(),
  n_negative: z.number().int().nonnegative(),
  n_zero: z.number().int().nonnegative(),
  n_distinct: z.number().int().nonnegative(),
});
export type PredictionStats = z.infer<typeof predictionStatsSchema>;

export const comparisonSchema = z.looseObject({
  column: z.string().min(1),
  rows_joined: z.number().int().nonnegative(),
  champion: predictionStatsSchema,
  challenger: predictionStatsSchema,
  rank_correlation: z.number().nullable(),
  top_decile_overlap: z.number().min(0).max(1).nullable(),
});
export type Comparison = z.infer<typeof comparisonSchema>;

export const gateInputSchema = z.strictObject({
  thresholds: thresholdsSchema,
  champion: transformSchema,
  challenger: transformSchema,
  /** The comparison report; null when the challenger's job did not complete (nothing to compare). */
  comparison: comparisonSchema.nullable(),
  comparison_uri: z.string().nullable(),
  execution: z.string().min(1),
  champion_model_version: z.string(),
});
export type ShadowGateInput = z.infer<typeof gateInputSchema>;

export interface ShadowGateOutput {
  passed: boolean;
  reasons: string[];
  summary: {
    challenger_completed: boolean;
    champion_runtime_s: number | null;
    challenger_runtime_s: number | null;
    runtime_increase: number | null;
    runtime_limit_s: number | null;
    champion_mean: number | null;
    challenger_mean: number | null;
    mean_shift: number | null;
    degenerate: string[];
    rank_correlation: number | null;
    top_decile_overlap: number | null;
    rows_compared: number | null;
  };
  /** CustomerMetadataProperties for the challenger package (string values, ≤ 256 characters each). */
  metadata: Record<string, string>;
}

const toMs = (t: number | string): number => (typeof t === 'number' ? t : Date.parse(t));

/** Seconds between the job's start and end, or null when either is missing. */
export function runtimeSeconds(job: TransformFacts): number | null {
  if (job.start_time === undefined || job.end_time === undefined) return null;
  return (toMs(job.end_time) - toMs(job.start_time)) / 1000;
}

/** The degenerate kinds of a prediction column (empty: sound). */
export function degenerateKinds(s: PredictionStats): string[] {
  if (s.n === 0) return ['no predictions'];
  const kinds: string[] = [];
  if (s.n_nan > 0) kinds.push(`${s.n_nan} NaN prediction(s)`);
  if (s.n_negative > 0) kinds.push(`${s.n_negative} negative prediction(s)`);
  if (s.n_zero === s.n) kinds.push('all predictions are zero');
  else if (s.n_distinct === 1) kinds.push('a single predicted value for every customer');
  return kinds;
}

const fmt = (x: number, digits = 4) => Number(x.toFixed(digits));
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function runShadowGate(input: ShadowGateInput): ShadowGateOutput {
  const t = input.thresholds;
  const reasons: string[] = [];
  const completed = input.challenger.status === 'Completed';
  if (!completed) {
    reasons.push(
      `challenger transform job did not complete (status ${input.challenger.status}${
        input.challenger.failure === undefined ? '' : `: ${JSON.stringify(input.challenger.failure).slice(0, 300)}`
      })`,
    );
  }
  const champRt = runtimeSeconds(input.champion);
  const chRt = completed ? runtimeSeconds(input.challenger) : null;
  let runtimeIncrease: number | null = null;
  let runtimeLimit: number | null = null;
  if (completed) {
    if (champRt === null || chRt === null) {
      reasons.push('transform job times missing (TransformStartTime/TransformEndTime): runtime cannot be compared');
    } else {
      runtimeLimit = champRt * (1 + t.max_runtime_increase) + t.runtime_tolerance_seconds;
      runtimeIncrease = champRt > 0 ? (chRt - champRt) / champRt : null;
      if (chRt > runtimeLimit + 1e-9) {
        reasons.push(
          `challenger runtime ${fmt(chRt, 3)} s exceeds the limit ${fmt(runtimeLimit, 3)} s (champion ${fmt(champRt, 3)} s × ` +
            `(1 + ${t.max_runtime_increase}) + ${t.runtime_tolerance_seconds} s)`,
        );
      }
    }
  }
  const c = input.comparison;
  let meanShift: number | null = null;
  let degenerate: string[] = [];
  if (completed && c === null) reasons.push('no comparison report for a completed challenger');
  if (c !== null) {
    degenerate = degenerateKinds(c.challenger);
    for (const d of degenerate) reasons.push(`challenger is degenerate: ${d}`);
    const cm = c.champion.mean;
    const hm = c.challenger.mean;
    if (cm === null || hm === null || !Number.isFinite(cm) || !Number.isFinite(hm)) {
      reasons.push('mean prediction not comparable (a mean is missing or not finite)');
    } else if (cm === 0) {
      reasons.push('champion mean prediction is 0: the relative shift is undefined');
    } else {
      meanShift = Math.abs(hm - cm) / Math.abs(cm);
      if (!(meanShift < t.max_mean_shift)) {
        reasons.push(
          `mean prediction moved ${pct(meanShift)} (champion ${fmt(cm)}, challenger ${fmt(hm)}); ` +
            `the limit is less than ${pct(t.max_mean_shift)}`,
        );
      }
    }
  }
  const passed = reasons.length === 0;
  const summary: ShadowGateOutput['summary'] = {
    challenger_completed: completed,
    champion_runtime_s: champRt,
    challenger_runtime_s: chRt,
    runtime_increase: runtimeIncrease,
    runtime_limit_s: runtimeLimit,
    champion_mean: c?.champion.mean ?? null,
    challenger_mean: c?.challenger.mean ?? null,
    mean_shift: meanShift,
    degenerate,
    rank_correlation: c?.rank_correlation ?? null,
    top_decile_overlap: c?.top_decile_overlap ?? null,
    rows_compared: c?.rows_joined ?? null,
  };
  const num = (x: number | null) => (x === null ? 'n/a' : String(fmt(x, 6)));
  const metadata: Record<string, string> = {
    stage: passed ? 'Canary' : 'Staging',
    shadow_passed: String(passed),
    shadow_execution: input.execution.slice(0, 256),
    shadow_champion: input.champion_model_version.slice(0, 256) || 'n/a',
    shadow_mean_shift: num(meanShift),
    shadow_runtime_increase: num(runtimeIncrease),
    shadow_rank_correlation: num(summary.rank_correlation),
    shadow_top_decile_overlap: num(summary.top_decile_overlap),
    shadow_comparison_uri: (input.comparison_uri ?? 'n/a').slice(0, 256),
  };
  if (!passed) metadata.shadow_reasons = reasons.join('; ').slice(0, 256);
  return { passed, reasons, summary, metadata };
}
