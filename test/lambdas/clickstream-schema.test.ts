/**
 * The clickstream event schema (lambdas/shared/schemas/clickstream-event.ts), rule by rule: one valid event of every
 * type, then each field of the shared base and of each type broken on its own, the boundary values of the numeric
 * rules (quantity 0 / 1, cart value and revenue -0.01 / 0) and the timestamp's format and calendar.
 */
import { describe, expect, it } from 'vitest';
import {
  CLICKSTREAM_EVENT_TYPES,
  clickstreamEventSchema,
  DEVICES,
  MAX_EVENT_BYTES,
  utcTimestamp,
} from '../../lambdas/shared/schemas/clickstream-event.js';

const base = {
  schema_version: 1,
  event_id: '0b6f8a52-2f1e-4a5e-9d3c-2b7f0c1d9e8a',
  event_ts: '2024-03-01T12:34:56.789Z',
  session_id: 's-1',
  customer_id: 'C1',
  anonymous_id: 'a-1',
  device: 'mobile',
  country: 'United Kingdom',
};
const VALID: Record<string, Record<string, unknown>> = {
  session_start: { ...base, event_type: 'session_start' },
  page_view: { ...base, event_type: 'page_view', page: '/home' },
  product_view: { ...base, event_type: 'product_view', sku: '85123A' },
  search: { ...base, event_type: 'search', query: '' },
  add_to_cart: { ...base, event_type: 'add_to_cart', sku: '85123A', quantity: 1 },
  checkout: { ...base, event_type: 'checkout', cart_value: 0, currency: 'GBP' },
  purchase: { ...base, event_type: 'purchase', order_id: 'o-1', revenue: 0, currency: 'GBP' },
};
const parse = (e: Record<string, unknown>) => clickstreamEventSchema.safeParse(e);
const issuePaths = (e: Record<string, unknown>) => parse(e).error?.issues.map((i) => i.path.join('.')) ?? [];

describe('clickstream event schema: the valid events', () => {
  it('has one valid example per event type and accepts each', () => {
    expect(Object.keys(VALID).sort()).toEqual([...CLICKSTREAM_EVENT_TYPES].sort());
    for (const e of Object.values(VALID)) expect(parse(e).success).toBe(true);
  });
  it('accepts every device, an anonymous visitor (customer_id null) and the longest session id', () => {
    expect(DEVICES).toEqual(['desktop', 'mobile', 'tablet']);
    for (const device of DEVICES) expect(parse({ ...VALID.page_view, device }).success).toBe(true);
    expect(parse({ ...VALID.page_view, customer_id: null }).success).toBe(true);
    expect(parse({ ...VALID.page_view, session_id: 's'.repeat(64) }).success).toBe(true);
    expect(MAX_EVENT_BYTES).toBe(16384);
  });
});

describe('clickstream event schema: each base rule rejects on its own', () => {
  const broken: [string, Record<string, unknown>][] = [
    ['schema_version', { schema_version: 2 }],
    ['schema_version', { schema_version: '1' }],
    ['event_id', { event_id: 'not-a-uuid' }],
    ['event_ts', { event_ts: '2024-03-01 12:34:56Z' }],
    ['session_id', { session_id: '' }],
    ['session_id', { session_id: 's'.repeat(65) }],
    ['customer_id', { customer_id: '' }],
    ['customer_id', { customer_id: undefined }],
    ['anonymous_id', { anonymous_id: '' }],
    ['anonymous_id', { anonymous_id: null }],
    ['device', { device: 'tv' }],
    ['country', { country: '' }],
  ];
  it.each(broken)('%s: %o', (field, over) => {
    for (const type of CLICKSTREAM_EVENT_TYPES) {
      expect(issuePaths({ ...VALID[type], ...over })).toEqual([field]);
    }
  });
  it('rejects an unknown or missing event_type', () => {
    expect(issuePaths({ ...base, event_type: 'refund' })).toEqual(['event_type']);
    expect(parse({ ...base }).success).toBe(false);
  });
});

describe('clickstream event schema: each type-specific rule rejects', () => {
  const broken: [string, string, unknown][] = [
    ['page_view', 'page', ''],
    ['page_view', 'page', undefined],
    ['product_view', 'sku', ''],
    ['search', 'query', undefined],
    ['search', 'query', 7],
    ['add_to_cart', 'sku', ''],
    ['add_to_cart', 'quantity', 0],
    ['add_to_cart', 'quantity', 1.5],
    ['add_to_cart', 'quantity', undefined],
    ['checkout', 'cart_value', -0.01],
    ['checkout', 'cart_value', undefined],
    ['checkout', 'currency', 'gbp'],
    ['checkout', 'currency', 'GBPX'],
    ['checkout', 'currency', 'XGBP'],
    ['checkout', 'currency', 'GB'],
    ['purchase', 'order_id', ''],
    ['purchase', 'revenue', -0.01],
    ['purchase', 'revenue', undefined],
    ['purchase', 'currency', 'EU1'],
  ];
  it.each(broken)('%s.%s = %o', (type, field, value) => {
    const event = { ...VALID[type], [field]: value };
    if (value === undefined) delete event[field];
    expect(issuePaths(event)).toEqual([field]);
  });
  it('names the currency rule', () => {
    expect(parse({ ...VALID.checkout, currency: 'gbp' }).error?.issues[0]?.message).toBe(
      'must be a 3-letter ISO currency code',
    );
  });
  it('accepts the boundary values', () => {
    expect(parse({ ...VALID.add_to_cart, quantity: 2 }).success).toBe(true);
    expect(parse({ ...VALID.checkout, cart_value: 0.01 }).success).toBe(true);
    expect(parse({ ...VALID.purchase, revenue: 1e6 }).success).toBe(true);
  });
});

describe('clickstream event schema: the UTC timestamp', () => {
  it.each([
    ['2024-03-01T12:34:56Z', true],
    ['2024-03-01T12:34:56.1Z', true],
    ['2024-02-29T00:00:00Z', true],
    ['2024-02-30T00:00:00Z', false],
    ['2023-02-29T00:00:00Z', false],
    ['2024-03-01T12:34Z', false],
    ['2024-03-01T12:34:56', false],
    ['2024-03-01T12:34:56+01:00', false],
    ['2024-03-01T24:00:00Z', false],
  ])('%s → %s', (ts, ok) => {
    const parsed = utcTimestamp.safeParse(ts);
    expect(parsed.success).toBe(ok);
    if (!ok) {
      expect(parsed.error?.issues[0]?.message).toBe(
        'must be an ISO-8601 UTC timestamp with seconds, ending in Z, on a real calendar date',
      );
    }
  });
});
