/**
 * The lake's tables, declared once: the CDK creates a Glue table from each (Lake stack), the local runtime
 * registers a DuckDB view over <CLV_LOCAL_ROOT>/clv-local-<zone>/<prefix>/** (hive partitioning) from each.
 * Location in AWS: s3://<zone bucket>/<prefix>/. Types are Glue/Athena types.
 *
 * Layouts follow the writers: glue-scripts/clv_glue (ingest, sessionize, features; docs/glue-jobs.md), the
 * Firehose delivery (Ingestion stack) and the batch-scoring publish step (sagemaker/clv_model/publish.py).
 */
import { glueColumns, OFFLINE_STORE_PARTITION_KEYS } from './feature-contract.js';

export type LakeZone = 'raw' | 'curated' | 'gold' | 'features' | 'artifacts';

export interface LakeColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** Athena partition projection of one partition key. */
export type PartitionProjection =
  | { readonly type: 'date'; readonly format: string; readonly range: readonly [string, string] }
  | { readonly type: 'enum'; readonly values: readonly string[] };

export interface LakeTable {
  /** Glue table / DuckDB view name (snake_case). */
  readonly name: string;
  readonly description: string;
  readonly zone: LakeZone;
  /** Key prefix in the zone's bucket, no leading or trailing slash. */
  readonly prefix: string;
  readonly format: 'parquet' | 'json' | 'csv';
  readonly columns: readonly LakeColumn[];
  readonly partitionKeys: readonly LakeColumn[];
  /**
   * Partition projection per partition key (Athena computes partitions instead of reading the catalog).
   * Absent: partitions are registered in the catalog by the writer (the feature store's offline store, the
   * batch-scoring pipeline's predictions).
   */
  readonly projection?: Readonly<Record<string, PartitionProjection>>;
}

/** Daily partitions from the oldest data the platform takes (UCI Online Retail II starts in Dec 2009) to today. */
const DAILY: PartitionProjection = { type: 'date', format: 'yyyy-MM-dd', range: ['2009-01-01', 'NOW'] };
const dt = (comment: string): LakeColumn => ({ name: 'dt', type: 'string', comment });
const s = (name: string, comment?: string): LakeColumn => ({ name, type: 'string', ...(comment ? { comment } : {}) });

function fromGlue(c: { name: string; type?: string; comment?: string }): LakeColumn {
  if (!c.type) throw new Error(`feature contract column ${c.name} has no Glue type`);
  return { name: c.name, type: c.type, ...(c.comment ? { comment: c.comment } : {}) };
}

const QUARANTINE_COLUMNS: LakeColumn[] = [
  s('dataset', 'transactions | customers | clickstream'),
  s('reason', 'first failed check (priority order)'),
  { name: 'reasons', type: 'array<string>', comment: 'every failed check' },
  s('raw_row', 'the original row or line (unhashed PII: restricted access)'),
  { name: 'landed_copies', type: 'bigint', comment: 'identical copies landed' },
  s('source_file'),
  s('ingest_run_id'),
];

export const LAKE_TABLES: readonly LakeTable[] = [
  {
    name: 'raw_clickstream',
    description:
      'Clickstream events as delivered (Firehose: dt=/hour=/ folders, gzip JSON lines; validated by the transformation Lambda)',
    zone: 'raw',
    prefix: 'landing/clickstream',
    format: 'json',
    columns: [
      { name: 'schema_version', type: 'int' },
      s('event_id'),
      s('event_type'),
      s('event_ts', 'ISO-8601 UTC'),
      s('session_id'),
      s('customer_id', 'null for anonymous visitors'),
      s('anonymous_id'),
      s('device'),
      s('country'),
      s('page'),
      s('sku'),
      s('query'),
      { name: 'quantity', type: 'int' },
      { name: 'cart_value', type: 'double' },
      s('currency'),
      s('order_id'),
      { name: 'revenue', type: 'double' },
    ],
    partitionKeys: [dt('event date (UTC)')],
    projection: { dt: DAILY },
  },
  {
    name: 'silver_transactions',
    description: 'Cleaned transaction lines in GBP, PII hashed (ingest_transactions); dt = invoice date',
    zone: 'curated',
    prefix: 'silver/transactions',
    format: 'parquet',
    columns: [
      s('invoice_id'),
      s('customer_id'),
      { name: 'invoice_ts', type: 'timestamp', comment: 'UTC' },
      s('sku'),
      { name: 'quantity', type: 'int' },
      { name: 'unit_price', type: 'double', comment: 'GBP' },
      { name: 'amount', type: 'double', comment: 'quantity * unit_price in GBP after outlier capping' },
      { name: 'amount_raw', type: 'double', comment: 'before capping' },
      s('currency_original'),
      { name: 'is_cancellation', type: 'boolean' },
      { name: 'is_return', type: 'boolean' },
      { name: 'is_gift_card', type: 'boolean' },
      { name: 'is_non_product', type: 'boolean' },
      { name: 'is_outlier_capped', type: 'boolean' },
      s('country'),
      s('channel'),
      s('email_hash', 'HMAC-SHA256'),
      s('name_hash', 'HMAC-SHA256'),
      s('source_file'),
      s('ingest_run_id'),
    ],
    // Files sit under dt=<invoice date>/ingest_dt=<delivery date>/; Athena reads the ingest_dt folders of a dt.
    partitionKeys: [dt('invoice date (UTC)')],
    projection: { dt: DAILY },
  },
  {
    name: 'silver_customers',
    description: 'Customer attributes per CRM extract, PII hashed (ingest_transactions --dataset customers)',
    zone: 'curated',
    prefix: 'silver/customers',
    format: 'parquet',
    columns: [
      s('customer_id'),
      { name: 'signup_date', type: 'date' },
      s('country'),
      s('acquisition_channel'),
      s('loyalty_status'),
      s('email_hash'),
      s('name_hash'),
      s('address_hash'),
    ],
    // One full CRM snapshot per extract date; build_features reads the latest dated on or before its cutoff.
    partitionKeys: [dt('CRM extract date: the CRM state at 00:00 UTC that day')],
    projection: { dt: DAILY },
  },
  {
    name: 'silver_sessions',
    description: 'Clickstream sessions, 30-minute inactivity rule (sessionize_clickstream); dt = session start date',
    zone: 'curated',
    prefix: 'silver/sessions',
    format: 'parquet',
    columns: [
      s('session_id'),
      s('customer_id'),
      s('anonymous_id'),
      { name: 'session_start', type: 'timestamp' },
      { name: 'session_end', type: 'timestamp' },
      { name: 'duration_s', type: 'double' },
      ...[
        'n_events',
        'n_page_views',
        'n_product_views',
        'n_searches',
        'n_add_to_cart',
        'n_checkouts',
        'n_purchases',
      ].map((name) => ({ name, type: 'int' })),
      s('device'),
      s('country'),
    ],
    partitionKeys: [dt('session start date (UTC)')],
    projection: { dt: DAILY },
  },
  {
    name: 'quarantine_transactions',
    description: 'Rejected transaction rows with the reason (ingest_transactions); dt = delivery date',
    zone: 'raw',
    prefix: 'quarantine/transactions',
    format: 'parquet',
    columns: QUARANTINE_COLUMNS,
    partitionKeys: [dt('delivery date')],
    projection: { dt: DAILY },
  },
  {
    name: 'quarantine_clickstream',
    description: 'Rejected clickstream lines with the reason (sessionize_clickstream); dt = delivery date',
    zone: 'raw',
    prefix: 'quarantine/clickstream',
    format: 'parquet',
    columns: QUARANTINE_COLUMNS,
    partitionKeys: [dt('delivery date')],
    projection: { dt: DAILY },
  },
  {
    name: 'customer_features_offline',
    description:
      'Feature Group offline store (build_features writes it; hourly event-time partitions registered by the job)',
    zone: 'features',
    prefix: 'offline-store',
    format: 'parquet',
    columns: glueColumns({ offlineStore: true }).map(fromGlue),
    partitionKeys: OFFLINE_STORE_PARTITION_KEYS.map(fromGlue),
  },
  {
    name: 'predictions',
    description:
      'Weekly batch scoring output, one row per scored customer (sagemaker/publish.py); a rerun replaces its own ' +
      'scoring_date/model_version partition only',
    zone: 'gold',
    prefix: 'predictions',
    format: 'parquet',
    columns: [
      s('customer_id'),
      { name: 'predicted_revenue_12m', type: 'double', comment: 'GBP, next 12 months' },
      { name: 'churn_probability', type: 'double', comment: 'no purchase in the next 6 months' },
      { name: 'clv_score', type: 'double', comment: '0..100 percentile of the training snapshot' },
      s('tier', 'Low | Medium | High'),
      ...[1, 2, 3].flatMap((k): LakeColumn[] => [
        s(`reason_${k}_feature`, `feature of the ${k}. largest contribution to the revenue head`),
        { name: `reason_${k}_contribution`, type: 'double', comment: 'margin units of the revenue head' },
      ]),
      s(
        'reasons_method',
        'tree_shap (exact TreeSHAP) | saabas (XGBoost approx_contribs, not SHAP) | none (decision 0022)',
      ),
    ],
    partitionKeys: [s('scoring_date', 'the cutoff scored (YYYY-MM-DD)'), s('model_version')],
    // No partition projection: the batch-scoring pipeline registers each partition in the Glue catalog
    // (RegisterPartition, glue:BatchCreatePartition) after publishing it. model_version is not known in advance,
    // so it could only be an *injected* projected key, and Athena then refuses every query without a literal
    // equality on it (CONSTRAINT_VIOLATION), e.g. "top customers at the latest scoring date". Projection is
    // all-or-nothing per table, so scoring_date is catalogued too (one partition per weekly run).
  },
  {
    name: 'monitoring_metrics',
    description:
      'Metrics per pipeline run (batch scoring summary; drift and proxy metrics), one file per run under run_date',
    zone: 'gold',
    prefix: 'monitoring_metrics',
    format: 'parquet',
    columns: [
      s('run_id', 'the execution name'),
      s('pipeline', 'batch-scoring | monitoring | ...'),
      s('model_version'),
      s('metric'),
      s('feature', 'the feature a metric is about; null for run-level metrics'),
      { name: 'value', type: 'double' },
      s('details', 'JSON'),
      s('created_at', 'ISO-8601 UTC'),
    ],
    partitionKeys: [s('run_date', "the run's date (batch scoring: the cutoff scored)")],
    projection: { run_date: DAILY },
  },
  {
    name: 'drift_baselines',
    description:
      'Drift baseline bins per model version, fixed at training by the evaluation job (drift_baseline.py); one CSV ' +
      'per model (drift_baselines/<model_version>.csv, header line), read by sql/monitoring/drift_bins.sql',
    zone: 'gold',
    prefix: 'drift_baselines',
    format: 'csv',
    columns: [
      s('model_version'),
      s('feature', 'a monitored feature (lib/contracts/drift-features.ts)'),
      s('kind', 'numeric | categorical'),
      { name: 'bin', type: 'int', comment: 'order of the bin within the feature' },
      { name: 'lower', type: 'double', comment: 'numeric: inclusive lower edge (-1e308: open); NULL bin: null' },
      { name: 'upper', type: 'double', comment: 'numeric: exclusive upper edge (1e308: open); NULL bin: null' },
      s('category', 'categorical: the category (__other__: unseen at training); NULL bin and numeric: null'),
      { name: 'baseline_count', type: 'bigint', comment: 'rows of the latest training cutoff in the bin' },
    ],
    partitionKeys: [],
  },
  {
    name: 'campaign_audiences',
    description:
      'Customers targeted by a campaign experiment, one row per customer and arm (the campaign-experiment audience ' +
      'export); campaign_id=<id>/audience.parquet',
    zone: 'gold',
    prefix: 'campaigns/audiences',
    format: 'parquet',
    columns: [
      s('customer_id'),
      s('arm', 'control | treatment'),
      s('model_version', 'the model whose scores selected the customer'),
      { name: 'clv_score', type: 'double', comment: "that model's score" },
      { name: 'predicted_revenue_12m', type: 'double', comment: "that model's prediction, GBP" },
      s('tier', 'Low | Medium | High'),
      { name: 'assignment_hash', type: 'double', comment: 'salted hash of customer_id, uniform in [0,1)' },
      s('selected_at', 'ISO-8601 UTC'),
    ],
    partitionKeys: [s('campaign_id')],
    // No projection: the campaign-experiment pipeline registers each campaign's partition (BatchCreatePartition).
  },
  {
    name: 'campaign_outcomes',
    description:
      'Observed outcome per targeted customer of a campaign (marketing tool export, or `clv generate ' +
      'campaign-outcomes` locally); campaign_id=<id>/outcomes.parquet',
    zone: 'gold',
    prefix: 'campaigns/outcomes',
    format: 'parquet',
    columns: [
      s('customer_id'),
      { name: 'converted', type: 'int', comment: '1 when the customer bought in the campaign window, else 0' },
      { name: 'revenue', type: 'double', comment: 'GBP spent in the campaign window (0 when not converted)' },
      { name: 'unsubscribed', type: 'int', comment: '1 when the customer unsubscribed, else 0' },
      s('observed_at', 'ISO-8601 UTC'),
    ],
    partitionKeys: [s('campaign_id')],
    // No projection: the campaign-experiment pipeline registers each campaign's partition (BatchCreatePartition).
  },
];

/** Looks a table up by name, failing with the known names. */
export function lakeTable(name: string): LakeTable {
  const table = LAKE_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`unknown lake table '${name}'; known: ${LAKE_TABLES.map((t) => t.name).join(', ')}`);
  return table;
}
