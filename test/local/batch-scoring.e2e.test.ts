/**
 * End to end, offline: state-machines/batch-scoring.asl.json on the local runtime with the real stand-ins. A model
 * is trained with the SageMaker training entry (sagemaker/train.py) on the feature fixture, registered in the
 * local Model Registry and approved with `clv models` (stage Production); batch scoring then reads the scoring set
 * (Athena → DuckDB), scores it with Batch Transform (inference code from the model's code/, network isolation),
 * publishes with sagemaker/publish.py, registers the predictions partition in the (local) Glue catalog and announces
 * ScoringCompleted. A rerun of a cutoff finds its partition registered already (AlreadyExistsException) and still
 * succeeds. Without a Production model the run fails with NoProductionModel and an alert.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelsMain } from '../../local/cli/models-command.js';
import { athenaStartQueryExecution } from '../../local/integrations/athena.js';
import { gluePartitions } from '../../local/integrations/glue-catalog.js';
import type { Json } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { listObjects, readObject, resolveS3Uri } from '../../local/storage.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from './helpers/feature-fixture.js';
import { trainAndRegister as trainModel } from './helpers/registered-model.js';
import { stubRuntime } from './helpers/runtime.js';

const TRAIN = '2022-01-01';
const VALIDATION = '2022-07-01';
const SCORE_A = '2023-01-01';
const SCORE_B = '2023-04-01';
const CUSTOMERS = 150;
const MODEL_VERSION = 'clv-train-bs-e2e';
const PREDICTION_COLUMNS = [
  'customer_id',
  'predicted_revenue_12m',
  'churn_probability',
  'clv_score',
  'tier',
  'reason_1_feature',
  'reason_1_contribution',
  'reason_2_feature',
  'reason_2_contribution',
  'reason_3_feature',
  'reason_3_contribution',
  'reasons_method',
];

const table = offlineStoreTable();
let root = '';
let noModel: LocalRunResult;
let runA: LocalRunResult;
let runB: LocalRunResult;
let rerunA: LocalRunResult;
let partitionBBefore: Buffer;
let partitionABefore: Buffer;
let predictionsAfterNoModel = true;

const partitionUri = (cutoff: string): string =>
  `s3://clv-local-gold/predictions/scoring_date=${cutoff}/model_version=${MODEL_VERSION}/`;
const partitionFile = (cutoff: string): string => resolveS3Uri(`${partitionUri(cutoff)}part-00000.parquet`, root);

const runtime = () =>
  stubRuntime(root, {
    execution: {
      name: 'setup',
      arn: 'arn:aws:states:eu-west-1:000000000000:execution:x:setup',
      stateMachineName: 'x',
      startTime: '',
    },
  });

async function trainAndRegister(): Promise<void> {
  await trainModel(root, {
    jobName: MODEL_VERSION,
    trainFile: await writeOfflineSnapshot(root, table, TRAIN, featureRows(TRAIN, 300, 11, true)),
    validationFile: await writeOfflineSnapshot(root, table, VALIDATION, featureRows(VALIDATION, 300, 12, true)),
    rounds: 40,
  });
}

const score = (cutoff: string, name: string) =>
  runLocal({ stateMachine: 'batch-scoring', root, executionName: name, input: { cutoff }, waits: 'none' });

async function query<T>(sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(sql);
  const rows = reader.getRowObjectsJson() as T[];
  conn.closeSync();
  instance.closeSync();
  return rows;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-scoring-e2e-'));
  await writeOfflineSnapshot(root, table, SCORE_A, featureRows(SCORE_A, CUSTOMERS, 21, false));
  await writeOfflineSnapshot(root, table, SCORE_B, featureRows(SCORE_B, CUSTOMERS - 10, 22, false));
  await trainAndRegister();
  noModel = await score(SCORE_A, 'bs-no-model');
  predictionsAfterNoModel = fs.existsSync(resolveS3Uri('s3://clv-local-gold/predictions/', root));
  expect(await modelsMain(['approve', '1', '--root', root])).toContain('Approved, stage Production');
  runA = await score(SCORE_A, 'bs-a1');
  runB = await score(SCORE_B, 'bs-b1');
  partitionBBefore = fs.readFileSync(partitionFile(SCORE_B));
  partitionABefore = fs.readFileSync(partitionFile(SCORE_A));
  rerunA = await score(SCORE_A, 'bs-a2');
}, 600_000);

describe('batch scoring, end to end on the local runtime', () => {
  it('without a Production model: FAILED with NoProductionModel and a high-severity alert', () => {
    expect(noModel.status).toBe('FAILED');
    expect(noModel.error).toBe('NoProductionModel');
    const alerts = fs
      .readFileSync(path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(JSON.parse(l).Message) as Record<string, string>);
    const alert = alerts.find((a) => a.execution?.endsWith(':bs-no-model'));
    expect(alert).toMatchObject({ event: 'pipeline_failed', severity: 'high', error: 'NoProductionModel' });
    expect(alert?.cause).toContain('clv-local-clv-models');
    expect(predictionsAfterNoModel).toBe(false);
  });

  it('succeeds and scores every eligible customer: predictions rows = scoring-set rows, no null anywhere', async () => {
    for (const run of [runA, runB, rerunA]) {
      expect(run.error ?? '', run.cause).toBe('');
      expect(run.status).toBe('SUCCEEDED');
    }
    for (const [cutoff, n] of [
      [SCORE_A, CUSTOMERS],
      [SCORE_B, CUSTOMERS - 10],
    ] as const) {
      const file = partitionFile(cutoff);
      const nulls = PREDICTION_COLUMNS.map((c) => `SUM(CASE WHEN "${c}" IS NULL THEN 1 ELSE 0 END)`).join(' + ');
      const [row] = await query<{ n: number; nulls: number; ids: number }>(
        `SELECT COUNT(*)::INT AS n, (${nulls})::INT AS nulls, COUNT(DISTINCT customer_id)::INT AS ids FROM read_parquet('${file}', hive_partitioning = false)`,
      );
      expect(row).toEqual({ n, nulls: 0, ids: n });
      const cols = await query<{ column_name: string }>(
        `DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`,
      );
      expect(cols.map((c) => c.column_name)).toEqual(PREDICTION_COLUMNS);
    }
  });

  it('used the model code packed in model.tar.gz (network isolation) and the normalized transform settings', () => {
    const model = JSON.parse(
      fs.readFileSync(path.join(root, '_local', 'sagemaker', 'models', 'clv-model-bs-a1.json'), 'utf8'),
    ) as { EnableNetworkIsolation: boolean; PrimaryContainer: { Environment: Record<string, string> } };
    expect(model.EnableNetworkIsolation).toBe(true);
    expect(model.PrimaryContainer.Environment.SAGEMAKER_SUBMIT_DIRECTORY).toBe('/opt/ml/model/code');
    const log = fs.readFileSync(
      path.join(root, '_local', 'logs', 'sagemaker', 'transform', 'clv-score-bs-a1.log'),
      'utf8',
    );
    expect(log).toContain('"objects": 1');
    expect(log).toMatch(/"program": "[^"]*\/model\/code\/inference\.py"/); // from model.tar.gz, not sagemaker/
    const job = JSON.parse(
      fs.readFileSync(path.join(root, '_local', 'sagemaker', 'transform-jobs', 'clv-score-bs-a1.json'), 'utf8'),
    ) as Record<string, Json>;
    expect(job).toMatchObject({ TransformJobStatus: 'Completed', BatchStrategy: 'MultiRecord', MaxPayloadInMB: 100 });
    expect(job.TransformOutput).toMatchObject({ KmsKeyId: expect.stringMatching(/^arn:aws:kms:/) });
  });

  it('rerunning a cutoff replaces only its own partition: the other cutoff stays byte-identical', () => {
    expect(fs.readFileSync(partitionFile(SCORE_B)).equals(partitionBBefore)).toBe(true);
    expect(fs.existsSync(partitionFile(SCORE_A))).toBe(true);
    expect(partitionABefore.length).toBeGreaterThan(0);
    const files = listObjects('s3://clv-local-gold/predictions/', root).map((f) => path.relative(root, f));
    expect(files.sort()).toEqual(
      [SCORE_A, SCORE_B].map((c) =>
        path.join(
          'clv-local-gold',
          'predictions',
          `scoring_date=${c}`,
          `model_version=${MODEL_VERSION}`,
          'part-00000.parquet',
        ),
      ),
    );
  });

  it('registered each published partition in the Glue catalog once; the rerun hit AlreadyExists and succeeded', () => {
    const partitions = gluePartitions(root, 'clv_local', 'predictions');
    expect(partitions.map((p) => p.Values)).toEqual([
      [SCORE_A, MODEL_VERSION],
      [SCORE_B, MODEL_VERSION],
    ]);
    for (const p of partitions) {
      expect(p.StorageDescriptor).toMatchObject({
        Location: partitionUri(p.Values[0] as string),
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      });
    }
    const errors = (run: LocalRunResult) => (run.output as { partition: { Errors: Json[] } }).partition.Errors;
    expect(errors(runA)).toEqual([]);
    expect(errors(runB)).toEqual([]);
    expect(errors(rerunA)).toEqual([
      {
        PartitionValues: [SCORE_A, MODEL_VERSION],
        ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
      },
    ]);
    // no partition for the run without a model, and the failed run did not reach the catalog
    expect(
      noModel.history.some((e) => e.type === 'TaskStateEntered' && JSON.stringify(e).includes('RegisterPartition')),
    ).toBe(false);
  });

  it('the local Athena sees the predictions and monitoring_metrics tables (partition keys from the paths)', async () => {
    const out = (await athenaStartQueryExecution.invoke(
      {
        stateName: 'Q',
        resource: 'arn:aws:states:::athena:startQueryExecution.sync',
        parameters: {
          QueryString:
            `SELECT p.scoring_date, COUNT(*) AS n, MAX(m.value) AS rows_scored FROM predictions p ` +
            `JOIN monitoring_metrics m ON m.run_date = p.scoring_date AND m.model_version = p.model_version ` +
            `AND m.metric = 'rows_scored' AND m.run_id = 'bs-b1' ` +
            `WHERE p.model_version = '${MODEL_VERSION}' GROUP BY p.scoring_date`,
          QueryExecutionContext: { Database: 'clv_local' },
          WorkGroup: 'clv-local',
        },
      },
      runtime(),
    )) as { QueryExecution: { ResultConfiguration: { OutputLocation: string } } };
    const csv = readObject(out.QueryExecution.ResultConfiguration.OutputLocation, root).toString('utf8').trim();
    expect(csv.split('\n')).toEqual([
      '"scoring_date","n","rows_scored"',
      `"${SCORE_B}","${CUSTOMERS - 10}","${CUSTOMERS - 10}.0"`,
    ]);
  });

  it('wrote the summary, the monitoring rows (one file per run) and announced ScoringCompleted', async () => {
    const summary = JSON.parse(
      fs.readFileSync(resolveS3Uri('s3://clv-local-artifacts/scoring/bs-a1/summary.json', root), 'utf8'),
    ) as Record<string, Json>;
    expect(summary).toMatchObject({
      status: 'published',
      reconciled: true,
      rows_in: CUSTOMERS,
      rows_scored: CUSTOMERS,
      rows_rejected: 0,
      model_version: MODEL_VERSION,
    });
    // the transform and the publish step read the run's own input prefix: the scoring-set CSV only
    expect(listObjects('s3://clv-local-artifacts/scoring/bs-a1/input/', root).map((f) => path.basename(f))).toEqual([
      'scoring-set.csv',
    ]);
    const monitoring = listObjects('s3://clv-local-gold/monitoring_metrics/', root).map((f) => path.basename(f));
    expect(monitoring.sort()).toEqual(['bs-a1.parquet', 'bs-a2.parquet', 'bs-b1.parquet']);
    const events = fs
      .readFileSync(path.join(root, '_local', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; 'detail-type': string; detail: Record<string, Json> });
    const completed = events.filter((e) => e['detail-type'] === 'ScoringCompleted');
    expect(completed).toHaveLength(3);
    expect(completed[0]).toMatchObject({
      source: 'clv.platform',
      detail: {
        scoring_date: SCORE_A,
        model_version: MODEL_VERSION,
        model_package_arn: 'arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/1',
        rows_scored: CUSTOMERS,
        predictions_uri: partitionUri(SCORE_A),
      },
    });
    expect(String(completed[0]?.detail.execution)).toMatch(/:bs-a1$/);
  });
});
