/**
 * Quality gate Lambda (data pipeline): validates its input, runs the gate over the aggregates CSV and returns the
 * status the state machine branches on (pass → go on; warn → Low alert and go on; fail → High alert and stop).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { withPowertools } from '../shared/middleware.js';
import { currentObjectStore } from '../shared/object-store.js';
import { logger, metrics } from '../shared/powertools.js';
import { type GateOutput, gateInputSchema, runGate } from './gate.js';

export const handler = withPowertools(async (event: unknown): Promise<GateOutput> => {
  const input = gateInputSchema.safeParse(event);
  if (!input.success) {
    throw new Error(`quality-gate: invalid input: ${z.prettifyError(input.error)}`);
  }
  const output = await runGate(input.data, { store: currentObjectStore() });
  logger.info('quality gate evaluated', {
    date: output.date,
    runId: output.runId,
    status: output.status,
    summary: output.summary,
    failures: output.failures,
  });
  metrics.addDimension('dataset', 'silver_transactions');
  metrics.addMetric('ExpectationsFailedCritical', MetricUnit.Count, output.summary.failedCritical);
  metrics.addMetric('ExpectationsFailedWarning', MetricUnit.Count, output.summary.failedWarning);
  // flushed by withPowertools
  return output;
});
