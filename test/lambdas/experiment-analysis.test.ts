/**
 * The experiment analysis core (lambdas/experiment-analysis/core.ts): decisions on planted effects, the boundaries
 * of alpha and of the SRM threshold, the guardrail, degenerate inputs (no NaN ever) and invalid inputs.
 * scipy agreement is checked by local/py/tests/test_experiment_scipy.py.
 */
import { describe, expect, it } from 'vitest';
import {
  type Analysis,
  AnalysisInputError,
  type ArmAggregates,
  analyzeExperiment,
  compareMeans,
  compareProportions,
  InsufficientDataError,
  SRM_P_THRESHOLD,
  sampleRatioMismatch,
} from '../../lambdas/experiment-analysis/core.js';

/** An arm from its size, conversions, revenue mean and standard deviation per user, and unsubscribes. */
function arm(n: number, conversions: number, mean: number, sd: number, unsubscribes = 0): ArmAggregates {
  return {
    n,
    conversions,
    revenue_sum: n * mean,
    revenue_sum_sq: (n - 1) * sd * sd + n * mean * mean,
    unsubscribes,
  };
}

/** Every number in the analysis is finite (JSON never carries NaN/Infinity, which it would print as null). */
function expectAllFinite(value: unknown, path = 'analysis'): void {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      expectAllFinite(v, `${path}[${i}]`);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) expectAllFinite(v, `${path}.${k}`);
  }
}

const AB = { expected_share: 0.5 };

describe('decisions on planted effects', () => {
  const cases: Array<[string, ArmAggregates, ArmAggregates, Analysis['decision']]> = [
    ['conversion and revenue lift', arm(10_000, 1_000, 5, 20, 20), arm(10_000, 1_150, 6, 21, 20), 'ship'],
    ['revenue lift only', arm(10_000, 1_000, 5, 10, 20), arm(10_000, 1_000, 6, 10, 20), 'ship'],
    ['no effect', arm(10_000, 1_000, 5, 20, 20), arm(10_000, 1_010, 5.1, 20, 22), 'no_difference'],
    ['conversion drop', arm(10_000, 1_000, 5, 20, 20), arm(10_000, 850, 5, 20, 20), 'worse'],
    ['revenue drop', arm(10_000, 1_000, 6, 10, 20), arm(10_000, 1_000, 5, 10, 20), 'worse'],
    // revenue is better, but twice as many unsubscribes: the guardrail wins
    ['unsubscribes up', arm(10_000, 1_000, 5, 10, 100), arm(10_000, 1_000, 6, 10, 200), 'worse'],
    ['sample ratio mismatch', arm(10_000, 1_000, 5, 20, 20), arm(9_000, 1_150, 6, 21, 20), 'invalid'],
  ];
  it.each(cases)('%s → decision', (_, control, treatment, decision) => {
    const a = analyzeExperiment({ control, treatment, ...AB });
    expect(a.decision).toBe(decision);
    expect(a.reasons.length).toBeGreaterThan(0);
    expectAllFinite(a);
    expect(a.n).toEqual({ control: control.n, treatment: treatment.n });
  });

  it('the guardrail reports worse only when treatment is significantly higher', () => {
    const up = analyzeExperiment({
      control: arm(10_000, 1_000, 5, 10, 100),
      treatment: arm(10_000, 1_000, 5, 10, 200),
      ...AB,
    });
    expect(up.guardrail.unsubscribe.worse).toBe(true);
    expect(up.guardrail.unsubscribe.p_value).toBeLessThan(0.05);
    expect(up.reasons[0]).toMatch(/unsubscribe guardrail/);
    // significantly *lower* unsubscribes in treatment is not a breach
    const down = analyzeExperiment({
      control: arm(10_000, 1_000, 5, 10, 200),
      treatment: arm(10_000, 1_000, 5, 10, 100),
      ...AB,
    });
    expect(down.guardrail.unsubscribe.p_value).toBeLessThan(0.05);
    expect(down.guardrail.unsubscribe.worse).toBe(false);
    expect(down.decision).toBe('no_difference');
  });

  it('canary shares: 5% treatment with the default expected share is valid', () => {
    const a = analyzeExperiment({ control: arm(19_000, 1_900, 5, 20), treatment: arm(1_000, 130, 6, 20) });
    expect(a.srm.expected_share).toBe(0.05);
    expect(a.srm.observed_share).toBeCloseTo(0.05, 12);
    expect(a.srm.valid).toBe(true);
    expect(a.srm.p_value).toBeCloseTo(1, 12);
    expect(a.alpha).toBe(0.05);
  });
});

describe('boundaries', () => {
  it('alpha: p equal to alpha is not significant, p just below it is', () => {
    const control = arm(10_000, 1_000, 5, 0);
    const treatment = arm(10_000, 1_080, 5, 0);
    const p = compareProportions(1_000, 10_000, 1_080, 10_000, 0.05).p_value;
    expect(p).toBeGreaterThan(0.01);
    expect(p).toBeLessThan(0.1);
    const at = analyzeExperiment({ control, treatment, ...AB, alpha: p });
    expect(at.decision).toBe('no_difference');
    const above = analyzeExperiment({ control, treatment, ...AB, alpha: p * (1 + 1e-9) });
    expect(above.decision).toBe('ship');
  });

  it('alpha on the guardrail: p equal to alpha is not a breach, p just below it is', () => {
    const control = arm(10_000, 1_000, 5, 10, 100);
    const treatment = arm(10_000, 1_000, 5, 10, 130);
    const p = compareProportions(100, 10_000, 130, 10_000, 0.05).p_value;
    expect(p).toBeGreaterThan(0.01);
    expect(p).toBeLessThan(0.1);
    const at = analyzeExperiment({ control, treatment, ...AB, alpha: p });
    expect(at.guardrail.unsubscribe.worse).toBe(false);
    expect(at.decision).toBe('no_difference');
    const above = analyzeExperiment({ control, treatment, ...AB, alpha: p * (1 + 1e-9) });
    expect(above.guardrail.unsubscribe.worse).toBe(true);
    expect(above.decision).toBe('worse');
  });

  // N = 10,000 with an expected 50/50 split: chi² = (n_t − 5,000)² · 4 / 10,000; p = 0.001 at chi² = 10.828,
  // i.e. |n_t − 5,000| = 164.5. 164 off → p ≈ 0.00104 (valid), 165 off → p ≈ 0.00097 (invalid).
  it.each([
    [5_164, true],
    [5_165, false],
    [4_836, true],
    [4_835, false],
  ])('SRM with %i of 10,000 in treatment (expected 50%%): valid = %s', (nT, valid) => {
    const srm = sampleRatioMismatch(10_000 - nT, nT, 0.5);
    expect(srm.valid).toBe(valid);
    if (valid) expect(srm.p_value).toBeGreaterThanOrEqual(SRM_P_THRESHOLD);
    else expect(srm.p_value).toBeLessThan(SRM_P_THRESHOLD);
    expect(Math.abs(srm.p_value - SRM_P_THRESHOLD)).toBeLessThan(0.0001);
    const a = analyzeExperiment({ control: arm(10_000 - nT, 500, 5, 5), treatment: arm(nT, 250, 5, 5), ...AB });
    expect(a.decision === 'invalid').toBe(!valid);
  });

  it('SRM against a 5% canary share', () => {
    // 10,000 customers, 5% expected = 500; chi² = d²/500 + d²/9,500 = d²/475 → p = 0.001 at |d| ≈ 71.7
    expect(sampleRatioMismatch(10_000 - 571, 571, 0.05).valid).toBe(true);
    expect(sampleRatioMismatch(10_000 - 572, 572, 0.05).valid).toBe(false);
  });
});

describe('the statistics', () => {
  it('two proportions: pooled z, unpooled interval', () => {
    const r = compareProportions(100, 1_000, 130, 1_000, 0.05);
    const pooled = 230 / 2_000;
    const z = 0.03 / Math.sqrt(pooled * (1 - pooled) * (2 / 1_000));
    expect(r.z).toBeCloseTo(z, 12);
    const se = Math.sqrt((0.1 * 0.9) / 1_000 + (0.13 * 0.87) / 1_000);
    expect(r.ci_high - r.diff).toBeCloseTo(1.959963984540054 * se, 12);
    expect(r.diff).toBeCloseTo(0.03, 15);
  });

  it('Welch from sums: equal n and variances give df = 2n − 2', () => {
    const r = compareMeans(arm(50, 0, 10, 3), arm(50, 0, 11, 3), 0.05);
    expect(r.df).toBeCloseTo(98, 9);
    expect(r.t).toBeCloseTo(1 / Math.sqrt(9 / 50 + 9 / 50), 9);
    expect(r.diff).toBeCloseTo(1, 12);
  });
});

describe('degenerate inputs: a clear result or a named error, never NaN', () => {
  it('an arm with fewer than 2 customers is an InsufficientDataError naming the arm', () => {
    expect(() => analyzeExperiment({ control: arm(100, 1, 1, 1), treatment: arm(1, 0, 0, 0), ...AB })).toThrow(
      InsufficientDataError,
    );
    expect(() =>
      analyzeExperiment({
        control: { n: 0, conversions: 0, revenue_sum: 0, revenue_sum_sq: 0, unsubscribes: 0 },
        treatment: arm(100, 1, 1, 1),
      }),
    ).toThrow(/the control arm has 0 customer\(s\)/);
  });

  it('nobody converted, spent or unsubscribed in either arm: no difference, p = 1, intervals [0, 0]', () => {
    const zero = { n: 1_000, conversions: 0, revenue_sum: 0, revenue_sum_sq: 0, unsubscribes: 0 };
    const a = analyzeExperiment({ control: zero, treatment: { ...zero, n: 1_000 }, ...AB });
    expect(a.decision).toBe('no_difference');
    expect(a.conversion).toMatchObject({ diff: 0, ci_low: 0, ci_high: 0, p_value: 1, z: null });
    expect(a.revenue_per_user).toMatchObject({ diff: 0, ci_low: 0, ci_high: 0, p_value: 1, t: null, df: null });
    expect(a.guardrail.unsubscribe).toMatchObject({ p_value: 1, worse: false });
    expectAllFinite(a);
    expect(JSON.stringify(a)).not.toMatch(/NaN|Infinity/);
  });

  it('zero variance in both arms with different means: the difference is exact (p = 0, a point interval)', () => {
    const c = { n: 100, conversions: 100, revenue_sum: 1_000, revenue_sum_sq: 10_000, unsubscribes: 0 };
    const t = { n: 100, conversions: 100, revenue_sum: 2_000, revenue_sum_sq: 40_000, unsubscribes: 0 };
    const a = analyzeExperiment({ control: c, treatment: t, ...AB });
    expect(a.revenue_per_user).toMatchObject({ diff: 10, ci_low: 10, ci_high: 10, p_value: 0, t: null, df: null });
    expect(a.decision).toBe('ship');
    expectAllFinite(a);
  });

  it('zero variance in one arm only is an ordinary Welch test', () => {
    const c = { n: 100, conversions: 0, revenue_sum: 0, revenue_sum_sq: 0, unsubscribes: 0 };
    const r = compareMeans(c, arm(100, 10, 2, 5), 0.05);
    expect(r.df).toBeCloseTo(99, 9);
    expect(Number.isFinite(r.p_value)).toBe(true);
  });
});

describe('invalid input: AnalysisInputError naming the field', () => {
  const ok = arm(100, 10, 5, 5);
  it.each([
    ['conversions above n', { ...ok, conversions: 101 }, /control\.conversions/],
    ['unsubscribes above n', { ...ok, unsubscribes: 101 }, /control\.unsubscribes/],
    ['negative revenue', { ...ok, revenue_sum: -1 }, /control\.revenue_sum/],
    ['fractional n', { ...ok, n: 10.5 }, /control\.n/],
    [
      'a sum of squares below sum²/n',
      { ...ok, revenue_sum_sq: 1 },
      /not a sum of squares[\s\S]*control\.revenue_sum_sq/,
    ],
  ])('%s', (_, control, message) => {
    expect(() => analyzeExperiment({ control, treatment: ok })).toThrow(AnalysisInputError);
    expect(() => analyzeExperiment({ control, treatment: ok })).toThrow(message);
  });

  it.each([
    ['alpha 0', { alpha: 0 }, /alpha/],
    ['alpha 1', { alpha: 1 }, /alpha/],
    ['expected_share 1', { expected_share: 1 }, /expected_share/],
  ])('%s', (_, extra, message) => {
    expect(() => analyzeExperiment({ control: ok, treatment: ok, ...extra })).toThrow(message);
  });
});
