/**
 * The alert message: what every pipeline publishes to the alerts topic (`clv-<env>-alerts`) and what the alert router
 * (lambdas/alert-router) routes by severity. Docs: docs/runbooks/alert-delivery.md, docs/decisions/0032-*.md.
 *
 * The standard shape is a JSON object with `event` and `severity` in the SNS Message (the training, batch-scoring and
 * monitoring state machines publish it):
 *
 *   {"event": "drift", "severity": "medium", "pipeline": "monitoring", "execution": "<execution ARN>",
 *    "metric": "psi", "feature": "channel", "value": 0.31, "threshold": 0.25, "status": "firing", "summary": "..."}
 *
 * A second, older shape is accepted as it is published today by state-machines/data-pipeline.asl.json: the Message
 * is any JSON (the quality gate's output or the failed state's input) and the SNS message attributes say
 * `severity` (High | Low) and `source` (`<pipeline>[/<step>]`), optionally `execution`.
 *
 * `normalizeAlert` turns either into one {@link Alert}. A message that is neither (not JSON, or JSON with a bad
 * field) is NOT dropped: it becomes a High alert `unparseable_alert` carrying the raw text and the parse error.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const ALERT_SEVERITIES = ['high', 'medium', 'low', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Events the platform publishes today (others are accepted: the router routes by severity, not by event). */
export const KNOWN_ALERT_EVENTS = [
  'pipeline_failed',
  'quality_gate_failed',
  'quality_gate_warning',
  'scoring_completed',
  'model_registered',
  'model_rejected',
  'drift',
  'prediction_drift',
  'proxy_drop',
  'retraining_triggered',
  'unparseable_alert',
] as const;

/**
 * Severity as written by publishers, case-insensitive: high | medium | low | info, plus the synonyms in use
 * (critical → high, warning → medium; the training pipeline's gate rejection says "warning").
 */
export const alertSeveritySchema = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    return s === 'critical' ? 'high' : s === 'warning' ? 'medium' : s;
  },
  z.enum(ALERT_SEVERITIES, { error: 'must be one of high, medium, low, info (or critical, warning)' }),
);

/** The standard alert message (fields the router uses are typed; other fields are kept as details). */
/** Optional fields may be null (a JSONPath that selected null in the ASL): null counts as absent. */
export const alertMessageSchema = z.looseObject({
  /** What happened, snake_case (see KNOWN_ALERT_EVENTS). */
  event: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a snake_case event name'),
  severity: alertSeveritySchema,
  /** The pipeline (state machine) that raised it: data-pipeline, training-pipeline, batch-scoring, monitoring, ... */
  pipeline: z.string().min(1).nullish(),
  /** The Step Functions execution ARN ($$.Execution.Id). */
  execution: z.string().min(1).nullish(),
  /** The measured quantity (psi, ks, spearman, ...). */
  metric: z.string().min(1).nullish(),
  /** The feature the metric is about (drift). */
  feature: z.string().min(1).nullish(),
  value: z.number().nullish(),
  threshold: z.number().nullish(),
  /** firing (default) or resolved: a resolved condition resolves its PagerDuty incident and clears de-duplication. */
  status: z.enum(['firing', 'resolved']).nullish(),
  /** One line for humans. */
  summary: z.string().nullish(),
  details: z.record(z.string(), z.unknown()).nullish(),
  /** Step Functions error name and cause of a failed pipeline. */
  error: z.string().nullish(),
  cause: z.string().nullish(),
});
export type AlertMessage = z.infer<typeof alertMessageSchema>;

/** The SNS message attributes the older shape uses (values as strings). */
export const alertAttributesSchema = z.looseObject({
  severity: alertSeveritySchema,
  /** `<pipeline>` or `<pipeline>/<step>` (e.g. data-pipeline/quality-gate). */
  source: z.string().regex(/^[a-z0-9-]+(\/[a-z0-9-]+)?$/, 'must be <pipeline> or <pipeline>/<step>'),
  execution: z.string().min(1).optional(),
});

/** One alert, whatever shape it arrived in: what the router routes. */
export interface Alert {
  readonly event: string;
  readonly severity: AlertSeverity;
  readonly pipeline: string;
  readonly execution?: string;
  readonly metric?: string;
  readonly feature?: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly status: 'firing' | 'resolved';
  readonly summary: string;
  /** Everything else the publisher said (error, cause, gate output, ...). */
  readonly details: Record<string, unknown>;
  /** Set when the message could not be parsed: the raw text and why. */
  readonly unparseable?: { readonly raw: string; readonly reason: string };
}

/** The pipeline named by an execution ARN: arn:aws:states:<region>:<account>:execution:<state machine>:<name>. */
export function pipelineOfExecution(executionArn: string | undefined): string | undefined {
  const m = executionArn ? /^arn:aws[a-z-]*:states:[^:]+:[^:]*:execution:([^:]+):/.exec(executionArn) : null;
  if (!m) return undefined;
  // state machines are named clv-<env>-<pipeline>
  return (m[1] as string).replace(/^clv-[a-z0-9]+-/, '');
}

function describe(alert: Omit<Alert, 'summary'>): string {
  const where = alert.feature ? ` ${alert.feature}` : '';
  const measure =
    alert.metric !== undefined
      ? ` ${alert.metric}${where}${alert.value !== undefined ? ` = ${alert.value}` : ''}${
          alert.threshold !== undefined ? ` (threshold ${alert.threshold})` : ''
        }`
      : '';
  const error = typeof alert.details.error === 'string' ? `: ${alert.details.error}` : '';
  return `${alert.pipeline}: ${alert.event.replaceAll('_', ' ')}${measure}${error}`;
}

function unparseable(raw: string, reason: string, attributes: Record<string, string>): Alert {
  const source = attributes.source;
  const partial = {
    event: 'unparseable_alert',
    severity: 'high' as const,
    pipeline: source ? (source.split('/')[0] as string) : 'unknown',
    execution: attributes.execution,
    status: 'firing' as const,
    details: { raw, reason, attributes },
    unparseable: { raw, reason },
  };
  return { ...partial, summary: `Unparseable alert (${reason.split('\n')[0]}): ${raw.slice(0, 200)}` };
}

/** A CloudWatch alarm state change as an SNS alarm action publishes it (the Monitoring/Observability alarms). */
export const cloudWatchAlarmSchema = z.looseObject({
  AlarmName: z.string().min(1),
  AlarmDescription: z.string().nullish(),
  NewStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  NewStateReason: z.string().optional(),
  AlarmArn: z.string().optional(),
  Trigger: z.looseObject({ MetricName: z.string().optional(), Threshold: z.number().optional() }).optional(),
});

/** `clv-<env>-<pipeline>-executions-<failed|timed-out|aborted>` (lib/constructs/monitoring/platform-alarms.ts). */
const EXECUTION_ALARM = /^clv-[a-z0-9]+-(.+)-executions-(failed|timed-out|aborted)$/;
/** `<function>-errors` / `<function>-throttles` (Lambda alarms). */
const LAMBDA_ALARM = /-(errors|throttles)$/;

/**
 * An alarm: ALARM fires, OK resolves it (same key, so the PagerDuty incident is resolved), INSUFFICIENT_DATA is
 * Info. Keyed by the alarm name; `alarm_<metric>` is the event. Two families are keyed so that one incident pages
 * once:
 * - a state machine's executions failed / timed out / aborted alarm is the condition `<pipeline>|pipeline_failed`,
 *   the same key as the pipeline's own `pipeline_failed` alert (its NotifyFailure state), High: whichever arrives
 *   first pages, the other is a duplicate within the de-duplication TTL; a timeout (which no Catch sees) still pages;
 * - a Lambda's errors or throttles alarm is Medium (Slack): the pipeline that invoked it retries and, if it fails,
 *   pages through its own failure alert.
 */
function fromAlarm(a: z.infer<typeof cloudWatchAlarmSchema>, body: Record<string, unknown>): Alert {
  const metric = a.Trigger?.MetricName ?? 'alarm';
  const execution = EXECUTION_ALARM.exec(a.AlarmName);
  const status = a.NewStateValue === 'OK' ? 'resolved' : 'firing';
  const summary = `${a.AlarmName} is ${a.NewStateValue}: ${a.NewStateReason ?? a.AlarmDescription ?? ''}`.trim();
  if (execution) {
    return {
      event: 'pipeline_failed',
      severity: a.NewStateValue === 'INSUFFICIENT_DATA' ? 'info' : 'high',
      pipeline: execution[1] as string,
      status,
      summary,
      details: { ...body },
    };
  }
  return {
    event: `alarm_${metric.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase()}`,
    severity: a.NewStateValue === 'INSUFFICIENT_DATA' ? 'info' : LAMBDA_ALARM.test(a.AlarmName) ? 'medium' : 'high',
    pipeline: 'cloudwatch-alarm',
    metric,
    feature: a.AlarmName,
    threshold: a.Trigger?.Threshold,
    status,
    summary,
    details: { ...body },
  };
}

const TYPED = new Set([
  'event',
  'severity',
  'pipeline',
  'execution',
  'metric',
  'feature',
  'value',
  'threshold',
  'status',
  'summary',
  'details',
]);

/**
 * One alert from an SNS message (its Message text and its message attributes as name → string value).
 * Never throws: what cannot be parsed becomes a High `unparseable_alert` with the raw text.
 */
export function normalizeAlert(raw: string, attributes: Record<string, string> = {}, subject?: string): Alert {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return unparseable(raw, `not JSON: ${(err as Error).message}`, attributes);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return unparseable(raw, 'not a JSON object', attributes);
  }
  const body = json as Record<string, unknown>;
  const alarm = cloudWatchAlarmSchema.safeParse(body);
  if (alarm.success) return fromAlarm(alarm.data, body);
  if ('event' in body || 'severity' in body) {
    // the severity may come as a message attribute only
    const parsed = alertMessageSchema.safeParse(
      body.severity === undefined && attributes.severity !== undefined
        ? { ...body, severity: attributes.severity }
        : body,
    );
    if (!parsed.success) return unparseable(raw, z.prettifyError(parsed.error), attributes);
    const m = parsed.data;
    const extra = Object.fromEntries(Object.entries(body).filter(([k]) => !TYPED.has(k)));
    const base = {
      event: m.event,
      severity: m.severity,
      pipeline:
        m.pipeline ?? pipelineOfExecution(m.execution ?? undefined) ?? attributes.source?.split('/')[0] ?? 'unknown',
      execution: m.execution ?? attributes.execution,
      metric: m.metric ?? undefined,
      feature: m.feature ?? undefined,
      value: m.value ?? undefined,
      threshold: m.threshold ?? undefined,
      status: m.status ?? ('firing' as const),
      details: { ...(m.details ?? {}), ...extra },
    };
    return { ...base, summary: m.summary ?? subject ?? describe(base) };
  }
  // the attribute-described shape (data pipeline)
  const attrs = alertAttributesSchema.safeParse(attributes);
  if (!attrs.success) {
    return unparseable(raw, `no event in the message and bad attributes: ${z.prettifyError(attrs.error)}`, attributes);
  }
  const [pipeline, step] = attrs.data.source.split('/') as [string, string | undefined];
  const quality = step === 'quality-gate';
  const event = quality
    ? attrs.data.severity === 'high'
      ? 'quality_gate_failed'
      : 'quality_gate_warning'
    : attrs.data.severity === 'high'
      ? 'pipeline_failed'
      : `${(step ?? 'pipeline').replaceAll('-', '_')}_alert`;
  const execution =
    attrs.data.execution ?? (typeof body.execution === 'string' ? (body.execution as string) : undefined);
  const error = body.error as { Error?: unknown } | undefined;
  const base = {
    event,
    severity: attrs.data.severity,
    pipeline,
    execution,
    status: 'firing' as const,
    details: {
      ...body,
      ...(error && typeof error.Error === 'string' ? { error: error.Error } : {}),
    },
  };
  const summary = typeof body.message === 'string' ? (body.message as string) : (subject ?? describe(base));
  return { ...base, summary };
}

/**
 * The key of a condition: pipeline + metric + feature, or pipeline + event when there is no metric; an unparseable
 * message is keyed by a hash of its text (two different broken messages both page). It is the PagerDuty dedup_key;
 * the router de-duplicates on it plus the severity (an escalation low → medium → high is delivered).
 */
export function conditionKey(alert: Alert): string {
  if (alert.unparseable) {
    return `${alert.pipeline}|unparseable|${createHash('sha256').update(alert.unparseable.raw).digest('hex').slice(0, 16)}`;
  }
  if (alert.metric !== undefined) return [alert.pipeline, alert.metric, alert.feature ?? '-'].join('|');
  return `${alert.pipeline}|${alert.event}`;
}
