import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AggregateRow,
  Aggregates,
  parseAggregatesCsv,
  previousDay,
} from '../../lambdas/quality-gate/aggregates.js';
import { evaluateSuite, summarize } from '../../lambdas/quality-gate/evaluate.js';
import { type Expectation, normalizeType, TRANSACTIONS_SUITE } from '../../lambdas/quality-gate/expectations.js';
import { runGate } from '../../lambdas/quality-gate/gate.js';
import { handler } from '../../lambdas/quality-gate/handler.js';
import { parseCsv } from '../../lambdas/shared/csv.js';
import { DirectoryObjectStore } from '../../lambdas/shared/object-store.js';
import { MemoryObjectStore } from './helpers/memory-store.js';

type Row = AggregateRow;
const TYPES: Record<string, string> = {
  invoice_id: 'varchar',
  customer_id: 'varchar',
  invoice_ts: 'timestamp(3)',
  sku: 'varchar',
  quantity: 'integer',
  unit_price: 'double',
  amount: 'double',
  amount_raw: 'double',
  currency_original: 'varchar',
  is_cancellation: 'boolean',
  is_return: 'boolean',
  is_gift_card: 'boolean',
  is_non_product: 'boolean',
  is_outlier_capped: 'boolean',
  country: 'varchar',
  channel: 'varchar',
  email_hash: 'varchar',
  name_hash: 'varchar',
};

/** Healthy aggregates of one period (what Athena returns for a normal day). */
function period(p: 'current' | 'previous', rows = 1000): Row[] {
  const r = (metric: Row['metric'], column_name: string, value: number | null, category = ''): Row => ({
    period: p,
    metric,
    column_name,
    category,
    value,
  });
  return [
    r('row_count', '', rows),
    ...['invoice_id', 'invoice_ts', 'sku', 'quantity', 'unit_price', 'amount', 'currency_original'].map((c) =>
      r('null_count', c, 0),
    ),
    r('null_count', 'customer_id', rows * 0.1),
    r('min', 'quantity', -5),
    r('max', 'quantity', 48),
    r('min', 'unit_price', 0.1),
    r('max', 'unit_price', 99),
    r('min', 'amount', -120),
    r('max', 'amount', 900),
    r('mean', 'amount', 21.5),
    r('distinct_count', 'customer_id', rows / 4),
    r('distinct_count', 'sku', rows / 2),
    r('distinct_count', 'invoice_id', rows / 10),
    r('category_count', 'currency_original', rows * 0.8, 'GBP'),
    r('category_count', 'currency_original', rows * 0.2, 'EUR'),
    r('category_count', 'country', rows, 'United Kingdom'),
    r('category_count', 'channel', rows * 0.5, 'organic'),
    r('category_count', 'channel', rows * 0.5, 'email'),
    ...Object.entries(TYPES).map(([c, t]) => r('column_type', c, rows, t)),
  ];
}
const healthy = (): Row[] => [...period('current'), ...period('previous')];
const set = (rows: Row[], p: Row['period'], metric: Row['metric'], column: string, value: number | null) =>
  rows.map((r) => (r.period === p && r.metric === metric && r.column_name === column ? { ...r, value } : r));

const evaluate = (rows: Row[]) => evaluateSuite(TRANSACTIONS_SUITE, new Aggregates(rows));
const result = (rows: Row[], id: string) => {
  const found = evaluate(rows).find((r) => r.id === id);
  if (!found) throw new Error(`no expectation ${id}`);
  return found;
};

const toCsv = (rows: Row[], date = '2024-03-01') =>
  [
    '"dt","metric","column_name","category","value"',
    ...rows.map((r) =>
      [
        r.period === 'current' ? date : previousDay(date),
        r.metric,
        r.column_name,
        r.category,
        r.value === null ? '' : String(r.value),
      ]
        .map((v) => `"${v.replaceAll('"', '""')}"`)
        .join(','),
    ),
  ].join('\n');

describe('quality gate: a healthy day passes every expectation', () => {
  it('passes with no failure and nothing skipped', () => {
    const results = evaluate(healthy());
    expect(results.filter((r) => r.status !== 'pass')).toEqual([]);
    expect(summarize(results).status).toBe('pass');
  });

  it('covers every expectation type with both severities declared', () => {
    const kinds = new Set(TRANSACTIONS_SUITE.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(
      [
        'allowed_categories',
        'cardinality_change',
        'column_type',
        'mean_band',
        'null_rate',
        'row_count_change',
        'row_count_min',
        'value_range',
      ].sort(),
    );
  });
});

/** For each expectation type: one mutation that breaks it, with the expected status and severity. */
const BREAKS: { name: string; id: string; mutate: (rows: Row[]) => Row[]; gate: 'warn' | 'fail'; message: RegExp }[] = [
  {
    name: 'schema and types: quantity arrives as varchar',
    id: 'type.quantity',
    mutate: (rows) =>
      rows.map((r) => (r.metric === 'column_type' && r.column_name === 'quantity' ? { ...r, category: 'varchar' } : r)),
    gate: 'fail',
    message: /quantity is string, expected integer/,
  },
  {
    name: 'schema: a column is missing from the aggregates',
    id: 'type.email_hash',
    mutate: (rows) => rows.filter((r) => !(r.metric === 'column_type' && r.column_name === 'email_hash')),
    gate: 'fail',
    message: /not in the quality aggregates/,
  },
  {
    name: 'row count: empty partition',
    id: 'rows.non_empty',
    mutate: (rows) => rows.filter((r) => r.period !== 'current'),
    gate: 'fail',
    message: /only 0 rows/,
  },
  {
    name: 'row count against the previous day: 3x',
    id: 'rows.day_over_day',
    mutate: (rows) => set(rows, 'current', 'row_count', '', 3000),
    gate: 'warn',
    message: /changed 3.00x/,
  },
  {
    name: 'null rate: invoice_ts has nulls',
    id: 'nulls.invoice_ts',
    mutate: (rows) => set(rows, 'current', 'null_count', 'invoice_ts', 1),
    gate: 'fail',
    message: /invoice_ts is null in 0.10% of rows/,
  },
  {
    name: 'null rate: too many anonymous transactions',
    id: 'nulls.customer_id',
    mutate: (rows) => set(rows, 'current', 'null_count', 'customer_id', 400),
    gate: 'warn',
    message: /customer_id is null in 40.00%/,
  },
  {
    name: 'value range: negative unit price',
    id: 'range.unit_price',
    mutate: (rows) => set(rows, 'current', 'min', 'unit_price', -1),
    gate: 'fail',
    message: /min -1 < 0/,
  },
  {
    name: 'value range: huge amount',
    id: 'range.amount',
    mutate: (rows) => set(rows, 'current', 'max', 'amount', 2_000_000),
    gate: 'warn',
    message: /max 2000000 > 1000000/,
  },
  {
    name: 'allowed categories: an unconvertible currency',
    id: 'categories.currency_original',
    mutate: (rows) => [
      ...rows,
      { period: 'current', metric: 'category_count', column_name: 'currency_original', category: 'JPY', value: 3 },
    ],
    gate: 'fail',
    message: /'JPY' \(3 rows\)/,
  },
  {
    name: 'allowed categories: a new sales channel (drift)',
    id: 'categories.channel',
    mutate: (rows) => [
      ...rows,
      { period: 'current', metric: 'category_count', column_name: 'channel', category: 'tiktok_shop', value: 50 },
    ],
    gate: 'warn',
    message: /'tiktok_shop' \(50 rows\)/,
  },
  {
    name: 'cardinality change: distinct customers collapse',
    id: 'cardinality.customer_id',
    mutate: (rows) => set(rows, 'current', 'distinct_count', 'customer_id', 10),
    gate: 'warn',
    message: /distinct customer_id changed 0.04x/,
  },
  {
    name: 'mean within a band: mean amount too high',
    id: 'mean.amount',
    mutate: (rows) => set(rows, 'current', 'mean', 'amount', 750),
    gate: 'warn',
    message: /mean amount 750 is outside \[0, 500\]/,
  },
];

describe('quality gate: each expectation type fails with its severity', () => {
  it.each(BREAKS)('$name → $gate', ({ id, mutate, gate, message }) => {
    const rows = mutate(healthy());
    const r = result(rows, id);
    expect(r.status).toBe('fail');
    expect(r.severity).toBe(gate === 'fail' ? 'critical' : 'warning');
    expect(r.message).toMatch(message);
    expect(summarize(evaluate(rows)).status).toBe(gate);
  });

  it('a critical failure wins over warnings', () => {
    const rows = set(set(healthy(), 'current', 'mean', 'amount', 750), 'current', 'min', 'unit_price', -1);
    expect(summarize(evaluate(rows))).toMatchObject({ status: 'fail', failedCritical: 1, failedWarning: 1 });
  });
});

describe('quality gate: comparisons without a baseline', () => {
  it('skips day-over-day checks on the first day and still passes', () => {
    const results = evaluate(period('current'));
    const skipped = results.filter((r) => r.status === 'skipped').map((r) => r.id);
    expect(skipped.sort()).toEqual(['cardinality.customer_id', 'cardinality.sku', 'rows.day_over_day']);
    expect(summarize(results).status).toBe('pass');
  });

  it('refuses a suite with duplicate ids', () => {
    const suite = [TRANSACTIONS_SUITE[0], TRANSACTIONS_SUITE[0]] as Expectation[];
    expect(() => evaluateSuite(suite, new Aggregates(healthy()))).toThrow(/unique, repeated: type.invoice_id/);
  });
});

describe('quality gate: engine type names', () => {
  it.each([
    ['varchar', 'string'],
    ['VARCHAR', 'string'],
    ['timestamp(3)', 'timestamp'],
    ['TIMESTAMP WITH TIME ZONE', 'timestamp'],
    ['INTEGER', 'integer'],
    ['bigint', 'bigint'],
    ['decimal(10,2)', 'decimal'],
  ])('%s → %s', (engine, normalized) => expect(normalizeType(engine)).toBe(normalized));
});

describe('quality gate: the aggregates CSV', () => {
  it('parses Athena CSV (quoted fields, empty = NULL), maps dt to the period and names a bad row', () => {
    const header = '"dt","metric","column_name","category","value"\n';
    const rows = parseAggregatesCsv(
      `${header}"2024-03-01","min","amount","",""\n"2024-02-29","category_count","country","Côte ""d""","3"\n`,
      '2024-03-01',
    );
    expect(rows).toEqual([
      { period: 'current', metric: 'min', column_name: 'amount', category: '', value: null },
      { period: 'previous', metric: 'category_count', column_name: 'country', category: 'Côte "d"', value: 3 },
    ]);
    expect(() => parseAggregatesCsv(`${header}"2024-03-01","median","x","","1"\n`, '2024-03-01')).toThrow(
      /row 2 is invalid.*metric/s,
    );
    expect(() => parseAggregatesCsv(`${header}"2024-02-01","min","x","","1"\n`, '2024-03-01')).toThrow(
      /dt 2024-02-01 is neither the run date 2024-03-01 nor 2024-02-29/,
    );
    expect(() => parseAggregatesCsv('"dt","metric"\n"a"\n', '2024-03-01')).toThrow(
      /row 2 has 1 fields, the header has 2/,
    );
  });

  it('finds the previous day across month and leap-year ends', () => {
    expect(previousDay('2024-03-01')).toBe('2024-02-29');
    expect(previousDay('2023-03-01')).toBe('2023-02-28');
    expect(previousDay('2024-01-01')).toBe('2023-12-31');
  });

  it('parses CRLF line ends and commas inside quotes', () => {
    expect(parseCsv('a,b\r\n"x,y",2\r\n')).toEqual([
      ['a', 'b'],
      ['x,y', '2'],
    ]);
  });
});

describe('quality gate: documents and the Lambda', () => {
  const input = {
    date: '2024-03-01',
    runId: 'exec-1',
    aggregatesUri: 's3://clv-dev-athena/results/q-1.csv',
    reportPrefix: 's3://clv-dev-artifacts/quality/silver_transactions/',
  };

  it('writes result.json and report.html under dt=<date>/ and answers with the status', async () => {
    const store = new MemoryObjectStore();
    const rows = set(healthy(), 'current', 'mean', 'amount', 750);
    await store.putText(input.aggregatesUri, toCsv(rows), 'text/csv');
    const out = await runGate(input, { store, now: () => new Date('2024-03-02T06:00:00Z') });
    expect(out).toMatchObject({
      status: 'warn',
      resultUri: 's3://clv-dev-artifacts/quality/silver_transactions/dt=2024-03-01/result.json',
      reportUri: 's3://clv-dev-artifacts/quality/silver_transactions/dt=2024-03-01/report.html',
      failures: [{ id: 'mean.amount', severity: 'warning' }],
    });
    const doc = JSON.parse(await store.getText(out.resultUri));
    expect(doc).toMatchObject({ date: '2024-03-01', runId: 'exec-1', evaluatedAt: '2024-03-02T06:00:00.000Z' });
    expect(doc.results).toHaveLength(TRANSACTIONS_SUITE.length);
    const html = store.objects.get(out.reportUri);
    expect(html?.contentType).toMatch(/text\/html/);
    expect(html?.body).toContain('<strong>WARN</strong>');
    expect(html?.body).toContain('mean.amount');
  });

  it('escapes data in the HTML report', async () => {
    const store = new MemoryObjectStore();
    const rows: Row[] = [
      ...healthy(),
      { period: 'current', metric: 'category_count', column_name: 'country', category: '<script>x</script>', value: 1 },
    ];
    await store.putText(input.aggregatesUri, toCsv(rows), 'text/csv');
    const out = await runGate(input, { store });
    const html = store.objects.get(out.reportUri)?.body ?? '';
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('the handler rejects an invalid input naming the field', async () => {
    await expect(handler({ ...input, date: '2024-3-1' })).rejects.toThrow(/invalid input.*date/s);
  });

  it('the handler uses the local directory store when CLV_LOCAL_ROOT is set', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-'));
    const store = new DirectoryObjectStore(root);
    await store.putText(input.aggregatesUri, toCsv(healthy()));
    process.env.CLV_LOCAL_ROOT = root;
    try {
      const out = await handler(input);
      expect(out.status).toBe('pass');
      expect(
        fs.existsSync(path.join(root, 'clv-dev-artifacts/quality/silver_transactions/dt=2024-03-01/report.html')),
      ).toBe(true);
    } finally {
      delete process.env.CLV_LOCAL_ROOT;
    }
  });

  it('the handler follows CLV_LOCAL_ROOT from call to call (two local runs in one process)', async () => {
    const roots = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'gate-')));
    const report = (root: string) =>
      path.join(root, 'clv-dev-artifacts/quality/silver_transactions/dt=2024-03-01/report.html');
    try {
      for (const root of roots) {
        await new DirectoryObjectStore(root).putText(input.aggregatesUri, toCsv(healthy()));
        process.env.CLV_LOCAL_ROOT = root;
        fs.rmSync(report(roots[0] as string), { force: true });
        expect((await handler(input)).status).toBe('pass');
        expect(fs.existsSync(report(root))).toBe(true);
      }
      // the second call wrote under the second root only
      expect(fs.existsSync(report(roots[0] as string))).toBe(false);
    } finally {
      delete process.env.CLV_LOCAL_ROOT;
    }
  });
});
