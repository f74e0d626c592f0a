/**
 * Monitoring Lambda (state-machines/monitoring.asl.json): proxy performance, matured-cohort evaluation, what to
 * notify, and the retraining cool-down. Thin: the work is ./run.ts and ./core.ts; this adds the CloudWatch metrics
 * (ProxySpearman, ProxyPearson, ProxyCorrelationDrop, MaturedRmse, MaturedGiniNormalized, RetrainingTriggered;
 * dimension environment) and logs the outcome. The retraining cool-down lives in the condition table named by
 * CLV_CONDITION_TABLE (DynamoDB; files under the local root in the local runtime).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { conditionStoreFor } from '../shared/condition-store.js';
import { withPowertools } from '../shared/middleware.js';
import { currentObjectStore } from '../shared/object-store.js';
import { logger, metrics } from '../shared/powertools.js';
import { type MonitoringOutput, parseMonitoringEvent, runMonitoring } from './run.js';

/** The condition table's environment variable. */
export const CONDITION_TABLE_ENV = 'CLV_CONDITION_TABLE';
/** The local runtime's condition table (its files live under <root>/_local/condition-store/). */
export const LOCAL_CONDITION_TABLE = 'clv-local-conditions';

function conditionTable(env: NodeJS.ProcessEnv): string {
  const table = env[CONDITION_TABLE_ENV];
  if (table) return table;
  if (env.CLV_LOCAL_ROOT) return LOCAL_CONDITION_TABLE;
  throw new Error(`${CONDITION_TABLE_ENV} is not set: the monitoring Lambda needs the condition table's name`);
}

function record(output: MonitoringOutput, action: string): void {
  const o = output as Record<string, unknown>;
  if (action === 'proxy') {
    const current = o.current as { spearman: number | null; pearson: number | null } | null;
    if (current?.spearman != null) metrics.addMetric('ProxySpearman', MetricUnit.NoUnit, current.spearman);
    if (current?.pearson != null) metrics.addMetric('ProxyPearson', MetricUnit.NoUnit, current.pearson);
    if (typeof o.correlation_drop === 'number') {
      metrics.addMetric('ProxyCorrelationDrop', MetricUnit.NoUnit, o.correlation_drop);
    }
  }
  if (action === 'matured') {
    if (typeof o.rmse === 'number') metrics.addMetric('MaturedRmse', MetricUnit.NoUnit, o.rmse);
    if (typeof o.gini_normalized === 'number') {
      metrics.addMetric('MaturedGiniNormalized', MetricUnit.NoUnit, o.gini_normalized);
    }
  }
  if (action === 'acquire-retraining') {
    metrics.addMetric('RetrainingTriggered', MetricUnit.Count, o.acquired === true ? 1 : 0);
  }
}

export const handler = withPowertools(async (event: unknown): Promise<MonitoringOutput> => {
  const action = (event as { action?: unknown } | null)?.action;
  try {
    const parsed = parseMonitoringEvent(event);
    const output = await runMonitoring(event, {
      store: currentObjectStore(),
      cooldown: conditionStoreFor(conditionTable(process.env)),
    });
    record(output, parsed.action);
    logger.info('monitoring action done', { action, output: parsed.action === 'decide' ? output : undefined });
    return output;
  } catch (err) {
    logger.warn('monitoring action refused', { action, error: (err as Error).name, message: (err as Error).message });
    throw err;
  }
});
