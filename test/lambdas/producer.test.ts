import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { main, readJsonLines } from '../../local/producer/cli.js';
import {
  backoffDelay,
  KINESIS_LIMITS,
  partitionKeyOf,
  planBatches,
  putAllRecords,
  recordsFromJsonLines,
} from '../../local/producer/producer.js';

const kinesis = mockClient(KinesisClient);
afterEach(() => kinesis.reset());

const line = (i: number, session = `s-${i % 7}`) => JSON.stringify({ event_id: `e-${i}`, session_id: session });
const lines = (n: number) => Array.from({ length: n }, (_, i) => line(i)).join('\n');
const noSleep = { sleeps: [] as number[] };
const opts = (extra: Record<string, unknown> = {}) => {
  noSleep.sleeps = [];
  return {
    streamName: 'clv-dev-clickstream',
    sleep: async (ms: number) => {
      noSleep.sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  };
};
const inputs = () => kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input as PutRecordsCommandInput);
const okFor = (input: PutRecordsCommandInput) => ({
  FailedRecordCount: 0,
  Records: (input.Records ?? []).map((_, i) => ({ SequenceNumber: `${i}`, ShardId: 'shardId-0' })),
});

describe('producer: records and partition keys', () => {
  it('uses the session id as the partition key and hashes lines without one', () => {
    expect(partitionKeyOf(line(1, 'sess-9'))).toBe('sess-9');
    const a = partitionKeyOf('{not json');
    expect(a).toMatch(/^nosession-[0-9a-f]{32}$/);
    expect(partitionKeyOf('{not json')).toBe(a);
    expect(partitionKeyOf(JSON.stringify({ session_id: 42 }))).toMatch(/^nosession-/);
  });

  it('reads JSONL (gzip or not) and skips empty lines', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'producer-'));
    const text = `${line(1)}\n\n${line(2)}\n`;
    fs.writeFileSync(path.join(dir, 'a.jsonl'), text);
    fs.writeFileSync(path.join(dir, 'a.jsonl.gz'), gzipSync(text));
    expect(recordsFromJsonLines(readJsonLines(path.join(dir, 'a.jsonl')))).toHaveLength(2);
    expect(readJsonLines(path.join(dir, 'a.jsonl.gz'))).toBe(text);
  });
});

describe('producer: batching', () => {
  it('puts at most 500 records in one request', async () => {
    kinesis.on(PutRecordsCommand).callsFake(okFor);
    const report = await putAllRecords(new KinesisClient({}), recordsFromJsonLines(lines(1201)), opts());
    expect(inputs().map((i) => i.Records?.length)).toEqual([500, 500, 201]);
    expect(report).toMatchObject({ total: 1201, sent: 1201, failed: 0, requests: 3, retriedEntries: 0 });
    expect(inputs()[0]?.Records?.[3]?.PartitionKey).toBe('s-3');
  });

  it('keeps every request within 5 MiB', () => {
    const big = Array.from({ length: 12 }, (_, i) => ({
      data: Buffer.alloc(1000 * 1000, 97),
      partitionKey: `k${i}`,
    }));
    const batches = planBatches(
      big,
      big.map((_, i) => i),
    );
    expect(batches.map((b) => b.length)).toEqual([5, 5, 2]);
    for (const b of batches) {
      const bytes = b.reduce((s, i) => s + (big[i]?.data.byteLength ?? 0) + 2, 0);
      expect(bytes).toBeLessThanOrEqual(KINESIS_LIMITS.maxBytesPerRequest);
    }
  });

  it('fails a record over 1 MiB locally without sending it', async () => {
    kinesis.on(PutRecordsCommand).callsFake(okFor);
    const records = [
      { data: Buffer.alloc(KINESIS_LIMITS.maxBytesPerRecord + 1), partitionKey: 'k' },
      { data: Buffer.from('{}'), partitionKey: 'k' },
    ];
    const report = await putAllRecords(new KinesisClient({}), records, opts());
    expect(report).toMatchObject({ sent: 1, failed: 1 });
    expect(report.failures[0]).toMatchObject({ index: 0, errorCode: 'RecordTooLarge' });
  });
});

describe('producer: retries', () => {
  it('retries only the throttled entries, with backoff, until they are sent', async () => {
    let call = 0;
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
      call += 1;
      const records = input.Records ?? [];
      if (call === 1) {
        return {
          FailedRecordCount: 2,
          Records: records.map((_, i) =>
            i === 1 || i === 3
              ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' }
              : { SequenceNumber: `${i}`, ShardId: 'shardId-0' },
          ),
        };
      }
      return okFor(input);
    });
    const records = recordsFromJsonLines(lines(5));
    const report = await putAllRecords(new KinesisClient({}), records, opts());
    expect(report).toMatchObject({ total: 5, sent: 5, failed: 0, requests: 2, retriedEntries: 2 });
    const second = inputs()[1]?.Records ?? [];
    expect(second.map((r) => Buffer.from(r.Data as Uint8Array).toString())).toEqual([line(1), line(3)]);
    expect(noSleep.sleeps).toEqual([50]);
  });

  it('does not retry entries failed with a non-retryable error and reports them with the reason', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
      FailedRecordCount: 1,
      Records: (input.Records ?? []).map((_, i) =>
        i === 0 ? { ErrorCode: 'AccessDenied', ErrorMessage: 'no kms:GenerateDataKey' } : { SequenceNumber: '1' },
      ),
    }));
    const report = await putAllRecords(new KinesisClient({}), recordsFromJsonLines(lines(3)), opts());
    expect(report).toMatchObject({ sent: 2, failed: 1, requests: 1 });
    expect(report.failures).toEqual([{ index: 0, errorCode: 'AccessDenied', errorMessage: 'no kms:GenerateDataKey' }]);
    expect(report.sent + report.failed).toBe(report.total);
  });

  it('gives up after maxAttempts with the last error, and the counts still reconcile', async () => {
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
      FailedRecordCount: 1,
      Records: (input.Records ?? []).map((r) =>
        Buffer.from(r.Data as Uint8Array).toString() === line(0)
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
          : { SequenceNumber: '1' },
      ),
    }));
    const report = await putAllRecords(new KinesisClient({}), recordsFromJsonLines(lines(4)), opts({ maxAttempts: 3 }));
    expect(report).toMatchObject({ total: 4, sent: 3, failed: 1, requests: 3, retriedEntries: 2 });
    expect(report.failures[0]?.errorMessage).toMatch(/gave up after 3 attempts: Rate exceeded/);
    expect(noSleep.sleeps).toEqual([50, 100]);
  });

  it('retries a whole request that was throttled', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    kinesis.on(PutRecordsCommand).rejectsOnce(throttled).callsFake(okFor);
    const report = await putAllRecords(new KinesisClient({}), recordsFromJsonLines(lines(3)), opts());
    expect(report).toMatchObject({ sent: 3, failed: 0, requests: 2 });
  });

  it('computes full-jitter exponential backoff capped at maxDelayMs', () => {
    expect(backoffDelay(1, 100, 5000, () => 0.999)).toBe(99);
    expect(backoffDelay(4, 100, 5000, () => 0.5)).toBe(400);
    expect(backoffDelay(10, 100, 5000, () => 0.5)).toBe(2500);
    expect(backoffDelay(3, 100, 5000, () => 0)).toBe(0);
  });
});

describe('producer CLI', () => {
  it('exits 2 naming the bad argument, and 2 for a file it cannot read', async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (msg: string) => {
      errors.push(msg);
    };
    try {
      expect(await main(['--stream', 'bad stream!', '--file', 'x.jsonl'])).toBe(2);
      expect(errors.at(-1)).toMatch(/invalid arguments[\s\S]*stream/);
      expect(await main(['--stream', 'clv-dev-clickstream', '--file', '/nonexistent/events.jsonl'])).toBe(2);
      expect(errors.at(-1)).toMatch(/cannot read \/nonexistent\/events.jsonl/);
    } finally {
      console.error = original;
    }
  });

  it('sends a file and exits 0 when every record was sent', async () => {
    kinesis.on(PutRecordsCommand).callsFake(okFor);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'producer-cli-'));
    const file = path.join(dir, 'events.jsonl.gz');
    fs.writeFileSync(file, gzipSync(lines(3)));
    const logs: string[] = [];
    const original = console.log;
    console.log = (msg: string) => {
      logs.push(msg);
    };
    try {
      expect(await main(['--stream', 'clv-dev-clickstream', '--file', file, '--region', 'eu-west-1'])).toBe(0);
    } finally {
      console.log = original;
    }
    expect(JSON.parse(logs.at(-1) ?? '{}')).toMatchObject({ total: 3, sent: 3, failed: 0 });
    expect(inputs()[0]?.StreamName).toBe('clv-dev-clickstream');
  });
});
