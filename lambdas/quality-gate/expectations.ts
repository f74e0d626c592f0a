/**
 * The expectations suite of the silver transactions partition, declared in code. Each expectation has a
 * severity: a failing `critical` one fails the pipeline (High alert), a failing `warning` one lets it go on
 * (Low alert). Vocabularies come from contracts/reference-data.json.
 */
import { referenceData } from '../shared/reference-data.js';

export type Severity = 'critical' | 'warning';
/** Engine-neutral column types (Athena/Trino and DuckDB names are normalized to these). */
export type ColumnType = 'string' | 'integer' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'date';

interface Base {
  /** Unique id, stable across releases (used in reports and alerts). */
  readonly id: string;
  readonly severity: Severity;
  readonly description: string;
}

export type Expectation =
  | (Base & { kind: 'column_type'; column: string; type: ColumnType })
  | (Base & { kind: 'row_count_min'; min: number })
  | (Base & { kind: 'row_count_change'; minRatio: number; maxRatio: number })
  | (Base & { kind: 'null_rate'; column: string; max: number })
  | (Base & { kind: 'value_range'; column: string; min?: number; max?: number })
  | (Base & { kind: 'allowed_categories'; column: string; allowed: readonly string[] })
  | (Base & { kind: 'cardinality_change'; column: string; minRatio: number; maxRatio: number })
  | (Base & { kind: 'mean_band'; column: string; min: number; max: number });

export type ExpectationKind = Expectation['kind'];

const types: [string, ColumnType][] = [
  ['invoice_id', 'string'],
  ['customer_id', 'string'],
  ['invoice_ts', 'timestamp'],
  ['sku', 'string'],
  ['quantity', 'integer'],
  ['unit_price', 'double'],
  ['amount', 'double'],
  ['amount_raw', 'double'],
  ['currency_original', 'string'],
  ['is_cancellation', 'boolean'],
  ['is_return', 'boolean'],
  ['is_gift_card', 'boolean'],
  ['is_non_product', 'boolean'],
  ['is_outlier_capped', 'boolean'],
  ['country', 'string'],
  ['channel', 'string'],
  ['email_hash', 'string'],
  ['name_hash', 'string'],
];

/** The suite the pipeline runs over each new silver transactions partition. */
export const TRANSACTIONS_SUITE: readonly Expectation[] = [
  ...types.map(
    ([column, type]): Expectation => ({
      id: `type.${column}`,
      kind: 'column_type',
      severity: 'critical',
      column,
      type,
      description: `${column} is ${type} (silver transactions schema)`,
    }),
  ),
  {
    id: 'rows.non_empty',
    kind: 'row_count_min',
    severity: 'critical',
    min: 1,
    description: 'the new partition holds at least one row',
  },
  {
    id: 'rows.day_over_day',
    kind: 'row_count_change',
    severity: 'warning',
    minRatio: 0.5,
    maxRatio: 2,
    description: 'row count within 0.5x..2x of the previous day',
  },
  ...['invoice_id', 'invoice_ts', 'sku', 'quantity', 'unit_price', 'amount', 'currency_original'].map(
    (column): Expectation => ({
      id: `nulls.${column}`,
      kind: 'null_rate',
      severity: 'critical',
      column,
      max: 0,
      description: `${column} is never null`,
    }),
  ),
  {
    id: 'nulls.customer_id',
    kind: 'null_rate',
    severity: 'warning',
    column: 'customer_id',
    max: 0.3,
    description: 'at most 30% of rows without a customer id',
  },
  {
    id: 'range.unit_price',
    kind: 'value_range',
    severity: 'critical',
    column: 'unit_price',
    min: 0,
    description: 'unit price (GBP) is never negative',
  },
  {
    id: 'range.quantity',
    kind: 'value_range',
    severity: 'warning',
    column: 'quantity',
    min: -100_000,
    max: 100_000,
    description: 'quantity within +-100000 units',
  },
  {
    id: 'range.amount',
    kind: 'value_range',
    severity: 'warning',
    column: 'amount',
    min: -1_000_000,
    max: 1_000_000,
    description: 'line amount (GBP, after outlier capping) within +-1,000,000',
  },
  {
    id: 'categories.currency_original',
    kind: 'allowed_categories',
    severity: 'critical',
    column: 'currency_original',
    allowed: Object.keys(referenceData.fx_to_base),
    description: 'original currency is one the FX table converts',
  },
  {
    id: 'categories.country',
    kind: 'allowed_categories',
    severity: 'warning',
    column: 'country',
    allowed: [...referenceData.countries, 'unknown'],
    description: 'country is a known market',
  },
  {
    id: 'categories.channel',
    kind: 'allowed_categories',
    severity: 'warning',
    column: 'channel',
    allowed: [...referenceData.channels, 'unknown'],
    description: 'sales channel is a known channel',
  },
  {
    id: 'cardinality.customer_id',
    kind: 'cardinality_change',
    severity: 'warning',
    column: 'customer_id',
    minRatio: 0.5,
    maxRatio: 2,
    description: 'distinct customers within 0.5x..2x of the previous day',
  },
  {
    id: 'cardinality.sku',
    kind: 'cardinality_change',
    severity: 'warning',
    column: 'sku',
    minRatio: 0.5,
    maxRatio: 2,
    description: 'distinct SKUs within 0.5x..2x of the previous day',
  },
  {
    id: 'mean.amount',
    kind: 'mean_band',
    severity: 'warning',
    column: 'amount',
    min: 0,
    max: 500,
    description: 'mean line amount (GBP) within 0..500',
  },
];

/** Normalizes an engine's type name: Trino `varchar`, `timestamp(3)`, DuckDB `VARCHAR`, `TIMESTAMP WITH TIME ZONE`. */
export function normalizeType(engineType: string): ColumnType | string {
  const t = engineType
    .trim()
    .toLowerCase()
    .replace(/\(\d+(,\s*\d+)?\)/g, '');
  if (t === 'varchar' || t === 'string' || t === 'char') return 'string';
  if (t === 'integer' || t === 'int' || t === 'int32') return 'integer';
  if (t === 'bigint' || t === 'int64' || t === 'long') return 'bigint';
  if (t === 'double' || t === 'float8' || t === 'double precision') return 'double';
  if (t === 'boolean' || t === 'bool') return 'boolean';
  if (t.startsWith('timestamp')) return 'timestamp';
  if (t === 'date') return 'date';
  return t;
}
