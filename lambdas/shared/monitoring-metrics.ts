/**
 * Writer of the gold monitoring_metrics table (lib/contracts/lake-tables.ts): rows → one Parquet file (hyparquet-
 * writer, Snappy) at s3://<gold>/monitoring_metrics/run_date=<d>/<name>.parquet. The columns are the table's,
 * in its order and with its types (the run_date partition key lives in the path only); every row of one file
 * has the same run_date. Used by the drift Lambda; reusable by any writer of the table.
 */
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { z } from 'zod';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { joinS3, type ObjectStore } from './object-store.js';

const TABLE = lakeTable('monitoring_metrics');

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One row of monitoring_metrics, with its partition key run_date. */
export const MonitoringMetricRowSchema = z.object({
  run_id: z.string().min(1),
  pipeline: z.string().min(1),
  model_version: z.string().min(1),
  metric: z.string().min(1),
  feature: z.string().nullable(),
  value: z.number().refine(Number.isFinite, 'value must be a finite number'),
  details: z.string(),
  created_at: z.string().min(1),
  run_date: z.string().regex(DATE, 'run_date must be YYYY-MM-DD'),
});
export type MonitoringMetricRow = z.infer<typeof MonitoringMetricRowSchema>;

const PARQUET_TYPES: Record<string, 'STRING' | 'DOUBLE'> = { string: 'STRING', double: 'DOUBLE' };

/** The Parquet bytes of `rows` (partition key left out), columns as the lake table declares them. */
export function monitoringMetricsParquet(rows: readonly MonitoringMetricRow[]): Uint8Array {
  if (rows.length === 0) throw new Error('monitoring_metrics: no rows to write');
  const parsed = rows.map((r, i) => {
    const result = MonitoringMetricRowSchema.safeParse(r);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new Error(`monitoring_metrics row ${i}: ${issue?.path.join('.') || 'row'}: ${issue?.message}`);
    }
    return result.data;
  });
  const columnData: ColumnSource[] = TABLE.columns.map((c) => {
    const type = PARQUET_TYPES[c.type];
    if (!type) throw new Error(`monitoring_metrics column ${c.name}: no Parquet type for ${c.type}`);
    return {
      name: c.name,
      type,
      nullable: true,
      data: parsed.map((r) => r[c.name as keyof MonitoringMetricRow] ?? null),
    };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** s3://<gold bucket>/monitoring_metrics/run_date=<d>/<name>.parquet */
export function monitoringMetricsUri(goldBucket: string, runDate: string, name: string): string {
  if (!DATE.test(runDate)) throw new Error(`run_date must be YYYY-MM-DD, got '${runDate}'`);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`file name '${name}' must be [A-Za-z0-9._-]`);
  return joinS3(`s3://${goldBucket}`, TABLE.prefix, `run_date=${runDate}`, `${name}.parquet`);
}

/** Writes rows of one run_date as one Parquet file named `name`; returns its URI. */
export async function writeMonitoringMetrics(
  store: ObjectStore,
  goldBucket: string,
  name: string,
  rows: readonly MonitoringMetricRow[],
): Promise<string> {
  const dates = new Set(rows.map((r) => r.run_date));
  if (dates.size !== 1) {
    throw new Error(`monitoring_metrics: one file holds one run_date, got ${[...dates].join(', ') || 'none'}`);
  }
  const uri = monitoringMetricsUri(goldBucket, [...dates][0] as string, name);
  await store.putBytes(uri, monitoringMetricsParquet(rows), 'application/vnd.apache.parquet');
  return uri;
}
