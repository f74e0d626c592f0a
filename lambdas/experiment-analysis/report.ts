/**
 * The experiment's readable report: one self-contained HTML page (no scripts, no external assets) with the
 * decision and why, the arms side by side, the two differences drawn with their confidence intervals (inline SVG)
 * and the checks (sample ratio, unsubscribe guardrail, data reconciliation).
 */
import type { Analysis, ArmAggregates, Decision } from './core.js';

/** Reconciliation counts of the arm aggregates query (sql/campaigns/arm_aggregates.sql); absent for a file. */
export interface DataChecks {
  outcomes_matched: { control: number; treatment: number };
  outcomes_outside_audience: number;
  duplicate_outcome_rows: number;
  invalid_outcome_rows: number;
  unknown_arm_rows: number;
}

export interface ReportContext {
  title: string;
  /** Key/value lines shown under the title (campaign id, run id, source, time). */
  details: ReadonlyArray<readonly [string, string]>;
  control: ArmAggregates;
  treatment: ArmAggregates;
  data_checks?: DataChecks;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const DECISION_COLOR: Record<Decision, string> = {
  ship: '#1a7f37',
  no_difference: '#57606a',
  worse: '#cf222e',
  invalid: '#9a6700',
};

const DECISION_TEXT: Record<Decision, string> = {
  ship: 'SHIP: the treatment is better',
  no_difference: 'NO DIFFERENCE detected',
  worse: 'WORSE: do not ship',
  invalid: 'INVALID experiment',
};

const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;
const money = (x: number) => x.toFixed(2);
const pv = (x: number) => (x < 1e-4 ? x.toExponential(2) : x.toFixed(4));
const signed = (s: string) => (s.startsWith('-') ? s : `+${s}`);

/**
 * One interval as an SVG: a horizontal axis with zero marked, the interval as a bar and the point estimate as a
 * dot; green when the interval lies above zero, red below, grey when it covers zero.
 */
export function intervalSvg(label: string, diff: number, lo: number, hi: number, fmt: (x: number) => string): string {
  const W = 560;
  const H = 74;
  const pad = 40;
  const extent = Math.max(Math.abs(lo), Math.abs(hi), Math.abs(diff)) * 1.15 || 1;
  const x = (v: number) => Math.round((pad + ((v + extent) / (2 * extent)) * (W - 2 * pad)) * 10) / 10;
  const color = lo > 0 ? '#1a7f37' : hi < 0 ? '#cf222e' : '#57606a';
  const y = 38;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(
    `${label}: ${fmt(diff)} [${fmt(lo)}, ${fmt(hi)}]`,
  )}">
<text x="${pad}" y="14" font-size="13" fill="#24292f">${escapeHtml(label)}</text>
<line x1="${pad}" y1="${y}" x2="${W - pad}" y2="${y}" stroke="#d0d7de" stroke-width="1"/>
<line x1="${x(0)}" y1="${y - 16}" x2="${x(0)}" y2="${y + 16}" stroke="#24292f" stroke-width="1" stroke-dasharray="3,2"/>
<text x="${x(0)}" y="${y + 30}" font-size="11" text-anchor="middle" fill="#24292f">0</text>
<line x1="${x(lo)}" y1="${y}" x2="${x(hi)}" y2="${y}" stroke="${color}" stroke-width="6" stroke-linecap="round"/>
<circle cx="${x(diff)}" cy="${y}" r="6" fill="#fff" stroke="${color}" stroke-width="3"/>
<text x="${x(lo)}" y="${y - 10}" font-size="11" text-anchor="middle" fill="${color}">${escapeHtml(fmt(lo))}</text>
<text x="${x(hi)}" y="${y - 10}" font-size="11" text-anchor="middle" fill="${color}">${escapeHtml(fmt(hi))}</text>
<text x="${x(diff)}" y="${y + 24}" font-size="12" text-anchor="middle" font-weight="bold" fill="${color}">${escapeHtml(fmt(diff))}</text>
</svg>`;
}

/** The report page. */
export function renderExperimentReport(analysis: Analysis, ctx: ReportContext): string {
  const a = analysis;
  const conf = pct(1 - a.alpha, 0);
  const c = ctx.control;
  const t = ctx.treatment;
  const sigCell = (p: number) =>
    `<td class="${p < a.alpha ? 'sig' : ''}">${pv(p)}${p < a.alpha ? ' (significant)' : ''}</td>`;
  const armRows = [
    ['customers (n)', String(c.n), String(t.n), '', ''],
    ['conversions', String(c.conversions), String(t.conversions), '', ''],
    [
      'conversion rate',
      pct(a.conversion.control_rate),
      pct(a.conversion.treatment_rate),
      `${signed(pct(a.conversion.diff))} [${pct(a.conversion.ci_low)}, ${pct(a.conversion.ci_high)}]`,
      a.conversion.p_value,
    ],
    ['revenue (sum)', money(c.revenue_sum), money(t.revenue_sum), '', ''],
    [
      'revenue per user',
      money(a.revenue_per_user.control_mean),
      money(a.revenue_per_user.treatment_mean),
      `${signed(money(a.revenue_per_user.diff))} [${money(a.revenue_per_user.ci_low)}, ${money(a.revenue_per_user.ci_high)}]`,
      a.revenue_per_user.p_value,
    ],
    [
      'unsubscribe rate (guardrail)',
      pct(a.guardrail.unsubscribe.control_rate),
      pct(a.guardrail.unsubscribe.treatment_rate),
      signed(pct(a.guardrail.unsubscribe.treatment_rate - a.guardrail.unsubscribe.control_rate)),
      a.guardrail.unsubscribe.p_value,
    ],
  ]
    .map(
      ([label, cv, tv, d, p]) =>
        `<tr><th>${escapeHtml(String(label))}</th><td>${escapeHtml(String(cv))}</td><td>${escapeHtml(String(tv))}</td><td>${escapeHtml(String(d))}</td>${
          typeof p === 'number' ? sigCell(p) : '<td></td>'
        }</tr>`,
    )
    .join('\n');
  const dc = ctx.data_checks;
  const checks = dc
    ? `<h2>Data reconciliation</h2>
<table><tbody>
<tr><th>audience customers with an outcome</th><td>control ${dc.outcomes_matched.control} of ${c.n}, treatment ${dc.outcomes_matched.treatment} of ${t.n} (the rest count as not converted, 0 revenue, not unsubscribed)</td></tr>
<tr><th>outcomes outside the audience (ignored)</th><td>${dc.outcomes_outside_audience}</td></tr>
<tr><th>duplicate outcome rows</th><td>${dc.duplicate_outcome_rows}</td></tr>
<tr><th>invalid outcome rows</th><td>${dc.invalid_outcome_rows}</td></tr>
<tr><th>audience rows with an unknown arm</th><td>${dc.unknown_arm_rows}</td></tr>
</tbody></table>`
    : '';
  const details = ctx.details
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`)
    .join('\n');
  const rpu = a.revenue_per_user;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(ctx.title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#24292f;max-width:62rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #d0d7de;padding:5px 10px;text-align:left;vertical-align:top}
thead th{background:#f6f8fa}
td.sig{font-weight:bold}
.decision{font-size:1.5em;font-weight:bold;padding:.4rem .8rem;border-radius:6px;display:inline-block;color:#fff}
.muted{color:#57606a;font-size:.9em}
</style>
</head><body>
<h1>${escapeHtml(ctx.title)}</h1>
<p class="decision" style="background:${DECISION_COLOR[a.decision]}">${escapeHtml(DECISION_TEXT[a.decision])}</p>
<ul>
${a.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('\n')}
</ul>
<h2>Arms</h2>
<table><thead><tr><th></th><th>control</th><th>treatment</th><th>difference (treatment − control) [${conf} CI]</th><th>p-value (two-sided)</th></tr></thead>
<tbody>
${armRows}
</tbody></table>
<h2>Differences with their ${conf} confidence intervals</h2>
<div>${intervalSvg('conversion rate: treatment − control', a.conversion.diff, a.conversion.ci_low, a.conversion.ci_high, (x) => signed(pct(x)))}</div>
<div>${intervalSvg('revenue per user: treatment − control', rpu.diff, rpu.ci_low, rpu.ci_high, (x) => signed(money(x)))}</div>
<p class="muted">Conversion: two-proportion z-test with the pooled proportion; interval with the unpooled standard error.
Revenue per user: Welch's t-test${rpu.df === null ? '' : ` (t = ${rpu.t?.toFixed(3)}, df = ${rpu.df.toFixed(1)})`}; interval with the t quantile.
Significant means p &lt; alpha = ${a.alpha}. See docs/experiments.md.</p>
<h2>Sample ratio</h2>
<p>Treatment holds ${pct(a.srm.observed_share, 3)} of ${a.n.control + a.n.treatment} customers; expected ${pct(a.srm.expected_share, 3)}.
Chi-square ${a.srm.chi_square.toFixed(3)} (1 df), p = ${pv(a.srm.p_value)}: <strong>${a.srm.valid ? 'consistent with the design' : 'MISMATCH (p &lt; 0.001): the experiment is invalid'}</strong>.</p>
${checks}
<h2>Run</h2>
<table><tbody>
${details}
</tbody></table>
</body></html>
`;
}
