/**
 * SageMaker models and Batch Transform.
 * - `arn:aws:states:::sagemaker:createModel` records the model (PrimaryContainer.ModelDataUrl, Environment with
 *   SAGEMAKER_PROGRAM) under <root>/_local/sagemaker/models/ and returns {ModelArn}.
 * - `arn:aws:states:::sagemaker:createTransformJob.sync` runs the model's inference program (sagemaker/<program>,
 *   default inference.py: model_fn/input_fn/predict_fn/output_fn) over every object under the input prefix and
 *   writes <S3OutputPath>/<relative key>.out, one request per object (local/py/clv_local/transform.py).
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
});

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
  TransformInput: z.looseObject({
    DataSource: z.looseObject({ S3DataSource: z.looseObject({ S3Uri: z.string().startsWith('s3://') }) }),
    ContentType: z.string().optional(),
    SplitType: z.string().optional(),
  }),
  TransformOutput: z.looseObject({ S3OutputPath: z.string().startsWith('s3://'), Accept: z.string().optional() }),
  TransformResources: z.looseObject({}).optional(),
  Environment: z.record(z.string(), z.string()).optional(),
});

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
    rt.log(`transform job ${name}: ${program} over ${n} object(s)`);
    const run = await runPython({
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
      TransformResources: toJson(p.TransformResources ?? {}),
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
