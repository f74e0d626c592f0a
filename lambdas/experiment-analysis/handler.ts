/**
 * Experiment analysis Lambda (campaign-experiment state machine): the Athena arm aggregates of a campaign →
 * statistics, decision, analysis.json and report.html in the gold zone. Thin: the work is ./run.ts and ./core.ts.
 * Fails (for the state machine's Catch → NotifyFailure) on an invalid event, flagged outcome data
 * (ExperimentDataError) or an arm with fewer than 2 customers (InsufficientDataError).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { withPowertools } from '../shared/middleware.js';
import { currentObjectStore } from '../shared/object-store.js';
import { logger, metrics } from '../shared/powertools.js';
import { type AnalysisOutput, runAnalysis } from './run.js';

export const handler = withPowertools(async (event: unknown): Promise<AnalysisOutput> => {
  try {
    const out = await runAnalysis(event, { store: currentObjectStore() });
    logger.info('experiment analysed', {
      campaignId: out.campaign_id,
      runId: out.run_id,
      decision: out.decision,
      reasons: out.reasons,
      n: out.n,
      srmPValue: out.srm.p_value,
      conversionPValue: out.conversion.p_value,
      revenuePValue: out.revenue_per_user.p_value,
      reportUri: out.report_uri,
    });
    if (out.data_checks.outcomes_outside_audience > 0) {
      logger.warn('outcomes outside the audience were ignored', {
        campaignId: out.campaign_id,
        outcomesOutsideAudience: out.data_checks.outcomes_outside_audience,
      });
    }
    metrics.addDimension('decision', out.decision);
    metrics.addMetric('ExperimentAnalysed', MetricUnit.Count, 1);
    return out;
  } catch (err) {
    logger.warn('experiment analysis failed', { error: (err as Error).name, message: (err as Error).message });
    throw err;
  }
});
