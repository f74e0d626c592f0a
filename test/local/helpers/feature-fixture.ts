/**
 * A small synthetic feature-store offline table for the local end-to-end tests: a few hundred customers per
 * cutoff with contract columns, written as the offline store's hive-partitioned Parquet under a temp local root.
 * Labels depend on the features (spend drives next-year revenue; recency drives churn), so a model can learn.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LAKE_TABLES } from '../../../lib/contracts/lake-tables.js';
import { repoRoot } from '../../../lib/paths.js';
import type { LakeTableLike } from '../../../local/athena/catalog.js';
import { duckDbType, ident, tableDirectory } from '../../../local/athena/catalog.js';
import { seededRandom } from '../../../local/integrations/sagemaker-tuning.js';

/** The offline-store table under the name the SQL queries use (sql/features/*.sql). */
export function offlineStoreTable(): LakeTableLike {
  const base = LAKE_TABLES.find((t) => t.name === 'customer_features' || t.name === 'customer_features_offline');
  if (!base) throw new Error('lib/contracts/lake-tables.ts has no customer_features table');
  return {
    name: 'customer_features_offline',
    zone: base.zone,
    prefix: base.prefix,
    format: base.format,
    columns: base.columns.map((c) => ({ name: c.name, type: c.type })),
    partitionKeys: base.partitionKeys.map((c) => ({ name: c.name, type: c.type })),
  };
}

const SCHEMA_HASH = (
  JSON.parse(fs.readFileSync(path.join(repoRoot, 'contracts', 'feature-contract.json'), 'utf8')) as {
    schema_hash: string;
  }
).schema_hash;

/** clv_glue.features.snapshot_id_for: <yyyymmdd>-l365-183-<schema hash[:12]>. */
const snapshotId = (cutoff: string): string => `${cutoff.replace(/-/g, '')}-l365-183-${SCHEMA_HASH.slice(0, 12)}`;

const COUNTRIES = ['United Kingdom', 'Germany', 'France'];
const CHANNELS = ['organic', 'paid_search', 'referral'];
const LOYALTY = ['none', 'silver', 'gold'];

export function featureRows(
  cutoff: string,
  customers: number,
  seed: number,
  labelled: boolean,
): Record<string, unknown>[] {
  const rand = seededRandom(seed);
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < customers; i++) {
    const activity = rand();
    const invoices365 = 1 + Math.floor(activity * 12);
    const spend365 = Math.round((20 + activity * 900 + rand() * 100) * 100) / 100;
    const recency = Math.floor((1 - activity) * 300 + rand() * 30);
    const tenure = recency + 30 + Math.floor(rand() * 700);
    const row: Record<string, unknown> = {
      customer_id: `C${String(i).padStart(5, '0')}`,
      event_time: `${cutoff}T00:00:00Z`,
      cutoff_date: cutoff,
      snapshot_id: snapshotId(cutoff),
      recency_days: recency,
      btyd_recency_days: Math.max(0, tenure - recency - 10),
      frequency_days: invoices365,
      repeat_frequency: invoices365 - 1,
      monetary_total_net: spend365 * 1.4,
      monetary_avg_day: spend365 / invoices365,
      tenure_days: tenure,
      invoices_30d: Math.floor(invoices365 / 12),
      spend_30d: spend365 / 12,
      returns_value_30d: 0,
      returns_count_30d: 0,
      distinct_products_30d: Math.floor(invoices365 / 6),
      invoices_90d: Math.floor(invoices365 / 4),
      spend_90d: spend365 / 4,
      returns_value_90d: 0,
      returns_count_90d: 0,
      distinct_products_90d: Math.floor(invoices365 / 2),
      invoices_365d: invoices365,
      spend_365d: spend365,
      returns_value_365d: Math.round(rand() * 20 * 100) / 100,
      returns_count_365d: rand() < 0.2 ? 1 : 0,
      distinct_products_365d: invoices365 * 3,
      interpurchase_mean_days: invoices365 > 1 ? 365 / invoices365 : null,
      interpurchase_var_days: invoices365 > 2 ? 100 * rand() : null,
      spend_trend_90d: rand() - 0.5,
      gift_card_share: 0,
      return_rate: rand() * 0.1,
      avg_basket_items: 1 + rand() * 10,
      sessions_90d: null,
      avg_session_duration_s_90d: null,
      product_views_90d: null,
      add_to_cart_90d: null,
      cart_to_purchase_rate_90d: null,
      days_since_last_session: null,
      country: COUNTRIES[i % 3],
      acquisition_channel: CHANNELS[(i >> 1) % 3],
      loyalty_status: LOYALTY[(i >> 2) % 3],
      label_revenue_12m: labelled
        ? Math.max(0, Math.round((spend365 * (0.6 + activity) + (rand() - 0.5) * 60) * 100) / 100)
        : null,
      label_churn_6m: labelled ? (recency > 200 || rand() < 0.1 ? 1 : 0) : null,
      write_time: `${cutoff}T01:00:00Z`,
      api_invocation_time: `${cutoff}T01:00:00Z`,
      is_deleted: false,
    };
    if (row.label_revenue_12m === 0 && labelled) row.label_churn_6m = 1;
    rows.push(row);
  }
  return rows;
}

/** Writes one cutoff's rows as the offline store writes them (year=/month=/day=/hour= partitions). */
export async function writeOfflineSnapshot(
  root: string,
  table: LakeTableLike,
  cutoff: string,
  rows: Record<string, unknown>[],
): Promise<string> {
  const [y, m, d] = cutoff.split('-') as [string, string, string];
  const dir = path.join(
    tableDirectory(table, root),
    '000000000000',
    'sagemaker',
    'eu-west-1',
    'offline-store',
    'clv-local-customer-features-1700000000',
    'data',
    `year=${y}`,
    `month=${m}`,
    `day=${d}`,
    'hour=00',
  );
  fs.mkdirSync(dir, { recursive: true });
  const jsonl = path.join(dir, '..', '..', `rows-${cutoff}.jsonl.tmp`);
  fs.writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n'));
  const file = path.join(dir, `part-${cutoff}.parquet`);
  const select = table.columns
    .map((c) => `CAST(${ident(c.name)} AS ${duckDbType(c.type)}) AS ${ident(c.name)}`)
    .join(', ');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const columns = table.columns.map((c) => `${ident(c.name)}: '${duckDbType(c.type)}'`).join(', ');
  await conn.run(
    `COPY (SELECT ${select} FROM read_json('${jsonl}', format = 'newline_delimited', columns = {${columns}})) TO '${file}' (FORMAT PARQUET)`,
  );
  conn.closeSync();
  instance.closeSync();
  fs.rmSync(jsonl);
  return file;
}
