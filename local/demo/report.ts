/**
 * The demo's HTML report (DIR/report.html): one self-contained page, charts rendered to inline SVG in Node
 * (./charts.ts), CSS inline, no script and no external URL, so it opens offline from any folder. The model
 * cards and the data-quality reports it links are copied into DIR/assets/ and linked relatively, which keeps
 * the report folder self-contained too.
 *
 * Every chart is a `<figure id="chart-<id>">`; when its source is missing (no campaign experiment with
 * --skip-drift, no proxy window closed yet) the figure holds a one-line reason instead of an SVG.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import {
  CHART_IDS,
  type ChartId,
  calibrationSpec,
  canarySpec,
  lorenzSpec,
  proxySpec,
  psiSpec,
  qualitySpec,
  reconciliationSpec,
  renderSvg,
  SHAP_TOP,
  shapSpec,
  tiersSpec,
} from './charts.js';
import { collectReportData, type ReportData, type ReportSources } from './report-data.js';

export const DEFAULT_TITLE = 'CLV platform: local demo report';
/** Folder (inside the report's folder) of the copied model cards and data-quality reports. */
export const ASSETS_DIR = 'assets';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const fmt = (n: number, digits = 3): string => n.toFixed(digits);
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;

/** What a chart shows: a spec to render, or why it cannot be drawn. */
type ChartPlan = { title: string; caption: string } & ({ spec: TopLevelSpec } | { missing: string });

/** The plan of each chart from the data (pure): titles, captions, specs or reasons. */
export function planCharts(data: ReportData): Record<ChartId, ChartPlan> {
  const evals = data.evaluations;
  const noEval = 'no evaluation report was given.';

  const lorenzNotes = evals
    .filter((e) => e.baselines.length > 0 && e.baselines.every((b) => b.lorenz === null))
    .map((e) => `${e.label}: its evaluation report has no baseline curves (older report), so the model only is drawn.`);
  const giniText = evals
    .map(
      (e) =>
        `${e.label} (${e.modelVersion}): model Gini ${fmt(e.gini)}` +
        (e.baselines.length > 0 ? `; ${e.baselines.map((b) => `${b.name} ${fmt(b.gini)}`).join(', ')}` : ''),
    )
    .join('. ');

  const psiShown = data.monitoring.filter((m) => m.psi.length > 0);
  const psiMissing = data.monitoring.filter((m) => m.psi.length === 0);
  const psiCaption = [
    ...psiShown.map((m) => {
      const alerts = m.psi.filter((r) => r.severity !== 'none').map((r) => `${r.feature} (${r.severity})`);
      return (
        `${m.period}: scoring date ${m.scoringDate}, model ${m.modelVersion}, run ${m.runId}; ` +
        (alerts.length > 0 ? `drift in ${alerts.join(', ')}` : 'no feature drifted')
      );
    }),
    ...psiMissing.map((m) => `${m.period}: no drift rows for ${m.scoringDate} / ${m.modelVersion}`),
  ].join('. ');

  const proxyShown = data.monitoring.filter(
    (m) => m.proxy !== null && (m.proxy.metrics.spearman !== undefined || m.proxy.metrics.pearson !== undefined),
  );
  const windowDays = data.monitoring.find((m) => m.proxy?.windowDays != null)?.proxy?.windowDays;
  const proxyReason =
    'the proxy metric compares the predictions of a scoring run with the actual spend in the ' +
    `${windowDays ? `${windowDays}-day ` : ''}window after it, and no such window has closed in this demo` +
    (data.monitoring.length === 0 ? ' (no monitoring run was given).' : '.');

  const x = data.experiment;
  const q = data.quality;
  const rec = data.reconciliation;
  const p = data.predictions;

  return {
    lorenz:
      evals.length === 0
        ? { title: 'Lorenz curve', caption: '', missing: noEval }
        : {
            title: 'Lorenz (cumulative gain) curve: the model against the baselines',
            caption: `Test snapshot of each evaluation. ${giniText}. ${lorenzNotes.join(' ')}`.trim(),
            spec: lorenzSpec(evals),
          },
    calibration:
      evals.length === 0
        ? { title: 'Decile calibration', caption: '', missing: noEval }
        : {
            title: 'Decile calibration: mean predicted vs mean actual revenue',
            caption: `Customers ranked by predicted 12-month revenue and cut into ten groups. ${evals
              .map((e) => `${e.label}: RMSE ${fmt(e.rmse, 2)}`)
              .join('; ')}.`,
            spec: calibrationSpec(evals),
          },
    tiers: p.ok
      ? {
          title: 'CLV distribution by tier',
          caption:
            `Scoring run ${p.value.scoringDate}, model ${p.value.modelVersion}: ${p.value.customers.toLocaleString('en-US')} ` +
            'customers. Box: quartiles; dark tick: median (value at the right); whisker: 5th–95th percentile; ' +
            `diamond: mean. ${p.value.tiers.map((t) => `${t.tier} ${pct(t.customers / p.value.customers)}`).join(', ')}.`,
          spec: tiersSpec(p.value),
        }
      : { title: 'CLV distribution by tier', caption: '', missing: p.reason },
    shap:
      evals.length === 0 || evals.every((e) => e.shap.length === 0)
        ? { title: 'SHAP importance', caption: '', missing: evals.length === 0 ? noEval : 'no SHAP importance.' }
        : {
            title: 'SHAP importance of the revenue model',
            caption: `The ${SHAP_TOP} most important features of ${evals[evals.length - 1]?.label}, mean absolute SHAP value on the test snapshot.`,
            spec: shapSpec(evals),
          },
    psi:
      psiShown.length === 0
        ? {
            title: 'PSI by feature',
            caption: '',
            missing:
              data.monitoring.length === 0
                ? 'no monitoring run was given.'
                : `no drift rows in gold monitoring_metrics for ${data.monitoring
                    .map((m) => `${m.period} (${m.scoringDate} / ${m.modelVersion})`)
                    .join(', ')}.`,
          }
        : {
            title: 'PSI by feature for each monitoring period',
            caption: `${psiCaption}.`,
            spec: psiSpec(data.monitoring),
          },
    proxy:
      proxyShown.length === 0
        ? { title: 'Proxy metric', caption: '', missing: proxyReason }
        : {
            title: 'Proxy metric: predictions vs actual spend after scoring',
            caption: `${proxyShown
              .map(
                (m) =>
                  `${m.period}: judged the scoring run of ${m.proxy?.judgedScoringDate ?? 'an earlier date'} ` +
                  `(model ${m.proxy?.modelVersion}${m.proxy?.windowDays ? `, ${m.proxy.windowDays}-day window` : ''}` +
                  `${m.proxy?.metrics.customers !== undefined ? `, ${m.proxy.metrics.customers} customers` : ''})` +
                  `${m.proxy?.status ? `, status ${m.proxy.status}` : ''}`,
              )
              .join('. ')}.`,
            spec: proxySpec(data.monitoring),
          },
    canary: x.ok
      ? {
          title: 'Canary campaign: challenger vs champion',
          caption:
            `Campaign ${x.value.campaignId ?? x.value.execution} (${x.value.mode ?? 'ab'}` +
            `${x.value.treatmentShare !== null ? `, ${pct(x.value.treatmentShare)} to the challenger` : ''}): ` +
            `champion ${x.value.championVersion ?? '?'} (n = ${x.value.n.control}), challenger ` +
            `${x.value.challengerVersion ?? '?'} (n = ${x.value.n.treatment})` +
            `${x.value.srmPValue !== null ? `, sample-ratio p = ${fmt(x.value.srmPValue)}` : ''}. ` +
            `Decision: ${x.value.decision}. ${x.value.reasons.join(' ')}`,
          spec: canarySpec(x.value),
        }
      : { title: 'Canary campaign', caption: '', missing: x.reason },
    quality:
      q.length === 0
        ? { title: 'Data quality', caption: '', missing: 'no data-quality result was given.' }
        : {
            title: 'Data-quality expectations',
            caption: q
              .map(
                (r) =>
                  `${r.label}: ${r.dataset} ${r.date}, ${r.summary.status} (${r.summary.passed}/${r.summary.total} passed)` +
                  (r.failures.length > 0
                    ? `; failed: ${r.failures.map((f) => `${f.id} (${f.severity})`).join(', ')}`
                    : ''),
              )
              .join('. ')
              .concat('.'),
            spec: qualitySpec(q),
          },
    reconciliation:
      rec.length === 0
        ? { title: 'Reconciliation', caption: '', missing: 'no reconciliation counts were given.' }
        : {
            title: 'Reconciliation: rows in, out and rejected per step',
            caption: rec
              .map((r) => `${r.stage}: ${r.in} in, ${r.out} out, ${r.rejected} rejected`)
              .join('; ')
              .concat('.'),
            spec: reconciliationSpec(rec),
          },
  };
}

/** File-name-safe form of a label. */
function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'file'
  );
}

/** Copies a linked file into outDir/assets under a unique name; returns its link relative to outDir. */
function copyAsset(source: string, name: string, outDir: string, taken: Set<string>): string {
  const ext = path.extname(source);
  let file = `${name}${ext}`;
  for (let i = 2; taken.has(file); i++) file = `${name}-${i}${ext}`;
  taken.add(file);
  fs.mkdirSync(path.join(outDir, ASSETS_DIR), { recursive: true });
  fs.copyFileSync(source, path.join(outDir, ASSETS_DIR, file));
  return `${ASSETS_DIR}/${file}`;
}

function summaryRows(data: ReportData): [string, string][] {
  const rows: [string, string][] = [];
  for (const e of data.evaluations) {
    rows.push([`model ${e.label}`, `${e.modelVersion}: test Gini ${fmt(e.gini)}, RMSE ${fmt(e.rmse, 2)}`]);
  }
  if (data.predictions.ok) {
    const p = data.predictions.value;
    rows.push(['customers scored', `${p.customers.toLocaleString('en-US')} (${p.scoringDate}, ${p.modelVersion})`]);
  }
  for (const m of data.monitoring) {
    // Severities of the drift Lambda (lambdas/drift/core.ts): none | low | medium.
    const bySeverity = (sev: string) => m.psi.filter((r) => r.severity === sev).length;
    const parts = [
      m.psi.length === 0
        ? 'no drift rows'
        : `${m.psi.length} features monitored: ${bySeverity('medium')} with medium drift, ${bySeverity('low')} with low`,
    ];
    if (m.retrainingTriggered !== null) parts.push(m.retrainingTriggered ? 'retraining triggered' : 'no retraining');
    rows.push([`alerts (${m.period}, ${m.scoringDate})`, parts.join('; ')]);
  }
  if (data.experiment.ok) rows.push(['canary decision', data.experiment.value.decision]);
  if (data.reconciliation.length > 0) rows.push(['stages reconciled', String(data.reconciliation.length)]);
  return rows;
}

const CSS = `
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1200px;color:#1f2328;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin:0 0 8px}
.meta{color:#57606a;font-size:13px;margin-top:0}
table{border-collapse:collapse;font-size:13px;margin:8px 0 24px}
td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}th{background:#f6f8fa}
figure{margin:0 0 28px;padding:16px;border:1px solid #d0d7de;border-radius:6px;overflow-x:auto}
figure svg{display:block;max-width:100%;height:auto}
figcaption{font-size:13px;color:#424a53;margin-top:8px;line-height:1.45}
p.missing{font-size:14px;color:#9a6700;background:#fff8c5;padding:8px 12px;border-radius:4px;margin:0}
ul.links{font-size:13px}
`;

/**
 * Renders the report's HTML from the data and copies the linked files (model cards, data-quality reports)
 * into outDir/assets. Returns the page and the ids of the charts drawn (not those replaced by a reason).
 */
export async function buildReport(
  data: ReportData,
  opts: { title: string; outDir: string },
): Promise<{ html: string; charts: ChartId[] }> {
  const plans = planCharts(data);
  const charts: ChartId[] = [];
  const figures: string[] = [];
  for (const id of CHART_IDS) {
    const plan = plans[id];
    const head = `<h2>${escapeHtml(plan.title)}</h2>`;
    if ('missing' in plan) {
      figures.push(
        `<figure id="chart-${id}" class="missing">${head}<p class="missing">Not drawn: ${escapeHtml(plan.missing)}</p></figure>`,
      );
      continue;
    }
    const svg = await renderSvg(plan.spec);
    charts.push(id);
    figures.push(`<figure id="chart-${id}">${head}${svg}<figcaption>${escapeHtml(plan.caption)}</figcaption></figure>`);
  }

  const taken = new Set<string>();
  const docs = [
    ...data.modelCards.map((c) => ({
      text: `Model card, ${c.label}`,
      href: copyAsset(c.source, `model-card-${slug(c.label)}`, opts.outDir, taken),
    })),
    ...data.quality.flatMap((q) =>
      q.reportHtml === null
        ? []
        : [
            {
              text: `Data-quality report, ${q.label} (${q.dataset} ${q.date})`,
              href: copyAsset(q.reportHtml, `quality-${slug(q.label)}`, opts.outDir, taken),
            },
          ],
    ),
  ];
  const links = docs.map((d) => `<li><a href="${escapeHtml(d.href)}">${escapeHtml(d.text)}</a></li>`);

  const summary = summaryRows(data)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(opts.title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(opts.title)}</h1>`,
    `<p class="meta">Generated ${escapeHtml(new Date().toISOString())} from the local object store. ${charts.length} of ${CHART_IDS.length} charts drawn.</p>`,
    summary ? `<table>${summary}</table>` : '',
    links.length > 0 ? `<h2>Documents</h2><ul class="links">${links.join('')}</ul>` : '',
    ...figures,
    '</body></html>',
  ].join('\n');
  return { html, charts };
}

/** The report's HTML (copies the linked files into outDir/assets; see buildReport). */
export async function renderReport(data: ReportData, opts: { title: string; outDir: string }): Promise<string> {
  return (await buildReport(data, opts)).html;
}

/** Collects the data, renders the report and writes outDir/report.html; returns its path and the charts drawn. */
export async function writeReport(
  sources: ReportSources,
  opts: { outDir: string; title?: string },
): Promise<{ path: string; charts: string[] }> {
  const data = await collectReportData(sources);
  const outDir = path.resolve(opts.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  const { html, charts } = await buildReport(data, { title: opts.title ?? DEFAULT_TITLE, outDir });
  const file = path.join(outDir, 'report.html');
  fs.writeFileSync(file, html);
  return { path: file, charts };
}
