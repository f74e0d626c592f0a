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
    /** The monitoring pipeline (state-machines/monitoring.asl.json), started by batch scoring's ScoringCompleted. */
    monitoring: z
      .object({
        /** Maximum run time of one execution (minutes). */
        timeoutMinutes: z.number().int().min(5).max(1440),
        drift: z
          .object({
            /** PSI at or above which a feature's drift is Low (digest and dashboard). */
            psiLow: z.number().min(0),
            /** PSI above which a feature's drift is Medium (Slack); must be above psiLow. */
            psiMedium: z.number().min(0),
          })
          .strict()
          .refine((d) => d.psiMedium > d.psiLow, { message: 'psiMedium must be greater than psiLow' }),
        proxy: z
          .object({
            /** Days of actual spend after a scoring run that its proxy metrics compare with its predictions. */
            windowDays: positiveInt,
            /** Relative drop of the proxy Spearman correlation, window over window, that is Medium (0.2 = 20%). */
            maxCorrelationDrop: ratio,
            /** Fewer scored customers in a window and the proxy metrics are reported, not judged. */
            minCustomers: positiveInt,
          })
          .strict(),
        /** Days after a scoring run when its 12-month label window has closed (matured-cohort evaluation). */
        maturedAfterDays: positiveInt,
        retraining: z
          .object({
            /** Start the training pipeline on prediction drift or a proxy drop (off: alert only). */
            enabled: z.boolean(),
            /** Prediction PSI above which a retraining run starts. */
            predictionPsi: z.number().min(0),
            /**
             * Also start one when a monitored input feature drifts at Medium (PSI above the drift psiMedium): the
             * population the champion was trained on has moved; the retraining takes the latest matured cutoffs and
             * the gates decide whether the challenger is better.
             */
            onInputDrift: z.boolean(),
            /** Hours after a triggered retraining during which no other one starts (no retraining loop). */
            cooldownHours: positiveInt,
          })
          .strict(),
      })
      .strict(),
    campaigns: z
      .object({
        /** Default treatment share of a `canary` campaign experiment (the challenger's arm), in (0, 1). */
        canaryShare: z.number().gt(0).lt(1),
        /** Default treatment share of an `ab` campaign experiment, in (0, 1). */
        abShare: z.number().gt(0).lt(1),
        /** Significance level of the campaign analysis (two-sided tests, intervals at 1 - alpha). */
        alpha: z.number().gt(0).lt(0.5),
        /** Days a campaign experiment waits for its outcomes when the input gives no max_days. */
        defaultMaxDays: positiveInt,
        /**
         * The most days an input may ask to wait for the outcomes (the task token timeout); the state machine's
         * timeout is this plus one day. At most 364: an execution lasts at most a year.
         */
        maxCampaignDays: z.number().int().min(1).max(364),
      })
      .strict()
      .refine((c) => c.defaultMaxDays <= c.maxCampaignDays, {
        message: 'defaultMaxDays must be at most maxCampaignDays',
      }),
    /**
     * The shadow run of a registered challenger beside the champion (state-machines/shadow.asl.json,
     * docs/runbooks/shadow.md) and the promotion pipeline (state-machines/promotion.asl.json).
     */
    shadow: z
      .object({
        /** Maximum run time of one shadow execution (minutes): two transform jobs, the publish and compare jobs. */
        timeoutMinutes: z.number().int().min(30).max(2880),
        /** Maximum run time of one promotion or rollback execution (minutes): registry updates only. */
        promotionTimeoutMinutes: z.number().int().min(5).max(240),
        /** Largest relative runtime increase of the challenger's transform job against the champion's (0.10 = 10%). */
        maxRuntimeIncrease: z.number().min(0).max(10),
        /** The challenger's mean predicted revenue must move less than this share of the champion's (0.15 = 15%). */
        maxMeanShift: z.number().gt(0).max(10),
        /**
         * Seconds added to the runtime limit (champion × (1 + maxRuntimeIncrease) + this): instance start-up jitter,
         * which says nothing about the model.
         */
        runtimeToleranceSeconds: z.number().min(0).max(3600),
      })
      .strict(),
    featureStore: z
      .object({
        /** Enable the Feature Group's online store (off by default: scoring is batch). */
        onlineStoreEnabled: z.boolean(),
      })
      .strict(),
    /** Alert routing (lambdas/alert-router, Monitoring stack); docs/runbooks/alert-delivery.md. */
    alerting: z
      .object({
        /** Minutes a firing condition (pipeline + metric + feature) is remembered; a repeat within it sends nothing. */
        dedupTtlMinutes: z.number().int().min(1).max(10_080),
        /** Retries of a PagerDuty or Slack call on 429, 5xx and network errors (exponential backoff, Retry-After). */
        retry: z
          .object({
            /** Attempts per call, the first included; after the last the invocation fails (the DLQ keeps the alert). */
            maxAttempts: z.number().int().min(1).max(10),
            /** Delay before the second attempt (ms); it doubles each attempt. */
            baseDelayMs: z.number().int().min(1).max(60_000),
          })
          .strict(),
        /** Email addresses subscribed to the Low-severity digest topic (may be empty). */
        digestEmails: z.array(z.email()),
        /** Secrets Manager name of the PagerDuty Events v2 routing key (Monitoring stack creates it; set the value). */
        pagerDutySecretName: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name'),
        /** Secrets Manager name of the Slack incoming-webhook URL (Monitoring stack creates it; put the value). */
        slackSecretName: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name'),
        /** Base URL of the PagerDuty Events API (POST {url}/v2/enqueue). */
        pagerDutyEventsUrl: z.url({ protocol: /^https$/ }).default('https://events.pagerduty.com'),
        /** Seconds the router caches the two secrets (Powertools Parameters maxAge). */
        secretsCacheSeconds: z.number().int().min(0).max(3600),
        /** Age (s) of the oldest clickstream record not yet in S3 above which the Firehose freshness alarm fires. */
        firehoseMaxDataFreshnessSeconds: z.number().int().min(60).max(86_400),
      })
      .strict(),
    /** Tags put on every resource of the environment. */
    tags: z.record(z.string().min(1), z.string()),
  })
  .strict();

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
