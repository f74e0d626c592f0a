/** The ValidateInput Lambda: event parsing, settings from CLV_PIPELINE_SETTINGS (or the local defaults), refusals. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PipelineSettingsError,
  pipelineSettings,
  SETTINGS_ENV,
  ValidateInputEventError,
  validateInput,
} from '../../lambdas/validate-input/core.js';
import { handler } from '../../lambdas/validate-input/handler.js';
import { LOCAL_PIPELINE_SETTINGS } from '../../lib/contracts/pipeline-inputs.js';

const NOW = new Date('2025-06-15T00:00:00Z');
const event = (pipeline: string, input: unknown) => ({ pipeline, input, execution_name: 'exec-7' });

describe('validate-input core', () => {
  it('returns the normalized input with the local settings when the env value is absent', () => {
    expect(validateInput(event('batch-scoring', { cutoff: '2025-03-01' }), undefined, NOW)).toEqual({
      cutoff: '2025-03-01',
      transform: LOCAL_PIPELINE_SETTINGS['batch-scoring'].transform,
      scheduled: false,
    });
  });

  it('passes the execution name as the data pipeline runId', () => {
    expect(validateInput(event('data-pipeline', { date: '2025-03-01' }), undefined, NOW)).toMatchObject({
      runId: 'exec-7',
    });
  });

  it('reads the settings from the env value', () => {
    const settings = {
      transform: { ...LOCAL_PIPELINE_SETTINGS['batch-scoring'].transform, instance_type: 'ml.m5.2xlarge' },
    };
    const out = validateInput(event('batch-scoring', { cutoff: '2025-03-01' }), JSON.stringify(settings), NOW);
    expect(out).toMatchObject({ transform: { instance_type: 'ml.m5.2xlarge' } });
  });

  it('uses the env gate thresholds as the training defaults', () => {
    const settings = {
      ...LOCAL_PIPELINE_SETTINGS['training-pipeline'],
      gate: { ...LOCAL_PIPELINE_SETTINGS['training-pipeline'].gate, min_gini: 0.42 },
    };
    const out = validateInput(
      event('training-pipeline', { scheduledTime: '2025-03-02T03:00:00Z' }),
      JSON.stringify(settings),
      NOW,
    );
    expect(out).toMatchObject({ gate: { min_gini: 0.42 }, test_cutoff: '2024-03-01', scheduled: true });
  });

  it.each([
    ['not JSON', '{rolling', 'is not JSON'],
    ['another pipeline settings', JSON.stringify(LOCAL_PIPELINE_SETTINGS['batch-scoring']), 'rolling_cutoffs'],
    [
      'a weekday out of range',
      JSON.stringify({ ...LOCAL_PIPELINE_SETTINGS['data-pipeline'], training_snapshots_weekday: 7 }),
      'training_snapshots_weekday',
    ],
  ])('bad settings (%s) are a configuration error, not InvalidPipelineInput', (_, value, message) => {
    let error: unknown;
    try {
      validateInput(event('data-pipeline', { date: '2025-03-01' }), value, NOW);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PipelineSettingsError);
    expect((error as Error).name).toBe('PipelineSettingsError');
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain('the data-pipeline settings');
  });

  it('an empty env value means the local settings', () => {
    expect(pipelineSettings('data-pipeline', '')).toBe(LOCAL_PIPELINE_SETTINGS['data-pipeline']);
  });

  it('local overrides (CLV_LOCAL_PIPELINE_SETTINGS) merge key by key over the local settings, checked by the schema', () => {
    const overrides = JSON.stringify({ 'training-pipeline': { gate: { min_gini: 0.2, fairness_min_ratio: 0.3 } } });
    const merged = pipelineSettings('training-pipeline', undefined, overrides);
    expect(merged.gate).toEqual({
      ...LOCAL_PIPELINE_SETTINGS['training-pipeline'].gate,
      min_gini: 0.2,
      fairness_min_ratio: 0.3,
    });
    expect(merged.rolling_cutoffs).toEqual(LOCAL_PIPELINE_SETTINGS['training-pipeline'].rolling_cutoffs);
    // another pipeline is untouched; a deployed configuration (CLV_PIPELINE_SETTINGS) ignores the local overrides
    expect(pipelineSettings('data-pipeline', undefined, overrides)).toBe(LOCAL_PIPELINE_SETTINGS['data-pipeline']);
    const deployed = { ...LOCAL_PIPELINE_SETTINGS['training-pipeline'], tune: true };
    expect(pipelineSettings('training-pipeline', JSON.stringify(deployed), overrides).gate.min_gini).toBe(
      LOCAL_PIPELINE_SETTINGS['training-pipeline'].gate.min_gini,
    );
  });

  it.each([
    ['not JSON', '{', 'CLV_LOCAL_PIPELINE_SETTINGS is not JSON'],
    ['not an object', '[1]', 'must be a JSON object keyed by pipeline name'],
    ['an unknown pipeline', '{"scoring": {}}', 'unknown pipeline(s) scoring'],
    [
      'a value out of range',
      '{"training-pipeline": {"gate": {"min_gini": "high"}}}',
      'invalid training-pipeline settings',
    ],
  ])('bad local overrides (%s) are a configuration error naming the variable', (_, value, message) => {
    expect(() => pipelineSettings('training-pipeline', undefined, value)).toThrow(PipelineSettingsError);
    expect(() => pipelineSettings('training-pipeline', undefined, value)).toThrow(message);
  });

  it.each([
    ['an unknown pipeline', { pipeline: 'scoring', input: {}, execution_name: 'x' }],
    ['no execution_name', { pipeline: 'data-pipeline', input: {} }],
    ['an extra field', { pipeline: 'data-pipeline', input: {}, execution_name: 'x', more: 1 }],
    ['not an object', 'data-pipeline'],
  ])('refuses an event with %s as a wiring error', (_, value) => {
    expect(() => validateInput(value, undefined, NOW)).toThrow(ValidateInputEventError);
  });
});

describe('validate-input handler', () => {
  const saved = process.env[SETTINGS_ENV];
  beforeEach(() => {
    delete process.env[SETTINGS_ENV];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[SETTINGS_ENV];
    else process.env[SETTINGS_ENV] = saved;
  });

  it('returns the normalized input', async () => {
    await expect(handler(event('batch-scoring', { cutoff: '2024-02-29' }))).resolves.toMatchObject({
      cutoff: '2024-02-29',
      scheduled: false,
    });
  });

  it('throws InvalidPipelineInput naming the field', async () => {
    await expect(handler(event('training-pipeline', { test_cutoff: '2024-13-01' }))).rejects.toMatchObject({
      name: 'InvalidPipelineInput',
      message: expect.stringContaining('test_cutoff: expected a date YYYY-MM-DD, got "2024-13-01"'),
    });
  });

  it('throws PipelineSettingsError on a bad CLV_PIPELINE_SETTINGS', async () => {
    process.env[SETTINGS_ENV] = JSON.stringify({ transform: {} });
    await expect(handler(event('batch-scoring', { cutoff: '2024-02-29' }))).rejects.toMatchObject({
      name: 'PipelineSettingsError',
      message: expect.stringContaining('transform.instance_type'),
    });
  });
});
