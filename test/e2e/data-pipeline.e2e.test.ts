/**
 * End to end, offline: a generated shop (python -m datagen) goes through state-machines/data-pipeline.asl.json on
 * the local runtime in backfill mode — ingest_transactions and sessionize_clickstream over every delivery day in
 * one Glue run each, every dated CRM extract in the range, the quality aggregates (Athena on DuckDB) and the
 * quality-gate Lambda for the last day, and build_features with labels — then the training-set query reads the
 * snapshot back, with the customer attributes of the CRM extract at the cutoff (not a later one). The clickstream takes the AWS
 * path: the generator's events go through the Firehose transformation Lambda's core into the raw bucket.
 * Assertions reconcile counts from the generator's manifest to the reconciliation records and the written data.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSqlQuery } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { contractTables } from '../../local/athena/catalog.js';
import { runAthenaQuery } from '../../local/athena/engine.js';
import { projectPython } from '../../local/python.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { gzipLines, type ReplayCounts, replayClickstream } from './helpers/firehose-replay.js';

const START = '2023-01-01';
const MONTHS = 15;
/** Labels need the 365 days after the cutoff observed: the data ends 2024-03-31. */
const CUTOFF = '2023-03-01';
const EXECUTION = 'e2e-backfill';
/** CRM extracts every 2 months: 2023-03-01 (= the cutoff), 2023-05-01, ..., 2024-03-01, and 2024-04-01 (the end). */
const CRM_EXTRACT_MONTHS = 2;

interface ManifestFile {
  path: string;
  rows: number;
}
interface Manifest {
  counts: {
    transactions: { rows: number };
    clickstream: { events: number; events_valid: number; malformed: Record<string, number> };
  };
  files: ManifestFile[];
  crm_extracts: { dt: string; path: string; rows: number }[];
}
interface IngestRecord {
  date: string;
  landed_rows: number;
  silver_rows: number;
  quarantined_rows: number;
  duplicates_removed: number;
  balanced: boolean;
  status: string;
}
interface SessionizeRecord {
  date: string;
  landed_events: number;
  valid_events: number;
  quarantined_events: number;
  duplicates_removed: number;
  sessions: number;
  balanced: boolean;
  status: string;
}

let root = '';
let gen = '';
let manifest: Manifest;
let replay: ReplayCounts;
let endDate = '';
let run: LocalRunResult;

const dayOf = (p: string): string => /dt=(\d{4}-\d{2}-\d{2})/.exec(p)?.[1] ?? '';
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const reports = (job: string): string => path.join(root, 'clv-local-artifacts', 'reports', 'reconciliation', job);

function daysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** The last delivery day whose on-time file has a row with a customer id: the gate needs silver rows that day. */
function lastDayWithCustomerRows(): string {
  const files = manifest.files
    .filter((f) => f.path.startsWith('landing/transactions/') && !f.path.endsWith('_late.csv.gz') && f.rows > 0)
    .sort((a, b) => b.path.localeCompare(a.path));
  for (const f of files) {
    const [header, ...rows] = gzipLines(path.join(gen, f.path));
    const col = header?.split(',').indexOf('customer_id') ?? -1;
    if (rows.some((r) => (r.split(',')[col] ?? '') !== '')) return dayOf(f.path);
  }
  throw new Error('the generated shop has no transaction row with a customer id');
}

async function duck<T>(sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS() as T[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-e2e-data-'));
  gen = path.join(root, '_generator');
  execFileSync(
    projectPython(),
    ['-m', 'datagen', 'generate', '--customers', '200', '--start', START, '--months', String(MONTHS)].concat([
      '--seed',
      '20241231',
      '--out',
      gen,
      '--workers',
      '1',
      '--crm-extract-months',
      String(CRM_EXTRACT_MONTHS),
    ]),
    { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, CLV_LOCAL_ROOT: root } },
  );
  manifest = readJson<Manifest>(path.join(gen, 'manifest.json'));
  const raw = path.join(root, 'clv-local-raw');
  // Source systems drop the transaction files into the raw bucket's landing prefix as they are.
  fs.cpSync(path.join(gen, 'landing', 'transactions'), path.join(raw, 'landing', 'transactions'), {
    recursive: true,
  });
  // The CRM drops its dated full extracts there too.
  fs.cpSync(path.join(gen, 'landing', 'customers'), path.join(raw, 'landing', 'customers'), { recursive: true });
  // The clickstream goes Kinesis -> Firehose -> transformation Lambda -> raw bucket.
  replay = replayClickstream(path.join(gen, 'landing', 'clickstream'), raw);
  endDate = lastDayWithCustomerRows();
  run = await runLocal({
    stateMachine: 'data-pipeline',
    root,
    executionName: EXECUTION,
    waits: 'none',
    input: { date: endDate, backfill_from: START, cutoff: CUTOFF, with_labels: 'true', customers: true },
  });
}, 1_500_000);

afterAll(() => {
  if (root && !process.env.CLV_KEEP_E2E) fs.rmSync(root, { recursive: true, force: true });
});

describe('data pipeline, backfill of a generated shop on the local runtime', () => {
  it('succeeds through every step, backfill branches included', () => {
    expect(`${run.error ?? ''} ${run.cause ?? ''}`.trim()).toBe('');
    expect(run.status).toBe('SUCCEEDED');
    const entered = run.history
      .filter((e) => e.type === 'TaskStateEntered')
      .map((e) => (e.stateEnteredEventDetails as { name: string }).name);
    expect(entered).toEqual([
      'ValidateInput',
      'IngestTransactionsBackfill',
      'IngestCustomersBackfill',
      'QualityAggregates',
      'QualityGate',
      ...(entered.includes('AlertQualityWarning') ? ['AlertQualityWarning'] : []),
      'SessionizeClickstreamBackfill',
      'BuildFeatures',
    ]);
  });

  it('ingest: per delivery day, landed (manifest and landing files) = silver + quarantined + duplicates', async () => {
    const days = daysBetween(START, endDate);
    const manifestRows = new Map<string, number>();
    for (const f of manifest.files.filter((x) => x.path.startsWith('landing/transactions/'))) {
      manifestRows.set(dayOf(f.path), (manifestRows.get(dayOf(f.path)) ?? 0) + f.rows);
    }
    const silver = await duck<{ ingest_dt: string; n: bigint }>(
      `SELECT CAST(ingest_dt AS VARCHAR) AS ingest_dt, count(*) AS n FROM read_parquet('${path.join(
        root,
        'clv-local-curated/silver/transactions/**/*.parquet',
      )}', hive_partitioning = true) GROUP BY 1`,
    );
    const silverByDay = new Map(silver.map((r) => [r.ingest_dt, Number(r.n)]));
    let landed = 0;
    for (const day of days) {
      const record = readJson<IngestRecord>(
        path.join(reports('ingest_transactions'), `dt=${day}`, `${EXECUTION}.json`),
      );
      const folder = path.join(root, 'clv-local-raw', 'landing', 'transactions', `dt=${day}`);
      const fileRows = fs.readdirSync(folder).reduce((n, f) => n + gzipLines(path.join(folder, f)).length - 1, 0);
      expect(record.status, day).toBe('succeeded');
      expect(record.landed_rows, day).toBe(manifestRows.get(day));
      expect(record.landed_rows, day).toBe(fileRows);
      expect(record.silver_rows + record.quarantined_rows + record.duplicates_removed, day).toBe(record.landed_rows);
      expect(silverByDay.get(day) ?? 0, day).toBe(record.silver_rows);
      landed += record.landed_rows;
    }
    const total = readJson<IngestRecord & { days: number }>(
      path.join(reports('ingest_transactions'), `range=${START}_${endDate}`, `${EXECUTION}.json`),
    );
    expect(total).toMatchObject({ balanced: true, status: 'succeeded', days: days.length, landed_rows: landed });
    expect(total.silver_rows + total.quarantined_rows + total.duplicates_removed).toBe(landed);
    expect(total.duplicates_removed).toBeGreaterThan(0);
    expect(total.quarantined_rows).toBeGreaterThan(0);
    const inRange = manifest.files.filter(
      (f) => f.path.startsWith('landing/transactions/') && dayOf(f.path) <= endDate,
    );
    expect(landed).toBe(inRange.reduce((n, f) => n + f.rows, 0));
  });

  it('clickstream: events sent = accepted + rejected by the transformation, and sessionize reconciles per day', () => {
    expect(replay.sent).toBe(manifest.counts.clickstream.events);
    expect(replay.accepted + replay.rejected).toBe(replay.sent);
    const malformed = Object.values(manifest.counts.clickstream.malformed).reduce((a, b) => a + b, 0);
    expect(replay.rejected).toBe(malformed);
    expect(replay.accepted).toBe(manifest.counts.clickstream.events_valid);
    const days = daysBetween(START, endDate);
    let landed = 0;
    let sessions = 0;
    for (const day of days) {
      const file = path.join(reports('sessionize_clickstream'), `dt=${day}`, `${EXECUTION}.json`);
      if (!replay.acceptedByDate[day]) {
        expect(fs.existsSync(file), day).toBe(false);
        continue;
      }
      const record = readJson<SessionizeRecord>(file);
      expect(record.status, day).toBe('succeeded');
      expect(record.landed_events, day).toBe(replay.acceptedByDate[day]);
      expect(record.valid_events + record.quarantined_events + record.duplicates_removed, day).toBe(
        record.landed_events,
      );
      landed += record.landed_events;
      sessions += record.sessions;
    }
    const total = readJson<SessionizeRecord>(
      path.join(reports('sessionize_clickstream'), `range=${START}_${endDate}`, `${EXECUTION}.json`),
    );
    expect(total).toMatchObject({ balanced: true, status: 'succeeded', landed_events: landed, sessions });
    expect(sessions).toBeGreaterThan(0);
  });

  it('the quality gate evaluated the last day and wrote its result and HTML report', () => {
    const out = run.output as { quality: { status: string; resultUri: string; reportUri: string } };
    expect(['pass', 'warn']).toContain(out.quality.status);
    const folder = path.join(root, 'clv-local-artifacts', 'quality', 'silver_transactions', `dt=${endDate}`);
    expect(out.quality.resultUri).toBe(
      `s3://clv-local-artifacts/quality/silver_transactions/dt=${endDate}/result.json`,
    );
    const result = readJson<{ date: string; runId: string; summary: { status: string } }>(
      path.join(folder, 'result.json'),
    );
    expect(result).toMatchObject({ date: endDate, runId: EXECUTION, summary: { status: out.quality.status } });
    expect(fs.readFileSync(path.join(folder, 'report.html'), 'utf8')).toContain('<html');
  });

  it('CRM: every extract dated in the range is ingested and reconciles, each into its own silver partition', async () => {
    const inRange = manifest.crm_extracts.filter((e) => e.dt <= endDate);
    expect(inRange.length).toBeGreaterThan(1);
    expect(manifest.crm_extracts.some((e) => e.dt > endDate)).toBe(true); // the end-of-period one is not
    const total = readJson<IngestRecord & { extract_dates: string[] }>(
      path.join(reports('ingest_customers'), `range=${START}_${endDate}`, `${EXECUTION}.json`),
    );
    expect(total.extract_dates).toEqual(inRange.map((e) => e.dt));
    expect(total).toMatchObject({ balanced: true, status: 'succeeded' });
    expect(total.landed_rows).toBe(inRange.reduce((n, e) => n + e.rows, 0));
    expect(total.silver_rows + total.quarantined_rows + total.duplicates_removed).toBe(total.landed_rows);
    const silver = await duck<{ dt: string; n: bigint }>(
      `SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n FROM read_parquet('${path.join(
        root,
        'clv-local-curated/silver/customers/**/*.parquet',
      )}', hive_partitioning = true) GROUP BY 1 ORDER BY 1`,
    );
    expect(silver.map((r) => r.dt)).toEqual(inRange.map((e) => e.dt));
    for (const e of inRange) {
      const record = readJson<IngestRecord>(path.join(reports('ingest_customers'), `dt=${e.dt}`, `${EXECUTION}.json`));
      expect(record.landed_rows, e.dt).toBe(e.rows);
      expect(Number(silver.find((r) => r.dt === e.dt)?.n), e.dt).toBe(record.silver_rows);
    }
  });

  it('registered a labelled feature snapshot, and the training-set query returns one row per eligible customer', async () => {
    const dir = path.join(root, 'clv-local-features', 'snapshots');
    const snapshots = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(snapshots).toHaveLength(1);
    const snapshot = readJson<{
      cutoff_date: string;
      with_labels: boolean;
      row_count: number;
      run_id: string;
      customers_as_of: string | null;
    }>(path.join(dir, snapshots[0] as string));
    expect(snapshot).toMatchObject({
      cutoff_date: CUTOFF,
      with_labels: true,
      run_id: EXECUTION,
      customers_as_of: CUTOFF, // the extract dated on the cutoff, the latest on or before it
    });
    expect(snapshot.row_count).toBeGreaterThan(0);

    // Independently: customers with a product purchase line before the cutoff in silver.
    const [eligible] = await duck<{ n: bigint }>(
      `SELECT count(DISTINCT customer_id) AS n FROM read_parquet('${path.join(
        root,
        'clv-local-curated/silver/transactions/**/*.parquet',
      )}', hive_partitioning = true)
       WHERE invoice_ts < TIMESTAMP '${CUTOFF} 00:00:00' AND customer_id IS NOT NULL AND NOT is_non_product
         AND NOT is_cancellation AND quantity > 0`,
    );
    expect(snapshot.row_count).toBe(Number(eligible?.n));

    const result = await runAthenaQuery({
      sql: readSqlQuery('TrainingSetQuery'),
      parameters: [`'${CUTOFF}'`],
      database: 'clv_local',
      root,
      tables: await contractTables(),
    });
    const names = result.columns.map((c) => c.name);
    const col = (name: string): number => names.indexOf(name);
    expect(result.rows).toHaveLength(snapshot.row_count);
    const ids = result.rows.map((r) => r[col('customer_id')]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of result.rows) {
      expect(row[col('cutoff_date')]).toBe(CUTOFF);
      expect(row[col('label_revenue_12m')]).not.toBeNull();
      expect(['0', '1']).toContain(row[col('label_churn_6m')]);
    }

    // Point in time: loyalty is the CRM's at the cutoff, not the end-of-period value (which counts later purchases).
    const loyaltyIn = (dt: string): Map<string, string> => {
      const file = path.join(gen, 'landing', 'customers', `dt=${dt}`, 'customers.csv.gz');
      const [header, ...lines] = gzipLines(file);
      const at = (header as string).split(',').indexOf('loyalty_status');
      return new Map(lines.map((l) => [l.split(',')[0] as string, l.split(',')[at] as string]));
    };
    const atCutoff = loyaltyIn(CUTOFF);
    const atEnd = loyaltyIn((manifest.crm_extracts.at(-1) as { dt: string }).dt);
    let changedLater = 0;
    for (const row of result.rows) {
      const id = row[col('customer_id')] as string;
      expect(row[col('loyalty_status')], id).toBe(atCutoff.get(id) ?? 'unknown');
      if ((atEnd.get(id) ?? 'unknown') !== row[col('loyalty_status')]) changedLater += 1;
    }
    expect(changedLater).toBeGreaterThan(0);
  });
});
