/**
 * Writes rows of a lake table as Parquet under a local root, in the layout the local Athena engine reads
 * (<root>/clv-local-<zone>/<prefix>/<key>=<value>/.../*.parquet): every declared column present, with its declared
 * type, NULL where a row gives no value; partition keys become the hive folders.
 */
import { mkdirSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckDbType, ident, type LakeTableLike, tableDirectory } from '../../local/athena/catalog.js';

export type FixtureValue = string | number | boolean | null;
export type FixtureRow = Record<string, FixtureValue>;

function literal(value: FixtureValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`fixture value ${value} is not a finite number`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** Writes `rows` as Parquet files of `table` under `root` (call once per table and root). */
export async function writeParquetTable(root: string, table: LakeTableLike, rows: FixtureRow[]): Promise<void> {
  if (rows.length === 0) throw new Error(`no rows for ${table.name}`);
  const all = [...table.columns, ...table.partitionKeys];
  const known = new Set(all.map((c) => c.name));
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!known.has(key)) throw new Error(`fixture row of ${table.name} has an unknown column ${key}`);
    }
    for (const p of table.partitionKeys) {
      if (row[p.name] === undefined || row[p.name] === null) {
        throw new Error(`fixture row of ${table.name} has no value for the partition key ${p.name}`);
      }
    }
  }
  const select = rows
    .map(
      (row) =>
        `SELECT ${all.map((c) => `CAST(${literal(row[c.name] ?? null)} AS ${duckDbType(c.type)}) AS ${ident(c.name)}`).join(', ')}`,
    )
    .join('\nUNION ALL\n');
  const dir = tableDirectory(table, root);
  mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`CREATE TABLE fixture AS ${select}`);
    const partitionBy =
      table.partitionKeys.length > 0
        ? `, PARTITION_BY (${table.partitionKeys.map((p) => ident(p.name)).join(', ')})`
        : '';
    const target = table.partitionKeys.length > 0 ? dir : `${dir}/data.parquet`;
    await conn.run(`COPY fixture TO '${target.replace(/'/g, "''")}' (FORMAT PARQUET${partitionBy})`);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
