import { describe, expect, it, vi } from 'vitest';
import { handler, recordCountMetrics } from '../../lambdas/clickstream-transform/handler.js';
import { decide, type RejectReason, transformRecords } from '../../lambdas/clickstream-transform/transform.js';
import { metrics } from '../../lambdas/shared/powertools.js';
import { MAX_EVENT_BYTES } from '../../lambdas/shared/schemas/clickstream-event.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const fromB64 = (data: string) => Buffer.from(data, 'base64').toString('utf8');

const event = (patch: Record<string, unknown> = {}) => ({
  schema_version: 1,
  event_id: '7d0f8a59-3a4b-4c1e-9f7e-0a1b2c3d4e5f',
  event_type: 'add_to_cart',
  event_ts: '2024-03-01T23:34:56.789Z',
  session_id: 's-0001',
  customer_id: 'C12345',
  anonymous_id: 'a-77',
  device: 'mobile',
  country: 'United Kingdom',
  sku: '85123A',
  quantity: 2,
  ...patch,
});
const without = (key: string) => {
  const e: Record<string, unknown> = event();
  delete e[key];
  return e;
};

/** One case per bad-input class: the record, and where it must go and why. */
const BAD: { name: string; data: string; reason: RejectReason; detail: RegExp }[] = [
  { name: 'invalid JSON', data: b64('{"event_id": "x",'), reason: 'invalid_json', detail: /not JSON/ },
  { name: 'not base64', data: '%%%not-base64%%%', reason: 'not_base64', detail: /base64/ },
  { name: 'JSON that is not an object', data: b64('[1,2]'), reason: 'not_an_object', detail: /array/ },
  {
    name: 'bytes that are not UTF-8',
    data: Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'),
    reason: 'not_utf8',
    detail: /UTF-8/,
  },
  {
    name: 'missing event id',
    data: b64(JSON.stringify(without('event_id'))),
    reason: 'missing_field',
    detail: /^event_id:/,
  },
  {
    name: 'missing session id',
    data: b64(JSON.stringify(without('session_id'))),
    reason: 'missing_field',
    detail: /^session_id:/,
  },
  {
    name: 'missing event type',
    data: b64(JSON.stringify(without('event_type'))),
    reason: 'missing_field',
    detail: /^event_type:/,
  },
  {
    name: 'timestamp with an offset',
    data: b64(JSON.stringify(event({ event_ts: '2024-03-01T12:00:00+01:00' }))),
    reason: 'bad_timestamp',
    detail: /^event_ts:/,
  },
  {
    name: 'impossible date',
    data: b64(JSON.stringify(event({ event_ts: '2024-02-30T12:00:00Z' }))),
    reason: 'bad_timestamp',
    detail: /^event_ts:/,
  },
  {
    name: 'epoch-number timestamp',
    data: b64(JSON.stringify(event({ event_ts: 1709251200 }))),
    reason: 'bad_timestamp',
    detail: /^event_ts:/,
  },
  {
    name: 'quantity as a string',
    data: b64(JSON.stringify(event({ quantity: '2' }))),
    reason: 'wrong_type',
    detail: /^quantity:/,
  },
  {
    name: 'customer id as a number',
    data: b64(JSON.stringify(event({ customer_id: 12345 }))),
    reason: 'wrong_type',
    detail: /^customer_id:/,
  },
  {
    name: 'unknown event type',
    data: b64(JSON.stringify(event({ event_type: 'wishlist_add' }))),
    reason: 'unknown_event_type',
    detail: /wishlist_add/,
  },
  {
    name: 'schema version 2',
    data: b64(JSON.stringify(event({ schema_version: 2 }))),
    reason: 'unsupported_schema_version',
    detail: /^schema_version:/,
  },
  {
    name: 'quantity 0',
    data: b64(JSON.stringify(event({ quantity: 0 }))),
    reason: 'invalid_value',
    detail: /^quantity:/,
  },
  {
    name: 'unknown device',
    data: b64(JSON.stringify(event({ device: 'tv' }))),
    reason: 'invalid_value',
    detail: /^device:/,
  },
  {
    name: 'oversized record (> 16 KiB)',
    data: b64(JSON.stringify(event({ event_type: 'search', query: 'x'.repeat(MAX_EVENT_BYTES) }))),
    reason: 'oversized',
    detail: /limit is 16384/,
  },
];

describe('clickstream transform: accepted records', () => {
  it('accepts a valid event, normalizes it to one JSON line and sets the partition keys', () => {
    const [out] = transformRecords([{ recordId: 'r1', data: b64(JSON.stringify(event())) }]).records;
    expect(out).toMatchObject({
      recordId: 'r1',
      result: 'Ok',
      metadata: { partitionKeys: { event_date: '2024-03-01', event_hour: '23' } },
    });
    const line = fromB64(out?.data ?? '');
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual(event());
  });

  it('accepts each event type with its own fields, anonymous visitors included', () => {
    const ok = [
      event({ event_type: 'session_start', sku: undefined, quantity: undefined }),
      event({ event_type: 'page_view', page: '/home', customer_id: null }),
      event({ event_type: 'product_view', sku: 'X1' }),
      event({ event_type: 'search', query: '' }),
      event({ event_type: 'checkout', cart_value: 12.5, currency: 'GBP' }),
      event({ event_type: 'purchase', order_id: '536365', revenue: 0, currency: 'EUR' }),
    ];
    const result = transformRecords(ok.map((e, i) => ({ recordId: `r${i}`, data: b64(JSON.stringify(e)) })));
    expect(result.counts).toEqual({ received: 6, accepted: 6, rejected: 0, rejectedByReason: {} });
  });

  it('drops fields the schema does not know from the stored line', () => {
    const [d] = [decide({ recordId: 'r', data: b64(JSON.stringify(event({ debug: true }))) })];
    expect(d?.status).toBe('accepted');
    expect(d?.status === 'accepted' && 'debug' in d.event).toBe(false);
  });

  it('accepts a record of exactly 16 KiB', () => {
    const probe = JSON.stringify(event({ event_type: 'search', query: '' }));
    const text = JSON.stringify(event({ event_type: 'search', query: 'q'.repeat(MAX_EVENT_BYTES - probe.length) }));
    expect(Buffer.byteLength(text)).toBe(MAX_EVENT_BYTES);
    expect(decide({ recordId: 'r', data: b64(text) }).status).toBe('accepted');
  });
});

describe('clickstream transform: each bad-input class goes to the error prefix with its reason', () => {
  it.each(BAD)('$name → ProcessingFailed ($reason)', ({ data, reason, detail }) => {
    const result = transformRecords([{ recordId: 'bad', data }]);
    expect(result.records[0]).toEqual({ recordId: 'bad', result: 'ProcessingFailed', data });
    const decision = result.decisions[0];
    expect(decision?.status).toBe('rejected');
    if (decision?.status === 'rejected') {
      expect(decision.reason).toBe(reason);
      expect(decision.detail).toMatch(detail);
    }
  });

  it('keeps order, answers every record id once and reconciles the counts on a mixed batch', () => {
    const good = Array.from({ length: 5 }, (_, i) => ({
      recordId: `good-${i}`,
      data: b64(JSON.stringify(event({ event_id: `7d0f8a59-3a4b-4c1e-9f7e-0a1b2c3d4e5${i}` }))),
    }));
    const bad = BAD.map((b, i) => ({ recordId: `bad-${i}`, data: b.data }));
    const input = [...good.slice(0, 2), ...bad, ...good.slice(2)];
    const { records, counts } = transformRecords(input);
    expect(records.map((r) => r.recordId)).toEqual(input.map((r) => r.recordId));
    expect(counts.received).toBe(input.length);
    expect(counts.accepted).toBe(5);
    expect(counts.rejected).toBe(BAD.length);
    expect(counts.received).toBe(counts.accepted + counts.rejected);
    const byReason = Object.values(counts.rejectedByReason).reduce((a, b) => a + (b ?? 0), 0);
    expect(byReason).toBe(counts.rejected);
    expect(counts.rejectedByReason.missing_field).toBe(3);
    expect(counts.rejectedByReason.bad_timestamp).toBe(3);
  });
});

describe('clickstream transform handler', () => {
  it('answers Firehose with one record per input and publishes the counts as metrics', async () => {
    const added: [string, number][] = [];
    const spy = vi.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
      added.push([name, value]);
      return metrics;
    });
    const publish = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    const response = await handler({
      invocationId: 'inv-1',
      deliveryStreamArn: 'arn:aws:firehose:eu-west-1:000000000000:deliverystream/clv-dev-clickstream',
      records: [
        { recordId: 'a', approximateArrivalTimestamp: 1, data: b64(JSON.stringify(event())) },
        { recordId: 'b', approximateArrivalTimestamp: 1, data: b64('nope') },
      ],
    });
    expect(response.records.map((r) => r.result)).toEqual(['Ok', 'ProcessingFailed']);
    expect(added).toEqual([
      ['RecordsReceived', 2],
      ['RecordsAccepted', 1],
      ['RecordsRejected', 1],
    ]);
    expect(publish).toHaveBeenCalled();
    spy.mockRestore();
    publish.mockRestore();
  });

  it('emits one rejected-by-reason metric per reason, with the reason as a dimension', () => {
    const singles: { dims: Record<string, string>; name: string; value: number }[] = [];
    const sink = {
      addMetric: () => sink,
      singleMetric: () => {
        const entry = { dims: {} as Record<string, string>, name: '', value: 0 };
        singles.push(entry);
        const single = {
          addDimension: (k: string, v: string) => {
            entry.dims[k] = v;
          },
          addMetric: (name: string, _u: unknown, value: number) => {
            entry.name = name;
            entry.value = value;
          },
        };
        return single;
      },
    };
    recordCountMetrics(
      { received: 3, accepted: 0, rejected: 3, rejectedByReason: { invalid_json: 2, oversized: 1 } },
      sink as unknown as typeof metrics,
    );
    expect(singles).toEqual([
      { dims: { reason: 'invalid_json' }, name: 'RecordsRejectedByReason', value: 2 },
      { dims: { reason: 'oversized' }, name: 'RecordsRejectedByReason', value: 1 },
    ]);
  });

  it('fails the invocation, naming the problem, when the event is not a Firehose transformation event', async () => {
    await expect(handler({ records: 'x' })).rejects.toThrow(/invalid Firehose event.*invocationId/s);
  });
});
