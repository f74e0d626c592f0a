/**
 * The model gate (lambdas/model-gate/gate.ts): every threshold driven just below / at / just above its boundary,
 * missing evidence failing, the champion and fairness checks, and the handler over the local object store.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Evaluation,
  evaluationSchema,
  gateInputSchema,
  NO_CHAMPION,
  runGate,
  type Thresholds,
  thresholdsSchema,
} from '../../lambdas/model-gate/gate.js';
import { handler } from '../../lambdas/model-gate/handler.js';
import { LOCAL_PIPELINE_SETTINGS } from '../../lib/contracts/pipeline-inputs.js';
import { writeObject } from '../../local/storage.js';

/** The gates every environment ships with, snake_case as ValidateInput passes them (one source: the settings). */
const T: Thresholds = thresholdsSchema.parse(LOCAL_PIPELINE_SETTINGS['training-pipeline'].gate);

const slices = (means: Record<string, [customers: number, mean: number | null]>) => ({
  slices: Object.fromEntries(
    Object.entries(means).map(([k, [customers, mean]]) => [k, { customers, mean_predicted: mean }]),
  ),
});

type Over = Record<string, unknown>;
const base = (): Over => ({
  model_version: 'challenger-1',
  rows: { evaluated: 500 },
  revenue: { rmse: 100, mae: 50, gini_normalized: 0.5, top_decile_capture: 0.3 },
  churn: { auc: 0.8 },
  checks: { heuristic_rmse_reduction: 0.2 },
  slices: {
    country: slices({ UK: [200, 100], DE: [200, 90], FR: [100, 95] }),
    acquisition_channel: slices({ organic: [250, 100], paid: [250, 100] }),
  },
  champion: { present: false, reason: NO_CHAMPION },
});
const report = (over: Over = {}): Evaluation => evaluationSchema.parse({ ...base(), ...over });
const withRevenue = (r: Over): Over => ({ revenue: { ...(base().revenue as Over), ...r } });
const champion = (rmse: number | null, gini: number | null): Over => ({
  champion: {
    present: true,
    model_version: 'champion-0',
    revenue: { rmse, mae: 40, gini_normalized: gini, top_decile_capture: 0.3 },
    churn: { auc: 0.75 },
  },
});
const status = (ev: Evaluation, name: string, t: Thresholds = T) =>
  runGate(ev, t).checks.find((c) => c.name === name)?.status;

const EPS = 1e-9;

describe('model gate: the thresholds, each just below / at / just above its boundary', () => {
  const cases: { name: string; threshold: number; report: (v: number) => Over }[] = [
    { name: 'test_rows', threshold: T.min_test_rows, report: (v) => ({ rows: { evaluated: v } }) },
    { name: 'gini_normalized', threshold: T.min_gini, report: (v) => withRevenue({ gini_normalized: v }) },
    { name: 'churn_auc', threshold: T.min_churn_auc, report: (v) => ({ churn: { auc: v } }) },
    {
      name: 'top_decile_capture',
      threshold: T.min_top_decile_capture,
      report: (v) => withRevenue({ top_decile_capture: v }),
    },
    {
      name: 'heuristic_rmse_reduction',
      threshold: T.min_heuristic_rmse_reduction,
      report: (v) => ({ checks: { heuristic_rmse_reduction: v } }),
    },
  ];
  for (const c of cases) {
    const step = c.name === 'test_rows' ? 1 : EPS;
    it(`${c.name} ≥ ${c.threshold}`, () => {
      const below = runGate(report(c.report(c.threshold - step)), T);
      expect(below.passed).toBe(false);
      expect(below.reasons).toEqual([expect.stringMatching(new RegExp(`^${c.name} = .* < ${c.threshold}$`))]);
      expect(status(report(c.report(c.threshold)), c.name)).toBe('pass');
      expect(runGate(report(c.report(c.threshold)), T).passed).toBe(true);
      expect(status(report(c.report(c.threshold + step)), c.name)).toBe('pass');
    });
  }

  it('champion: challenger RMSE ≤ champion RMSE × (1 + champion_max_rmse_increase)', () => {
    const bound = 100 * (1 + T.champion_max_rmse_increase);
    const at = (rmse: number) => report({ ...withRevenue({ rmse }), ...champion(100, 0.5) });
    expect(status(at(bound - EPS), 'champion_rmse')).toBe('pass');
    expect(status(at(bound), 'champion_rmse')).toBe('pass');
    const above = runGate(at(bound + EPS), T);
    expect(above.passed).toBe(false);
    expect(above.reasons).toEqual([expect.stringMatching(/^rmse = 105\.0000 > 105\.0000 \(champion champion-0 rmse/)]);
  });

  it('champion: challenger Gini ≥ champion Gini − champion_max_gini_decrease', () => {
    const bound = 0.6 - T.champion_max_gini_decrease;
    const at = (gini: number) => report({ ...withRevenue({ gini_normalized: gini }), ...champion(100, 0.6) });
    const below = runGate(at(bound - EPS), T);
    expect(below.passed).toBe(false);
    expect(below.reasons).toEqual([
      expect.stringMatching(/^gini_normalized = 0\.5800 < 0\.5800 \(champion champion-0/),
    ]);
    expect(status(at(bound), 'champion_gini')).toBe('pass');
    expect(status(at(bound + EPS), 'champion_gini')).toBe('pass');
  });

  it('fairness: the lowest / highest eligible slice mean ≥ fairness_min_ratio, for country and channel', () => {
    for (const col of ['country', 'acquisition_channel']) {
      const at = (r: number) =>
        report({
          slices: { ...(base().slices as Over), [col]: slices({ a: [30, 100], b: [40, 100 * r], tiny: [29, 1] }) },
        });
      const below = runGate(at(T.fairness_min_ratio - EPS), T);
      expect(below.passed).toBe(false);
      expect(below.reasons).toEqual([`fairness_${col} = 0.8000 < 0.8 (b / a)`]);
      expect(below.fairness[col as 'country'].ratio).toBeCloseTo(0.8, 8);
      expect(status(at(T.fairness_min_ratio), `fairness_${col}`)).toBe('pass');
      expect(status(at(T.fairness_min_ratio + EPS), `fairness_${col}`)).toBe('pass');
    }
  });

  it('fairness: a slice counts from fairness_min_slice_customers customers (29 / 30 / 31)', () => {
    // the unfair slice 'b' (ratio 0.5) decides the check only when it is large enough
    const withB = (n: number) =>
      report({ slices: { ...(base().slices as Over), country: slices({ a: [100, 100], c: [100, 95], b: [n, 50] }) } });
    expect(status(withB(29), 'fairness_country')).toBe('pass');
    expect(status(withB(30), 'fairness_country')).toBe('fail');
    expect(status(withB(31), 'fairness_country')).toBe('fail');
    expect(runGate(withB(29), T).fairness.country).toEqual({
      ratio: 0.95,
      lowest_slice: 'c',
      highest_slice: 'a',
      eligible_slices: 2,
    });
  });
});

describe('model gate: missing evidence fails, undefined metrics skip with a reason', () => {
  it('passes a model that meets every threshold, first model: champion skipped and recorded', () => {
    const out = runGate(report(), T);
    expect(out.passed).toBe(true);
    expect(out.reasons).toEqual([]);
    expect(out.metrics).toEqual({ rmse: '100', mae: '50', gini: '0.5', churn_auc: '0.8', top_decile_capture: '0.3' });
    expect(out.checks.filter((c) => c.name.startsWith('champion_'))).toEqual([
      expect.objectContaining({ status: 'skipped', reason: NO_CHAMPION }),
      expect.objectContaining({ status: 'skipped', reason: NO_CHAMPION }),
    ]);
    expect(out.champion).toEqual({
      compared: false,
      reason: 'no Production model: first model',
      model_version: null,
      model_package_arn: null,
      metrics: null,
    });
    expect(out.metadata).toEqual({
      champion_model_version: 'none',
      champion_model_package_arn: 'none',
      champion_comparison: 'skipped: no Production model: first model',
      fairness_ratio_country: '0.9',
      fairness_ratio_acquisition_channel: '1',
    });
  });

  it('fails a missing metric, naming it; skips a churn AUC undefined for a one-class test set', () => {
    const out = runGate(
      report({
        revenue: { rmse: 100, mae: 5, gini_normalized: null, top_decile_capture: 0.3 },
        churn: { auc: null },
        checks: {},
      }),
      T,
    );
    expect(out.passed).toBe(false);
    expect(out.reasons).toEqual(['gini_normalized is missing from the evaluation report']);
    expect(out.checks.find((c) => c.name === 'churn_auc')?.status).toBe('skipped');
    expect(out.checks.find((c) => c.name === 'heuristic_rmse_reduction')?.status).toBe('skipped');
  });

  it('fails the champion checks when a metric of either model is missing', () => {
    const noChampRmse = runGate(report(champion(null, 0.5)), T);
    expect(noChampRmse.reasons).toEqual(['champion rmse is missing']);
    const noRmse = runGate(report({ ...withRevenue({ rmse: null }), ...champion(100, 0.5) }), T);
    expect(noRmse.reasons).toEqual(['rmse is missing from the evaluation report']);
    expect(runGate(report(champion(100, null)), T).reasons).toEqual(['champion gini_normalized is missing']);
  });

  it('fails when the registry has a Production model but the report has no champion, or it could not be evaluated', () => {
    const lookup = { found: true, lookup: { model_package_arn: 'arn:pkg/3', version: 3, model_version: 'm3' } };
    const out = runGate(report(), T, lookup);
    expect(out.passed).toBe(false);
    expect(out.reasons[0]).toContain('the registry has a Production model (version 3)');
    const { champion: _, ...noSection } = base();
    expect(runGate(evaluationSchema.parse(noSection), T, lookup).passed).toBe(false);
    const broken = runGate(report({ champion: { present: true, error: 'schema hash differs' } }), T, lookup);
    expect(broken.passed).toBe(false);
    expect(broken.reasons).toContain('the champion could not be evaluated on the test snapshot: schema hash differs');
    expect(broken.metadata.champion_comparison).toMatch(/^fail: /);
  });

  it('records both models for the alert and the package metadata when compared', () => {
    const lookup = { found: true, lookup: { model_package_arn: 'arn:pkg/3', version: 3, model_version: 'champion-0' } };
    const out = runGate(report(champion(90, 0.55)), T, lookup);
    expect(out.passed).toBe(false); // 100 > 90 × 1.05
    expect(out.champion).toEqual({
      compared: true,
      reason: null,
      model_version: 'champion-0',
      model_package_arn: 'arn:pkg/3',
      metrics: { rmse: '90', mae: '40', gini: '0.55', churn_auc: '0.75', top_decile_capture: '0.3' },
    });
    expect(out.metrics.rmse).toBe('100');
    expect(out.metadata.champion_comparison).toBe('fail');
    expect(runGate(report(champion(100, 0.5)), T, lookup).metadata.champion_comparison).toBe('pass');
  });

  it('fairness: missing slices fail, fewer than two eligible slices skip, a zero highest mean fails', () => {
    const out = runGate(report({ slices: {} }), T);
    expect(out.reasons).toEqual([
      'slices by country are missing from the evaluation report',
      'slices by acquisition_channel are missing from the evaluation report',
    ]);
    const one = runGate(
      report({ slices: { ...(base().slices as Over), country: slices({ UK: [400, 100], DE: [29, 10] }) } }),
      T,
    );
    expect(one.passed).toBe(true);
    expect(one.checks.find((c) => c.name === 'fairness_country')).toMatchObject({
      status: 'skipped',
      reason: 'fewer than two country slices with ≥ 30 customers (1)',
    });
    expect(one.metadata.fairness_ratio_country).toBe('n/a');
    const zero = runGate(
      report({ slices: { ...(base().slices as Over), country: slices({ UK: [40, 0], DE: [40, 0] }) } }),
      T,
    );
    expect(zero.reasons[0]).toMatch(/^fairness_country is undefined/);
  });
});

describe('model gate: input validation and the handler', () => {
  it('requires every C2 threshold key, in range, and nothing else', () => {
    const uri = 's3://b/e/evaluation.json';
    expect(gateInputSchema.parse({ evaluation_uri: uri, thresholds: T }).thresholds).toEqual(T);
    expect(gateInputSchema.safeParse({ evaluation_uri: '/local/file.json', thresholds: T }).success).toBe(false);
    expect(gateInputSchema.safeParse({ evaluation_uri: uri, thresholds: { ...T, min_gini: 3 } }).success).toBe(false);
    const { fairness_min_ratio: _, ...partial } = T;
    expect(gateInputSchema.safeParse({ evaluation_uri: uri, thresholds: partial }).success).toBe(false);
    expect(gateInputSchema.safeParse({ evaluation_uri: uri, thresholds: { ...T, min_ginni: 0.1 } }).success).toBe(
      false,
    );
  });

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-gate-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads evaluation.json from the object store and names what is wrong', async () => {
    const prev = process.env.CLV_LOCAL_ROOT;
    process.env.CLV_LOCAL_ROOT = root;
    try {
      writeObject('s3://clv-local-artifacts/evaluations/x/evaluation.json', JSON.stringify(base()), root);
      const out = await handler({
        evaluation_uri: 's3://clv-local-artifacts/evaluations/x/evaluation.json',
        thresholds: T,
        champion: { found: false, lookup: { found: false } },
      });
      expect(out.passed).toBe(true);
      await expect(handler({ evaluation_uri: 's3://b/e/evaluation.json', thresholds: {} })).rejects.toThrow(
        /model-gate: invalid input: .*thresholds\.min_gini/s,
      );
      writeObject('s3://clv-local-artifacts/evaluations/y/evaluation.json', '{"rows": {}}', root);
      await expect(
        handler({ evaluation_uri: 's3://clv-local-artifacts/evaluations/y/evaluation.json', thresholds: T }),
      ).rejects.toThrow(/is not an evaluation report: .*model_version/s);
    } finally {
      if (prev === undefined) delete process.env.CLV_LOCAL_ROOT;
      else process.env.CLV_LOCAL_ROOT = prev;
    }
  });
});
