/**
 * The data pipeline's input handling on the local runtime, without Spark.
 * - Refusals (ValidateInput: error InvalidPipelineInput, the cause naming the field) and the first Glue call: the Glue calls are failed by fault injection before any job
 *   starts, so the executions end in the alerting failure path.
 * - Whole paths (customers, feature_snapshots): the Glue stand-in runs a stand-in "Python" that exits 0 at once
 *   (CLV_PYTHON), so every Glue task succeeds without running a job; a small valid silver transactions partition
 *   for the date and the day before is seeded so the real quality aggregates (DuckDB) and quality gate pass.
 *   The Glue arguments are read from the execution history (TaskScheduled).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../local/history.js';
import type { Json } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';

const roots: string[] = [];

function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-dp-input-'));
  roots.push(root);
  return root;
}

/** A run whose Glue calls all fail before any job starts. */
async function run(input: Json): Promise<LocalRunResult> {
  return runLocal({
    stateMachine: 'data-pipeline',
    root: tempRoot(),
    input,
    waits: 'none',
    failures: { 'glue:startJobRun.sync': 10 },
  });
}

const DATE = '2024-03-01';
let fakePython = '';

/** Writes a valid silver transactions partition (dt=day, delivered that day) of `rows` lines. */
async function seedSilverDay(root: string, day: string, rows: number): Promise<void> {
  const dir = path.join(root, 'clv-local-curated', 'silver', 'transactions', `dt=${day}`, `ingest_dt=${day}`);
  fs.mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (
      SELECT 'INV' || i AS invoice_id, 'C' || (i % 7) AS customer_id,
        TIMESTAMP '${day} 10:00:00' + to_minutes(i) AS invoice_ts, '85123A' AS sku, CAST(1 + i % 3 AS INTEGER) AS quantity,
        2.5 AS unit_price, 2.5 * (1 + i % 3) AS amount, 2.5 * (1 + i % 3) AS amount_raw, 'GBP' AS currency_original,
        false AS is_cancellation, false AS is_return, false AS is_gift_card, false AS is_non_product,
        false AS is_outlier_capped, 'United Kingdom' AS country, 'organic' AS channel, 'e' || i AS email_hash,
        'n' || i AS name_hash, 'seed.csv.gz' AS source_file, 'seed' AS ingest_run_id
      FROM range(${rows}) t(i)
    ) TO '${path.join(dir, 'part-0.parquet')}' (FORMAT PARQUET)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A run in which every Glue job "succeeds" at once (no Spark) and the quality gate passes on seeded silver. */
async function runThrough(input: Json): Promise<LocalRunResult> {
  const root = tempRoot();
  await seedSilverDay(root, '2024-02-29', 20);
  await seedSilverDay(root, DATE, 20);
  return runLocal({
    stateMachine: 'data-pipeline',
    root,
    input,
    waits: 'none',
    env: { CLV_PYTHON: fakePython },
  });
}

/** The state a *StateEntered event enters (its details are its one *EventDetails field, whatever the key). */
function enteredName(e: HistoryEvent): string {
  const key = Object.keys(e).find((k) => k.endsWith('EventDetails'));
  return (key === undefined ? undefined : (e[key] as { name?: string }).name) ?? '';
}

/** The states entered, in order, Map iterations included. */
function entered(result: LocalRunResult): string[] {
  return result.history.filter((e) => e.type.endsWith('StateEntered')).map(enteredName);
}

/** The Arguments of every Glue TaskScheduled event, by state, in order. */
function glueCalls(result: LocalRunResult): { state: string; args: Record<string, string> }[] {
  const calls: { state: string; args: Record<string, string> }[] = [];
  let state = '';
  for (const e of result.history) {
    if (e.type === 'TaskStateEntered') state = enteredName(e);
    if (e.type === 'TaskScheduled') {
      const d = e.taskScheduledEventDetails as { resource: string; parameters: string };
      if (d.resource.startsWith('startJobRun')) {
        calls.push({ state, args: (JSON.parse(d.parameters) as { Arguments: Record<string, string> }).Arguments });
      }
    }
  }
  return calls;
}

beforeAll(() => {
  // Stands in for .venv/bin/python: the Glue stand-in runs `<python> <script> --JOB_NAME ... --key value ...`.
  const dir = tempRoot();
  fakePython = path.join(dir, 'python-exit-0');
  fs.writeFileSync(fakePython, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
});

afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

describe('data pipeline input', () => {
  it.each([{ backfill_from: 'last year' }, { backfill_from: 20230101 }, { backfill_from: '2023-02-29' }])(
    'refuses a backfill_from that is not a date: %j',
    async (extra) => {
      const result = await run({ date: '2024-03-01', ...extra });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('InvalidPipelineInput');
      expect(result.cause).toContain('backfill_from: expected a date YYYY-MM-DD');
      expect(glueCalls(result)).toEqual([]);
      expect(entered(result)).toEqual(['ValidateInput', 'InvalidInput']);
    },
  );

  it('the daily path runs IngestTransactions with the date only', async () => {
    const result = await run({ date: '2024-03-01' });
    expect(result.error).toBe('DataPipelineFailed');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual(['IngestTransactions', 'IngestTransactions', 'IngestTransactions']);
    expect(calls[0]?.args['--date']).toBe('2024-03-01');
    expect(calls[0]?.args).not.toHaveProperty('--date-from');
  });

  it('a backfill runs IngestTransactionsBackfill over [backfill_from, date]', async () => {
    const result = await run({ date: '2024-12-31', backfill_from: '2023-01-01' });
    expect(result.error).toBe('DataPipelineFailed');
    const calls = glueCalls(result);
    expect(calls[0]?.state).toBe('IngestTransactionsBackfill');
    expect(calls[0]?.args).toMatchObject({ '--date': '2024-12-31', '--date-from': '2023-01-01' });
  });

  it.each<[string, Json]>([
    ['not an array', { feature_snapshots: '2023-01-01' }],
    ['an object', { feature_snapshots: { cutoff: '2023-01-01', with_labels: 'true' } }],
    ['empty', { feature_snapshots: [] }],
    ['more than 6 items', { feature_snapshots: Array(7).fill({ cutoff: '2023-01-01', with_labels: 'true' }) }],
    ['an item without a cutoff', { feature_snapshots: [{ with_labels: 'true' }] }],
    [
      'a later item whose cutoff is not a date',
      {
        feature_snapshots: [
          { cutoff: '2023-01-01', with_labels: 'true' },
          { cutoff: 'next year', with_labels: 'true' },
        ],
      },
    ],
    ['a cutoff that is not a string', { feature_snapshots: [{ cutoff: 20230101, with_labels: 'true' }] }],
    ['an item that is a bare date', { feature_snapshots: ['2023-01-01'] }],
    ['with_labels missing', { feature_snapshots: [{ cutoff: '2023-01-01' }] }],
    ['with_labels a boolean', { feature_snapshots: [{ cutoff: '2023-01-01', with_labels: true }] }],
    ['with_labels another string', { feature_snapshots: [{ cutoff: '2023-01-01', with_labels: 'yes' }] }],
    [
      'together with the single-snapshot cutoff',
      { cutoff: '2023-01-01', feature_snapshots: [{ cutoff: '2023-01-01', with_labels: 'true' }] },
    ],
    ['customers not a boolean', { customers: 'true' }],
    ['an unknown field', { customer: true }],
    ['scheduledTime together with date', { scheduledTime: '2024-03-01T23:45:00Z' }],
  ])('refuses feature_snapshots/customers input: %s', async (_, extra) => {
    const result = await run({ date: DATE, ...(extra as Record<string, Json>) });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidPipelineInput');
    const field = Object.keys(extra as object).find((k) => k !== 'feature_snapshots') ?? 'feature_snapshots';
    expect(result.cause).toMatch(new RegExp(`data-pipeline: invalid input: .*(${field}|date)`));
    expect(glueCalls(result)).toEqual([]);
  });

  it('a scheduled run on another weekday builds the one unlabelled snapshot of its UTC day', async () => {
    // 2024-03-01 is a Friday; the local settings build the training snapshots on Saturdays (6).
    const result = await runThrough({ scheduledTime: `${DATE}T23:45:00Z` });
    expect(result.status).toBe('SUCCEEDED');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual(['IngestTransactions', 'SessionizeClickstream', 'BuildFeatures']);
    expect(calls[0]?.args).toMatchObject({ '--date': DATE, '--layout': 'generic', '--run-id': result.name });
    expect(calls[2]?.args).toMatchObject({ '--cutoff': DATE, '--with-labels': 'false' });
  });

  it("a scheduled run on the training-snapshots weekday also builds the next training run's labelled snapshots", async () => {
    const root = tempRoot();
    await seedSilverDay(root, '2024-03-01', 20);
    await seedSilverDay(root, '2024-03-02', 20);
    const result = await runLocal({
      stateMachine: 'data-pipeline',
      root,
      input: { scheduledTime: '2024-03-02T23:45:00Z' }, // a Saturday
      waits: 'none',
      env: { CLV_PYTHON: fakePython },
    });
    expect(result.status).toBe('SUCCEEDED');
    const builds = glueCalls(result).filter((c) => c.state === 'BuildFeatureSnapshot');
    // rollingCutoffs(2024-03-02): test 2023-03-03 (365 days back over 2024-02-29), validation 91 days before, training 91 before that,
    // and one more stacked snapshot 91 days earlier; then the day's scoring snapshot.
    expect(builds.map((c) => [c.args['--cutoff'], c.args['--with-labels']])).toEqual([
      ['2022-06-03', 'true'],
      ['2022-09-02', 'true'],
      ['2022-12-02', 'true'],
      ['2023-03-03', 'true'],
      ['2024-03-02', 'false'],
    ]);
  });

  it('feature_snapshots runs build_features once per item, in order, with its cutoff and with_labels', async () => {
    const snapshots = [
      { cutoff: '2023-01-01', with_labels: 'true' },
      { cutoff: '2023-07-01', with_labels: 'true' },
      { cutoff: '2024-01-01', with_labels: 'false' },
    ];
    const result = await runThrough({ date: DATE, feature_snapshots: snapshots });
    expect(`${result.error ?? ''} ${result.cause ?? ''}`.trim()).toBe('');
    expect(result.status).toBe('SUCCEEDED');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual([
      'IngestTransactions',
      'SessionizeClickstream',
      'BuildFeatureSnapshot',
      'BuildFeatureSnapshot',
      'BuildFeatureSnapshot',
    ]);
    const builds = calls.filter((c) => c.state === 'BuildFeatureSnapshot');
    expect(builds.map((c) => ({ cutoff: c.args['--cutoff'], with_labels: c.args['--with-labels'] }))).toEqual(
      snapshots,
    );
    for (const b of builds) {
      expect(b.args).toMatchObject({ '--run-id': result.name, '--snapshots-uri': 's3://clv-local-features/snapshots' });
    }
    expect(entered(result)).not.toContain('BuildFeatures');
    expect(entered(result)[0]).toBe('ValidateInput');
    const out = result.output as {
      date: string;
      snapshots: { cutoff: string; with_labels: string; jobRunId: string }[];
    };
    expect(out.date).toBe(DATE);
    expect(out.snapshots.map(({ cutoff, with_labels }) => ({ cutoff, with_labels }))).toEqual(snapshots);
    const runIds = out.snapshots.map((s) => s.jobRunId);
    expect(new Set(runIds).size).toBe(3);
    for (const id of runIds) expect(id).toMatch(/^jr_[0-9a-f]{64}$/);
    expect(out.snapshots.every((s) => (s as { state?: string }).state === 'SUCCEEDED')).toBe(true);
  });

  it('a failing snapshot build (after its retries) alerts and fails the execution', async () => {
    const root = tempRoot();
    await seedSilverDay(root, '2024-02-29', 20);
    await seedSilverDay(root, DATE, 20);
    const result = await runLocal({
      stateMachine: 'data-pipeline',
      root,
      input: { date: DATE, feature_snapshots: [{ cutoff: '2023-01-01', with_labels: 'true' }] },
      waits: 'none',
      env: { CLV_PYTHON: fakePython },
      failures: { build_features: 3 },
    });
    expect(result.error).toBe('DataPipelineFailed');
    expect(glueCalls(result).filter((c) => c.state === 'BuildFeatureSnapshot')).toHaveLength(3);
    expect(entered(result).slice(-2)).toEqual(['NotifyFailure', 'PipelineFailed']);
  });

  it('customers=true runs the ingest job with --dataset customers after transactions, before the quality aggregates', async () => {
    const result = await runThrough({ date: DATE, customers: true, clickstream: false });
    expect(result.status).toBe('SUCCEEDED');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual(['IngestTransactions', 'IngestCustomers', 'BuildFeatures']);
    expect(calls[1]?.args).toEqual({
      '--dataset': 'customers',
      '--date': DATE,
      '--landing-uri': 's3://clv-local-raw/landing',
      '--silver-uri': 's3://clv-local-curated/silver',
      '--quarantine-uri': 's3://clv-local-raw/quarantine',
      '--reports-uri': 's3://clv-local-artifacts/reports',
      '--run-id': result.name,
    });
    const states = entered(result);
    expect(states.indexOf('IngestCustomers')).toBeGreaterThan(states.indexOf('IngestTransactions'));
    expect(states.indexOf('IngestCustomers')).toBeLessThan(states.indexOf('QualityAggregates'));
  });

  it('customers=true with a backfill ingests every CRM extract dated in the range (--date-from)', async () => {
    const result = await runThrough({ date: DATE, backfill_from: '2024-02-29', customers: true });
    expect(result.status).toBe('SUCCEEDED');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual([
      'IngestTransactionsBackfill',
      'IngestCustomersBackfill',
      'SessionizeClickstreamBackfill',
      'BuildFeatures',
    ]);
    expect(calls[1]?.args).toMatchObject({
      '--dataset': 'customers',
      '--date': DATE,
      '--date-from': '2024-02-29',
    });
  });

  it('without customers and feature_snapshots the daily path is the old one, output included', async () => {
    const result = await runThrough({ date: DATE });
    expect(result.status).toBe('SUCCEEDED');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual(['IngestTransactions', 'SessionizeClickstream', 'BuildFeatures']);
    expect(calls[0]?.args).not.toHaveProperty('--dataset');
    expect(calls[2]?.args).toMatchObject({ '--cutoff': DATE, '--with-labels': 'false' });
    const states = entered(result);
    expect(states).not.toContain('IngestCustomers');
    expect(states).not.toContain('BuildFeatureSnapshots');
    expect(Object.keys(result.output as object).sort()).toEqual(['cutoff', 'date', 'quality', 'runId']);
    expect((result.output as { quality: { status: string } }).quality.status).toBe('pass');
  });
});
