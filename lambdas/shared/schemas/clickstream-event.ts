/**
 * The clickstream event: the single source of truth of its shape. The Firehose transformation Lambda validates
 * every record against it; the generator, the producer and the sessionize job follow it.
 */
import { z } from 'zod';

/** Largest serialized event accepted (bytes of the UTF-8 JSON text). */
export const MAX_EVENT_BYTES = 16 * 1024;

export const CLICKSTREAM_EVENT_TYPES = [
  'session_start',
  'page_view',
  'product_view',
  'search',
  'add_to_cart',
  'checkout',
  'purchase',
] as const;
export type ClickstreamEventType = (typeof CLICKSTREAM_EVENT_TYPES)[number];

export const DEVICES = ['desktop', 'mobile', 'tablet'] as const;

/**
 * ISO-8601 UTC timestamp with a "Z" and at least seconds (e.g. 2024-03-01T12:34:56.789Z). zod's pattern also
 * rejects dates that do not exist (2024-02-30, 2023-02-29).
 */
export const utcTimestamp = z.iso.datetime({
  offset: false,
  local: false,
  error: 'must be an ISO-8601 UTC timestamp with seconds, ending in Z, on a real calendar date',
});

const nonEmpty = z.string().min(1);

const base = {
  schema_version: z.literal(1),
  event_id: z.uuid(),
  event_ts: utcTimestamp,
  session_id: z.string().min(1).max(64),
  customer_id: nonEmpty.nullable(),
  anonymous_id: nonEmpty,
  device: z.enum(DEVICES),
  country: nonEmpty,
};

const currency = z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO currency code');

export const clickstreamEventSchema = z.discriminatedUnion('event_type', [
  z.object({ ...base, event_type: z.literal('session_start') }),
  z.object({ ...base, event_type: z.literal('page_view'), page: nonEmpty }),
  z.object({ ...base, event_type: z.literal('product_view'), sku: nonEmpty }),
  z.object({ ...base, event_type: z.literal('search'), query: z.string() }),
  z.object({ ...base, event_type: z.literal('add_to_cart'), sku: nonEmpty, quantity: z.number().int().min(1) }),
  z.object({ ...base, event_type: z.literal('checkout'), cart_value: z.number().min(0), currency }),
  z.object({
    ...base,
    event_type: z.literal('purchase'),
    order_id: nonEmpty,
    revenue: z.number().min(0),
    currency,
  }),
]);

export type ClickstreamEvent = z.infer<typeof clickstreamEventSchema>;
