/**
 * SageMaker models and Batch Transform.
 * - `arn:aws:states:::sagemaker:createModel` records the model (PrimaryContainer.ModelDataUrl, Environment with
 *   SAGEMAKER_PROGRAM) under <root>/_local/sagemaker/models/ and returns {ModelArn}.
 * - `arn:aws:states:::sagemaker:createTransformJob.sync` runs the model's inference program (SAGEMAKER_PROGRAM,
 *   default inference.py: model_fn/input_fn/predict_fn/output_fn) over every object under the input prefix and
 *   writes <S3OutputPath>/<relative key>.out (local/py/clv_local/transform.py). The program is loaded from where
 *   the container would load it: SAGEMAKER_SUBMIT_DIRECTORY under /opt/ml/model/ → that folder of the unpacked
 *   model.tar.gz (the network-isolated case); an s3:// submit directory → the published sagemaker/ code, which a
 *   model with EnableNetworkIsolation cannot download (the job fails, as in AWS).
 *   SplitType None = one request per object, Line = records split on newlines and sent one per request
 *   (SingleRecord) or packed up to MaxPayloadInMB (MultiRecord); a request over MaxPayloadInMB fails the job.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { jobFailed, serviceError } from '../errors.js';
import { runPython, tail } from '../python.js';
import { downloadPrefix, resolveS3Uri, uploadDir } from '../storage.js';
import {
  checkJobName,
  claimJobName,
  readJobRecord,
  sagemakerArn,
  untarGz,
  writeJobRecord,
} from './sagemaker-common.js';
import { parseParams } from './sagemaker-training.js';
import { type Integration, type Json, toJson } from './types.js';

const CreateModel = z.looseObject({
  ModelName: z.string(),
  PrimaryContainer: z.looseObject({
    Image: z.string().optional(),
    ModelDataUrl: z.string().startsWith('s3://'),
    Environment: z.record(z.string(), z.string()).optional(),
  }),
  ExecutionRoleArn: z.string().optional(),
  EnableNetworkIsolation: z.boolean().optional(),
});

/** Where the container reads its code from when SAGEMAKER_SUBMIT_DIRECTORY lies inside the model. */
const MODEL_ROOT = '/opt/ml/model';
/** SageMaker's default MaxPayloadInMB. */
const DEFAULT_MAX_PAYLOAD_MB = 6;

export const createModel: Integration = {
  id: 'sagemaker:createModel',
  matches: (r) => r === 'arn:aws:states:::sagemaker:createModel',
  transientError: 'SageMaker.AmazonSageMakerException',
  target: (call) => {
    const n = (call.parameters as Record<string, Json> | null)?.ModelName;
    return typeof n === 'string' ? n : undefined;
  },
  async invoke(call, rt) {
    const p = parseParams(CreateModel, call.parameters, `${call.stateName} (CreateModel)`);
    const name = checkJobName(p.ModelName, 'modelName');
    claimJobName(rt.root, 'model', name);
    const arn = sagemakerArn('model', name);
    writeJobRecord(rt.root, 'model', name, {
      ...(toJson(p) as Record<string, Json>),
      ModelArn: arn,
      CreationTime: Date.now(),
    });
    return { ModelArn: arn };
  },
};

const CreateTransformJob = z.looseObject({
  TransformJobName: z.string(),
  ModelName: z.string(),
  MaxConcurrentTransforms: z.number().int().min(0).optional(),
  MaxPayloadInMB: z.number().int().min(0).max(100).optional(),
  BatchStrategy: z.enum(['MultiRecord', 'SingleRecord']).optional(),
  TransformInput: z.looseObject({
    DataSource: z.looseObject({ S3DataSource: z.looseObject({ S3Uri: z.string().startsWith('s3://') }) }),
    ContentType: z.string().optional(),
    CompressionType: z.enum(['None']).optional(),
    SplitType: z.enum(['None', 'Line', 'RecordIO', 'TFRecord']).optional(),
  }),
  TransformOutput: z.looseObject({
    S3OutputPath: z.string().startsWith('s3://'),
    Accept: z.string().optional(),
    AssembleWith: z.enum(['None', 'Line']).optional(),
    KmsKeyId: z.string().min(1).optional(),
  }),
  TransformResources: z.looseObject({
    InstanceType: z.string().regex(/^(ml\.[a-z0-9]+\.[a-z0-9]+|local)$/),
    InstanceCount: z.number().int().min(1),
    VolumeKmsKeyId: z.string().min(1).optional(),
  }),
  Environment: z.record(z.string(), z.string()).optional(),
});

/** The folder the transform loads the program from, or a failure reason (the container could not start). */
export function programSource(
  env: Record<string, string>,
  modelDir: string,
  networkIsolation: boolean,
): { dir?: string; failure?: string } {
  const submit = env.SAGEMAKER_SUBMIT_DIRECTORY;
  if (submit === undefined || submit === '') return {};
  if (submit === MODEL_ROOT || submit.startsWith(`${MODEL_ROOT}/`)) {
    return { dir: path.join(modelDir, path.relative(MODEL_ROOT, submit)) };
  }
  if (submit.startsWith('s3://') && networkIsolation) {
    return {
      failure:
        `ClientError: SAGEMAKER_SUBMIT_DIRECTORY ${submit} cannot be downloaded by a model with ` +
        `EnableNetworkIsolation; pack the code into model.tar.gz and point it at ${MODEL_ROOT}/code`,
    };
  }
  return {};
}

export const createTransformJob: Integration = {
  id: 'sagemaker:createTransformJob.sync',
  matches: (r) => r === 'arn:aws:states:::sagemaker:createTransformJob.sync',
  transientError: 'SageMaker.AmazonSageMakerException',
  target: (call) => {
    const n = (call.parameters as Record<string, Json> | null)?.TransformJobName;
    return typeof n === 'string' ? n : undefined;
  },
  async invoke(call, rt) {
    const p = parseParams(CreateTransformJob, call.parameters, `${call.stateName} (CreateTransformJob)`);
    const name = checkJobName(p.TransformJobName, 'transformJobName');
    const model = readJobRecord(rt.root, 'model', p.ModelName);
    if (!model) {
      throw serviceError(
        'SageMaker',
        'AmazonSageMakerException',
        `Could not find model "${sagemakerArn('model', p.ModelName)}".`,
      );
    }
    const splitType = p.TransformInput.SplitType ?? 'None';
    if (splitType === 'RecordIO' || splitType === 'TFRecord') {
      throw serviceError(
        'SageMaker',
        'AmazonSageMakerException',
        `${call.stateName} (CreateTransformJob): SplitType ${splitType} is not supported by the local runtime (None, Line)`,
      );
    }
    claimJobName(rt.root, 'transform-job', name);
    const container = model.PrimaryContainer as { ModelDataUrl: string; Environment?: Record<string, string> };
    const program = container.Environment?.SAGEMAKER_PROGRAM ?? 'inference.py';
    const created = Date.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `clv-transform-${name}-`));
    const modelDir = path.join(work, 'model');
    const inputDir = path.join(work, 'input');
    const outputDir = path.join(work, 'output');
    untarGz(resolveS3Uri(container.ModelDataUrl, rt.root), modelDir);
    const n = downloadPrefix(p.TransformInput.DataSource.S3DataSource.S3Uri, inputDir, rt.root);
    const logFile = path.join(rt.root, '_local', 'logs', 'sagemaker', 'transform', `${name}.log`);
    const source = programSource(container.Environment ?? {}, modelDir, model.EnableNetworkIsolation === true);
    rt.log(`transform job ${name}: ${program} over ${n} object(s)${source.dir ? ' (code from the model)' : ''}`);
    const run = source.failure
      ? { exitCode: 1, log: source.failure }
      : await runPython({
          args: [
            '-m',
            'clv_local.transform',
            '--model-dir',
            modelDir,
            '--program',
            program,
            '--input-dir',
            inputDir,
            '--output-dir',
            outputDir,
            '--content-type',
            p.TransformInput.ContentType ?? 'text/csv',
            '--accept',
            p.TransformOutput.Accept ?? 'text/csv',
            '--split-type',
            splitType,
            '--batch-strategy',
            p.BatchStrategy ?? 'MultiRecord',
            '--max-payload-mb',
            String(p.MaxPayloadInMB ?? DEFAULT_MAX_PAYLOAD_MB),
            ...(source.dir ? ['--code-dir', source.dir] : []),
          ],
          env: { ...rt.env, ...(container.Environment ?? {}), ...(p.Environment ?? {}) },
          logFile,
        });
    const ended = Date.now();
    const description: Record<string, Json> = {
      TransformJobName: name,
      TransformJobArn: sagemakerArn('transform-job', name),
      TransformJobStatus: run.exitCode === 0 ? 'Completed' : 'Failed',
      ModelName: p.ModelName,
      TransformInput: toJson(p.TransformInput),
      TransformOutput: toJson(p.TransformOutput),
      TransformResources: toJson(p.TransformResources),
      BatchStrategy: p.BatchStrategy ?? null,
      MaxPayloadInMB: p.MaxPayloadInMB ?? DEFAULT_MAX_PAYLOAD_MB,
      MaxConcurrentTransforms: p.MaxConcurrentTransforms ?? 1,
      CreationTime: created,
      TransformStartTime: created,
      TransformEndTime: ended,
    };
    if (run.exitCode !== 0 || n === 0) {
      description.TransformJobStatus = 'Failed';
      description.FailureReason =
        n === 0 ? 'ClientError: no objects under the input prefix' : `AlgorithmError: ${tail(run.log, 8)}`;
      writeJobRecord(rt.root, 'transform-job', name, description);
      fs.rmSync(work, { recursive: true, force: true });
      throw jobFailed(description);
    }
    uploadDir(outputDir, p.TransformOutput.S3OutputPath, rt.root);
    writeJobRecord(rt.root, 'transform-job', name, description);
    fs.rmSync(work, { recursive: true, force: true });
    return description;
  },
};
