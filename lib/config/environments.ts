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
 * Monitoring (docs/runbooks/drift-alert.md, docs/runbooks/proxy-drop.md): PSI above 0.25 is Medium and 0.1–0.25 Low
 * (the seed design's severities); the proxy correlation is judged 30 days after a scoring run and a drop of more
 * than 20% window over window is Medium; a triggered retraining waits a week before another may start.
 */
const monitoring = {
  timeoutMinutes: 60,
  drift: { psiLow: 0.1, psiMedium: 0.25 },
  proxy: { windowDays: 30, maxCorrelationDrop: 0.2, minCustomers: 50 },
  maturedAfterDays: 365,
  retraining: { enabled: true, predictionPsi: 0.25, onInputDrift: true, cooldownHours: 168 },
};

/**
 * Alert routing per environment: secrets named by environment, a 4-hour de-duplication window, 4 attempts from 500 ms
 * (0.5 s, 1 s, 2 s: well inside the router's timeout), secrets cached 5 minutes, no digest email by default (add
 * addresses per environment; each one receives an SNS confirmation mail).
 */
const alerting = (env: EnvironmentName, digestEmails: string[] = []) => ({
  dedupTtlMinutes: 240,
  retry: { maxAttempts: 4, baseDelayMs: 500 },
  digestEmails,
  pagerDutySecretName: `clv/${env}/alerting/pagerduty-routing-key`,
  slackSecretName: `clv/${env}/alerting/slack-webhook-url`,
  pagerDutyEventsUrl: 'https://events.pagerduty.com',
  secretsCacheSeconds: 300,
  // three Firehose buffer intervals at most: a stalled delivery is noticed within 15 minutes
  firehoseMaxDataFreshnessSeconds: 900,
});

/**
 * Campaign experiments (docs/runbooks/campaign-experiment.md): a canary gives the challenger 5% of the customers,
 * an A/B test half; the analysis tests at alpha 0.05; the pipeline waits 28 days for the outcomes unless the input
 * asks for more, at most 90.
 */
/**
 * Shadow runs (docs/runbooks/shadow.md): the challenger's transform may take at most 10% longer than the champion's
 * (plus 120 s of instance start-up jitter) and its mean prediction must move less than 15%; a shadow run may take 4
 * hours, a promotion 15 minutes.
 */
const shadow = {
  timeoutMinutes: 240,
  promotionTimeoutMinutes: 15,
  maxRuntimeIncrease: 0.1,
  maxMeanShift: 0.15,
  runtimeToleranceSeconds: 120,
};

const campaigns = { canaryShare: 0.05, abShare: 0.5, alpha: 0.05, defaultMaxDays: 28, maxCampaignDays: 90 };

/**
 * Raw values of each environment. They are validated by `loadEnvironmentConfig` before any stack sees them.
 * Accounts are left out on purpose: set them with `-c account=123456789012` or the CLI's default credentials.
 */
export const ENVIRONMENTS: Record<EnvironmentName, unknown> = {
  dev: {
    ...shared,
    name: 'dev',
    alerting: alerting('dev'),
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
    monitoring,
    campaigns,
    shadow,
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
  staging: {
    ...shared,
    name: 'staging',
    alerting: alerting('staging'),
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
    monitoring,
    campaigns,
    shadow,
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
  prod: {
    ...shared,
    name: 'prod',
    alerting: alerting('prod'),
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
    monitoring,
    campaigns,
    shadow,
    featureStore: { onlineStoreEnabled: false },
  } satisfies EnvironmentConfig,
};
