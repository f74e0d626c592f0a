/**
 * SageMaker training: `arn:aws:states:::sagemaker:createTrainingJob.sync` runs the sagemaker/ entry point with
 * the project's Python under SageMaker's script-mode contract:
 * - /opt/ml is a per-job directory under <root>/_local/work/; channels are copied from their S3 prefixes to
 *   input/data/<channel> (SM_CHANNEL_<CHANNEL>), the model goes to SM_MODEL_DIR, other outputs to SM_OUTPUT_DATA_DIR;
 * - hyperparameters arrive as `--name value` arguments, in SM_HPS (JSON) and SM_HP_<NAME>;
 * - afterwards the model directory is packed to <S3OutputPath>/<TrainingJobName>/output/model.tar.gz (and the
 *   output data directory to output.tar.gz), metrics are parsed from the log with the MetricDefinitions regexes.
 * Returns the DescribeTrainingJob fields; a failing script is States.TaskFailed with TrainingJobStatus Failed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { jobFailed, serviceError } from '../errors.js';
import { runPython, tail } from '../python.js';
import { downloadPrefix, parseS3Uri, writeObject } from '../storage.js';
import {
  checkJobName,
  claimJobName,
  decodeHyperparameter,
  entryScript,
  hyperparameterArgs,
  parseMetrics,
  sagemakerArn,
  stringRecord,
  tarGz,
  writeJobRecord,
} from './sagemaker-common.js';
import { type Integration, type Json, type RuntimeServices, toJson } from './types.js';

const S3Uri = z.string().startsWith('s3://');

export const Channel = z.looseObject({
  ChannelName: z.string().regex(/^[A-Za-z0-9.\-_]+$/),
  DataSource: z.looseObject({
    S3DataSource: z.looseObject({ S3Uri, S3DataType: z.string().optional() }),
  }),
  ContentType: z.string().optional(),
});

export const AlgorithmSpecification = z.looseObject({
  TrainingImage: z.string().optional(),
  TrainingInputMode: z.string().optional(),
  MetricDefinitions: z.array(z.object({ Name: z.string().min(1), Regex: z.string().min(1) })).optional(),
});

/** The training part shared by CreateTrainingJob and a tuning job's TrainingJobDefinition. */
export const TrainingDefinition = z.looseObject({
  AlgorithmSpecification,
  HyperParameters: z.record(z.string(), z.string()).optional(),
  StaticHyperParameters: z.record(z.string(), z.string()).optional(),
  InputDataConfig: z.array(Channel).min(1),
  OutputDataConfig: z.looseObject({ S3OutputPath: S3Uri }),
  RoleArn: z.string().optional(),
  ResourceConfig: z.looseObject({}).optional(),
  StoppingCondition: z.looseObject({}).optional(),
  Environment: z.record(z.string(), z.string()).optional(),
});
export type TrainingDefinition = z.infer<typeof TrainingDefinition>;

const CreateTrainingJob = TrainingDefinition.extend({ TrainingJobName: z.string() });

export function parseParams<T>(schema: z.ZodType<T>, value: Json, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw serviceError('SageMaker', 'AmazonSageMakerException', `${what}: ${z.prettifyError(r.error)}`);
  }
  return r.data;
}

export interface TrainingResult {
  description: Record<string, Json>;
  log: string;
}

/** Runs one training job to completion; throws States.TaskFailed (with the description) when the script fails. */
export async function runTrainingJob(
  name: string,
  def: TrainingDefinition,
  hyperParameters: Record<string, string>,
  rt: RuntimeServices,
): Promise<TrainingResult> {
  claimJobName(rt.root, 'training-job', name);
  const created = Date.now();
  const script = entryScript(hyperParameters, 'train.py');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `clv-train-${name}-`));
  const ml = path.join(work, 'opt', 'ml');
  const modelDir = path.join(ml, 'model');
  const outputDir = path.join(ml, 'output');
  const outputDataDir = path.join(outputDir, 'data');
  const configDir = path.join(ml, 'input', 'config');
  for (const d of [modelDir, outputDataDir, configDir]) fs.mkdirSync(d, { recursive: true });

  const channelEnv: Record<string, string> = {};
  const channels: string[] = [];
  const inputDataConfig: Record<string, Json> = {};
  for (const ch of def.InputDataConfig) {
    const dir = path.join(ml, 'input', 'data', ch.ChannelName);
    fs.mkdirSync(dir, { recursive: true });
    const n = downloadPrefix(ch.DataSource.S3DataSource.S3Uri, dir, rt.root);
    if (n === 0) {
      throw serviceError(
        'SageMaker',
        'AmazonSageMakerException',
        `channel '${ch.ChannelName}': no objects under ${ch.DataSource.S3DataSource.S3Uri}`,
      );
    }
    channelEnv[`SM_CHANNEL_${ch.ChannelName.toUpperCase()}`] = dir;
    channels.push(ch.ChannelName);
    inputDataConfig[ch.ChannelName] = { ContentType: ch.ContentType ?? null, TrainingInputMode: 'File' };
  }
  const hpsDecoded = Object.fromEntries(Object.entries(hyperParameters).map(([k, v]) => [k, decodeHyperparameter(v)]));
  const userHps = Object.fromEntries(Object.entries(hpsDecoded).filter(([k]) => !k.startsWith('sagemaker_')));
  fs.writeFileSync(path.join(configDir, 'hyperparameters.json'), JSON.stringify(hyperParameters));
  fs.writeFileSync(path.join(configDir, 'inputdataconfig.json'), JSON.stringify(inputDataConfig));
  fs.writeFileSync(
    path.join(configDir, 'resourceconfig.json'),
    JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' }),
  );
  const hpEnv = Object.fromEntries(
    Object.entries(userHps).map(([k, v]) => [
      `SM_HP_${k.toUpperCase()}`,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  );
  const env: NodeJS.ProcessEnv = {
    ...rt.env,
    ...(def.Environment ?? {}),
    ...hpEnv,
    ...channelEnv,
    SM_MODEL_DIR: modelDir,
    SM_OUTPUT_DIR: outputDir,
    SM_OUTPUT_DATA_DIR: outputDataDir,
    SM_INPUT_DIR: path.join(ml, 'input'),
    SM_INPUT_CONFIG_DIR: configDir,
    SM_CHANNELS: JSON.stringify(channels),
    SM_HPS: JSON.stringify(userHps),
    SM_CURRENT_HOST: 'algo-1',
    SM_HOSTS: JSON.stringify(['algo-1']),
    SM_NUM_CPUS: String(os.cpus().length),
    SM_NUM_GPUS: '0',
    SM_MODULE_NAME: path.basename(script, '.py'),
    SM_USER_ARGS: JSON.stringify(hyperparameterArgs(hyperParameters)),
    SM_TRAINING_ENV: JSON.stringify({
      job_name: name,
      hyperparameters: userHps,
      channel_input_dirs: Object.fromEntries(channels.map((c) => [c, path.join(ml, 'input', 'data', c)])),
      model_dir: modelDir,
      output_data_dir: outputDataDir,
      module_name: path.basename(script, '.py'),
      current_host: 'algo-1',
      hosts: ['algo-1'],
    }),
    TRAINING_JOB_NAME: name,
  };
  const logFile = path.join(rt.root, '_local', 'logs', 'sagemaker', 'training', `${name}.log`);
  rt.log(`training job ${name}: ${path.basename(script)} (log: ${path.relative(rt.root, logFile)})`);
  const started = Date.now();
  const run = await runPython({ args: [script, ...hyperparameterArgs(hyperParameters)], env, cwd: work, logFile });
  const ended = Date.now();

  const outputPath = def.OutputDataConfig.S3OutputPath.replace(/\/+$/, '');
  const modelUri = `${outputPath}/${name}/output/model.tar.gz`;
  parseS3Uri(modelUri);
  const description: Record<string, Json> = {
    TrainingJobName: name,
    TrainingJobArn: sagemakerArn('training-job', name),
    TrainingJobStatus: run.exitCode === 0 ? 'Completed' : 'Failed',
    SecondaryStatus: run.exitCode === 0 ? 'Completed' : 'Failed',
    HyperParameters: hyperParameters,
    AlgorithmSpecification: toJson(def.AlgorithmSpecification),
    RoleArn: def.RoleArn ?? null,
    InputDataConfig: toJson(def.InputDataConfig),
    OutputDataConfig: toJson(def.OutputDataConfig),
    ResourceConfig: toJson(def.ResourceConfig ?? {}),
    StoppingCondition: toJson(def.StoppingCondition ?? {}),
    CreationTime: created,
    TrainingStartTime: started,
    TrainingEndTime: ended,
    LastModifiedTime: ended,
    TrainingTimeInSeconds: Math.max(1, Math.round((ended - started) / 1000)),
    BillableTimeInSeconds: Math.max(1, Math.round((ended - started) / 1000)),
    FinalMetricDataList: parseMetrics(run.log, def.AlgorithmSpecification.MetricDefinitions ?? [], ended),
  };
  if (run.exitCode !== 0) {
    description.FailureReason = `AlgorithmError: ${tail(run.log, 8)}`;
    writeJobRecord(rt.root, 'training-job', name, description);
    fs.rmSync(work, { recursive: true, force: true });
    throw jobFailed(description);
  }
  const localModel = writeObject(modelUri, '', rt.root);
  tarGz(modelDir, localModel);
  if (fs.readdirSync(outputDataDir).length > 0) {
    tarGz(outputDataDir, writeObject(`${outputPath}/${name}/output/output.tar.gz`, '', rt.root));
  }
  description.ModelArtifacts = { S3ModelArtifacts: modelUri };
  writeJobRecord(rt.root, 'training-job', name, description);
  fs.rmSync(work, { recursive: true, force: true });
  return { description, log: run.log };
}

export const createTrainingJob: Integration = {
  id: 'sagemaker:createTrainingJob.sync',
  matches: (r) => r === 'arn:aws:states:::sagemaker:createTrainingJob.sync',
  transientError: 'SageMaker.AmazonSageMakerException',
  target: (call) => {
    const name = (call.parameters as Record<string, Json> | null)?.TrainingJobName;
    return typeof name === 'string' ? name : undefined;
  },
  async invoke(call, rt) {
    const params = parseParams(CreateTrainingJob, call.parameters, `${call.stateName} (CreateTrainingJob)`);
    const name = checkJobName(params.TrainingJobName, 'trainingJobName');
    const hps = stringRecord(toJson(params.HyperParameters ?? {}), 'HyperParameters');
    const { description } = await runTrainingJob(name, params, hps, rt);
    return description;
  },
};
