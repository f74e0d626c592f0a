/**
 * `clv query`: Athena SQL and the shipped named queries on a small lake written under a temp root (gold
 * predictions for two scoring dates and two model versions, the batch-scoring rows of monitoring_metrics), through
 * the local Athena engine with the Glue tables of lib/contracts/lake-tables.ts; each output format parsed back; the
 * errors for unknown tables and names, wrong parameters and bad calls.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { ANALYTICS_QUERIES } from '../../lib/contracts/sql-queries.js';
import type { LakeTableLike } from '../../local/athena/catalog.js';
import { parseAthenaCsv } from '../../local/athena/results.js';
import {
  formatTable,
  namedQueryList,
  QueryCommandError,
  queryCommand,
  queryMain,
  singleStatement,
} from '../../local/cli/query-command.js';
import { type FixtureRow, writeParquetTable } from '../sql/lake-fixture.js';

const table = (name: string): LakeTableLike => lakeTable(name) as unknown as LakeTableLike;

function prediction(date: string, model: string, customer_id: string, tier: string, clv: number): FixtureRow {
  return {
    customer_id,
    tier,
    clv_score: clv,
    predicted_revenue_12m: clv * 2,
    churn_probability: 0.25,
    reason_1_feature: 'recency_days',
    reason_1_contribution: 0.5,
    reason_2_feature: 'spend_365d',
    reason_2_contribution: 0.25,
    reason_3_feature: 'tenure_days',
    reason_3_contribution: -0.125,
    reasons_method: 'tree_shap',
    scoring_date: date,
    model_version: model,
  };
}

const PREDICTIONS: FixtureRow[] = [
  prediction('2024-01-07', 'clv-m1', 'a', 'High', 300),
  prediction('2024-01-07', 'clv-m1', 'b', 'Low', 10),
  prediction('2024-01-07', 'clv-m1', 'c', 'Medium', 100),
  prediction('2024-01-14', 'clv-m1', 'a', 'High', 400),
  prediction('2024-01-14', 'clv-m1', 'b', 'Medium', 150),
  prediction('2024-01-14', 'clv-m2', 'a', 'High', 420),
];

function metric(date: string, model: string, run: string, at: string, name: string, value: number): FixtureRow {
  return {
    run_id: run,
    pipeline: 'batch-scoring',
    model_version: model,
    metric: name,
    feature: null,
    value,
    details: JSON.stringify({ scoring_date: date }),
    created_at: at,
    run_date: date,
  };
}

const METRICS: FixtureRow[] = [
  metric('2024-01-07', 'clv-m1', 'run-1', '2024-01-08T06:00:00Z', 'rows_scored', 3),
  metric('2024-01-07', 'clv-m1', 'run-1', '2024-01-08T06:00:00Z', 'rows_rejected', 0),
  metric('2024-01-14', 'clv-m1', 'run-2', '2024-01-15T06:00:00Z', 'rows_scored', 2),
  metric('2024-01-14', 'clv-m1', 'run-2', '2024-01-15T06:00:00Z', 'rows_rejected', 1),
  metric('2024-01-14', 'clv-m2', 'run-3', '2024-01-15T09:00:00Z', 'rows_scored', 1),
  metric('2024-01-14', 'clv-m2', 'run-3', '2024-01-15T09:00:00Z', 'rows_rejected', 0),
];

let root: string;

/** Runs `clv query` on the fixture lake; returns its output text. */
async function query(...argv: string[]): Promise<string> {
  return (await queryMain([...argv, '--root', root])).text;
}

async function queryJson(...argv: string[]): Promise<Record<string, unknown>[]> {
  return JSON.parse(await query(...argv, '--format', 'json')) as Record<string, unknown>[];
}

async function failure(...argv: string[]): Promise<string> {
  const err = await queryMain([...argv, '--root', root]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryCommandError);
  return (err as Error).message;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'clv-query-'));
  await writeParquetTable(root, table('predictions'), PREDICTIONS);
  await writeParquetTable(root, table('monitoring_metrics'), METRICS);
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('clv query: SQL on the local lake', () => {
  it('runs Athena functions DuckDB lacks (date_format, approx_percentile, date_add) through the compat layer', async () => {
    const rows = await queryJson(
      `SELECT date_format(CAST(scoring_date AS DATE), '%d/%m/%Y') AS day,
              approx_percentile(clv_score, 0.5) AS median_clv,
              CAST(date_add('day', 7, CAST(scoring_date AS DATE)) AS DATE) AS next_run,
              count(*) AS n
       FROM predictions WHERE model_version = 'clv-m1' GROUP BY scoring_date ORDER BY scoring_date`,
    );
    expect(rows).toEqual([
      { day: '07/01/2024', median_clv: 100, next_run: '2024-01-14', n: 3 },
      { day: '14/01/2024', median_clv: 150, next_run: '2024-01-21', n: 2 },
    ]);
  });

  it('names tables as the Glue catalog does, also qualified with the local database', async () => {
    const rows = await queryJson('SELECT count(*) AS n FROM clv_local.predictions');
    expect(rows).toEqual([{ n: 6 }]);
  });

  it('prints an aligned table: header, rule, numbers to the right, NULL spelled out, a row count', async () => {
    const text = await query(
      "SELECT customer_id, clv_score, CASE WHEN tier = 'Low' THEN NULL ELSE tier END AS tier FROM predictions WHERE scoring_date = '2024-01-07' ORDER BY customer_id",
    );
    expect(text).toBe(
      [
        'customer_id  clv_score  tier',
        '-----------  ---------  ------',
        'a                300.0  High',
        'b                 10.0  NULL',
        'c                100.0  Medium',
        '(3 rows)',
        '',
      ].join('\n'),
    );
  });

  it('shows at most --max-rows rows in the table and says how many were left out', async () => {
    const text = await query('SELECT customer_id FROM predictions ORDER BY clv_score DESC', '--max-rows', '2');
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(2, 4)).toEqual(['a', 'a']);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('(6 rows; 4 not shown: raise --max-rows, or use --format csv|json for all)');
  });

  it('writes CSV with a header that parses back, NULL apart from the empty string, quotes and commas kept', async () => {
    const text = await query(
      `SELECT customer_id, clv_score, 'say "hi", then
go' AS note, CASE WHEN customer_id = 'a' THEN '' END AS maybe
       FROM predictions WHERE scoring_date = '2024-01-07' ORDER BY customer_id`,
      '--format',
      'csv',
    );
    const { header, rows } = parseAthenaCsv(text);
    expect(header).toEqual(['customer_id', 'clv_score', 'note', 'maybe']);
    expect(rows).toEqual([
      ['a', '300.0', 'say "hi", then\ngo', ''],
      ['b', '10.0', 'say "hi", then\ngo', null],
      ['c', '100.0', 'say "hi", then\ngo', null],
    ]);
    expect(text.split('\n')[0]).toBe('"customer_id","clv_score","note","maybe"');
  });

  it('writes JSON objects: numeric columns as numbers, booleans as booleans, text as text, NULL as null', async () => {
    const rows = await queryJson(
      `SELECT customer_id, CAST(clv_score AS BIGINT) AS clv_int, clv_score, CAST(clv_score AS DECIMAL(10, 2)) AS clv_dec,
              clv_score > 200 AS big, CAST(NULL AS DOUBLE) AS nothing, scoring_date
       FROM predictions WHERE scoring_date = '2024-01-07' AND customer_id = 'a'`,
    );
    expect(rows).toEqual([
      {
        customer_id: 'a',
        clv_int: 300,
        clv_score: 300,
        clv_dec: 300,
        big: true,
        nothing: null,
        scoring_date: '2024-01-07',
      },
    ]);
  });

  it('keeps JSON-unsafe numbers as text (NaN, integers beyond 2^53) and refuses duplicate column names', async () => {
    const rows = await queryJson(
      "SELECT CAST('NaN' AS DOUBLE) AS x, CAST(9007199254740993 AS BIGINT) AS big, 1.5 AS y",
    );
    expect(rows).toEqual([{ x: 'NaN', big: '9007199254740993', y: 1.5 }]);
    expect(await failure('SELECT 1 AS a, 2 AS a', '--format', 'json')).toMatch(/column 'a' appears more than once/);
  });

  it('returns an empty result in every format', async () => {
    const empty = "SELECT customer_id, clv_score FROM predictions WHERE model_version = 'clv-none'";
    expect(await query(empty)).toBe('customer_id  clv_score\n-----------  ---------\n(0 rows)\n');
    expect(parseAthenaCsv(await query(empty, '--format', 'csv'))).toEqual({
      header: ['customer_id', 'clv_score'],
      rows: [],
    });
    expect(await queryJson(empty)).toEqual([]);
  });

  it('reads the SQL from @file, a trailing semicolon and comments allowed', async () => {
    const file = join(root, 'q.sql');
    writeFileSync(
      file,
      "-- tiers\nSELECT tier, count(*) AS n FROM predictions WHERE model_version = 'clv-m1' GROUP BY tier ORDER BY tier;\n",
    );
    expect(await queryJson(`@${file}`)).toEqual([
      { tier: 'High', n: 2 },
      { tier: 'Low', n: 1 },
      { tier: 'Medium', n: 2 },
    ]);
    expect(await failure(`@${join(root, 'missing.sql')}`)).toBe(`${join(root, 'missing.sql')}: no such file`);
  });

  it('binds positional ? parameters of a plain query from --param', async () => {
    const rows = await queryJson(
      'SELECT customer_id FROM predictions WHERE model_version = ? AND clv_score > ? ORDER BY 1',
      '--param',
      "'clv-m1'",
      '--param',
      '120',
    );
    expect(rows).toEqual([{ customer_id: 'a' }, { customer_id: 'a' }, { customer_id: 'b' }]);
  });
});

describe('clv query: named queries', () => {
  it('--named scoring_runs lists the published runs, latest date first', async () => {
    const rows = await queryJson('--named', 'scoring_runs');
    expect(
      rows.map((r) => [
        r.scoring_date,
        r.model_version,
        r.run_id,
        r.rows_scored,
        r.rows_rejected,
        r.is_latest_for_date,
      ]),
    ).toEqual([
      ['2024-01-14', 'clv-m2', 'run-3', 1, 0, true],
      ['2024-01-14', 'clv-m1', 'run-2', 2, 1, false],
      ['2024-01-07', 'clv-m1', 'run-1', 3, 0, true],
    ]);
  });

  it('--named with its parameters in order', async () => {
    const rows = await queryJson('--named', 'top_customers_by_clv', '--param', "'clv-m1'", '--param', '1');
    expect(rows.map((r) => [r.scoring_date, r.customer_id, r.clv_rank, r.clv_score])).toEqual([
      ['2024-01-14', 'a', 1, 400],
    ]);
  });

  it('a wrong parameter count names the expected parameters', async () => {
    const message = await failure('--named', 'top_customers_by_clv', '--param', "'clv-m1'");
    expect(message).toContain('top_customers_by_clv takes 2 parameter(s), 1 given');
    for (const p of ANALYTICS_QUERIES.top_customers_by_clv?.parameters ?? []) expect(message).toContain(p);
    expect(await failure('--named', 'scoring_runs', '--param', '1')).toBe(
      'scoring_runs takes 0 parameter(s), 1 given (give no --param)',
    );
  });

  it('a parameter that is not one SQL literal names the parameter and asks for quotes', async () => {
    const message = await failure('--named', 'top_customers_by_clv', '--param', 'clv-m1', '--param', '5');
    expect(message).toMatch(/^top_customers_by_clv --param 1 \(model version.*strings need quotes/);
  });

  it('an unknown name lists the named queries', async () => {
    expect(await failure('--named', 'top_customers')).toBe(
      `unknown named query 'top_customers'; the named queries are: ${Object.keys(ANALYTICS_QUERIES).join(', ')}`,
    );
  });

  it('--list prints every named query with its parameters', async () => {
    const text = await query('--list');
    for (const [name, q] of Object.entries(ANALYTICS_QUERIES)) {
      expect(text).toContain(`${name}  (${q.file})`);
      for (const [i, p] of q.parameters.entries()) expect(text).toContain(`--param ${i + 1}: ${p}`);
    }
    expect(text).toBe(`${namedQueryList()}\n`);
  });
});

describe('clv query: errors', () => {
  it('an unknown table is named, with the Glue tables of the database and the line it is on', async () => {
    const message = await failure('SELECT * FROM predictionz p JOIN monitoring_metrics m ON true');
    expect(message).toMatch(/^unknown table 'predictionz': database clv_local has /);
    expect(message).toContain('predictions, monitoring_metrics');
    expect(message).toContain('customer_features_offline');
    expect(message).toContain('LINE 1: SELECT * FROM predictionz');
    expect(message).not.toContain('Did you mean');
    expect(await failure('SELECT * FROM other_db.t')).toMatch(/^unknown table 'other_db\.t': database clv_local has /);
  });

  it('refuses statements other than one query', async () => {
    expect(() => singleStatement('DROP VIEW predictions')).toThrow(/only queries run here .* starts with 'DROP'/);
    expect(() => singleStatement("COPY predictions TO '/tmp/x.csv'")).toThrow(/starts with 'COPY'/);
    expect(() => singleStatement('SELECT 1; SELECT 2')).toThrow(/one statement at a time/);
    expect(() => singleStatement('  -- nothing\n ;')).toThrow(/the SQL is empty/);
    expect(singleStatement('(SELECT 1) ; -- done\n')).toBe('(SELECT 1)');
  });

  it('keeps the engine message for other failures', async () => {
    expect(await failure('SELECT nosuchcol FROM predictions')).toMatch(/nosuchcol/);
    expect(await failure('SELECT ? AS x')).toMatch(/more '\?' parameters than the 0/);
  });

  it('rejects bad options with a message naming them', async () => {
    expect(await failure('SELECT 1', '--format', 'xml')).toBe("--format must be one of table, csv, json, got 'xml'");
    expect(await failure('SELECT 1', '--max-rows', '0')).toMatch(
      /--max-rows must be a whole number of at least 1, got '0'/,
    );
    expect(await failure('SELECT 1', '--max-rows', '5', '--format', 'csv')).toMatch(
      /--max-rows applies to --format table/,
    );
    expect(await failure('SELECT 1', '--named', 'scoring_runs')).toBe('give either SQL or --named NAME, not both');
    expect(await failure('SELECT 1', 'SELECT 2')).toMatch(/^one SQL argument expected, got 2/);
    expect(await failure()).toMatch(/^SQL, @file\.sql, --named NAME or --list expected/);
    expect(await failure('SELECT 1', '--bogus')).toMatch(/--bogus/);
    const missingRoot = await queryMain(['SELECT 1', '--root', join(root, 'nowhere')]).catch((e: Error) => e.message);
    expect(missingRoot).toMatch(/local root .*nowhere does not exist/);
  });
});

describe('clv query: the command', () => {
  it('exits 2 with "clv query: <message>" on an error', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await queryCommand.run(['SELECT * FROM nope', '--root', root])).toBe(2);
      expect(err).toHaveBeenCalledWith(expect.stringMatching(/^clv query: unknown table 'nope'/));
    } finally {
      err.mockRestore();
    }
  });

  it('--out writes the output to a file and exits 0', async () => {
    const out = join(root, 'out', 'tiers.csv');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(
        await queryCommand.run([
          'SELECT DISTINCT tier FROM predictions ORDER BY 1',
          '--format',
          'csv',
          '--out',
          out,
          '--root',
          root,
        ]),
      ).toBe(0);
      expect(log).toHaveBeenCalledWith(`3 row(s) → ${out}`);
    } finally {
      log.mockRestore();
    }
    expect(parseAthenaCsv(readFileSync(out, 'utf8')).rows).toEqual([['High'], ['Low'], ['Medium']]);
  });

  it('formatTable pads by the widest cell and escapes line breaks', () => {
    const text = formatTable(
      {
        columns: [
          { name: 'k', type: 'varchar', precision: 0, scale: 0 },
          { name: 'n', type: 'bigint', precision: 19, scale: 0 },
        ],
        rows: [
          ['two\nlines', '7'],
          ['x', '1234'],
        ],
      },
      10,
    );
    expect(text).toBe(
      ['k              n', '----------  ----', 'two\\nlines     7', 'x           1234', '(2 rows)', ''].join('\n'),
    );
  });
});
