/**
 * The monitoring Lambda (lambdas/monitoring): the proxy judgement at its boundary (a drop just below, at and above
 * max_correlation_drop), the cases it refuses to judge, the decision (notifications, retraining), the retraining
 * cool-down with the local condition store, and the rows written to monitoring_metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decide,
  judgeProxy,
  type ProxyRecord,
  type ProxySettings,
  RETRAINING_KEY,
} from '../../lambdas/monitoring/core.js';
import { InvalidMonitoringEventError, runMonitoring } from '../../lambdas/monitoring/run.js';
import { LocalConditionStore } from '../../lambdas/shared/condition-store.js';
import { DirectoryObjectStore } from '../../lambdas/shared/object-store.js';

const SETTINGS: ProxySettings = { window_days: 30, max_correlation_drop: 0.2, min_customers: 50 };

function windowRows(
  which: 'current' | 'previous',
  date: string,
  o: { customers?: number; spearman?: number | null; pearson?: number },
): ProxyRecord[] {
  const rec = (metric: string, value: number | null, segment = 'all'): ProxyRecord => ({
    run_window: which,
    scoring_date: date,
    model_version: 'clv-m1',
    metric,
    segment,
    value: value === null ? null : String(value),
  });
  return [
    rec('customers', o.customers ?? 100),
    rec('pearson', o.pearson ?? 0.5),
    rec('spearman', o.spearman === undefined ? 0.5 : o.spearman),
    rec('top_decile_spend', 300),
    rec('bottom_half_spend', 20),
    rec('total_spend', 5000),
    rec('customers', 10, 'High'),
    rec('aov', 80, 'High'),
    rec('churn_rate', 0.1, 'High'),
  ];
}

const both = (current: number | null, previous: number | null) => [
  ...windowRows('current', '2024-02-04', { spearman: current }),
  ...windowRows('previous', '2024-01-07', { spearman: previous }),
];

describe('judgeProxy', () => {
  it.each([
    // previous 0.5 → current: drop = (0.5 − current) / 0.5
    [0.41, 0.18, 'none'], // just below the 20% threshold
    [0.4, 0.2, 'none'], // at it: "more than 20%" is Medium, 20% is not
    [0.39, 0.22, 'medium'], // just above
    [0.6, -0.2, 'none'], // a rise
  ])('current %s against previous 0.5: drop %s → %s', (current, drop, severity) => {
    const j = judgeProxy(both(current, 0.5), SETTINGS);
    expect(j.status).toBe('judged');
    expect(j.correlation_drop).toBeCloseTo(drop, 12);
    expect(j.severity).toBe(severity);
  });

  it('reports without judging: no run old enough, too few customers, no earlier window, undefined correlation', () => {
    expect(judgeProxy([], SETTINGS)).toMatchObject({ status: 'no_run', severity: 'none' });
    const few = [
      ...windowRows('current', '2024-02-04', { customers: 49, spearman: 0.1 }),
      ...windowRows('previous', '2024-01-07', {}),
    ];
    expect(judgeProxy(few, SETTINGS)).toMatchObject({ status: 'insufficient', severity: 'none' });
    const enough = [
      ...windowRows('current', '2024-02-04', { customers: 50, spearman: 0.1 }),
      ...windowRows('previous', '2024-01-07', {}),
    ];
    expect(judgeProxy(enough, SETTINGS)).toMatchObject({ status: 'judged', severity: 'medium' });
    expect(judgeProxy(windowRows('current', '2024-02-04', {}), SETTINGS).status).toBe('no_previous');
    const same = [...windowRows('current', '2024-02-04', {}), ...windowRows('previous', '2024-02-04', {})];
    expect(judgeProxy(same, SETTINGS).status).toBe('no_previous');
    expect(judgeProxy(both(null, 0.5), SETTINGS).status).toBe('undefined');
    expect(judgeProxy(both(0.3, 0), SETTINGS).status).toBe('undefined');
  });

  it('refuses a result set missing a metric or mixing two runs in a window', () => {
    const missing = both(0.5, 0.5).filter((r) => !(r.run_window === 'current' && r.metric === 'spearman'));
    expect(() => judgeProxy(missing, SETTINGS)).toThrow(/metric spearman \(segment all\) is missing/);
    const mixed = both(0.5, 0.5).map((r, i) => (i === 0 ? { ...r, scoring_date: '2024-02-11' } : r));
    expect(() => judgeProxy(mixed, SETTINGS)).toThrow(/rows of two runs/);
  });

  it('computes the top decile to bottom half ratio and keeps the tiers', () => {
    const j = judgeProxy(both(0.5, 0.5), SETTINGS);
    expect(j.current?.top_decile_to_bottom_half).toBeCloseTo(15, 12);
    expect(j.current?.tiers.High).toEqual({ customers: 10, aov: 80, churn_rate: 0.1 });
  });
});

describe('decide', () => {
  const thresholds = { psi_low: 0.1, psi_medium: 0.25 };
  const retraining = { enabled: true, prediction_psi: 0.25, on_input_drift: false, cooldown_hours: 168 };
  const calm = {
    status: 'judged' as const,
    severity: 'none' as const,
    correlation_drop: 0.05,
    threshold: 0.2,
    reason: 'ok',
  };

  it('fires each drifted feature at its severity and resolves the others', () => {
    const d = decide(
      {
        features: {
          recency_days: { psi: 0.3, severity: 'medium' },
          country: { psi: 0.12, severity: 'low' },
          tenure_days: { psi: 0.01, severity: 'none' },
        },
        prediction_psi: 0.05,
      },
      calm,
      thresholds,
      retraining,
    );
    expect(d.notifications.map((n) => [n.feature, n.status, n.severity, n.threshold])).toEqual([
      ['country', 'firing', 'low', 0.1],
      ['recency_days', 'firing', 'medium', 0.25],
      ['tenure_days', 'resolved', 'low', 0.1],
      [null, 'resolved', 'medium', 0.2],
    ]);
    expect(d.retrain).toBe(false);
  });

  it.each([
    [0.25, false], // at the threshold: not above
    [0.2501, true],
  ])('prediction PSI %s → retrain %s', (psi, retrain) => {
    const d = decide({ features: {}, prediction_psi: psi }, calm, thresholds, retraining);
    expect(d.retrain).toBe(retrain);
  });

  it('retrains on a proxy drop, and not when retraining is disabled (saying why)', () => {
    const drop = { ...calm, severity: 'medium' as const, correlation_drop: 0.3, reason: 'fell by 30%' };
    expect(decide({ features: {}, prediction_psi: 0 }, drop, thresholds, retraining)).toMatchObject({
      retrain: true,
      retrain_reason: 'fell by 30%',
    });
    const off = decide({ features: {}, prediction_psi: 0.9 }, drop, thresholds, { ...retraining, enabled: false });
    expect(off.retrain).toBe(false);
    expect(off.retrain_reason).toMatch(/^retraining disabled by config/);
  });

  it('with on_input_drift, a Medium input drift retrains; Low, or a drifting prediction alone below its own threshold, does not', () => {
    const onInput = { ...retraining, on_input_drift: true };
    const drift = (severity: 'none' | 'low' | 'medium', predictionSeverity: 'none' | 'low' | 'medium' = 'none') => ({
      features: {
        acquisition_channel: { psi: severity === 'medium' ? 0.845 : severity === 'low' ? 0.2 : 0.01, severity },
        predicted_revenue_12m: { psi: predictionSeverity === 'medium' ? 0.24 : 0.01, severity: predictionSeverity },
      },
      prediction_psi: predictionSeverity === 'medium' ? 0.24 : 0.01,
    });
    expect(decide(drift('medium'), calm, thresholds, onInput)).toMatchObject({
      retrain: true,
      retrain_reason: 'Medium input drift (PSI above 0.25): acquisition_channel 0.845',
    });
    expect(decide(drift('low'), calm, thresholds, onInput).retrain).toBe(false);
    // the prediction feature is judged by retraining.prediction_psi only, not as an input
    expect(decide(drift('none', 'medium'), calm, thresholds, onInput).retrain).toBe(false);
    expect(decide(drift('medium'), calm, thresholds, retraining).retrain).toBe(false);
  });
});

describe('runMonitoring', () => {
  let root: string;
  let services: Parameters<typeof runMonitoring>[1];
  const now = new Date('2024-03-31T08:00:00Z');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'monitoring-lambda-'));
    services = {
      store: new DirectoryObjectStore(root),
      cooldown: new LocalConditionStore(root, 'clv-test-conditions'),
      now: () => now,
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('takes the retraining cool-down once; a second trigger inside it is refused and names the holder', async () => {
    const first = await runMonitoring(
      { action: 'acquire-retraining', execution: 'exec-1', reason: 'drift', cooldown_hours: 168 },
      services,
    );
    expect(first).toMatchObject({ acquired: true, held_by: 'exec-1', cooldown_until: '2024-04-07T08:00:00.000Z' });
    const second = await runMonitoring(
      { action: 'acquire-retraining', execution: 'exec-2', reason: 'drift again', cooldown_hours: 168 },
      services,
    );
    expect(second).toMatchObject({ acquired: false, held_by: 'exec-1', cooldown_until: '2024-04-07T08:00:00.000Z' });
    // another execution cannot release it; the holder can
    expect(await runMonitoring({ action: 'release-retraining', execution: 'exec-2' }, services)).toEqual({
      released: false,
    });
    expect(await services.cooldown.get(RETRAINING_KEY, now)).toBeDefined();
    expect(await runMonitoring({ action: 'release-retraining', execution: 'exec-1' }, services)).toEqual({
      released: true,
    });
    const third = await runMonitoring(
      { action: 'acquire-retraining', execution: 'exec-3', reason: 'drift', cooldown_hours: 168 },
      services,
    );
    expect(third).toMatchObject({ acquired: true });
  });

  it('the cool-down ends after cooldown_hours', async () => {
    await runMonitoring({ action: 'acquire-retraining', execution: 'a', reason: 'r', cooldown_hours: 1 }, services);
    const later = { ...services, now: () => new Date(now.getTime() + 3600_000 + 1000) };
    const again = await runMonitoring(
      { action: 'acquire-retraining', execution: 'b', reason: 'r', cooldown_hours: 1 },
      later,
    );
    expect(again).toMatchObject({ acquired: true, held_by: 'b' });
  });

  it('writes the proxy rows to monitoring_metrics as Parquet', async () => {
    const resultSet = {
      Rows: [
        {
          Data: ['run_window', 'scoring_date', 'model_version', 'metric', 'segment', 'value'].map((v) => ({
            VarCharValue: v,
          })),
        },
        ...both(0.3, 0.5).map((r) => ({
          Data: [r.run_window, r.scoring_date, r.model_version, r.metric, r.segment, r.value].map((v) =>
            v === null ? {} : { VarCharValue: v },
          ),
        })),
      ],
    };
    const out = (await runMonitoring(
      {
        action: 'proxy',
        run_id: 'mon-1',
        run_date: '2024-03-31',
        gold_bucket: 'clv-local-gold',
        settings: SETTINGS,
        result_set: resultSet,
      },
      services,
    )) as { severity: string; metrics_uri: string; rows_written: number };
    expect(out.severity).toBe('medium');
    expect(out.metrics_uri).toBe('s3://clv-local-gold/monitoring_metrics/run_date=2024-03-31/mon-1-proxy.parquet');
    const file = join(root, 'clv-local-gold/monitoring_metrics/run_date=2024-03-31/mon-1-proxy.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(
      `SELECT metric, feature, value, pipeline, model_version FROM read_parquet('${file}') ORDER BY metric, feature`,
    );
    const rows = reader.getRowObjects();
    conn.closeSync();
    db.closeSync();
    expect(rows).toHaveLength(out.rows_written);
    expect(rows.find((r) => r.metric === 'proxy_spearman_drop')).toMatchObject({
      value: expect.closeTo(0.4, 12),
      pipeline: 'monitoring',
      model_version: 'clv-m1',
    });
    expect(rows.find((r) => r.metric === 'proxy_aov')).toMatchObject({ feature: 'tier=High', value: 80 });
  });

  it('refuses a malformed event, naming the field', async () => {
    await expect(runMonitoring({ action: 'proxy', run_id: 'x' }, services)).rejects.toThrow(
      InvalidMonitoringEventError,
    );
    await expect(
      runMonitoring({ action: 'acquire-retraining', execution: 'e', reason: 'r', cooldown_hours: 0 }, services),
    ).rejects.toThrow(/cooldown_hours/);
    await expect(runMonitoring({ action: 'unknown' }, services)).rejects.toThrow(/action/);
  });
});
