/**
 * The demo report's data: what `npm run demo` left in the local object store, read and validated into one plain
 * object (ReportData) that ./report.ts turns into HTML. Every file is checked with zod so that a malformed one
 * fails with its path and the field at fault; a source the demo did not produce (no campaign experiment with
 * --skip-drift, no proxy window closed yet) becomes a one-line reason instead of a section, never an error.
 *
 * The lake tables (gold monitoring_metrics and predictions) are read with DuckDB and aggregated there, so the
 * report never loads a table into Node whatever the number of customers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { z } from 'zod';
import { bucketName } from '../constants.js';
import { resolveS3Uri } from '../storage.js';

/** A file or data set the report reads is missing or malformed; the message names it and the field at fault. */
export class ReportDataError extends Error {
  override readonly name = 'ReportDataError';
}

// ------------------------------------------------------------------------------------------------ sources

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Partition values are path segments: no separators, no dot segments, no quotes. */
const PARTITION_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const labelled = z.object({ label: z.string().min(1), path: z.string().min(1) });
const count = z.number().int().nonnegative();

export const reportSourcesSchema = z.object({
  root: z.string().min(1),
  evaluations: z.array(labelled),
  modelCards: z.array(labelled),
  monitoring: z.array(
    z.object({
      period: z.string().min(1),
      scoring_date: z.string().regex(DATE, 'expected YYYY-MM-DD'),
      model_version: z.string().regex(PARTITION_VALUE, 'expected a model version (letters, digits, _ . : -)'),
    }),
  ),
  experiment: z.object({ path: z.string().min(1) }).optional(),
  qualityReports: z.array(labelled),
  predictions: z
    .object({
      scoring_date: z.string().regex(DATE, 'expected YYYY-MM-DD'),
      model_version: z.string().regex(PARTITION_VALUE, 'expected a model version (letters, digits, _ . : -)'),
    })
    .optional(),
  reconciliation: z.array(
    z.object({ stage: z.string().min(1), in: count, out: count, rejected: count }).refine((r) => r.out <= r.in, {
      message: 'out exceeds in',
      path: ['out'],
    }),
  ),
});

/**
 * Where the report's data is. Paths are local paths or s3:// URIs of the local object store (resolved against
 * `root`, local/storage.ts).
 */
export interface ReportSources {
  /** The local object store root (s3://bucket/key -> <root>/bucket/key). */
  root: string;
  /** evaluation.json files, e.g. [{ label: 'v1 (first champion)', path }, { label: 'v2 (challenger)', path }]. */
  evaluations: { label: string; path: string }[];
  /** model_card.md files: copied beside the report and linked. */
  modelCards: { label: string; path: string }[];
  /** Monitoring runs to show, e.g. period 'steady' and 'drift'. */
  monitoring: { period: string; scoring_date: string; model_version: string }[];
  /** The campaign-experiment execution record (_local/executions/campaign-experiment/<name>.json). */
  experiment?: { path: string };
  /** Data-quality result.json files (the report.html beside each is copied and linked). */
  qualityReports: { label: string; path: string }[];
  /** The final scoring run (CLV distribution by tier). */
  predictions?: { scoring_date: string; model_version: string };
  /** Row counts per step of the demo. */
  reconciliation: { stage: string; in: number; out: number; rejected: number }[];
}

// ------------------------------------------------------------------------------------------------ file schemas

const finite = z.number().finite();
const lorenzSchema = z.array(z.object({ customer_share: finite, value_share: finite })).min(2);
const decileSchema = z
  .array(z.object({ decile: z.number().int().min(1), customers: count, mean_predicted: finite, mean_actual: finite }))
  .min(1);

export const evaluationSchema = z.looseObject({
  model_version: z.string().min(1),
  evaluated_at: z.string().optional(),
  revenue: z.looseObject({
    rmse: finite,
    gini_normalized: finite,
    decile_table: decileSchema,
    lorenz: lorenzSchema,
  }),
  baselines: z.record(
    z.string(),
    z.looseObject({
      rmse: finite,
      gini_normalized: finite,
      // Added to evaluation.py for this report: older reports have neither.
      lorenz: lorenzSchema.optional(),
      decile_table: decileSchema.optional(),
    }),
  ),
  shap_importance: z.array(z.object({ feature: z.string().min(1), mean_abs_shap: finite })),
  tiers: z.looseObject({ Low: count, Medium: count, High: count }),
  lineage: z.looseObject({ test_cutoffs: z.array(z.string()).optional() }).optional(),
});

const qualitySummarySchema = z.object({
  status: z.enum(['pass', 'warn', 'fail']),
  total: count,
  passed: count,
  failedCritical: count,
  failedWarning: count,
  skipped: count,
});

/** lambdas/quality-gate/report.ts ResultDocument (the fields shown). */
export const qualityResultSchema = z.looseObject({
  suite: z.string(),
  dataset: z.string().min(1),
  date: z.string(),
  runId: z.string(),
  summary: qualitySummarySchema,
  results: z.array(
    z.looseObject({
      id: z.string(),
      severity: z.enum(['critical', 'warning']),
      status: z.enum(['pass', 'fail', 'skipped']),
      message: z.string(),
    }),
  ),
});

const intervalDiff = { diff: finite, ci_low: finite, ci_high: finite, p_value: finite };
/** The analysis the campaign-experiment state machine keeps (state-machines/campaign-experiment.asl.json). */
const analysisSchema = z.looseObject({
  decision: z.enum(['ship', 'no_difference', 'worse', 'invalid']),
  reasons: z.array(z.string()),
  n: z.object({ control: count, treatment: count }),
  srm_p_value: finite.optional(),
  conversion: z.looseObject({ control_rate: finite, treatment_rate: finite, ...intervalDiff }),
  revenue_per_user: z.looseObject({ control_mean: finite, treatment_mean: finite, ...intervalDiff }),
});

export const experimentExecutionSchema = z.looseObject({
  name: z.string().min(1),
  status: z.string().min(1),
  error: z.string().optional(),
  cause: z.string().optional(),
  output: z
    .looseObject({
      campaign_id: z.string().optional(),
      mode: z.string().optional(),
      treatment_share: finite.optional(),
      alpha: finite.optional(),
      champion: z.looseObject({ model_version: z.string() }).optional(),
      challenger: z.looseObject({ model_version: z.string() }).optional(),
      analysis: analysisSchema.optional(),
    })
    .optional(),
});

const psiDetailsSchema = z.looseObject({
  kind: z.string().optional(),
  severity: z.string(),
  thresholds: z.object({ psi_low: finite, psi_medium: finite }).optional(),
});

const proxyDetailsSchema = z.looseObject({
  judged_scoring_date: z.string().optional(),
  window_days: z.number().optional(),
  status: z.string().optional(),
});

/** A row of gold monitoring_metrics (lib/contracts/lake-tables.ts). */
const metricRowSchema = z.object({
  run_id: z.string(),
  pipeline: z.string(),
  model_version: z.string(),
  metric: z.string(),
  feature: z.string().nullable(),
  value: z.number().nullable(),
  details: z.string().nullable(),
  created_at: z.string(),
});

// ------------------------------------------------------------------------------------------------ report data

/** A section the report can draw, or the one-line reason it cannot. */
export type Section<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface CurvePoint {
  customer_share: number;
  value_share: number;
}

export interface DecileRow {
  decile: number;
  customers: number;
  mean_predicted: number;
  mean_actual: number;
}

export interface EvaluationView {
  label: string;
  source: string;
  modelVersion: string;
  evaluatedAt: string | null;
  testCutoffs: string[];
  rmse: number;
  gini: number;
  lorenz: CurvePoint[];
  deciles: DecileRow[];
  /** Baselines in the report's order; lorenz null in an evaluation report older than the baseline curves. */
  baselines: { name: string; rmse: number; gini: number; lorenz: CurvePoint[] | null }[];
  shap: { feature: string; mean_abs_shap: number }[];
  tiers: { Low: number; Medium: number; High: number };
}

export interface PsiRow {
  feature: string;
  psi: number;
  severity: string;
}

export interface ProxyView {
  modelVersion: string;
  judgedScoringDate: string | null;
  windowDays: number | null;
  status: string | null;
  /** Run-level proxy metrics by name without the proxy_ prefix (spearman, pearson, customers, ...). */
  metrics: Record<string, number>;
}

export interface MonitoringView {
  period: string;
  scoringDate: string;
  modelVersion: string;
  /** The monitoring run whose drift rows are shown (the latest one of the day for the model). */
  runId: string | null;
  psi: PsiRow[];
  thresholds: { psi_low: number; psi_medium: number } | null;
  proxy: ProxyView | null;
  retrainingTriggered: boolean | null;
}

export interface ExperimentView {
  execution: string;
  campaignId: string | null;
  mode: string | null;
  treatmentShare: number | null;
  alpha: number | null;
  championVersion: string | null;
  challengerVersion: string | null;
  decision: string;
  reasons: string[];
  n: { control: number; treatment: number };
  srmPValue: number | null;
  conversion: { control: number; treatment: number; diff: number; ciLow: number; ciHigh: number; pValue: number };
  revenuePerUser: { control: number; treatment: number; diff: number; ciLow: number; ciHigh: number; pValue: number };
}

export interface QualityView {
  label: string;
  source: string;
  /** The report.html beside result.json; null when there is none. */
  reportHtml: string | null;
  dataset: string;
  date: string;
  summary: z.infer<typeof qualitySummarySchema>;
  failures: { id: string; severity: string; message: string }[];
}

export interface TierDistribution {
  tier: string;
  customers: number;
  mean: number;
  min: number;
  p05: number;
  q1: number;
  median: number;
  q3: number;
  p95: number;
  max: number;
}

export interface PredictionsView {
  scoringDate: string;
  modelVersion: string;
  customers: number;
  tiers: TierDistribution[];
}

export interface ReportData {
  evaluations: EvaluationView[];
  modelCards: { label: string; source: string }[];
  monitoring: MonitoringView[];
  experiment: Section<ExperimentView>;
  quality: QualityView[];
  predictions: Section<PredictionsView>;
  reconciliation: { stage: string; in: number; out: number; rejected: number }[];
}

// ------------------------------------------------------------------------------------------------ reading

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `field '${i.path.join('.')}': ${i.message}` : i.message))
    .join('; ');
}

/** The local path of a source: an s3:// URI of the local store, else a path (relative to the working directory). */
export function resolveSource(p: string, root: string): string {
  return p.startsWith('s3://') ? resolveS3Uri(p, root) : path.resolve(p);
}

function readJson<S extends z.ZodType>(schema: S, file: string, what: string): z.infer<S> {
  if (!fs.existsSync(file)) throw new ReportDataError(`${what} ${file}: no such file`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ReportDataError(`${what} ${file}: not JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ReportDataError(`${what} ${file}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function readEvaluation(label: string, file: string): EvaluationView {
  const e = readJson(evaluationSchema, file, 'evaluation report');
  return {
    label,
    source: file,
    modelVersion: e.model_version,
    evaluatedAt: e.evaluated_at ?? null,
    testCutoffs: e.lineage?.test_cutoffs ?? [],
    rmse: e.revenue.rmse,
    gini: e.revenue.gini_normalized,
    lorenz: e.revenue.lorenz,
    deciles: e.revenue.decile_table,
    baselines: Object.entries(e.baselines).map(([name, b]) => ({
      name,
      rmse: b.rmse,
      gini: b.gini_normalized,
      lorenz: b.lorenz ?? null,
    })),
    shap: e.shap_importance,
    tiers: { Low: e.tiers.Low, Medium: e.tiers.Medium, High: e.tiers.High },
  };
}

function readQuality(label: string, file: string): QualityView {
  const q = readJson(qualityResultSchema, file, 'data-quality result');
  const html = path.join(path.dirname(file), 'report.html');
  return {
    label,
    source: file,
    reportHtml: fs.existsSync(html) ? html : null,
    dataset: q.dataset,
    date: q.date,
    summary: q.summary,
    failures: q.results
      .filter((r) => r.status === 'fail')
      .map((r) => ({ id: r.id, severity: r.severity, message: r.message })),
  };
}

function readExperiment(file: string): Section<ExperimentView> {
  const x = readJson(experimentExecutionSchema, file, 'campaign-experiment execution');
  if (x.status !== 'SUCCEEDED') {
    const why = [x.error, x.cause].filter(Boolean).join(': ');
    return { ok: false, reason: `the campaign experiment ${x.name} ended ${x.status}${why ? ` (${why})` : ''}.` };
  }
  const a = x.output?.analysis;
  if (!a) throw new ReportDataError(`campaign-experiment execution ${file}: field 'output.analysis' is missing`);
  const o = x.output;
  return {
    ok: true,
    value: {
      execution: x.name,
      campaignId: o?.campaign_id ?? null,
      mode: o?.mode ?? null,
      treatmentShare: o?.treatment_share ?? null,
      alpha: o?.alpha ?? null,
      championVersion: o?.champion?.model_version ?? null,
      challengerVersion: o?.challenger?.model_version ?? null,
      decision: a.decision,
      reasons: a.reasons,
      n: a.n,
      srmPValue: a.srm_p_value ?? null,
      conversion: {
        control: a.conversion.control_rate,
        treatment: a.conversion.treatment_rate,
        diff: a.conversion.diff,
        ciLow: a.conversion.ci_low,
        ciHigh: a.conversion.ci_high,
        pValue: a.conversion.p_value,
      },
      revenuePerUser: {
        control: a.revenue_per_user.control_mean,
        treatment: a.revenue_per_user.treatment_mean,
        diff: a.revenue_per_user.diff,
        ciLow: a.revenue_per_user.ci_low,
        ciHigh: a.revenue_per_user.ci_high,
        pValue: a.revenue_per_user.p_value,
      },
    },
  };
}

const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function parquetFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => path.join(dir, f));
}

type Conn = Awaited<ReturnType<DuckDBInstance['connect']>>;

async function query(conn: Conn, sql: string, what: string): Promise<Record<string, unknown>[]> {
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } catch (e) {
    throw new ReportDataError(`${what}: ${(e as Error).message}`);
  }
}

function parseDetails<S extends z.ZodType>(schema: S, raw: string | null, where: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw ?? 'null');
  } catch {
    throw new ReportDataError(`${where}: field 'details' is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ReportDataError(`${where}: field 'details': ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The rows of one run among several of the same day: the run written last. */
function latestRun<T extends { run_id: string; created_at: string }>(rows: T[]): T[] {
  const last = rows.reduce<T | null>((best, r) => (best === null || r.created_at > best.created_at ? r : best), null);
  return last === null ? [] : rows.filter((r) => r.run_id === last.run_id);
}

async function readMonitoring(
  conn: Conn,
  root: string,
  m: { period: string; scoring_date: string; model_version: string },
): Promise<MonitoringView> {
  const dir = path.join(root, bucketName('Gold'), 'monitoring_metrics', `run_date=${m.scoring_date}`);
  const files = parquetFiles(dir);
  const view: MonitoringView = {
    period: m.period,
    scoringDate: m.scoring_date,
    modelVersion: m.model_version,
    runId: null,
    psi: [],
    thresholds: null,
    proxy: null,
    retrainingTriggered: null,
  };
  if (files.length === 0) return view;
  const raw = await query(
    conn,
    `SELECT run_id, pipeline, model_version, metric, feature, CAST(value AS DOUBLE) AS value, details,
            CAST(created_at AS VARCHAR) AS created_at
       FROM read_parquet([${files.map(sqlLiteral).join(', ')}], union_by_name = true)
      WHERE pipeline = 'monitoring'`,
    `monitoring_metrics ${dir}`,
  );
  const rows = raw.map((r, i) => {
    const parsed = metricRowSchema.safeParse(r);
    if (!parsed.success)
      throw new ReportDataError(`monitoring_metrics ${dir} row ${i}: ${describeIssues(parsed.error)}`);
    return parsed.data;
  });

  const psi = latestRun(
    rows.filter((r) => r.metric === 'psi' && r.feature !== null && r.model_version === m.model_version),
  );
  for (const r of psi) {
    const where = `monitoring_metrics ${dir} (run ${r.run_id}, psi of ${r.feature})`;
    if (r.value === null) throw new ReportDataError(`${where}: field 'value' is null`);
    const d = parseDetails(psiDetailsSchema, r.details, where);
    view.psi.push({ feature: r.feature as string, psi: r.value, severity: d.severity });
    view.thresholds ??= d.thresholds ?? null;
    view.runId = r.run_id;
  }

  // Proxy rows carry the model version of the scoring run they judge (an older one), not this run's.
  const proxy = latestRun(rows.filter((r) => r.metric.startsWith('proxy_') && r.feature === null && r.value !== null));
  const first = proxy[0];
  if (first) {
    const d = parseDetails(proxyDetailsSchema, first.details, `monitoring_metrics ${dir} (run ${first.run_id}, proxy)`);
    view.proxy = {
      modelVersion: first.model_version,
      judgedScoringDate: d.judged_scoring_date ?? null,
      windowDays: d.window_days ?? null,
      status: d.status ?? null,
      metrics: Object.fromEntries(proxy.map((r) => [r.metric.slice('proxy_'.length), r.value as number])),
    };
  }
  const retraining = latestRun(rows.filter((r) => r.metric === 'retraining_triggered' && r.value !== null));
  if (retraining[0]) view.retrainingTriggered = retraining[0].value === 1;
  return view;
}

const tierRowSchema = z.object({
  tier: z.string().min(1, 'tier is empty'),
  customers: z.coerce.number().int().positive(),
  mean: finite,
  min: finite,
  p05: finite,
  q1: finite,
  median: finite,
  q3: finite,
  p95: finite,
  max: finite,
});

const TIER_ORDER = ['High', 'Medium', 'Low'];

async function readPredictions(
  conn: Conn,
  root: string,
  p: { scoring_date: string; model_version: string },
): Promise<PredictionsView> {
  const dir = path.join(
    root,
    bucketName('Gold'),
    'predictions',
    `scoring_date=${p.scoring_date}`,
    `model_version=${p.model_version}`,
  );
  const files = parquetFiles(dir);
  if (files.length === 0) throw new ReportDataError(`predictions ${dir}: no Parquet file`);
  const raw = await query(
    conn,
    `SELECT tier, COUNT(*) AS customers, AVG(v) AS mean, MIN(v) AS min, MAX(v) AS max,
            quantile_cont(v, 0.05) AS p05, quantile_cont(v, 0.25) AS q1, quantile_cont(v, 0.5) AS median,
            quantile_cont(v, 0.75) AS q3, quantile_cont(v, 0.95) AS p95
       FROM (SELECT tier, CAST(predicted_revenue_12m AS DOUBLE) AS v
               FROM read_parquet([${files.map(sqlLiteral).join(', ')}], union_by_name = true))
      GROUP BY tier`,
    `predictions ${dir}`,
  );
  const tiers = raw.map((r) => {
    const parsed = tierRowSchema.safeParse(r);
    if (!parsed.success) {
      throw new ReportDataError(`predictions ${dir} (tier ${String(r.tier)}): ${describeIssues(parsed.error)}`);
    }
    return parsed.data;
  });
  const rank = (t: string) => (TIER_ORDER.includes(t) ? TIER_ORDER.indexOf(t) : TIER_ORDER.length);
  tiers.sort((a, b) => rank(a.tier) - rank(b.tier) || a.tier.localeCompare(b.tier));
  return {
    scoringDate: p.scoring_date,
    modelVersion: p.model_version,
    customers: tiers.reduce((s, t) => s + t.customers, 0),
    tiers,
  };
}

/** Reads and validates every source; throws ReportDataError naming the file and field of a malformed one. */
export async function collectReportData(sources: ReportSources): Promise<ReportData> {
  const parsed = reportSourcesSchema.safeParse(sources);
  if (!parsed.success) throw new ReportDataError(`report sources: ${describeIssues(parsed.error)}`);
  const s = parsed.data;
  const root = path.resolve(s.root);
  const resolve = (p: string) => resolveSource(p, root);

  const modelCards = s.modelCards.map((c) => {
    const file = resolve(c.path);
    if (!fs.existsSync(file)) throw new ReportDataError(`model card ${file}: no such file`);
    return { label: c.label, source: file };
  });

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const monitoring: MonitoringView[] = [];
    for (const m of s.monitoring) monitoring.push(await readMonitoring(conn, root, m));
    return {
      evaluations: s.evaluations.map((e) => readEvaluation(e.label, resolve(e.path))),
      modelCards,
      monitoring,
      experiment: s.experiment
        ? readExperiment(resolve(s.experiment.path))
        : { ok: false, reason: 'no campaign experiment ran in this demo (the drift period was skipped).' },
      quality: s.qualityReports.map((q) => readQuality(q.label, resolve(q.path))),
      predictions: s.predictions
        ? { ok: true, value: await readPredictions(conn, root, s.predictions) }
        : { ok: false, reason: 'no scoring run was given for the CLV distribution.' },
      reconciliation: s.reconciliation,
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
