/**
 * The model gate of the training pipeline: reads the evaluation report (sagemaker/evaluate.py's evaluation.json)
 * and decides whether the model (the challenger) may be registered. Pure: the report comes in as data.
 *
 * Thresholds: the execution's normalized `gate` object (ValidateInput fills every key from the environment config,
 * `trainingPipeline.gates`; a hand-started run may override some). Checks:
 * - at least min_test_rows evaluated rows;
 * - revenue normalized Gini on the test snapshot ≥ min_gini;
 * - churn AUC ≥ min_churn_auc (skipped when the test snapshot has a single churn class: AUC undefined);
 * - top-decile capture ≥ min_top_decile_capture;
 * - RMSE reduction against the heuristic baseline ≥ min_heuristic_rmse_reduction (skipped without that baseline);
 * - champion (the Production model, evaluated on the SAME test snapshot by the same job):
 *   challenger RMSE ≤ champion RMSE × (1 + champion_max_rmse_increase) and
 *   challenger Gini ≥ champion Gini − champion_max_gini_decrease; skipped ("no Production model: first model")
 *   when there is none;
 * - fairness, for country and for acquisition channel: disparate-impact ratio of mean predicted CLV, lowest /
 *   highest slice among slices with ≥ fairness_min_slice_customers customers (recomputed here from the report's
 *   per-slice means, so the gate's threshold is the one applied) ≥ fairness_min_ratio; skipped with fewer than two
 *   such slices.
 * A check whose metric is missing or not a number fails, naming the metric: no model passes on absent evidence.
 */
import { z } from 'zod';
import { gateSettingsSchema } from '../../lib/contracts/pipeline-inputs.js';

/** The gate thresholds: exactly the C2 `gate` keys (snake_case), every key required; one schema with the
 * pipeline settings and ValidateInput (lib/contracts/pipeline-inputs.ts). */
export const thresholdsSchema = gateSettingsSchema;
export type Thresholds = z.infer<typeof thresholdsSchema>;

/** The training pipeline's FindChampion result (model-registry Lambda, action find-production, required false). */
export const championLookupSchema = z.looseObject({
  found: z.boolean(),
  lookup: z
    .looseObject({
      model_package_arn: z.string().nullish(),
      version: z.number().int().nullish(),
      model_version: z.string().nullish(),
    })
    .nullish(),
});
export type ChampionLookup = z.infer<typeof championLookupSchema>;

export const gateInputSchema = z.object({
  evaluation_uri: z.string().regex(/^s3:\/\/[^/]+\/.+\.json$/, 'an s3:// URI of evaluation.json'),
  thresholds: thresholdsSchema,
  champion: championLookupSchema.optional(),
});
export type GateInput = z.infer<typeof gateInputSchema>;

const num = z.number().nullish();
const headline = z.looseObject({
  rmse: num,
  mae: num,
  gini_normalized: num,
  top_decile_capture: num,
});
const sliceSchema = z.looseObject({ customers: z.number().int(), mean_predicted: num });

export const evaluationSchema = z.looseObject({
  model_version: z.string(),
  rows: z.looseObject({ evaluated: z.number().int() }),
  revenue: headline,
  churn: z.looseObject({ auc: num }),
  checks: z.record(z.string(), z.union([z.number(), z.boolean(), z.null()])).default({}),
  slices: z.record(z.string(), z.looseObject({ slices: z.record(z.string(), sliceSchema) })).default({}),
  /** Absent in reports of older evaluation code: read as "not evaluated" (the gate then fails a found champion). */
  champion: z
    .union([
      z.looseObject({ present: z.literal(false), reason: z.string() }),
      z.looseObject({
        present: z.literal(true),
        model_version: z.string().nullish(),
        error: z.string().nullish(),
        revenue: headline.nullish(),
        churn: z.looseObject({ auc: num }).nullish(),
      }),
    ])
    .optional(),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

export const FAIRNESS_SLICES = ['country', 'acquisition_channel'] as const;
export const NO_CHAMPION = 'no Production model: first model';

export interface CheckResult {
  name: string;
  value: number | null;
  threshold: number;
  status: 'pass' | 'fail' | 'skipped';
  reason?: string;
}

type Headline = { rmse: string; mae: string; gini: string; churn_auc: string; top_decile_capture: string };

export interface FairnessResult {
  ratio: number | null;
  lowest_slice: string | null;
  highest_slice: string | null;
  eligible_slices: number;
}

export interface GateOutput {
  passed: boolean;
  model_version: string;
  checks: CheckResult[];
  /** The failed checks, one line each (empty when passed). */
  reasons: string[];
  /** The challenger's headline metrics as strings (Model Registry metadata values must be strings). */
  metrics: Headline;
  /** What the challenger was compared against; `compared: false` with the reason when it was not. */
  champion: {
    compared: boolean;
    reason: string | null;
    model_version: string | null;
    model_package_arn: string | null;
    metrics: Headline | null;
  };
  /** Disparate-impact ratio per slice column, as the gate computed it. */
  fairness: Record<(typeof FAIRNESS_SLICES)[number], FairnessResult>;
  /** Flat string values for the model package's CustomerMetadataProperties. */
  metadata: {
    champion_model_version: string;
    champion_model_package_arn: string;
    champion_comparison: string;
    fairness_ratio_country: string;
    fairness_ratio_acquisition_channel: string;
  };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function missing(name: string, threshold: number, what = `${name} is missing from the evaluation report`) {
  return { name, value: null, threshold, status: 'fail', reason: what } satisfies CheckResult;
}

function atLeast(name: string, value: number | null | undefined, threshold: number, skipWhenNull = false): CheckResult {
  if (!isNumber(value)) {
    return skipWhenNull
      ? { name, value: null, threshold, status: 'skipped', reason: `${name} is undefined for this test snapshot` }
      : missing(name, threshold);
  }
  return value >= threshold
    ? { name, value, threshold, status: 'pass' }
    : { name, value, threshold, status: 'fail', reason: `${name} = ${value.toFixed(4)} < ${threshold}` };
}

const str = (v: number | null | undefined): string => (isNumber(v) ? String(v) : 'n/a');

function headlineOf(revenue: z.infer<typeof headline> | null | undefined, auc: number | null | undefined): Headline {
  return {
    rmse: str(revenue?.rmse),
    mae: str(revenue?.mae),
    gini: str(revenue?.gini_normalized),
    churn_auc: str(auc),
    top_decile_capture: str(revenue?.top_decile_capture),
  };
}

/** The champion checks: RMSE at most champion × (1 + max increase), Gini at least champion − max decrease. */
export function championChecks(
  evaluation: Evaluation,
  thresholds: Thresholds,
  lookup?: ChampionLookup,
): { checks: CheckResult[]; compared: boolean; reason: string | null } {
  const c = evaluation.champion;
  const skipped = (reason: string): CheckResult[] => [
    { name: 'champion_rmse', value: null, threshold: thresholds.champion_max_rmse_increase, status: 'skipped', reason },
    { name: 'champion_gini', value: null, threshold: thresholds.champion_max_gini_decrease, status: 'skipped', reason },
  ];
  const failed = (reason: string): CheckResult[] => [
    missing('champion_rmse', thresholds.champion_max_rmse_increase, reason),
    missing('champion_gini', thresholds.champion_max_gini_decrease, reason),
  ];
  const registryHasOne = lookup?.found === true;
  if (c === undefined || c.present === false) {
    if (registryHasOne) {
      const v = lookup?.lookup?.version ?? '?';
      const reason = `the registry has a Production model (version ${v}) but the evaluation report has no champion metrics`;
      return { checks: failed(reason), compared: false, reason };
    }
    const reason = c?.present === false ? c.reason || NO_CHAMPION : NO_CHAMPION;
    return { checks: skipped(reason), compared: false, reason };
  }
  if (c.error) {
    const reason = `the champion could not be evaluated on the test snapshot: ${c.error}`;
    return { checks: failed(reason), compared: false, reason };
  }
  const checks: CheckResult[] = [];
  const rmse = evaluation.revenue.rmse;
  const champRmse = c.revenue?.rmse;
  if (!isNumber(champRmse))
    checks.push(missing('champion_rmse', thresholds.champion_max_rmse_increase, 'champion rmse is missing'));
  else {
    const bound = champRmse * (1 + thresholds.champion_max_rmse_increase);
    if (!isNumber(rmse)) checks.push(missing('champion_rmse', bound, 'rmse is missing from the evaluation report'));
    else
      checks.push(
        rmse <= bound
          ? { name: 'champion_rmse', value: rmse, threshold: bound, status: 'pass' }
          : {
              name: 'champion_rmse',
              value: rmse,
              threshold: bound,
              status: 'fail',
              reason:
                `rmse = ${rmse.toFixed(4)} > ${bound.toFixed(4)} (champion ${c.model_version ?? '?'} rmse ` +
                `${champRmse.toFixed(4)} × (1 + ${thresholds.champion_max_rmse_increase}))`,
            },
      );
  }
  const champGini = c.revenue?.gini_normalized;
  if (!isNumber(champGini))
    checks.push(missing('champion_gini', thresholds.champion_max_gini_decrease, 'champion gini_normalized is missing'));
  else {
    const bound = champGini - thresholds.champion_max_gini_decrease;
    const check = atLeast('champion_gini', evaluation.revenue.gini_normalized, bound);
    if (check.status === 'fail' && check.value !== null) {
      check.reason =
        `gini_normalized = ${check.value.toFixed(4)} < ${bound.toFixed(4)} (champion ${c.model_version ?? '?'} ` +
        `gini ${champGini.toFixed(4)} − ${thresholds.champion_max_gini_decrease})`;
    }
    checks.push(check);
  }
  return { checks, compared: true, reason: null };
}

/** Disparate-impact ratio of mean predicted value (lowest / highest eligible slice) for one slice column. */
export function fairnessCheck(
  evaluation: Evaluation,
  column: string,
  thresholds: Thresholds,
): { check: CheckResult; result: FairnessResult } {
  const name = `fairness_${column}`;
  const min = thresholds.fairness_min_ratio;
  const none: FairnessResult = { ratio: null, lowest_slice: null, highest_slice: null, eligible_slices: 0 };
  const slices = evaluation.slices[column]?.slices;
  if (!slices)
    return { check: missing(name, min, `slices by ${column} are missing from the evaluation report`), result: none };
  const eligible = Object.entries(slices).filter(([, s]) => s.customers >= thresholds.fairness_min_slice_customers);
  const result = { ...none, eligible_slices: eligible.length };
  if (eligible.length < 2) {
    const reason = `fewer than two ${column} slices with ≥ ${thresholds.fairness_min_slice_customers} customers (${eligible.length})`;
    return { check: { name, value: null, threshold: min, status: 'skipped', reason }, result };
  }
  const bad = eligible.find(([, s]) => !isNumber(s.mean_predicted));
  if (bad) return { check: missing(name, min, `mean_predicted of ${column} slice ${bad[0]} is missing`), result };
  const sorted = eligible.map(([k, s]) => [k, s.mean_predicted as number] as const).sort((a, b) => a[1] - b[1]);
  const [lo, hi] = [sorted[0] as readonly [string, number], sorted.at(-1) as readonly [string, number]];
  if (hi[1] <= 0) {
    const reason = `${name} is undefined: the highest mean predicted value (${hi[0]}) is ${hi[1]}`;
    return { check: missing(name, min, reason), result: { ...result, lowest_slice: lo[0], highest_slice: hi[0] } };
  }
  const value = lo[1] / hi[1];
  const full = { ratio: value, lowest_slice: lo[0], highest_slice: hi[0], eligible_slices: eligible.length };
  const check = atLeast(name, value, min);
  if (check.status === 'fail') check.reason = `${name} = ${value.toFixed(4)} < ${min} (${lo[0]} / ${hi[0]})`;
  return { check, result: full };
}

export function runGate(evaluation: Evaluation, thresholds: Thresholds, lookup?: ChampionLookup): GateOutput {
  const heuristic = evaluation.checks.heuristic_rmse_reduction;
  const champion = championChecks(evaluation, thresholds, lookup);
  const fairness = FAIRNESS_SLICES.map((col) => fairnessCheck(evaluation, col, thresholds));
  const checks: CheckResult[] = [
    atLeast('test_rows', evaluation.rows.evaluated, thresholds.min_test_rows),
    atLeast('gini_normalized', evaluation.revenue.gini_normalized, thresholds.min_gini),
    atLeast('churn_auc', evaluation.churn.auc, thresholds.min_churn_auc, true),
    atLeast('top_decile_capture', evaluation.revenue.top_decile_capture, thresholds.min_top_decile_capture),
    typeof heuristic === 'number'
      ? atLeast('heuristic_rmse_reduction', heuristic, thresholds.min_heuristic_rmse_reduction)
      : {
          name: 'heuristic_rmse_reduction',
          value: null,
          threshold: thresholds.min_heuristic_rmse_reduction,
          status: 'skipped',
          reason: 'no heuristic baseline in the report',
        },
    ...champion.checks,
    ...fairness.map((f) => f.check),
  ];
  const failed = checks.filter((c) => c.status === 'fail');
  const c = evaluation.champion?.present === true ? evaluation.champion : undefined;
  const championVersion = c?.model_version ?? lookup?.lookup?.model_version ?? null;
  const championArn = lookup?.found ? (lookup.lookup?.model_package_arn ?? null) : null;
  const [country, channel] = fairness.map((f) => f.result) as [FairnessResult, FairnessResult];
  const comparison = champion.compared
    ? failed.some((x) => x.name.startsWith('champion_'))
      ? 'fail'
      : 'pass'
    : `${failed.some((x) => x.name.startsWith('champion_')) ? 'fail' : 'skipped'}: ${champion.reason}`;
  return {
    passed: failed.length === 0,
    model_version: evaluation.model_version,
    checks,
    reasons: failed.map((x) => x.reason ?? x.name),
    metrics: headlineOf(evaluation.revenue, evaluation.churn.auc),
    champion: {
      compared: champion.compared,
      reason: champion.reason,
      model_version: championVersion,
      model_package_arn: championArn,
      metrics: c && !c.error ? headlineOf(c.revenue, c.churn?.auc) : null,
    },
    fairness: { country, acquisition_channel: channel },
    metadata: {
      champion_model_version: championVersion ?? 'none',
      champion_model_package_arn: championArn ?? 'none',
      champion_comparison: comparison,
      fairness_ratio_country: str(country.ratio),
      fairness_ratio_acquisition_channel: str(channel.ratio),
    },
  };
}
