import { z } from 'zod';

/** The environments the platform deploys to. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** CloudWatch Logs retention periods (days) that CloudFormation accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const awsAccount = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1');
/** A calendar date YYYY-MM-DD that exists (2023-02-30 is refused). */
const isoDate = z.iso.date({ message: 'must be a date YYYY-MM-DD' });
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
        scheduleCron: z
          .string()
          .regex(/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/, 'must be an EventBridge cron(...) with six fields'),
        /** Maximum run time of one execution (minutes). */
        timeoutMinutes: z.number().int().min(10).max(1440),
      })
      .strict(),
    trainingPipeline: z
      .object({
        /** Run the weekly training pipeline on a schedule (off: start executions by hand). */
        scheduleEnabled: z.boolean(),
        /** EventBridge Scheduler cron expression (UTC) of the weekly run. */
        scheduleCron: z
          .string()
          .regex(/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/, 'must be an EventBridge cron(...) with six fields'),
        /** Maximum run time of one execution (minutes); a tuning run is 20 trials, 2 at a time, up to 2 h each. */
        timeoutMinutes: z.number().int().min(60).max(2880),
        /** Scheduled runs tune hyperparameters (SageMaker HPO) instead of training once. */
        tune: z.boolean(),
        /**
         * Cutoffs of the scheduled runs (YYYY-MM-DD): labelled feature snapshots must exist for each, so the test
         * cutoff's 12-month label window must be fully observed. Advanced by a config change (runbook).
         */
        cutoffs: z
          .object({ training: isoDate, validation: isoDate, test: isoDate })
          .strict()
          .refine((c) => c.training < c.validation && c.validation < c.test, {
            message: 'cutoffs must be in order: training < validation < test',
          }),
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
