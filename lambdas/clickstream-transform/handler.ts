/**
 * Firehose data-transformation Lambda for the clickstream: validates every event (see transform.ts), logs each
 * rejection with its reason and publishes the counts (received, accepted, rejected, rejected by reason).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { withPowertools } from '../shared/middleware.js';
import { logger, metrics } from '../shared/powertools.js';
import { type OutputRecord, type TransformCounts, transformRecords } from './transform.js';

/** The Firehose transformation event (Kinesis stream as source). */
export const firehoseTransformationEventSchema = z.object({
  invocationId: z.string(),
  deliveryStreamArn: z.string(),
  region: z.string().optional(),
  sourceKinesisStreamArn: z.string().optional(),
  records: z.array(
    z.object({
      recordId: z.string().min(1),
      approximateArrivalTimestamp: z.number().optional(),
      data: z.string(),
    }),
  ),
});

export interface FirehoseTransformationResponse {
  records: OutputRecord[];
}

/** Adds the counts of one batch as metrics (the caller publishes them). */
export function recordCountMetrics(counts: TransformCounts, sink = metrics): void {
  sink.addMetric('RecordsReceived', MetricUnit.Count, counts.received);
  sink.addMetric('RecordsAccepted', MetricUnit.Count, counts.accepted);
  sink.addMetric('RecordsRejected', MetricUnit.Count, counts.rejected);
  for (const [reason, count] of Object.entries(counts.rejectedByReason)) {
    const single = sink.singleMetric();
    single.addDimension('reason', reason);
    single.addMetric('RecordsRejectedByReason', MetricUnit.Count, count);
  }
}

export const handler = withPowertools(async (event: unknown): Promise<FirehoseTransformationResponse> => {
  const parsed = firehoseTransformationEventSchema.safeParse(event);
  if (!parsed.success) {
    // Not a Firehose transformation event: fail the invocation so Firehose retries and then reports it.
    throw new Error(`clickstream-transform: invalid Firehose event: ${z.prettifyError(parsed.error)}`);
  }
  const { records, decisions, counts } = transformRecords(parsed.data.records);
  for (const d of decisions) {
    if (d.status === 'rejected') {
      logger.warn('clickstream record rejected', { recordId: d.recordId, reason: d.reason, detail: d.detail });
    }
  }
  logger.info('clickstream batch transformed', { invocationId: parsed.data.invocationId, ...counts });
  recordCountMetrics(counts); // flushed by withPowertools
  return { records };
});
