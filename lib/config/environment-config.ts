import { z } from 'zod';
import { MAX_STACKED_SNAPSHOTS } from '../contracts/pipeline-inputs.js';

/** The environments the platform deploys to. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** CloudWatch Logs retention periods (days) that CloudFormation accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const awsAccount = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1');
/** An EventBridge Scheduler cron expression (six fields). */
const cron = z.string().regex(/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/, 'must be an EventBridge cron(...) with six fields');
const positiveInt = z.number().int().min(1);
/** A ratio in [0, 1]. */
const ratio = z.number().min(0).max(1);
/**
 * Configuration of one deployment environment. Parsed with zod in `bin/` only and passed down as typed props.
 */
export const environmentConfigSchema = z
  .object({
    /** Environment name; part of every stack name. */
    name: z.enum(ENVIRONMENT_NAMES),
    /** Target account; when absent the CLI's default account is used (environment-agnostic synth). */
    account: awsAccount.optional(),
    /** Target region. */
    region: awsRegion,
    /** What happens to stateful resources (buckets, keys, tables) when a stack is deleted. */
    removalPolicy: z.enum(['retain', 'destroy']),
    /** CloudFormation termination protection for every stack of the environment. */
    terminationProtection: z.boolean(),
    /** Retention of every log group the platform creates (days). */
    logRetentionDays: z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
    lake: z
      .object({
        /** Days after which raw (bronze) objects move to S3 Standard-IA (>= 30, an S3 minimum). */
        rawToInfrequentAccessDays: z.number().int().min(30),
        /** Days after which Athena query results expire. */
        athenaResultsExpirationDays: z.number().int().min(1),
        /** Days after which noncurrent object versions expire. */
        noncurrentVersionExpirationDays: z.number().int().min(1),
        /** Days after which server access logs expire. */
        accessLogsExpirationDays: z.number().int().min(1),
        /** Athena workgroup per-query bytes-scanned cutoff (>= 10 MB, an Athena minimum). */
        athenaBytesScannedCutoff: z.number().int().min(10_000_000),
        /** Days quarantined rows (they hold unhashed PII) are kept before they expire. */
        quarantineExpirationDays: z.number().int().min(1).max(365),
      })
      .strict(),
    clickstream: z
      .object({
        /** Firehose buffering interval (seconds). */
        bufferIntervalSeconds: z.number().int().min(60).max(900),
        /** Firehose buffering size (MiB); dynamic partitioning needs at least 64. */
        bufferSizeMiB: z.number().int().min(64).max(128),
      })
      .strict(),
    glue: z
      .object({
        /** Worker type of every Glue job. */
        workerType: z.enum(['G.1X', 'G.2X', 'G.4X']),
        /** Workers per job run (>= 2: one driver, one executor). */
        numberOfWorkers: z.number().int().min(2).max(100),
        /** Job run timeout (minutes). */
        timeoutMinutes: z.number().int().min(5).max(2880),
      })
      .strict(),
    dataPipeline: z
      .object({
        /** Run the daily data pipeline on a schedule (off: start executions by hand). */
        scheduleEnabled: z.boolean(),
        /** EventBridge Scheduler cron expression (UTC) of the daily run; the input date is the day before. */
        scheduleCron: cron,
        /** Maximum run time of one execution (minutes). */
        timeoutMinutes: z.number().int().min(10).max(1440),
        /**
         * UTC weekday (0 = Sunday .. 6 = Saturday) of the run date on which the daily run also builds the labelled
         * feature snapshots the next scheduled training run needs (its rolling cutoffs).
         */
        trainingSnapshotsWeekday: z.number().int().min(0).max(6),
      })
      .strict(),
    trainingPipeline: z
      .object({
        /** Run the weekly training pipeline on a schedule (off: start executions by hand). */
        scheduleEnabled: z.boolean(),
        /** EventBridge Scheduler cron expression (UTC) of the weekly run. */
        scheduleCron: cron,
        /** Maximum run time of one execution (minutes); a tuning run is 20 trials, 2 at a time, up to 2 h each. */
        timeoutMinutes: z.number().int().min(60).max(2880),
        /** Scheduled runs tune hyperparameters (SageMaker HPO) instead of training once. */
        tune: z.boolean(),
        /**
         * How a scheduled run derives its cutoffs from its run date (the day before the scheduled time):
         * test = run date − labelHorizonDays (its label window is fully observed), validation = test − spacingDays,
         * training = validation − spacingDays, and stackedSnapshots training cutoffs spacingDays apart ending at
         * training. The ValidateInput Lambda applies it (lib/contracts/pipeline-inputs.ts `rollingCutoffs`).
         */
        rollingCutoffs: z
          .object({
            /** Days of the label window (12-month revenue and churn): 365. */
            labelHorizonDays: positiveInt,
            /** Days between consecutive cutoffs (training, validation, test and the stacked snapshots). */
            spacingDays: positiveInt,
            /** Labelled snapshots stacked into the training set (1 = the training cutoff only). */
            stackedSnapshots: z.number().int().min(1).max(MAX_STACKED_SNAPSHOTS),
          })
          .strict(),
        /** Thresholds of the model gate; a hand-started run may override any of them. */
        gates: z
          .object({
            /** Minimum Gini of the revenue head on the test set. */
            minGini: z.number().min(-1).max(1),
            /** Minimum ROC AUC of the churn head on the test set. */
            minChurnAuc: ratio,
            /** Minimum share of the test set's revenue captured by the top predicted decile. */
            minTopDecileCapture: ratio,
            /** Minimum relative RMSE reduction against the heuristic baseline (0: at least as good). */
            minHeuristicRmseReduction: z.number().min(-10).max(1),
            /** Minimum rows of the test set; fewer and the metrics are not trusted. */
            minTestRows: positiveInt,
            /** Largest relative RMSE increase allowed against the Production (champion) model. */
            championMaxRmseIncrease: z.number().min(0).max(10),
            /** Largest absolute Gini decrease allowed against the Production (champion) model. */
            championMaxGiniDecrease: z.number().min(0).max(2),
            /** Minimum ratio of a slice's metric to the best slice's (fairness), in [0, 1]. */
            fairnessMinRatio: ratio,
            /** Slices with fewer customers are reported, not gated. */
            fairnessMinSliceCustomers: positiveInt,
          })
          .strict(),
      })
      .strict(),
    batchScoring: z
      .object({
        /** Run the weekly batch scoring on a schedule (off: start executions by hand). */
        scheduleEnabled: z.boolean(),
        /** EventBridge Scheduler cron expression (UTC) of the weekly run; it scores the day before. */
        scheduleCron: cron,
        /** Maximum run time of one execution (minutes). */
        timeoutMinutes: z.number().int().min(30).max(2880),
        /** SageMaker Batch Transform of the scoring set. */
        transform: z
          .object({
            /** Instance type of the transform job (ml.<family>.<size>). */
            instanceType: z
              .string()
              .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type ml.<family>.<size>'),
            /** Instances of the transform job. */
            instanceCount: z.number().int().min(1).max(100),
            /** Parallel requests to each instance. */
            maxConcurrentTransforms: positiveInt,
            /** Largest request payload (MB); 0 lets SageMaker stream, 100 is the SageMaker limit. */
            maxPayloadInMB: z.number().int().min(0).max(100),
            /** Records per request: many (MultiRecord) or one (SingleRecord). */
            batchStrategy: z.enum(['MultiRecord', 'SingleRecord']),
            /** How the input is split into records: None (whole object) or Line. */
            splitType: z.enum(['None', 'Line']),
          })
          .strict(),
      })
      .strict(),
    featureStore: z
      .object({
        /** Enable the Feature Group's online store (off by default: scoring is batch). */
        onlineStoreEnabled: z.boolean(),
      })
      .strict(),
    /** Tags put on every resource of the environment. */
    tags: z.record(z.string().min(1), z.string()),
  })
  .strict();

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
