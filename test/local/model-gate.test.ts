import { describe, expect, it } from 'vitest';
import { evaluationSchema, gateInputSchema, runGate, thresholdsSchema } from '../../lambdas/model-gate/gate.js';

const report = (over: Record<string, unknown> = {}) =>
  evaluationSchema.parse({
    model_version: 'm1',
    rows: { evaluated: 500 },
    revenue: { rmse: 10, mae: 5, gini_normalized: 0.5, top_decile_capture: 0.3 },
    churn: { auc: 0.8 },
    checks: { heuristic_rmse_reduction: 0.2 },
    ...over,
  });
const defaults = thresholdsSchema.parse({});

describe('model gate', () => {
  it('passes a model that meets every threshold, with metrics as strings for the registry', () => {
    const out = runGate(report(), defaults);
    expect(out.passed).toBe(true);
    expect(out.reasons).toEqual([]);
    expect(out.metrics).toEqual({ rmse: '10', mae: '5', gini: '0.5', churn_auc: '0.8', top_decile_capture: '0.3' });
  });

  it('fails each check with a reason naming the metric and the threshold', () => {
    const out = runGate(
      report({
        revenue: { rmse: 10, mae: 5, gini_normalized: 0.1, top_decile_capture: 0.05 },
        rows: { evaluated: 20 },
      }),
      defaults,
    );
    expect(out.passed).toBe(false);
    expect(out.reasons).toEqual([
      'test_rows = 20.0000 < 50',
      'gini_normalized = 0.1000 < 0.2',
      'top_decile_capture = 0.0500 < 0.15',
    ]);
  });

  it('fails on missing evidence, skips a churn AUC undefined for a one-class test set', () => {
    const out = runGate(
      report({
        revenue: { rmse: 10, mae: 5, gini_normalized: null, top_decile_capture: 0.3 },
        churn: { auc: null },
        checks: {},
      }),
      defaults,
    );
    expect(out.passed).toBe(false);
    expect(out.reasons).toEqual(['gini_normalized is missing from the evaluation report']);
    expect(out.checks.find((c) => c.name === 'churn_auc')?.status).toBe('skipped');
    expect(out.checks.find((c) => c.name === 'heuristic_rmse_reduction')?.status).toBe('skipped');
  });

  it('validates its input: an s3 URI of a JSON file, thresholds in range, defaults filled', () => {
    expect(gateInputSchema.parse({ evaluation_uri: 's3://b/e/evaluation.json' }).thresholds).toEqual(defaults);
    expect(gateInputSchema.safeParse({ evaluation_uri: '/local/file.json' }).success).toBe(false);
    expect(gateInputSchema.safeParse({ evaluation_uri: 's3://b/e.json', thresholds: { min_gini: 3 } }).success).toBe(
      false,
    );
  });
});
