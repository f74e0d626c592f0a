/**
 * The alert-router handler end to end in-process: settings from ALERT_ROUTER_SETTINGS, secrets through Powertools
 * Parameters (Secrets Manager mocked), the local condition store (CLV_LOCAL_ROOT), PagerDuty and Slack on a real
 * HTTP server on 127.0.0.1; and the SNS digest publisher (SDK, mocked).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnsDigestPublisher } from '../../lambdas/alert-router/sns-publisher.js';

const requests: { url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
let failSlack = false;
let server: Server;
let base = '';
let root = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      if (req.url === '/v2/enqueue') {
        res.writeHead(202);
        res.end('{"status":"success"}');
      } else {
        res.writeHead(failSlack ? 500 : 200);
        res.end(failSlack ? 'boom' : 'ok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = mkdtempSync(path.join(tmpdir(), 'alert-handler-'));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

describe('alert-router handler', () => {
  it('routes a High alert with secrets from Secrets Manager, and fails (DLQ path) when Slack keeps failing', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand, { SecretId: 'clv/test/pd' }).resolves({ SecretString: 'ROUTINGKEY' });
    secrets
      .on(GetSecretValueCommand, { SecretId: 'clv/test/slack' })
      .resolves({ SecretString: `${base}/slack/hook\n` });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      CLV_LOCAL_ROOT: root,
      ALERT_ROUTER_SETTINGS: JSON.stringify({
        environment: 'test',
        region: 'eu-west-1',
        dedupTableName: 'clv-test-alert-conditions',
        dedupTtlSeconds: 600,
        retry: { maxAttempts: 2, baseDelayMs: 1 },
        pagerDutyEventsUrl: base,
        pagerDutySecretName: 'clv/test/pd',
        slackSecretName: 'clv/test/slack',
        secretsCacheSeconds: 60,
        digestTopicArn: 'arn:aws:sns:eu-west-1:123456789012:clv-test-alerts-digest',
      }),
    });
    try {
      const { handler } = await import('../../lambdas/alert-router/handler.js');
      const event = (message: unknown) => ({
        Records: [{ Sns: { MessageId: 'm-1', Message: JSON.stringify(message), MessageAttributes: {} } }],
      });
      const out = await handler(event({ event: 'pipeline_failed', severity: 'high', pipeline: 'batch-scoring' }));
      expect(out.routed).toEqual([
        { key: 'batch-scoring|pipeline_failed', routes: ['pagerduty', 'slack'], deduplicated: false },
      ]);
      expect(JSON.parse(requests.find((r) => r.url === '/v2/enqueue')?.body ?? '{}')).toMatchObject({
        routing_key: 'ROUTINGKEY',
        dedup_key: 'batch-scoring|pipeline_failed',
      });
      expect(requests.some((r) => r.url === '/slack/hook')).toBe(true);

      failSlack = true;
      await expect(
        handler(event({ event: 'drift', severity: 'medium', pipeline: 'monitoring', metric: 'psi', feature: 'x' })),
      ).rejects.toThrow(
        /message m-1 \(monitoring\|psi\|x\).*Slack webhook: failed after 2 attempts, last HTTP 500: boom/,
      );
      // secrets are cached (maxAge 60 s): one call per secret
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    } finally {
      failSlack = false;
      process.env = saved;
      secrets.restore();
    }
  });
});

describe('SnsDigestPublisher', () => {
  it('publishes the digest to the topic with a printable subject of at most 100 characters', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const publisher = new SnsDigestPublisher(
      'arn:aws:sns:eu-west-1:123456789012:clv-test-alerts-digest',
      new SNSClient({}),
    );
    await publisher.publish(`[CLV test] LOW drift → ${'x'.repeat(120)}`, 'line 1\nline 2');
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:clv-test-alerts-digest');
    expect(input?.Message).toBe('line 1\nline 2');
    expect(input?.Subject).toHaveLength(100);
    expect(input?.Subject).toMatch(/^\[CLV test\] LOW drift \? x+$/);
    sns.restore();
  });

  it('refuses a bad topic ARN and lets an SNS error through (the router retries, then the DLQ)', async () => {
    expect(() => new SnsDigestPublisher('nope')).toThrow(/not an SNS topic ARN/);
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).rejects(new Error('AuthorizationError'));
    const publisher = new SnsDigestPublisher('arn:aws:sns:eu-west-1:123456789012:t', new SNSClient({}));
    await expect(publisher.publish('s', 'm')).rejects.toThrow(/AuthorizationError/);
    sns.restore();
  });
});
