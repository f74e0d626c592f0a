/**
 * The Athena (Trino) → DuckDB compatibility layer. The SQL files run unchanged apart from these rules; each
 * has a test in test/local/athena-compat.test.ts and a line in docs/local-runtime.md.
 *
 * Session settings (every connection):
 * - integer division: Trino's `/` on two integers truncates; DuckDB's `integer_division` setting does the same.
 * - TimeZone = UTC: timestamps with a zone compare and print in UTC, as Athena's session zone.
 * Macros (Athena name, no clash with a DuckDB built-in):
 * - approx_percentile(x, p) → quantile_disc(x, p): a value of the data (exact, so tests are deterministic;
 *   Athena's estimate is within its error bound of it). p may be an ARRAY of fractions.
 * - from_iso8601_timestamp(s) → s as TIMESTAMP WITH TIME ZONE (UTC); from_iso8601_date(s) → CAST(s AS DATE).
 * - regexp_like(s, p) → regexp_matches(s, p); day_of_week(x) → isodow(x) (1 = Monday … 7 = Sunday).
 * Token-level rewrites (the name clashes with a DuckDB built-in of other semantics):
 * - date_diff(unit, a, b) → date_sub(unit, a, b): whole units elapsed, as Trino (DuckDB's date_diff counts
 *   boundaries crossed).
 * - date_add(unit, n, x) (three arguments) → athena_date_add(unit, n, x). Units millisecond … year; on a DATE the
 *   result is a TIMESTAMP at midnight locally (Athena keeps DATE): equal in comparisons, cast it when output.
 * - date_format(x, 'fmt') → strftime(x, 'fmt') with MySQL specifiers translated (the format must be a literal).
 * - `?` → the ExecutionParameters, in order, each a single SQL literal as Athena requires (quoted strings,
 *   numbers, true/false/null, DATE '…'/TIMESTAMP '…').
 */
import { callArguments, nextSignificant, prevSignificant, render, type Token, tokenize } from './sql-tokens.js';

export const SESSION_SETTINGS = ["SET TimeZone = 'UTC'", 'SET integer_division = true'];

export const COMPAT_MACROS = [
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS quantile_disc(x, p)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  'CREATE OR REPLACE MACRO from_iso8601_date(s) AS CAST(s AS DATE)',
  'CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  'CREATE OR REPLACE MACRO day_of_week(x) AS isodow(x)',
  `CREATE OR REPLACE MACRO athena_date_add(unit, n, x) AS CASE lower(unit)
    WHEN 'millisecond' THEN x + to_milliseconds(CAST(n AS BIGINT))
    WHEN 'second' THEN x + to_seconds(CAST(n AS BIGINT))
    WHEN 'minute' THEN x + to_minutes(CAST(n AS BIGINT))
    WHEN 'hour' THEN x + to_hours(CAST(n AS BIGINT))
    WHEN 'day' THEN x + to_days(CAST(n AS INTEGER))
    WHEN 'week' THEN x + to_weeks(CAST(n AS INTEGER))
    WHEN 'month' THEN x + to_months(CAST(n AS INTEGER))
    WHEN 'quarter' THEN x + to_months(3 * CAST(n AS INTEGER))
    WHEN 'year' THEN x + to_years(CAST(n AS INTEGER))
    ELSE error('date_add: unsupported unit ' || unit) END`,
];

/** MySQL/Trino date_format specifiers → strftime. */
const DATE_FORMAT: Record<string, string> = {
  a: '%a',
  b: '%b',
  c: '%-m',
  d: '%d',
  e: '%-d',
  f: '%f',
  H: '%H',
  h: '%I',
  I: '%I',
  i: '%M',
  j: '%j',
  k: '%-H',
  l: '%-I',
  M: '%B',
  m: '%m',
  p: '%p',
  r: '%I:%M:%S %p',
  S: '%S',
  s: '%S',
  T: '%H:%M:%S',
  W: '%A',
  Y: '%Y',
  y: '%y',
  '%': '%%',
};

export function translateDateFormat(format: string): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const spec = format[i + 1];
    const mapped = spec === undefined ? undefined : DATE_FORMAT[spec];
    if (mapped === undefined) throw new Error(`date_format: specifier %${spec ?? ''} is not supported locally`);
    out += mapped;
    i++;
  }
  return out;
}

const LITERAL_WORDS = new Set(['true', 'false', 'null']);
const TYPED_LITERAL = new Set(['date', 'timestamp', 'time', 'decimal']);

/** Accepts one ExecutionParameters value if it is a single SQL literal; returns its text. */
export function checkParameter(value: string, index: number): string {
  const sig = tokenize(value).filter((t) => t.kind !== 'space');
  const [a, b] = sig;
  const ok =
    (sig.length === 1 &&
      a &&
      (a.kind === 'string' || a.kind === 'number' || (a.kind === 'word' && LITERAL_WORDS.has(a.text.toLowerCase())))) ||
    (sig.length === 2 && a?.kind === 'punct' && a.text === '-' && b?.kind === 'number') ||
    (sig.length === 2 && a?.kind === 'word' && TYPED_LITERAL.has(a.text.toLowerCase()) && b?.kind === 'string');
  if (!ok) {
    throw new Error(
      `ExecutionParameters[${index}] = ${JSON.stringify(value)} is not a single SQL literal (strings need quotes, e.g. "'2024-01-01'")`,
    );
  }
  return value.trim();
}

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/''/g, "'");
}

/** Rewrites an Athena query for DuckDB (see the module comment for every rule). */
export function toDuckDbSql(sql: string, parameters: string[] = []): string {
  const tokens = tokenize(sql);
  let paramIndex = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === 'param') {
      if (paramIndex >= parameters.length) {
        throw new Error(`the query has more '?' parameters than the ${parameters.length} ExecutionParameters given`);
      }
      tokens[i] = { kind: 'string', text: checkParameter(parameters[paramIndex] as string, paramIndex) };
      paramIndex++;
      continue;
    }
    if (t.kind !== 'word') continue;
    const open = nextSignificant(tokens, i + 1);
    if (open === -1 || (tokens[open] as Token).text !== '(') continue;
    const prev = prevSignificant(tokens, i - 1);
    if (prev !== -1 && (tokens[prev] as Token).text === '.') continue;
    const name = t.text.toLowerCase();
    if (name === 'date_diff') {
      tokens[i] = { kind: 'word', text: 'date_sub' };
    } else if (name === 'date_add') {
      if (callArguments(tokens, open).args.length === 3) tokens[i] = { kind: 'word', text: 'athena_date_add' };
    } else if (name === 'date_format') {
      const { args } = callArguments(tokens, open);
      const fmt = args[1]
        ? tokens.slice(args[1][0], args[1][1]).filter((x) => x.kind !== 'space' && x.kind !== 'comment')
        : [];
      if (args.length !== 2 || fmt.length !== 1 || (fmt[0] as Token).kind !== 'string') {
        throw new Error('date_format(x, format): the format must be a string literal to run locally');
      }
      const fmtIdx = tokens.indexOf(fmt[0] as Token);
      const translated = translateDateFormat(unquote((fmt[0] as Token).text));
      tokens[fmtIdx] = { kind: 'string', text: `'${translated.replace(/'/g, "''")}'` };
      tokens[i] = { kind: 'word', text: 'strftime' };
    }
  }
  if (paramIndex !== parameters.length) {
    throw new Error(`${parameters.length} ExecutionParameters given but the query has ${paramIndex} '?' parameter(s)`);
  }
  return render(tokens);
}
