/** One test per rule of the Athena → DuckDB compatibility layer (local/athena/compat.ts). */
import { describe, expect, it } from 'vitest';
import { checkParameter, toDuckDbSql, translateDateFormat } from '../../local/athena/compat.js';
import { runAthenaQuery } from '../../local/athena/engine.js';
import { tokenize } from '../../local/athena/sql-tokens.js';

async function q(sql: string, parameters: string[] = []) {
  return runAthenaQuery({ sql, parameters, database: 'clv_local', root: '/nonexistent', tables: [] });
}
async function one(sql: string, parameters: string[] = []): Promise<string | null> {
  const r = await q(sql, parameters);
  return r.rows[0]?.[0] ?? null;
}

describe('session settings', () => {
  it('integer division truncates like Trino; decimal and double division do not', async () => {
    const r = await q('SELECT 7 / 2 AS i, -7 / 2 AS n, 7.0 / 2 AS d, CAST(7 AS DOUBLE) / 2 AS f');
    expect(r.rows[0]).toEqual(['3', '-3', '3.5', '3.5']);
  });

  it('timestamps with a zone are in UTC', async () => {
    expect(await one("SELECT CAST(TIMESTAMP WITH TIME ZONE '2024-03-01 12:00:00+02:00' AS VARCHAR)")).toBe(
      '2024-03-01 10:00:00+00',
    );
  });
});

describe('macros', () => {
  it('approx_percentile(x, p) is a value of the data (quantile_disc), also with an array of fractions', async () => {
    expect(await one('SELECT approx_percentile(v, 0.5) FROM range(1, 11) t(v)')).toBe('5');
    expect(await one('SELECT approx_percentile(v, 0.9) FROM range(1, 11) t(v)')).toBe('9');
    expect(await one('SELECT approx_percentile(v, ARRAY[0.1, 0.5]) FROM range(1, 11) t(v)')).toBe('[1, 5]');
  });

  it('from_iso8601_timestamp parses Z and offsets to a UTC timestamp with time zone', async () => {
    const r = await q(
      "SELECT from_iso8601_timestamp('2024-03-01T12:34:56.789Z') AS a, from_iso8601_timestamp('2024-03-01T12:34:56+02:00') AS b",
    );
    expect(r.rows[0]).toEqual(['2024-03-01 12:34:56.789 UTC', '2024-03-01 10:34:56.000 UTC']);
    expect(r.columns.map((c) => c.type)).toEqual(['timestamp with time zone', 'timestamp with time zone']);
    expect(await one("SELECT from_iso8601_timestamp('2024-03-01T00:00:00Z') < TIMESTAMP '2024-03-01 00:00:01'")).toBe(
      'true',
    );
  });

  it('from_iso8601_date parses a date', async () => {
    const r = await q("SELECT from_iso8601_date('2024-02-29') AS d");
    expect(r.rows[0]).toEqual(['2024-02-29']);
    expect(r.columns[0]?.type).toBe('date');
  });

  it('regexp_like and day_of_week (ISO: Monday = 1, Sunday = 7)', async () => {
    expect(await one("SELECT regexp_like('GIFT-001', '^GIFT')")).toBe('true');
    expect(await one("SELECT regexp_like('XGIFT', '^GIFT')")).toBe('false');
    expect(await one("SELECT day_of_week(DATE '2024-01-07')")).toBe('7');
    expect(await one("SELECT day_of_week(DATE '2024-01-08')")).toBe('1');
  });
});

describe('token-level rewrites', () => {
  it('date_diff counts whole units elapsed, as Trino (not boundaries crossed)', async () => {
    expect(toDuckDbSql("SELECT date_diff('day', a, b) FROM t")).toBe("SELECT date_sub('day', a, b) FROM t");
    expect(await one("SELECT date_diff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00')")).toBe(
      '0',
    );
    expect(await one("SELECT date_diff('day', DATE '2024-01-01', DATE '2024-03-01')")).toBe('60');
    expect(await one("SELECT date_diff('month', DATE '2024-01-15', DATE '2024-02-14')")).toBe('0');
    expect(await one("SELECT date_diff('month', DATE '2024-01-15', DATE '2024-02-15')")).toBe('1');
    // month ends: Jan 31 + 1 month is Feb 29 (clamped), so one whole month has elapsed, as in Trino (Joda)
    expect(await one("SELECT date_diff('month', DATE '2024-01-31', DATE '2024-02-29')")).toBe('1');
    expect(await one("SELECT date_diff('year', DATE '2023-03-01', DATE '2024-03-01')")).toBe('1');
  });

  it('date_add(unit, n, x) adds n units, month ends clamp as in Trino', async () => {
    expect(toDuckDbSql("SELECT date_add('day', 1, d)")).toBe("SELECT athena_date_add('day', 1, d)");
    expect(toDuckDbSql('SELECT date_add(d, INTERVAL 1 DAY)')).toBe('SELECT date_add(d, INTERVAL 1 DAY)');
    expect(await one("SELECT CAST(date_add('day', -365, DATE '2024-03-01') AS DATE)")).toBe('2023-03-02');
    expect(await one("SELECT CAST(date_add('month', 1, DATE '2024-01-31') AS DATE)")).toBe('2024-02-29');
    expect(await one("SELECT date_add('hour', 5, TIMESTAMP '2024-01-01 22:00:00')")).toBe('2024-01-02 03:00:00.000');
    expect(await one("SELECT CAST(date_add('quarter', 1, DATE '2024-01-15') AS DATE)")).toBe('2024-04-15');
    await expect(one("SELECT date_add('fortnight', 1, DATE '2024-01-15')")).rejects.toThrow('unsupported unit');
  });

  it('date_format translates MySQL specifiers to strftime', async () => {
    expect(translateDateFormat('%Y-%m-%d %H:%i:%s')).toBe('%Y-%m-%d %H:%M:%S');
    expect(translateDateFormat('%e %M %Y, %T %%')).toBe('%-d %B %Y, %H:%M:%S %%');
    expect(() => translateDateFormat('%U')).toThrow('%U is not supported');
    expect(await one("SELECT date_format(TIMESTAMP '2024-03-05 07:08:09', '%Y/%m/%d %H:%i:%s')")).toBe(
      '2024/03/05 07:08:09',
    );
    expect(await one("SELECT date_format(DATE '2024-03-05', '%W %e %M')")).toBe('Tuesday 5 March');
    expect(() => toDuckDbSql('SELECT date_format(ts, fmt_col) FROM t')).toThrow('format must be a string literal');
  });

  it('leaves strings, comments, quoted identifiers and qualified names alone', () => {
    const sql = `SELECT 'date_diff(' AS "date_diff", x.date_diff(1) -- date_diff('day', a, b) ?\n/* ? date_add('day',1,x) */ FROM t`;
    expect(toDuckDbSql(sql)).toBe(sql);
    expect(tokenize("a''b").map((t) => t.kind)).toEqual(['word', 'string', 'word']);
  });
});

describe('ExecutionParameters', () => {
  it('replace each ? in order with its literal', async () => {
    expect(toDuckDbSql('SELECT ? AS a, ? AS b', ["'x'", '2'])).toBe("SELECT 'x' AS a, 2 AS b");
    const r = await q('SELECT CAST(? AS DATE) AS d, ? + 1 AS n, ? AS s, ? AS b', [
      "'2024-01-01'",
      '41',
      "'it''s'",
      'true',
    ]);
    expect(r.rows[0]).toEqual(['2024-01-01', '42', "it's", 'true']);
    expect(await one('SELECT ? < DATE ?', ["DATE '2024-01-01'", "'2024-01-02'"])).toBe('true');
    expect(await one('SELECT ?', ['-3.5'])).toBe('-3.5');
  });

  it('must match the number of ? and be single literals, as Athena requires', () => {
    expect(() => toDuckDbSql('SELECT ?, ?', ["'a'"])).toThrow("more '?' parameters than the 1 ExecutionParameters");
    expect(() => toDuckDbSql('SELECT ?', ["'a'", "'b'"])).toThrow(
      "2 ExecutionParameters given but the query has 1 '?'",
    );
    expect(() => checkParameter('2024-01-01', 0)).toThrow('is not a single SQL literal');
    expect(() => checkParameter("'a' OR 1=1", 0)).toThrow('is not a single SQL literal');
    expect(() => checkParameter('x', 3)).toThrow('ExecutionParameters[3]');
    expect(checkParameter(" TIMESTAMP '2024-01-01 00:00:00' ", 0)).toBe("TIMESTAMP '2024-01-01 00:00:00'");
  });
});
