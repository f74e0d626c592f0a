/**
 * The shadow gate's guards beyond shadow-gate.test.ts: each degenerate kind at its edge (0 / 1 of a count), the
 * runtime limit with and without the tolerance, missing job times, missing or non-finite means, the summary and
 * metadata recorded for the package, and each rule of the input schema rejecting what breaks it.
 */
import { describe, expect, it } from 'vitest';
import {
  degenerateKinds,
  gateInputSchema,
  type PredictionStats,
  runShadowGate,
  runtimeSeconds,
  type ShadowGateInput,
} from '../../lambdas/shadow-gate/core.js';
import { predictionStats, shadowComparison } from './helpers/shadow-gate-fixture.js';

const stats = predictionStats;
const comparison = shadowComparison;
const input = (over: Partial<ShadowGateInput> = {}): ShadowGateInput => ({
  thresholds: { max_runtime_increase: 0.1, max_mean_shift: 0.15, runtime_tolerance_seconds: 0 },
  champion: { status: 'Completed', start_time: 1_000_000, end_time: 1_100_000 },
  challenger: { status: 'Completed', start_time: 2_000_000, end_time: 2_100_000 },
  comparison: comparison(),
  comparison_uri: 's3://artifacts/scoring/x/comparison.json',
  execution: 'exec-1',
  champion_model_version: 'clv-champ',
  ...over,
});

describe('shadow gate: degenerate predictions, each kind at its edge', () => {
  it.each([
    [{ n: 0 }, ['no predictions']],
    [{ n_nan: 1 }, ['1 NaN prediction(s)']],
    [{ n_negative: 1 }, ['1 negative prediction(s)']],
    [{ n_zero: 100 }, ['all predictions are zero']],
    [{ n_zero: 99 }, []],
    [{ n_distinct: 1 }, ['a single predicted value for every customer']],
    [{ n_distinct: 2 }, []],
    [{ n_zero: 100, n_distinct: 1 }, ['all predictions are zero']],
    [{ n_nan: 2, n_negative: 3 }, ['2 NaN prediction(s)', '3 negative prediction(s)']],
  ] as [Partial<PredictionStats>, string[]][])('%o → %o', (over, kinds) => {
    expect(degenerateKinds(stats(over))).toEqual(kinds);
  });

  it('fails the gate once per degenerate kind, naming it', () => {
    const r = runShadowGate(input({ comparison: comparison({ n_nan: 1, n_negative: 2 }) }));
    expect(r.passed).toBe(false);
    expect(r.reasons).toEqual([
      'challenger is degenerate: 1 NaN prediction(s)',
      'challenger is degenerate: 2 negative prediction(s)',
    ]);
    expect(r.summary.degenerate).toEqual(['1 NaN prediction(s)', '2 negative prediction(s)']);
  });
});

describe('shadow gate: the runtime limit', () => {
  const withChallenger = (seconds: number, tolerance = 0, increase = 0.1) =>
    runShadowGate(
      input({
        thresholds: { max_runtime_increase: increase, max_mean_shift: 0.15, runtime_tolerance_seconds: tolerance },
        challenger: { status: 'Completed', start_time: 0, end_time: seconds * 1000 },
      }),
    );

  it('limit = champion × (1 + increase) + tolerance, inclusive', () => {
    expect(withChallenger(120, 10).passed).toBe(true);
    expect(withChallenger(120.01, 10).passed).toBe(false);
    expect(withChallenger(100, 0, 0).passed).toBe(true);
    expect(withChallenger(100.01, 0, 0).passed).toBe(false);
    const over = withChallenger(130, 10);
    expect(over.reasons).toEqual([
      'challenger runtime 130 s exceeds the limit 120 s (champion 100 s × (1 + 0.1) + 10 s)',
    ]);
    expect(over.summary).toMatchObject({ champion_runtime_s: 100, challenger_runtime_s: 130 });
    expect(over.summary.runtime_limit_s).toBeCloseTo(120, 10);
    expect(over.summary.runtime_increase).toBeCloseTo(0.3, 10);
    expect(over.metadata.shadow_runtime_increase).toBe('0.3');
  });

  it('a faster challenger has a negative increase; a zero-second champion has none', () => {
    expect(withChallenger(50).summary.runtime_increase).toBe(-0.5);
    const instant = runShadowGate(input({ champion: { status: 'Completed', start_time: 5, end_time: 5 } }));
    expect(instant.summary.runtime_increase).toBeNull();
    expect(instant.metadata.shadow_runtime_increase).toBe('n/a');
  });

  it('fails when either job has no start or end time', () => {
    for (const over of [
      { champion: { status: 'Completed', start_time: 1 } },
      { champion: { status: 'Completed', end_time: 1 } },
      { challenger: { status: 'Completed', start_time: 1 } },
      { challenger: { status: 'Completed', end_time: 1 } },
    ] as Partial<ShadowGateInput>[]) {
      const r = runShadowGate(input(over));
      expect(r.passed).toBe(false);
      expect(r.reasons).toEqual([
        'transform job times missing (TransformStartTime/TransformEndTime): runtime cannot be compared',
      ]);
      expect(r.summary.runtime_limit_s).toBeNull();
    }
  });

  it('runtimeSeconds reads epoch milliseconds and ISO-8601 times', () => {
    expect(runtimeSeconds({ status: 'Completed', start_time: 1000, end_time: 3500 })).toBe(2.5);
    expect(
      runtimeSeconds({ status: 'Completed', start_time: '2024-01-01T00:00:00Z', end_time: '2024-01-01T00:00:02.5Z' }),
    ).toBe(2.5);
    expect(runtimeSeconds({ status: 'Completed', start_time: 1000 })).toBeNull();
    expect(runtimeSeconds({ status: 'Completed', end_time: 1000 })).toBeNull();
  });
});

describe('shadow gate: a challenger that did not complete', () => {
  it('fails without comparing runtimes, with and without a failure cause', () => {
    const r = runShadowGate(
      input({ challenger: { status: 'Stopped', start_time: 0, end_time: 999_999_000 }, comparison: null }),
    );
    expect(r.reasons).toEqual(['challenger transform job did not complete (status Stopped)']);
    expect(r.summary).toMatchObject({ challenger_completed: false, challenger_runtime_s: null, runtime_limit_s: null });
    const long = runShadowGate(
      input({ challenger: { status: 'Failed', failure: { Cause: 'x'.repeat(400) } }, comparison: null }),
    );
    expect(long.reasons[0]).toBe(
      `challenger transform job did not complete (status Failed: ${JSON.stringify({ Cause: 'x'.repeat(400) }).slice(0, 300)})`,
    );
  });

  it('a completed challenger without a comparison fails', () => {
    const r = runShadowGate(input({ comparison: null }));
    expect(r.reasons).toEqual(['no comparison report for a completed challenger']);
    expect(r.summary).toMatchObject({ champion_mean: null, challenger_mean: null, rows_compared: null });
  });
});

describe('shadow gate: the mean shift', () => {
  it('fails a missing or non-finite mean as not comparable', () => {
    for (const [challenger, champion] of [
      [{ mean: null }, {}],
      [{}, { mean: null }],
      [{ mean: Number.POSITIVE_INFINITY }, {}],
      [{}, { mean: Number.NaN }],
    ] as [Partial<PredictionStats>, Partial<PredictionStats>][]) {
      const r = runShadowGate(input({ comparison: comparison(challenger, champion) }));
      expect(r.reasons).toEqual(['mean prediction not comparable (a mean is missing or not finite)']);
      expect(r.summary.mean_shift).toBeNull();
    }
  });

  it('is relative to the absolute champion mean, so a negative champion mean still compares', () => {
    const r = runShadowGate(input({ comparison: comparison({ mean: -90 }, { mean: -100 }) }));
    expect(r.summary.mean_shift).toBeCloseTo(0.1, 10);
    expect(r.passed).toBe(true);
    const far = runShadowGate(input({ comparison: comparison({ mean: 130 }) }));
    expect(far.reasons).toEqual([
      'mean prediction moved 30.00% (champion 100, challenger 130); the limit is less than 15.00%',
    ]);
  });
});

describe('shadow gate: the record kept on the package', () => {
  it('a pass is staged Canary with every figure', () => {
    const r = runShadowGate(input({ comparison: comparison({ mean: 105 }) }));
    expect(r.passed).toBe(true);
    expect(r.reasons).toEqual([]);
    expect(r.summary).toEqual({
      challenger_completed: true,
      champion_runtime_s: 100,
      challenger_runtime_s: 100,
      runtime_increase: 0,
      runtime_limit_s: 110.00000000000001,
      champion_mean: 100,
      challenger_mean: 105,
      mean_shift: 0.05,
      degenerate: [],
      rank_correlation: 0.93,
      top_decile_overlap: 0.8,
      rows_compared: 100,
    });
    expect(r.metadata).toEqual({
      stage: 'Canary',
      shadow_passed: 'true',
      shadow_execution: 'exec-1',
      shadow_champion: 'clv-champ',
      shadow_mean_shift: '0.05',
      shadow_runtime_increase: '0',
      shadow_rank_correlation: '0.93',
      shadow_top_decile_overlap: '0.8',
      shadow_comparison_uri: 's3://artifacts/scoring/x/comparison.json',
    });
  });

  it('a failure is staged Staging with the reasons, every value cut to 256 characters', () => {
    const r = runShadowGate(
      input({
        execution: 'e'.repeat(300),
        champion_model_version: '',
        comparison_uri: null,
        comparison: { ...comparison({ n: 0 }), rank_correlation: null, top_decile_overlap: null },
      }),
    );
    expect(r.passed).toBe(false);
    expect(r.metadata.stage).toBe('Staging');
    expect(r.metadata.shadow_passed).toBe('false');
    expect(r.metadata.shadow_execution).toHaveLength(256);
    expect(r.metadata.shadow_champion).toBe('n/a');
    expect(r.metadata.shadow_comparison_uri).toBe('n/a');
    expect(r.metadata.shadow_rank_correlation).toBe('n/a');
    expect(r.metadata.shadow_top_decile_overlap).toBe('n/a');
    expect(r.metadata.shadow_reasons).toBe(r.reasons.join('; ').slice(0, 256));
    expect(r.reasons[0]).toBe('challenger is degenerate: no predictions');
  });
});

describe('shadow gate: the input schema rejects each broken rule', () => {
  const valid = () => JSON.parse(JSON.stringify(input())) as Record<string, unknown>;
  const withPath = (pathKeys: string[], value: unknown) => {
    const doc = valid();
    let node = doc as Record<string, unknown>;
    for (const k of pathKeys.slice(0, -1)) node = node[k] as Record<string, unknown>;
    const last = pathKeys.at(-1) as string;
    if (value === undefined) delete node[last];
    else node[last] = value;
    return doc;
  };
  it('accepts the valid input', () => {
    expect(gateInputSchema.safeParse(valid()).success).toBe(true);
    expect(gateInputSchema.safeParse(withPath(['thresholds', 'max_runtime_increase'], 0)).success).toBe(true);
    expect(gateInputSchema.safeParse(withPath(['thresholds', 'max_runtime_increase'], 10)).success).toBe(true);
    expect(gateInputSchema.safeParse(withPath(['thresholds', 'max_mean_shift'], 10)).success).toBe(true);
    expect(gateInputSchema.safeParse(withPath(['thresholds', 'runtime_tolerance_seconds'], 3600)).success).toBe(true);
    expect(gateInputSchema.safeParse(withPath(['comparison'], null)).success).toBe(true);
    expect(gateInputSchema.safeParse(withPath(['champion', 'start_time'], '2024-01-01T00:00:00+01:00')).success).toBe(
      true,
    );
  });
  it.each([
    [['thresholds', 'max_runtime_increase'], -0.01],
    [['thresholds', 'max_runtime_increase'], 10.01],
    [['thresholds', 'max_mean_shift'], 0],
    [['thresholds', 'max_mean_shift'], 10.01],
    [['thresholds', 'runtime_tolerance_seconds'], -1],
    [['thresholds', 'runtime_tolerance_seconds'], 3601],
    [['thresholds', 'extra'], 1],
    [['champion', 'status'], ''],
    [['champion', 'job_name'], ''],
    [['champion', 'start_time'], -1],
    [['champion', 'end_time'], '2024-01-01'],
    [['comparison', 'column'], ''],
    [['comparison', 'rows_joined'], -1],
    [['comparison', 'rows_joined'], 1.5],
    [['comparison', 'top_decile_overlap'], 1.01],
    [['comparison', 'top_decile_overlap'], -0.01],
    [['comparison', 'rank_correlation'], 'high'],
    [['comparison', 'challenger', 'n'], -1],
    [['comparison', 'challenger', 'n_nan'], 0.5],
    [['comparison', 'challenger', 'n_negative'], -1],
    [['comparison', 'challenger', 'n_zero'], -1],
    [['comparison', 'challenger', 'n_distinct'], -1],
    [['comparison', 'champion', 'mean'], 'x'],
    [['comparison', 'champion', 'std'], undefined],
    [['comparison', 'champion', 'min'], undefined],
    [['comparison', 'champion', 'max'], undefined],
    [['comparison_uri'], 3],
    [['execution'], ''],
    [['champion_model_version'], undefined],
    [['extra'], 1],
  ] as [string[], unknown][])('rejects %o = %o', (pathKeys, value) => {
    const parsed = gateInputSchema.safeParse(withPath(pathKeys, value));
    expect(parsed.success).toBe(false);
    const where = pathKeys.at(-1) === 'extra' ? pathKeys.slice(0, -1) : pathKeys;
    expect(parsed.error?.issues[0]?.path.join('.')).toBe(where.join('.'));
  });
});
