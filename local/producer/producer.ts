/**
 * Kinesis producer for clickstream events: sends JSON lines with PutRecords in batches of at most 500 records and
 * 5 MiB, partition key = the event's session_id, and retries only the entries Kinesis failed with a retryable error
 * (throttling) using exponential backoff with full jitter. Every record ends as sent or failed (with its reason).
 */
import { createHash } from 'node:crypto';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

/** PutRecords limits (Kinesis Data Streams quotas). */
export const KINESIS_LIMITS = {
  maxRecordsPerRequest: 500,
  maxBytesPerRequest: 5 * 1024 * 1024,
  maxBytesPerRecord: 1024 * 1024,
  maxPartitionKeyLength: 256,
} as const;

/** Entry error codes worth retrying: throttling and transient service failures. */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'InternalFailure',
]);
/** Whole-request errors worth retrying. */
const RETRYABLE_REQUEST_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'LimitExceededException',
  'ThrottlingException',
]);

export interface ProducerRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

export interface FailedRecord {
  /** Position of the record in the input. */
  readonly index: number;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface ProducerReport {
  readonly total: number;
  readonly sent: number;
  readonly failed: number;
  /** PutRecords calls made, retries included. */
  readonly requests: number;
  /** Entries sent again after a retryable failure. */
  readonly retriedEntries: number;
  readonly failures: FailedRecord[];
}

export interface ProducerOptions {
  readonly streamName: string;
  /** Attempts per entry, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** Backoff base (ms): the cap of attempt n is min(maxDelayMs, baseDelayMs * 2^(n-1)). @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** Injected for tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests: a number in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Full-jitter exponential backoff delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/** The partition key of a JSON line: its session_id, or (for a line that has none) a hash of the line. */
export function partitionKeyOf(line: string): string {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const sessionId = (parsed as Record<string, unknown>).session_id;
      if (
        typeof sessionId === 'string' &&
        sessionId.length > 0 &&
        sessionId.length <= KINESIS_LIMITS.maxPartitionKeyLength
      ) {
        return sessionId;
      }
    }
  } catch {
    // Malformed lines still go to the stream: the Firehose transformation rejects them with a reason.
  }
  return `nosession-${createHash('sha256').update(line).digest('hex').slice(0, 32)}`;
}

/** One record per JSON line (empty lines skipped). */
export function recordsFromJsonLines(text: string): ProducerRecord[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim().length > 0)
    .map((line) => ({ data: Buffer.from(line, 'utf8'), partitionKey: partitionKeyOf(line) }));
}

const entrySize = (r: ProducerRecord) => r.data.byteLength + Buffer.byteLength(r.partitionKey, 'utf8');

/** Splits record indexes into PutRecords batches within the count and size limits, in order. */
export function planBatches(records: readonly ProducerRecord[], indexes: readonly number[]): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const size = entrySize(records[index] as ProducerRecord);
    if (
      current.length === KINESIS_LIMITS.maxRecordsPerRequest ||
      (current.length > 0 && bytes + size > KINESIS_LIMITS.maxBytesPerRequest)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sends every record; returns how many were sent and which failed, with why. */
export async function putAllRecords(
  client: KinesisClient,
  records: readonly ProducerRecord[],
  options: ProducerOptions,
): Promise<ProducerReport> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  const failures: FailedRecord[] = [];
  let sent = 0;
  let requests = 0;
  let retriedEntries = 0;

  let pending: number[] = [];
  records.forEach((r, index) => {
    if (entrySize(r) > KINESIS_LIMITS.maxBytesPerRecord) {
      failures.push({
        index,
        errorCode: 'RecordTooLarge',
        errorMessage: `record is ${entrySize(r)} bytes with its partition key, the limit is ${KINESIS_LIMITS.maxBytesPerRecord}`,
      });
    } else if (r.partitionKey.length === 0 || r.partitionKey.length > KINESIS_LIMITS.maxPartitionKeyLength) {
      failures.push({ index, errorCode: 'InvalidPartitionKey', errorMessage: 'partition key must be 1..256 chars' });
    } else {
      pending.push(index);
    }
  });

  for (let attempt = 1; pending.length > 0; attempt += 1) {
    if (attempt > 1) {
      retriedEntries += pending.length;
      await sleep(backoffDelay(attempt - 1, baseDelayMs, maxDelayMs, random));
    }
    const retry: number[] = [];
    const lastError = new Map<number, { errorCode: string; errorMessage: string }>();
    for (const batch of planBatches(records, pending)) {
      const entries: PutRecordsRequestEntry[] = batch.map((i) => {
        const r = records[i] as ProducerRecord;
        return { Data: r.data, PartitionKey: r.partitionKey };
      });
      requests += 1;
      try {
        const response = await client.send(new PutRecordsCommand({ StreamName: options.streamName, Records: entries }));
        const results = response.Records ?? [];
        batch.forEach((index, position) => {
          const result = results[position];
          if (result && !result.ErrorCode) {
            sent += 1;
            return;
          }
          const errorCode = result?.ErrorCode ?? 'MissingResult';
          const errorMessage = result?.ErrorMessage ?? 'PutRecords returned no result for this entry';
          if (RETRYABLE_ERROR_CODES.has(errorCode)) {
            retry.push(index);
            lastError.set(index, { errorCode, errorMessage });
          } else {
            failures.push({ index, errorCode, errorMessage });
          }
        });
      } catch (err) {
        const error = err as Error;
        const errorCode = error.name || 'Error';
        for (const index of batch) {
          if (RETRYABLE_REQUEST_ERRORS.has(errorCode)) {
            retry.push(index);
            lastError.set(index, { errorCode, errorMessage: error.message });
          } else {
            failures.push({ index, errorCode, errorMessage: error.message });
          }
        }
      }
    }
    if (attempt >= maxAttempts) {
      for (const index of retry) {
        const last = lastError.get(index) ?? { errorCode: 'Unknown', errorMessage: '' };
        failures.push({
          index,
          errorCode: last.errorCode,
          errorMessage: `gave up after ${maxAttempts} attempts: ${last.errorMessage}`,
        });
      }
      break;
    }
    pending = retry;
  }

  failures.sort((a, b) => a.index - b.index);
  return { total: records.length, sent, failed: failures.length, requests, retriedEntries, failures };
}
