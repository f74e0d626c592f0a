/** Stand-ins in isolation: Lambda (both resource forms, error mapping), Glue arguments and failure, SageMaker helpers. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { FaultInjector } from '../../local/faults.js';
import { glueArgv, glueStartJobRun } from '../../local/integrations/glue.js';
import { lambdaArn, lambdaFolder, lambdaInvoke } from '../../local/integrations/lambda.js';
import { decodeHyperparameter, hyperparameterArgs, parseMetrics } from '../../local/integrations/sagemaker-common.js';
import { CONTAINER_ROOT, pythonArgs, remapContainerPath } from '../../local/integrations/sagemaker-processing.js';
import { drawTrials, trialCount } from '../../local/integrations/sagemaker-tuning.js';
import type { Json, RuntimeServices, TaskCall } from '../../local/integrations/types.js';
import { writeObject } from '../../local/storage.js';

function runtime(root: string): RuntimeServices {
  return {
    root,
    env: { ...process.env, CLV_LOCAL_ROOT: root },
    execution: { name: 'e', arn: 'arn:e', stateMachineName: 'sm', startTime: '' },
    faults: new FaultInjector({}),
    extraTables: [],
    log: () => undefined,
    startExecution: () => Promise.reject(new Error('unused')),
  };
}

const GATE_ARN = 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-model-gate';
const evaluation = {
  model_version: 'm1',
  rows: { evaluated: 500 },
  revenue: { rmse: 10, mae: 5, gini_normalized: 0.5, top_decile_capture: 0.3 },
  churn: { auc: 0.8 },
  checks: { heuristic_rmse_reduction: 0.2 },
};

describe('Lambda stand-in', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-lambda-'));
  writeObject('s3://clv-local-artifacts/evaluations/x/evaluation.json', JSON.stringify(evaluation), root);
  const payload = { evaluation_uri: 's3://clv-local-artifacts/evaluations/x/evaluation.json' };

  it('lambda:invoke wraps the handler result as {Payload, StatusCode, ...}', async () => {
    const call: TaskCall = {
      stateName: 'G',
      resource: 'arn:aws:states:::lambda:invoke',
      parameters: { FunctionName: GATE_ARN, Payload: payload },
    };
    const out = (await lambdaInvoke.invoke(call, runtime(root))) as Record<string, Json>;
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(out.Payload).toMatchObject({ passed: true, model_version: 'm1', reasons: [] });
    expect(lambdaInvoke.target(call)).toBe('clv-local-model-gate');
  });

  it('a bare function ARN returns the payload itself', async () => {
    const out = await lambdaArn.invoke({ stateName: 'G', resource: GATE_ARN, parameters: payload }, runtime(root));
    expect(out).toMatchObject({ passed: true, model_version: 'm1' });
  });

  it("a handler's error surfaces as Step Functions reports a function error (Error = errorType, Cause JSON)", async () => {
    const err = await lambdaArn
      .invoke({ stateName: 'G', resource: GATE_ARN, parameters: { nope: 1 } }, runtime(root))
      .catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'Error' });
    const cause = JSON.parse((err as Error).message) as { errorType: string; errorMessage: string; trace: string[] };
    expect(cause.errorType).toBe('Error');
    expect(cause.errorMessage).toContain('model-gate: invalid input');
    expect(Array.isArray(cause.trace)).toBe(true);
  });

  it('an unknown function is Lambda.ResourceNotFoundException', async () => {
    expect(() => lambdaFolder('arn:aws:lambda:eu-west-1:000000000000:function:someone-else')).toThrow(
      expect.objectContaining({ name: 'Lambda.ResourceNotFoundException' }),
    );
    await expect(
      lambdaArn.invoke(
        {
          stateName: 'G',
          resource: 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-no-such',
          parameters: {},
        },
        runtime(root),
      ),
    ).rejects.toMatchObject({ name: 'Lambda.ResourceNotFoundException' });
  });
});

describe('Glue stand-in', () => {
  it('passes arguments as Glue does', () => {
    expect(glueArgv('build_features', 'jr_1', { '--cutoff': '2024-01-01', '--out': 's3://b/p' })).toEqual([
      '--JOB_NAME',
      'build_features',
      '--JOB_RUN_ID',
      'jr_1',
      '--cutoff',
      '2024-01-01',
      '--out',
      's3://b/p',
    ]);
    expect(() => glueArgv('j', 'r', { cutoff: 'x' })).toThrow(
      expect.objectContaining({ name: 'Glue.InvalidInputException' }),
    );
  });

  it('an unknown job is Glue.EntityNotFoundException', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-glue-'));
    await expect(
      glueStartJobRun.invoke(
        { stateName: 'J', resource: 'arn:aws:states:::glue:startJobRun.sync', parameters: { JobName: 'no_such_job' } },
        runtime(root),
      ),
    ).rejects.toMatchObject({ name: 'Glue.EntityNotFoundException' });
  });

  it('a job that exits non-zero is States.TaskFailed with the FAILED JobRun as Cause', async () => {
    const jobs = fs.readdirSync(path.join(repoRoot, 'glue-scripts', 'jobs')).filter((f) => f.endsWith('.py'));
    expect(jobs.length).toBeGreaterThan(0);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-glue-'));
    const job = (jobs[0] as string).replace(/\.py$/, '');
    // a required argument missing: the script stops before starting Spark
    const err = await glueStartJobRun
      .invoke(
        {
          stateName: 'J',
          resource: 'arn:aws:states:::glue:startJobRun.sync',
          parameters: { JobName: job, Arguments: { '--unknown-flag-only': 'x' } },
        },
        runtime(root),
      )
      .catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'States.TaskFailed' });
    const run = JSON.parse((err as Error).message) as {
      JobRunState: string;
      JobName: string;
      Id: string;
      ErrorMessage: string;
    };
    expect(run).toMatchObject({ JobRunState: 'FAILED', JobName: job });
    expect(run.Id).toMatch(/^jr_[0-9a-f]{64}$/);
    expect(fs.existsSync(path.join(root, '_local', 'logs', 'glue', job, `${run.Id}.log`))).toBe(true);
  });
});

describe('SageMaker helpers', () => {
  it('parses metrics with the metric-definition regexes (last match wins)', () => {
    const log = 'epoch 1 validation:gini=0.31; x\nvalidation:gini=0.42; train:rmse=1.5e1;\nnoise validation:rmse=nan;';
    expect(
      parseMetrics(
        log,
        [
          { Name: 'validation:gini', Regex: 'validation:gini=([-+0-9.eE]+|nan);' },
          { Name: 'train:rmse', Regex: 'train:rmse=([-+0-9.eE]+|nan);' },
          { Name: 'validation:rmse', Regex: 'validation:rmse=([-+0-9.eE]+|nan);' },
          { Name: 'absent', Regex: 'absent=([0-9.]+)' },
        ],
        5,
      ),
    ).toEqual([
      { MetricName: 'validation:gini', Value: 0.42, Timestamp: 5 },
      { MetricName: 'train:rmse', Value: 15, Timestamp: 5 },
    ]);
  });

  it('passes hyperparameters as the training toolkit does', () => {
    expect(decodeHyperparameter('"train.py"')).toBe('train.py');
    expect(decodeHyperparameter('0.1')).toBe(0.1);
    expect(decodeHyperparameter('reg:tweedie')).toBe('reg:tweedie');
    expect(
      hyperparameterArgs({ sagemaker_program: '"train.py"', eta: '0.1', objective: '"reg:tweedie"', max_depth: '4' }),
    ).toEqual(['--eta', '0.1', '--objective', 'reg:tweedie', '--max_depth', '4']);
  });

  it('draws reproducible random trials inside the declared ranges', () => {
    const ranges = {
      IntegerParameterRanges: [{ Name: 'max_depth', MinValue: '2', MaxValue: '8', ScalingType: 'Linear' as const }],
      ContinuousParameterRanges: [
        { Name: 'eta', MinValue: '0.01', MaxValue: '0.3', ScalingType: 'Logarithmic' as const },
      ],
      CategoricalParameterRanges: [{ Name: 'objective', Values: ['reg:tweedie', 'reg:squarederror'] }],
    };
    const a = drawTrials(ranges, 25, 42);
    expect(drawTrials(ranges, 25, 42)).toEqual(a);
    expect(drawTrials(ranges, 25, 43)).not.toEqual(a);
    for (const t of a) {
      expect(Number(t.max_depth)).toBeGreaterThanOrEqual(2);
      expect(Number(t.max_depth)).toBeLessThanOrEqual(8);
      expect(Number.isInteger(Number(t.max_depth))).toBe(true);
      expect(Number(t.eta)).toBeGreaterThanOrEqual(0.01);
      expect(Number(t.eta)).toBeLessThanOrEqual(0.3);
      expect(['reg:tweedie', 'reg:squarederror']).toContain(t.objective);
    }
    // log scaling puts about half the draws below the geometric mean (0.055), not 5 %
    const below = a.filter((t) => Number(t.eta) < Math.sqrt(0.01 * 0.3)).length;
    expect(below).toBeGreaterThan(5);
    expect(trialCount(20, { CLV_LOCAL_MAX_TUNING_JOBS: '3' })).toBe(3);
    expect(trialCount(2, { CLV_LOCAL_MAX_TUNING_JOBS: '3' })).toBe(2);
    expect(trialCount(20, {})).toBe(20);
    expect(() => trialCount(20, { CLV_LOCAL_MAX_TUNING_JOBS: '0' })).toThrow('positive integer');
  });

  it('remaps /opt/ml/processing and finds the entry script', () => {
    const local = '/tmp/job/opt/ml/processing';
    expect(remapContainerPath(`${CONTAINER_ROOT}/input/code/evaluate.py`, local)).toBe(
      `${local}/input/code/evaluate.py`,
    );
    expect(remapContainerPath('--out=/opt/ml/processing/evaluation', local)).toBe(`--out=${local}/evaluation`);
    const args = pythonArgs(['python3', `${local}/input/code/evaluate.py`], ['--test', `${local}/test`], local);
    expect(args[0]?.endsWith('sagemaker/evaluate.py')).toBe(true);
    expect(args.slice(1)).toEqual(['--test', `${local}/test`]);
    expect(pythonArgs(['python3', '-m', 'clv_model.evaluate_entry'], ['--x', '1'], local)).toEqual([
      '-m',
      'clv_model.evaluate_entry',
      '--x',
      '1',
    ]);
    expect(() => pythonArgs(['/bin/sh', '-c', 'echo'], [], local)).toThrow(
      expect.objectContaining({ name: 'SageMaker.AmazonSageMakerException' }),
    );
  });
});
