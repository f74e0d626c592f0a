/**
 * The main job end to end at a small size: `npm run demo`'s orchestrator (local/demo/demo.ts) on a generated shop of
 * 2,000 customers, through the real state machines on the local runtime, then the assertions the issue names on
 * DIR/summary.json: every stage succeeded, the counts reconcile, a drift alert in the drift period and none before,
 * a promotion of the challenger, and the report holds each chart.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Demo } from '../../local/demo/demo.js';
import { parseDemoArgs } from '../../local/demo/options.js';
import type { DemoSummary } from '../../local/demo/summary.js';

const CHARTS = ['lorenz', 'calibration', 'tiers', 'shap', 'psi', 'proxy', 'canary', 'quality', 'reconciliation'];

let out = '';
let summary: DemoSummary;
let fromFile: DemoSummary;
let printed = '';

beforeAll(async () => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-demo-e2e-'));
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const options = parseDemoArgs(['--customers', '2000', '--out', out, '--tuning-trials', '2'], {});
  const lines: string[] = [];
  summary = await new Demo(options, (l) => lines.push(l)).run();
  printed = lines.join('\n');
  fromFile = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as DemoSummary;
}, 1_800_000);

afterAll(() => {
  if (out) fs.rmSync(out, { recursive: true, force: true });
});

describe('npm run demo, end to end at 2,000 customers', () => {
  it('every stage succeeded, in the issue names, and summary.json is what the run returned', () => {
    expect(summary.failure ?? '', printed.slice(-4000)).toBe('');
    expect(summary.status).toBe('succeeded');
    expect(fromFile.status).toBe('succeeded');
    expect(summary.stages.length).toBeGreaterThan(0);
    for (const s of summary.stages) expect(s.status, `${s.name} [${s.period}]`).toBe('succeeded');
    const names = new Set(summary.stages.map((s) => s.name));
    for (const n of [
      'generate',
      'data-pipeline',
      'training',
      'batch-scoring',
      'monitoring',
      'shadow',
      'canary',
      'promotion',
    ]) {
      expect(names.has(n), n).toBe(true);
    }
  });

  it('the counts reconcile at every step, and every customer of the last scoring set was scored', () => {
    const checks = summary.counts.reconciliation;
    expect(checks.length).toBeGreaterThanOrEqual(9); // 3 ingest checks x 2 periods + 3 scoring runs
    for (const c of checks) {
      expect(c.reconciled, c.stage).toBe(true);
      expect(c.in, c.stage).toBe(c.out + c.rejected + c.duplicates);
      if (c.expected_in !== undefined) expect(c.in, c.stage).toBe(c.expected_in);
    }
    expect(summary.counts.customers_scored).toBeGreaterThan(500);
  });

  it('no alert in the steady period; a Medium drift alert in the drift period', () => {
    const steady = summary.alerts.filter((a) => a.period === 'steady');
    expect(steady.filter((a) => a.severity !== 'low')).toEqual([]);
    const drift = summary.alerts.filter((a) => a.period === 'drift' && a.source === 'monitoring');
    expect(drift.some((a) => a.severity === 'medium' && a.metric.startsWith('psi'))).toBe(true);
  });

  it('the drift triggered a retraining; the monitoring after the promotion was inside the cool-down', () => {
    const runs = summary.monitoring;
    expect(runs.map((m) => m.period)).toEqual(['steady', 'drift', 'drift']);
    expect(runs[0]?.max_drift_severity).not.toBe('medium');
    expect(runs[1]?.retraining).toMatch(/^started /);
    expect(runs[2]?.retraining).not.toMatch(/^started /);
  });

  it('the challenger went through shadow (Canary) and was promoted; the first champion was archived', () => {
    const drift = summary.promotions.filter((p) => p.period === 'drift');
    const challenger = drift.find((p) => p.stage === 'Production');
    expect(challenger?.version).toBeGreaterThan(1);
    expect(drift.some((p) => p.version === challenger?.version && p.stage === 'Canary')).toBe(true);
    expect(drift.some((p) => p.version === 1 && p.stage === 'Archived')).toBe(true);
    const runs = summary.counts.scoring_runs;
    expect(runs[runs.length - 1]?.model_version).toBe(challenger?.model_version);
  });

  it('the model table holds the CLV model beside the three baselines', () => {
    for (const m of ['clv_xgb', 'heuristic', 'linear_rfm', 'bgnbd_gg']) {
      expect(summary.model[m]?.rmse, m).toBeGreaterThan(0);
      expect(Number.isFinite(summary.model[m]?.gini_normalized), m).toBe(true);
    }
  });

  it('the report is self-contained and holds each chart', () => {
    const file = String(summary.paths.report);
    const html = fs.readFileSync(file, 'utf8');
    expect(summary.paths.report_charts).toEqual(expect.arrayContaining(CHARTS));
    for (const id of CHARTS) expect(html, id).toMatch(new RegExp(`<figure[^>]*id="chart-${id}"[\\s\\S]*?<svg`));
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="https?:/);
  });
});
