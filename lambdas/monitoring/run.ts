/**
 * The monitoring Lambda's actions (state-machines/monitoring.asl.json): each event is validated with zod, judged by
 * ./core.ts and, where it produces figures, written to the gold monitoring_metrics table. The handler adds the
 * CloudWatch metrics; this module takes its object and condition stores as arguments so tests need no AWS.
 */
import { z } from 'zod';
import { resultSetRecords, resultSetSchema } from '../shared/athena-results.js';
import { writeMonitoringMetrics } from '../shared/monitoring-metrics.js';
import type { ObjectStore } from '../shared/object-store.js';
import {
  acquireRetraining,
  type CooldownStore,
  type Decision,
  decide,
  judgeProxy,
  MATURED_COLUMNS,
  type MaturedEvaluation,
  maturedEvaluation,
  maturedRows,
  PROXY_COLUMNS,
  type ProxyJudgement,
  proxyRows,
  RETRAINING_KEY,
  type RetrainingSlot,
  type RunContext,
  retrainingRow,
} from './core.js';

const date = z.iso.date({ error: 'expected a date YYYY-MM-DD' });
const runId = z.string().regex(/^[A-Za-z0-9._-]{1,80}$/, 'expected the execution name ([A-Za-z0-9._-], ≤ 80)');
const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name');
const severity = z.enum(['none', 'low', 'medium']);

const run = { run_id: runId, run_date: date, gold_bucket: bucket };

const proxySettings = z.strictObject({
  window_days: z.int().min(1),
  max_correlation_drop: z.number().min(0).max(1),
  min_customers: z.int().min(1),
});

export const monitoringEventSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('proxy'), ...run, settings: proxySettings, result_set: resultSetSchema }),
  z.strictObject({
    action: z.literal('matured'),
    ...run,
    result_set: resultSetSchema,
    promised: z.strictObject({ rmse: z.number().optional(), gini: z.number().optional() }).optional(),
  }),
  z.strictObject({
    action: z.literal('decide'),
    drift: z.looseObject({
      features: z.record(z.string(), z.looseObject({ psi: z.number(), severity })),
      prediction_psi: z.number(),
    }),
    proxy: z.looseObject({
      status: z.enum(['no_run', 'insufficient', 'no_previous', 'undefined', 'judged']),
      severity,
      correlation_drop: z.number().nullable(),
      threshold: z.number(),
      reason: z.string(),
    }),
    thresholds: z.strictObject({ psi_low: z.number().min(0), psi_medium: z.number().min(0) }),
    retraining: z.strictObject({
      enabled: z.boolean(),
      prediction_psi: z.number().min(0),
      on_input_drift: z.boolean(),
      cooldown_hours: z.int().min(1),
    }),
  }),
  z.strictObject({
    action: z.literal('acquire-retraining'),
    execution: z.string().min(1),
    reason: z.string().min(1),
    cooldown_hours: z.int().min(1),
  }),
  z.strictObject({
    action: z.literal('release-retraining'),
    execution: z.string().min(1),
  }),
  z.strictObject({
    action: z.literal('record-retraining'),
    ...run,
    model_version: z.string().min(1),
    triggered: z.boolean(),
    reason: z.string().min(1),
    training_execution: z.string().min(1).optional(),
    cooldown_until: z.string().min(1),
    held_by: z.string().min(1),
  }),
]);
export type MonitoringEvent = z.infer<typeof monitoringEventSchema>;

/** The event is not what the state machine sends: the message names the field. */
export class InvalidMonitoringEventError extends Error {
  override readonly name = 'InvalidMonitoringEvent';
}

export function parseMonitoringEvent(event: unknown): MonitoringEvent {
  const parsed = monitoringEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidMonitoringEventError(`monitoring: invalid event: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export interface MonitoringServices {
  store: ObjectStore;
  cooldown: CooldownStore;
  now?: () => Date;
}

export type ProxyOutput = ProxyJudgement & { metrics_uri: string | null; rows_written: number };
export type MaturedOutput = MaturedEvaluation & { metrics_uri: string | null; rows_written: number };
export type MonitoringOutput =
  | ProxyOutput
  | MaturedOutput
  | Decision
  | RetrainingSlot
  | { released: boolean }
  | { metrics_uri: string };

function context(e: { run_id: string; run_date: string }, now: Date): RunContext {
  return { run_id: e.run_id, run_date: e.run_date, created_at: now.toISOString() };
}

/** Runs one action. */
export async function runMonitoring(event: unknown, services: MonitoringServices): Promise<MonitoringOutput> {
  const e = parseMonitoringEvent(event);
  const now = services.now?.() ?? new Date();
  switch (e.action) {
    case 'proxy': {
      const judgement = judgeProxy(resultSetRecords(e.result_set, PROXY_COLUMNS, 'proxy_performance'), e.settings);
      const rows = proxyRows(judgement, e.settings, context(e, now));
      const uri =
        rows.length === 0
          ? null
          : await writeMonitoringMetrics(services.store, e.gold_bucket, `${e.run_id}-proxy`, rows);
      return { ...judgement, metrics_uri: uri, rows_written: rows.length };
    }
    case 'matured': {
      const evaluation = maturedEvaluation(resultSetRecords(e.result_set, MATURED_COLUMNS, 'matured_cohort'));
      const rows = maturedRows(evaluation, e.promised, context(e, now));
      const uri =
        rows.length === 0
          ? null
          : await writeMonitoringMetrics(services.store, e.gold_bucket, `${e.run_id}-matured`, rows);
      return { ...evaluation, metrics_uri: uri, rows_written: rows.length };
    }
    case 'decide':
      return decide(e.drift, e.proxy, e.thresholds, e.retraining);
    case 'acquire-retraining':
      return acquireRetraining(services.cooldown, {
        execution: e.execution,
        reason: e.reason,
        cooldown_hours: e.cooldown_hours,
        now,
      });
    case 'release-retraining': {
      // Only the holder releases (a failed start must not clear another execution's cool-down).
      const holder = await services.cooldown.get(RETRAINING_KEY, now);
      if (holder?.attributes.execution !== e.execution) return { released: false };
      await services.cooldown.release(RETRAINING_KEY);
      return { released: true };
    }
    case 'record-retraining': {
      const uri = await writeMonitoringMetrics(services.store, e.gold_bucket, `${e.run_id}-retraining`, [
        retrainingRow(e, context(e, now)),
      ]);
      return { metrics_uri: uri };
    }
  }
}
