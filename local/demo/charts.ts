/**
 * The demo report's charts: one pure function per chart building a Vega-Lite spec from ReportData, and
 * renderSvg, which compiles a spec and renders it to an SVG string in Node (Vega's headless view: no browser,
 * no canvas, no network). Data is always inline, so rendering never fetches anything and the page stays
 * self-contained.
 */
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import * as vl from 'vega-lite';
import type {
  EvaluationView,
  ExperimentView,
  MonitoringView,
  PredictionsView,
  QualityView,
  ReportData,
} from './report-data.js';

/** The charts of the report, in page order; each is a `<figure id="chart-<id>">`. */
export const CHART_IDS = [
  'lorenz',
  'calibration',
  'tiers',
  'shap',
  'psi',
  'proxy',
  'canary',
  'quality',
  'reconciliation',
] as const;
export type ChartId = (typeof CHART_IDS)[number];

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, labelLimit: 320 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  view: { stroke: null },
};

const MODEL_COLOR = '#1f5fa8';
const PALETTE = ['#1f5fa8', '#e07b20', '#2a9d5c', '#b8336a', '#7a5195', '#8a8a8a'];
/** Number of SHAP features shown (the most important ones of the latest evaluation). */
export const SHAP_TOP = 12;

/**
 * Axis values of a log-like scale: 0 (symlog only) and the 1-2-5 sequence up to `max` (`steps` [1] for powers of
 * ten). Vega's own ticks crowd on a symlog axis, hence explicit values.
 */
export function logTicks(max: number, steps: number[] = [1, 2, 5]): number[] {
  const out = [0];
  for (let p = 1; p <= Math.max(1, max) * 10; p *= 10) {
    for (const s of steps) if (s * p <= max) out.push(s * p);
  }
  return out;
}

const withConfig = (spec: Record<string, unknown>): TopLevelSpec => ({ ...spec, config: CONFIG }) as TopLevelSpec;

/** Compiles a Vega-Lite spec and renders it to an SVG string (headless: renderer 'none'). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// ------------------------------------------------------------------------------------------------ model

/** Cumulative gain of each evaluation's model against its baselines and a random ranking, one panel each. */
export function lorenzSpec(evaluations: EvaluationView[]): TopLevelSpec {
  const rows: Record<string, unknown>[] = [];
  const curves: string[] = ['model'];
  for (const e of evaluations) {
    for (const p of e.lorenz) rows.push({ evaluation: e.label, curve: 'model', ...p });
    for (const b of e.baselines) {
      if (b.lorenz === null) continue;
      if (!curves.includes(b.name)) curves.push(b.name);
      for (const p of b.lorenz) rows.push({ evaluation: e.label, curve: b.name, ...p });
    }
    rows.push(
      { evaluation: e.label, curve: 'random ranking', customer_share: 0, value_share: 0 },
      { evaluation: e.label, curve: 'random ranking', customer_share: 1, value_share: 1 },
    );
  }
  curves.push('random ranking');
  return withConfig({
    data: { values: rows },
    facet: {
      column: { field: 'evaluation', type: 'nominal', title: null, sort: evaluations.map((e) => e.label) },
    },
    spec: {
      width: 420,
      height: 320,
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 2 },
      encoding: {
        x: {
          field: 'customer_share',
          type: 'quantitative',
          title: 'share of customers, ranked by predicted value',
          axis: { format: '.0%' },
        },
        y: {
          field: 'value_share',
          type: 'quantitative',
          title: 'share of actual 12-month revenue',
          axis: { format: '.0%' },
        },
        color: {
          field: 'curve',
          type: 'nominal',
          title: 'ranking',
          scale: { domain: curves, range: [...PALETTE.slice(0, curves.length - 1), '#b0b0b0'] },
          legend: { orient: 'bottom', direction: 'horizontal' },
        },
        strokeDash: {
          field: 'curve',
          type: 'nominal',
          scale: { domain: curves, range: curves.map((_, i) => (i === 0 ? [1, 0] : [6, 3])) },
        },
        order: { field: 'customer_share', type: 'quantitative' },
      },
    },
  });
}

/** Mean predicted vs mean actual revenue per decile of prediction, one panel per evaluation. */
export function calibrationSpec(evaluations: EvaluationView[]): TopLevelSpec {
  const rows = evaluations.flatMap((e) =>
    e.deciles.flatMap((d) => [
      { evaluation: e.label, decile: d.decile, series: 'mean predicted', value: d.mean_predicted },
      { evaluation: e.label, decile: d.decile, series: 'mean actual', value: d.mean_actual },
    ]),
  );
  return withConfig({
    data: { values: rows },
    facet: {
      column: { field: 'evaluation', type: 'nominal', title: null, sort: evaluations.map((e) => e.label) },
    },
    spec: {
      width: 420,
      height: 260,
      mark: { type: 'bar' },
      encoding: {
        x: {
          field: 'decile',
          type: 'ordinal',
          title: 'decile of predicted revenue (1 = highest)',
          axis: { labelAngle: 0 },
        },
        xOffset: { field: 'series', sort: ['mean predicted', 'mean actual'] },
        y: { field: 'value', type: 'quantitative', title: 'mean 12-month revenue per customer' },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: ['mean predicted', 'mean actual'], range: [MODEL_COLOR, '#e07b20'] },
          legend: { orient: 'bottom', direction: 'horizontal' },
        },
        tooltip: [{ field: 'value', format: '.2f' }],
      },
    },
  });
}

/** Distribution of the predicted 12-month revenue per tier: 5–95% whiskers, quartile box, median tick. */
export function tiersSpec(p: PredictionsView): TopLevelSpec {
  const rows = p.tiers.map((t) => ({ ...t, label: `${t.tier} (${t.customers.toLocaleString('en-US')})` }));
  const y = { field: 'label', type: 'nominal', title: 'tier (customers)', sort: rows.map((r) => r.label) };
  const max = Math.max(0, ...p.tiers.map((t) => t.max));
  const x = {
    type: 'quantitative',
    title: 'predicted 12-month revenue per customer (symmetric log scale)',
    scale: { type: 'symlog' },
    axis: { values: logTicks(max), format: ',d' },
  };
  return withConfig({
    data: { values: rows },
    width: 900,
    height: 40 * rows.length + 20,
    layer: [
      {
        mark: { type: 'rule', color: '#555' },
        encoding: { y, x: { ...x, field: 'p05' }, x2: { field: 'p95' } },
      },
      {
        mark: { type: 'bar', size: 22, color: '#9fc0e8', stroke: MODEL_COLOR },
        encoding: { y, x: { ...x, field: 'q1' }, x2: { field: 'q3' } },
      },
      {
        mark: { type: 'tick', color: '#0b2f5c', size: 22, thickness: 3 },
        encoding: { y, x: { ...x, field: 'median' } },
      },
      {
        mark: { type: 'point', shape: 'diamond', filled: true, color: '#e07b20', size: 60 },
        encoding: { y, x: { ...x, field: 'mean' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 6, fontSize: 11, color: '#333' },
        encoding: { y, x: { ...x, field: 'p95' }, text: { field: 'median', format: '.1f' } },
      },
    ],
  });
}

/** Mean |SHAP| of the most important features (of the last evaluation), one bar per evaluation. */
export function shapSpec(evaluations: EvaluationView[]): TopLevelSpec {
  const last = evaluations[evaluations.length - 1];
  const top = (last?.shap ?? []).slice(0, SHAP_TOP).map((s) => s.feature);
  const rows = evaluations.flatMap((e) =>
    e.shap.filter((s) => top.includes(s.feature)).map((s) => ({ evaluation: e.label, ...s })),
  );
  const labels = evaluations.map((e) => e.label);
  return withConfig({
    data: { values: rows },
    width: 760,
    // With yOffset the step is the height of one bar (not of a feature's group).
    height: { step: 12 },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'feature', type: 'nominal', title: null, sort: top, axis: { labelLimit: 240 } },
      yOffset: { field: 'evaluation', sort: labels },
      x: { field: 'mean_abs_shap', type: 'quantitative', title: 'mean |SHAP| (contribution to log revenue)' },
      color: {
        field: 'evaluation',
        type: 'nominal',
        title: null,
        scale: { domain: labels, range: PALETTE.slice(0, labels.length) },
        legend: { orient: 'bottom', direction: 'horizontal' },
      },
    },
  });
}

// ------------------------------------------------------------------------------------------------ monitoring

/** PSI per monitored feature, one bar per monitoring period, with the low/medium thresholds. */
export function psiSpec(monitoring: MonitoringView[]): TopLevelSpec {
  const shown = monitoring.filter((m) => m.psi.length > 0);
  const periods = shown.map((m) => m.period);
  const rows = shown.flatMap((m) => m.psi.map((r) => ({ period: m.period, ...r })));
  const features = [...new Set(rows.map((r) => r.feature))];
  const t = shown.find((m) => m.thresholds !== null)?.thresholds ?? null;
  const rules = t
    ? [
        { at: t.psi_low, label: `low ≥ ${t.psi_low}` },
        { at: t.psi_medium, label: `medium > ${t.psi_medium}` },
      ]
    : [];
  const layers: Record<string, unknown>[] = [
    {
      data: { values: rows },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'feature', type: 'nominal', title: null, sort: features, axis: { labelLimit: 240 } },
        yOffset: { field: 'period', sort: periods },
        x: { field: 'psi', type: 'quantitative', title: 'population stability index (PSI) vs training' },
        color: {
          field: 'period',
          type: 'nominal',
          title: 'period',
          scale: { domain: periods, range: PALETTE.slice(0, periods.length) },
          legend: { orient: 'bottom', direction: 'horizontal' },
        },
      },
    },
  ];
  if (rules.length > 0) {
    layers.push({
      data: { values: rules },
      mark: { type: 'rule', color: '#cf222e', strokeDash: [4, 3] },
      encoding: { x: { field: 'at', type: 'quantitative' } },
    });
    // One label row per threshold, above the plot: the two thresholds are close on a wide PSI axis.
    for (const [i, r] of rules.entries()) {
      layers.push({
        data: { values: [r] },
        mark: {
          type: 'text',
          color: '#cf222e',
          align: 'left',
          dx: 3,
          baseline: 'bottom',
          y: -2 - 12 * i,
          fontSize: 10,
        },
        encoding: { x: { field: 'at', type: 'quantitative' }, text: { field: 'label' } },
      });
    }
  }
  return withConfig({ width: 760, height: { step: 12 }, layer: layers });
}

/** The proxy correlations (prediction vs actual spend in the window after a scoring run) per period. */
export function proxySpec(monitoring: MonitoringView[]): TopLevelSpec {
  const rows = monitoring.flatMap((m) =>
    m.proxy === null
      ? []
      : (['spearman', 'pearson'] as const)
          .filter((k) => m.proxy?.metrics[k] !== undefined)
          .map((k) => ({
            period: m.period,
            metric: k === 'spearman' ? 'Spearman (rank)' : 'Pearson',
            value: m.proxy?.metrics[k],
          })),
  );
  const periods = [...new Set(rows.map((r) => r.period))];
  return withConfig({
    data: { values: rows },
    width: 520,
    height: 240,
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'metric', type: 'nominal', title: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'period', sort: periods },
          y: {
            field: 'value',
            type: 'quantitative',
            title: 'correlation with actual spend',
            scale: { domain: [-1, 1] },
          },
          color: {
            field: 'period',
            type: 'nominal',
            title: 'period',
            scale: { domain: periods, range: PALETTE.slice(0, periods.length) },
            legend: { orient: 'bottom', direction: 'horizontal' },
          },
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 11 },
        encoding: {
          x: { field: 'metric', type: 'nominal' },
          xOffset: { field: 'period', sort: periods },
          y: { field: 'value', type: 'quantitative' },
          text: { field: 'value', format: '.3f' },
        },
      },
    ],
  });
}

/** The canary's differences (challenger − champion arm) with their confidence intervals. */
export function canarySpec(x: ExperimentView): TopLevelSpec {
  const level = x.alpha === null ? 'confidence interval' : `${Math.round((1 - x.alpha) * 100)}% confidence interval`;
  const panel = (title: string, c: ExperimentView['conversion'], format: string) => ({
    title: { text: title, anchor: 'start', fontSize: 12, fontWeight: 'normal' },
    width: 760,
    height: 60,
    data: { values: [{ row: 'challenger − champion', diff: c.diff, lo: c.ciLow, hi: c.ciHigh, p: c.pValue }] },
    layer: [
      {
        mark: { type: 'rule', color: '#8a8a8a', strokeDash: [4, 3] },
        data: { values: [{ zero: 0 }] },
        encoding: { x: { field: 'zero', type: 'quantitative' } },
      },
      {
        mark: { type: 'rule', strokeWidth: 3, color: MODEL_COLOR },
        encoding: {
          y: { field: 'row', type: 'nominal', title: null, axis: null },
          x: { field: 'lo', type: 'quantitative', title: `difference and ${level}`, axis: { format } },
          x2: { field: 'hi' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 90, color: '#e07b20' },
        encoding: { y: { field: 'row', type: 'nominal' }, x: { field: 'diff', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', dy: -14, fontSize: 11 },
        encoding: {
          y: { field: 'row', type: 'nominal' },
          x: { field: 'diff', type: 'quantitative' },
          text: { field: 'diff', format },
        },
      },
    ],
  });
  return withConfig({
    vconcat: [
      panel(
        `Conversion rate: champion ${(x.conversion.control * 100).toFixed(2)}%, challenger ` +
          `${(x.conversion.treatment * 100).toFixed(2)}% (p = ${x.conversion.pValue.toFixed(3)})`,
        x.conversion,
        '+.2%',
      ),
      panel(
        `Revenue per targeted customer: champion ${x.revenuePerUser.control.toFixed(2)}, challenger ` +
          `${x.revenuePerUser.treatment.toFixed(2)} (p = ${x.revenuePerUser.pValue.toFixed(3)})`,
        x.revenuePerUser,
        '+.2f',
      ),
    ],
  });
}

// ------------------------------------------------------------------------------------------------ data

const QUALITY_OUTCOMES = ['passed', 'failed (warning)', 'failed (critical)', 'skipped'] as const;

/** Expectations per data-quality report by outcome. */
export function qualitySpec(quality: QualityView[]): TopLevelSpec {
  const rows = quality.flatMap((q) => {
    const label = `${q.label} (${q.summary.status})`;
    const counts = [q.summary.passed, q.summary.failedWarning, q.summary.failedCritical, q.summary.skipped];
    return QUALITY_OUTCOMES.map((outcome, i) => ({ report: label, outcome, count: counts[i], order: i }));
  });
  return withConfig({
    data: { values: rows },
    width: 760,
    height: { step: 28 },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'report', type: 'nominal', title: null, axis: { labelLimit: 320 } },
      x: { field: 'count', type: 'quantitative', title: 'expectations', stack: 'zero' },
      color: {
        field: 'outcome',
        type: 'nominal',
        title: null,
        scale: { domain: [...QUALITY_OUTCOMES], range: ['#2a9d5c', '#d4a017', '#cf222e', '#b0b0b0'] },
        legend: { orient: 'bottom', direction: 'horizontal' },
      },
      order: { field: 'order', type: 'quantitative' },
    },
  });
}

/** Rows in, out and rejected per step of the demo (symmetric log scale: steps differ by orders of magnitude). */
export function reconciliationSpec(rec: ReportData['reconciliation']): TopLevelSpec {
  const measures = ['in', 'out', 'rejected'];
  const rows = rec.flatMap((r) => [
    { stage: r.stage, measure: 'in', count: r.in },
    { stage: r.stage, measure: 'out', count: r.out },
    { stage: r.stage, measure: 'rejected', count: r.rejected },
  ]);
  const encoding = {
    y: { field: 'stage', type: 'nominal', title: null, sort: rec.map((r) => r.stage), axis: { labelLimit: 280 } },
    yOffset: { field: 'measure', sort: measures },
    x: {
      field: 'count',
      type: 'quantitative',
      title: 'rows (symmetric log scale)',
      scale: { type: 'symlog' },
      axis: { values: logTicks(Math.max(0, ...rec.map((r) => r.in)), [1]), format: ',d' },
    },
  };
  return withConfig({
    data: { values: rows },
    width: 760,
    height: { step: 12 },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          ...encoding,
          color: {
            field: 'measure',
            type: 'nominal',
            title: null,
            scale: { domain: measures, range: [MODEL_COLOR, '#2a9d5c', '#cf222e'] },
            legend: { orient: 'bottom', direction: 'horizontal' },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: { ...encoding, text: { field: 'count', format: ',d' } },
      },
    ],
  });
}
