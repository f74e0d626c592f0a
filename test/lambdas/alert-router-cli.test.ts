/**
 * `clv alerts`: routes what local runs published to the alerts topic with the router core and the local condition
 * store; dry run by default, --send against a real HTTP server on 127.0.0.1.
 */
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../local/cli/alerts-command.js';
import { snsTopicLog } from '../../local/integrations/durable.js';

const EXECUTION = 'arn:aws:states:eu-west-1:000000000000:execution:clv-local-batch-scoring:run-1';

function publish(root: string, message: unknown, attributes: Record<string, string> = {}, subject?: string) {
  const file = snsTopicLog(root, 'clv-local-alerts');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(
    file,
    `${JSON.stringify({
      MessageId: `m-${Math.random().toString(16).slice(2)}`,
      TopicArn: 'arn:aws:sns:eu-west-1:000000000000:clv-local-alerts',
      Subject: subject ?? null,
      Message: JSON.stringify(message),
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
      Timestamp: new Date().toISOString(),
      Execution: EXECUTION,
    })}\n`,
  );
}

describe('clv alerts', () => {
  const received: { url: string; body: Record<string, unknown> }[] = [];
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(req.url === '/v2/enqueue' ? 202 : 200);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('dry run: prints the routes, de-duplicates, writes Low alerts to the local digest, remembers what it routed', async () => {
    const root = fs.mkdtempSync(path.join(tmpdir(), 'clv-alerts-'));
    try {
      const failure = { event: 'pipeline_failed', severity: 'high', error: 'States.TaskFailed', execution: EXECUTION };
      publish(root, failure, {}, 'CLV batch scoring failed');
      publish(root, failure, {}, 'CLV batch scoring failed');
      publish(root, { message: 'Quality gate WARN' }, { severity: 'Low', source: 'data-pipeline/quality-gate' });
      const lines: string[] = [];
      expect(await runAlerts(['--root', root, '--json'], (l) => lines.push(l))).toBe(0);
      const rows = lines.map((l) => JSON.parse(l));
      expect(rows.map((r) => [r.key, r.routes, r.deduplicated])).toEqual([
        ['batch-scoring|pipeline_failed', ['pagerduty', 'slack'], false],
        ['batch-scoring|pipeline_failed', [], true],
        ['data-pipeline|quality_gate_warning', ['digest'], false],
      ]);
      const digest = fs.readFileSync(snsTopicLog(root, 'clv-local-alerts-digest'), 'utf8').trim().split('\n');
      expect(JSON.parse(digest[0] as string).Subject).toBe('[CLV local] LOW data-pipeline: quality_gate_warning');
      expect(fs.existsSync(path.join(root, '_local', 'condition-store', 'clv-local-conditions'))).toBe(true);

      const again: string[] = [];
      expect(await runAlerts(['--root', root], (l) => again.push(l))).toBe(0);
      expect(again).toEqual([`no new alerts in ${snsTopicLog(root, 'clv-local-alerts')}`]);
      const text: string[] = [];
      await runAlerts(['--root', root, '--replay'], (l) => text.push(l));
      expect(text.join('\n')).toContain('de-duplicated (condition already firing)');
      expect(received).toEqual([]); // a dry run sends nothing
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('--send calls PagerDuty and Slack with the keys from the environment', async () => {
    const root = fs.mkdtempSync(path.join(tmpdir(), 'clv-alerts-'));
    const saved = { ...process.env };
    Object.assign(process.env, {
      CLV_PAGERDUTY_ROUTING_KEY: 'LOCALKEY',
      CLV_SLACK_WEBHOOK_URL: `${base}/slack`,
      CLV_PAGERDUTY_EVENTS_URL: base,
    });
    try {
      publish(root, { event: 'drift', severity: 'high', pipeline: 'monitoring', metric: 'psi', feature: 'channel' });
      expect(await runAlerts(['--root', root, '--send'], () => undefined)).toBe(0);
      expect(received.map((r) => r.url).sort()).toEqual(['/slack', '/v2/enqueue']);
      expect(received.find((r) => r.url === '/v2/enqueue')?.body).toMatchObject({
        routing_key: 'LOCALKEY',
        dedup_key: 'monitoring|psi|channel',
      });
    } finally {
      process.env = saved;
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
