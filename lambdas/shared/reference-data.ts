/** contracts/reference-data.json, validated: the shared vocabularies (currencies, countries, channels, ...). */
import { z } from 'zod';
import raw from '../../contracts/reference-data.json' with { type: 'json' };

export const referenceDataSchema = z.object({
  base_currency: z.string(),
  fx_to_base: z.record(z.string(), z.number().positive()),
  countries: z.array(z.string()).min(1),
  channels: z.array(z.string()).min(1),
  drift_channels: z.array(z.string()),
  loyalty_statuses: z.array(z.string()).min(1),
  clickstream_event_types: z.array(z.string()).min(1),
  gift_card_sku_prefix: z.string(),
  non_product_skus: z.array(z.string()),
});
export type ReferenceData = z.infer<typeof referenceDataSchema>;

export const referenceData: ReferenceData = referenceDataSchema.parse(raw);
