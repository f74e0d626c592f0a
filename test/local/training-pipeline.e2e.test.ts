/**
 * End to end, offline: state-machines/training-pipeline.asl.json on the local runtime with the real stand-ins —
 * ValidateInput and the model-registry Lambda (in-process), Athena (DuckDB over a small fixture offline store,
 * two stacked training snapshots), SageMaker training (sagemaker/train.py in .venv), a processing job
 * (sagemaker/evaluate.py), the model-gate Lambda, the Model Registry and SNS — then Batch Transform
 * (sagemaker/inference.py) over the test set with the trained model, a tuning run whose model the gate rejects,
 * a challenger worse than the Production champion (rejected at the champion gate) and a planted unfair country
 * slice (rejected at the fairness gate). Assertions are on what lands in the local object store and the local
 * control plane.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { FaultInjector } from '../../local/faults.js';
import { createModel, createTransformJob } from '../../local/integrations/sagemaker-inference.js';
import type { Json, RuntimeServices } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { listObjects, readObject, resolveS3Uri } from '../../local/storage.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from './helpers/feature-fixture.js';

/** Two stacked training snapshots, then validation and test (one each). */
const STACKED = ['2021-07-01', '2022-01-01'] as const;
const CUTOFFS = ['2022-01-01', '2022-07-01', '2023-01-01'] as const;
const ALL = [STACKED[0], ...CUTOFFS] as const;
const table = offlineStoreTable();
const GROUP = 'clv-local-clv-models';
/** Thresholds loose enough for the tiny fixture; the champion and fairness thresholds stay the settings'. */
const lenient = {
  min_gini: -1,
  min_churn_auc: 0,
  min_top_decile_capture: 0,
  min_heuristic_rmse_reduction: -10,
  min_test_rows: 10,
  fairness_min_ratio: 0.5,
};
const input = (over: Record<string, Json> = {}): Json => ({
  training_cutoff: CUTOFFS[0],
  validation_cutoff: CUTOFFS[1],
  test_cutoff: CUTOFFS[2],
  training_cutoffs: [...STACKED],
  hyperparameters: { num_round: '60' },
  gate: lenient,
  ...over,
});
let root = '';
let run: LocalRunResult;

interface Output {
  training_cutoffs: string[];
  gate: Record<string, number>;
  datasets: Record<'train' | 'validation' | 'test', { uri: string; query_execution_id: string }>;
  training: { job_name: string; model_uri: string; metrics: { MetricName: string; Value: number }[] };
  champion: { found: boolean };
  evaluation: { prefix: string };
  gate_result: {
    passed: boolean;
    model_version: string;
    metrics: Record<string, string>;
    champion: { compared: boolean; reason: string | null };
    checks: { name: string; status: string; reason?: string }[];
  };
  registration: { ModelPackageArn: string };
}

const registryFiles = (r: string): string[] =>
  fs.existsSync(path.join(r, '_local', 'registry', GROUP))
    ? fs.readdirSync(path.join(r, '_local', 'registry', GROUP)).sort()
    : [];

/** The last SNS message of the alerts topic, parsed. */
function lastAlert(r: string): Record<string, unknown> {
  const lines = fs
    .readFileSync(path.join(r, '_local', 'sns', 'clv-local-alerts.jsonl'), 'utf8')
    .trim()
    .split('\n');
  return JSON.parse((JSON.parse(lines.at(-1) as string) as { Message: string }).Message) as Record<string, unknown>;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-e2e-'));
  for (const [i, c] of ALL.entries()) await writeOfflineSnapshot(root, table, c, featureRows(c, 300, 100 + i, true));
  run = await runLocal({
    stateMachine: 'training-pipeline',
    root,
    executionName: 'e2e-train',
    extraTables: [table],
    input: input(),
  });
}, 300_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('training pipeline, end to end on the local runtime', () => {
  it('succeeds and ends with the registration: the first model, no champion to compare with', () => {
    expect(run.error ?? '').toBe('');
    expect(run.status).toBe('SUCCEEDED');
    const out = run.output as unknown as Output;
    expect(out.registration.ModelPackageArn).toBe(
      'arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/1',
    );
    expect(out.champion.found).toBe(false);
    expect(out.gate_result.champion).toMatchObject({ compared: false, reason: 'no Production model: first model' });
    expect(out.gate_result.checks.filter((c) => c.name.startsWith('champion_')).map((c) => c.status)).toEqual([
      'skipped',
      'skipped',
    ]);
    // the normalized input: the settings' thresholds with the run's overrides
    expect(out.gate).toMatchObject({ ...lenient, champion_max_rmse_increase: 0.05, champion_max_gini_decrease: 0.02 });
  });

  it('fails a bad input at ValidateInput, naming the field, before anything runs', async () => {
    const bad = await runLocal({
      stateMachine: 'training-pipeline',
      root,
      executionName: 'e2e-bad-input',
      extraTables: [table],
      input: input({ test_cutoff: '2023-13-01' }),
    });
    expect(bad.status).toBe('FAILED');
    expect(bad.error).toBe('InvalidPipelineInput');
    expect(bad.cause).toContain('test_cutoff');
    const tasks = bad.history.filter((e) => e.type === 'TaskScheduled');
    expect(tasks).toHaveLength(1); // ValidateInput only
  });

  it('wrote the query results as Athena CSV: the stacked snapshots for training, one cutoff each after', () => {
    const out = run.output as unknown as Output;
    for (const [key, cutoffs] of [
      ['train', STACKED],
      ['validation', [CUTOFFS[1]]],
      ['test', [CUTOFFS[2]]],
    ] as const) {
      const csv = readObject(out.datasets[key].uri, root).toString('utf8').trimEnd().split('\n');
      expect(csv[0]?.startsWith('"customer_id","event_time","cutoff_date","snapshot_id"')).toBe(true);
      expect(csv).toHaveLength(1 + 300 * cutoffs.length);
      const seen = [...new Set(csv.slice(1).map((l) => l.split(',')[2]))];
      expect(seen).toEqual(cutoffs.map((c) => `"${c}"`));
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
      champion: unknown;
      lineage: { train_cutoffs: string[] };
    };
    expect(report.rows.evaluated).toBe(300);
    expect(report.model_version).toBe(out.gate_result.model_version);
    expect(report.champion).toEqual({ present: false, reason: 'no Production model: first model' });
    expect(report.lineage.train_cutoffs).toEqual([...STACKED]);
    expect(readObject(`${out.evaluation.prefix}/model_card.md`, root).toString()).toContain('Model card');
    expect(readObject(`${out.evaluation.prefix}/fairness.json`, root).toString()).toContain('"country"');
  });

  it('registered the model as PendingManualApproval with its lineage, and announced it on SNS', () => {
    const out = run.output as unknown as Output;
    const pkg = JSON.parse(
      fs.readFileSync(path.join(root, '_local', 'registry', 'clv-local-clv-models', '1.json'), 'utf8'),
    ) as Record<string, Json>;
    expect(pkg.ModelApprovalStatus).toBe('PendingManualApproval');
    expect(pkg.ClientToken).toMatch(/^[0-9a-f]{32}$/);
    expect(pkg.CustomerMetadataProperties).toMatchObject({
      stage: 'Staging',
      training_cutoff: CUTOFFS[0],
      training_cutoffs: JSON.stringify(STACKED),
      test_cutoff: CUTOFFS[2],
      training_job: 'clv-train-e2e-train',
      champion_model_version: 'none',
      champion_comparison: 'skipped: no Production model: first model',
      fairness_ratio_country: expect.stringMatching(/^0\.\d+|^1$/),
      execution: run.executionArn,
    });
    const metrics = pkg.ModelMetrics as Record<string, Record<string, Record<string, string>>>;
    expect(metrics.ModelQuality?.Statistics?.S3Uri).toBe(`${out.evaluation.prefix}/evaluation.json`);
    expect(metrics.Bias?.PostTrainingReport?.S3Uri).toBe(`${out.evaluation.prefix}/fairness.json`);
    expect(metrics.Explainability?.Report?.S3Uri).toBe(`${out.evaluation.prefix}/model_card.md`);
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
      'lambda:invoke',
      'athena:startQueryExecution.sync',
      'athena:startQueryExecution.sync',
      'athena:startQueryExecution.sync',
      'sagemaker:createTrainingJob.sync',
      'lambda:invoke',
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
      input: input({ tune: true, hyperparameters: { num_round: '40' }, gate: { ...lenient, min_gini: 0.9999 } }),
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
    expect(hpo.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.MetricName).toBe('validation:rmse');
    expect(hpo.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value).toBe(
      Math.min(...hpo.LocalTrials.map((t) => t.FinalHyperParameterTuningJobObjectiveMetric.Value)),
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
    expect(registryFiles(root)).toEqual(['1.json']);
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

  it('rejects a challenger worse than the Production champion: both evaluated on the same test set, nothing registered', async () => {
    // version 1 becomes the champion: Approved, stage Production (what promotion leaves in the registry)
    const file = path.join(root, '_local', 'registry', GROUP, '1.json');
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Json>;
    pkg.ModelApprovalStatus = 'Approved';
    pkg.CustomerMetadataProperties = {
      ...(pkg.CustomerMetadataProperties as Record<string, Json>),
      stage: 'Production',
    };
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2));
    const before = registryFiles(root).map((f) => fs.readFileSync(path.join(root, '_local', 'registry', GROUP, f)));

    const worse = await runLocal({
      stateMachine: 'training-pipeline',
      root,
      executionName: 'e2e-challenger',
      extraTables: [table],
      // one shallow tree and no BG/NBD help: a challenger clearly worse than the champion
      input: input({
        hyperparameters: {
          num_round: '1',
          churn_num_round: '1',
          max_depth: '1',
          btyd_offset: 'false',
          btyd_features: 'false',
        },
      }),
    });
    expect(worse.status).toBe('FAILED');
    expect(worse.error).toBe('ModelGateFailed');
    const after = registryFiles(root).map((f) => fs.readFileSync(path.join(root, '_local', 'registry', GROUP, f)));
    expect(after).toEqual(before); // nothing registered, the champion untouched

    const report = JSON.parse(
      readObject('s3://clv-local-artifacts/evaluations/e2e-challenger/evaluation.json', root).toString(),
    ) as {
      model_version: string;
      rows: { evaluated: number };
      champion: { present: boolean; model_version: string; rows: { evaluated: number }; revenue: { rmse: number } };
    };
    expect(report.champion.present).toBe(true);
    expect(report.champion.model_version).toBe(
      (pkg.CustomerMetadataProperties as Record<string, string>).model_version,
    );
    expect(report.champion.rows.evaluated).toBe(report.rows.evaluated); // the same test snapshot

    const alert = lastAlert(root) as {
      event: string;
      reasons: string[];
      metrics: Record<string, string>;
      champion: {
        compared: boolean;
        model_version: string;
        model_package_arn: string;
        metrics: Record<string, string>;
      };
      fairness: Record<string, { ratio: number | null }>;
    };
    expect(alert.event).toBe('model_rejected');
    expect(alert.reasons.join(' ')).toMatch(/champion/);
    expect(alert.champion).toMatchObject({
      compared: true,
      model_version: report.champion.model_version,
      model_package_arn: 'arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/1',
    });
    expect(Number(alert.champion.metrics.rmse)).toBeCloseTo(report.champion.revenue.rmse, 6);
    expect(Number(alert.metrics.rmse)).toBeGreaterThan(0); // the challenger's metrics beside the champion's
    expect(alert.metrics.gini).not.toBe(alert.champion.metrics.gini);
    expect(Object.keys(alert.fairness)).toEqual(['country', 'acquisition_channel']);
  }, 300_000);

  it('rejects a model unfair to one country: the fairness gate fails with the ratio in the alert', async () => {
    const unfairRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-e2e-unfair-'));
    try {
      // customers in France never buy again, and their features say so: the model learns it from country
      for (const [i, c] of ALL.entries()) {
        const rows = featureRows(c, 300, 200 + i, true).map((r) =>
          r.country === 'France' ? { ...r, label_revenue_12m: 0, label_churn_6m: 1 } : r,
        );
        await writeOfflineSnapshot(unfairRoot, table, c, rows);
      }
      const unfair = await runLocal({
        stateMachine: 'training-pipeline',
        root: unfairRoot,
        executionName: 'e2e-unfair',
        extraTables: [table],
        input: input({ gate: { ...lenient, fairness_min_ratio: 0.8, fairness_min_slice_customers: 30 } }),
      });
      expect(unfair.status).toBe('FAILED');
      expect(unfair.error).toBe('ModelGateFailed');
      expect(registryFiles(unfairRoot)).toEqual([]);
      const alert = lastAlert(unfairRoot) as {
        event: string;
        reasons: string[];
        fairness: { country: { ratio: number; lowest_slice: string; eligible_slices: number } };
        champion: { compared: boolean; reason: string };
      };
      expect(alert.event).toBe('model_rejected');
      expect(alert.fairness.country.lowest_slice).toBe('France');
      expect(alert.fairness.country.eligible_slices).toBe(3);
      expect(alert.fairness.country.ratio).toBeLessThan(0.8);
      expect(alert.reasons).toContain(
        `fairness_country = ${alert.fairness.country.ratio.toFixed(4)} < 0.8 (France / ${
          (alert.fairness.country as unknown as { highest_slice: string }).highest_slice
        })`,
      );
      expect(alert.champion).toMatchObject({ compared: false, reason: 'no Production model: first model' });
    } finally {
      fs.rmSync(unfairRoot, { recursive: true, force: true });
    }
  }, 300_000);
});
