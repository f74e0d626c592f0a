/**
 * The demo's reconciliation: what the generator delivered (its manifest) against what the data pipeline's jobs
 * say they landed, kept and rejected (their per-day reconciliation reports, reports/reconciliation/<job>/dt=<day>/
 * <run id>.json), and what batch scoring took in, scored and rejected. Every figure is read from what the run
 * wrote; a check that does not hold is reported, and the demo fails on it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

/** One line of the reconciliation table: in = out + rejected (+ duplicates removed, for the ingest). */
export interface CountCheck {
  stage: string;
  in: number;
  out: number;
  rejected: number;
  /** Rows dropped as exact duplicates (ingest, sessionize); 0 elsewhere. */
  duplicates: number;
  /** What the stage's input should have been (the generator's delivery), when known. */
  expected_in?: number;
  reconciled: boolean;
  note?: string;
}

const manifestSchema = z.looseObject({
  files: z.array(z.looseObject({ path: z.string(), rows: z.number().int().nonnegative() })),
  counts: z.looseObject({ customers: z.number().int() }),
});

/** Rows the generator delivered per dataset (transactions, customers, clickstream) on delivery days in [from, to]. */
export function deliveredRows(rawRoot: string, from: string, to: string): Record<string, number> {
  const file = path.join(rawRoot, 'manifest.json');
  const parsed = manifestSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: not a generator manifest (${parsed.error.issues[0]?.message})`);
  const out: Record<string, number> = { transactions: 0, customers: 0, clickstream: 0 };
  for (const f of parsed.data.files) {
    const m = /^landing\/(transactions|customers|clickstream)\/dt=(\d{4}-\d{2}-\d{2})\//.exec(f.path);
    if (!m) continue;
    const [, dataset, day] = m as unknown as [string, string, string];
    if (day >= from && day <= to) out[dataset] = (out[dataset] ?? 0) + f.rows;
  }
  return out;
}

const reportSchema = z.looseObject({
  run_id: z.string(),
  status: z.string(),
  balanced: z.boolean(),
});

/** The per-day reconciliation reports of one job for one run id. */
export function jobReports(artifactsRoot: string, job: string, runId: string): Record<string, unknown>[] {
  const dir = path.join(artifactsRoot, 'reports', 'reconciliation', job);
  if (!fs.existsSync(dir)) return [];
  const out: Record<string, unknown>[] = [];
  // dt=<day>/ holds the day reports; a range run also writes its total under range=<from>_<to>/ (not summed)
  for (const day of fs
    .readdirSync(dir)
    .filter((d) => d.startsWith('dt='))
    .sort()) {
    const file = path.join(dir, day, `${runId}.json`);
    if (!fs.existsSync(file)) continue;
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    const parsed = reportSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${file}: not a reconciliation report (${parsed.error.issues[0]?.message})`);
    out.push(raw as Record<string, unknown>);
  }
  return out;
}

const num = (r: Record<string, unknown>, key: string): number => {
  const v = r[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
};
const sum = (reports: Record<string, unknown>[], key: string): number =>
  reports.reduce((acc, r) => acc + num(r, key), 0);

/**
 * The ingest and sessionize checks of one data pipeline run: landed = kept + quarantined + duplicates per dataset,
 * every day balanced, and landed = what the generator delivered on the ingested delivery days (transactions, CRM
 * extracts). Clickstream is sessionized by event day: its landed events are compared with the deliveries too.
 */
export function dataPipelineChecks(
  root: string,
  runId: string,
  from: string,
  to: string,
  period: string,
): CountCheck[] {
  const artifacts = path.join(root, 'clv-local-artifacts');
  const delivered = deliveredRows(path.join(root, 'clv-local-raw'), from, to);
  const checks: CountCheck[] = [];
  const table = (
    job: string,
    dataset: string,
    keys: { landed: string; kept: string; rejected: string },
    expected: number | undefined,
  ): void => {
    const reports = jobReports(artifacts, job, runId).filter((r) => r.dataset === dataset);
    const landed = sum(reports, keys.landed);
    const kept = sum(reports, keys.kept);
    const rejected = sum(reports, keys.rejected);
    const duplicates = sum(reports, 'duplicates_removed');
    const balanced = reports.length > 0 && reports.every((r) => r.balanced === true);
    const sumsHold = landed === kept + rejected + duplicates;
    const deliveryHolds = expected === undefined || expected === landed;
    checks.push({
      stage: `${period}: ${job.replace('_', ' ')} (${dataset})`,
      in: landed,
      out: kept,
      rejected,
      duplicates,
      ...(expected === undefined ? {} : { expected_in: expected }),
      reconciled: balanced && sumsHold && deliveryHolds,
      note: `${reports.length} day report(s)${balanced ? '' : ', not all balanced'}${
        deliveryHolds ? '' : `; the generator delivered ${expected}`
      }`,
    });
  };
  table(
    'ingest_transactions',
    'transactions',
    { landed: 'landed_rows', kept: 'silver_rows', rejected: 'quarantined_rows' },
    delivered.transactions,
  );
  table(
    'ingest_customers',
    'customers',
    { landed: 'landed_rows', kept: 'silver_rows', rejected: 'quarantined_rows' },
    delivered.customers,
  );
  table(
    'sessionize_clickstream',
    'clickstream',
    { landed: 'landed_events', kept: 'valid_events', rejected: 'quarantined_events' },
    undefined,
  );
  return checks;
}

const publishSchema = z.looseObject({
  rows_in: z.number().int(),
  rows_scored: z.number().int(),
  rows_rejected: z.number().int(),
  reconciled: z.boolean(),
  scoring_date: z.string(),
  model_version: z.string(),
});

/** Batch scoring: the scoring set's rows = scored + rejected (the publish job's summary). */
export function scoringCheck(output: unknown, label: string): CountCheck {
  const summary = (output as { publish?: { summary?: unknown } } | undefined)?.publish?.summary;
  const parsed = publishSchema.safeParse(summary);
  if (!parsed.success) throw new Error(`${label}: the batch-scoring output has no publish summary`);
  const s = parsed.data;
  return {
    stage: label,
    in: s.rows_in,
    out: s.rows_scored,
    rejected: s.rows_rejected,
    duplicates: 0,
    reconciled: s.reconciled && s.rows_in === s.rows_scored + s.rows_rejected,
    note: `${s.model_version} at ${s.scoring_date}`,
  };
}
