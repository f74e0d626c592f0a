/**
 * The shadow gate: a sound challenger passes; each degenerate kind is rejected; a failed challenger job is
 * rejected; the runtime limit (10%) passes at the limit and fails just above; the mean shift (15%) passes just below
 * and fails at and above the limit.
 */
import { describe, expect, it } from 'vitest';
import {
  degenerateKinds,
  type PredictionStats,
  runShadowGate,
  type ShadowGateInput,
} from '../../lambdas/shadow-gate/core.js';
import { handler } from '../../lambdas/shadow-gate/handler.js';
import { predictionStats, shadowComparison } from './helpers/shadow-gate-fixture.js';

const stats = predictionStats;

const comparison = shadowComparison;

/** Champion 100 s; challenger `seconds` s (epoch ms as Step Functions serializes SageMaker times). */
function input(seconds = 100, challenger: Partial<PredictionStats> = {}, tolerance = 0): ShadowGateInput {
  return {
    thresholds: { max_runtime_increase: 0.1, max_mean_shift: 0.15, runtime_tolerance_seconds: tolerance },
    champion: { status: 'Completed', job_name: 'clv-shadow-champion-x', start_time: 1_000_000, end_time: 1_100_000 },
    challenger: {
      status: 'Completed',
      job_name: 'clv-shadow-challenger-x',
      start_time: 2_000_000,
      end_time: 2_000_000 + seconds * 1000,
    },
    comparison: comparison(challenger),
    comparison_uri: 's3://artifacts/scoring/x/comparison/comparison.json',
    execution: 'arn:aws:states:eu-west-1:123456789012:execution:clv-dev-shadow:x',
    champion_model_version: 'clv-champ',
  };
}

describe('shadow gate', () => {
  it('passes a sound challenger, reports rank correlation and top-decile overlap, and marks it Canary', () => {
    const r = runShadowGate(input(105, { mean: 110 }));
    expect(r.reasons).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.summary).toMatchObject({ rank_correlation: 0.93, top_decile_overlap: 0.8, champion_runtime_s: 100 });
    expect(r.summary.mean_shift).toBeCloseTo(0.1, 12);
    expect(r.metadata).toMatchObject({
      stage: 'Canary',
      shadow_passed: 'true',
      shadow_rank_correlation: '0.93',
      shadow_top_decile_overlap: '0.8',
      shadow_champion: 'clv-champ',
    });
    for (const v of Object.values(r.metadata)) {
      expect(typeof v).toBe('string');
      expect(v.length).toBeLessThanOrEqual(256);
    }
  });

  it.each([
    ['all zeros', { mean: 0, n_zero: 100, n_distinct: 1, std: 0, min: 0, max: 0 }, /all predictions are zero/],
    ['NaN', { n_nan: 3 }, /3 NaN prediction/],
    ['negative', { n_negative: 2, min: -5 }, /2 negative prediction/],
    ['a single value', { mean: 100, n_distinct: 1, std: 0, min: 100, max: 100 }, /a single predicted value/],
    ['no predictions', { n: 0, mean: null, std: null, min: null, max: null, n_distinct: 0 }, /no predictions/],
  ])('rejects a degenerate challenger: %s', (_kind, over, reason) => {
    const r = runShadowGate(input(100, over));
    expect(r.passed).toBe(false);
    expect(r.reasons.join('; ')).toMatch(reason);
    expect(r.metadata).toMatchObject({ stage: 'Staging', shadow_passed: 'false' });
    expect(r.metadata.shadow_reasons).toMatch(/degenerate/);
  });

  it('rejects a challenger whose transform job failed', () => {
    const base = input();
    const r = runShadowGate({
      ...base,
      challenger: { status: 'Failed', failure: { Error: 'States.TaskFailed', Cause: 'AlgorithmError' } },
      comparison: null,
      comparison_uri: null,
    });
    expect(r.passed).toBe(false);
    expect(r.reasons[0]).toMatch(/did not complete \(status Failed: .*AlgorithmError/);
  });

  it.each([
    [109.999, true],
    [110, true],
    [110.001, false],
    [150, false],
  ])('runtime %s s against the champion 100 s (limit +10%%): passed=%s', (seconds, passed) => {
    const r = runShadowGate(input(seconds));
    expect(r.passed).toBe(passed);
    if (!passed) expect(r.reasons.join()).toMatch(/runtime .* exceeds the limit 110 s/);
  });

  it('adds the runtime tolerance to the limit', () => {
    expect(runShadowGate(input(140, {}, 30)).passed).toBe(true);
    expect(runShadowGate(input(140.01, {}, 30)).passed).toBe(false);
  });

  it('accepts ISO-8601 job times', () => {
    const base = input();
    const r = runShadowGate({
      ...base,
      champion: { status: 'Completed', start_time: '2024-01-01T00:00:00Z', end_time: '2024-01-01T00:01:40Z' },
      challenger: { status: 'Completed', start_time: '2024-01-01T00:00:00Z', end_time: '2024-01-01T00:01:50Z' },
    });
    expect(r.summary.challenger_runtime_s).toBe(110);
    expect(r.passed).toBe(true);
  });

  it.each([
    [114.999, true],
    [115, false],
    [115.001, false],
    [85.001, true],
    [85, false],
  ])('challenger mean %s against the champion 100 (limit: less than 15%%): passed=%s', (mean, passed) => {
    const r = runShadowGate(input(100, { mean }));
    expect(r.passed).toBe(passed);
    if (!passed) expect(r.reasons.join()).toMatch(/mean prediction moved 15\.00%/);
  });

  it('a champion mean of 0 cannot be compared', () => {
    const base = input();
    const r = runShadowGate({ ...base, comparison: { ...comparison(), champion: stats({ mean: 0 }) } });
    expect(r.passed).toBe(false);
    expect(r.reasons.join()).toMatch(/champion mean prediction is 0/);
  });

  it('degenerateKinds is empty for a sound column', () => {
    expect(degenerateKinds(stats())).toEqual([]);
  });

  it('the handler refuses a malformed event naming the field', async () => {
    const bad = { ...input(), thresholds: { max_runtime_increase: 0.1 } };
    await expect(handler(bad)).rejects.toThrow(/thresholds\.max_mean_shift/);
    await expect(handler(bad)).rejects.toMatchObject({ name: 'InvalidShadowGateInput' });
    await expect(handler(input())).resolves.toMatchObject({ passed: true });
  });
});
