/**
 * The alert router against a real HTTP server on 127.0.0.1 (node:http, random port) that records every request and
 * answers from a script per path: PagerDuty at /v2/enqueue, Slack at /slack/hook.
 */
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AlertRouter,
  executionConsoleUrl,
  parseRouterSettings,
  type RouterDependencies,
  type RouterSettings,
} from '../../lambdas/alert-router/core.js';
import { DeliveryError, postJson, retryAfterMs } from '../../lambdas/alert-router/http.js';
import { LocalConditionStore } from '../../lambdas/shared/condition-store.js';
import { type Alert, conditionKey, normalizeAlert } from '../../lib/contracts/alerts.js';
import { repoRoot } from '../../lib/paths.js';

interface Recorded {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

type Reply = { status: number; body?: string; headers?: Record<string, string> };

class RecordingServer {
  readonly requests: Recorded[] = [];
  /** Replies per path, consumed in order; when empty the default (PagerDuty 202, Slack 200 ok). */
  readonly script = new Map<string, Reply[]>();
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = req.url ?? '';
        this.requests.push({
          path: url,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          headers: req.headers,
        });
        const reply =
          this.script.get(url)?.shift() ??
          (url === '/v2/enqueue' ? { status: 202, body: '{"status":"success"}' } : { status: 200, body: 'ok' });
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  on(pathName: string): Recorded[] {
    return this.requests.filter((r) => r.path === pathName);
  }

  reset(): void {
    this.requests.length = 0;
    this.script.clear();
  }
}

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:clv-dev-monitoring:run-1';
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000000';

function sns(message: unknown, attributes: Record<string, string> = {}, subject?: string) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        Sns: {
          MessageId: `m-${Math.random().toString(16).slice(2)}`,
          TopicArn: 'arn:aws:sns:eu-west-1:123456789012:clv-dev-alerts',
          Subject: subject ?? null,
          Message: typeof message === 'string' ? message : JSON.stringify(message),
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [k, { Type: 'String', Value: v }]),
          ),
        },
      },
    ],
  };
}

const drift = (overrides: Record<string, unknown> = {}) => ({
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
  ...overrides,
});

describe('alert router (real HTTP server on 127.0.0.1)', () => {
  const server = new RecordingServer();
  let root: string;
  let digests: { subject: string; message: string }[];
  let logs: { level: string; message: string; details?: Record<string, unknown> }[];
  let sleeps: number[];
  let router: AlertRouter;
  let settings: RouterSettings;

  beforeAll(() => server.start());
  afterAll(() => server.stop());
  beforeEach(() => {
    server.reset();
    root = mkdtempSync(path.join(tmpdir(), 'alert-router-'));
    digests = [];
    logs = [];
    sleeps = [];
    settings = {
      environment: 'dev',
      region: 'eu-west-1',
      dedupTableName: 'clv-dev-alert-conditions',
      dedupTtlSeconds: 3600,
      retry: { maxAttempts: 3, baseDelayMs: 1 },
      pagerDutyEventsUrl: server.base,
      pagerDutySecretName: 'pd',
      slackSecretName: 'slack',
      secretsCacheSeconds: 0,
      digestTopicArn: 'arn:aws:sns:eu-west-1:123456789012:clv-dev-alerts-digest',
    };
    const deps: RouterDependencies = {
      settings,
      store: new LocalConditionStore(root, settings.dedupTableName),
      fetch: (url, init) => fetch(url, init),
      secrets: {
        pagerDutyRoutingKey: async () => ROUTING_KEY,
        slackWebhookUrl: async () => `${server.base}/slack/hook`,
      },
      digest: { publish: async (subject, message) => void digests.push({ subject, message }) },
      log: {
        info: (message, details) => logs.push({ level: 'info', message, details }),
        warn: (message, details) => logs.push({ level: 'warn', message, details }),
        error: (message, details) => logs.push({ level: 'error', message, details }),
      },
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, Math.min(ms, 5)));
      },
    };
    router = new AlertRouter(deps);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('high (a pipeline failure as the ASL files publish it) → PagerDuty trigger AND Slack, with the console link', async () => {
    const out = await router.routeEvent(
      sns(
        {
          event: 'pipeline_failed',
          severity: 'high',
          pipeline: 'batch-scoring',
          error: 'States.TaskFailed',
          cause: 'transform job failed',
          execution: EXECUTION.replace('clv-dev-monitoring', 'clv-dev-batch-scoring'),
        },
        { severity: 'high' },
        'CLV batch scoring failed',
      ),
    );
    expect(out).toEqual([
      { key: 'batch-scoring|pipeline_failed', routes: ['pagerduty', 'slack'], deduplicated: false },
    ]);
    const [pd] = server.on('/v2/enqueue');
    const link = executionConsoleUrl(EXECUTION.replace('clv-dev-monitoring', 'clv-dev-batch-scoring'), 'x');
    expect(link).toBe(
      'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:clv-dev-batch-scoring:run-1',
    );
    expect(pd?.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'batch-scoring|pipeline_failed',
      payload: {
        summary: '[CLV dev] CLV batch scoring failed',
        source: 'clv-dev/batch-scoring',
        severity: 'critical',
        custom_details: { pipeline: 'batch-scoring', console_url: link, details: { error: 'States.TaskFailed' } },
      },
    });
    expect(pd?.headers['content-type']).toBe('application/json');
    const [slack] = server.on('/slack/hook');
    expect(slack?.body.text).toContain('HIGH');
    expect(JSON.stringify(slack?.body.blocks)).toContain(link);
    expect(digests).toEqual([]);
  });

  it('medium → Slack only, naming pipeline, execution, metric, value and threshold', async () => {
    const out = await router.routeEvent(sns(drift()));
    expect(out[0]?.routes).toEqual(['slack']);
    expect(server.on('/v2/enqueue')).toEqual([]);
    const blocks = JSON.stringify(server.on('/slack/hook')[0]?.body.blocks);
    for (const text of ['monitoring', EXECUTION, 'psi (channel)', '0.31', '0.25', 'console.aws.amazon.com']) {
      expect(blocks).toContain(text);
    }
  });

  it('low → the digest topic only; info → logged only', async () => {
    await router.routeEvent(
      sns(
        { event: 'quality_gate_warning', message: 'Quality gate WARN for dt=2024-03-01' },
        {
          severity: 'Low',
          source: 'data-pipeline/quality-gate',
        },
      ),
    );
    expect(server.requests).toEqual([]);
    expect(digests).toHaveLength(1);
    expect(digests[0]?.subject).toBe('[CLV dev] LOW data-pipeline: quality_gate_warning');

    await router.routeEvent(sns({ event: 'scoring_completed', severity: 'info', execution: EXECUTION }));
    expect(server.requests).toEqual([]);
    expect(digests).toHaveLength(1);
    expect(logs.some((l) => l.message === 'info alert (logged only)')).toBe(true);
  });

  it('the data pipeline quality-gate failure (severity in attributes, gate output as message) pages', async () => {
    const gate = {
      status: 'fail',
      date: '2024-03-01',
      summary: { failedCritical: 2 },
      message: 'Quality gate FAIL for silver_transactions dt=2024-03-01: 2 critical',
    };
    const out = await router.routeEvent(sns(gate, { severity: 'High', source: 'data-pipeline/quality-gate' }));
    expect(out[0]).toMatchObject({ key: 'data-pipeline|quality_gate_failed', routes: ['pagerduty', 'slack'] });
    expect(server.on('/v2/enqueue')[0]?.body).toMatchObject({
      payload: { summary: `[CLV dev] ${gate.message}`, custom_details: { event: 'quality_gate_failed' } },
    });
  });

  it('de-duplicates: the same firing condition a second time sends nothing; an escalation is delivered', async () => {
    await router.routeEvent(sns(drift()));
    const second = await router.routeEvent(sns(drift({ value: 0.33, execution: `${EXECUTION}-2` })));
    expect(second[0]).toEqual({ key: 'monitoring|psi|channel', routes: [], deduplicated: true });
    expect(server.on('/slack/hook')).toHaveLength(1);
    // another feature is another condition
    await router.routeEvent(sns(drift({ feature: 'country' })));
    expect(server.on('/slack/hook')).toHaveLength(2);
    // the same condition escalated to high pages
    const high = await router.routeEvent(sns(drift({ severity: 'high' })));
    expect(high[0]?.routes).toEqual(['pagerduty', 'slack']);
  });

  it('retries a 429 (honouring Retry-After) and then succeeds', async () => {
    server.script.set('/slack/hook', [{ status: 429, body: 'rate_limited', headers: { 'retry-after': '0' } }]);
    server.script.set('/v2/enqueue', [{ status: 503 }]);
    const out = await router.routeEvent(sns(drift({ severity: 'high' })));
    expect(out[0]?.routes).toEqual(['pagerduty', 'slack']);
    expect(server.on('/slack/hook')).toHaveLength(2);
    expect(server.on('/v2/enqueue')).toHaveLength(2);
    expect(sleeps.sort()).toEqual([0, 1]); // Retry-After: 0 for Slack, base delay 1 ms for PagerDuty
    expect(logs.filter((l) => l.message === 'alert delivery retry')).toHaveLength(2);
  });

  it('a permanently failing webhook throws (the DLQ path) with the message id, and the alert is not forgotten', async () => {
    server.script.set('/slack/hook', [{ status: 500 }, { status: 502 }, { status: 500 }]);
    const event = sns(drift());
    const before = JSON.stringify(event);
    const error = await router.routeEvent(event).then(
      () => undefined,
      (err: unknown) => err as DeliveryError,
    );
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error?.name).toBe('AlertDeliveryError');
    expect(error?.message).toContain(event.Records[0]?.Sns.MessageId as string);
    expect(error?.message).toMatch(/Slack webhook: failed after 3 attempts, last HTTP 500/);
    expect(server.on('/slack/hook')).toHaveLength(3);
    expect(sleeps).toEqual([1, 2]); // exponential backoff
    expect(JSON.stringify(event)).toBe(before); // the event Lambda puts in the DLQ is the one received
    // the key was released: the redelivered event is sent, not de-duplicated
    const again = await router.routeEvent(event);
    expect(again[0]?.routes).toEqual(['slack']);
  });

  it('PagerDuty failing while Slack works: the retried invocation pages without posting to Slack again', async () => {
    server.script.set('/v2/enqueue', [{ status: 500 }, { status: 500 }, { status: 500 }]);
    const event = sns(drift({ severity: 'high' }));
    await expect(router.routeEvent(event)).rejects.toThrow(/pagerduty: PagerDuty trigger: failed after 3 attempts/);
    expect(server.on('/slack/hook')).toHaveLength(1);
    const retried = await router.routeEvent(event);
    expect(retried[0]?.routes).toEqual(['pagerduty']);
    expect(server.on('/slack/hook')).toHaveLength(1);
    expect(server.on('/v2/enqueue')).toHaveLength(4);
    // delivered in full now: the condition is de-duplicated, and after a resolve it fires on both routes again
    expect((await router.routeEvent(event))[0]?.deduplicated).toBe(true);
    await router.routeEvent(sns(drift({ severity: 'high', status: 'resolved' })));
    expect((await router.routeEvent(event))[0]?.routes).toEqual(['pagerduty', 'slack']);
  });

  it('a 4xx other than 429 is permanent: no retry', async () => {
    server.script.set('/slack/hook', [{ status: 404, body: 'no_service' }]);
    await expect(router.routeEvent(sns(drift()))).rejects.toThrow(/permanent failure, HTTP 404: no_service/);
    expect(server.on('/slack/hook')).toHaveLength(1);
  });

  it('resolve: PagerDuty resolve with the same dedup_key, a Slack note, and the key released', async () => {
    await router.routeEvent(sns(drift({ severity: 'high' })));
    const out = await router.routeEvent(sns(drift({ severity: 'high', status: 'resolved', value: 0.05 })));
    expect(out[0]?.routes).toEqual(['pagerduty-resolve', 'slack-resolve']);
    const [trigger, resolve] = server.on('/v2/enqueue');
    expect(resolve?.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: trigger?.body.dedup_key,
    });
    expect(server.on('/slack/hook')[1]?.body.text).toContain('RESOLVED');
    // firing again after the resolve pages again
    const refire = await router.routeEvent(sns(drift({ severity: 'high' })));
    expect(refire[0]?.deduplicated).toBe(false);
  });

  it('an unparseable message is not dropped: High, with the raw text', async () => {
    const out = await router.routeEvent(sns('this is not JSON {', {}, 'weird'));
    expect(out[0]?.routes).toEqual(['pagerduty', 'slack']);
    const pd = server.on('/v2/enqueue')[0]?.body as {
      payload: { summary: string; custom_details: { details: { raw: string } } };
    };
    expect(pd.payload.summary).toContain('Unparseable alert');
    expect(pd.payload.custom_details.details.raw).toBe('this is not JSON {');
    // a message with a bad field too
    const bad = await router.routeEvent(sns({ event: 'drift', severity: 'urgent' }));
    expect(bad[0]?.routes).toEqual(['pagerduty', 'slack']);
  });

  it('a CloudWatch alarm (DLQ not empty, pipeline failures) pages on ALARM and resolves on OK', async () => {
    const alarm = (state: string) => ({
      AlarmName: 'clv-dev-alert-router-failed-not-empty',
      AlarmDescription: 'DLQ not empty',
      NewStateValue: state,
      NewStateReason: 'Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).',
      Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 },
    });
    const fired = await router.routeEvent(sns(alarm('ALARM')));
    expect(fired[0]).toMatchObject({
      key: 'cloudwatch-alarm|ApproximateNumberOfMessagesVisible|clv-dev-alert-router-failed-not-empty',
      routes: ['pagerduty', 'slack'],
    });
    const ok = await router.routeEvent(sns(alarm('OK')));
    expect(ok[0]?.routes).toEqual(['pagerduty-resolve', 'slack-resolve']);
    expect(server.on('/v2/enqueue')[1]?.body).toMatchObject({ event_action: 'resolve', dedup_key: fired[0]?.key });
  });

  it('a failed execution pages once: its alarm shares the key of the pipeline failure alert', async () => {
    const first = await router.routeEvent(
      sns({ event: 'pipeline_failed', severity: 'high', pipeline: 'batch-scoring', execution: 'arn:x' }),
    );
    expect(first[0]).toMatchObject({ key: 'batch-scoring|pipeline_failed', routes: ['pagerduty', 'slack'] });
    const alarm = (name: string, state: string) => ({
      AlarmName: name,
      NewStateValue: state,
      Trigger: { MetricName: 'ExecutionsFailed', Threshold: 1 },
    });
    const duplicate = await router.routeEvent(sns(alarm('clv-dev-batch-scoring-executions-failed', 'ALARM')));
    expect(duplicate[0]).toMatchObject({ key: 'batch-scoring|pipeline_failed', deduplicated: true, routes: [] });
    expect(server.on('/v2/enqueue')).toHaveLength(1);
    // a timeout has no NotifyFailure: its alarm pages under the pipeline's key
    const timedOut = await router.routeEvent(sns(alarm('clv-dev-training-pipeline-executions-timed-out', 'ALARM')));
    expect(timedOut[0]).toMatchObject({ key: 'training-pipeline|pipeline_failed', routes: ['pagerduty', 'slack'] });
    // a Lambda's errors alarm is Medium: Slack only
    const lambda = await router.routeEvent(sns(alarm('ClvdevMlMonitoringDrift1234-errors', 'ALARM')));
    expect(lambda[0]?.routes).toEqual(['slack']);
  });

  it('refuses an event that is not from SNS, naming the field', async () => {
    await expect(router.routeEvent({ Records: [{ body: 'x' }] })).rejects.toThrow(/not an SNS event.*Sns/s);
  });
});

/** Every sns:publish state of the ASL files, with its Message and attributes filled as a run would. */
function publishedByAslFiles(): { where: string; message: string; attributes: Record<string, string> }[] {
  const dir = path.join(repoRoot, 'state-machines');
  const out: { where: string; message: string; attributes: Record<string, string> }[] = [];
  const samples: Record<string, unknown> = {
    value: 0.5,
    threshold: 0.25,
    severity: 'medium',
    status: 'firing',
    event: 'drift',
  };
  const sample = (key: string): unknown => (key in samples ? samples[key] : 'sample');
  const fill = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(fill);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) =>
        k.endsWith('.$') ? [k.slice(0, -2), sample(k.slice(0, -2))] : [k, fill(x)],
      ),
    );
  };
  const walk = (file: string, states: Record<string, Record<string, unknown>>) => {
    for (const [name, st] of Object.entries(states)) {
      if (st.Resource === 'arn:aws:states:::sns:publish') {
        const p = st.Parameters as Record<string, unknown>;
        const message = 'Message' in p ? JSON.stringify(fill(p.Message)) : '{"sample": true}';
        const attributes = Object.fromEntries(
          Object.entries((p.MessageAttributes ?? {}) as Record<string, Record<string, string>>).map(([k, a]) => [
            k,
            a.StringValue ?? 'sample',
          ]),
        );
        out.push({ where: `${file} ${name}`, message, attributes });
      }
      for (const b of (st.Branches ?? []) as { States: Record<string, Record<string, unknown>> }[])
        walk(file, b.States);
      const inner = (st.ItemProcessor ?? st.Iterator) as
        | { States: Record<string, Record<string, unknown>> }
        | undefined;
      if (inner) walk(file, inner.States);
    }
  };
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.asl.json'))) {
    walk(file, JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).States);
  }
  return out;
}

describe('alert contract and helpers', () => {
  it('parses every alert the ASL files publish (none is routed as unparseable)', () => {
    const published = publishedByAslFiles();
    expect(published.length).toBeGreaterThanOrEqual(9);
    for (const p of published) {
      const alert = normalizeAlert(p.message, p.attributes);
      expect(alert.unparseable, `${p.where}: ${alert.unparseable?.reason}`).toBeUndefined();
    }
  });

  it('accepts what the ASL files publish today', () => {
    const trainingRejected = normalizeAlert(
      JSON.stringify({ event: 'model_rejected', severity: 'warning', reasons: ['gini'], execution: EXECUTION }),
    );
    expect(trainingRejected).toMatchObject({
      severity: 'medium',
      pipeline: 'monitoring',
      details: { reasons: ['gini'] },
    });
    const dataFailure = normalizeAlert(JSON.stringify({ date: '2024-03-01', error: { Error: 'X', Cause: 'y' } }), {
      severity: 'High',
      source: 'data-pipeline',
      execution: EXECUTION,
    });
    expect(dataFailure).toMatchObject({ event: 'pipeline_failed', severity: 'high', pipeline: 'data-pipeline' });
    expect(conditionKey(dataFailure)).toBe('data-pipeline|pipeline_failed');
  });

  it('treats null optional fields (a JSONPath that selected null) as absent', () => {
    const a = normalizeAlert(
      JSON.stringify({
        event: 'proxy_drop',
        severity: 'medium',
        pipeline: 'monitoring',
        metric: 'spearman',
        feature: null,
        value: null,
        threshold: null,
        status: 'firing',
      }),
    );
    expect(a.unparseable).toBeUndefined();
    expect(conditionKey(a)).toBe('monitoring|spearman|-');
  });

  it('keys conditions by pipeline + metric + feature, else pipeline + event', () => {
    const a = normalizeAlert(JSON.stringify(drift())) as Alert;
    expect(conditionKey(a)).toBe('monitoring|psi|channel');
    expect(
      conditionKey(
        normalizeAlert(
          JSON.stringify({ event: 'proxy_drop', severity: 'medium', pipeline: 'monitoring', metric: 'spearman' }),
        ),
      ),
    ).toBe('monitoring|spearman|-');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('network errors are retried, then reported', async () => {
    const calls: number[] = [];
    await expect(
      postJson(
        'Probe',
        'http://127.0.0.1:9/x',
        {},
        {
          fetch: async () => {
            calls.push(1);
            throw new Error('ECONNREFUSED');
          },
          retry: { maxAttempts: 2, baseDelayMs: 1 },
        },
      ),
    ).rejects.toThrow(/Probe: failed after 2 attempts, last network error: ECONNREFUSED/);
    expect(calls).toHaveLength(2);
  });

  it('parses the router settings from the environment, naming a bad field', () => {
    expect(() => parseRouterSettings({})).toThrow(/ALERT_ROUTER_SETTINGS is not set/);
    expect(() => parseRouterSettings({ ALERT_ROUTER_SETTINGS: '{"environment":"dev"}' })).toThrow(/region/);
  });
});
