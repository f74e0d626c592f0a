import { describe, expect, it } from 'vitest';
import {
  addDays,
  type DataPipelineSettings,
  INVALID_PIPELINE_INPUT,
  InvalidPipelineInputError,
  LOCAL_PIPELINE_SETTINGS,
  MAX_STACKED_SNAPSHOTS,
  type PipelineName,
  type PipelineNormalizedInput,
  parsePipelineInput,
  pipelineSettingsSchemas,
  rollingCutoffs,
  utcWeekday,
} from '../../lib/contracts/pipeline-inputs.js';

const NOW = new Date('2025-06-15T12:00:00Z');
const DATA = LOCAL_PIPELINE_SETTINGS['data-pipeline'];
const TRAINING = LOCAL_PIPELINE_SETTINGS['training-pipeline'];
const SCORING = LOCAL_PIPELINE_SETTINGS['batch-scoring'];

function parse<P extends PipelineName>(pipeline: P, input: unknown): PipelineNormalizedInput[P] {
  return parsePipelineInput(pipeline, input, LOCAL_PIPELINE_SETTINGS[pipeline], NOW, 'exec-1');
}

/** The error message of a refused input (fails the test when the input is accepted). */
function refusal(pipeline: PipelineName, input: unknown): string {
  try {
    parse(pipeline, input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPipelineInputError);
    expect((err as Error).name).toBe(INVALID_PIPELINE_INPUT);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

const CUTOFFS = { training_cutoff: '2023-01-01', validation_cutoff: '2023-07-01', test_cutoff: '2024-01-01' };

describe('rollingCutoffs', () => {
  it.each([
    // run date, test (−365), validation (−91), training (−91), stacked (−91 each, oldest first)
    ['2025-03-01', '2024-03-01', '2023-12-01', '2023-09-01', ['2023-06-02', '2023-09-01']],
    // 365 days back over 2024-02-29 lands on the 3rd, not the 2nd
    ['2024-03-02', '2023-03-03', '2022-12-02', '2022-09-02', ['2022-06-03', '2022-09-02']],
    // a leap day run date
    ['2024-02-29', '2023-03-01', '2022-11-30', '2022-08-31', ['2022-06-01', '2022-08-31']],
    // across a year end
    ['2026-01-01', '2025-01-01', '2024-10-02', '2024-07-03', ['2024-04-03', '2024-07-03']],
  ])('run date %s: test %s, validation %s, training %s', (runDate, test, validation, training, stacked) => {
    expect(rollingCutoffs(runDate, DATA.rolling_cutoffs)).toEqual({
      training_cutoff: training,
      validation_cutoff: validation,
      test_cutoff: test,
      training_cutoffs: stacked,
    });
  });

  it.each([1, 2, 3])('lists stacked_snapshots=%i dates spacing_days apart ending at training', (n) => {
    const r = rollingCutoffs('2025-03-01', { label_horizon_days: 30, spacing_days: 10, stacked_snapshots: n });
    expect(r.test_cutoff).toBe('2025-01-30');
    expect(r.training_cutoff).toBe('2025-01-10');
    expect(r.training_cutoffs).toHaveLength(n);
    expect(r.training_cutoffs.at(-1)).toBe('2025-01-10');
    r.training_cutoffs.slice(1).forEach((d, i) => {
      expect(addDays(r.training_cutoffs[i] as string, 10)).toBe(d);
    });
  });

  it('settings refuse more stacked snapshots than one data-pipeline run may build (boundary)', () => {
    const base = { label_horizon_days: 365, spacing_days: 91 };
    const schema = pipelineSettingsSchemas['data-pipeline'];
    const ok = (n: number) =>
      schema.safeParse({ rolling_cutoffs: { ...base, stacked_snapshots: n }, training_snapshots_weekday: 6 }).success;
    expect(ok(0)).toBe(false);
    expect(ok(1)).toBe(true);
    expect(ok(MAX_STACKED_SNAPSHOTS)).toBe(true);
    expect(ok(MAX_STACKED_SNAPSHOTS + 1)).toBe(false);
  });
});

describe('data-pipeline input', () => {
  it('a hand-started run gets the former ApplyDefaults state', () => {
    expect(parse('data-pipeline', { date: '2024-03-01' })).toEqual({
      date: '2024-03-01',
      layout: 'generic',
      cutoff: '2024-03-01',
      with_labels: 'false',
      clickstream: true,
      customers: false,
      runId: 'exec-1',
    });
  });

  it('given fields override the defaults', () => {
    const input = {
      date: '2024-03-01',
      layout: 'online-retail',
      cutoff: '2024-01-01',
      with_labels: 'true',
      clickstream: false,
      customers: true,
      backfill_from: '2023-12-01',
    };
    expect(parse('data-pipeline', input)).toEqual({ ...input, runId: 'exec-1' });
  });

  it('feature_snapshots replaces cutoff/with_labels', () => {
    const snapshots = [{ cutoff: '2023-01-01', with_labels: 'true' }];
    const out = parse('data-pipeline', { date: '2024-03-01', feature_snapshots: snapshots });
    expect(out).toEqual({
      date: '2024-03-01',
      layout: 'generic',
      clickstream: true,
      customers: false,
      runId: 'exec-1',
      feature_snapshots: snapshots,
    });
  });

  const snap = { cutoff: '2023-01-01', with_labels: 'true' };
  it.each<[string, Record<string, unknown>, string]>([
    ['date not a real date', { date: '2024-02-30' }, 'date: expected a date YYYY-MM-DD, got "2024-02-30"'],
    ['date a number', { date: 20240301 }, 'date: expected a date YYYY-MM-DD, got 20240301'],
    ['date missing', { layout: 'generic' }, 'date: required, expected a date YYYY-MM-DD'],
    ['date after today', { date: '2025-06-16' }, 'date: expected a date on or before today (2025-06-15)'],
    ['an unknown field', { date: '2024-03-01', dates: 'x' }, 'dates: unknown field'],
    ['backfill_from not a date', { date: '2024-03-01', backfill_from: 'last year' }, 'backfill_from: expected a date'],
    [
      'backfill_from after date',
      { date: '2024-03-01', backfill_from: '2024-03-02' },
      'backfill_from: expected a date on or before date',
    ],
    ['customers a string', { date: '2024-03-01', customers: 'true' }, 'customers: expected true or false, got "true"'],
    ['clickstream a string', { date: '2024-03-01', clickstream: 'no' }, 'clickstream: expected true or false'],
    [
      'with_labels a boolean',
      { date: '2024-03-01', with_labels: true },
      'with_labels: expected the string "true" or "false"',
    ],
    ['layout with spaces', { date: '2024-03-01', layout: 'my layout' }, 'layout: expected a layout name'],
    [
      'cutoff with feature_snapshots',
      { date: '2024-03-01', cutoff: '2024-03-01', feature_snapshots: [snap] },
      'cutoff: not allowed together with feature_snapshots',
    ],
    [
      'with_labels with feature_snapshots',
      { date: '2024-03-01', with_labels: 'true', feature_snapshots: [snap] },
      'with_labels: not allowed together with feature_snapshots',
    ],
    ['scheduledTime with date', { date: '2024-03-01', scheduledTime: '2024-03-01T23:45:00Z' }, 'date: unknown field'],
    ['scheduledTime not a date-time', { scheduledTime: 'yesterday' }, 'scheduledTime: expected an ISO-8601 date-time'],
    [
      'feature_snapshots 0 items',
      { date: '2024-03-01', feature_snapshots: [] },
      'feature_snapshots: expected 1 to 6 items',
    ],
    [
      'feature_snapshots 7 items',
      { date: '2024-03-01', feature_snapshots: Array(7).fill(snap) },
      'feature_snapshots: expected 1 to 6 items',
    ],
    [
      'feature_snapshots an object',
      { date: '2024-03-01', feature_snapshots: snap },
      'feature_snapshots: expected an array',
    ],
    [
      'a snapshot without cutoff',
      { date: '2024-03-01', feature_snapshots: [snap, { with_labels: 'true' }] },
      'feature_snapshots[1].cutoff: required',
    ],
    [
      'a snapshot with an unknown field',
      { date: '2024-03-01', feature_snapshots: [{ ...snap, labels: 1 }] },
      'feature_snapshots[0].labels: unknown field',
    ],
    [
      'a snapshot with_labels "yes"',
      { date: '2024-03-01', feature_snapshots: [{ cutoff: '2023-01-01', with_labels: 'yes' }] },
      'feature_snapshots[0].with_labels: expected the string "true" or "false", got "yes"',
    ],
  ])('refuses %s', (_, input, message) => {
    const text = refusal('data-pipeline', input);
    expect(text.startsWith('data-pipeline: invalid input: ')).toBe(true);
    expect(text).toContain(message);
  });

  it('accepts 1 and 6 feature_snapshots (the bounds)', () => {
    for (const n of [1, 6]) {
      const out = parse('data-pipeline', { date: '2024-03-01', feature_snapshots: Array(n).fill(snap) });
      expect(out.feature_snapshots).toHaveLength(n);
    }
  });

  it('refuses an input that is not an object', () => {
    expect(refusal('data-pipeline', 'x')).toContain('(input): expected an object, got "x"');
    expect(refusal('data-pipeline', null)).toContain('(input): expected an object');
  });

  it('a scheduled run takes the UTC day of its scheduled time (not the day before)', () => {
    expect(parse('data-pipeline', { scheduledTime: '2025-03-04T23:45:00Z' })).toEqual({
      date: '2025-03-04',
      layout: 'generic',
      cutoff: '2025-03-04',
      with_labels: 'false',
      clickstream: true,
      customers: false,
      runId: 'exec-1',
    });
    // an offset time is converted to UTC first
    expect(parse('data-pipeline', { scheduledTime: '2025-03-05T01:00:00+02:00' })).toMatchObject({
      date: '2025-03-04',
    });
  });

  // 2025-03-01 is a Saturday (6); the weekday rule is checked just before, at and just after it.
  it.each([
    ['2025-02-28T23:45:00Z', 5, false],
    ['2025-03-01T23:45:00Z', 6, true],
    ['2025-03-02T23:45:00Z', 0, false],
  ])('scheduled %s (weekday %i): training snapshots %s', (scheduledTime, weekday, training) => {
    const date = scheduledTime.slice(0, 10);
    expect(utcWeekday(date)).toBe(weekday);
    const out = parse('data-pipeline', { scheduledTime });
    if (!training) {
      expect(out).not.toHaveProperty('feature_snapshots');
      expect(out).toMatchObject({ cutoff: date, with_labels: 'false' });
      return;
    }
    const next = rollingCutoffs(date, DATA.rolling_cutoffs);
    expect(out).not.toHaveProperty('cutoff');
    expect(out.feature_snapshots).toEqual([
      ...next.training_cutoffs.map((cutoff) => ({ cutoff, with_labels: 'true' })),
      { cutoff: next.validation_cutoff, with_labels: 'true' },
      { cutoff: next.test_cutoff, with_labels: 'true' },
      { cutoff: date, with_labels: 'false' },
    ]);
  });

  it('the labelled snapshots are exactly the cutoffs the next scheduled training run derives', () => {
    // Data pipeline Saturday 23:45 UTC; training Sunday 03:00 UTC (run date = the day before = the Saturday).
    const data = parse('data-pipeline', { scheduledTime: '2025-03-01T23:45:00Z' });
    const training = parse('training-pipeline', { scheduledTime: '2025-03-02T03:00:00Z' });
    const labelled = (data.feature_snapshots ?? []).filter((s) => s.with_labels === 'true').map((s) => s.cutoff);
    expect(labelled).toEqual([...training.training_cutoffs, training.validation_cutoff, training.test_cutoff]);
  });

  it('follows training_snapshots_weekday from the settings', () => {
    const settings: DataPipelineSettings = { ...DATA, training_snapshots_weekday: 2 };
    const tuesday = parsePipelineInput('data-pipeline', { scheduledTime: '2025-03-04T23:45:00Z' }, settings, NOW);
    expect(tuesday.feature_snapshots).toHaveLength(DATA.rolling_cutoffs.stacked_snapshots + 3);
    const saturday = parsePipelineInput('data-pipeline', { scheduledTime: '2025-03-01T23:45:00Z' }, settings, NOW);
    expect(saturday.feature_snapshots).toBeUndefined();
  });
});

describe('training-pipeline input', () => {
  it('a hand-started run: defaults from the settings, training_cutoffs = [training_cutoff]', () => {
    expect(parse('training-pipeline', CUTOFFS)).toEqual({
      ...CUTOFFS,
      training_cutoffs: ['2023-01-01'],
      tune: false,
      hyperparameters: {},
      gate: TRAINING.gate,
      scheduled: false,
    });
  });

  it('given tune, hyperparameters, training_cutoffs and a subset of gate keys override the settings', () => {
    const out = parse('training-pipeline', {
      ...CUTOFFS,
      training_cutoffs: ['2022-07-01', '2023-01-01'],
      tune: true,
      hyperparameters: { num_round: '300' },
      gate: { min_gini: 0.1, min_test_rows: 10 },
    });
    expect(out).toMatchObject({ tune: true, hyperparameters: { num_round: '300' } });
    expect(out.training_cutoffs).toEqual(['2022-07-01', '2023-01-01']);
    expect(out.gate).toEqual({ ...TRAINING.gate, min_gini: 0.1, min_test_rows: 10 });
  });

  it('a scheduled run derives the rolling cutoffs from the day before its scheduled time', () => {
    const out = parse('training-pipeline', { scheduledTime: '2025-03-02T03:00:00Z' });
    expect(out).toEqual({
      ...rollingCutoffs('2025-03-01', TRAINING.rolling_cutoffs),
      tune: false,
      hyperparameters: {},
      gate: TRAINING.gate,
      scheduled: true,
    });
    expect(out.test_cutoff).toBe('2024-03-01');
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a wrong date',
      { ...CUTOFFS, test_cutoff: '2024-13-01' },
      'test_cutoff: expected a date YYYY-MM-DD, got "2024-13-01"',
    ],
    ['a missing cutoff', { training_cutoff: '2023-01-01', test_cutoff: '2024-01-01' }, 'validation_cutoff: required'],
    ['an unknown field', { ...CUTOFFS, cutoffs: {} }, 'cutoffs: unknown field'],
    ['tune a string', { ...CUTOFFS, tune: 'yes' }, 'tune: expected true or false, got "yes"'],
    [
      'a number hyperparameter',
      { ...CUTOFFS, hyperparameters: { num_round: 300 } },
      'hyperparameters.num_round: expected a string',
    ],
    ['an unknown gate key', { ...CUTOFFS, gate: { min_gini2: 0.1 } }, 'gate.min_gini2: unknown field'],
    [
      'a gate ratio above 1',
      { ...CUTOFFS, gate: { fairness_min_ratio: 1.01 } },
      'gate.fairness_min_ratio: expected ≤ 1, got 1.01',
    ],
    ['min_test_rows 0', { ...CUTOFFS, gate: { min_test_rows: 0 } }, 'gate.min_test_rows: expected rows ≥ 1'],
    [
      'validation = training',
      { ...CUTOFFS, validation_cutoff: '2023-01-01' },
      'validation_cutoff: expected a date after training_cutoff (2023-01-01)',
    ],
    [
      'validation before training',
      { ...CUTOFFS, validation_cutoff: '2022-12-31' },
      'validation_cutoff: expected a date after training_cutoff',
    ],
    [
      'test = validation',
      { ...CUTOFFS, test_cutoff: '2023-07-01' },
      'test_cutoff: expected a date after validation_cutoff (2023-07-01)',
    ],
    [
      'test after today',
      { ...CUTOFFS, test_cutoff: '2025-06-16' },
      'test_cutoff: expected a date on or before today (2025-06-15)',
    ],
    [
      'training_cutoffs not ascending',
      { ...CUTOFFS, training_cutoffs: ['2022-07-01', '2022-07-01', '2023-01-01'] },
      'training_cutoffs[1]: expected a date after 2022-07-01 (ascending)',
    ],
    [
      'training_cutoffs not ending at training_cutoff',
      { ...CUTOFFS, training_cutoffs: ['2022-07-01', '2022-12-31'] },
      'training_cutoffs[1]: expected the last date to be training_cutoff (2023-01-01)',
    ],
    ['training_cutoffs empty', { ...CUTOFFS, training_cutoffs: [] }, 'training_cutoffs: expected at least 1 date'],
    [
      'training_cutoffs with a wrong date',
      { ...CUTOFFS, training_cutoffs: ['2022-02-29', '2023-01-01'] },
      'training_cutoffs[0]: expected a date YYYY-MM-DD, got "2022-02-29"',
    ],
    ['scheduledTime with more', { scheduledTime: '2025-03-02T03:00:00Z', tune: true }, 'tune: unknown field'],
  ])('refuses %s', (_, input, message) => {
    const text = refusal('training-pipeline', input);
    expect(text.startsWith('training-pipeline: invalid input: ')).toBe(true);
    expect(text).toContain(message);
  });

  it('accepts the cutoffs one day apart and test = today (the boundaries)', () => {
    const out = parse('training-pipeline', {
      training_cutoff: '2025-06-13',
      validation_cutoff: '2025-06-14',
      test_cutoff: '2025-06-15',
    });
    expect(out.test_cutoff).toBe('2025-06-15');
  });
});

describe('batch-scoring input', () => {
  it('a hand-started run scores its cutoff with the transform settings', () => {
    expect(parse('batch-scoring', { cutoff: '2025-03-01' })).toEqual({
      cutoff: '2025-03-01',
      transform: SCORING.transform,
      scheduled: false,
    });
  });

  it('a scheduled run scores the UTC day before its scheduled time', () => {
    expect(parse('batch-scoring', { scheduledTime: '2025-03-02T06:00:00Z' })).toEqual({
      cutoff: '2025-03-01',
      transform: SCORING.transform,
      scheduled: true,
    });
    expect(parse('batch-scoring', { scheduledTime: '2024-03-01T06:00:00Z' }).cutoff).toBe('2024-02-29');
  });

  it.each<[string, unknown, string]>([
    ['a wrong date', { cutoff: '2025-02-29' }, 'cutoff: expected a date YYYY-MM-DD, got "2025-02-29"'],
    ['a number', { cutoff: 20250301 }, 'cutoff: expected a date YYYY-MM-DD, got 20250301'],
    ['an unknown field', { cutoff: '2025-03-01', transform: {} }, 'transform: unknown field'],
    ['nothing', {}, 'cutoff: required'],
    ['a cutoff after today', { cutoff: '2025-06-16' }, 'cutoff: expected a date on or before today'],
  ])('refuses %s', (_, input, message) => {
    expect(refusal('batch-scoring', input)).toContain(message);
  });
});

describe('settings schemas', () => {
  it('the local settings parse with their schemas', () => {
    for (const [name, schema] of Object.entries(pipelineSettingsSchemas)) {
      expect(schema.safeParse(LOCAL_PIPELINE_SETTINGS[name as PipelineName]).success).toBe(true);
    }
  });

  it.each([
    ['training_snapshots_weekday 7', { ...DATA, training_snapshots_weekday: 7 }],
    ['training_snapshots_weekday -1', { ...DATA, training_snapshots_weekday: -1 }],
    ['an unknown key', { ...DATA, weekday: 6 }],
  ])('data-pipeline settings refuse %s', (_, value) => {
    expect(pipelineSettingsSchemas['data-pipeline'].safeParse(value).success).toBe(false);
  });

  it.each([
    ['max_payload_in_mb 101', { ...SCORING.transform, max_payload_in_mb: 101 }, false],
    ['max_payload_in_mb 100', { ...SCORING.transform, max_payload_in_mb: 100 }, true],
    ['instance ml.m5.xlarge', { ...SCORING.transform, instance_type: 'ml.m5.xlarge' }, true],
    ['instance m5.xlarge', { ...SCORING.transform, instance_type: 'm5.xlarge' }, false],
  ])('batch-scoring transform settings: %s', (_, transform, ok) => {
    expect(pipelineSettingsSchemas['batch-scoring'].safeParse({ transform }).success).toBe(ok);
  });
});

describe('execution names that name SageMaker jobs', () => {
  const good = { cutoff: '2024-06-30' };
  it.each([
    ['a'.repeat(51), true],
    ['a'.repeat(52), false],
    ['weekly-2024-06-30', true],
    ['has_underscore', false],
    ['-leading', false],
    ['double--hyphen', true],
  ])('batch-scoring execution name %s fits clv-publish-<name>: %s', (name, ok) => {
    const run = () => parsePipelineInput('batch-scoring', good, LOCAL_PIPELINE_SETTINGS['batch-scoring'], NOW, name);
    if (ok) expect(run()).toMatchObject({ cutoff: '2024-06-30' });
    else expect(run).toThrow(/execution name: expected at most 51 letters, digits or single hyphens/);
  });

  it('training-pipeline allows 53 characters (clv-train-<name>), the data pipeline any name', () => {
    const input = { training_cutoff: '2023-01-01', validation_cutoff: '2023-07-01', test_cutoff: '2024-01-01' };
    const settings = LOCAL_PIPELINE_SETTINGS['training-pipeline'];
    expect(() => parsePipelineInput('training-pipeline', input, settings, NOW, 'a'.repeat(53))).not.toThrow();
    expect(() => parsePipelineInput('training-pipeline', input, settings, NOW, 'a'.repeat(54))).toThrow(
      InvalidPipelineInputError,
    );
    const data = { date: '2024-06-30' };
    expect(() =>
      parsePipelineInput('data-pipeline', data, LOCAL_PIPELINE_SETTINGS['data-pipeline'], NOW, 'with_underscore'),
    ).not.toThrow();
  });
});
