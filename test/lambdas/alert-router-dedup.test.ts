/**
 * The alert router's de-duplication at its boundaries, with the real local ConditionStore and a clock under test
 * control: a repeat just before, at and just after the TTL; one key per condition and severity; partial deliveries
 * remembered per route; resolves that release every key. Deliveries go to a recording fetch (no network).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlertRouter,
  type RouteOutcome,
  type RouterDependencies,
  type RouterSettings,
} from '../../lambdas/alert-router/core.js';
import type { FetchFn } from '../../lambdas/alert-router/http.js';
import { LocalConditionStore } from '../../lambdas/shared/condition-store.js';

const TTL = 600;
const T0 = Date.parse('2024-03-01T12:00:00Z');
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:clv-dev-monitoring:run-1';

const drift = (over: Record<string, unknown> = {}) => ({
  event: 'drift',
  severity: 'medium',
  pipeline: 'monitoring',
  execution: EXECUTION,
  metric: 'psi',
  feature: 'channel',
  value: 0.31,
  threshold: 0.25,
  status: 'firing',
  summary: 'PSI of channel is 0.31 (> 0.25)',
  ...over,
});
const sns = (message: unknown) => ({
  Records: [{ Sns: { MessageId: 'm-1', Message: JSON.stringify(message), MessageAttributes: {} } }],
});

describe('alert router: de-duplication', () => {
  let root: string;
  let now: number;
  let sent: { url: string; body: Record<string, unknown> }[];
  let failing: Set<string>;
  let digests: string[];
  let store: LocalConditionStore;
  let router: AlertRouter;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'alert-dedup-'));
    now = T0;
    sent = [];
    failing = new Set();
    digests = [];
    const settings: RouterSettings = {
      environment: 'dev',
      region: 'eu-west-1',
      dedupTableName: 'conditions',
      dedupTtlSeconds: TTL,
      retry: { maxAttempts: 1, baseDelayMs: 0 },
      pagerDutyEventsUrl: 'https://events.example.test',
      pagerDutySecretName: 'pd',
      slackSecretName: 'slack',
      secretsCacheSeconds: 0,
      digestTopicArn: 'arn:aws:sns:eu-west-1:123456789012:digest',
    };
    const fetchFn: FetchFn = async (url, init) => {
      sent.push({ url, body: JSON.parse(init.body) });
      const down = [...failing].some((f) => url.includes(f));
      return {
        status: down ? 400 : url.includes('enqueue') ? 202 : 200,
        headers: { get: () => null },
        text: async () => (down ? 'bad request' : 'ok'),
      };
    };
    store = new LocalConditionStore(root, settings.dedupTableName);
    const deps: RouterDependencies = {
      settings,
      store,
      fetch: fetchFn,
      secrets: {
        pagerDutyRoutingKey: async () => 'KEY',
        slackWebhookUrl: async () => 'https://hooks.example.test/slack',
      },
      digest: { publish: async (subject) => void digests.push(subject) },
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      sleep: async () => undefined,
      now: () => new Date(now),
    };
    router = new AlertRouter(deps);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const route = async (message: unknown): Promise<RouteOutcome> => {
    const [out] = await router.routeEvent(sns(message));
    if (!out) throw new Error('no outcome');
    return out;
  };
  const slackPosts = () => sent.filter((s) => s.url.includes('slack')).length;
  const pages = () => sent.filter((s) => s.url.includes('enqueue')).length;

  it.each([
    [TTL - 1, true],
    [TTL, true],
    [TTL + 1, false],
  ])('a repeat %i s after the first is de-duplicated: %s', async (after, deduplicated) => {
    expect(await route(drift())).toEqual({ key: 'monitoring|psi|channel', routes: ['slack'], deduplicated: false });
    now = T0 + after * 1000;
    const repeat = await route(drift());
    expect(repeat.deduplicated).toBe(deduplicated);
    expect(repeat.routes).toEqual(deduplicated ? [] : ['slack']);
    expect(slackPosts()).toBe(deduplicated ? 1 : 2);
  });

  it('keys by condition and severity: another feature or a new severity is delivered, the same one is not', async () => {
    await route(drift());
    expect((await route(drift({ feature: 'country' }))).deduplicated).toBe(false);
    expect((await route(drift({ severity: 'low' }))).routes).toEqual(['digest']);
    expect((await route(drift({ severity: 'high' }))).routes).toEqual(['pagerduty', 'slack']);
    expect((await route(drift({ severity: 'high' }))).deduplicated).toBe(true);
    expect((await route(drift({ severity: 'low' }))).deduplicated).toBe(true);
    expect(pages()).toBe(1);
    expect(digests).toHaveLength(1);
    expect(await store.get('alert#monitoring|psi|channel#medium', new Date(now))).toBeDefined();
    expect(await store.get('alert#monitoring|psi|channel#high', new Date(now))).toBeDefined();
  });

  it('info alerts are only logged: never de-duplicated, never stored', async () => {
    const first = await route(drift({ severity: 'info' }));
    const second = await route(drift({ severity: 'info' }));
    expect([first, second]).toEqual([
      { key: 'monitoring|psi|channel', routes: [], deduplicated: false },
      { key: 'monitoring|psi|channel', routes: [], deduplicated: false },
    ]);
    expect(sent).toHaveLength(0);
    expect(await store.get('alert#monitoring|psi|channel#info', new Date(now))).toBeUndefined();
  });

  it('a failed delivery forgets the condition but remembers the route that got through', async () => {
    failing.add('enqueue');
    await expect(router.routeEvent(sns(drift({ severity: 'high' })))).rejects.toThrow(/pagerduty: /);
    expect(slackPosts()).toBe(1);
    expect(await store.get('alert#monitoring|psi|channel#high', new Date(now))).toBeUndefined();
    expect(await store.get('alert#monitoring|psi|channel#high@slack', new Date(now))).toBeDefined();
    expect(await store.get('alert#monitoring|psi|channel#high@pagerduty', new Date(now))).toBeUndefined();
    failing.clear();
    const retry = await route(drift({ severity: 'high' }));
    expect(retry).toEqual({ key: 'monitoring|psi|channel', routes: ['pagerduty'], deduplicated: false });
    expect(slackPosts()).toBe(1);
    expect(pages()).toBe(2);
    // the marker is released once the alert is fully delivered; the condition itself is remembered
    expect(await store.get('alert#monitoring|psi|channel#high@slack', new Date(now))).toBeUndefined();
    expect(await store.get('alert#monitoring|psi|channel#high', new Date(now))).toBeDefined();
    expect((await route(drift({ severity: 'high' }))).deduplicated).toBe(true);
  });

  it('when every route fails, no route is remembered as delivered', async () => {
    failing.add('enqueue');
    failing.add('slack');
    await expect(router.routeEvent(sns(drift({ severity: 'high' })))).rejects.toThrow(/pagerduty: .*; slack: /);
    for (const route of ['pagerduty', 'slack']) {
      expect(await store.get(`alert#monitoring|psi|channel#high@${route}`, new Date(now))).toBeUndefined();
    }
    failing.clear();
    expect((await route(drift({ severity: 'high' }))).routes).toEqual(['pagerduty', 'slack']);
  });

  it('a resolve releases every severity and marker, so the next firing is delivered again', async () => {
    await route(drift());
    await route(drift({ severity: 'high' }));
    const resolved = await route(drift({ status: 'resolved', severity: 'medium' }));
    expect(resolved).toEqual({
      key: 'monitoring|psi|channel',
      routes: ['pagerduty-resolve', 'slack-resolve'],
      deduplicated: false,
    });
    for (const severity of ['medium', 'high']) {
      expect(await store.get(`alert#monitoring|psi|channel#${severity}`, new Date(now))).toBeUndefined();
    }
    expect((await route(drift())).routes).toEqual(['slack']);
  });

  it('a resolve of a condition that only reached the digest sends nothing, a High resolve always pages', async () => {
    await route(drift({ severity: 'low' }));
    expect((await route(drift({ status: 'resolved', severity: 'low' }))).routes).toEqual([]);
    expect((await route(drift({ status: 'resolved', severity: 'high' }))).routes).toEqual(['pagerduty-resolve']);
    expect((await route(drift({ status: 'resolved', severity: 'medium' }))).routes).toEqual([]);
    expect((await route(drift({ severity: 'low' }))).routes).toEqual(['digest']);
  });
});
