/** Runs Athena SQL on DuckDB over the local lake tables (compat.ts rewrites it; catalog.ts provides the views). */
import {
  DuckDBArrayValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import { type LakeTableLike, viewSql } from './catalog.js';
import { COMPAT_MACROS, SESSION_SETTINGS, toDuckDbSql } from './compat.js';
import { athenaTimestamp, type Cell, type ColumnInfo, javaDouble } from './results.js';
import { tokenize } from './sql-tokens.js';

export interface QueryRequest {
  sql: string;
  parameters?: string[];
  /** The Glue database (QueryExecutionContext.Database): the schema unqualified names resolve in. */
  database: string;
  root: string;
  tables: LakeTableLike[];
}

export interface QueryResult {
  columns: ColumnInfo[];
  rows: Cell[][];
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

export function athenaType(t: DuckDBType): { type: string; precision: number; scale: number } {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { type: 'boolean', precision: 0, scale: 0 };
    case DuckDBTypeId.TINYINT:
      return { type: 'tinyint', precision: 3, scale: 0 };
    case DuckDBTypeId.SMALLINT:
      return { type: 'smallint', precision: 5, scale: 0 };
    case DuckDBTypeId.INTEGER:
      return { type: 'integer', precision: 10, scale: 0 };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return { type: 'bigint', precision: 19, scale: 0 };
    case DuckDBTypeId.FLOAT:
      return { type: 'float', precision: 24, scale: 0 };
    case DuckDBTypeId.DOUBLE:
      return { type: 'double', precision: 53, scale: 0 };
    case DuckDBTypeId.DATE:
      return { type: 'date', precision: 0, scale: 0 };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_S:
      return { type: 'timestamp', precision: 3, scale: 0 };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { type: 'timestamp with time zone', precision: 3, scale: 0 };
    case DuckDBTypeId.DECIMAL: {
      const d = t as unknown as { width: number; scale: number };
      return { type: 'decimal', precision: d.width, scale: d.scale };
    }
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
      return { type: 'decimal', precision: 38, scale: 0 };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { type: 'array', precision: 0, scale: 0 };
    case DuckDBTypeId.STRUCT:
      return { type: 'row', precision: 0, scale: 0 };
    case DuckDBTypeId.MAP:
      return { type: 'map', precision: 0, scale: 0 };
    default:
      return { type: 'varchar', precision: 2147483647, scale: 0 };
  }
}

/** Nested values as Trino prints them: arrays `[a, b]`, rows `{name=value, ...}`, maps `{key=value}`, NULL `null`. */
function renderNested(value: DuckDBValue): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) {
    return `[${value.items.map(renderNested).join(', ')}]`;
  }
  if (value instanceof DuckDBStructValue) {
    return `{${Object.entries(value.entries)
      .map(([k, v]) => `${k}=${renderNested(v)}`)
      .join(', ')}}`;
  }
  if (value instanceof DuckDBMapValue) {
    return `{${value.entries.map((e) => `${renderNested(e.key)}=${renderNested(e.value)}`).join(', ')}}`;
  }
  if (typeof value === 'number') return javaDouble(value);
  return String(value);
}

function render(value: DuckDBValue, type: string): Cell {
  if (value === null || value === undefined) return null;
  if (type === 'array' || type === 'row' || type === 'map') return renderNested(value);
  if (type === 'double' || type === 'float') return javaDouble(Number(value));
  if (type === 'timestamp' || type === 'timestamp with time zone') return athenaTimestamp(String(value));
  return String(value);
}

/** Opens an in-memory DuckDB with the session settings, the compat macros and one view per lake table. */
export async function openLocalCatalog(database: string, root: string, tables: LakeTableLike[]) {
  if (!SCHEMA_NAME.test(database)) throw new Error(`invalid database name '${database}'`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  for (const s of [...SESSION_SETTINGS, ...COMPAT_MACROS]) await conn.run(s);
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${database}`);
  for (const t of tables) await conn.run(viewSql(t, database, root));
  await conn.run(`SET search_path = '${database},main'`);
  return {
    conn,
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * The tables a query names (as a word or quoted identifier). Only those get a view, so a query never depends on
 * the files of tables it does not read (a view over JSON reads its files when it is created).
 */
export function referencedTables(sql: string, tables: LakeTableLike[]): LakeTableLike[] {
  const names = new Set(
    tokenize(sql)
      .filter((t) => t.kind === 'word' || t.kind === 'quoted')
      .map((t) => (t.kind === 'quoted' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text).toLowerCase()),
  );
  const byName = new Map<string, LakeTableLike>();
  for (const t of tables) if (names.has(t.name.toLowerCase())) byName.set(t.name, t);
  return [...byName.values()];
}

export async function runAthenaQuery(req: QueryRequest): Promise<QueryResult> {
  const sql = toDuckDbSql(req.sql, req.parameters ?? []);
  const { conn, close } = await openLocalCatalog(req.database, req.root, referencedTables(sql, req.tables));
  try {
    const reader = await conn.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes().map(athenaType);
    const columns = names.map((name, i) => ({ name, ...(types[i] as ReturnType<typeof athenaType>) }));
    const rows = reader.getRows().map((r) => r.map((v, i) => render(v, (types[i] as { type: string }).type)));
    return { columns, rows };
  } finally {
    close();
  }
}
