/**
 * `clv query "<SQL>" | @file.sql | --named NAME [--param VALUE]... | --list`: Athena SQL on the local lake. The
 * query runs on the local Athena engine (local/athena/engine.ts: the Trino → DuckDB compat layer and one view per
 * Glue table of lib/contracts/lake-tables.ts), in the Glue database the local pipelines use (`${GlueDatabase}`,
 * local/substitutions.ts), so a query that works here is written as it would be in the Athena console. `--named`
 * runs a shipped analysts' query (ANALYTICS_QUERIES, lib/contracts/sql-queries.ts) with its positional execution
 * parameters. Output: an aligned table (default), the CSV Athena writes to its result location, or a JSON array of
 * objects. Exit 0 on success; 2 with `clv query: <message>` on a bad call, unknown table or name, or a failed query.
 * See docs/analytics.md ("Querying the local lake").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ANALYTICS_QUERIES } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { contractTables, type LakeTableLike } from '../athena/catalog.js';
import { checkParameter } from '../athena/compat.js';
import { type QueryResult, runAthenaQuery } from '../athena/engine.js';
import { type Cell, toAthenaCsv } from '../athena/results.js';
import { type Token, tokenize } from '../athena/sql-tokens.js';
import { localRoot } from '../storage.js';
import { localSubstitution } from '../substitutions.js';
import type { Command } from './commands.js';

export const QUERY_FORMATS = ['table', 'csv', 'json'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];
export const DEFAULT_MAX_ROWS = 100;

const USAGE = `usage: npm run clv -- query "<SQL>" | @file.sql [--param VALUE]... [options]
       npm run clv -- query --named NAME [--param VALUE]... [options]
       npm run clv -- query --list

  Runs Athena (Trino) SQL on the local lake through DuckDB, with the Glue table names (database ${localSubstitution('GlueDatabase')}):
  SELECT / WITH / VALUES, one statement. @file.sql reads the SQL from a file.
  --named NAME     a shipped analysts' query (sql/analytics/; --list shows them with their parameters)
  --param VALUE    a positional ? execution parameter, repeated in order; each one SQL literal, so strings and
                   dates keep their quotes: --param "'clv-0123456789ab'" --param 50
  --format F       table (default: aligned, at most --max-rows rows), csv (Athena's result CSV, header first),
                   json (an array of objects; numeric columns as numbers)
  --max-rows N     rows the table shows (default ${DEFAULT_MAX_ROWS}); it says how many were left out
  --out FILE       write the output to FILE instead of printing it
  --root DIR       local root (default $CLV_LOCAL_ROOT or .clv-local)
  See docs/analytics.md.`;

/** A bad call, an unknown table or name, or a query DuckDB rejects: the message says what to fix. */
export class QueryCommandError extends Error {
  override readonly name = 'QueryCommandError';
}

const QUERY_START = new Set(['select', 'with', 'values']);

const significant = (tokens: Token[]): Token[] => tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');

/**
 * The one read-only statement of `sql`, without a trailing semicolon (Athena runs one statement per execution;
 * this command only reads the lake, so DDL/DML and DuckDB's COPY are refused).
 */
export function singleStatement(sql: string): string {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (err) {
    throw new QueryCommandError(`the SQL does not parse: ${(err as Error).message}`);
  }
  while (tokens.length > 0) {
    const last = tokens[tokens.length - 1] as Token;
    if (last.kind === 'space' || last.kind === 'comment' || (last.kind === 'punct' && last.text === ';')) {
      tokens.pop();
    } else break;
  }
  const sig = significant(tokens);
  const first = sig[0];
  if (!first) throw new QueryCommandError('the SQL is empty');
  if (sig.some((t) => t.kind === 'punct' && t.text === ';')) {
    throw new QueryCommandError('one statement at a time: the SQL has more than one (separated by ;)');
  }
  const isQuery = (first.kind === 'word' && QUERY_START.has(first.text.toLowerCase())) || first.text === '(';
  if (!isQuery) {
    throw new QueryCommandError(`only queries run here (SELECT, WITH or VALUES); the SQL starts with '${first.text}'`);
  }
  return tokens.map((t) => t.text).join('');
}

/** The named queries with their parameters, as `--list` prints them. */
export function namedQueryList(): string {
  const lines: string[] = [];
  for (const [name, q] of Object.entries(ANALYTICS_QUERIES)) {
    lines.push(`${name}  (${q.file})`, `  ${q.summary}`);
    if (q.parameters.length === 0) lines.push('  parameters: none');
    for (const [i, p] of q.parameters.entries()) lines.push(`  --param ${i + 1}: ${p}`);
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

const knownNames = (): string => Object.keys(ANALYTICS_QUERIES).join(', ');

/** The SQL text and checked parameters of a named query; errors name the unknown query or the expected parameters. */
export function namedQuery(name: string, parameters: readonly string[]): { sql: string; parameters: string[] } {
  const spec = Object.hasOwn(ANALYTICS_QUERIES, name) ? ANALYTICS_QUERIES[name] : undefined;
  if (!spec) throw new QueryCommandError(`unknown named query '${name}'; the named queries are: ${knownNames()}`);
  const expected = spec.parameters.map((p, i) => `${i + 1}) ${p}`).join('; ');
  if (parameters.length !== spec.parameters.length) {
    throw new QueryCommandError(
      `${name} takes ${spec.parameters.length} parameter(s), ${parameters.length} given` +
        (spec.parameters.length > 0 ? ` (--param VALUE, in order): ${expected}` : ' (give no --param)'),
    );
  }
  const checked = parameters.map((value, i) => {
    try {
      return checkParameter(value, i);
    } catch (err) {
      throw new QueryCommandError(`${name} --param ${i + 1} (${spec.parameters[i]}): ${(err as Error).message}`);
    }
  });
  return { sql: fs.readFileSync(path.join(repoRoot, spec.file), 'utf8'), parameters: checked };
}

const TABLE_NOT_FOUND = /Table with name (\S+) does not exist/;

/**
 * Runs `sql` on the lake under `root` in the local Glue database. DuckDB's "Table with name X does not exist"
 * becomes an error naming X and the Glue tables (its own "Did you mean" suggests DuckDB system tables); any other
 * failure (compat layer, binder, parser) keeps DuckDB's message, which points at the offending line.
 */
export async function runLocalQuery(
  sql: string,
  parameters: readonly string[],
  root: string,
  tables?: LakeTableLike[],
): Promise<QueryResult> {
  const database = localSubstitution('GlueDatabase');
  const catalog = tables ?? (await contractTables());
  try {
    return await runAthenaQuery({
      sql: singleStatement(sql),
      parameters: [...parameters],
      database,
      root,
      tables: catalog,
    });
  } catch (err) {
    if (err instanceof QueryCommandError) throw err;
    const message = (err as Error).message;
    const missing = TABLE_NOT_FOUND.exec(message);
    if (missing) {
      const name = (missing[1] as string).replace(/^"|"$/g, '');
      const line = message.indexOf('\nLINE ');
      throw new QueryCommandError(
        `unknown table '${name}': database ${database} has ${catalog.map((t) => t.name).join(', ')}` +
          (line === -1 ? '' : `\n${message.slice(line + 1).trimEnd()}`),
      );
    }
    throw new QueryCommandError(message);
  }
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'float', 'double', 'decimal']);
const INTEGRAL = new Set(['tinyint', 'smallint', 'integer', 'bigint']);

/**
 * A cell as JSON: numeric columns as numbers, booleans as booleans, the rest as the text Athena prints. A value
 * JSON cannot hold exactly stays text: NaN/Infinity, and integers beyond 2^53 (a JSON reader would round them).
 */
function jsonCell(cell: Cell, type: string): string | number | boolean | null {
  if (cell === null) return null;
  if (type === 'boolean') return cell === 'true';
  if (!NUMERIC.has(type)) return cell;
  const n = Number(cell);
  if (!Number.isFinite(n)) return cell;
  if (INTEGRAL.has(type) && !Number.isSafeInteger(n)) return cell;
  return n;
}

export function formatJson(result: QueryResult): string {
  const names = result.columns.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new QueryCommandError(
      `column '${dup}' appears more than once: --format json needs distinct names (alias them)`,
    );
  }
  const objects = result.rows.map((row) =>
    Object.fromEntries(result.columns.map((c, i) => [c.name, jsonCell(row[i] ?? null, c.type)])),
  );
  return `${JSON.stringify(objects, null, 2)}\n`;
}

/** Athena's result CSV (results.ts): a header, every value quoted (RFC 4180), NULL an empty unquoted field. */
export function formatCsv(result: QueryResult): string {
  return toAthenaCsv(result.columns, result.rows);
}

/** A cell on one table line: NULL spelled out, line breaks and tabs escaped. */
const tableCell = (cell: Cell): string =>
  cell === null ? 'NULL' : cell.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');

/** Aligned columns (numbers to the right), a rule under the header, at most `maxRows` rows and a row count line. */
export function formatTable(result: QueryResult, maxRows: number = DEFAULT_MAX_ROWS): string {
  const shown = result.rows.slice(0, maxRows).map((r) => r.map(tableCell));
  const header = result.columns.map((c) => c.name);
  const right = result.columns.map((c) => NUMERIC.has(c.type));
  const widths = header.map((h, i) => Math.max(h.length, ...shown.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((v, i) => (right[i] ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const total = result.rows.length;
  const left = total - shown.length;
  const count = `(${total} row${total === 1 ? '' : 's'}${
    left > 0 ? `; ${left} not shown: raise --max-rows, or use --format csv|json for all` : ''
  })`;
  return `${[line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...shown.map(line), count].join('\n')}\n`;
}

const OPTIONS = {
  named: { type: 'string' },
  param: { type: 'string', multiple: true },
  list: { type: 'boolean', default: false },
  format: { type: 'string' },
  'max-rows': { type: 'string' },
  out: { type: 'string' },
  root: { type: 'string' },
} as const;

/** The SQL of the positional argument: the text itself, or the file named after '@'. */
function sqlArgument(arg: string): string {
  if (!arg.startsWith('@')) return arg;
  const file = arg.slice(1);
  if (file === '') throw new QueryCommandError("'@' needs a file name: @query.sql");
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new QueryCommandError(`${file}: no such file`);
  return fs.readFileSync(file, 'utf8');
}

function parseMaxRows(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_ROWS;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new QueryCommandError(`--max-rows must be a whole number of at least 1, got '${value}'`);
  }
  return Number(value);
}

export interface QueryOutput {
  /** The formatted result (or the --list text). */
  text: string;
  /** Where to write it; undefined: print. */
  out?: string;
  /** Rows the query returned (undefined for --list). */
  rows?: number;
}

/** Parses the arguments and runs the query; returns the text to print or write. `tables` replaces the Glue tables (tests). */
export async function queryMain(argv: string[], tables?: LakeTableLike[]): Promise<QueryOutput> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw new QueryCommandError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new QueryCommandError(`one SQL argument expected, got ${positionals.length} (quote the SQL)\n\n${USAGE}`);
  }
  if (values.list) {
    if (positionals.length > 0 || values.named !== undefined) {
      throw new QueryCommandError('--list takes no SQL and no --named');
    }
    return { text: `${namedQueryList()}\n`, ...(values.out !== undefined ? { out: values.out } : {}) };
  }
  const format = values.format ?? 'table';
  if (!(QUERY_FORMATS as readonly string[]).includes(format)) {
    throw new QueryCommandError(`--format must be one of ${QUERY_FORMATS.join(', ')}, got '${format}'`);
  }
  if (values['max-rows'] !== undefined && format !== 'table') {
    throw new QueryCommandError('--max-rows applies to --format table only (csv and json hold every row)');
  }
  const maxRows = parseMaxRows(values['max-rows']);
  const params = values.param ?? [];
  let sql: string;
  let parameters: string[];
  if (values.named !== undefined) {
    if (positionals.length > 0) throw new QueryCommandError('give either SQL or --named NAME, not both');
    ({ sql, parameters } = namedQuery(values.named, params));
  } else {
    const [arg] = positionals;
    if (arg === undefined) throw new QueryCommandError(`SQL, @file.sql, --named NAME or --list expected\n\n${USAGE}`);
    sql = sqlArgument(arg);
    parameters = params;
  }
  const root = localRoot(values.root);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new QueryCommandError(
      `local root ${root} does not exist: run the pipelines first (npm run clv -- run ...) or pass --root DIR`,
    );
  }
  const result = await runLocalQuery(sql, parameters, root, tables);
  const text =
    format === 'csv' ? formatCsv(result) : format === 'json' ? formatJson(result) : formatTable(result, maxRows);
  return { text, rows: result.rows.length, ...(values.out !== undefined ? { out: values.out } : {}) };
}

export const queryCommand: Command = {
  summary: 'Athena SQL (or a shipped named query) on the local lake, as a table, CSV or JSON',
  usage: USAGE,
  async run(argv) {
    try {
      const { text, out, rows } = await queryMain(argv);
      if (out === undefined) {
        process.stdout.write(text);
      } else {
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        fs.writeFileSync(out, text);
        console.log(rows === undefined ? `→ ${out}` : `${rows} row(s) → ${out}`);
      }
      return 0;
    } catch (err) {
      console.error(`clv query: ${(err as Error).message}`);
      return 2;
    }
  },
};
