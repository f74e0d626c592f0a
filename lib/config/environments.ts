import type { EnvironmentConfig, EnvironmentName } from './environment-config.js';

const shared = {
  region: 'eu-west-1',
  tags: { project: 'clv-platform', 'managed-by': 'cdk' },
};

/**
 * Cutoffs of the scheduled training runs: labelled snapshots for these dates must exist (the data pipeline run with
 * with_labels=true); the test cutoff's 12-month label window must be fully observed. See
 * docs/runbooks/training-pipeline.md for how and when to advance them.
 */
const trainingCutoffs = { training: '2022-01-01', validation: '2022-07-01', test: '2023-01-01' };

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
    dataPipeline: { scheduleEnabled: false, scheduleCron: 'cron(45 23 * * ? *)', timeoutMinutes: 180 },
    trainingPipeline: {
      scheduleEnabled: false,
      scheduleCron: 'cron(0 3 ? * SUN *)',
      timeoutMinutes: 720,
      tune: false,
      cutoffs: trainingCutoffs,
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
    dataPipeline: { scheduleEnabled: true, scheduleCron: 'cron(45 23 * * ? *)', timeoutMinutes: 360 },
    trainingPipeline: {
      scheduleEnabled: true,
      scheduleCron: 'cron(0 3 ? * SUN *)',
      timeoutMinutes: 1440,
      tune: false,
      cutoffs: trainingCutoffs,
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
    dataPipeline: { scheduleEnabled: true, scheduleCron: 'cron(45 23 * * ? *)', timeoutMinutes: 720 },
    trainingPipeline: {
      scheduleEnabled: true,
      scheduleCron: 'cron(0 3 ? * SUN *)',
      timeoutMinutes: 1440,
      tune: false,
      cutoffs: trainingCutoffs,
    },
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
};
