/**
 * PagerDuty Events API v2: POST {base}/v2/enqueue with the integration's routing key; 202 Accepted is success.
 * https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
import { type PostOptions, postJson } from './http.js';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerDutyTrigger {
  readonly dedupKey: string;
  readonly summary: string;
  readonly source: string;
  readonly severity: PagerDutySeverity;
  readonly customDetails: Record<string, unknown>;
  /** Links shown on the incident (the execution's console page). */
  readonly links?: { href: string; text: string }[];
}

/** PagerDuty limits the summary to 1024 characters. */
const MAX_SUMMARY = 1024;

export class PagerDutyClient {
  constructor(
    private readonly baseUrl: string,
    private readonly routingKey: () => Promise<string>,
    private readonly http: PostOptions,
  ) {}

  private url(): string {
    return `${this.baseUrl.replace(/\/+$/, '')}/v2/enqueue`;
  }

  async trigger(event: PagerDutyTrigger): Promise<void> {
    await postJson(
      'PagerDuty trigger',
      this.url(),
      {
        routing_key: await this.routingKey(),
        event_action: 'trigger',
        dedup_key: event.dedupKey,
        payload: {
          summary: event.summary.slice(0, MAX_SUMMARY),
          source: event.source,
          severity: event.severity,
          custom_details: event.customDetails,
        },
        ...(event.links ? { links: event.links } : {}),
      },
      this.http,
    );
  }

  async resolve(dedupKey: string): Promise<void> {
    await postJson(
      'PagerDuty resolve',
      this.url(),
      { routing_key: await this.routingKey(), event_action: 'resolve', dedup_key: dedupKey },
      this.http,
    );
  }
}
