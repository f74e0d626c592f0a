/**
 * Drift severity and the monitoring decisions at their boundaries, beside drift.test.ts and monitoring.test.ts:
 * the alert threshold each severity reports, the max severity, each bin-set rejection, the proxy judgement just
 * below / at / above max_correlation_drop and min_customers, and the retraining trigger with retraining disabled.
 */
import { describe, expect, it } from 'vitest';
import {
  type DriftBinRow,
  driftOfFeature,
  EmptyBaselineError,
  EmptyCurrentError,
  InvalidDriftBinsError,
  maxSeverity,
  severity,
  summarize,
} from '../../lambdas/drift/core.js';
import { decide, judgeProxy, type ProxyRecord, type ProxySettings } from '../../lambdas/monitoring/core.js';

const T = { psi_low: 0.1, psi_medium: 0.25 };
const EPS = 1e-9;

const bin = (i: number, baseline: number, current: number, over: Partial<DriftBinRow> = {}): DriftBinRow => ({
  feature: 'f',
  kind: 'categorical',
  bin: i,
  lower: null,
  upper: null,
  category: `c${i}`,
  baseline_count: baseline,
  current_count: current,
  ...over,
});

describe('drift severity', () => {
  it.each([
    [T.psi_low - EPS, 'none'],
    [T.psi_low, 'low'],
    [T.psi_low + EPS, 'low'],
    [T.psi_medium - EPS, 'low'],
    [T.psi_medium, 'low'],
    [T.psi_medium + EPS, 'medium'],
  ])('psi %s → %s', (v, s) => {
    expect(severity(v, T)).toBe(s);
  });

  it('the max severity of a run', () => {
    expect(maxSeverity([])).toBe('none');
    expect(maxSeverity(['none', 'low', 'none'])).toBe('low');
    expect(maxSeverity(['medium', 'low'])).toBe('medium');
    expect(maxSeverity(['low', 'medium', 'none'])).toBe('medium');
  });

  it('each alert carries the threshold its severity crossed; features without drift raise none', () => {
    const fd = (psi: number) => ({
      kind: 'numeric' as const,
      psi,
      ks: 0,
      chi_square: null,
      chi_square_p_value: null,
      severity: severity(psi, T),
      baseline_total: 1,
      current_total: 1,
      bins: [],
    });
    const s = summarize({ a: fd(0.3), b: fd(0.1), c: fd(0.05) }, T);
    expect(s.alerts).toEqual([
      { feature: 'a', metric: 'psi', value: 0.3, threshold: 0.25, severity: 'medium' },
      { feature: 'b', metric: 'psi', value: 0.1, threshold: 0.1, severity: 'low' },
    ]);
    expect(s.max_severity).toBe('medium');
    expect(s.prediction_psi).toBeNull();
    expect(s.prediction_severity).toBeNull();
  });
});

describe('drift bins: each rejection', () => {
  it('refuses duplicate bins, mixed kinds and counts that are not counts', () => {
    expect(() => driftOfFeature('f', [bin(0, 1, 1), bin(0, 1, 1)], T)).toThrow(
      new InvalidDriftBinsError('feature f: bin 0 appears twice'),
    );
    expect(() =>
      driftOfFeature('f', [bin(0, 1, 1), bin(1, 1, 1, { kind: 'numeric', category: null, lower: 0, upper: 1 })], T),
    ).toThrow('feature f: mixed kinds');
    for (const [name, over] of [
      ['baseline_count', { baseline_count: -1 }],
      ['baseline_count', { baseline_count: 1.5 }],
      ['current_count', { current_count: -1 }],
      ['current_count', { current_count: Number.NaN }],
    ] as const) {
      expect(() => driftOfFeature('f', [bin(0, 5, 5), bin(1, 5, 5, over)], T)).toThrow(
        new RegExp(`^feature f bin 1: ${name} .* is not a count$`),
      );
    }
  });

  it('refuses an empty baseline or an empty current side, naming the feature', () => {
    expect(() => driftOfFeature('f', [bin(0, 0, 5), bin(1, 0, 5)], T)).toThrow(EmptyBaselineError);
    expect(() => driftOfFeature('f', [bin(0, 5, 0), bin(1, 5, 0)], T)).toThrow(EmptyCurrentError);
  });

  it('accepts a zero count (an empty bin) and sorts the bins', () => {
    const d = driftOfFeature('f', [bin(1, 0, 5), bin(0, 10, 5)], T);
    expect(d.bins.map((b) => b.bin)).toEqual([0, 1]);
    expect(d.baseline_total).toBe(10);
    expect(d.current_total).toBe(10);
    expect(d.ks).toBeNull();
    expect(d.chi_square).not.toBeNull();
  });
});

const SETTINGS: ProxySettings = { window_days: 30, max_correlation_drop: 0.2, min_customers: 50 };
function windowRows(which: 'current' | 'previous', date: string, customers: number, spearman: number): ProxyRecord[] {
  const rec = (metric: string, value: number): ProxyRecord => ({
    run_window: which,
    scoring_date: date,
    model_version: 'clv-m1',
    metric,
    segment: 'all',
    value: String(value),
  });
  return [
    rec('customers', customers),
    rec('pearson', 0.5),
    rec('spearman', spearman),
    rec('top_decile_spend', 300),
    rec('bottom_half_spend', 20),
    rec('total_spend', 5000),
  ];
}
const judge = (current: number, previous = 0.5, customers = 100, previousCustomers = 100) =>
  judgeProxy(
    [
      ...windowRows('current', '2024-03-01', customers, current),
      ...windowRows('previous', '2024-02-01', previousCustomers, previous),
    ],
    SETTINGS,
  );

describe('proxy judgement', () => {
  it('fires only when the relative Spearman drop is above max_correlation_drop', () => {
    // previous 0.5: a drop of 0.2 is current 0.4
    expect(judge(0.4 + 1e-6)).toMatchObject({ status: 'judged', severity: 'none' });
    expect(judge(0.4).severity).toBe('none');
    expect(judge(0.4 - 1e-6)).toMatchObject({ status: 'judged', severity: 'medium' });
    expect(judge(0.4 - 1e-6).correlation_drop).toBeCloseTo(0.2, 5);
    expect(judge(0.3).reason).toBe('the proxy Spearman correlation fell by 40.0% (0.500 → 0.300), more than 20%');
    expect(judge(0.6).reason).toBe('the proxy Spearman correlation moved 20.0% (0.500 → 0.600)');
  });

  it('a drop exactly at max_correlation_drop does not fire (values exact in binary)', () => {
    const at = (current: number) =>
      judgeProxy(
        [...windowRows('current', '2024-03-01', 100, current), ...windowRows('previous', '2024-02-01', 100, 0.5)],
        { ...SETTINGS, max_correlation_drop: 0.25 },
      );
    expect(at(0.375)).toMatchObject({ correlation_drop: 0.25, severity: 'none' });
    expect(at(0.375 - 2 ** -20).severity).toBe('medium');
  });

  it('judges from min_customers customers in both windows', () => {
    expect(judge(0.1, 0.5, 49).status).toBe('insufficient');
    expect(judge(0.1, 0.5, 50).status).toBe('judged');
    expect(judge(0.1, 0.5, 51).status).toBe('judged');
    expect(judge(0.1, 0.5, 100, 49)).toMatchObject({
      status: 'insufficient',
      reason: 'the previous window has 49 customers, fewer than 50',
    });
    expect(judge(0.1, 0.5, 100, 50).status).toBe('judged');
  });

  it('does not judge against a previous correlation that is not positive', () => {
    expect(judge(0.1, 0).status).toBe('undefined');
    expect(judge(0.1, -0.2).status).toBe('undefined');
    expect(judge(0.1, 1e-6).status).toBe('judged');
  });
});

describe('the retraining trigger', () => {
  const calm = {
    status: 'judged' as const,
    severity: 'none' as const,
    correlation_drop: 0,
    threshold: 0.2,
    reason: 'ok',
  };
  const dropped = { ...calm, severity: 'medium' as const, correlation_drop: 0.4, reason: 'the proxy fell' };
  const on = { enabled: true, prediction_psi: 0.25, on_input_drift: true, cooldown_hours: 168 };

  it('asks for retraining on prediction PSI above the threshold or a proxy drop, only when enabled', () => {
    const drift = (psi: number) => ({ features: {}, prediction_psi: psi });
    expect(decide(drift(0.25), calm, T, on).retrain).toBe(false);
    expect(decide(drift(0.25 + EPS), calm, T, on)).toMatchObject({
      retrain: true,
      retrain_reason: `prediction PSI 0.250 above 0.25 (predicted_revenue_12m drift)`,
    });
    expect(decide(drift(0), dropped, T, on)).toMatchObject({ retrain: true, retrain_reason: 'the proxy fell' });
    expect(decide(drift(0.3), dropped, T, on).retrain_reason).toBe(
      'prediction PSI 0.300 above 0.25 (predicted_revenue_12m drift); the proxy fell',
    );
    const off = decide(drift(0.3), dropped, T, { ...on, enabled: false });
    expect(off.retrain).toBe(false);
    expect(off.retrain_reason).toBe(
      'retraining disabled by config (would retrain: prediction PSI 0.300 above 0.25 (predicted_revenue_12m drift); the proxy fell)',
    );
    expect(decide(drift(0), calm, T, on)).toMatchObject({
      retrain: false,
      retrain_reason: 'no prediction drift, no proxy drop and no Medium input drift',
    });
  });

  it('notifies the proxy only when judged: firing on a drop, resolved otherwise', () => {
    const drift = { features: {}, prediction_psi: 0 };
    expect(decide(drift, dropped, T, on).notifications).toEqual([
      {
        event: 'proxy_drop',
        severity: 'medium',
        status: 'firing',
        pipeline: 'monitoring',
        metric: 'proxy_spearman_drop',
        feature: null,
        value: 0.4,
        threshold: 0.2,
        summary: 'the proxy fell',
      },
    ]);
    expect(decide(drift, calm, T, on).notifications[0]?.status).toBe('resolved');
    expect(decide(drift, { ...calm, status: 'insufficient' }, T, on).notifications).toEqual([]);
  });

  it('drift notifications: firing at the crossed threshold, resolved below psi_low, sorted by feature', () => {
    const d = decide(
      {
        features: {
          z: { psi: 0.3, severity: 'medium' },
          a: { psi: 0.12, severity: 'low' },
          m: { psi: 0.01, severity: 'none' },
        },
        prediction_psi: 0,
      },
      { ...calm, status: 'no_run' },
      T,
      on,
    );
    expect(d.notifications.map((n) => [n.feature, n.severity, n.status, n.threshold, n.summary])).toEqual([
      ['a', 'low', 'firing', 0.1, 'Low drift of a: PSI 0.120 (threshold 0.1)'],
      ['m', 'low', 'resolved', 0.1, 'm no longer drifts: PSI 0.010 (below 0.1)'],
      ['z', 'medium', 'firing', 0.25, 'Medium drift of z: PSI 0.300 (threshold 0.25)'],
    ]);
  });
});
