/**
 * End to end, offline: state-machines/training-pipeline.asl.json on the local runtime with the real stand-ins —
 * Athena (DuckDB over a small fixture offline store), SageMaker training (sagemaker/train.py in .venv), a
 * processing job (sagemaker/evaluate.py), the model-gate Lambda (in-process), the Model Registry and SNS — then
 * Batch Transform (sagemaker/inference.py) over the test set with the trained model, and a tuning run whose
 * model the gate rejects. Assertions are on what lands in the local object store and the local control plane.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { FaultInjector } from '../../local/faults.js';
import { createModel, createTransformJob } from '../../local/integrations/sagemaker-inference.js';
import type { Json, RuntimeServices } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { listObjects, readObject, resolveS3Uri } from '../../local/storage.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from './helpers/feature-fixture.js';

const CUTOFFS = ['2022-01-01', '2022-07-01', '2023-01-01'] as const;
const table = offlineStoreTable();
const lenient = {
  min_gini: -1,
  min_churn_auc: 0,
  min_top_decile_capture: 0,
  min_heuristic_rmse_reduction: -10,
  min_test_rows: 10,
};
let root = '';
let run: LocalRunResult;

interface Output {
  datasets: Record<'train' | 'validation' | 'test', { uri: string; query_execution_id: string }>;
  training: { job_name: string; model_uri: string; metrics: { MetricName: string; Value: number }[] };
  evaluation: { prefix: string };
  gate_result: { passed: boolean; model_version: string; metrics: Record<string, string> };
  registration: { ModelPackageArn: string };
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-e2e-'));
  for (const [i, c] of CUTOFFS.entries())
    await writeOfflineSnapshot(root, table, c, featureRows(c, 300, 100 + i, true));
  run = await runLocal({
    stateMachine: 'training-pipeline',
    root,
    executionName: 'e2e-train',
    extraTables: [table],
    input: {
      training_cutoff: CUTOFFS[0],
      validation_cutoff: CUTOFFS[1],
      test_cutoff: CUTOFFS[2],
      hyperparameters: { num_round: '60' },
      gate: lenient,
    },
  });
}, 300_000);

describe('training pipeline, end to end on the local runtime', () => {
  it('succeeds and ends with the registration', () => {
    expect(run.error ?? '').toBe('');
    expect(run.status).toBe('SUCCEEDED');
    const out = run.output as unknown as Output;
    expect(out.registration.ModelPackageArn).toBe(
      'arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/1',
    );
  });

  it('wrote the three query results as Athena CSV, one row per customer of each cutoff', () => {
    const out = run.output as unknown as Output;
    for (const [key, cutoff] of [
      ['train', CUTOFFS[0]],
      ['validation', CUTOFFS[1]],
      ['test', CUTOFFS[2]],
    ] as const) {
      const csv = readObject(out.datasets[key].uri, root).toString('utf8').trimEnd().split('\n');
      expect(csv[0]?.startsWith('"customer_id","event_time","cutoff_date","snapshot_id"')).toBe(true);
      expect(csv).toHaveLength(301);
      expect(csv[1]).toContain(`"${cutoff}T00:00:00Z","${cutoff}"`);
    }
  });

  it('trained with sagemaker/train.py: model.tar.gz at <S3OutputPath>/<job>/output/, metrics parsed from the log', () => {
    const out = run.output as unknown as Output;
    expect(out.training.job_name).toBe('clv-train-e2e-train');
    expect(out.training.model_uri).toBe(
      's3://clv-local-artifacts/models/training/clv-train-e2e-train/output/model.tar.gz',
    );
    expect(fs.statSync(resolveS3Uri(out.training.model_uri, root)).size).toBeGreaterThan(1000);
    const names = out.training.metrics.map((m) => m.MetricName);
    expect(names).toEqual(
      expect.arrayContaining(['train:rmse', 'validation:rmse', 'validation:gini', 'validation:churn_auc']),
    );
    const gini = out.training.metrics.find((m) => m.MetricName === 'validation:gini')?.Value ?? Number.NaN;
    expect(gini).toBeGreaterThan(0.3); // the fixture's labels follow its features
  });

  it('evaluated on the later test snapshot: evaluation.json and model_card.md uploaded from the processing job', () => {
    const out = run.output as unknown as Output;
    expect(out.evaluation.prefix).toBe('s3://clv-local-artifacts/evaluations/e2e-train');
    const report = JSON.parse(readObject(`${out.evaluation.prefix}/evaluation.json`, root).toString()) as {
      rows: { evaluated: number };
      model_version: string;
    };
    expect(report.rows.evaluated).toBe(300);
    expect(report.model_version).toBe(out.gate_result.model_version);
    expect(readObject(`${out.evaluation.prefix}/model_card.md`, root).toString()).toContain('Model card');
  });

  it('registered the model as PendingManualApproval with its lineage, and announced it on SNS', () => {
    const out = run.output as unknown as Output;
    const pkg = JSON.parse(
      fs.readFileSync(path.join(root, '_local', 'registry', 'clv-local-clv-models', '1.json'), 'utf8'),
    ) as Record<string, Json>;
    expect(pkg.ModelApprovalStatus).toBe('PendingManualApproval');
    expect(pkg.CustomerMetadataProperties).toMatchObject({
      training_cutoff: CUTOFFS[0],
      test_cutoff: CUTOFFS[2],
      training_job: 'clv-train-e2e-train',
      execution: run.executionArn,
    });
    expect((pkg.InferenceSpecification as { Containers: { ModelDataUrl: string }[] }).Containers[0]?.ModelDataUrl).toBe(
      out.training.model_uri,
    );
    const sns = fs
      .readFileSync(path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse((JSON.parse(sns.at(-1) as string) as { Message: string }).Message)).toMatchObject({
      event: 'model_registered',
      model_package_arn: out.registration.ModelPackageArn,
    });
  });

  it('recorded every Task in the history with its resource', () => {
    const succeeded = run.history
      .filter((e) => e.type === 'TaskSucceeded')
      .map((e) => {
        const d = e.taskSucceededEventDetails as { resourceType: string; resource: string };
        return `${d.resourceType}:${d.resource}`;
      });
    expect(succeeded).toEqual([
      'athena:startQueryExecution.sync',
      'athena:startQueryExecution.sync',
      'athena:startQueryExecution.sync',
      'sagemaker:createTrainingJob.sync',
      'sagemaker:createProcessingJob.sync',
      'lambda:invoke',
      'sagemaker:createModelPackage',
      'sns:publish',
    ]);
  });

  it('scores the test set with the trained model through Batch Transform (sagemaker/inference.py)', async () => {
    const out = run.output as unknown as Output;
    const rt: RuntimeServices = {
      root,
      env: { ...process.env, CLV_LOCAL_ROOT: root, CLV_SCORING_DATE: '2023-01-01' },
      execution: { name: 'x', arn: 'arn:x', stateMachineName: 'x', startTime: '' },
      faults: new FaultInjector({}),
      extraTables: [],
      log: () => undefined,
      startExecution: () => Promise.reject(new Error('unused')),
    };
    await createModel.invoke(
      {
        stateName: 'CreateModel',
        resource: 'arn:aws:states:::sagemaker:createModel',
        parameters: {
          ModelName: 'clv-e2e-model',
          PrimaryContainer: {
            Image: 'local/xgboost:3.0-5',
            ModelDataUrl: out.training.model_uri,
            Environment: { SAGEMAKER_PROGRAM: 'inference.py' },
          },
        },
      },
      rt,
    );
    const described = (await createTransformJob.invoke(
      {
        stateName: 'Score',
        resource: 'arn:aws:states:::sagemaker:createTransformJob.sync',
        parameters: {
          TransformJobName: 'clv-e2e-score',
          ModelName: 'clv-e2e-model',
          TransformInput: {
            DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: out.datasets.test.uri } },
            ContentType: 'text/csv',
            SplitType: 'None',
          },
          TransformOutput: { S3OutputPath: 's3://clv-local-gold/scoring/e2e/', Accept: 'text/csv' },
          TransformResources: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1 },
        },
      },
      rt,
    )) as Record<string, Json>;
    expect(described.TransformJobStatus).toBe('Completed');
    const outputs = listObjects('s3://clv-local-gold/scoring/e2e/', root).map((f) => path.basename(f));
    expect(outputs).toEqual([`${out.datasets.test.query_execution_id}.csv.out`]);
    const lines = readObject(`s3://clv-local-gold/scoring/e2e/${outputs[0]}`, root).toString().trim().split('\n');
    expect(lines.length).toBe(301);
    expect(lines[0]).toContain('customer_id');
    expect(lines[0]).toContain('predicted_revenue_12m');
  });

  it('tunes with local trials, and the gate rejects a model below its thresholds: nothing registered', async () => {
    const tuned = await runLocal({
      stateMachine: 'training-pipeline',
      root,
      executionName: 'e2e-tune',
      extraTables: [table],
      env: { CLV_LOCAL_MAX_TUNING_JOBS: '2' },
      input: {
        training_cutoff: CUTOFFS[0],
        validation_cutoff: CUTOFFS[1],
        test_cutoff: CUTOFFS[2],
        tune: true,
        hyperparameters: { num_round: '40' },
        gate: { ...lenient, min_gini: 0.9999 },
      },
    });
    expect(tuned.status).toBe('FAILED');
    expect(tuned.error).toBe('ModelGateFailed');
    const hpo = JSON.parse(
      fs.readFileSync(
        path.join(root, '_local', 'sagemaker', 'hyper-parameter-tuning-jobs', 'clv-hpo-e2e.json'),
        'utf8',
      ),
    ) as {
      HyperParameterTuningJobStatus: string;
      TrainingJobStatusCounters: { Completed: number };
      BestTrainingJob: {
        TrainingJobName: string;
        FinalHyperParameterTuningJobObjectiveMetric: { MetricName: string; Value: number };
        TunedHyperParameters: Record<string, string>;
      };
      LocalTrials: { FinalHyperParameterTuningJobObjectiveMetric: { Value: number } }[];
    };
    expect(hpo.HyperParameterTuningJobStatus).toBe('Completed');
    expect(hpo.TrainingJobStatusCounters.Completed).toBe(2);
    expect(hpo.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.MetricName).toBe('validation:gini');
    expect(hpo.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value).toBe(
      Math.max(...hpo.LocalTrials.map((t) => t.FinalHyperParameterTuningJobObjectiveMetric.Value)),
    );
    const ranges = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'sagemaker', 'clv_model', 'tuning_ranges.json'), 'utf8'),
    ) as Record<string, { Name: string }[]>;
    expect(Object.keys(hpo.BestTrainingJob.TunedHyperParameters).sort()).toEqual(
      Object.values(ranges)
        .flat()
        .map((r) => r.Name)
        .sort(),
    );
    expect(
      fs.existsSync(
        resolveS3Uri(
          `s3://clv-local-artifacts/models/training/${hpo.BestTrainingJob.TrainingJobName}/output/model.tar.gz`,
          root,
        ),
      ),
    ).toBe(true);
    // rejected: still only version 1 in the registry, and a warning on SNS with the reason
    expect(fs.readdirSync(path.join(root, '_local', 'registry', 'clv-local-clv-models'))).toEqual(['1.json']);
    const last = JSON.parse(
      fs
        .readFileSync(path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .at(-1) as string,
    ) as { Message: string };
    const msg = JSON.parse(last.Message) as { event: string; reasons: string[] };
    expect(msg.event).toBe('model_rejected');
    expect(msg.reasons.join(' ')).toContain('gini_normalized');
  }, 300_000);
});
