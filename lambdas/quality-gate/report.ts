/** The quality gate's result document (JSON) and readable report (HTML). */
import type { ExpectationResult, GateSummary } from './evaluate.js';

export interface ResultDocument {
  readonly suite: string;
  readonly dataset: string;
  readonly date: string;
  readonly runId: string;
  readonly evaluatedAt: string;
  readonly aggregatesUri: string;
  readonly summary: GateSummary;
  readonly results: readonly ExpectationResult[];
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const COLORS: Record<string, string> = {
  pass: '#1a7f37',
  warn: '#9a6700',
  fail: '#cf222e',
  skipped: '#57606a',
};

/** A self-contained HTML page: summary, then every expectation (failures first). */
export function renderHtmlReport(doc: ResultDocument): string {
  const order = (r: ExpectationResult) =>
    r.status === 'fail' ? (r.severity === 'critical' ? 0 : 1) : r.status === 'skipped' ? 2 : 3;
  const rows = [...doc.results]
    .sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id))
    .map((r) => {
      const shown = r.status === 'fail' && r.severity === 'warning' ? 'warn' : r.status;
      return `<tr><td style="color:${COLORS[shown]};font-weight:bold">${escapeHtml(shown.toUpperCase())}</td><td>${escapeHtml(r.severity)}</td><td><code>${escapeHtml(r.id)}</code></td><td>${escapeHtml(r.description)}</td><td>${escapeHtml(r.observed)}</td><td>${escapeHtml(r.expected)}</td><td>${escapeHtml(r.message)}</td></tr>`;
    })
    .join('\n');
  const s = doc.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quality gate ${escapeHtml(doc.dataset)} ${escapeHtml(doc.date)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}</style>
</head><body>
<h1>Quality gate: ${escapeHtml(doc.dataset)} dt=${escapeHtml(doc.date)}</h1>
<p style="font-size:1.3em;color:${COLORS[s.status]}"><strong>${escapeHtml(s.status.toUpperCase())}</strong></p>
<p>${s.total} expectations: ${s.passed} passed, ${s.failedCritical} critical failed, ${s.failedWarning} warnings failed, ${s.skipped} skipped.</p>
<p>Suite <code>${escapeHtml(doc.suite)}</code>, run <code>${escapeHtml(doc.runId)}</code>, evaluated ${escapeHtml(doc.evaluatedAt)}, aggregates <code>${escapeHtml(doc.aggregatesUri)}</code>.</p>
<table><thead><tr><th>status</th><th>severity</th><th>id</th><th>expectation</th><th>observed</th><th>expected</th><th>message</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
