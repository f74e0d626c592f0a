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

export const PIPELINE_NAMES = ['data-pipeline', 'training-pipeline', 'batch-scoring'] as const;
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

export const pipelineSettingsSchemas = {
  'data-pipeline': dataPipelineSettingsSchema,
  'training-pipeline': trainingPipelineSettingsSchema,
  'batch-scoring': batchScoringSettingsSchema,
} as const;

export interface PipelineSettings {
  'data-pipeline': DataPipelineSettings;
  'training-pipeline': TrainingPipelineSettings;
  'batch-scoring': BatchScoringSettings;
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

export const trainingPipelineInputSchema = z.union([scheduledInputSchema, trainingPipelineManualInputSchema]);
export type TrainingPipelineInput = z.infer<typeof trainingPipelineInputSchema>;

export interface TrainingPipelineNormalized extends RollingCutoffs {
  tune: boolean;
  hyperparameters: Record<string, string>;
  gate: GateSettings;
  scheduled: boolean;
}

export const batchScoringManualInputSchema = z.strictObject({ cutoff: isoDate });
export const batchScoringInputSchema = z.union([scheduledInputSchema, batchScoringManualInputSchema]);
export type BatchScoringInput = z.infer<typeof batchScoringInputSchema>;

export interface BatchScoringNormalized {
  cutoff: string;
  transform: TransformSettings;
  scheduled: boolean;
}

export const pipelineInputSchemas = {
  'data-pipeline': dataPipelineInputSchema,
  'training-pipeline': trainingPipelineInputSchema,
  'batch-scoring': batchScoringInputSchema,
} as const;

export interface PipelineNormalizedInput {
  'data-pipeline': DataPipelineNormalized;
  'training-pipeline': TrainingPipelineNormalized;
  'batch-scoring': BatchScoringNormalized;
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
      const branch = 'scheduledTime' in input ? errors[0] : errors[1];
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
      if (!isScheduled(parsed)) notAfterToday(pipeline, 'test_cutoff', parsed.test_cutoff, now);
      return normalizeTraining(parsed, settings as TrainingPipelineSettings) as PipelineNormalizedInput[P];
    }
    case 'batch-scoring': {
      const parsed = parseOrThrow(pipeline, batchScoringInputSchema, input);
      if (!isScheduled(parsed)) notAfterToday(pipeline, 'cutoff', parsed.cutoff, now);
      return normalizeScoring(parsed, settings as BatchScoringSettings) as PipelineNormalizedInput[P];
    }
    default:
      throw new Error(`unknown pipeline ${String(pipeline)}: expected one of ${PIPELINE_NAMES.join(', ')}`);
  }
}

/** Whether `name` (a state-machines/ file name without .asl.json) has an input schema here. */
export function isPipelineName(name: string): name is PipelineName {
  return (PIPELINE_NAMES as readonly string[]).includes(name);
}
