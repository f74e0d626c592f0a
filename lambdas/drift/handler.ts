/**
 * Drift Lambda (monitoring pipeline): the binned counts of sql/monitoring/drift_bins.sql for one scoring run →
 * PSI / KS / chi-square per monitored feature, monitoring_metrics rows (Parquet, gold) and CloudWatch metrics
 * FeaturePsi, FeatureKs (dimensions feature, environment) and PredictionPsi. Thin: the work is ./run.ts and
 * ./core.ts; docs/runbooks/drift-alert.md.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { withPowertools } from '../shared/middleware.js';
import { currentObjectStore } from '../shared/object-store.js';
import { logger, metrics } from '../shared/powertools.js';
import { type DriftOutput, runDrift } from './run.js';

/** Adds the run's metrics to `sink` (flushed by withPowertools; the per-feature ones are single metrics). */
export function recordDriftMetrics(output: DriftOutput, sink = metrics): void {
  for (const [feature, d] of Object.entries(output.features)) {
    const psi = sink.singleMetric();
    psi.addDimension('feature', feature);
    psi.addMetric('FeaturePsi', MetricUnit.NoUnit, d.psi);
    if (d.ks !== null) {
      const ks = sink.singleMetric();
      ks.addDimension('feature', feature);
      ks.addMetric('FeatureKs', MetricUnit.NoUnit, d.ks);
    }
  }
  sink.addMetric('PredictionPsi', MetricUnit.NoUnit, output.prediction_psi);
}

export const handler = withPowertools(async (event: unknown): Promise<DriftOutput> => {
  try {
    const output = await runDrift(event, { store: currentObjectStore() });
    recordDriftMetrics(output);
    logger.info('drift evaluated', {
      runId: output.run_id,
      modelVersion: output.model_version,
      scoringDate: output.scoring_date,
      maxSeverity: output.max_severity,
      predictionPsi: output.prediction_psi,
      alerts: output.alerts,
      metricsUri: output.metrics_uri,
    });
    return output;
  } catch (err) {
    logger.warn('drift refused', { error: (err as Error).name, message: (err as Error).message });
    throw err;
  }
});
