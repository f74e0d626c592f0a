/**
 * The drift-monitoring contract, declared once: which features the monitoring pipeline watches, how their
 * baseline bins are cut, and the layout of the baseline file stored with each model. Read by the drift Lambda
 * (lambdas/drift), `clv drift` (local/cli/drift-command.ts) and sql/monitoring/drift_bins.sql's tests; exported
 * to Python as sagemaker/clv_model/drift_features.json (scripts/export-drift-features.ts) for the evaluation job's
 * baseline (sagemaker/clv_model/drift_baseline.py). Decision 0030.
 */

/** Numeric model inputs watched for drift (binned by the training snapshot's deciles). */
export const DRIFT_NUMERIC_INPUTS = [
  'recency_days',
  'repeat_frequency',
  'monetary_total_net',
  'spend_90d',
  'sessions_90d',
  'tenure_days',
] as const;

/** The model output watched for drift: its PSI is the "prediction PSI" (retraining trigger). */
export const DRIFT_PREDICTION_FEATURE = 'predicted_revenue_12m' as const;

/** Categorical model inputs watched for drift (one bin per training category, `__other__`, NULL). */
export const DRIFT_CATEGORICAL_FEATURES = ['country', 'acquisition_channel'] as const;

/** Every numeric monitored feature: the inputs, then the prediction. */
export const DRIFT_NUMERIC_FEATURES = [...DRIFT_NUMERIC_INPUTS, DRIFT_PREDICTION_FEATURE] as const;

/** Every monitored feature, in report order. */
export const DRIFT_FEATURES: readonly string[] = [...DRIFT_NUMERIC_FEATURES, ...DRIFT_CATEGORICAL_FEATURES];

export type DriftKind = 'numeric' | 'categorical';

/** The kind of a monitored feature; undefined for a feature that is not monitored. */
export function driftKind(feature: string): DriftKind | undefined {
  if ((DRIFT_NUMERIC_FEATURES as readonly string[]).includes(feature)) return 'numeric';
  if ((DRIFT_CATEGORICAL_FEATURES as readonly string[]).includes(feature)) return 'categorical';
  return undefined;
}

/**
 * Quantile probabilities whose distinct values are a numeric feature's bin edges: the minimum and the deciles
 * 0.1..0.9 (numpy `quantile`, linear interpolation; DuckDB `quantile_cont`). Edges = the distinct values above
 * the minimum, so a feature constant in the baseline is one bin and no bin is empty at the baseline because of an
 * edge at the minimum; at most 10 bins. Bin i is [edge(i-1), edge(i)), the first open below, the last open above.
 */
export const DRIFT_EDGE_QUANTILES: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * The monitored population (decision 0035): customers whose last purchase is at most this many days before the
 * cutoff (`recency_days` <= it; never-buyers, with no recency, are out), in the baseline and in every scoring run
 * alike. Lapsed customers pile up in any shop that keeps every customer it ever had, so their share, tenure and
 * recency grow with the shop's age: in the whole population PSI measures the calendar, not the customers.
 */
export const DRIFT_ACTIVE_WINDOW_DAYS = 365;

/** The open ends of the first and last numeric bins in the baseline file (finite: CSV- and Athena-safe). */
export const OPEN_LOWER = -1e308;
export const OPEN_UPPER = 1e308;

/** The categorical bin of values not seen at training (baseline count 0). */
export const OTHER_CATEGORY = '__other__';

/** Gold-bucket prefix of the baseline files: drift_baselines/<model_version>.csv (lake table drift_baselines). */
export const DRIFT_BASELINES_PREFIX = 'drift_baselines/';

/** Columns of a baseline file, in order (lake table drift_baselines). */
export const DRIFT_BASELINE_COLUMNS = [
  'model_version',
  'feature',
  'kind',
  'bin',
  'lower',
  'upper',
  'category',
  'baseline_count',
] as const;

/** The contract as the JSON document Python reads (sagemaker/clv_model/drift_features.json). */
export function driftFeaturesDocument(): Record<string, unknown> {
  return {
    description:
      'Generated from lib/contracts/drift-features.ts by scripts/export-drift-features.ts; do not edit. Decisions 0030, 0035.',
    numeric_inputs: [...DRIFT_NUMERIC_INPUTS],
    prediction_feature: DRIFT_PREDICTION_FEATURE,
    categorical_features: [...DRIFT_CATEGORICAL_FEATURES],
    edge_quantiles: [...DRIFT_EDGE_QUANTILES],
    active_window_days: DRIFT_ACTIVE_WINDOW_DAYS,
    open_lower: OPEN_LOWER,
    open_upper: OPEN_UPPER,
    other_category: OTHER_CATEGORY,
    baselines_prefix: DRIFT_BASELINES_PREFIX,
    baseline_columns: [...DRIFT_BASELINE_COLUMNS],
  };
}
