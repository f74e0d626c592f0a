/**
 * Stand-ins in isolation: Lambda (both resource forms, error mapping), Glue arguments and failure, SageMaker helpers,
 * the Glue catalog's BatchCreatePartition and the batch-scoring ASL's handling of its response.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { glueTableInput } from '../../lib/constructs/catalog/glue-table.js';
import { placeholderName } from '../../lib/constructs/pipelines/asl-tasks.js';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { repoRoot } from '../../lib/paths.js';
import { glueArgv, glueStartJobRun } from '../../local/integrations/glue.js';
import { glueBatchCreatePartition, gluePartitions, partitionsFile } from '../../local/integrations/glue-catalog.js';
import { integrationFor } from '../../local/integrations/index.js';
import { lambdaArn, lambdaFolder, lambdaInvoke } from '../../local/integrations/lambda.js';
import {
  decodeHyperparameter,
  hyperparameterArgs,
  parseMetrics,
  tarGz,
} from '../../local/integrations/sagemaker-common.js';
import { createModel, createTransformJob, programSource } from '../../local/integrations/sagemaker-inference.js';
import { CONTAINER_ROOT, pythonArgs, remapContainerPath } from '../../local/integrations/sagemaker-processing.js';
import { drawTrials, trialCount } from '../../local/integrations/sagemaker-tuning.js';
import type { Json, TaskCall } from '../../local/integrations/types.js';
import { writeObject } from '../../local/storage.js';
import { stubRuntime } from './helpers/runtime.js';

const runtime = (root: string) => stubRuntime(root);

const REGISTRY_ARN = 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-model-registry';
const GROUP = 'clv-local-clv-models';

describe('Lambda stand-in', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-lambda-'));
  fs.mkdirSync(path.join(root, '_local', 'registry', GROUP), { recursive: true });
  fs.writeFileSync(
    path.join(root, '_local', 'registry', GROUP, '1.json'),
    JSON.stringify({
      ModelPackageArn: `arn:aws:sagemaker:eu-west-1:000000000000:model-package/${GROUP}/1`,
      ModelPackageVersion: 1,
      ModelApprovalStatus: 'Approved',
      CustomerMetadataProperties: { stage: 'Production', model_version: 'm1' },
      InferenceSpecification: { Containers: [{ Image: 'local/xgboost:3.0-5', ModelDataUrl: 's3://b/m.tar.gz' }] },
    }),
  );
  const payload = { action: 'find-production', model_package_group: GROUP, required: true };

  it('lambda:invoke wraps the handler result as {Payload, StatusCode, ...}', async () => {
    const call: TaskCall = {
      stateName: 'G',
      resource: 'arn:aws:states:::lambda:invoke',
      parameters: { FunctionName: REGISTRY_ARN, Payload: payload },
    };
    const out = (await lambdaInvoke.invoke(call, runtime(root))) as Record<string, Json>;
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(out.Payload).toMatchObject({ found: true, version: 1, model_version: 'm1' });
    expect(lambdaInvoke.target(call)).toBe('clv-local-model-registry');
  });

  it('a bare function ARN returns the payload itself', async () => {
    const out = await lambdaArn.invoke({ stateName: 'G', resource: REGISTRY_ARN, parameters: payload }, runtime(root));
    expect(out).toMatchObject({ found: true, model_version: 'm1' });
  });

  it("a handler's error surfaces as Step Functions reports a function error (Error = errorType, Cause JSON)", async () => {
    const err = await lambdaArn
      .invoke({ stateName: 'G', resource: REGISTRY_ARN, parameters: { nope: 1 } }, runtime(root))
      .catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'InvalidRegistryRequest' });
    const cause = JSON.parse((err as Error).message) as { errorType: string; errorMessage: string; trace: string[] };
    expect(cause.errorType).toBe('InvalidRegistryRequest');
    expect(cause.errorMessage).toContain('model-registry: invalid event');
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

describe('Batch Transform stand-in', () => {
  const TRANSFORM = 'arn:aws:states:::sagemaker:createTransformJob.sync';
  /** A model whose archive holds code/inference.py (doubling a number per line) and an input object. */
  async function setup(root: string, name: string, environment: Record<string, string>, isolated: boolean) {
    const work = path.join(root, 'build');
    fs.mkdirSync(path.join(work, 'code'), { recursive: true });
    fs.writeFileSync(
      path.join(work, 'code', 'inference.py'),
      [
        'def model_fn(d): return 2',
        'def input_fn(body, ct): return [int(x) for x in body.split()]',
        'def predict_fn(data, m): return [x * m for x in data]',
        "def output_fn(p, accept): return ' '.join(map(str, p))",
      ].join('\n'),
    );
    tarGz(work, path.join(root, 'clv-local-artifacts', 'm', 'model.tar.gz'));
    writeObject('s3://clv-local-artifacts/in/a.csv', '1\n2\n3\n', root);
    await createModel.invoke(
      {
        stateName: 'CreateModel',
        resource: 'arn:aws:states:::sagemaker:createModel',
        parameters: {
          ModelName: name,
          EnableNetworkIsolation: isolated,
          PrimaryContainer: { ModelDataUrl: 's3://clv-local-artifacts/m/model.tar.gz', Environment: environment },
        },
      },
      runtime(root),
    );
  }
  const transform = (name: string, extra: Record<string, Json> = {}): TaskCall => ({
    stateName: 'Score',
    resource: TRANSFORM,
    parameters: {
      TransformJobName: `job-${name}`,
      ModelName: name,
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 1,
      TransformInput: {
        DataSource: { S3DataSource: { S3Uri: 's3://clv-local-artifacts/in/' } },
        ContentType: 'text/csv',
        SplitType: 'None',
      },
      TransformOutput: { S3OutputPath: `s3://clv-local-artifacts/out/${name}/`, KmsKeyId: 'arn:aws:kms:k' },
      TransformResources: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeKmsKeyId: 'arn:aws:kms:k' },
      ...extra,
    },
  });

  it('runs the program packed in the model (SAGEMAKER_SUBMIT_DIRECTORY under /opt/ml/model), Line split', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-transform-'));
    await setup(root, 'iso', { SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' }, true);
    await createTransformJob.invoke(transform('iso'), runtime(root));
    expect(fs.readFileSync(path.join(root, 'clv-local-artifacts', 'out', 'iso', 'a.csv.out'), 'utf8')).toBe('2 4 6');
    const call = transform('iso');
    const params = call.parameters as Record<string, Record<string, Json>>;
    (params.TransformInput as Record<string, Json>).SplitType = 'Line';
    params.TransformJobName = 'job-iso-lines' as never;
    params.BatchStrategy = 'SingleRecord' as never;
    await createTransformJob.invoke(call, runtime(root));
    expect(fs.readFileSync(path.join(root, 'clv-local-artifacts', 'out', 'iso', 'a.csv.out'), 'utf8')).toBe(
      '2\n4\n6\n',
    );
  }, 60_000);

  it('a network-isolated model cannot download an s3:// submit directory: the job fails', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-transform-'));
    await setup(root, 'iso', { SAGEMAKER_SUBMIT_DIRECTORY: 's3://clv-local-artifacts/code/sourcedir.tar.gz' }, true);
    await expect(createTransformJob.invoke(transform('iso'), runtime(root))).rejects.toThrow(
      /cannot be downloaded by a model with EnableNetworkIsolation/,
    );
    expect(programSource({ SAGEMAKER_SUBMIT_DIRECTORY: 's3://b/c.tar.gz' }, '/m', false)).toEqual({});
    expect(programSource({ SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code' }, '/m', false)).toEqual({
      dir: '/m/code',
    });
  });

  it('validates the transform settings, naming the field', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-transform-'));
    await setup(root, 'iso', {}, false);
    await expect(
      createTransformJob.invoke(transform('iso', { BatchStrategy: 'Everything' }), runtime(root)),
    ).rejects.toThrow(/BatchStrategy/);
    await expect(createTransformJob.invoke(transform('iso', { MaxPayloadInMB: 101 }), runtime(root))).rejects.toThrow(
      /MaxPayloadInMB/,
    );
    await expect(
      createTransformJob.invoke(
        transform('iso', { TransformResources: { InstanceType: 'm5.xlarge', InstanceCount: 1 } }),
        runtime(root),
      ),
    ).rejects.toThrow(/InstanceType/);
  });
});

const GOLD = 's3://clv-local-gold/predictions';
const storage = (location: string) => ({
  Location: location,
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
});
const partitionCall = (parameters: Record<string, Json>): TaskCall => ({
  stateName: 'RegisterPartition',
  resource: 'arn:aws:states:::aws-sdk:glue:batchCreatePartition',
  parameters,
});
const predictionsPartition = (date: string, version: string, location?: string): Record<string, Json> => ({
  Values: [date, version],
  StorageDescriptor: storage(location ?? `${GOLD}/scoring_date=${date}/model_version=${version}/`),
});

describe('Glue catalog stand-in (glue:batchCreatePartition)', () => {
  const create = (root: string, parameters: Record<string, Json>) =>
    glueBatchCreatePartition.invoke(partitionCall(parameters), runtime(root));
  const fresh = () => fs.mkdtempSync(path.join(os.tmpdir(), 'clv-glue-catalog-'));

  it('serves the SDK Resource under the id glue:batchCreatePartition', () => {
    expect(integrationFor('arn:aws:states:::aws-sdk:glue:batchCreatePartition')).toBe(glueBatchCreatePartition);
    expect(glueBatchCreatePartition.id).toBe('glue:batchCreatePartition');
  });

  it('records a new partition and returns no error; Glue does not look at S3, so no data file is needed', async () => {
    const root = fresh();
    const out = await create(root, {
      DatabaseName: 'clv_local',
      TableName: 'predictions',
      PartitionInputList: [predictionsPartition('2023-01-01', 'm1')],
    });
    expect(out).toEqual({ Errors: [] });
    expect(fs.existsSync(partitionsFile(root, 'clv_local', 'predictions'))).toBe(true);
    const [p, ...rest] = gluePartitions(root, 'clv_local', 'predictions');
    expect(rest).toEqual([]);
    expect(p).toMatchObject({
      DatabaseName: 'clv_local',
      TableName: 'predictions',
      Values: ['2023-01-01', 'm1'],
      StorageDescriptor: { Location: `${GOLD}/scoring_date=2023-01-01/model_version=m1/` },
    });
  });

  it('an existing partition comes back as an AlreadyExistsException entry and stays as it was; new ones are added', async () => {
    const root = fresh();
    const base = { DatabaseName: 'clv_local', TableName: 'predictions' };
    await create(root, { ...base, PartitionInputList: [predictionsPartition('2023-01-01', 'm1')] });
    const before = gluePartitions(root, 'clv_local', 'predictions');
    const out = await create(root, {
      ...base,
      PartitionInputList: [predictionsPartition('2023-01-01', 'm1'), predictionsPartition('2023-01-01', 'm2')],
    });
    expect(out).toEqual({
      Errors: [
        {
          PartitionValues: ['2023-01-01', 'm1'],
          ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
        },
      ],
    });
    const after = gluePartitions(root, 'clv_local', 'predictions');
    expect(after.map((p) => p.Values)).toEqual([
      ['2023-01-01', 'm1'],
      ['2023-01-01', 'm2'],
    ]);
    expect(after[0]).toEqual(before[0]);
  });

  it('refuses a values count other than the partition keys (one below, one above), naming the keys', async () => {
    const root = fresh();
    for (const values of [['2023-01-01'], ['2023-01-01', 'm1', 'x']]) {
      const err = await create(root, {
        DatabaseName: 'clv_local',
        TableName: 'predictions',
        PartitionInputList: [{ Values: values, StorageDescriptor: storage(`${GOLD}/scoring_date=2023-01-01/`) }],
      }).catch((e: Error) => e);
      expect(err).toMatchObject({ name: 'Glue.InvalidInputException' });
      expect((err as Error).message).toContain(
        `PartitionInputList[0].Values: expected 2 values (scoring_date, model_version), got ${values.length}`,
      );
    }
    expect(fs.existsSync(partitionsFile(root, 'clv_local', 'predictions'))).toBe(false);
  });

  it('an unknown table or database fails the whole call with EntityNotFoundException', async () => {
    const root = fresh();
    const unknownTable = await create(root, {
      DatabaseName: 'clv_local',
      TableName: 'predictionz',
      PartitionInputList: [predictionsPartition('2023-01-01', 'm1')],
    }).catch((e: Error) => e);
    expect(unknownTable).toMatchObject({ name: 'Glue.EntityNotFoundException' });
    expect((unknownTable as Error).message).toContain('Table predictionz not found.');
    const unknownDb = await create(root, {
      DatabaseName: 'clv_dev',
      TableName: 'predictions',
      PartitionInputList: [predictionsPartition('2023-01-01', 'm1')],
    }).catch((e: Error) => e);
    expect(unknownDb).toMatchObject({ name: 'Glue.EntityNotFoundException' });
    expect((unknownDb as Error).message).toContain('Database clv_dev not found.');
  });

  it('refuses a Location outside the table prefix, the prefix itself, or another partition folder (local check)', async () => {
    const root = fresh();
    const cases: [string, RegExp][] = [
      ['s3://clv-local-gold/monitoring_metrics/scoring_date=2023-01-01/model_version=m1/', /outside the table prefix/],
      ['s3://clv-local-artifacts/predictions/scoring_date=2023-01-01/model_version=m1/', /outside the table prefix/],
      [`${GOLD}/`, /outside the table prefix/],
      [`${GOLD}/scoring_date=2023-01-08/model_version=m1/`, /expected .*scoring_date=2023-01-01\/model_version=m1\//],
    ];
    for (const [location, message] of cases) {
      const err = await create(root, {
        DatabaseName: 'clv_local',
        TableName: 'predictions',
        PartitionInputList: [predictionsPartition('2023-01-01', 'm1', location)],
      }).catch((e: Error) => e);
      expect(err, location).toMatchObject({ name: 'Glue.InvalidInputException' });
      expect((err as Error).message, location).toMatch(message);
      expect((err as Error).message).toContain('StorageDescriptor.Location');
    }
    // without the trailing slash it is the same folder
    const ok = await create(root, {
      DatabaseName: 'clv_local',
      TableName: 'predictions',
      PartitionInputList: [
        predictionsPartition('2023-01-01', 'm1', `${GOLD}/scoring_date=2023-01-01/model_version=m1`),
      ],
    });
    expect(ok).toEqual({ Errors: [] });
  });

  it('refuses a storage descriptor that is not the table format or columns, and unknown request fields', async () => {
    const root = fresh();
    const location = `${GOLD}/scoring_date=2023-01-01/model_version=m1/`;
    const bad = [
      [{ ...storage(location), InputFormat: 'org.apache.hadoop.mapred.TextInputFormat' }, /InputFormat: expected/],
      [{ ...storage(location), Columns: [{ Name: 'customer_id', Type: 'string' }] }, /Columns: expected/],
      [{ ...storage(location), Locaton: location }, /Locaton/],
    ] as const;
    for (const [sd, message] of bad) {
      const err = await create(root, {
        DatabaseName: 'clv_local',
        TableName: 'predictions',
        PartitionInputList: [{ Values: ['2023-01-01', 'm1'], StorageDescriptor: sd as unknown as Json }],
      }).catch((e: Error) => e);
      expect(err).toMatchObject({ name: 'Glue.InvalidInputException' });
      expect((err as Error).message).toMatch(message);
    }
    const noList = await create(root, { DatabaseName: 'clv_local', TableName: 'predictions' }).catch((e: Error) => e);
    expect((noList as Error).message).toContain('PartitionInputList');
    expect(fs.existsSync(partitionsFile(root, 'clv_local', 'predictions'))).toBe(false);
  });
});

describe('batch-scoring RegisterPartition: the ASL against the BatchCreatePartition responses', () => {
  const asl = JSON.parse(fs.readFileSync(path.join(repoRoot, 'state-machines', 'batch-scoring.asl.json'), 'utf8')) as {
    States: Record<string, Record<string, Json>>;
  };
  const register = asl.States.RegisterPartition as Record<string, Json>;

  it("registers the partition the publish step wrote, with the table's storage descriptor", () => {
    expect(register.Resource).toBe('arn:aws:states:::aws-sdk:glue:batchCreatePartition');
    const params = register.Parameters as Record<string, Json>;
    expect(placeholderName(params.DatabaseName)).toBe('GlueDatabase');
    expect(params.TableName).toBe('predictions');
    const [input, ...more] = params.PartitionInputList as Record<string, Json>[];
    expect(more).toEqual([]);
    expect(input?.['Values.$']).toBe('States.Array($.cutoff, $.model.model_version)');
    const sd = input?.StorageDescriptor as Record<string, Json>;
    const publish = JSON.stringify(asl.States.PublishPredictions);
    expect(publish).toContain(sd['Location.$'] as string); // the same folder as the publish step's output
    const table = glueTableInput(lakeTable('predictions'), 's3://b/predictions/').storageDescriptor as {
      inputFormat: string;
      outputFormat: string;
      serdeInfo: { serializationLibrary: string };
      columns: { name: string; type: string }[];
    };
    expect(sd).toMatchObject({
      InputFormat: table.inputFormat,
      OutputFormat: table.outputFormat,
      SerdeInfo: { SerializationLibrary: table.serdeInfo.serializationLibrary },
      Columns: table.columns.map((c) => ({ Name: c.name, Type: c.type })),
    });
    expect(register.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyFailure' }]);
    expect(JSON.stringify(register.Retry)).toContain('Glue.ThrottlingException');
    expect(JSON.stringify(register.Retry)).toContain('Glue.InternalServiceException');
    expect(asl.States.ReadSummary?.Next).toBe('RegisterPartition');
  });

  /** RegisterPartition and its Choice from the file; ScoringCompleted and the alert replaced by stand-ins. */
  async function run(response: Json | Error): Promise<{ end: string; error?: Json }> {
    const definition = {
      StartAt: 'RegisterPartition',
      States: {
        RegisterPartition: { ...register, Retry: [] },
        CheckPartitionRegistered: asl.States.CheckPartitionRegistered,
        PartitionNotRegistered: asl.States.PartitionNotRegistered,
        ScoringCompleted: { Type: 'Pass', Result: 'completed', ResultPath: '$.end', End: true },
        NotifyFailure: { Type: 'Pass', Result: 'alerted', ResultPath: '$.end', End: true },
      },
    };
    const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
    const execution = machine.run(
      { cutoff: '2023-01-01', model: { model_version: 'm1' } },
      {
        overrides: {
          taskResourceLocalHandlers: {
            RegisterPartition: async () => {
              if (response instanceof Error) throw response;
              return response;
            },
          },
        },
      },
    );
    const out = (await execution.result) as { end: string; error?: Json };
    return out;
  }
  const entry = (code: string) => ({
    PartitionValues: ['2023-01-01', 'm1'],
    ErrorDetail: { ErrorCode: code, ErrorMessage: code },
  });

  it('success: no Errors field, an empty Errors, or the partition already existing (a rerun)', async () => {
    expect((await run({})).end).toBe('completed');
    expect((await run({ Errors: [] })).end).toBe('completed');
    expect((await run({ Errors: [entry('AlreadyExistsException')] })).end).toBe('completed');
  });

  it('failure: any other entry, a second entry, an entry without a code, or an exception alert and stop', async () => {
    const failed = await run({ Errors: [entry('InternalServiceException')] });
    expect(failed.end).toBe('alerted');
    expect(failed.error).toMatchObject({ Error: 'PartitionNotRegistered' });
    expect(String((failed.error as Record<string, Json>).Cause)).toContain('InternalServiceException');
    expect((await run({ Errors: [entry('AlreadyExistsException'), entry('EntityNotFoundException')] })).end).toBe(
      'alerted',
    );
    expect((await run({ Errors: [{ PartitionValues: ['2023-01-01', 'm1'] }] })).end).toBe('alerted');
    const thrown = new Error('Table predictions not found.');
    thrown.name = 'Glue.EntityNotFoundException';
    const caught = await run(thrown);
    expect(caught.end).toBe('alerted');
    expect(caught.error).toMatchObject({ Error: 'Glue.EntityNotFoundException' });
  });
});
