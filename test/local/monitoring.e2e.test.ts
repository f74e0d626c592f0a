/**
 * End to end, offline: state-machines/monitoring.asl.json on the local runtime with the real stand-ins (Athena on
 * DuckDB, the drift and monitoring Lambdas in-process, SNS and the condition store as local files). A model's
 * drift baseline (deciles of a training snapshot, as the evaluation job writes it) is compared with a scoring run:
 * - an unchanged population raises no alert and starts nothing;
 * - a shifted one (a new acquisition channel, higher spend, lower predictions) raises Medium drift alerts and
 *   starts the training pipeline with the reason; a second drifted run inside the cool-down starts nothing and
 *   records why;
 * - a model without a baseline fails with an alert.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import type { LakeTableLike } from '../../local/athena/catalog.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { writeParquetTable } from '../sql/lake-fixture.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from './helpers/feature-fixture.js';

const TRAINING_CUTOFF = '2023-01-01';
const SCORING_DATE = '2024-06-30';
const MODEL = 'clv-m-monitoring';
const CUSTOMERS = 400;
const NUMERIC = ['recency_days', 'repeat_frequency', 'monetary_total_net', 'spend_90d', 'sessions_90d', 'tenure_days'];
const CATEGORICAL = ['country', 'acquisition_channel'];

type Row = Record<string, unknown>;

const predicted = (r: Row): number => Number(r.spend_365d) * 1.2 + 10;

function quantile(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/** Baseline rows of one numeric feature: decile edges (duplicates collapsed), open ends, a NULL bin. */
function numericBaseline(feature: string, values: (number | null)[]): string[][] {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const edges =
    present.length === 0
      ? []
      : [...new Set([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => quantile(present, k / 10)))].sort((a, b) => a - b);
  const bounds = [-1e308, ...edges, 1e308];
  const rows: string[][] = [];
  for (let b = 0; b < bounds.length - 1; b++) {
    const lo = bounds[b] as number;
    const hi = bounds[b + 1] as number;
    const count = present.filter((v) => v >= lo && v < hi).length;
    rows.push([MODEL, feature, 'numeric', String(b), String(lo), String(hi), '', String(count)]);
  }
  rows.push([MODEL, feature, 'numeric', String(bounds.length - 1), '', '', '', String(values.length - present.length)]);
  return rows;
}

function categoricalBaseline(feature: string, values: (string | null)[]): string[][] {
  const categories = [...new Set(values.filter((v): v is string => v !== null))].sort();
  const rows = categories.map((c, i) => [
    MODEL,
    feature,
    'categorical',
    String(i),
    '',
    '',
    c,
    String(values.filter((v) => v === c).length),
  ]);
  rows.push([MODEL, feature, 'categorical', String(categories.length), '', '', '__other__', '0']);
  rows.push([
    MODEL,
    feature,
    'categorical',
    String(categories.length + 1),
    '',
    '',
    '',
    String(values.filter((v) => v === null).length),
  ]);
  return rows;
}

function writeBaseline(root: string, training: Row[]): void {
  const rows = [
    ...NUMERIC.flatMap((f) =>
      numericBaseline(
        f,
        training.map((r) => (r[f] === null ? null : Number(r[f]))),
      ),
    ),
    ...numericBaseline('predicted_revenue_12m', training.map(predicted)),
    ...CATEGORICAL.flatMap((f) =>
      categoricalBaseline(
        f,
        training.map((r) => (r[f] as string | null) ?? null),
      ),
    ),
  ];
  const dir = path.join(root, 'clv-local-gold', 'drift_baselines');
  fs.mkdirSync(dir, { recursive: true });
  const header = 'model_version,feature,kind,bin,lower,upper,category,baseline_count';
  fs.writeFileSync(path.join(dir, `${MODEL}.csv`), `${[header, ...rows.map((r) => r.join(','))].join('\n')}\n`);
}

/** A scoring run of `rows` at SCORING_DATE: offline-store snapshot, predictions partition, batch-scoring rows. */
async function writeScoringRun(root: string, rows: Row[], scale = 1): Promise<void> {
  await writeOfflineSnapshot(root, offlineStoreTable(), SCORING_DATE, rows);
  const table = (name: string) => lakeTable(name) as unknown as LakeTableLike;
  await writeParquetTable(
    root,
    table('predictions'),
    rows.map((r) => ({
      customer_id: String(r.customer_id),
      predicted_revenue_12m: predicted(r) * scale,
      churn_probability: 0.3,
      clv_score: 50,
      tier: 'Medium',
      reasons_method: 'none',
      scoring_date: SCORING_DATE,
      model_version: MODEL,
    })),
  );
  await writeParquetTable(root, table('monitoring_metrics'), [
    {
      run_id: 'scoring-run',
      pipeline: 'batch-scoring',
      model_version: MODEL,
      metric: 'rows_scored',
      feature: null,
      value: rows.length,
      details: '{}',
      created_at: `${SCORING_DATE}T07:00:00Z`,
      run_date: SCORING_DATE,
    },
  ]);
  // silver transactions (none in the proxy windows: the proxy has no run old enough and reports no_run)
  await writeParquetTable(root, table('silver_transactions'), [
    {
      invoice_id: 'i-1',
      customer_id: 'C00000',
      invoice_ts: '2024-06-01 10:00:00',
      quantity: 1,
      amount: 10,
      is_cancellation: false,
      is_return: false,
      is_non_product: false,
      dt: '2024-06-01',
    },
  ]);
}

function drifted(rows: Row[]): Row[] {
  return rows.map((r, i) => ({
    ...r,
    // a new channel brings 60% of the customers; they spend three times as much in 90 days
    acquisition_channel: i % 5 < 3 ? 'paid_social' : r.acquisition_channel,
    spend_90d: Number(r.spend_90d) * 3,
  }));
}

async function setUp(name: string, current: Row[], scale: number): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `monitoring-e2e-${name}-`));
  writeBaseline(root, featureRows(TRAINING_CUTOFF, CUSTOMERS, 11, false));
  await writeScoringRun(root, current, scale);
  return root;
}

const run = (root: string, name: string, input: Record<string, unknown>) =>
  runLocal({ stateMachine: 'monitoring', input: input as never, root, executionName: name, waits: 'none' });

function messages(root: string): Record<string, unknown>[] {
  const file = path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse((JSON.parse(l) as { Message: string }).Message) as Record<string, unknown>);
}

function executions(root: string, machine: string): string[] {
  const dir = path.join(root, '_local', 'executions', machine);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

async function metricRows(root: string): Promise<Record<string, unknown>[]> {
  const glob = path.join(root, 'clv-local-gold', 'monitoring_metrics', '**', '*.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(
    `SELECT * REPLACE (CAST(run_date AS VARCHAR) AS run_date) FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true) WHERE pipeline = 'monitoring'`,
  );
  const rows = reader.getRowObjects() as Record<string, unknown>[];
  conn.closeSync();
  db.closeSync();
  return rows;
}

describe('monitoring pipeline, unchanged population', () => {
  let root = '';
  let result: LocalRunResult;

  beforeAll(async () => {
    root = await setUp('calm', featureRows(SCORING_DATE, CUSTOMERS, 12, false), 1);
    result = await run(root, 'monitoring-calm', { scoring_date: SCORING_DATE, model_version: MODEL });
  }, 120_000);

  it('succeeds, raises no drift alert and starts no retraining', () => {
    expect(result.status, `${result.error}: ${result.cause}`).toBe('SUCCEEDED');
    const drift = messages(root).filter((m) => m.event === 'drift');
    expect(drift.length).toBe(9);
    expect(drift.filter((m) => m.status === 'firing' && m.severity === 'medium')).toEqual([]);
    expect(messages(root).some((m) => m.event === 'retraining_triggered')).toBe(false);
    expect(executions(root, 'training-pipeline')).toEqual([]);
  });

  it('writes one row per feature and metric to monitoring_metrics', async () => {
    const rows = await metricRows(root);
    const psi = rows.filter((r) => r.metric === 'psi');
    expect(psi.map((r) => r.feature).sort()).toEqual([...NUMERIC, ...CATEGORICAL, 'predicted_revenue_12m'].sort());
    expect(rows.every((r) => r.run_date === SCORING_DATE && r.model_version === MODEL)).toBe(true);
  });
});

describe('monitoring pipeline, drifted population', () => {
  let root = '';
  let first: LocalRunResult;
  let second: LocalRunResult;

  beforeAll(async () => {
    root = await setUp('drift', drifted(featureRows(SCORING_DATE, CUSTOMERS, 12, false)), 0.3);
    first = await run(root, 'monitoring-drift-1', {
      source: 'clv.platform',
      'detail-type': 'ScoringCompleted',
      detail: { scoring_date: SCORING_DATE, model_version: MODEL, environment: 'local' },
    });
    second = await run(root, 'monitoring-drift-2', { scoring_date: SCORING_DATE, model_version: MODEL });
  }, 300_000);

  it('raises Medium drift alerts for the shifted features and the predictions', () => {
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    const firing = messages(root)
      .filter((m) => m.event === 'drift' && m.status === 'firing' && m.severity === 'medium')
      .map((m) => m.feature);
    expect(firing).toEqual(expect.arrayContaining(['acquisition_channel', 'spend_90d', 'predicted_revenue_12m']));
    const alert = messages(root).find((m) => m.feature === 'acquisition_channel' && m.status === 'firing') ?? {};
    expect(alert).toMatchObject({ pipeline: 'monitoring', metric: 'psi', threshold: 0.25, model_version: MODEL });
    expect(Number(alert.value)).toBeGreaterThan(0.25);
  });

  it('starts one retraining run with the reason, and records it', async () => {
    const triggered = messages(root).filter((m) => m.event === 'retraining_triggered');
    expect(triggered).toHaveLength(1);
    expect(String(triggered[0]?.summary)).toMatch(/prediction PSI/);
    const started = executions(root, 'training-pipeline');
    expect(started).toHaveLength(1);
    const history = JSON.parse(
      fs.readFileSync(path.join(root, '_local', 'executions', 'training-pipeline', started[0] as string), 'utf8'),
    ) as { events: { type: string; executionStartedEventDetails?: { input: string } }[] };
    const input = JSON.parse(
      history.events.find((e) => e.type === 'ExecutionStarted')?.executionStartedEventDetails?.input ?? '{}',
    ) as { triggered_by?: Record<string, string> };
    expect(input.triggered_by).toMatchObject({ pipeline: 'monitoring', run_date: SCORING_DATE });
    const rows = (await metricRows(root)).filter((r) => r.metric === 'retraining_triggered');
    expect(rows.map((r) => [r.run_id, r.value])).toEqual(
      expect.arrayContaining([
        ['monitoring-drift-1', 1],
        ['monitoring-drift-2', 0],
      ]),
    );
  });

  it('a second drifted run inside the cool-down starts nothing and says who holds it', async () => {
    expect(second.status, `${second.error}: ${second.cause}`).toBe('SUCCEEDED');
    expect(executions(root, 'training-pipeline')).toHaveLength(1);
    const skipped = (await metricRows(root)).find((r) => r.metric === 'retraining_triggered' && r.value === 0);
    const details = JSON.parse(String(skipped?.details)) as Record<string, unknown>;
    expect(details).toMatchObject({ skipped_because: 'cool-down' });
    expect(String(details.cooldown_held_by)).toContain('monitoring-drift-1');
  });
});

describe('monitoring pipeline, model without a baseline', () => {
  it('fails with an alert naming the pipeline', async () => {
    const root = await setUp('nobaseline', featureRows(SCORING_DATE, 60, 3, false), 1);
    const result = await run(root, 'monitoring-nobaseline', {
      scoring_date: SCORING_DATE,
      model_version: 'clv-unknown',
    });
    expect(result.status).toBe('FAILED');
    const failure = messages(root).find((m) => m.event === 'pipeline_failed');
    expect(failure).toMatchObject({ pipeline: 'monitoring', severity: 'high' });
  }, 120_000);
});

describe('monitoring pipeline input', () => {
  it('refuses a hand input without a model version, naming the field', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'monitoring-e2e-input-'));
    const result = await run(root, 'monitoring-bad', { scoring_date: SCORING_DATE });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidPipelineInput');
    expect(result.cause).toMatch(/model_version/);
  });
});
