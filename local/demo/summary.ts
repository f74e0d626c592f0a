/**
 * DIR/summary.json, DIR/report.html and the summary the demo prints at its end. The summary's fields are an
 * interface (issue #14): stages [{name, status, seconds}], counts, model.{clv_xgb, heuristic, linear_rfm,
 * bgnbd_gg}.{rmse, gini_normalized}, alerts [{severity, source, metric, value}], promotions [{model_version,
 * stage}] and paths.report; more fields are added beside them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Json } from '../integrations/types.js';
import type { CountCheck } from './counts.js';
import type { Demo } from './demo.js';
import type { DemoTimeline } from './options.js';
import { writeReport } from './report.js';
import type { ReportSources } from './report-data.js';

export interface StageRecord {
  name: string;
  period: string;
  status: 'succeeded' | 'failed' | 'skipped';
  seconds: number;
  reason?: string;
}

export interface ModelMetrics {
  rmse: number;
  mae: number;
  gini_normalized: number;
  top_decile_capture: number;
  decile_mape: number;
}

export interface DemoSummary {
  status: 'succeeded' | 'failed';
  failure?: string;
  customers: number;
  seed: number;
  skip_drift: boolean;
  seconds: number;
  peak_rss_mib: number;
  timeline: DemoTimeline;
  stages: StageRecord[];
  counts: {
    reconciliation: CountCheck[];
    customers_scored: number;
    scoring_runs: { scoring_date: string; model_version: string }[];
  };
  model: Record<string, ModelMetrics>;
  challenger?: Record<string, ModelMetrics>;
  gates: { min_gini: number; fairness_min_ratio: number };
  alerts: Demo['alerts'];
  monitoring: Demo['monitoring'];
  promotions: Demo['promotions'];
  canary?: Json;
  paths: Record<string, string | string[]>;
}

interface SummaryExtras {
  seconds: number;
  peakRssMib: number;
  failure?: string;
  campaignOutput?: Json;
  experimentFile?: string;
  qualityReports: { label: string; path: string }[];
  scored: { scoring_date: string; model_version: string }[];
  timeline: DemoTimeline;
  gates: { min_gini: number; fairness_min_ratio: number };
}

const METRIC_KEYS = ['rmse', 'mae', 'gini_normalized', 'top_decile_capture', 'decile_mape'] as const;

function metrics(section: Record<string, unknown> | undefined): ModelMetrics | undefined {
  if (!section) return undefined;
  const out: Record<string, number> = {};
  for (const k of METRIC_KEYS) {
    const v = section[k];
    if (typeof v !== 'number') return undefined;
    out[k] = v;
  }
  return out as unknown as ModelMetrics;
}

/** The model and its baselines on the test snapshot, from an evaluation.json. */
export function modelTable(evaluationFile: string): Record<string, ModelMetrics> {
  const report = JSON.parse(fs.readFileSync(evaluationFile, 'utf8')) as {
    revenue?: Record<string, unknown>;
    baselines?: Record<string, Record<string, unknown>>;
  };
  const out: Record<string, ModelMetrics> = {};
  const model = metrics(report.revenue);
  if (!model) throw new Error(`${evaluationFile}: revenue metrics missing`);
  out.clv_xgb = model;
  for (const [name, section] of Object.entries(report.baselines ?? {})) {
    const m = metrics(section);
    if (m) out[name] = m;
  }
  return out;
}

export async function writeSummary(demo: Demo, extras: SummaryExtras): Promise<DemoSummary> {
  const o = demo.options;
  const summaryFile = path.join(o.out, 'summary.json');
  const reportFile = path.join(o.out, 'report.html');
  const first = demo.evaluations[0];
  const second = demo.evaluations[1];
  const lastScoring = demo.checks.filter((c) => c.stage.includes('batch scoring')).pop();
  const modelCards = demo.evaluations
    .map((e) => ({ label: e.label, path: path.join(path.dirname(e.path), 'model_card.md') }))
    .filter((c) => fs.existsSync(c.path));
  const summary: DemoSummary = {
    status: extras.failure ? 'failed' : 'succeeded',
    ...(extras.failure ? { failure: extras.failure } : {}),
    customers: o.customers,
    seed: o.seed,
    skip_drift: o.skipDrift,
    seconds: Math.round(extras.seconds * 10) / 10,
    peak_rss_mib: extras.peakRssMib,
    timeline: extras.timeline,
    stages: demo.stages.map((s) => ({ ...s, seconds: Math.round(s.seconds * 10) / 10 })),
    counts: {
      reconciliation: demo.checks,
      customers_scored: lastScoring?.out ?? 0,
      scoring_runs: extras.scored,
    },
    model: first ? modelTable(first.path) : {},
    ...(second ? { challenger: modelTable(second.path) } : {}),
    gates: extras.gates,
    alerts: demo.alerts,
    monitoring: demo.monitoring,
    promotions: demo.promotions,
    ...(extras.campaignOutput === undefined ? {} : { canary: extras.campaignOutput }),
    paths: {
      summary: summaryFile,
      report: reportFile,
      lake: o.root,
      evaluations: demo.evaluations.map((e) => e.path),
      model_cards: modelCards.map((c) => c.path),
      quality_reports: extras.qualityReports.map((q) => q.path),
      executions: path.join(o.root, '_local', 'executions'),
    },
  };
  const sources: ReportSources = {
    root: o.root,
    evaluations: demo.evaluations.map((e) => ({ label: e.label, path: e.path })),
    modelCards,
    monitoring: demo.monitoring.map((m) => ({
      period: m.period,
      scoring_date: m.scoring_date,
      model_version: m.model_version,
    })),
    ...(extras.experimentFile ? { experiment: { path: extras.experimentFile } } : {}),
    qualityReports: extras.qualityReports,
    ...(extras.scored.length > 0 ? { predictions: extras.scored[extras.scored.length - 1] } : {}),
    reconciliation: demo.checks.map((c) => ({ stage: c.stage, in: c.in, out: c.out, rejected: c.rejected })),
  };
  try {
    const report = await writeReport(sources, { outDir: o.out, title: `CLV platform demo: ${o.customers} customers` });
    summary.paths.report = report.path;
    summary.paths.report_charts = report.charts;
  } catch (err) {
    summary.status = 'failed';
    summary.failure = `${summary.failure ? `${summary.failure}; ` : ''}report: ${(err as Error).message}`;
  }
  fs.writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

const fmt = (v: number | undefined, digits = 3): string => (v === undefined ? '-' : v.toFixed(digits));

/** The end-of-demo text: stages, reconciliation, model against baselines, alerts, promotions, where things are. */
export function formatSummary(s: DemoSummary): string {
  const lines: string[] = [];
  lines.push('', `== summary: ${s.status}${s.failure ? ` (${s.failure})` : ''}`);
  lines.push(`   ${s.customers} customers, ${s.seconds.toFixed(0)} s, peak memory ${s.peak_rss_mib} MiB`);
  lines.push('', '   stage                 period   status      seconds');
  for (const st of s.stages) {
    lines.push(
      `   ${st.name.padEnd(21)} ${st.period.padEnd(8)} ${st.status.padEnd(10)} ${st.seconds.toFixed(1).padStart(8)}${
        st.reason ? `  (${st.reason})` : ''
      }`,
    );
  }
  lines.push('', `   customers scored (last run): ${s.counts.customers_scored}`);
  const ok = s.counts.reconciliation.filter((c) => c.reconciled).length;
  lines.push(`   reconciliation: ${ok}/${s.counts.reconciliation.length} checks hold`);
  const table = (title: string, m: Record<string, ModelMetrics>): void => {
    lines.push('', `   ${title} (test snapshot; RMSE lower is better, normalized Gini higher is better)`);
    lines.push('   model         RMSE      MAE   Gini  top-10% capture');
    for (const [name, v] of Object.entries(m)) {
      lines.push(
        `   ${name.padEnd(11)} ${fmt(v.rmse, 2).padStart(7)} ${fmt(v.mae, 2).padStart(8)} ${fmt(v.gini_normalized).padStart(6)} ${fmt(
          v.top_decile_capture,
        ).padStart(16)}`,
      );
    }
    const best = Object.entries(m).sort((a, b) => a[1].rmse - b[1].rmse)[0];
    if (best) {
      lines.push(
        `   lowest RMSE: ${best[0]}${best[0] === 'clv_xgb' ? '' : ' (the CLV model loses to a baseline here on RMSE)'}`,
      );
    }
  };
  if (Object.keys(s.model).length > 0) table('first champion against the baselines', s.model);
  if (s.challenger) table('challenger (triggered retraining) against the baselines', s.challenger);
  lines.push('', `   alerts raised: ${s.alerts.length}`);
  for (const a of s.alerts) {
    lines.push(
      `     [${a.period}] ${a.severity} ${a.source} ${a.metric}${a.value === null ? '' : ` = ${a.value.toFixed(3)}`}`,
    );
  }
  lines.push('', '   model registry changes:');
  for (const p of s.promotions) {
    lines.push(
      `     [${p.period}] v${p.version} ${p.model_version}: ${p.from} -> ${p.stage}${p.basis ? ` (${p.basis})` : ''}`,
    );
  }
  lines.push('', `   report:  ${s.paths.report}`, `   summary: ${s.paths.summary}`, `   lake:    ${s.paths.lake}`);
  lines.push(`   query:   npm run clv -- query --root ${s.paths.lake} --named scoring_runs`);
  return lines.join('\n');
}
