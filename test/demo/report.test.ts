/**
 * The demo report (local/demo/report.ts): built from a trimmed copy of a finished local run (test/demo/fixtures/run:
 * evaluations of v1 (an evaluation report older than the baseline curves) and v2, the drift monitoring run, the
 * final predictions, the campaign-experiment executions, one data-quality result) plus a steady monitoring period
 * written here. Every chart is a figure with an inline SVG, nothing points outside the page, a missing source
 * leaves a reason instead of the chart, and a malformed file is named.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_IDS, lorenzSpec } from '../../local/demo/charts.js';
import { buildReport, writeReport } from '../../local/demo/report.js';
import { collectReportData, type ReportSources } from '../../local/demo/report-data.js';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'run');
const V1 = 'clv-train-demo-training-pipeline';
const V2 = 'clv-train-demo-challenger';
const STEADY_DATE = '2024-07-01';

let root: string;
let out: string;

/** Writes monitoring_metrics rows of a monitoring run on `date` (run_date partition) as Parquet. */
async function writeMetrics(date: string, file: string, rows: unknown[][]): Promise<void> {
  const dir = path.join(root, 'clv-local-gold', 'monitoring_metrics', `run_date=${date}`);
  fs.mkdirSync(dir, { recursive: true });
  const q = (v: unknown) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v)}'`);
  const values = rows.map((r) => `(${r.map(q).join(', ')})`).join(',\n');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(
      `COPY (SELECT run_id, pipeline, model_version, metric, feature, CAST(value AS DOUBLE) AS value, details, created_at
               FROM (VALUES ${values}) t(run_id, pipeline, model_version, metric, feature, value, details, created_at))
         TO '${path.join(dir, file)}' (FORMAT parquet)`,
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const psiDetails = (severity: string) =>
  JSON.stringify({ kind: 'numeric', severity, thresholds: { psi_low: 0.1, psi_medium: 0.25 } });
const proxyDetails = JSON.stringify({
  judged_scoring_date: '2024-01-01',
  window_days: 30,
  status: 'no_previous',
  severity: 'none',
});

function sources(overrides: Partial<ReportSources> = {}): ReportSources {
  const ev = (name: string) => `s3://clv-local-artifacts/evaluations/${name}/evaluation.json`;
  return {
    root,
    evaluations: [
      { label: 'v1 (first champion)', path: ev('demo-training-pipeline') },
      {
        label: 'v2 (challenger)',
        path: path.join(root, 'clv-local-artifacts/evaluations/demo-challenger/evaluation.json'),
      },
    ],
    modelCards: [
      { label: 'v1', path: 's3://clv-local-artifacts/evaluations/demo-training-pipeline/model_card.md' },
      { label: 'v2', path: 's3://clv-local-artifacts/evaluations/demo-challenger/model_card.md' },
    ],
    monitoring: [
      { period: 'steady', scoring_date: STEADY_DATE, model_version: V1 },
      { period: 'drift', scoring_date: '2025-01-01', model_version: V1 },
    ],
    experiment: { path: path.join(root, '_local/executions/campaign-experiment/demo-campaign-3.json') },
    qualityReports: [
      {
        label: 'silver transactions',
        path: 's3://clv-local-artifacts/quality/silver_transactions/dt=2024-12-31/result.json',
      },
    ],
    predictions: { scoring_date: '2025-01-01', model_version: V2 },
    reconciliation: [
      { stage: 'ingest transactions', in: 52_311, out: 52_001, rejected: 310 },
      { stage: 'batch scoring', in: 894, out: 894, rejected: 0 },
    ],
    ...overrides,
  };
}

/** The HTML of one figure (from its opening tag to its closing tag). */
function figure(html: string, id: string): string {
  const start = html.indexOf(`<figure id="chart-${id}"`);
  expect(start, `figure chart-${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start) + '</figure>'.length);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-report-'));
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-report-out-'));
  fs.cpSync(FIXTURE, root, { recursive: true });
  // A steady period: little drift, and the proxy window of the first scoring run closed. Two runs that day: the
  // report shows the later one.
  const run = (id: string, created: string, psi: number) => [
    [id, 'monitoring', V1, 'psi', 'recency_days', psi, psiDetails('none'), created],
    [id, 'monitoring', V1, 'psi', 'tenure_days', 0.12, psiDetails('low'), created],
    [id, 'monitoring', V1, 'ks', 'tenure_days', 0.05, '{}', created],
    [id, 'monitoring', V1, 'proxy_spearman', null, 0.41, proxyDetails, created],
    [id, 'monitoring', V1, 'proxy_pearson', null, 0.37, proxyDetails, created],
    [id, 'monitoring', V1, 'proxy_customers', null, 540, proxyDetails, created],
    [id, 'monitoring', V1, 'proxy_aov', 'tier=High', 55.2, proxyDetails, created],
    [id, 'monitoring', V1, 'retraining_triggered', null, 0, '{}', created],
  ];
  await writeMetrics(STEADY_DATE, 'steady-early-drift.parquet', run('steady-early', '2026-11-29T09:00:00.000Z', 0.5));
  await writeMetrics(STEADY_DATE, 'steady-drift.parquet', run('steady', '2026-11-29T09:30:00.000Z', 0.03));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

describe('collectReportData', () => {
  it('reads every source of the fixture run', async () => {
    const data = await collectReportData(sources());
    const [v1, v2] = data.evaluations;
    expect(v1?.modelVersion).toBe(V1);
    expect(v1?.baselines.map((b) => b.lorenz)).toEqual([null, null, null]);
    expect(v2?.baselines.map((b) => b.name).sort()).toEqual(['bgnbd_gg', 'heuristic', 'linear_rfm']);
    for (const b of v2?.baselines ?? []) expect(b.lorenz).toHaveLength(21);
    expect(v2?.lorenz).toHaveLength(21);
    expect(v2?.deciles).toHaveLength(10);

    const [steady, drift] = data.monitoring;
    // The later of the two steady runs, its PSI rows only (not KS), and the run-level proxy rows only.
    expect(steady?.runId).toBe('steady');
    expect(steady?.psi).toEqual([
      { feature: 'recency_days', psi: 0.03, severity: 'none' },
      { feature: 'tenure_days', psi: 0.12, severity: 'low' },
    ]);
    expect(steady?.proxy).toEqual({
      modelVersion: V1,
      judgedScoringDate: '2024-01-01',
      windowDays: 30,
      status: 'no_previous',
      metrics: { spearman: 0.41, pearson: 0.37, customers: 540 },
    });
    expect(steady?.retrainingTriggered).toBe(false);
    expect(drift?.psi).toHaveLength(9);
    expect(drift?.psi.find((r) => r.feature === 'acquisition_channel')?.severity).toBe('medium');
    expect(drift?.thresholds).toEqual({ psi_low: 0.1, psi_medium: 0.25 });
    expect(drift?.proxy).toBeNull();
    expect(drift?.retrainingTriggered).toBe(true);

    expect(data.predictions.ok && data.predictions.value.customers).toBe(894);
    expect(data.predictions.ok && data.predictions.value.tiers.map((t) => [t.tier, t.customers])).toEqual([
      ['High', 85],
      ['Medium', 164],
      ['Low', 645],
    ]);
    const tiers = data.predictions.ok ? data.predictions.value.tiers : [];
    for (const t of tiers) expect(t.p05 <= t.q1 && t.q1 <= t.median && t.median <= t.q3 && t.q3 <= t.p95).toBe(true);

    expect(data.experiment.ok && data.experiment.value.decision).toBe('no_difference');
    expect(data.experiment.ok && data.experiment.value.conversion.ciLow).toBeLessThan(0);
    expect(data.quality[0]?.summary).toMatchObject({ status: 'pass', total: 37, passed: 37 });
    expect(data.quality[0]?.reportHtml).toMatch(/report\.html$/);
  });

  it('draws the baselines of an evaluation only when it has their curves', async () => {
    const data = await collectReportData(sources());
    const spec = lorenzSpec(data.evaluations) as { data: { values: { evaluation: string; curve: string }[] } };
    const curves = (label: string) =>
      new Set(spec.data.values.filter((v) => v.evaluation === label).map((v) => v.curve));
    expect(curves('v1 (first champion)')).toEqual(new Set(['model', 'random ranking']));
    expect(curves('v2 (challenger)')).toEqual(
      new Set(['model', 'random ranking', 'bgnbd_gg', 'heuristic', 'linear_rfm']),
    );
  });
});

describe('writeReport', () => {
  it('holds each chart as an inline SVG, links copied assets and references nothing outside', async () => {
    const { path: file, charts } = await writeReport(sources(), { outDir: out, title: 'Demo <test>' });
    expect(file).toBe(path.join(out, 'report.html'));
    expect(charts).toEqual([...CHART_IDS]);
    const html = fs.readFileSync(file, 'utf8');
    for (const id of CHART_IDS) {
      const f = figure(html, id);
      expect(f, id).toContain('<svg');
      expect(f, id).toContain('<figcaption>');
      expect(f, id).not.toContain('Not drawn');
    }
    expect(html).toContain('<title>Demo &lt;test&gt;</title>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    const withoutNamespaces = html.replace(/xmlns(:\w+)?="https?:\/\/[^"]*"/g, '');
    expect(withoutNamespaces).not.toMatch(/https?:\/\//);
    expect(withoutNamespaces).not.toMatch(/\b(src|href)="\//);

    const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1] as string);
    expect(hrefs.sort()).toEqual([
      'assets/model-card-v1.md',
      'assets/model-card-v2.md',
      'assets/quality-silver-transactions.html',
    ]);
    for (const h of hrefs) expect(fs.existsSync(path.join(out, h)), h).toBe(true);
    expect(fs.readFileSync(path.join(out, 'assets/model-card-v1.md'), 'utf8')).toBe(
      fs.readFileSync(
        path.join(FIXTURE, 'clv-local-artifacts/evaluations/demo-training-pipeline/model_card.md'),
        'utf8',
      ),
    );

    expect(figure(html, 'lorenz')).toContain('no baseline curves');
    expect(figure(html, 'psi')).toContain('steady');
    expect(figure(html, 'canary')).toContain('no_difference');
    expect(html).toContain('894 (2025-01-01, clv-train-demo-challenger)');
    expect(html).toContain(
      '<th>alerts (drift, 2025-01-01)</th><td>9 features monitored: 6 with medium drift, 1 with low; retraining triggered</td>',
    );
    expect(html).toContain(
      '<th>alerts (steady, 2024-07-01)</th><td>2 features monitored: 0 with medium drift, 1 with low; no retraining</td>',
    );
  });

  it('explains a missing source instead of drawing it and leaves it out of charts', async () => {
    const dir = path.join(out, 'missing');
    const { charts } = await writeReport(
      sources({
        experiment: undefined,
        predictions: undefined,
        monitoring: [{ period: 'drift', scoring_date: '2025-01-01', model_version: V1 }],
      }),
      { outDir: dir },
    );
    expect(charts).toEqual(['lorenz', 'calibration', 'shap', 'psi', 'quality', 'reconciliation']);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    for (const id of ['proxy', 'canary', 'tiers']) {
      const f = figure(html, id);
      expect(f, id).not.toContain('<svg');
      expect(f, id).toMatch(/<p class="missing">Not drawn: [^<]+<\/p>/);
    }
    expect(figure(html, 'proxy')).toContain('no such window has closed');
    expect(figure(html, 'canary')).toContain('no campaign experiment ran');
  });

  it('says why when the campaign experiment failed', async () => {
    const { charts } = await writeReport(
      sources({ experiment: { path: path.join(root, '_local/executions/campaign-experiment/demo-campaign-2.json') } }),
      { outDir: path.join(out, 'failed') },
    );
    expect(charts).not.toContain('canary');
    const html = fs.readFileSync(path.join(out, 'failed', 'report.html'), 'utf8');
    expect(figure(html, 'canary')).toContain('demo-campaign-2 ended FAILED (CampaignExperimentFailed');
  });

  it('renders with no source at all: every figure is there, none drawn', async () => {
    const empty: ReportSources = {
      root,
      evaluations: [],
      modelCards: [],
      monitoring: [],
      qualityReports: [],
      reconciliation: [],
    };
    const { html, charts } = await buildReport(await collectReportData(empty), {
      title: 't',
      outDir: path.join(out, 'e'),
    });
    expect(charts).toEqual([]);
    for (const id of CHART_IDS) expect(figure(html, id)).toContain('Not drawn');
  });
});

describe('bad input names the file and the field', () => {
  function variant(rel: string, edit: (json: Record<string, unknown>) => void): string {
    const file = path.join(root, 'bad', rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const json = JSON.parse(fs.readFileSync(path.join(root, rel), 'utf8'));
    edit(json);
    fs.writeFileSync(file, JSON.stringify(json));
    return file;
  }

  it('an evaluation report without its Lorenz points', async () => {
    const file = variant('clv-local-artifacts/evaluations/demo-challenger/evaluation.json', (j) => {
      delete (j.revenue as Record<string, unknown>).lorenz;
    });
    const s = sources({ evaluations: [{ label: 'bad', path: file }] });
    await expect(collectReportData(s)).rejects.toThrow(`evaluation report ${file}: field 'revenue.lorenz'`);
  });

  it('a data-quality result with an unknown status', async () => {
    const file = variant('clv-local-artifacts/quality/silver_transactions/dt=2024-12-31/result.json', (j) => {
      (j.summary as Record<string, unknown>).status = 'maybe';
    });
    await expect(collectReportData(sources({ qualityReports: [{ label: 'q', path: file }] }))).rejects.toThrow(
      `data-quality result ${file}: field 'summary.status'`,
    );
  });

  it('a campaign-experiment execution that is not JSON, and one without its analysis', async () => {
    const broken = path.join(root, 'bad', 'broken.json');
    fs.mkdirSync(path.dirname(broken), { recursive: true });
    fs.writeFileSync(broken, '{"name": ');
    await expect(collectReportData(sources({ experiment: { path: broken } }))).rejects.toThrow(
      `campaign-experiment execution ${broken}: not JSON`,
    );
    const noAnalysis = variant('_local/executions/campaign-experiment/demo-campaign-3.json', (j) => {
      delete (j.output as Record<string, unknown>).analysis;
    });
    await expect(collectReportData(sources({ experiment: { path: noAnalysis } }))).rejects.toThrow(
      `campaign-experiment execution ${noAnalysis}: field 'output.analysis' is missing`,
    );
  });

  it('a missing file, a missing predictions partition and a bad source', async () => {
    const gone = path.join(root, 'nowhere', 'model_card.md');
    await expect(collectReportData(sources({ modelCards: [{ label: 'x', path: gone }] }))).rejects.toThrow(
      `model card ${gone}: no such file`,
    );
    await expect(
      collectReportData(sources({ predictions: { scoring_date: '2030-01-01', model_version: V2 } })),
    ).rejects.toThrow(/predictions .*scoring_date=2030-01-01.*: no Parquet file/);
    await expect(
      collectReportData(sources({ predictions: { scoring_date: '2025-1-1', model_version: V2 } })),
    ).rejects.toThrow("report sources: field 'predictions.scoring_date': expected YYYY-MM-DD");
    await expect(
      collectReportData(sources({ reconciliation: [{ stage: 's', in: 1, out: 2, rejected: 0 }] })),
    ).rejects.toThrow("field 'reconciliation.0.out': out exceeds in");
  });

  it('a monitoring_metrics row whose details are not JSON', async () => {
    await writeMetrics('2023-01-01', 'bad-drift.parquet', [
      ['bad', 'monitoring', V1, 'psi', 'recency_days', 0.2, 'not json', '2026-11-29T09:00:00.000Z'],
    ]);
    const s = sources({ monitoring: [{ period: 'bad', scoring_date: '2023-01-01', model_version: V1 }] });
    await expect(collectReportData(s)).rejects.toThrow(
      /monitoring_metrics .*run_date=2023-01-01 \(run bad, psi of recency_days\): field 'details' is not JSON/,
    );
  });
});
