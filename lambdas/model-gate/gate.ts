/**
 * The model gate of the training pipeline: reads the evaluation report (sagemaker/evaluate.py's evaluation.json)
 * and decides whether the model may be registered. Pure: the report comes in as data.
 *
 * Checks (each can be tuned in the execution input's `gate` object; defaults below):
 * - revenue normalized Gini on the test snapshot ≥ min_gini;
 * - churn AUC ≥ min_churn_auc (skipped when the test snapshot has a single churn class: AUC undefined);
 * - top-decile capture ≥ min_top_decile_capture;
 * - RMSE reduction against the heuristic baseline ≥ min_heuristic_rmse_reduction (skipped without that baseline);
 * - at least min_test_rows evaluated rows.
 * A check whose metric is missing or not a number fails, naming the metric: no model passes on absent evidence.
 */
import { z } from 'zod';

export const thresholdsSchema = z.object({
  min_gini: z.number().min(-1).max(1).default(0.2),
  min_churn_auc: z.number().min(0).max(1).default(0.6),
  min_top_decile_capture: z.number().min(0).max(1).default(0.15),
  min_heuristic_rmse_reduction: z.number().min(-10).max(1).default(0),
  min_test_rows: z.number().int().min(1).default(50),
});
export type Thresholds = z.infer<typeof thresholdsSchema>;

export const gateInputSchema = z.object({
  evaluation_uri: z.string().regex(/^s3:\/\/[^/]+\/.+\.json$/, 'an s3:// URI of evaluation.json'),
  thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
});
export type GateInput = z.infer<typeof gateInputSchema>;

const finite = z.number().finite();
export const evaluationSchema = z.looseObject({
  model_version: z.string(),
  rows: z.looseObject({ evaluated: z.number().int() }),
  revenue: z.looseObject({
    rmse: z.number().nullable(),
    mae: z.number().nullable(),
    gini_normalized: z.number().nullable(),
    top_decile_capture: z.number().nullable(),
  }),
  churn: z.looseObject({ auc: z.number().nullable() }),
  checks: z.record(z.string(), z.union([z.number(), z.boolean(), z.null()])).default({}),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

export interface CheckResult {
  name: string;
  value: number | null;
  threshold: number;
  status: 'pass' | 'fail' | 'skipped';
  reason?: string;
}

export interface GateOutput {
  passed: boolean;
  model_version: string;
  checks: CheckResult[];
  /** The failed checks, one line each (empty when passed). */
  reasons: string[];
  /** Headline metrics as strings (Model Registry metadata values must be strings). */
  metrics: { rmse: string; mae: string; gini: string; churn_auc: string; top_decile_capture: string };
}

function atLeast(name: string, value: number | null | undefined, threshold: number, skipWhenNull = false): CheckResult {
  if (value === null || value === undefined || !finite.safeParse(value).success) {
    return skipWhenNull
      ? { name, value: null, threshold, status: 'skipped', reason: `${name} is undefined for this test snapshot` }
      : { name, value: null, threshold, status: 'fail', reason: `${name} is missing from the evaluation report` };
  }
  return value >= threshold
    ? { name, value, threshold, status: 'pass' }
    : { name, value, threshold, status: 'fail', reason: `${name} = ${value.toFixed(4)} < ${threshold}` };
}

const str = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : String(v));

export function runGate(evaluation: Evaluation, thresholds: Thresholds): GateOutput {
  const heuristic = evaluation.checks.heuristic_rmse_reduction;
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
  ];
  const failed = checks.filter((c) => c.status === 'fail');
  return {
    passed: failed.length === 0,
    model_version: evaluation.model_version,
    checks,
    reasons: failed.map((c) => c.reason ?? c.name),
    metrics: {
      rmse: str(evaluation.revenue.rmse),
      mae: str(evaluation.revenue.mae),
      gini: str(evaluation.revenue.gini_normalized),
      churn_auc: str(evaluation.churn.auc),
      top_decile_capture: str(evaluation.revenue.top_decile_capture),
    },
  };
}
