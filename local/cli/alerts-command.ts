/**
 * `clv alerts [--root DIR] [--send] [--replay] [--json]`: runs the alert router (lambdas/alert-router/core.ts) over
 * what the local runs published to the alerts topic (`<root>/_local/sns/clv-local-alerts.jsonl`), with the local
 * condition store (`<root>/_local/condition-store/clv-local-conditions/`), so de-duplication and resolves behave as
 * in AWS. Without --send nothing leaves the machine: PagerDuty and Slack requests are printed, not sent. With --send
 * the routing key and the webhook URL come from CLV_PAGERDUTY_ROUTING_KEY and CLV_SLACK_WEBHOOK_URL
 * (CLV_PAGERDUTY_EVENTS_URL overrides the PagerDuty endpoint). Low alerts are appended to the local digest topic
 * `<root>/_local/sns/clv-local-alerts-digest.jsonl`. Messages already routed are remembered
 * (`<root>/_local/alert-router/routed-lines`); --replay routes all of them again. Exit 1 when a delivery failed.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AlertRouter, type RouteOutcome, type RouterSettings } from '../../lambdas/alert-router/core.js';
import type { FetchFn } from '../../lambdas/alert-router/http.js';
import { LocalConditionStore } from '../../lambdas/shared/condition-store.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { LOCAL_ACCOUNT, LOCAL_PREFIX, LOCAL_REGION } from '../constants.js';
import { snsTopicLog } from '../integrations/durable.js';
import { localRoot } from '../storage.js';
import type { Command } from './commands.js';

const USAGE = `usage: npm run clv -- alerts [--root DIR] [--send] [--replay] [--json]

  Routes the alerts the local runs published (topic ${LOCAL_PREFIX}-alerts) as the alert-router Lambda does:
  High -> PagerDuty + Slack, Medium -> Slack, Low -> the local digest topic, Info -> logged; de-duplicated per
  condition (local condition store, TTL from the dev config's alerting.dedupTtlMinutes).
  --send    really call PagerDuty and Slack (env CLV_PAGERDUTY_ROUTING_KEY, CLV_SLACK_WEBHOOK_URL; optional
            CLV_PAGERDUTY_EVENTS_URL); without it the requests are printed only
  --replay  route every message again, not only those published since the last call
  --json    one JSON object per message
  See docs/runbooks/alert-delivery.md.`;

const loggedMessageSchema = z.looseObject({
  MessageId: z.string(),
  Subject: z.string().nullable().optional(),
  Message: z.string(),
  MessageAttributes: z
    .record(z.string(), z.looseObject({ DataType: z.string().optional(), StringValue: z.string().optional() }))
    .optional(),
});

/** The local alert router's settings (dev's alerting config, local names). */
export function localRouterSettings(): RouterSettings {
  const alerting = loadEnvironmentConfig('dev').alerting;
  return {
    environment: 'local',
    region: LOCAL_REGION,
    dedupTableName: `${LOCAL_PREFIX}-conditions`,
    dedupTtlSeconds: alerting.dedupTtlMinutes * 60,
    retry: alerting.retry,
    pagerDutyEventsUrl: process.env.CLV_PAGERDUTY_EVENTS_URL ?? alerting.pagerDutyEventsUrl,
    pagerDutySecretName: 'env:CLV_PAGERDUTY_ROUTING_KEY',
    slackSecretName: 'env:CLV_SLACK_WEBHOOK_URL',
    secretsCacheSeconds: 0,
    digestTopicArn: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${LOCAL_PREFIX}-alerts-digest`,
  };
}

function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v || v.trim() === '') throw new Error(`--send needs env ${name}`);
  return v.trim();
}

export async function runAlerts(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      send: { type: 'boolean', default: false },
      replay: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const root = localRoot(values.root);
  const log = snsTopicLog(root, `${LOCAL_PREFIX}-alerts`);
  const stateFile = path.join(root, '_local', 'alert-router', 'routed-lines');
  const lines = fs.existsSync(log)
    ? fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];
  const done = !values.replay && fs.existsSync(stateFile) ? Number(fs.readFileSync(stateFile, 'utf8')) || 0 : 0;
  const pending = lines.slice(Math.min(done, lines.length));
  if (pending.length === 0) {
    if (!values.json) out(`no new alerts in ${log}`);
    return 0;
  }

  const settings = localRouterSettings();
  const printed: string[] = [];
  const fetchFn: FetchFn = values.send
    ? (url, init) => fetch(url, init)
    : async (url, init) => {
        printed.push(
          `  would POST ${url.includes('/v2/enqueue') ? url : '<slack webhook>'} ${init.body.slice(0, 300)}`,
        );
        return {
          status: url.includes('/v2/enqueue') ? 202 : 200,
          headers: { get: () => null },
          text: async () => 'ok',
        };
      };
  const digestLog = snsTopicLog(root, `${LOCAL_PREFIX}-alerts-digest`);
  const router = new AlertRouter({
    settings,
    store: new LocalConditionStore(root, settings.dedupTableName),
    fetch: fetchFn,
    secrets: {
      pagerDutyRoutingKey: async () => (values.send ? requiredEnv('CLV_PAGERDUTY_ROUTING_KEY') : 'dry-run'),
      slackWebhookUrl: async () =>
        values.send ? requiredEnv('CLV_SLACK_WEBHOOK_URL') : 'https://hooks.slack.com/services/dry-run',
    },
    digest: {
      publish: async (subject, message) => {
        fs.mkdirSync(path.dirname(digestLog), { recursive: true });
        fs.appendFileSync(
          digestLog,
          `${JSON.stringify({ MessageId: randomUUID(), TopicArn: settings.digestTopicArn, Subject: subject, Message: message, Timestamp: new Date().toISOString() })}\n`,
        );
      },
    },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });

  let failed = 0;
  for (const [i, line] of pending.entries()) {
    const parsed = loggedMessageSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${log} line ${done + i + 1}: not a published SNS message`);
    const m = parsed.data;
    const event = {
      Records: [
        {
          Sns: {
            MessageId: m.MessageId,
            Subject: m.Subject ?? null,
            Message: m.Message,
            MessageAttributes: Object.fromEntries(
              Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, { Type: 'String', Value: v.StringValue }]),
            ),
          },
        },
      ],
    };
    printed.length = 0;
    let outcome: RouteOutcome | undefined;
    let error: string | undefined;
    try {
      outcome = (await router.routeEvent(event))[0];
    } catch (err) {
      error = (err as Error).message;
      failed++;
    }
    if (values.json) {
      out(
        JSON.stringify({ messageId: m.MessageId, subject: m.Subject ?? null, ...outcome, ...(error ? { error } : {}) }),
      );
    } else {
      const what = error
        ? `FAILED: ${error}`
        : outcome?.deduplicated
          ? 'de-duplicated (condition already firing)'
          : outcome?.routes.length
            ? `-> ${outcome.routes.join(', ')}`
            : 'logged only';
      out(`${m.Subject ?? m.MessageId}: ${outcome?.key ?? ''} ${what}`);
      for (const p of printed) out(p);
    }
  }
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(stateFile, String(lines.length));
  return failed > 0 ? 1 : 0;
}

export const alertsCommand: Command = {
  summary: 'route the alerts of local runs (PagerDuty/Slack/digest, de-duplicated) as the alert router does',
  usage: USAGE,
  run: (argv) => runAlerts(argv),
};
