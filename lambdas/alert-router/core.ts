/**
 * Alert router core (pure: every dependency injected). Takes the SNS event of the alerts topic, normalizes each
 * message (lib/contracts/alerts.ts) and routes it by severity:
 *
 *   high   → PagerDuty Events API v2 (trigger, dedup_key = condition key) AND Slack
 *   medium → Slack
 *   low    → the email digest topic (the dashboard shows the AlertsRouted metric by severity)
 *   info   → logged only
 *
 * De-duplication: the condition key (pipeline + metric + feature, or pipeline + event) plus the severity is acquired
 * in the ConditionStore with the configured TTL before anything is sent; a repeat within the TTL sends nothing, an
 * escalation (a new severity) is delivered. When a delivery fails after its retries the key is released and the
 * invocation throws, so Lambda's async retries and then the on-failure DLQ keep the SNS event intact.
 * `status: resolved` sends a PagerDuty resolve with the same dedup_key (when the condition had paged, or the message
 * is High), a Slack note when it had been posted, and releases the keys.
 */
import { z } from 'zod';
import {
  ALERT_SEVERITIES,
  type Alert,
  type AlertSeverity,
  conditionKey,
  normalizeAlert,
} from '../../lib/contracts/alerts.js';
import type { ConditionStore } from '../shared/condition-store.js';
import { DeliveryError, type FetchFn, type PostOptions } from './http.js';
import { PagerDutyClient, type PagerDutySeverity } from './pagerduty.js';
import { SlackClient, type SlackMessage } from './slack.js';

const snsArn = z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN');

/** What the router reads from env ALERT_ROUTER_SETTINGS (JSON), set by the Monitoring stack from config `alerting`. */
export const routerSettingsSchema = z
  .object({
    /** Environment name (dev, staging, prod, local): shown in every message. */
    environment: z.string().min(1),
    /** Region of the console links when an execution ARN does not say it. */
    region: z.string().min(1),
    /** ConditionStore table (DynamoDB table name; the local store's folder). */
    dedupTableName: z.string().min(1),
    /** How long a firing condition is remembered (s). */
    dedupTtlSeconds: z.number().int().min(1),
    retry: z.object({ maxAttempts: z.number().int().min(1).max(10), baseDelayMs: z.number().int().min(0) }).strict(),
    /** PagerDuty Events API base URL (POST {url}/v2/enqueue). */
    pagerDutyEventsUrl: z.url(),
    pagerDutySecretName: z.string().min(1),
    slackSecretName: z.string().min(1),
    /** Powertools Parameters cache of the two secrets (s). */
    secretsCacheSeconds: z.number().int().min(0),
    /** The Low-severity digest topic. */
    digestTopicArn: snsArn,
  })
  .strict();
export type RouterSettings = z.infer<typeof routerSettingsSchema>;

export const ROUTER_SETTINGS_ENV = 'ALERT_ROUTER_SETTINGS';

/** The settings from the environment; the error names the variable and the bad field. */
export function parseRouterSettings(env: NodeJS.ProcessEnv = process.env): RouterSettings {
  const text = env[ROUTER_SETTINGS_ENV];
  if (!text) throw new Error(`alert-router: env ${ROUTER_SETTINGS_ENV} is not set`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`alert-router: env ${ROUTER_SETTINGS_ENV} is not JSON: ${(err as Error).message}`);
  }
  const parsed = routerSettingsSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`alert-router: invalid ${ROUTER_SETTINGS_ENV}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** The SNS → Lambda event (only what the router reads). */
export const snsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        Sns: z.looseObject({
          MessageId: z.string(),
          TopicArn: z.string().optional(),
          Subject: z.string().nullish(),
          Message: z.string(),
          MessageAttributes: z
            .record(z.string(), z.looseObject({ Type: z.string().optional(), Value: z.string().optional() }))
            .nullish(),
        }),
      }),
    )
    .min(1),
});
export type SnsEvent = z.infer<typeof snsEventSchema>;

export interface DigestPublisher {
  publish(subject: string, message: string): Promise<void>;
}

export interface RouterLog {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

export interface RouterDependencies {
  readonly settings: RouterSettings;
  readonly store: ConditionStore;
  readonly fetch: FetchFn;
  readonly secrets: {
    readonly pagerDutyRoutingKey: () => Promise<string>;
    readonly slackWebhookUrl: () => Promise<string>;
  };
  readonly digest: DigestPublisher;
  readonly log: RouterLog;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => Date;
  /** Called once per routed alert (metrics). */
  readonly onRouted?: (alert: Alert, outcome: RouteOutcome) => void;
}

export type Route = 'pagerduty' | 'slack' | 'digest' | 'pagerduty-resolve' | 'slack-resolve';
const FIRING_ROUTES: readonly Route[] = ['pagerduty', 'slack', 'digest'];

export interface RouteOutcome {
  readonly key: string;
  readonly routes: Route[];
  /** True when the condition was already firing within the TTL (nothing sent). */
  readonly deduplicated: boolean;
}

const PAGERDUTY_SEVERITY: Record<AlertSeverity, PagerDutySeverity> = {
  high: 'critical',
  medium: 'warning',
  low: 'info',
  info: 'info',
};

/** The Step Functions console page of an execution. */
export function executionConsoleUrl(executionArn: string, fallbackRegion: string): string {
  const region = /^arn:aws[a-z-]*:states:([a-z0-9-]+):/.exec(executionArn)?.[1] ?? fallbackRegion;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** Largest custom_details / digest details JSON (characters); beyond it the details are truncated. */
export const MAX_DETAILS_CHARS = 8000;

function boundedDetails(details: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(details);
  return text.length <= MAX_DETAILS_CHARS ? details : { truncated: `${text.slice(0, MAX_DETAILS_CHARS)}…` };
}

function fieldsOf(alert: Alert, settings: RouterSettings): Record<string, string> {
  const fields: Record<string, string> = {
    Severity: alert.severity.toUpperCase(),
    Pipeline: alert.pipeline,
    Environment: settings.environment,
    Event: alert.event,
  };
  if (alert.execution) fields.Execution = alert.execution;
  if (alert.metric !== undefined) fields.Metric = alert.feature ? `${alert.metric} (${alert.feature})` : alert.metric;
  if (alert.value !== undefined) fields.Value = String(alert.value);
  if (alert.threshold !== undefined) fields.Threshold = String(alert.threshold);
  if (typeof alert.details.error === 'string') fields.Error = alert.details.error;
  if (typeof alert.details.cause === 'string') fields.Cause = (alert.details.cause as string).slice(0, 500);
  return fields;
}

function consoleLink(alert: Alert, settings: RouterSettings): { href: string; text: string } | undefined {
  return alert.execution
    ? { href: executionConsoleUrl(alert.execution, settings.region), text: 'Open the execution in the console' }
    : undefined;
}

export function slackMessageOf(alert: Alert, settings: RouterSettings): SlackMessage {
  const icon =
    alert.status === 'resolved' ? ':white_check_mark:' : alert.severity === 'high' ? ':rotating_light:' : ':warning:';
  const state = alert.status === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
  return {
    text: `${icon} [CLV ${settings.environment}] ${state}: ${alert.summary}`,
    fields: fieldsOf(alert, settings),
    link: consoleLink(alert, settings),
  };
}

export function digestOf(alert: Alert, settings: RouterSettings): { subject: string; message: string } {
  const link = consoleLink(alert, settings);
  const lines = [
    alert.summary,
    '',
    ...Object.entries(fieldsOf(alert, settings)).map(([k, v]) => `${k}: ${v}`),
    ...(link ? [`Console: ${link.href}`] : []),
    '',
    `Details: ${JSON.stringify(boundedDetails(alert.details))}`,
  ];
  // SNS email subjects: at most 100 printable ASCII characters, no line breaks
  const subject = `[CLV ${settings.environment}] LOW ${alert.pipeline}: ${alert.event}`
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100);
  return { subject, message: lines.join('\n') };
}

export class AlertRouter {
  private readonly pagerDuty: PagerDutyClient;
  private readonly slack: SlackClient;

  constructor(private readonly deps: RouterDependencies) {
    const http: PostOptions = {
      fetch: deps.fetch,
      retry: deps.settings.retry,
      sleep: deps.sleep,
      onRetry: (info) => deps.log.warn('alert delivery retry', info),
    };
    this.pagerDuty = new PagerDutyClient(deps.settings.pagerDutyEventsUrl, deps.secrets.pagerDutyRoutingKey, http);
    this.slack = new SlackClient(deps.secrets.slackWebhookUrl, http);
  }

  /** Routes every record; throws (after trying all of them) when any delivery failed. */
  async routeEvent(event: unknown): Promise<RouteOutcome[]> {
    const parsed = snsEventSchema.safeParse(event);
    if (!parsed.success) throw new Error(`alert-router: not an SNS event: ${z.prettifyError(parsed.error)}`);
    const outcomes: RouteOutcome[] = [];
    const failures: string[] = [];
    for (const record of parsed.data.Records) {
      const attributes = Object.fromEntries(
        Object.entries(record.Sns.MessageAttributes ?? {}).flatMap(([k, v]) =>
          v.Value === undefined ? [] : [[k, v.Value]],
        ),
      );
      const alert = normalizeAlert(record.Sns.Message, attributes, record.Sns.Subject ?? undefined);
      if (alert.unparseable) {
        this.deps.log.error('unparseable alert routed as High', {
          messageId: record.Sns.MessageId,
          reason: alert.unparseable.reason,
        });
      }
      try {
        outcomes.push(await this.route(alert));
      } catch (err) {
        failures.push(`message ${record.Sns.MessageId} (${conditionKey(alert)}): ${(err as Error).message}`);
      }
    }
    if (failures.length > 0) {
      throw new DeliveryError('alert-router', undefined, false, `alert delivery failed: ${failures.join('; ')}`);
    }
    return outcomes;
  }

  async route(alert: Alert): Promise<RouteOutcome> {
    const { settings, store, log } = this.deps;
    const now = this.deps.now?.() ?? new Date();
    const key = conditionKey(alert);
    const context = {
      key,
      event: alert.event,
      severity: alert.severity,
      status: alert.status,
      pipeline: alert.pipeline,
      execution: alert.execution,
    };

    if (alert.severity === 'info' && alert.status === 'firing') {
      log.info('info alert (logged only)', {
        ...context,
        summary: alert.summary,
        details: boundedDetails(alert.details),
      });
      return this.done(alert, { key, routes: [], deduplicated: false });
    }

    if (alert.status === 'resolved') return this.resolve(alert, key, now, context);

    const severityKey = `alert#${key}#${alert.severity}`;
    const first = await store.acquire(
      severityKey,
      settings.dedupTtlSeconds,
      { event: alert.event, execution: alert.execution ?? '' },
      now,
    );
    if (!first) {
      log.info('alert de-duplicated (condition already firing)', context);
      return this.done(alert, { key, routes: [], deduplicated: true });
    }
    const deliveries: [Route, () => Promise<void>][] = [];
    if (alert.severity === 'high') {
      deliveries.push(['pagerduty', () => this.pagerDuty.trigger(this.pagerDutyEvent(alert, key))]);
      deliveries.push(['slack', () => this.slack.post(slackMessageOf(alert, settings))]);
    } else if (alert.severity === 'medium') {
      deliveries.push(['slack', () => this.slack.post(slackMessageOf(alert, settings))]);
    } else {
      const digest = digestOf(alert, settings);
      deliveries.push(['digest', () => this.deps.digest.publish(digest.subject, digest.message)]);
    }
    // routes already delivered by an earlier, partly failed attempt of this alert are not repeated
    const marker = (route: Route) => `${severityKey}@${route}`;
    const alreadyDelivered = new Set<Route>();
    for (const [route] of deliveries) if (await store.get(marker(route), now)) alreadyDelivered.add(route);
    const pending = deliveries.filter(([route]) => !alreadyDelivered.has(route));
    const failures = await this.deliverEach(pending);
    if (failures.length > 0) {
      // remember what did get through, forget the condition so the retried invocation (or a DLQ replay) delivers
      // the rest
      for (const [route] of pending) {
        if (!failures.some((f) => f.route === route)) {
          await store.acquire(marker(route), settings.dedupTtlSeconds, {}, now);
        }
      }
      await store.release(severityKey).catch((releaseErr: unknown) =>
        log.error('could not release the de-duplication key', {
          key: severityKey,
          error: (releaseErr as Error).message,
        }),
      );
      throw new Error(failures.map((f) => `${f.route}: ${f.message}`).join('; '));
    }
    for (const route of alreadyDelivered) await store.release(marker(route));
    const outcome = { key, routes: pending.map(([r]) => r), deduplicated: false };
    log.info('alert routed', { ...context, routes: outcome.routes, alreadyDelivered: [...alreadyDelivered] });
    return this.done(alert, outcome);
  }

  private async resolve(alert: Alert, key: string, now: Date, context: Record<string, unknown>): Promise<RouteOutcome> {
    const { store, settings } = this.deps;
    const firing = new Set<AlertSeverity>();
    for (const severity of ALERT_SEVERITIES) {
      if (await store.get(`alert#${key}#${severity}`, now)) firing.add(severity);
    }
    const deliveries: [Route, () => Promise<void>][] = [];
    // PagerDuty ignores a resolve of an unknown dedup_key, so a High resolve is always sent (the TTL may have passed)
    if (firing.has('high') || alert.severity === 'high') {
      deliveries.push(['pagerduty-resolve', () => this.pagerDuty.resolve(key)]);
    }
    if (firing.has('high') || firing.has('medium')) {
      deliveries.push(['slack-resolve', () => this.slack.post(slackMessageOf(alert, settings))]);
    }
    await this.deliverAll(deliveries);
    for (const severity of ALERT_SEVERITIES) {
      if (firing.has(severity)) await store.release(`alert#${key}#${severity}`);
      // partial-delivery markers of an attempt that never completed
      for (const route of FIRING_ROUTES) await store.release(`alert#${key}#${severity}@${route}`);
    }
    const outcome = { key, routes: deliveries.map(([r]) => r), deduplicated: false };
    this.deps.log.info('alert resolved', { ...context, routes: outcome.routes, wasFiring: [...firing] });
    return this.done(alert, outcome);
  }

  /** Runs every delivery (one failing does not stop the others); the failures. */
  private async deliverEach(deliveries: [Route, () => Promise<void>][]): Promise<{ route: Route; message: string }[]> {
    const results = await Promise.allSettled(deliveries.map(([, send]) => send()));
    return results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ route: deliveries[i]?.[0] as Route, message: (r.reason as Error).message }] : [],
    );
  }

  /** Runs every delivery; throws naming each failure. */
  private async deliverAll(deliveries: [Route, () => Promise<void>][]): Promise<void> {
    const failures = await this.deliverEach(deliveries);
    if (failures.length > 0) throw new Error(failures.map((f) => `${f.route}: ${f.message}`).join('; '));
  }

  private pagerDutyEvent(alert: Alert, key: string) {
    const link = consoleLink(alert, this.deps.settings);
    return {
      dedupKey: key,
      summary: `[CLV ${this.deps.settings.environment}] ${alert.summary}`,
      source: `clv-${this.deps.settings.environment}/${alert.pipeline}`,
      severity: PAGERDUTY_SEVERITY[alert.severity],
      customDetails: {
        pipeline: alert.pipeline,
        environment: this.deps.settings.environment,
        event: alert.event,
        execution: alert.execution ?? null,
        metric: alert.metric ?? null,
        feature: alert.feature ?? null,
        value: alert.value ?? null,
        threshold: alert.threshold ?? null,
        console_url: link?.href ?? null,
        details: boundedDetails(alert.details),
      },
      ...(link ? { links: [link] } : {}),
    };
  }

  private done(alert: Alert, outcome: RouteOutcome): RouteOutcome {
    this.deps.onRouted?.(alert, outcome);
    return outcome;
  }
}
