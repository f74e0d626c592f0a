/**
 * SageMaker tuning: `arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync` runs local trials over the
 * declared ParameterRanges. Every strategy runs as Random search with a fixed seed (RandomSeed when given, else
 * 42), so the same definition gives the same trials. Trials run one after another; their number is
 * ResourceLimits.MaxNumberOfTrainingJobs, capped by $CLV_LOCAL_MAX_TUNING_JOBS when set (tests keep it small).
 * The objective metric comes from each trial's log through the MetricDefinitions regexes; the best trial is
 * returned in DescribeHyperParameterTuningJob's shape. No trial succeeding is States.TaskFailed.
 */
import { z } from 'zod';
import { jobFailed, TaskError } from '../errors.js';
import { checkJobName, claimJobName, sagemakerArn, writeJobRecord } from './sagemaker-common.js';
import { parseParams, runTrainingJob, TrainingDefinition } from './sagemaker-training.js';
import { type Integration, type Json, toJson } from './types.js';

export const MAX_TUNING_JOBS_ENV = 'CLV_LOCAL_MAX_TUNING_JOBS';
const DEFAULT_SEED = 42;

const Scaling = z.enum(['Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic']).optional();
const NumericRange = z.looseObject({
  Name: z.string(),
  MinValue: z.string(),
  MaxValue: z.string(),
  ScalingType: Scaling,
});
export const ParameterRanges = z.looseObject({
  IntegerParameterRanges: z.array(NumericRange).optional(),
  ContinuousParameterRanges: z.array(NumericRange).optional(),
  CategoricalParameterRanges: z
    .array(z.looseObject({ Name: z.string(), Values: z.array(z.string()).min(1) }))
    .optional(),
});
export type ParameterRanges = z.infer<typeof ParameterRanges>;

const CreateTuningJob = z.looseObject({
  HyperParameterTuningJobName: z.string(),
  HyperParameterTuningJobConfig: z.looseObject({
    Strategy: z.string(),
    RandomSeed: z.number().int().optional(),
    HyperParameterTuningJobObjective: z.looseObject({
      Type: z.enum(['Minimize', 'Maximize']),
      MetricName: z.string(),
    }),
    ResourceLimits: z.looseObject({
      MaxNumberOfTrainingJobs: z.number().int().min(1),
      MaxParallelTrainingJobs: z.number().int().min(1).optional(),
    }),
    ParameterRanges,
  }),
  TrainingJobDefinition: TrainingDefinition,
});

/** mulberry32: a small seeded PRNG, enough for reproducible random search. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function numeric(range: z.infer<typeof NumericRange>, what: string): [number, number] {
  const lo = Number(range.MinValue);
  const hi = Number(range.MaxValue);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
    throw new TaskError(
      'SageMaker.AmazonSageMakerException',
      `${what} ${range.Name}: invalid range [${range.MinValue}, ${range.MaxValue}]`,
    );
  }
  return [lo, hi];
}

function sample(lo: number, hi: number, scaling: string | undefined, u: number): number {
  if (scaling === 'Logarithmic' && lo > 0) return Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo)));
  if (scaling === 'ReverseLogarithmic' && hi < 1)
    return 1 - Math.exp(Math.log(1 - hi) + u * (Math.log(1 - lo) - Math.log(1 - hi)));
  return lo + u * (hi - lo);
}

/** Draws `n` hyperparameter sets from the ranges (values as SageMaker passes them: strings). */
export function drawTrials(ranges: ParameterRanges, n: number, seed: number): Record<string, string>[] {
  const rand = seededRandom(seed);
  const trials: Record<string, string>[] = [];
  for (let i = 0; i < n; i++) {
    const t: Record<string, string> = {};
    for (const r of ranges.IntegerParameterRanges ?? []) {
      const [lo, hi] = numeric(r, 'IntegerParameterRange');
      t[r.Name] = String(Math.min(hi, Math.max(lo, Math.round(sample(lo, hi, r.ScalingType, rand())))));
    }
    for (const r of ranges.ContinuousParameterRanges ?? []) {
      const [lo, hi] = numeric(r, 'ContinuousParameterRange');
      t[r.Name] = String(Number(sample(lo, hi, r.ScalingType, rand()).toPrecision(6)));
    }
    for (const r of ranges.CategoricalParameterRanges ?? []) {
      t[r.Name] = r.Values[Math.floor(rand() * r.Values.length)] as string;
    }
    trials.push(t);
  }
  return trials;
}

export function trialCount(requested: number, env: NodeJS.ProcessEnv): number {
  const cap = env[MAX_TUNING_JOBS_ENV];
  if (cap === undefined || cap === '') return requested;
  const n = Number(cap);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${MAX_TUNING_JOBS_ENV} must be a positive integer, got '${cap}'`);
  return Math.min(requested, n);
}

export const createHyperParameterTuningJob: Integration = {
  id: 'sagemaker:createHyperParameterTuningJob.sync',
  matches: (r) => r === 'arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync',
  transientError: 'SageMaker.AmazonSageMakerException',
  target: (call) => {
    const name = (call.parameters as Record<string, Json> | null)?.HyperParameterTuningJobName;
    return typeof name === 'string' ? name : undefined;
  },
  async invoke(call, rt) {
    const p = parseParams(CreateTuningJob, call.parameters, `${call.stateName} (CreateHyperParameterTuningJob)`);
    const name = checkJobName(p.HyperParameterTuningJobName, 'hyperParameterTuningJobName', 32);
    claimJobName(rt.root, 'hyper-parameter-tuning-job', name);
    const cfg = p.HyperParameterTuningJobConfig;
    const objective = cfg.HyperParameterTuningJobObjective;
    const n = trialCount(cfg.ResourceLimits.MaxNumberOfTrainingJobs, rt.env);
    const trials = drawTrials(cfg.ParameterRanges, n, cfg.RandomSeed ?? DEFAULT_SEED);
    const created = Date.now();
    const statics = p.TrainingJobDefinition.StaticHyperParameters ?? {};
    let best: { summary: Record<string, Json>; value: number } | undefined;
    const summaries: Json[] = [];
    let failed = 0;
    for (const [i, tuned] of trials.entries()) {
      const trialName = `${name}-${String(i + 1).padStart(3, '0')}-${Math.floor(
        seededRandom(created + i)() * 0xffffffff,
      )
        .toString(16)
        .padStart(8, '0')}`;
      rt.log(`tuning ${name}: trial ${i + 1}/${trials.length} ${JSON.stringify(tuned)}`);
      try {
        const { description } = await runTrainingJob(trialName, p.TrainingJobDefinition, { ...statics, ...tuned }, rt);
        const metrics = (description.FinalMetricDataList ?? []) as { MetricName: string; Value: number }[];
        const metric = metrics.find((m) => m.MetricName === objective.MetricName);
        const summary: Record<string, Json> = {
          TrainingJobName: trialName,
          TrainingJobArn: sagemakerArn('training-job', trialName),
          CreationTime: description.CreationTime as number,
          TrainingStartTime: description.TrainingStartTime as number,
          TrainingEndTime: description.TrainingEndTime as number,
          TrainingJobStatus: 'Completed',
          TunedHyperParameters: tuned,
          ObjectiveStatus: metric ? 'Succeeded' : 'Failed',
        };
        if (metric) {
          summary.FinalHyperParameterTuningJobObjectiveMetric = {
            MetricName: objective.MetricName,
            Value: metric.Value,
          };
          const better =
            best === undefined ||
            (objective.Type === 'Minimize' ? metric.Value < best.value : metric.Value > best.value);
          if (better) best = { summary, value: metric.Value };
        } else {
          failed += 1;
        }
        summaries.push(summary);
      } catch (err) {
        if (!(err instanceof TaskError) || err.name !== 'States.TaskFailed') throw err;
        failed += 1;
        summaries.push({ TrainingJobName: trialName, TrainingJobStatus: 'Failed', TunedHyperParameters: tuned });
      }
    }
    const ended = Date.now();
    const description: Record<string, Json> = {
      HyperParameterTuningJobName: name,
      HyperParameterTuningJobArn: sagemakerArn('hyper-parameter-tuning-job', name),
      HyperParameterTuningJobConfig: toJson(cfg),
      TrainingJobDefinition: toJson(p.TrainingJobDefinition),
      HyperParameterTuningJobStatus: best ? 'Completed' : 'Failed',
      CreationTime: created,
      HyperParameterTuningEndTime: ended,
      LastModifiedTime: ended,
      TrainingJobStatusCounters: {
        Completed: summaries.filter((s) => (s as Record<string, Json>).TrainingJobStatus === 'Completed').length,
        InProgress: 0,
        RetryableError: 0,
        NonRetryableError: summaries.filter((s) => (s as Record<string, Json>).TrainingJobStatus === 'Failed').length,
        Stopped: 0,
      },
      ObjectiveStatusCounters: { Succeeded: summaries.length - failed, Pending: 0, Failed: failed },
    };
    // The record also lists every trial (ListTrainingJobsForHyperParameterTuningJob in AWS).
    const record = (): Json => ({ ...description, LocalTrials: summaries });
    if (!best) {
      description.FailureReason = `No training job succeeded with objective metric ${objective.MetricName}`;
      writeJobRecord(rt.root, 'hyper-parameter-tuning-job', name, record());
      throw jobFailed(description);
    }
    description.BestTrainingJob = best.summary;
    writeJobRecord(rt.root, 'hyper-parameter-tuning-job', name, record());
    return description;
  },
};
