/**
 * The local Glue catalog: each lake table becomes a DuckDB view over its files under the local root, with the
 * declared (Glue/Athena) column types, so queries see the schema Athena would. Tables come from
 * lib/contracts/lake-tables.ts (LAKE_TABLES) when that module exists, plus any the caller adds (tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../lib/paths.js';
import { LOCAL_PREFIX } from '../constants.js';

export interface LakeColumn {
  name: string;
  type: string;
}

/** The fields of lib/contracts/lake-tables.ts's LakeTable the local runtime needs. */
export interface LakeTableLike {
  name: string;
  zone: 'raw' | 'curated' | 'gold' | 'features' | 'artifacts';
  prefix: string;
  format: 'parquet' | 'json' | 'csv';
  columns: LakeColumn[];
  partitionKeys: LakeColumn[];
}

const LAKE_TABLES_MODULE = path.join(repoRoot, 'lib', 'contracts', 'lake-tables.ts');

/** LAKE_TABLES from lib/contracts/lake-tables.ts, or [] while that module does not exist. */
export async function contractTables(): Promise<LakeTableLike[]> {
  if (!fs.existsSync(LAKE_TABLES_MODULE)) return [];
  const mod = (await import(pathToFileURL(LAKE_TABLES_MODULE).href)) as { LAKE_TABLES?: LakeTableLike[] };
  if (!Array.isArray(mod.LAKE_TABLES)) throw new Error('lib/contracts/lake-tables.ts does not export LAKE_TABLES');
  return mod.LAKE_TABLES;
}

/** Splits `a,b<c,d>,e` at top-level commas. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

/** Glue/Athena column type → DuckDB type, nested types included (array<…> → …[], struct<…> → STRUCT(…), map<…>). */
export function duckDbType(glueType: string): string {
  const t = glueType.trim().toLowerCase();
  if (/^(string|varchar(\(\d+\))?|char(\(\d+\))?)$/.test(t)) return 'VARCHAR';
  if (t === 'int' || t === 'integer') return 'INTEGER';
  if (t === 'bigint') return 'BIGINT';
  if (t === 'smallint') return 'SMALLINT';
  if (t === 'tinyint') return 'TINYINT';
  if (t === 'double') return 'DOUBLE';
  if (t === 'float' || t === 'real') return 'FLOAT';
  if (t === 'boolean') return 'BOOLEAN';
  if (t === 'date') return 'DATE';
  if (t === 'timestamp') return 'TIMESTAMP';
  const dec = /^decimal\((\d+)\s*,\s*(\d+)\)$/.exec(t);
  if (dec) return `DECIMAL(${dec[1]}, ${dec[2]})`;
  const nested = /^(array|map|struct)<(.*)>$/.exec(glueType.trim());
  if (nested) {
    const inner = nested[2] as string;
    if (nested[1]?.toLowerCase() === 'array') return `${duckDbType(inner)}[]`;
    if (nested[1]?.toLowerCase() === 'map') {
      const [k, v] = splitTopLevel(inner);
      if (k === undefined || v === undefined) throw new Error(`unsupported Glue column type '${glueType}'`);
      return `MAP(${duckDbType(k)}, ${duckDbType(v)})`;
    }
    const fields = splitTopLevel(inner).map((f) => {
      const colon = f.indexOf(':');
      if (colon <= 0) throw new Error(`unsupported Glue column type '${glueType}'`);
      return `${ident(f.slice(0, colon).trim())} ${duckDbType(f.slice(colon + 1))}`;
    });
    return `STRUCT(${fields.join(', ')})`;
  }
  throw new Error(`unsupported Glue column type '${glueType}'`);
}

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export function tableDirectory(table: LakeTableLike, root: string): string {
  return path.join(root, `${LOCAL_PREFIX}-${table.zone}`, ...table.prefix.split('/').filter(Boolean));
}

/** The data files under a table's directory: hidden and `_`-prefixed names (and folders) left out, as Athena does. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !d.name.startsWith('_') && !d.name.startsWith('.'))
    .map((d) => path.join(d.parentPath, d.name))
    .filter(
      (f) =>
        !path
          .relative(dir, f)
          .split(path.sep)
          .some((part) => part.startsWith('_') || part.startsWith('.')),
    );
}

/** The CREATE VIEW statement of one table in a schema. */
export function viewSql(table: LakeTableLike, schema: string, root: string): string {
  const all = [...table.columns, ...table.partitionKeys];
  const select = all.map((c) => `CAST(${ident(c.name)} AS ${duckDbType(c.type)}) AS ${ident(c.name)}`).join(', ');
  const dir = tableDirectory(table, root);
  const files = filesUnder(dir);
  const name = `${ident(schema)}.${ident(table.name)}`;
  if (files.length === 0) {
    const empty = all.map((c) => `CAST(NULL AS ${duckDbType(c.type)}) AS ${ident(c.name)}`).join(', ');
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${empty} WHERE false`;
  }
  // Athena skips objects whose name starts with '_' or '.' (_SUCCESS, .crc): list the data files explicitly.
  const glob = `[${files.sort().map(literal).join(', ')}]`;
  const hive = table.partitionKeys.length > 0 ? 'true' : 'false';
  const source =
    table.format === 'parquet'
      ? `read_parquet(${glob}, hive_partitioning = ${hive}, union_by_name = true)`
      : table.format === 'json'
        ? // the JSON SerDe reads the declared columns only; 'ignore.malformed.json' = true (the CDK's setting):
          // a malformed line does not fail the query but reads as a row of NULLs, here as in Athena
          `read_json(${glob}, format = 'newline_delimited', columns = {${table.columns
            .map((c) => `${literal(c.name)}: ${literal(duckDbType(c.type))}`)
            .join(', ')}}, ignore_errors = true, hive_partitioning = ${hive})`
        : `read_csv(${glob}, header = true, all_varchar = true, hive_partitioning = ${hive}, union_by_name = true)`;
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${select} FROM ${source}`;
}
