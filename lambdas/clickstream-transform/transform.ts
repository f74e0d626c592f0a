/**
 * Pure core of the Firehose transformation: decides, per record, whether the clickstream event is accepted
 * (result Ok, normalized JSON line, partition keys event_date/event_hour for dynamic partitioning) or rejected
 * (result ProcessingFailed, so Firehose writes the original bytes under the error output prefix) and why.
 */
import type { z } from 'zod';
import { type ClickstreamEvent, clickstreamEventSchema, MAX_EVENT_BYTES } from '../shared/schemas/clickstream-event.js';

/** Why a record was rejected. */
export const REJECT_REASONS = [
  'not_base64',
  'oversized',
  'not_utf8',
  'invalid_json',
  'not_an_object',
  'unsupported_schema_version',
  'unknown_event_type',
  'missing_field',
  'bad_timestamp',
  'wrong_type',
  'invalid_value',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A record as Firehose hands it to the transformation Lambda. */
export interface InputRecord {
  readonly recordId: string;
  /** The record's bytes, base64. */
  readonly data: string;
}

/** One record of the transformation response (Firehose's contract: recordId, result, data, metadata). */
export type OutputRecord =
  | {
      recordId: string;
      result: 'Ok';
      data: string;
      metadata: { partitionKeys: { event_date: string; event_hour: string } };
    }
  | { recordId: string; result: 'ProcessingFailed'; data: string };

export type Decision =
  | { recordId: string; status: 'accepted'; event: ClickstreamEvent; eventDate: string; eventHour: string }
  | { recordId: string; status: 'rejected'; reason: RejectReason; detail: string };

export interface TransformCounts {
  received: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
}

export interface TransformResult {
  records: OutputRecord[];
  decisions: Decision[];
  counts: TransformCounts;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Maps the first zod issue to a reject reason; the detail names the field and what was wrong with it. */
function classify(issues: z.core.$ZodIssue[], input: unknown): { reason: RejectReason; detail: string } {
  const discriminator = issues.find((i) => i.path[0] === 'event_type');
  const issue = discriminator ?? (issues[0] as z.core.$ZodIssue);
  const field = issue.path.map(String).join('.') || '(root)';
  const detail = `${field}: ${issue.message}`;
  const top = issue.path[0];
  if (top === 'event_type') {
    return valueAt(input, issue.path) === undefined
      ? { reason: 'missing_field', detail }
      : {
          reason: 'unknown_event_type',
          detail: `${field}: '${String(valueAt(input, issue.path))}' is not a known type`,
        };
  }
  if (top === 'schema_version' && valueAt(input, issue.path) !== undefined) {
    return { reason: 'unsupported_schema_version', detail };
  }
  if (valueAt(input, issue.path) === undefined) return { reason: 'missing_field', detail };
  if (top === 'event_ts') return { reason: 'bad_timestamp', detail };
  if (issue.code === 'invalid_type') return { reason: 'wrong_type', detail };
  return { reason: 'invalid_value', detail };
}

/** Validates one record. */
export function decide(record: InputRecord): Decision {
  const reject = (reason: RejectReason, detail: string): Decision => ({
    recordId: record.recordId,
    status: 'rejected',
    reason,
    detail,
  });
  if (!BASE64.test(record.data)) return reject('not_base64', 'data is not valid base64');
  const bytes = Buffer.from(record.data, 'base64');
  if (bytes.length > MAX_EVENT_BYTES) {
    return reject('oversized', `record is ${bytes.length} bytes, the limit is ${MAX_EVENT_BYTES}`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return reject('not_utf8', 'data is not UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return reject('invalid_json', `not JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return reject('not_an_object', `expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const parsed = clickstreamEventSchema.safeParse(json);
  if (!parsed.success) {
    const { reason, detail } = classify(parsed.error.issues, json);
    return reject(reason, detail);
  }
  const event = parsed.data;
  return {
    recordId: record.recordId,
    status: 'accepted',
    event,
    eventDate: event.event_ts.slice(0, 10),
    eventHour: event.event_ts.slice(11, 13),
  };
}

/** Validates a batch: one output record per input record, in order, and counts that reconcile. */
export function transformRecords(records: readonly InputRecord[]): TransformResult {
  const decisions = records.map(decide);
  const counts: TransformCounts = { received: records.length, accepted: 0, rejected: 0, rejectedByReason: {} };
  const output = decisions.map((d, i): OutputRecord => {
    if (d.status === 'accepted') {
      counts.accepted += 1;
      return {
        recordId: d.recordId,
        result: 'Ok',
        data: Buffer.from(`${JSON.stringify(d.event)}\n`, 'utf8').toString('base64'),
        metadata: { partitionKeys: { event_date: d.eventDate, event_hour: d.eventHour } },
      };
    }
    counts.rejected += 1;
    counts.rejectedByReason[d.reason] = (counts.rejectedByReason[d.reason] ?? 0) + 1;
    // Firehose writes the original bytes of a failed record under the error prefix; data is returned unchanged.
    return { recordId: d.recordId, result: 'ProcessingFailed', data: (records[i] as InputRecord).data };
  });
  return { records: output, decisions, counts };
}
