import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../lib/config/environments.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { batchScoringSettings } from '../../lib/constructs/pipelines/batch-scoring-pipeline.js';
import { dataPipelineSettings } from '../../lib/constructs/pipelines/data-pipeline.js';
import { trainingPipelineSettings } from '../../lib/constructs/pipelines/training-pipeline.js';
import { LOCAL_PIPELINE_SETTINGS, pipelineSettingsSchemas } from '../../lib/contracts/pipeline-inputs.js';

type Raw = Record<string, Record<string, unknown>>;
const dev = ENVIRONMENTS.dev as Raw;
/** The environment table with one nested field of dev replaced. */
const withDev = (section: string, patch: Record<string, unknown>) => ({
  ...ENVIRONMENTS,
  dev: { ...dev, [section]: { ...dev[section], ...patch } },
});

describe('environment configuration: lake, clickstream, Glue and data pipeline', () => {
  it.each(['dev', 'staging', 'prod'])('%s sets every new field', (env) => {
    const c = loadEnvironmentConfig(env);
    expect(c.lake.quarantineExpirationDays).toBeGreaterThan(0);
    expect(c.clickstream.bufferSizeMiB).toBeGreaterThanOrEqual(64);
    expect(c.glue.numberOfWorkers).toBeGreaterThanOrEqual(2);
    expect(c.dataPipeline.scheduleCron).toMatch(/^cron\(/);
  });

  it('runs the schedule in staging and prod, not in dev', () => {
    expect(loadEnvironmentConfig('dev').dataPipeline.scheduleEnabled).toBe(false);
    expect(loadEnvironmentConfig('prod').dataPipeline.scheduleEnabled).toBe(true);
  });

  it.each([
    ['clickstream', { bufferSizeMiB: 32 }, /dev\.clickstream\.bufferSizeMiB/],
    ['clickstream', { bufferIntervalSeconds: 30 }, /dev\.clickstream\.bufferIntervalSeconds/],
    ['glue', { numberOfWorkers: 1 }, /dev\.glue\.numberOfWorkers/],
    ['glue', { workerType: 'Standard' }, /dev\.glue\.workerType: .*\(allowed: G\.1X, G\.2X, G\.4X\)/],
    ['dataPipeline', { scheduleCron: 'rate(1 day)' }, /dev\.dataPipeline\.scheduleCron: must be an EventBridge cron/],
    ['dataPipeline', { scheduleCron: 'cron(0 2 * * ?)' }, /dev\.dataPipeline\.scheduleCron/],
    ['dataPipeline', { timeoutMinutes: 5 }, /dev\.dataPipeline\.timeoutMinutes/],
    ['lake', { quarantineExpirationDays: 0 }, /dev\.lake\.quarantineExpirationDays/],
    ['dataPipeline', { schedule: 'daily' }, /schedule/],
  ] as const)('rejects %s %j naming the field', (section, patch, message) => {
    expect(() => loadEnvironmentConfig('dev', {}, withDev(section, patch))).toThrow(message);
  });
});

describe('environment configuration: rolling cutoffs, gates, batch scoring (issue 11)', () => {
  /** dev with one field of a nested object replaced: `withDevNested('batchScoring', 'transform', {...})`. */
  const withDevNested = (section: string, nested: string, patch: Record<string, unknown>) => {
    const s = dev[section] as Record<string, Record<string, unknown>>;
    return withDev(section, { [nested]: { ...s[nested], ...patch } });
  };
  const loads = (envs: Record<string, unknown>) => () => loadEnvironmentConfig('dev', {}, envs);

  it.each(['dev', 'staging', 'prod'])(
    '%s: weekly scoring on Sunday 06:00 UTC after the 03:00 training; no fixed cutoffs',
    (env) => {
      const c = loadEnvironmentConfig(env);
      expect(c.batchScoring.scheduleCron).toBe('cron(0 6 ? * SUN *)');
      expect(c.batchScoring.timeoutMinutes).toBe(240);
      expect(c.batchScoring.transform).toEqual({
        instanceType: 'ml.m5.xlarge',
        instanceCount: 1,
        maxConcurrentTransforms: 1,
        maxPayloadInMB: 100,
        batchStrategy: 'MultiRecord',
        splitType: 'None',
      });
      expect(c.dataPipeline.trainingSnapshotsWeekday).toBe(6);
      expect(c.batchScoring.scheduleEnabled).toBe(env !== 'dev');
      expect('cutoffs' in c.trainingPipeline).toBe(false);
    },
  );

  it.each([
    [-1, false],
    [0, true],
    [6, true],
    [7, false],
    [2.5, false],
  ])('trainingSnapshotsWeekday %s accepted: %s', (value, ok) => {
    const run = loads(withDev('dataPipeline', { trainingSnapshotsWeekday: value }));
    if (ok) expect(run().dataPipeline.trainingSnapshotsWeekday).toBe(value);
    else expect(run).toThrow(/dev\.dataPipeline\.trainingSnapshotsWeekday/);
  });

  it.each([
    [-1, false],
    [0, true],
    [100, true],
    [101, false],
  ])('transform.maxPayloadInMB %s accepted: %s', (value, ok) => {
    const run = loads(withDevNested('batchScoring', 'transform', { maxPayloadInMB: value }));
    if (ok) expect(run().batchScoring.transform.maxPayloadInMB).toBe(value);
    else expect(run).toThrow(/dev\.batchScoring\.transform\.maxPayloadInMB/);
  });

  it.each([
    [-0.01, false],
    [0, true],
    [1, true],
    [1.01, false],
  ])('gates.fairnessMinRatio %s accepted: %s', (value, ok) => {
    const run = loads(withDevNested('trainingPipeline', 'gates', { fairnessMinRatio: value }));
    if (ok) expect(run().trainingPipeline.gates.fairnessMinRatio).toBe(value);
    else expect(run).toThrow(/dev\.trainingPipeline\.gates\.fairnessMinRatio/);
  });

  it.each([
    [0, false],
    [1, true],
    [3, true],
    [4, false],
  ])('rollingCutoffs.stackedSnapshots %s accepted: %s', (value, ok) => {
    const run = loads(withDevNested('trainingPipeline', 'rollingCutoffs', { stackedSnapshots: value }));
    if (ok) expect(run().trainingPipeline.rollingCutoffs.stackedSnapshots).toBe(value);
    else expect(run).toThrow(/dev\.trainingPipeline\.rollingCutoffs\.stackedSnapshots/);
  });

  it.each([
    [
      'batchScoring',
      'transform',
      { batchStrategy: 'Batch' },
      /dev\.batchScoring\.transform\.batchStrategy: .*\(allowed: MultiRecord, SingleRecord\)/,
    ],
    [
      'batchScoring',
      'transform',
      { splitType: 'RecordIO' },
      /dev\.batchScoring\.transform\.splitType: .*\(allowed: None, Line\)/,
    ],
    [
      'batchScoring',
      'transform',
      { instanceType: 'm5.xlarge' },
      /dev\.batchScoring\.transform\.instanceType: must be a SageMaker instance type/,
    ],
    ['batchScoring', 'transform', { instanceCount: 0 }, /dev\.batchScoring\.transform\.instanceCount/],
    ['trainingPipeline', 'rollingCutoffs', { spacingDays: 0 }, /dev\.trainingPipeline\.rollingCutoffs\.spacingDays/],
    ['trainingPipeline', 'gates', { minChurnAuc: 1.5 }, /dev\.trainingPipeline\.gates\.minChurnAuc/],
    ['trainingPipeline', 'gates', { minTestRows: 0 }, /dev\.trainingPipeline\.gates\.minTestRows/],
    ['trainingPipeline', 'gates', { minGiniTypo: 0.3 }, /minGiniTypo/],
  ] as const)('rejects %s.%s %j naming the field', (section, nested, patch, message) => {
    expect(loads(withDevNested(section, nested, patch))).toThrow(message);
  });

  it('rejects a batch scoring schedule that is not a six-field cron', () => {
    expect(loads(withDev('batchScoring', { scheduleCron: 'rate(7 days)' }))).toThrow(
      /dev\.batchScoring\.scheduleCron: must be an EventBridge cron/,
    );
  });
});

describe('ValidateInput settings (C2) built from each environment', () => {
  it.each(['dev', 'staging', 'prod'])('%s: every pipeline settings object is valid for the contract schema', (env) => {
    const config = loadEnvironmentConfig(env);
    const built = {
      'data-pipeline': dataPipelineSettings({ config }),
      'training-pipeline': trainingPipelineSettings(config),
      'batch-scoring': batchScoringSettings(config),
    };
    for (const [pipeline, settings] of Object.entries(built)) {
      const schema = pipelineSettingsSchemas[pipeline as keyof typeof pipelineSettingsSchemas];
      expect(schema.parse(settings), pipeline).toEqual(settings);
    }
    expect(built['training-pipeline'].gate.champion_max_rmse_increase).toBe(
      config.trainingPipeline.gates.championMaxRmseIncrease,
    );
    expect(built['data-pipeline'].rolling_cutoffs).toEqual({
      label_horizon_days: 365,
      spacing_days: 91,
      stacked_snapshots: 2,
    });
  });

  it.each(['dev', 'staging', 'prod'])("%s gates models with the seed design's minimums", (env) => {
    const { gates } = loadEnvironmentConfig(env).trainingPipeline;
    expect(gates).toMatchObject({ minGini: 0.3, fairnessMinRatio: 0.8, fairnessMinSliceCustomers: 30 });
    expect(gates).toMatchObject({ championMaxRmseIncrease: 0.05, championMaxGiniDecrease: 0.02 });
  });

  it('the local runtime defaults are the dev settings, except the transform instance', () => {
    const config = loadEnvironmentConfig('dev');
    expect(LOCAL_PIPELINE_SETTINGS['data-pipeline']).toEqual(dataPipelineSettings({ config }));
    expect(LOCAL_PIPELINE_SETTINGS['training-pipeline']).toEqual(trainingPipelineSettings(config));
    expect(LOCAL_PIPELINE_SETTINGS['batch-scoring']).toEqual({
      transform: { ...batchScoringSettings(config).transform, instance_type: 'local' },
    });
  });
});
