/**
 * SageMaker processing: `arn:aws:states:::sagemaker:createProcessingJob.sync` runs the container entry with the
 * project's Python. /opt/ml/processing is remapped to a per-job temp directory: every ProcessingInput is copied to
 * its remapped LocalPath, every argument (and the entry point) mentioning /opt/ml/processing is rewritten, and each
 * ProcessingOutput's LocalPath is uploaded to its S3Uri afterwards. The entry's script is the `.py` argument
 * (an input's copy when it lies under an input's LocalPath, else sagemaker/<basename>) or `-m <module>`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { jobFailed, serviceError } from '../errors.js';
import { runPython, tail } from '../python.js';
import { downloadPrefix, uploadDir } from '../storage.js';
import { checkJobName, claimJobName, SAGEMAKER_DIR, sagemakerArn, writeJobRecord } from './sagemaker-common.js';
import { parseParams } from './sagemaker-training.js';
import { type Integration, type Json, toJson } from './types.js';

export const CONTAINER_ROOT = '/opt/ml/processing';

const CreateProcessingJob = z.looseObject({
  ProcessingJobName: z.string(),
  AppSpecification: z.looseObject({
    ImageUri: z.string(),
    ContainerEntrypoint: z.array(z.string()).min(1),
    ContainerArguments: z.array(z.string()).optional(),
  }),
  ProcessingInputs: z
    .array(
      z.looseObject({
        InputName: z.string(),
        S3Input: z.looseObject({
          S3Uri: z.string().startsWith('s3://'),
          LocalPath: z.string().startsWith(CONTAINER_ROOT),
        }),
      }),
    )
    .optional(),
  ProcessingOutputConfig: z
    .looseObject({
      Outputs: z.array(
        z.looseObject({
          OutputName: z.string(),
          S3Output: z.looseObject({
            S3Uri: z.string().startsWith('s3://'),
            LocalPath: z.string().startsWith(CONTAINER_ROOT),
          }),
        }),
      ),
    })
    .optional(),
  Environment: z.record(z.string(), z.string()).optional(),
  ProcessingResources: z.looseObject({}).optional(),
  RoleArn: z.string().optional(),
});

/** Rewrites every occurrence of /opt/ml/processing in a value to the job's local directory. */
export function remapContainerPath(value: string, localRoot: string): string {
  return value.split(CONTAINER_ROOT).join(localRoot);
}

/** The Python arguments for a container entry point and arguments (already remapped). */
export function pythonArgs(entry: string[], args: string[], inputsRoot: string): string[] {
  const rest = [...entry.slice(1), ...args];
  const first = entry[0] ?? '';
  const isPython = /(^|\/)python3?(\.\d+)?$/.test(first);
  const all = isPython ? rest : [first, ...rest];
  const m = all.indexOf('-m');
  if (m !== -1) return all;
  const scriptIdx = all.findIndex((a) => a.endsWith('.py'));
  if (scriptIdx === -1) {
    throw serviceError(
      'SageMaker',
      'AmazonSageMakerException',
      `ContainerEntrypoint ${JSON.stringify(entry)} names no .py script or -m module`,
    );
  }
  const script = all[scriptIdx] as string;
  const local =
    script.startsWith(inputsRoot) && fs.existsSync(script) ? script : path.join(SAGEMAKER_DIR, path.basename(script));
  if (!fs.existsSync(local)) {
    throw serviceError(
      'SageMaker',
      'AmazonSageMakerException',
      `processing script ${script} not found (looked at ${local})`,
    );
  }
  return [...all.slice(0, scriptIdx), local, ...all.slice(scriptIdx + 1)];
}

export const createProcessingJob: Integration = {
  id: 'sagemaker:createProcessingJob.sync',
  matches: (r) => r === 'arn:aws:states:::sagemaker:createProcessingJob.sync',
  transientError: 'SageMaker.AmazonSageMakerException',
  target: (call) => {
    const n = (call.parameters as Record<string, Json> | null)?.ProcessingJobName;
    return typeof n === 'string' ? n : undefined;
  },
  async invoke(call, rt) {
    const p = parseParams(CreateProcessingJob, call.parameters, `${call.stateName} (CreateProcessingJob)`);
    const name = checkJobName(p.ProcessingJobName, 'processingJobName');
    claimJobName(rt.root, 'processing-job', name);
    const created = Date.now();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `clv-processing-${name}-`));
    const localRoot = path.join(work, 'opt', 'ml', 'processing');
    for (const input of p.ProcessingInputs ?? []) {
      const dest = remapContainerPath(input.S3Input.LocalPath, localRoot);
      fs.mkdirSync(dest, { recursive: true });
      const n = downloadPrefix(input.S3Input.S3Uri, dest, rt.root);
      if (n === 0) {
        throw serviceError(
          'SageMaker',
          'AmazonSageMakerException',
          `ProcessingInput '${input.InputName}': no objects under ${input.S3Input.S3Uri}`,
        );
      }
    }
    for (const out of p.ProcessingOutputConfig?.Outputs ?? []) {
      fs.mkdirSync(remapContainerPath(out.S3Output.LocalPath, localRoot), { recursive: true });
    }
    const entry = p.AppSpecification.ContainerEntrypoint.map((a) => remapContainerPath(a, localRoot));
    const args = (p.AppSpecification.ContainerArguments ?? []).map((a) => remapContainerPath(a, localRoot));
    const logFile = path.join(rt.root, '_local', 'logs', 'sagemaker', 'processing', `${name}.log`);
    rt.log(`processing job ${name}: ${p.AppSpecification.ContainerEntrypoint.join(' ')}`);
    const run = await runPython({
      args: pythonArgs(entry, args, localRoot),
      env: { ...rt.env, ...(p.Environment ?? {}), PROCESSING_JOB_NAME: name },
      cwd: work,
      logFile,
    });
    const ended = Date.now();
    const description: Record<string, Json> = {
      ProcessingJobName: name,
      ProcessingJobArn: sagemakerArn('processing-job', name),
      ProcessingJobStatus: run.exitCode === 0 ? 'Completed' : 'Failed',
      AppSpecification: toJson(p.AppSpecification),
      ProcessingInputs: toJson(p.ProcessingInputs ?? []),
      ProcessingOutputConfig: toJson(p.ProcessingOutputConfig ?? { Outputs: [] }),
      ProcessingResources: toJson(p.ProcessingResources ?? {}),
      Environment: toJson(p.Environment ?? {}),
      RoleArn: p.RoleArn ?? null,
      CreationTime: created,
      ProcessingStartTime: created,
      ProcessingEndTime: ended,
      LastModifiedTime: ended,
    };
    if (run.exitCode !== 0) {
      description.FailureReason = `AlgorithmError: ${tail(run.log, 8)}`;
      description.ExitMessage = tail(run.log, 3);
      writeJobRecord(rt.root, 'processing-job', name, description);
      fs.rmSync(work, { recursive: true, force: true });
      throw jobFailed(description);
    }
    for (const out of p.ProcessingOutputConfig?.Outputs ?? []) {
      uploadDir(remapContainerPath(out.S3Output.LocalPath, localRoot), out.S3Output.S3Uri, rt.root);
    }
    writeJobRecord(rt.root, 'processing-job', name, description);
    fs.rmSync(work, { recursive: true, force: true });
    return description;
  },
};
