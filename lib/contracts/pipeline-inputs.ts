/**
 * Pipeline inputs: the one definition of what each state machine accepts as execution input, and of the settings
 * (from the environment config) that fill its defaults. The first state of every ASL file (`ValidateInput`,
 * lambdas/validate-input) and `clv run` parse the input with `parsePipelineInput`; the rest of the ASL reads the
 * normalized output only.
 *
 * - Settings reach the Lambda as JSON in env CLV_PIPELINE_SETTINGS (snake_case, `pipelineSettingsSchemas`); the
 *   local runtime uses `LOCAL_PIPELINE_SETTINGS`.
 * - Inputs are strict objects (unknown fields are refused); dates are real calendar dates YYYY-MM-DD.
 * - A scheduled run (EventBridge) passes `{"scheduledTime": "<ISO-8601>"}` only.
 * - A bad input throws `InvalidPipelineInputError` (name `InvalidPipelineInput`) whose message names the field, what
 *   was expected and, when short, the value received.
 *
 * Docs: docs/local-runtime.md (input sections per pipeline), docs/runbooks/data-pipeline.md.
 */
import { z } from 'zod';

export const PIPELINE_NAMES = [
  'data-pipeline',
  'training-pipeline',
  'batch-scoring',
  'monitoring',
  'campaign-experiment',
  'shadow',
  'promotion',
] as const;
export const pipelineNameSchema = z.enum(PIPELINE_NAMES);
export type PipelineName = z.infer<typeof pipelineNameSchema>;

/** The name of the error a bad input throws (the ASL's Catch and the InvalidInput Fail state key on it). */
export const INVALID_PIPELINE_INPUT = 'InvalidPipelineInput';

export class InvalidPipelineInputError extends Error {
  override readonly name = INVALID_PIPELINE_INPUT;
  constructor(
    readonly pipeline: PipelineName,
    readonly problems: string[],
  ) {
    super(`${pipeline}: invalid input: ${problems.join('; ')}`);
  }
}

// --------------------------------------------------------------------------------------------- building blocks

const DATE_EXPECTED = 'expected a date YYYY-MM-DD';
/** A real calendar date YYYY-MM-DD (leap years included). */
const isoDate = z.iso.date({ error: DATE_EXPECTED });
/** The EventBridge scheduled time (ISO-8601 with Z or an offset). */
const scheduledTime = z.iso.datetime({
  offset: true,
  error: 'expected an ISO-8601 date-time, e.g. 2024-03-02T23:45:00Z',
});
const posInt = (what: string) =>
  z.int({ error: `expected a positive integer (${what})` }).min(1, `expected ${what} ≥ 1`);
const ratio = z.number({ error: 'expected a number in [0, 1]' }).min(0, 'expected ≥ 0').max(1, 'expected ≤ 1');

/** Most snapshots one data-pipeline run may build (the feature_snapshots limit). */
export const MAX_FEATURE_SNAPSHOTS = 6;
/**
 * Most stacked training snapshots: on the training-snapshots weekday the data pipeline builds them plus the
 * validation, test and the day's scoring snapshot in one run (≤ MAX_FEATURE_SNAPSHOTS).
 */
export const MAX_STACKED_SNAPSHOTS = MAX_FEATURE_SNAPSHOTS - 3;

// --------------------------------------------------------------------------------------------- settings (C2)

export const rollingCutoffsSettingsSchema = z.strictObject({
  label_horizon_days: posInt('days'),
  spacing_days: posInt('days'),
  stacked_snapshots: posInt('snapshots').max(MAX_STACKED_SNAPSHOTS, `expected at most ${MAX_STACKED_SNAPSHOTS}`),
});
export type RollingCutoffsSettings = z.infer<typeof rollingCutoffsSettingsSchema>;

/** The model gate thresholds (the same ranges as lambdas/model-gate/gate.ts `thresholdsSchema`). */
export const gateSettingsSchema = z.strictObject({
  min_gini: z.number({ error: 'expected a number in [-1, 1]' }).min(-1, 'expected ≥ -1').max(1, 'expected ≤ 1'),
  min_churn_auc: ratio,
  min_top_decile_capture: ratio,
  min_heuristic_rmse_reduction: z
    .number({ error: 'expected a number in [-10, 1]' })
    .min(-10, 'expected ≥ -10')
    .max(1, 'expected ≤ 1'),
  min_test_rows: posInt('rows'),
  champion_max_rmse_increase: z
    .number({ error: 'expected a number in [0, 10]' })
    .min(0, 'expected ≥ 0')
    .max(10, 'expected ≤ 10'),
  champion_max_gini_decrease: z
    .number({ error: 'expected a number in [0, 2]' })
    .min(0, 'expected ≥ 0')
    .max(2, 'expected ≤ 2'),
  fairness_min_ratio: ratio,
  fairness_min_slice_customers: posInt('customers'),
});
export type GateSettings = z.infer<typeof gateSettingsSchema>;

export const transformSettingsSchema = z.strictObject({
  instance_type: z
    .string()
    .regex(/^(ml\.[a-z0-9]+\.[a-z0-9]+|local)$/, 'expected an instance type ml.<family>.<size> or local'),
  instance_count: posInt('instances'),
  max_concurrent_transforms: posInt('transforms'),
  max_payload_in_mb: posInt('MB').max(100, 'expected at most 100 (the SageMaker limit)'),
  batch_strategy: z.enum(['MultiRecord', 'SingleRecord']),
  split_type: z.enum(['None', 'Line', 'RecordIO', 'TFRecord']),
});
export type TransformSettings = z.infer<typeof transformSettingsSchema>;

export const dataPipelineSettingsSchema = z.strictObject({
  rolling_cutoffs: rollingCutoffsSettingsSchema,
  training_snapshots_weekday: z.int({ error: 'expected 0 (Sunday) .. 6 (Saturday)' }).min(0).max(6),
});
export type DataPipelineSettings = z.infer<typeof dataPipelineSettingsSchema>;

export const trainingPipelineSettingsSchema = z.strictObject({
  tune: z.boolean(),
  rolling_cutoffs: rollingCutoffsSettingsSchema,
  gate: gateSettingsSchema,
});
export type TrainingPipelineSettings = z.infer<typeof trainingPipelineSettingsSchema>;

export const batchScoringSettingsSchema = z.strictObject({ transform: transformSettingsSchema });
export type BatchScoringSettings = z.infer<typeof batchScoringSettingsSchema>;

/** The shadow gate thresholds (environment config `shadow`; lambdas/shadow-gate/core.ts `thresholdsSchema`). */
export const shadowThresholdsSchema = z.strictObject({
  /** Largest relative runtime increase of the challenger's transform job against the champion's (0.10 = 10%). */
  max_runtime_increase: z.number({ error: 'expected a number in [0, 10]' }).min(0).max(10),
  /** The challenger's mean prediction must move less than this share of the champion's (0.15 = 15%). */
  max_mean_shift: z.number({ error: 'expected a number in (0, 10]' }).gt(0).max(10),
  /** Seconds added to the runtime limit (job start-up jitter). */
  runtime_tolerance_seconds: z.number({ error: 'expected seconds in [0, 3600]' }).min(0).max(3600),
});
export type ShadowThresholds = z.infer<typeof shadowThresholdsSchema>;
export const shadowSettingsSchema = z.strictObject({
  transform: transformSettingsSchema,
  thresholds: shadowThresholdsSchema,
});
export type ShadowSettings = z.infer<typeof shadowSettingsSchema>;
/** The promotion pipeline has no settings (the rule is fixed: docs/runbooks/promotion-and-rollback.md). */
export const promotionSettingsSchema = z.strictObject({});
export type PromotionSettings = z.infer<typeof promotionSettingsSchema>;

/** The monitoring pipeline's thresholds (environment config `monitoring`). */
export const monitoringSettingsSchema = z.strictObject({
  drift: z.strictObject({
    /** PSI at or above which a feature's drift is Low. */
    psi_low: z.number().min(0),
    /** PSI above which a feature's drift is Medium. */
    psi_medium: z.number().min(0),
  }),
  proxy: z.strictObject({
    /** Days of actual spend after a scoring run that the proxy metrics compare with its predictions. */
    window_days: posInt('days'),
    /** Relative drop of the proxy Spearman correlation, window over window, that is Medium (0.2 = 20%). */
    max_correlation_drop: ratio,
    /** Fewer scored customers in a window and the proxy metrics are reported, not judged. */
    min_customers: posInt('customers'),
  }),
  /** Days after a scoring run when its 12-month label window has closed (matured-cohort evaluation). */
  matured_after_days: posInt('days'),
  retraining: z.strictObject({
    /** Start the training pipeline on prediction drift or a proxy drop (off: alert only). */
    enabled: z.boolean(),
    /** Prediction PSI above which a retraining run starts. */
    prediction_psi: z.number().min(0),
    /** Also on a Medium drift of a monitored input feature. */
    on_input_drift: z.boolean(),
    /** Hours after a triggered retraining during which no other one starts. */
    cooldown_hours: posInt('hours'),
  }),
});
export type MonitoringSettings = z.infer<typeof monitoringSettingsSchema>;

/** A share of customers in (0, 1): an arm can be neither empty nor everyone. */
const armShare = z
  .number({ error: 'expected a number strictly between 0 and 1' })
  .gt(0, 'expected > 0')
  .lt(1, 'expected < 1');

/** The campaign experiment's defaults and limits (environment config `campaigns`). */
export const campaignExperimentSettingsSchema = z
  .strictObject({
    /** Default treatment share of a `canary` campaign (the challenger's arm). */
    canary_share: armShare,
    /** Default treatment share of an `ab` campaign. */
    ab_share: armShare,
    /** Significance level of the analysis (intervals at 1 - alpha). */
    alpha: z.number({ error: 'expected a number in (0, 0.5)' }).gt(0, 'expected > 0').lt(0.5, 'expected < 0.5'),
    /** Days the pipeline waits for the outcomes when the input gives no max_days. */
    default_max_days: posInt('days'),
    /** The most days an input may ask to wait (the task token timeout; the state machine's timeout covers it). */
    max_campaign_days: posInt('days').max(
      364,
      'expected at most 364 (a Step Functions execution lasts at most a year)',
    ),
  })
  .refine((s) => s.default_max_days <= s.max_campaign_days, {
    path: ['default_max_days'],
    message: 'expected at most max_campaign_days',
  });
export type CampaignExperimentSettings = z.infer<typeof campaignExperimentSettingsSchema>;

export const pipelineSettingsSchemas = {
  'data-pipeline': dataPipelineSettingsSchema,
  'training-pipeline': trainingPipelineSettingsSchema,
  'batch-scoring': batchScoringSettingsSchema,
  shadow: shadowSettingsSchema,
  promotion: promotionSettingsSchema,
  monitoring: monitoringSettingsSchema,
  'campaign-experiment': campaignExperimentSettingsSchema,
} as const;

export interface PipelineSettings {
  'data-pipeline': DataPipelineSettings;
  'training-pipeline': TrainingPipelineSettings;
  'batch-scoring': BatchScoringSettings;
  shadow: ShadowSettings;
  promotion: PromotionSettings;
  monitoring: MonitoringSettings;
  'campaign-experiment': CampaignExperimentSettings;
}

const LOCAL_ROLLING_CUTOFFS: RollingCutoffsSettings = {
  label_horizon_days: 365,
  spacing_days: 91,
  stacked_snapshots: 2,
};

/** Settings of the local runtime (CLV_PIPELINE_SETTINGS absent): the dev config's, with the transform on `local`. */
export const LOCAL_PIPELINE_SETTINGS: PipelineSettings = {
  'data-pipeline': { rolling_cutoffs: LOCAL_ROLLING_CUTOFFS, training_snapshots_weekday: 6 },
  'training-pipeline': {
    tune: false,
    rolling_cutoffs: LOCAL_ROLLING_CUTOFFS,
    gate: {
      min_gini: 0.3,
      min_churn_auc: 0.6,
      min_top_decile_capture: 0.15,
      min_heuristic_rmse_reduction: 0,
      min_test_rows: 50,
      champion_max_rmse_increase: 0.05,
      champion_max_gini_decrease: 0.02,
      fairness_min_ratio: 0.8,
      fairness_min_slice_customers: 30,
    },
  },
  'batch-scoring': {
    transform: {
      instance_type: 'local',
      instance_count: 1,
      max_concurrent_transforms: 1,
      max_payload_in_mb: 100,
      batch_strategy: 'MultiRecord',
      split_type: 'None',
    },
  },
  shadow: {
    transform: {
      instance_type: 'local',
      instance_count: 1,
      max_concurrent_transforms: 1,
      max_payload_in_mb: 100,
      batch_strategy: 'MultiRecord',
      split_type: 'None',
    },
    // Local transform jobs take a second or two: the tolerance keeps process start-up noise out of the check.
    thresholds: { max_runtime_increase: 0.1, max_mean_shift: 0.15, runtime_tolerance_seconds: 30 },
  },
  promotion: {},
  monitoring: {
    drift: { psi_low: 0.1, psi_medium: 0.25 },
    proxy: { window_days: 30, max_correlation_drop: 0.2, min_customers: 50 },
    matured_after_days: 365,
    retraining: { enabled: true, prediction_psi: 0.25, on_input_drift: true, cooldown_hours: 168 },
  },
  'campaign-experiment': {
    canary_share: 0.05,
    ab_share: 0.5,
    alpha: 0.05,
    default_max_days: 28,
    max_campaign_days: 90,
  },
};

// --------------------------------------------------------------------------------------------- date arithmetic

const DAY_MS = 86_400_000;

function toDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

function fromDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `date` (YYYY-MM-DD) plus `days` (may be negative), in UTC calendar days. */
export function addDays(date: string, days: number): string {
  return fromDay(toDay(date) + days);
}

/** The UTC calendar date of an ISO-8601 date-time. */
export function utcDate(dateTime: string): string {
  return new Date(Date.parse(dateTime)).toISOString().slice(0, 10);
}

/** 0 = Sunday .. 6 = Saturday. */
export function utcWeekday(date: string): number {
  return new Date(toDay(date) * DAY_MS).getUTCDay();
}

export interface RollingCutoffs {
  training_cutoff: string;
  validation_cutoff: string;
  test_cutoff: string;
  /** `stacked_snapshots` dates `spacing_days` apart, oldest first, ending at training_cutoff. */
  training_cutoffs: string[];
}

/**
 * The cutoffs of a training run on `runDate`: test = runDate − label_horizon_days (its label window ends by the run
 * date), validation = test − spacing_days, training = validation − spacing_days, and the stacked training snapshots
 * spaced spacing_days apart ending at training.
 */
export function rollingCutoffs(runDate: string, settings: RollingCutoffsSettings): RollingCutoffs {
  const test = addDays(runDate, -settings.label_horizon_days);
  const validation = addDays(test, -settings.spacing_days);
  const training = addDays(validation, -settings.spacing_days);
  const training_cutoffs = Array.from({ length: settings.stacked_snapshots }, (_, i) =>
    addDays(training, -(settings.stacked_snapshots - 1 - i) * settings.spacing_days),
  );
  return { training_cutoff: training, validation_cutoff: validation, test_cutoff: test, training_cutoffs };
}

// --------------------------------------------------------------------------------------------- input schemas (C3)

const scheduledInputSchema = z.strictObject({ scheduledTime });

const featureSnapshotSchema = z.strictObject({
  cutoff: isoDate,
  with_labels: z.enum(['true', 'false'], { error: 'expected the string "true" or "false"' }),
});
export type FeatureSnapshot = z.infer<typeof featureSnapshotSchema>;

/** A hand-started data-pipeline run (the fields the former CheckInput/ApplyDefaults states accepted). */
export const dataPipelineManualInputSchema = z
  .strictObject({
    date: isoDate,
    layout: z
      .string({ error: 'expected a layout name (contracts/transactions-layouts.json)' })
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a layout name (contracts/transactions-layouts.json)')
      .optional(),
    cutoff: isoDate.optional(),
    with_labels: z.enum(['true', 'false'], { error: 'expected the string "true" or "false"' }).optional(),
    clickstream: z.boolean({ error: 'expected true or false' }).optional(),
    customers: z.boolean({ error: 'expected true or false' }).optional(),
    backfill_from: isoDate.optional(),
    feature_snapshots: z
      .array(featureSnapshotSchema, {
        error: `expected an array of 1 to ${MAX_FEATURE_SNAPSHOTS} {cutoff, with_labels}`,
      })
      .min(1, `expected 1 to ${MAX_FEATURE_SNAPSHOTS} items`)
      .max(MAX_FEATURE_SNAPSHOTS, `expected 1 to ${MAX_FEATURE_SNAPSHOTS} items`)
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.feature_snapshots !== undefined) {
      for (const key of ['cutoff', 'with_labels'] as const) {
        if (v[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'not allowed together with feature_snapshots (give each snapshot its cutoff and with_labels)',
          });
        }
      }
    }
    if (v.backfill_from !== undefined && v.backfill_from > v.date) {
      ctx.addIssue({
        code: 'custom',
        path: ['backfill_from'],
        message: `expected a date on or before date (${v.date})`,
      });
    }
  });

export const dataPipelineInputSchema = z.union([scheduledInputSchema, dataPipelineManualInputSchema]);
export type DataPipelineInput = z.infer<typeof dataPipelineInputSchema>;

/** What the data pipeline's states after ValidateInput read. */
export interface DataPipelineNormalized {
  date: string;
  layout: string;
  clickstream: boolean;
  customers: boolean;
  runId: string;
  /** Without feature_snapshots: the single snapshot's cutoff (default the date) and with_labels (default "false"). */
  cutoff?: string;
  with_labels?: 'true' | 'false';
  backfill_from?: string;
  feature_snapshots?: FeatureSnapshot[];
}

const gateOverrideSchema = gateSettingsSchema.partial();

/** A hand-started training run. */
export const trainingPipelineManualInputSchema = z
  .strictObject({
    training_cutoff: isoDate,
    validation_cutoff: isoDate,
    test_cutoff: isoDate,
    training_cutoffs: z
      .array(isoDate, { error: 'expected an array of dates YYYY-MM-DD' })
      .min(1, 'expected at least 1 date')
      .optional(),
    tune: z.boolean({ error: 'expected true or false' }).optional(),
    hyperparameters: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a hyperparameter name'),
        z.string({ error: 'expected a string (SageMaker hyperparameters are strings)' }).max(2500),
      )
      .optional(),
    gate: gateOverrideSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (!(v.training_cutoff < v.validation_cutoff)) {
      ctx.addIssue({
        code: 'custom',
        path: ['validation_cutoff'],
        message: `expected a date after training_cutoff (${v.training_cutoff})`,
      });
    }
    if (!(v.validation_cutoff < v.test_cutoff)) {
      ctx.addIssue({
        code: 'custom',
        path: ['test_cutoff'],
        message: `expected a date after validation_cutoff (${v.validation_cutoff})`,
      });
    }
    const stacked = v.training_cutoffs;
    if (stacked !== undefined) {
      for (let i = 1; i < stacked.length; i++) {
        const prev = stacked[i - 1] as string;
        if (!((stacked[i] as string) > prev)) {
          ctx.addIssue({
            code: 'custom',
            path: ['training_cutoffs', i],
            message: `expected a date after ${prev} (ascending)`,
          });
        }
      }
      if (stacked[stacked.length - 1] !== v.training_cutoff) {
        ctx.addIssue({
          code: 'custom',
          path: ['training_cutoffs', stacked.length - 1],
          message: `expected the last date to be training_cutoff (${v.training_cutoff})`,
        });
      }
    }
  });

/**
 * A retraining started by the monitoring pipeline (prediction drift or a proxy drop): the cutoffs follow from
 * `triggered_by.run_date` exactly as a scheduled run's follow from its run date, and the reason is kept.
 */
export const trainingPipelineTriggeredInputSchema = z.strictObject({
  triggered_by: z.strictObject({
    pipeline: z.literal('monitoring'),
    execution: z.string().min(1).max(2048),
    reason: z.string().min(1).max(1000),
    run_date: isoDate,
  }),
});

export const trainingPipelineInputSchema = z.union([
  scheduledInputSchema,
  trainingPipelineManualInputSchema,
  trainingPipelineTriggeredInputSchema,
]);
export type TrainingPipelineInput = z.infer<typeof trainingPipelineInputSchema>;

export interface TrainingPipelineNormalized extends RollingCutoffs {
  tune: boolean;
  hyperparameters: Record<string, string>;
  gate: GateSettings;
  scheduled: boolean;
  /** Set when the monitoring pipeline started the run. */
  triggered_by?: { pipeline: 'monitoring'; execution: string; reason: string; run_date: string };
}

export const batchScoringManualInputSchema = z.strictObject({ cutoff: isoDate });
export const batchScoringInputSchema = z.union([scheduledInputSchema, batchScoringManualInputSchema]);
export type BatchScoringInput = z.infer<typeof batchScoringInputSchema>;

export interface BatchScoringNormalized {
  cutoff: string;
  transform: TransformSettings;
  scheduled: boolean;
}

const modelVersion = z
  .string({ error: 'expected a model version (the model_version of the predictions table)' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected a model version (letters, digits, . _ -)');

/** A hand-started monitoring run: the scoring run to look at. */
export const monitoringManualInputSchema = z.strictObject({ scoring_date: isoDate, model_version: modelVersion });

/** The `ScoringCompleted` event of batch scoring as the EventBridge rule delivers it (the whole event). */
export const scoringCompletedEventSchema = z.looseObject({
  source: z.literal('clv.platform'),
  'detail-type': z.literal('ScoringCompleted'),
  detail: z.looseObject({
    scoring_date: isoDate,
    model_version: modelVersion,
    model_package_arn: z.string().min(1).optional(),
    execution: z.string().min(1).optional(),
  }),
});

export const monitoringInputSchema = z.union([scoringCompletedEventSchema, monitoringManualInputSchema]);
export type MonitoringInput = z.infer<typeof monitoringInputSchema>;

export interface MonitoringNormalized {
  scoring_date: string;
  model_version: string;
  /** The batch-scoring execution that published the run (absent for a hand-started run). */
  scoring_execution: string | null;
  /** Proxy window: the scoring run to judge is the latest on or before this date (scoring_date − window_days). */
  proxy_run_before: string;
  /** The window before it (for the window-over-window change). */
  proxy_previous_run_before: string;
  /** Matured cohort: the latest scoring run on or before this date (scoring_date − matured_after_days). */
  matured_run_before: string;
  /** The label window of the matured cohort (days of actual revenue after its scoring date). */
  matured_after_days: number;
  drift: MonitoringSettings['drift'];
  proxy: MonitoringSettings['proxy'];
  retraining: MonitoringSettings['retraining'];
  source: 'event' | 'manual';
}

/** A campaign id: a lowercase slug (it names the campaign's partitions, exports and token record). */
export const campaignIdSchema = z
  .string({ error: 'expected a campaign id (lowercase slug)' })
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/,
    'expected 1-40 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
  );

export const CAMPAIGN_TIERS = ['High', 'Medium', 'Low'] as const;

/** Who a campaign targets, within each arm by that arm's model: its top N by CLV score, or one tier. */
export const campaignAudienceSchema = z
  .strictObject(
    {
      rule: z.enum(['top_n', 'tier'], { error: 'expected "top_n" or "tier"' }),
      n: posInt('customers').optional(),
      tier: z.enum(CAMPAIGN_TIERS, { error: `expected one of ${CAMPAIGN_TIERS.join(', ')}` }).optional(),
    },
    { error: 'expected {"rule": "top_n", "n": N} or {"rule": "tier", "tier": "High" | "Medium" | "Low"}' },
  )
  .superRefine((a, ctx) => {
    const needs = a.rule === 'top_n' ? 'n' : 'tier';
    const refuses = a.rule === 'top_n' ? 'tier' : 'n';
    if (a[needs] === undefined) {
      ctx.addIssue({ code: 'custom', path: [needs], message: `required with rule "${a.rule}"` });
    }
    if (a[refuses] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [refuses], message: `not allowed with rule "${a.rule}"` });
    }
  });
export type CampaignAudience = { rule: 'top_n'; n: number } | { rule: 'tier'; tier: (typeof CAMPAIGN_TIERS)[number] };

/** A hand-started campaign experiment (docs/runbooks/campaign-experiment.md). */
export const campaignExperimentInputSchema = z.strictObject({
  campaign_id: campaignIdSchema,
  audience: campaignAudienceSchema,
  mode: z.enum(['canary', 'ab'], { error: 'expected "canary" or "ab"' }),
  treatment_share: armShare.optional(),
  salt: z
    .string({ error: 'expected a salt string' })
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1-64 letters, digits or . _ : -')
    .optional(),
  scoring_date: isoDate.optional(),
  max_days: posInt('days').optional(),
});
export type CampaignExperimentInput = z.infer<typeof campaignExperimentInputSchema>;

/** What the campaign experiment's states after ValidateInput read. */
export interface CampaignExperimentNormalized {
  campaign_id: string;
  audience: CampaignAudience;
  /** The audience rule as the audience job's argument: `top_n:<n>` or `tier:<tier>`. */
  audience_arg: string;
  mode: 'canary' | 'ab';
  /** Share of customers assigned to the treatment (challenger) arm; also the analysis' expected share. */
  treatment_share: number;
  alpha: number;
  /** The assignment salt: the input's, else `campaign:<campaign_id>` (one salt per campaign, stable on reruns). */
  salt: string;
  /** Present when the input gives it; otherwise the pipeline takes the latest date both models scored. */
  scoring_date?: string;
  max_days: number;
  /** The task token timeout: max_days in seconds. */
  wait_timeout_seconds: number;
  run_id: string;
}

/** The default assignment salt of a campaign (documented in docs/runbooks/campaign-experiment.md). */
export function defaultCampaignSalt(campaignId: string): string {
  return `campaign:${campaignId}`;
}

function normalizeCampaign(
  input: CampaignExperimentInput,
  settings: CampaignExperimentSettings,
  executionName: string,
): CampaignExperimentNormalized {
  const maxDays = input.max_days ?? settings.default_max_days;
  if (maxDays > settings.max_campaign_days) {
    throw new InvalidPipelineInputError('campaign-experiment', [
      `max_days: expected at most ${settings.max_campaign_days} (campaigns.maxCampaignDays), got ${maxDays}`,
    ]);
  }
  const audience: CampaignAudience =
    input.audience.rule === 'top_n'
      ? { rule: 'top_n', n: input.audience.n as number }
      : { rule: 'tier', tier: input.audience.tier as (typeof CAMPAIGN_TIERS)[number] };
  return {
    campaign_id: input.campaign_id,
    audience,
    audience_arg: audience.rule === 'top_n' ? `top_n:${audience.n}` : `tier:${audience.tier}`,
    mode: input.mode,
    treatment_share: input.treatment_share ?? (input.mode === 'canary' ? settings.canary_share : settings.ab_share),
    alpha: settings.alpha,
    salt: input.salt ?? defaultCampaignSalt(input.campaign_id),
    ...(input.scoring_date !== undefined ? { scoring_date: input.scoring_date } : {}),
    max_days: maxDays,
    wait_timeout_seconds: maxDays * 86_400,
    run_id: executionName,
  };
}

const modelPackageArn = z
  .string({ error: 'expected a versioned model package ARN' })
  .regex(
    /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[a-zA-Z0-9-]{1,63}\/\d+$/,
    'expected a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)',
  );
const personReason = z
  .string({ error: 'expected a reason (text)' })
  .trim()
  .min(1, 'expected a non-empty reason')
  .max(256, 'expected at most 256 characters (a model package metadata value)');
const operatorName = z.string({ error: 'expected a name' }).trim().min(1, 'expected a non-empty name').max(128);

/** The shadow run of a registered challenger (the training pipeline starts it): cutoff = the scoring set's date. */
export const shadowInputSchema = z.strictObject({ model_package_arn: modelPackageArn, cutoff: isoDate.optional() });
export type ShadowInput = z.infer<typeof shadowInputSchema>;
export interface ShadowNormalized {
  model_package_arn: string;
  /** The scoring set's cutoff; null: the challenger's test_cutoff (its package metadata). */
  cutoff: string | null;
  transform: TransformSettings;
  thresholds: ShadowThresholds;
}

/** The Model Registry's approval event (EventBridge rule `promotion-on-approval`, lib/contracts/event-rules.ts). */
export const promotionEventInputSchema = z.looseObject({
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal('SageMaker Model Package State Change'),
  detail: z.looseObject({
    ModelPackageArn: modelPackageArn,
    ModelApprovalStatus: z.literal('Approved', { error: 'expected "Approved" (only approvals start a promotion)' }),
  }),
});
export const promotionManualInputSchema = z.strictObject({
  model_package_arn: modelPackageArn,
  override_reason: personReason.optional(),
  operator: operatorName.optional(),
});
export const promotionRollbackInputSchema = z.strictObject({
  rollback: z.literal(true, { error: 'expected true' }),
  reason: personReason,
  operator: operatorName.optional(),
});
export const promotionInputSchema = z.union([
  promotionEventInputSchema,
  promotionManualInputSchema,
  promotionRollbackInputSchema,
]);
export type PromotionInput = z.infer<typeof promotionInputSchema>;
export interface PromotionNormalized {
  model_package_arn: string | null;
  rollback: boolean;
  override_reason: string | null;
  reason: string | null;
  operator: string;
  source: 'approval-event' | 'manual' | 'rollback';
}

function parsePromotion(input: unknown): PromotionNormalized {
  const obj = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
  if ('detail-type' in obj || 'detail' in obj) {
    const e = parseOrThrow('promotion', promotionEventInputSchema, input);
    return {
      model_package_arn: e.detail.ModelPackageArn,
      rollback: false,
      override_reason: null,
      reason: null,
      operator: 'model-registry-approval',
      source: 'approval-event',
    };
  }
  if ('rollback' in obj) {
    const r = parseOrThrow('promotion', promotionRollbackInputSchema, input);
    return {
      model_package_arn: null,
      rollback: true,
      override_reason: null,
      reason: r.reason,
      operator: r.operator ?? 'unknown',
      source: 'rollback',
    };
  }
  const m = parseOrThrow('promotion', promotionManualInputSchema, input);
  return {
    model_package_arn: m.model_package_arn,
    rollback: false,
    override_reason: m.override_reason ?? null,
    reason: null,
    operator: m.operator ?? 'unknown',
    source: 'manual',
  };
}

export const pipelineInputSchemas = {
  'data-pipeline': dataPipelineInputSchema,
  'training-pipeline': trainingPipelineInputSchema,
  'batch-scoring': batchScoringInputSchema,
  monitoring: monitoringInputSchema,
  'campaign-experiment': campaignExperimentInputSchema,
  shadow: shadowInputSchema,
  promotion: promotionInputSchema,
} as const;

export interface PipelineNormalizedInput {
  'data-pipeline': DataPipelineNormalized;
  'training-pipeline': TrainingPipelineNormalized;
  'batch-scoring': BatchScoringNormalized;
  monitoring: MonitoringNormalized;
  'campaign-experiment': CampaignExperimentNormalized;
  shadow: ShadowNormalized;
  promotion: PromotionNormalized;
}

// --------------------------------------------------------------------------------------------- parsing

const MAX_SHOWN_VALUE = 60;

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text !== undefined && text.length <= MAX_SHOWN_VALUE
    ? text
    : `a ${Array.isArray(value) ? 'longer array' : typeof value}`;
}

function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string[] {
  const path = [...prefix, ...issue.path];
  const where = formatPath(path);
  const at = (p: string) => (p === '' ? '(input)' : p);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${at(formatPath([...path, k]))}: unknown field (not expected here)`);
    case 'invalid_union': {
      // The input matched neither shape: report against the hand-started shape, unless it looks scheduled.
      const errors = issue.errors;
      const input = issue.input as Record<string, unknown> | undefined;
      const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
      if (!isObject) return [`${at(where)}: expected an object, got ${shown(input)}`];
      // Shapes: [scheduled, hand-started(, triggered)] or, for monitoring, [event, hand-started].
      const branch =
        'scheduledTime' in input || 'detail' in input ? errors[0] : 'triggered_by' in input ? errors[2] : errors[1];
      return (branch ?? []).flatMap((i) => describeIssue(i, path));
    }
    default: {
      const input = (issue as { input?: unknown }).input;
      const message =
        issue.message.startsWith('Invalid input') && issue.code === 'invalid_type'
          ? `expected ${issue.expected}`
          : issue.message;
      if (issue.code !== 'custom' && input === undefined) return [`${at(where)}: required, ${message}`];
      const got = issue.code === 'custom' ? '' : `, got ${shown(input)}`;
      return [`${at(where)}: ${message}${got}`];
    }
  }
}

function parseOrThrow<T>(pipeline: PipelineName, schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  // One problem per field: a value of the wrong type also fails the checks after it (e.g. an array's length).
  const byField = new Map<string, string>();
  for (const line of result.error.issues.flatMap((i) => describeIssue(i))) {
    const field = line.slice(0, line.indexOf(': '));
    if (!byField.has(field)) byField.set(field, line);
  }
  throw new InvalidPipelineInputError(pipeline, [...byField.values()]);
}

function isScheduled(input: object): input is { scheduledTime: string } {
  return 'scheduledTime' in input;
}

function normalizeData(
  input: DataPipelineInput,
  settings: DataPipelineSettings,
  executionName: string,
): DataPipelineNormalized {
  const base = { layout: 'generic', clickstream: true, customers: false, runId: executionName };
  if (isScheduled(input)) {
    // The schedule fires late on the delivery day (UTC): the run date is the day of the scheduled time.
    const date = utcDate(input.scheduledTime);
    if (utcWeekday(date) !== settings.training_snapshots_weekday) {
      return { ...base, date, cutoff: date, with_labels: 'false' };
    }
    // The labelled snapshots the next scheduled training run reads (its run date is this date: it is scheduled the
    // next day and derives its cutoffs from the day before its scheduled time), then the day's scoring snapshot.
    const next = rollingCutoffs(date, settings.rolling_cutoffs);
    const labelled = [...next.training_cutoffs, next.validation_cutoff, next.test_cutoff];
    return {
      ...base,
      date,
      feature_snapshots: [
        ...labelled.map((cutoff): FeatureSnapshot => ({ cutoff, with_labels: 'true' })),
        { cutoff: date, with_labels: 'false' },
      ],
    };
  }
  const { date, feature_snapshots, ...rest } = input;
  if (feature_snapshots !== undefined) return { ...base, ...rest, date, feature_snapshots };
  return { ...base, cutoff: date, with_labels: 'false', ...rest, date };
}

function normalizeTraining(
  input: TrainingPipelineInput,
  settings: TrainingPipelineSettings,
): TrainingPipelineNormalized {
  if ('triggered_by' in input) {
    return {
      ...rollingCutoffs(input.triggered_by.run_date, settings.rolling_cutoffs),
      tune: settings.tune,
      hyperparameters: {},
      gate: { ...settings.gate },
      scheduled: false,
      triggered_by: { ...input.triggered_by },
    };
  }
  if (isScheduled(input)) {
    const runDate = addDays(utcDate(input.scheduledTime), -1);
    return {
      ...rollingCutoffs(runDate, settings.rolling_cutoffs),
      tune: settings.tune,
      hyperparameters: {},
      gate: { ...settings.gate },
      scheduled: true,
    };
  }
  return {
    training_cutoff: input.training_cutoff,
    validation_cutoff: input.validation_cutoff,
    test_cutoff: input.test_cutoff,
    training_cutoffs: input.training_cutoffs ?? [input.training_cutoff],
    tune: input.tune ?? settings.tune,
    hyperparameters: input.hyperparameters ?? {},
    gate: { ...settings.gate, ...stripUndefined(input.gate ?? {}) },
    scheduled: false,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function normalizeScoring(input: BatchScoringInput, settings: BatchScoringSettings): BatchScoringNormalized {
  if (isScheduled(input)) {
    return { cutoff: addDays(utcDate(input.scheduledTime), -1), transform: { ...settings.transform }, scheduled: true };
  }
  return { cutoff: input.cutoff, transform: { ...settings.transform }, scheduled: false };
}

function normalizeMonitoring(input: MonitoringInput, settings: MonitoringSettings): MonitoringNormalized {
  const fromEvent = 'detail' in input;
  const { scoring_date, model_version } = fromEvent ? input.detail : input;
  const window = settings.proxy.window_days;
  return {
    scoring_date,
    model_version,
    scoring_execution: fromEvent ? (input.detail.execution ?? null) : null,
    proxy_run_before: addDays(scoring_date, -window),
    proxy_previous_run_before: addDays(scoring_date, -2 * window),
    matured_run_before: addDays(scoring_date, -settings.matured_after_days),
    matured_after_days: settings.matured_after_days,
    drift: { ...settings.drift },
    proxy: { ...settings.proxy },
    retraining: { ...settings.retraining },
    source: fromEvent ? 'event' : 'manual',
  };
}

/** Refuses a hand-given date after the UTC date of `now`: no data exists for it yet. */
function notAfterToday(pipeline: PipelineName, field: string, date: string, now: Date): void {
  const today = now.toISOString().slice(0, 10);
  if (date > today) {
    throw new InvalidPipelineInputError(pipeline, [
      `${field}: expected a date on or before today (${today}), got "${date}"`,
    ]);
  }
}

/**
 * The longest SageMaker job-name prefix each pipeline puts before its execution name (`clv-publish-<name>`,
 * `clv-train-<name>`, ...). SageMaker names allow 63 characters of letters, digits and hyphens, and an ASL
 * intrinsic cannot shorten a name, so an execution name that cannot fit is refused here, before any job starts.
 */
export const SAGEMAKER_NAME_PREFIX: Partial<Record<PipelineName, string>> = {
  'training-pipeline': 'clv-train-',
  'batch-scoring': 'clv-publish-',
  shadow: 'clv-shadow-challenger-',
  'campaign-experiment': 'clv-audience-',
};

function checkExecutionName(pipeline: PipelineName, executionName: string): void {
  const prefix = SAGEMAKER_NAME_PREFIX[pipeline];
  if (prefix === undefined) return;
  const max = 63 - prefix.length;
  if (!/^[A-Za-z0-9](-*[A-Za-z0-9])*$/.test(executionName) || executionName.length > max) {
    throw new InvalidPipelineInputError(pipeline, [
      `execution name: expected at most ${max} letters, digits or single hyphens (it names SageMaker jobs ` +
        `${prefix}<execution name>), got "${executionName}"`,
    ]);
  }
}

/**
 * Parses one execution input of `pipeline` against its schema and returns the normalized input the rest of the
 * state machine reads (defaults from `settings` applied, scheduled dates derived). Throws InvalidPipelineInputError.
 * `now` bounds hand-given dates (none may be after today, UTC); `executionName` is the data pipeline's runId
 * (Glue --run-id; the ASL passes $$.Execution.Name).
 */
export function parsePipelineInput<P extends PipelineName>(
  pipeline: P,
  input: unknown,
  settings: PipelineSettings[P],
  now: Date = new Date(),
  executionName = 'local',
): PipelineNormalizedInput[P] {
  checkExecutionName(pipeline, executionName);
  switch (pipeline) {
    case 'data-pipeline': {
      const parsed = parseOrThrow(pipeline, dataPipelineInputSchema, input);
      if (!isScheduled(parsed)) notAfterToday(pipeline, 'date', parsed.date, now);
      return normalizeData(parsed, settings as DataPipelineSettings, executionName) as PipelineNormalizedInput[P];
    }
    case 'training-pipeline': {
      const parsed = parseOrThrow(pipeline, trainingPipelineInputSchema, input);
      if ('test_cutoff' in parsed) notAfterToday(pipeline, 'test_cutoff', parsed.test_cutoff, now);
      if ('triggered_by' in parsed) notAfterToday(pipeline, 'triggered_by.run_date', parsed.triggered_by.run_date, now);
      return normalizeTraining(parsed, settings as TrainingPipelineSettings) as PipelineNormalizedInput[P];
    }
    case 'shadow': {
      const parsed = parseOrThrow(pipeline, shadowInputSchema, input);
      if (parsed.cutoff !== undefined) notAfterToday(pipeline, 'cutoff', parsed.cutoff, now);
      const st = settings as ShadowSettings;
      return {
        model_package_arn: parsed.model_package_arn,
        cutoff: parsed.cutoff ?? null,
        transform: { ...st.transform },
        thresholds: { ...st.thresholds },
      } as PipelineNormalizedInput[P];
    }
    case 'promotion':
      return parsePromotion(input) as PipelineNormalizedInput[P];
    case 'batch-scoring': {
      const parsed = parseOrThrow(pipeline, batchScoringInputSchema, input);
      if (!isScheduled(parsed)) notAfterToday(pipeline, 'cutoff', parsed.cutoff, now);
      return normalizeScoring(parsed, settings as BatchScoringSettings) as PipelineNormalizedInput[P];
    }
    case 'monitoring': {
      const parsed = parseOrThrow(pipeline, monitoringInputSchema, input);
      const date = 'detail' in parsed ? parsed.detail.scoring_date : parsed.scoring_date;
      notAfterToday(pipeline, 'scoring_date', date, now);
      return normalizeMonitoring(parsed, settings as MonitoringSettings) as PipelineNormalizedInput[P];
    }
    case 'campaign-experiment': {
      const parsed = parseOrThrow(pipeline, campaignExperimentInputSchema, input);
      if (parsed.scoring_date !== undefined) notAfterToday(pipeline, 'scoring_date', parsed.scoring_date, now);
      return normalizeCampaign(
        parsed,
        settings as CampaignExperimentSettings,
        executionName,
      ) as PipelineNormalizedInput[P];
    }
    default:
      throw new Error(`unknown pipeline ${String(pipeline)}: expected one of ${PIPELINE_NAMES.join(', ')}`);
  }
}

/** Whether `name` (a state-machines/ file name without .asl.json) has an input schema here. */
export function isPipelineName(name: string): name is PipelineName {
  return (PIPELINE_NAMES as readonly string[]).includes(name);
}
