/**
 * One drift evaluation of a scoring run: the validated event → bins → per-feature drift → monitoring_metrics
 * rows written as Parquet → the state machine's output. Side effects through `deps` (object store, clock) so
 * tests and the local runtime run it as the Lambda does.
 */
import { DRIFT_FEATURES } from '../../lib/contracts/drift-features.js';
import { writeMonitoringMetrics } from '../shared/monitoring-metrics.js';
import type { ObjectStore } from '../shared/object-store.js';
import {
  type DriftAlert,
  driftMetricRows,
  EmptyDriftResultError,
  type FeatureDrift,
  featureDrift,
  type Severity,
  summarize,
} from './core.js';
import { binRowsFromResultSet, parseDriftEvent } from './event.js';

export interface DriftDeps {
  readonly store: ObjectStore;
  readonly now?: () => Date;
}

export interface DriftOutput {
  readonly run_id: string;
  readonly scoring_date: string;
  readonly model_version: string;
  readonly features: Readonly<Record<string, FeatureDrift>>;
  readonly max_severity: Severity;
  readonly prediction_psi: number;
  readonly prediction_severity: Severity;
  readonly alerts: readonly DriftAlert[];
  readonly metrics_uri: string;
  readonly rows_written: number;
}

export async function runDrift(event: unknown, deps: DriftDeps): Promise<DriftOutput> {
  const input = parseDriftEvent(event);
  const rows = binRowsFromResultSet(input.result_set);
  if (rows.length === 0) {
    throw new EmptyDriftResultError(
      `drift: the result set of drift_bins.sql has no rows: model ${input.model_version} has no baseline ` +
        `(drift_baselines/${input.model_version}.csv) or the query read nothing`,
    );
  }
  const features = featureDrift(rows, input.thresholds, DRIFT_FEATURES);
  const summary = summarize(features, input.thresholds);
  const metricRows = driftMetricRows(summary, {
    run_id: input.run_id,
    model_version: input.model_version,
    scoring_date: input.scoring_date,
    thresholds: input.thresholds,
    created_at: (deps.now ?? (() => new Date()))()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
  });
  const uri = await writeMonitoringMetrics(deps.store, input.gold_bucket, `${input.run_id}-drift`, metricRows);
  return {
    run_id: input.run_id,
    scoring_date: input.scoring_date,
    model_version: input.model_version,
    features: summary.features,
    max_severity: summary.max_severity,
    prediction_psi: summary.prediction_psi as number,
    prediction_severity: summary.prediction_severity as Severity,
    alerts: summary.alerts,
    metrics_uri: uri,
    rows_written: metricRows.length,
  };
}
