/**
 * The customer feature contract: the single source of the feature schema.
 *
 * Everything that reads or writes customer features derives from this module:
 * - the SageMaker Feature Group definition (featureGroupFeatureDefinitions()),
 * - the Glue table over the offline store (glueColumns()),
 * - contracts/feature-contract.json (scripts/export-contracts.ts), which the Glue job
 *   (clv_glue.features.contract) and the training code read and verify by its schema hash.
 *
 * Definitions of every feature: docs/features.md.
 */
import { createHash } from 'node:crypto';
import type { CfnTable } from 'aws-cdk-lib/aws-glue';
import type { CfnFeatureGroup } from 'aws-cdk-lib/aws-sagemaker';
import { z } from 'zod';

/** SageMaker Feature Store feature types (FeatureDefinition.FeatureType). */
export const FeatureType = z.enum(['Integral', 'Fractional', 'String']);
export type FeatureType = z.infer<typeof FeatureType>;

export const FeatureGroupName = z.enum(['key', 'meta', 'rfm', 'window', 'pattern', 'behaviour', 'attribute', 'label']);
export type FeatureGroupName = z.infer<typeof FeatureGroupName>;

/**
 * When a column may be null:
 * - never: always set (strings fall back to "unknown", counts to 0);
 * - when_undefined: the quantity is undefined for this customer (e.g. a ratio with a zero denominator,
 *   a gap statistic with too few purchase days); `null_when` says exactly when;
 * - when_source_missing: the source table (sessions) was not given, or it holds nothing for the customer
 *   where `null_when` says so;
 * - when_unlabelled: labels, null in snapshots built without labels.
 */
export const NullPolicy = z.enum(['never', 'when_undefined', 'when_source_missing', 'when_unlabelled']);
export type NullPolicy = z.infer<typeof NullPolicy>;

/** Feature Store feature-name rule (CreateFeatureGroup FeatureDefinition.FeatureName). */
export const FEATURE_NAME_PATTERN = /^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$/;
/** Names Feature Store reserves for the offline store's own columns. */
export const RESERVED_FEATURE_NAMES = ['is_deleted', 'write_time', 'api_invocation_time'] as const;

const asciiText = z
  .string()
  .min(1)
  .regex(/^[\x20-\x7E]+$/, 'printable ASCII only (keeps the canonical JSON identical in TS and Python)');

export const FeatureSpec = z
  .object({
    name: z
      .string()
      .regex(FEATURE_NAME_PATTERN, 'not a valid Feature Store feature name')
      .refine((n) => !(RESERVED_FEATURE_NAMES as readonly string[]).includes(n), 'reserved by Feature Store'),
    type: FeatureType,
    group: FeatureGroupName,
    description: asciiText,
    model_input: z.boolean(),
    null_policy: NullPolicy,
    null_when: asciiText.nullable(),
    window_days: z.number().int().positive().nullable(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if ((f.null_policy === 'never') !== (f.null_when === null)) {
      ctx.addIssue({
        code: 'custom',
        message: `${f.name}: null_when must be set exactly when null_policy is not "never"`,
      });
    }
    if ((f.group === 'label') !== (f.null_policy === 'when_unlabelled')) {
      ctx.addIssue({
        code: 'custom',
        message: `${f.name}: labels (and only labels) use null_policy "when_unlabelled"`,
      });
    }
    if (f.model_input && (f.group === 'key' || f.group === 'meta' || f.group === 'label')) {
      ctx.addIssue({ code: 'custom', message: `${f.name}: key, meta and label columns cannot be model inputs` });
    }
  });
export type FeatureSpec = z.infer<typeof FeatureSpec>;

export const FeatureContract = z
  .object({
    contract: z.literal('customer-features'),
    version: z.number().int().positive(),
    record_identifier: z.string(),
    event_time_feature: z.string(),
    event_time_format: z.literal("yyyy-MM-dd'T'HH:mm:ss'Z'"),
    windows_days: z.array(z.number().int().positive()),
    label_horizons_days: z
      .object({ revenue: z.number().int().positive(), churn: z.number().int().positive() })
      .strict(),
    features: z.array(FeatureSpec).min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = c.features.map((f) => f.name);
    const dupes = names.filter((n, i) => names.indexOf(n) !== i);
    if (dupes.length > 0) ctx.addIssue({ code: 'custom', message: `duplicate feature names: ${dupes.join(', ')}` });
    const byName = new Map(c.features.map((f) => [f.name, f]));
    const rid = byName.get(c.record_identifier);
    if (!rid || rid.type === 'Fractional' || rid.null_policy !== 'never') {
      ctx.addIssue({
        code: 'custom',
        message: `record identifier ${c.record_identifier} must be a never-null String or Integral`,
      });
    }
    const et = byName.get(c.event_time_feature);
    if (!et || et.type === 'Integral' || et.null_policy !== 'never') {
      ctx.addIssue({
        code: 'custom',
        message: `event time ${c.event_time_feature} must be a never-null String or Fractional`,
      });
    }
  });
export type FeatureContract = z.infer<typeof FeatureContract>;

type Spec = FeatureSpec;

const WINDOWS = [30, 90, 365] as const;
const BEHAVIOUR_WINDOW = 90;
const REVENUE_HORIZON = 365;
const CHURN_HORIZON = 183;

function f(
  name: string,
  type: FeatureType,
  group: FeatureGroupName,
  model_input: boolean,
  description: string,
  null_policy: NullPolicy = 'never',
  null_when: string | null = null,
  window_days: number | null = null,
): Spec {
  return { name, type, group, description, model_input, null_policy, null_when, window_days };
}

const NO_SESSIONS = 'the sessions table was not given';

function windowFeatures(w: number): Spec[] {
  const span = `purchases in the ${w} days before the cutoff ([cutoff - ${w}d, cutoff))`;
  return [
    f(`invoices_${w}d`, 'Integral', 'window', true, `Distinct purchase invoices, ${span}`, 'never', null, w),
    f(`spend_${w}d`, 'Fractional', 'window', true, `Gross product spend in GBP, ${span}`, 'never', null, w),
    f(
      `returns_value_${w}d`,
      'Fractional',
      'window',
      true,
      `Value in GBP (positive) of product return and cancellation lines in the ${w} days before the cutoff`,
      'never',
      null,
      w,
    ),
    f(
      `returns_count_${w}d`,
      'Integral',
      'window',
      true,
      `Distinct return or cancellation invoices with product lines in the ${w} days before the cutoff`,
      'never',
      null,
      w,
    ),
    f(`distinct_products_${w}d`, 'Integral', 'window', true, `Distinct SKUs bought, ${span}`, 'never', null, w),
  ];
}

const FEATURES: Spec[] = [
  // key / meta
  f('customer_id', 'String', 'key', false, 'Record identifier: the customer id of the silver tables'),
  f(
    'event_time',
    'String',
    'meta',
    false,
    'Feature Store event time: the cutoff instant, ISO-8601 UTC (yyyy-MM-ddT00:00:00Z); features use data strictly before it',
  ),
  f('cutoff_date', 'String', 'meta', false, 'Cutoff date (yyyy-MM-dd, UTC); same instant as event_time'),
  f(
    'snapshot_id',
    'String',
    'meta',
    false,
    'Deterministic snapshot id: cutoff, label flag and schema-hash prefix (same inputs give the same id)',
  ),
  // RFM-T
  f('recency_days', 'Integral', 'rfm', true, 'Days from the last purchase day to the cutoff date (>= 1)'),
  f(
    'btyd_recency_days',
    'Integral',
    'rfm',
    true,
    'BTYD recency: days between the first and the last purchase day (0 for one purchase day)',
  ),
  f('frequency_days', 'Integral', 'rfm', true, 'Distinct purchase days before the cutoff (>= 1)'),
  f('repeat_frequency', 'Integral', 'rfm', true, 'BTYD frequency: distinct purchase days minus 1'),
  f(
    'monetary_total_net',
    'Fractional',
    'rfm',
    true,
    'Net product spend before the cutoff in GBP: purchases minus returns and cancellations',
  ),
  f(
    'monetary_avg_day',
    'Fractional',
    'rfm',
    true,
    'monetary_total_net divided by frequency_days (average net spend per purchase day)',
  ),
  f('tenure_days', 'Integral', 'rfm', true, 'T: days from the first purchase day to the cutoff date (>= 1)'),
  // windows
  ...WINDOWS.flatMap(windowFeatures),
  // purchase pattern
  f(
    'interpurchase_mean_days',
    'Fractional',
    'pattern',
    true,
    'Mean gap in days between consecutive distinct purchase days',
    'when_undefined',
    'fewer than 2 purchase days',
  ),
  f(
    'interpurchase_var_days',
    'Fractional',
    'pattern',
    true,
    'Sample variance (n - 1) of the gaps in days between consecutive distinct purchase days',
    'when_undefined',
    'fewer than 3 purchase days (fewer than 2 gaps)',
  ),
  f(
    'spend_trend_90d',
    'Fractional',
    'pattern',
    true,
    '(A - B) / (A + B) with A = gross spend in [cutoff - 90d, cutoff) and B = in [cutoff - 180d, cutoff - 90d); in [-1, 1], 0 when both are 0',
    'never',
    null,
    180,
  ),
  f(
    'gift_card_share',
    'Fractional',
    'pattern',
    true,
    'Share of gross product spend before the cutoff that is gift cards (SKU prefix GIFT)',
    'when_undefined',
    'gross product spend before the cutoff is 0',
  ),
  f(
    'return_rate',
    'Fractional',
    'pattern',
    true,
    'Returned value divided by gross product spend, all history before the cutoff (can exceed 1)',
    'when_undefined',
    'gross product spend before the cutoff is 0',
  ),
  f(
    'avg_basket_items',
    'Fractional',
    'pattern',
    true,
    'Purchased product units per purchase invoice, all history before the cutoff',
  ),
  // behaviour (sessions)
  f(
    'sessions_90d',
    'Integral',
    'behaviour',
    true,
    'Sessions of the customer that started and ended in the 90 days before the cutoff',
    'when_source_missing',
    NO_SESSIONS,
    BEHAVIOUR_WINDOW,
  ),
  f(
    'avg_session_duration_s_90d',
    'Fractional',
    'behaviour',
    true,
    'Mean session duration in seconds over those sessions',
    'when_source_missing',
    `${NO_SESSIONS}, or sessions_90d is 0`,
    BEHAVIOUR_WINDOW,
  ),
  f(
    'product_views_90d',
    'Integral',
    'behaviour',
    true,
    'Product-view events in those sessions',
    'when_source_missing',
    NO_SESSIONS,
    BEHAVIOUR_WINDOW,
  ),
  f(
    'add_to_cart_90d',
    'Integral',
    'behaviour',
    true,
    'Add-to-cart events in those sessions',
    'when_source_missing',
    NO_SESSIONS,
    BEHAVIOUR_WINDOW,
  ),
  f(
    'cart_to_purchase_rate_90d',
    'Fractional',
    'behaviour',
    true,
    'Share of those sessions with an add-to-cart that also have a purchase event',
    'when_source_missing',
    `${NO_SESSIONS}, or no session in the window has an add-to-cart`,
    BEHAVIOUR_WINDOW,
  ),
  f(
    'days_since_last_session',
    'Integral',
    'behaviour',
    true,
    "Days from the start date of the customer's last session that ended before the cutoff to the cutoff date (all history)",
    'when_source_missing',
    `${NO_SESSIONS}, or the customer has no session before the cutoff`,
  ),
  // attributes
  f(
    'country',
    'String',
    'attribute',
    true,
    'Country from silver customers; else the country of the latest purchase before the cutoff; else unknown',
  ),
  f(
    'acquisition_channel',
    'String',
    'attribute',
    true,
    'Acquisition channel from silver customers; unknown when missing',
  ),
  f('loyalty_status', 'String', 'attribute', true, 'Loyalty status from silver customers; unknown when missing'),
  // labels
  f(
    'label_revenue_12m',
    'Fractional',
    'label',
    false,
    'Net product revenue in GBP in [cutoff, cutoff + 365d): purchases minus returns, floored at 0',
    'when_unlabelled',
    'the snapshot was built without labels',
    REVENUE_HORIZON,
  ),
  f(
    'label_churn_6m',
    'Integral',
    'label',
    false,
    '1 when the customer makes no purchase in [cutoff, cutoff + 183d), else 0',
    'when_unlabelled',
    'the snapshot was built without labels',
    CHURN_HORIZON,
  ),
];

/** The contract, validated when this module loads. */
export const featureContract: FeatureContract = FeatureContract.parse({
  contract: 'customer-features',
  version: 1,
  record_identifier: 'customer_id',
  event_time_feature: 'event_time',
  event_time_format: "yyyy-MM-dd'T'HH:mm:ss'Z'",
  windows_days: [...WINDOWS],
  label_horizons_days: { revenue: REVENUE_HORIZON, churn: CHURN_HORIZON },
  features: FEATURES,
});

/** JSON with object keys sorted at every level and no whitespace (Python: json.dumps(sort_keys=True, separators=(",", ":"))). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical JSON of the contract. */
export function schemaHash(contract: FeatureContract = featureContract): string {
  return createHash('sha256').update(canonicalJson(contract), 'utf8').digest('hex');
}

/** The exported document: the contract plus its schema hash. */
export function contractDocument(
  contract: FeatureContract = featureContract,
): FeatureContract & { schema_hash: string } {
  return { ...contract, schema_hash: schemaHash(contract) };
}

/** SageMaker Feature Group feature definitions (CfnFeatureGroup featureDefinitions; CloudFormation FeatureName/FeatureType). */
export function featureGroupFeatureDefinitions(
  contract: FeatureContract = featureContract,
): CfnFeatureGroup.FeatureDefinitionProperty[] {
  return contract.features.map((x) => ({ featureName: x.name, featureType: x.type }));
}

export const GLUE_TYPE: Record<FeatureType, 'string' | 'bigint' | 'double'> = {
  String: 'string',
  Integral: 'bigint',
  Fractional: 'double',
};

/** The columns Feature Store adds to every offline-store record (Glue table format). */
export const OFFLINE_STORE_COLUMNS: CfnTable.ColumnProperty[] = [
  { name: 'write_time', type: 'timestamp', comment: 'when the record was written to the offline store' },
  {
    name: 'api_invocation_time',
    type: 'timestamp',
    comment: 'when the PutRecord/DeleteRecord call (or batch write) was received',
  },
  { name: 'is_deleted', type: 'boolean', comment: 'true for the record a DeleteRecord call inserts' },
];

/** Hourly partition keys of the offline store (by event time), as strings: year=YYYY/month=MM/day=DD/hour=HH. */
export const OFFLINE_STORE_PARTITION_KEYS: CfnTable.ColumnProperty[] = ['year', 'month', 'day', 'hour'].map((name) => ({
  name,
  type: 'string',
}));

/** Glue column list for the feature table; with offlineStore, the three offline-store columns follow the features. */
export function glueColumns(
  options: { offlineStore?: boolean } = {},
  contract: FeatureContract = featureContract,
): CfnTable.ColumnProperty[] {
  const cols = contract.features.map((x) => ({
    name: x.name,
    type: GLUE_TYPE[x.type],
    comment: x.description.slice(0, 255),
  }));
  return options.offlineStore ? [...cols, ...OFFLINE_STORE_COLUMNS] : cols;
}

export const featureNames = (contract: FeatureContract = featureContract): string[] =>
  contract.features.map((x) => x.name);
export const modelInputs = (contract: FeatureContract = featureContract): string[] =>
  contract.features.filter((x) => x.model_input).map((x) => x.name);
export const labelNames = (contract: FeatureContract = featureContract): string[] =>
  contract.features.filter((x) => x.group === 'label').map((x) => x.name);
