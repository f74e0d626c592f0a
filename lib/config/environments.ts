import type { EnvironmentConfig, EnvironmentName } from './environment-config.js';

const shared = {
  region: 'eu-west-1',
  tags: { project: 'clv-platform', 'managed-by': 'cdk' },
};

/**
 * Rolling cutoffs of the scheduled training runs (derived from each run's date by the ValidateInput Lambda): a
 * 12-month label window, quarterly spacing, two stacked labelled snapshots. The data pipeline builds those snapshots
 * on the run date's weekday `dataPipeline.trainingSnapshotsWeekday` (Saturday, the day before the Sunday training).
 */
const rollingCutoffs = { labelHorizonDays: 365, spacingDays: 91, stackedSnapshots: 2 };

/** Model gate thresholds (docs/model.md): absolute quality, champion comparison and fairness. */
const gates = {
  minGini: 0.3,
  minChurnAuc: 0.6,
  minTopDecileCapture: 0.15,
  minHeuristicRmseReduction: 0,
  minTestRows: 50,
  championMaxRmseIncrease: 0.05,
  championMaxGiniDecrease: 0.02,
  fairnessMinRatio: 0.8,
  fairnessMinSliceCustomers: 30,
};

/** Batch Transform of the weekly scoring: one ml.m5.xlarge, whole-object CSV requests up to the 100 MB limit. */
const transform = {
  instanceType: 'ml.m5.xlarge',
  instanceCount: 1,
  maxConcurrentTransforms: 1,
  maxPayloadInMB: 100,
  batchStrategy: 'MultiRecord',
  splitType: 'None',
} as const;

/**
 * Raw values of each environment. They are validated by `loadEnvironmentConfig` before any stack sees them.
 * Accounts are left out on purpose: set them with `-c account=123456789012` or the CLI's default credentials.
 */
export const ENVIRONMENTS: Record<EnvironmentName, unknown> = {
  dev: {
    ...shared,
    name: 'dev',
    removalPolicy: 'destroy',
    terminationProtection: false,
    logRetentionDays: 30,
    lake: {
      rawToInfrequentAccessDays: 30,
      athenaResultsExpirationDays: 7,
      noncurrentVersionExpirationDays: 30,
      accessLogsExpirationDays: 90,
      athenaBytesScannedCutoff: 10_000_000_000,
      quarantineExpirationDays: 7,
    },
    clickstream: { bufferIntervalSeconds: 300, bufferSizeMiB: 64 },
    glue: { workerType: 'G.1X', numberOfWorkers: 2, timeoutMinutes: 60 },
    dataPipeline: {
      scheduleEnabled: false,
      scheduleCron: 'cron(45 23 * * ? *)',
      timeoutMinutes: 180,
      trainingSnapshotsWeekday: 6,
    },
    trainingPipeline: {
      scheduleEnabled: false,
      scheduleCron: 'cron(0 3 ? * SUN *)',
      timeoutMinutes: 720,
      tune: false,
      rollingCutoffs,
      gates,
    },
    batchScoring: {
      scheduleEnabled: false,
      scheduleCron: 'cron(0 6 ? * SUN *)',
      timeoutMinutes: 240,
      transform,
    },
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
  staging: {
    ...shared,
    name: 'staging',
    removalPolicy: 'retain',
    terminationProtection: false,
    logRetentionDays: 90,
    lake: {
      rawToInfrequentAccessDays: 30,
      athenaResultsExpirationDays: 14,
      noncurrentVersionExpirationDays: 90,
      accessLogsExpirationDays: 365,
      athenaBytesScannedCutoff: 100_000_000_000,
      quarantineExpirationDays: 14,
    },
    clickstream: { bufferIntervalSeconds: 300, bufferSizeMiB: 64 },
    glue: { workerType: 'G.1X', numberOfWorkers: 2, timeoutMinutes: 120 },
    dataPipeline: {
      scheduleEnabled: true,
      scheduleCron: 'cron(45 23 * * ? *)',
      timeoutMinutes: 360,
      trainingSnapshotsWeekday: 6,
    },
    trainingPipeline: {
      scheduleEnabled: true,
      scheduleCron: 'cron(0 3 ? * SUN *)',
      timeoutMinutes: 1440,
      tune: false,
      rollingCutoffs,
      gates,
    },
    batchScoring: {
      scheduleEnabled: true,
      scheduleCron: 'cron(0 6 ? * SUN *)',
      timeoutMinutes: 240,
      transform,
    },
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
  prod: {
    ...shared,
    name: 'prod',
    removalPolicy: 'retain',
    terminationProtection: true,
    logRetentionDays: 365,
    lake: {
      rawToInfrequentAccessDays: 60,
      athenaResultsExpirationDays: 30,
      noncurrentVersionExpirationDays: 365,
      accessLogsExpirationDays: 731,
      athenaBytesScannedCutoff: 1_000_000_000_000,
      quarantineExpirationDays: 30,
    },
    clickstream: { bufferIntervalSeconds: 120, bufferSizeMiB: 64 },
    glue: { workerType: 'G.1X', numberOfWorkers: 10, timeoutMinutes: 240 },
    dataPipeline: {
      scheduleEnabled: true,
      scheduleCron: 'cron(45 23 * * ? *)',
      timeoutMinutes: 720,
      trainingSnapshotsWeekday: 6,
    },
    trainingPipeline: {
      scheduleEnabled: true,
      scheduleCron: 'cron(0 3 ? * SUN *)',
      timeoutMinutes: 1440,
      tune: false,
      rollingCutoffs,
      gates,
    },
    batchScoring: {
      scheduleEnabled: true,
      scheduleCron: 'cron(0 6 ? * SUN *)',
      timeoutMinutes: 240,
      transform,
    },
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
};
