/**
 * The model gate's guards that model-gate.test.ts (the thresholds) leaves open, found by mutation testing
 * (stryker.config.mjs): each rule of the evaluation report schema and the gate input rejecting what breaks it,
 * non-finite metrics failing as missing, the exact check list and reasons of the champion comparison, the fairness
 * results of every early exit, and which champion is recorded in the package metadata.
 */
import { describe, expect, it } from 'vitest';
import {
  type CheckResult,
  championLookupSchema,
  type Evaluation,
  evaluationSchema,
  gateInputSchema,
  NO_CHAMPION,
  runGate,
  type Thresholds,
  thresholdsSchema,
} from '../../lambdas/model-gate/gate.js';
import { LOCAL_PIPELINE_SETTINGS } from '../../lib/contracts/pipeline-inputs.js';

const T: Thresholds = thresholdsSchema.parse(LOCAL_PIPELINE_SETTINGS['training-pipeline'].gate);

type Over = Record<string, unknown>;
const slices = (means: Record<string, [customers: number, mean: number | null]>) => ({
  slices: Object.fromEntries(
    Object.entries(means).map(([k, [customers, mean]]) => [k, { customers, mean_predicted: mean }]),
  ),
});
const base = (): Over => ({
  model_version: 'challenger-1',
  rows: { evaluated: 500 },
  revenue: { rmse: 100, mae: 50, gini_normalized: 0.5, top_decile_capture: 0.3 },
  churn: { auc: 0.8 },
  checks: { heuristic_rmse_reduction: 0.2 },
  slices: {
    country: slices({ UK: [200, 100], DE: [200, 90] }),
    acquisition_channel: slices({ organic: [250, 100], paid: [250, 100] }),
  },
  champion: { present: false, reason: NO_CHAMPION },
});
const report = (over: Over = {}): Evaluation => evaluationSchema.parse({ ...base(), ...over });
const champion = (over: Over = {}): Over => ({
  champion: {
    present: true,
    model_version: 'champion-0',
    revenue: { rmse: 100, mae: 40, gini_normalized: 0.5, top_decile_capture: 0.3 },
    churn: { auc: 0.75 },
    ...over,
  },
});
const check = (checks: CheckResult[], name: string) => checks.find((c) => c.name === name);

describe('model gate: the evaluation report schema rejects each broken rule', () => {
  const rejected: [string, Over][] = [
    ['model_version not a string', { model_version: 7 }],
    ['rows.evaluated missing', { rows: {} }],
    ['rows.evaluated not an integer', { rows: { evaluated: 10.5 } }],
    ['a revenue metric not a number', { revenue: { rmse: '100', mae: 1, gini_normalized: 0.5 } }],
    ['revenue missing', { revenue: undefined }],
    ['churn.auc not a number', { churn: { auc: 'high' } }],
    ['a check value not a number, boolean or null', { checks: { heuristic_rmse_reduction: '0.2' } }],
    ['slice customers not an integer', { slices: { country: slices({ UK: [1.5, 1] }) } }],
    ['slice customers missing', { slices: { country: { slices: { UK: { mean_predicted: 1 } } } } }],
    [
      'slice mean_predicted not a number',
      { slices: { country: { slices: { UK: { customers: 3, mean_predicted: 'x' } } } } },
    ],
    ['a slice column without its slices', { slices: { country: {} } }],
    ['champion present false without a reason', { champion: { present: false } }],
    ['champion present not a boolean', { champion: { present: 'yes', reason: 'r' } }],
    ['champion model_version not a string', champion({ model_version: 3 })],
    ['champion error not a string', champion({ error: 42 })],
    ['champion revenue metric not a number', champion({ revenue: { rmse: 'x' } })],
    ['champion churn.auc not a number', champion({ churn: { auc: 'x' } })],
  ];
  it.each(rejected)('rejects %s', (_, over) => {
    expect(evaluationSchema.safeParse({ ...base(), ...over }).success).toBe(false);
  });

  it('accepts the optional parts absent, and reads absent checks and slices as empty', () => {
    const { champion: _, checks: __, slices: ___, ...minimal } = base();
    const parsed = evaluationSchema.parse(minimal);
    expect(parsed.checks).toEqual({});
    expect(parsed.slices).toEqual({});
    expect(parsed.champion).toBeUndefined();
    expect(evaluationSchema.parse({ ...base(), champion: { present: false, reason: 'r' } }).champion).toEqual({
      present: false,
      reason: 'r',
    });
    const present = evaluationSchema.parse({ ...base(), ...champion({ revenue: null, churn: null }) }).champion;
    expect(present).toMatchObject({ present: true, model_version: 'champion-0', revenue: null, churn: null });
  });
});

describe('model gate: the gate input and the champion lookup', () => {
  const ok = (uri: string) => gateInputSchema.safeParse({ evaluation_uri: uri, thresholds: T }).success;
  it('takes only an s3:// URI of a .json object with a bucket and a key', () => {
    expect(ok('s3://clv-artifacts/evaluations/run-1/evaluation.json')).toBe(true);
    expect(ok('s3://b/evaluation.json')).toBe(true);
    expect(ok('s3:///evaluation.json')).toBe(false);
    expect(ok('s3://bucket/.json')).toBe(false);
    expect(ok('see s3://bucket/e/evaluation.json')).toBe(false);
    expect(ok('s3://bucket/e/evaluation.json.bak')).toBe(false);
    expect(ok('s3://bucket/e/evaluation.csv')).toBe(false);
    const bad = gateInputSchema.safeParse({ evaluation_uri: 'file.json', thresholds: T });
    expect(bad.error?.issues[0]?.message).toBe('an s3:// URI of evaluation.json');
  });

  it('requires found as a boolean and an integer version in the lookup', () => {
    const uri = 's3://b/e/evaluation.json';
    const withLookup = (champion: unknown) =>
      gateInputSchema.safeParse({ evaluation_uri: uri, thresholds: T, champion }).success;
    expect(withLookup({ found: false })).toBe(true);
    expect(withLookup({ found: true, lookup: { model_package_arn: 'arn', version: 3, model_version: 'm3' } })).toBe(
      true,
    );
    expect(withLookup({})).toBe(false);
    expect(withLookup({ found: 'true' })).toBe(false);
    expect(withLookup({ found: true, lookup: { version: 1.5 } })).toBe(false);
    expect(withLookup({ found: true, lookup: { model_package_arn: 5 } })).toBe(false);
    expect(withLookup({ found: true, lookup: { model_version: 5 } })).toBe(false);
    expect(championLookupSchema.parse({ found: true, lookup: null, extra: 1 })).toEqual({
      found: true,
      lookup: null,
      extra: 1,
    });
  });
});

describe('model gate: non-finite metrics are missing evidence, not numbers', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY])('fails gini_normalized = %s as missing', (v) => {
    const ev = report();
    ev.revenue.gini_normalized = v;
    const out = runGate(ev, T);
    expect(out.passed).toBe(false);
    expect(out.reasons).toEqual(['gini_normalized is missing from the evaluation report']);
    expect(out.metrics.gini).toBe('n/a');
  });

  it('names the undefined churn AUC and the missing heuristic baseline in their skip reasons', () => {
    const out = runGate(report({ churn: { auc: null }, checks: {} }), T);
    expect(check(out.checks, 'churn_auc')).toEqual({
      name: 'churn_auc',
      value: null,
      threshold: T.min_churn_auc,
      status: 'skipped',
      reason: 'churn_auc is undefined for this test snapshot',
    });
    expect(check(out.checks, 'heuristic_rmse_reduction')).toEqual({
      name: 'heuristic_rmse_reduction',
      value: null,
      threshold: T.min_heuristic_rmse_reduction,
      status: 'skipped',
      reason: 'no heuristic baseline in the report',
    });
    expect(out.passed).toBe(true);
  });

  it('skips a heuristic flag that is not a number (a boolean check) instead of comparing it', () => {
    const out = runGate(report({ checks: { heuristic_rmse_reduction: true } }), T);
    expect(check(out.checks, 'heuristic_rmse_reduction')?.status).toBe('skipped');
  });
});

describe('model gate: the champion comparison, check by check', () => {
  const lookup = { found: true, lookup: { model_package_arn: 'arn:pkg/3', version: 3, model_version: 'm3' } };

  it('compares exactly two checks, with no reason on a pass', () => {
    const out = runGate(report(champion()), T, lookup);
    const champ = out.checks.filter((c) => c.name.startsWith('champion_'));
    expect(champ).toEqual([
      { name: 'champion_rmse', value: 100, threshold: 100 * (1 + T.champion_max_rmse_increase), status: 'pass' },
      { name: 'champion_gini', value: 0.5, threshold: 0.5 - T.champion_max_gini_decrease, status: 'pass' },
    ]);
    expect(out.checks.map((c) => c.name)).toEqual([
      'test_rows',
      'gini_normalized',
      'churn_auc',
      'top_decile_capture',
      'heuristic_rmse_reduction',
      'champion_rmse',
      'champion_gini',
      'fairness_country',
      'fairness_acquisition_channel',
    ]);
    expect(out.champion.compared).toBe(true);
    expect(out.metadata.champion_comparison).toBe('pass');
  });

  it('spells out both bounds in the failure reasons', () => {
    const ev = report({
      revenue: { rmse: 120, mae: 50, gini_normalized: 0.4, top_decile_capture: 0.3 },
      ...champion({ model_version: 'champion-0', revenue: { rmse: 100, gini_normalized: 0.6 } }),
    });
    const out = runGate(ev, T);
    expect(out.reasons).toEqual([
      `rmse = 120.0000 > ${(100 * (1 + T.champion_max_rmse_increase)).toFixed(4)} (champion champion-0 rmse ` +
        `100.0000 × (1 + ${T.champion_max_rmse_increase}))`,
      `gini_normalized = 0.4000 < ${(0.6 - T.champion_max_gini_decrease).toFixed(4)} (champion champion-0 gini ` +
        `0.6000 − ${T.champion_max_gini_decrease})`,
    ]);
    const anonymous = runGate(
      report({
        revenue: { rmse: 120, mae: 50, gini_normalized: 0.4, top_decile_capture: 0.3 },
        champion: { present: true, revenue: { rmse: 100, gini_normalized: 0.6 } },
      }),
      T,
    );
    expect(anonymous.reasons[0]).toContain('(champion ? rmse');
    expect(anonymous.reasons[1]).toContain('(champion ? gini');
  });

  it('fails the Gini comparison as missing when the challenger has no Gini', () => {
    const ev = report({
      revenue: { rmse: 100, mae: 50, gini_normalized: null, top_decile_capture: 0.3 },
      ...champion(),
    });
    const out = runGate(ev, T);
    expect(check(out.checks, 'champion_gini')).toMatchObject({
      status: 'fail',
      value: null,
      reason: 'champion_gini is missing from the evaluation report',
    });
  });

  it('names the check of every missing-metric failure', () => {
    const names = (ev: Evaluation) =>
      runGate(ev, T)
        .checks.filter((c) => c.status === 'fail')
        .map((c) => c.name);
    expect(names(report(champion({ revenue: null, churn: null })))).toEqual(['champion_rmse', 'champion_gini']);
    expect(
      names(report({ revenue: { rmse: null, mae: 50, gini_normalized: 0.5, top_decile_capture: 0.3 }, ...champion() })),
    ).toEqual(['champion_rmse']);
  });

  it('records a champion without revenue or churn sections as n/a metrics', () => {
    const out = runGate(report(champion({ revenue: null, churn: null })), T);
    expect(out.champion.metrics).toEqual({
      rmse: 'n/a',
      mae: 'n/a',
      gini: 'n/a',
      churn_auc: 'n/a',
      top_decile_capture: 'n/a',
    });
  });

  it('fails both checks, not compared, when the registry has a champion the report lacks', () => {
    const out = runGate(report(), T, lookup);
    expect(out.champion.compared).toBe(false);
    const reason = 'the registry has a Production model (version 3) but the evaluation report has no champion metrics';
    expect(out.checks.filter((c) => c.name.startsWith('champion_'))).toEqual([
      { name: 'champion_rmse', value: null, threshold: T.champion_max_rmse_increase, status: 'fail', reason },
      { name: 'champion_gini', value: null, threshold: T.champion_max_gini_decrease, status: 'fail', reason },
    ]);
    expect(out.metadata.champion_comparison).toBe(`fail: ${reason}`);
    expect(out.champion.model_version).toBe('m3');
    expect(out.champion.model_package_arn).toBe('arn:pkg/3');
    const unversioned = runGate(report(), T, { found: true });
    expect(unversioned.champion.reason).toBe(
      'the registry has a Production model (version ?) but the evaluation report has no champion metrics',
    );
    expect(unversioned.champion.model_version).toBeNull();
    expect(unversioned.champion.model_package_arn).toBeNull();
  });

  it("keeps the report's own reason for an absent champion, and the default when it gives none", () => {
    const reasonOf = (over: Over) => runGate(report(over), T).champion.reason;
    expect(reasonOf({ champion: { present: false, reason: 'registry unreachable in this account' } })).toBe(
      'registry unreachable in this account',
    );
    expect(reasonOf({ champion: { present: false, reason: '' } })).toBe(NO_CHAMPION);
    const { champion: _, ...noSection } = base();
    expect(runGate(evaluationSchema.parse(noSection), T).champion.reason).toBe(NO_CHAMPION);
    const out = runGate(report({ champion: { present: false, reason: 'first run' } }), T);
    expect(out.checks.filter((c) => c.name.startsWith('champion_')).map((c) => [c.status, c.reason])).toEqual([
      ['skipped', 'first run'],
      ['skipped', 'first run'],
    ]);
  });

  it('does not record a champion package that the lookup did not find', () => {
    const out = runGate(report(), T, { found: false, lookup: { model_package_arn: 'arn:stale', model_version: 'm0' } });
    expect(out.champion.model_package_arn).toBeNull();
    expect(out.champion.model_version).toBe('m0');
    expect(out.metadata.champion_model_package_arn).toBe('none');
    expect(out.metadata.champion_model_version).toBe('m0');
  });

  it("takes the report's champion version over the lookup's", () => {
    const out = runGate(report(champion()), T, lookup);
    expect(out.champion.model_version).toBe('champion-0');
  });

  it('reports the comparison from the champion checks only, whatever else fails', () => {
    const lowGini = { revenue: { rmse: 100, mae: 50, gini_normalized: 0.01, top_decile_capture: 0.3 } };
    const compared = runGate(report({ ...lowGini, ...champion({ revenue: { rmse: 100, gini_normalized: 0.01 } }) }), T);
    expect(compared.passed).toBe(false);
    expect(compared.metadata.champion_comparison).toBe('pass');
    const first = runGate(report(lowGini), T);
    expect(first.passed).toBe(false);
    expect(first.metadata.champion_comparison).toBe(`skipped: ${NO_CHAMPION}`);
  });
});

describe('model gate: fairness results on every early exit', () => {
  const withCountry = (country: unknown) => report({ slices: { ...(base().slices as Over), country } });

  it('reports no ratio and no eligible slice when the slices are missing', () => {
    const out = runGate(report({ slices: { acquisition_channel: slices({ a: [50, 1], b: [50, 1] }) } }), T);
    expect(out.fairness.country).toEqual({ ratio: null, lowest_slice: null, highest_slice: null, eligible_slices: 0 });
  });

  it('counts the eligible slices when fewer than two', () => {
    const out = runGate(withCountry(slices({ UK: [400, 100], DE: [29, 10] })), T);
    expect(out.fairness.country).toEqual({ ratio: null, lowest_slice: null, highest_slice: null, eligible_slices: 1 });
  });

  it('fails, naming the slice, when an eligible slice has no mean prediction', () => {
    const out = runGate(withCountry(slices({ UK: [400, 100], DE: [40, null] })), T);
    expect(check(out.checks, 'fairness_country')).toEqual({
      name: 'fairness_country',
      value: null,
      threshold: T.fairness_min_ratio,
      status: 'fail',
      reason: 'mean_predicted of country slice DE is missing',
    });
    expect(out.fairness.country).toEqual({ ratio: null, lowest_slice: null, highest_slice: null, eligible_slices: 2 });
    // a small slice without a mean does not count
    expect(runGate(withCountry(slices({ UK: [400, 100], FR: [400, 95], DE: [2, null] })), T).passed).toBe(true);
  });

  it('names the lowest and highest slices when the highest mean is not positive', () => {
    const out = runGate(withCountry(slices({ UK: [40, -1], DE: [40, 0] })), T);
    expect(out.fairness.country).toEqual({ ratio: null, lowest_slice: 'UK', highest_slice: 'DE', eligible_slices: 2 });
    expect(check(out.checks, 'fairness_country')?.reason).toBe(
      'fairness_country is undefined: the highest mean predicted value (DE) is 0',
    );
  });

  it('passes a fair split without a reason', () => {
    const out = runGate(withCountry(slices({ UK: [40, 100], DE: [40, 90] })), T);
    expect(check(out.checks, 'fairness_country')).toEqual({
      name: 'fairness_country',
      value: 0.9,
      threshold: T.fairness_min_ratio,
      status: 'pass',
    });
  });
});
