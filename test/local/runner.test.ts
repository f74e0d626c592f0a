/**
 * The runner with the real training pipeline and injected faults: Retry and Catch behave as the ASL says, the
 * alert is published, the history is Step Functions' shape. Faults hit before any Python runs, so this is fast.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { taskStates } from '../../local/definition.js';
import { FaultInjector, faultPlanFromEnv } from '../../local/faults.js';
import { integrationFor } from '../../local/integrations/index.js';
import { type ProgressEvent, runLocal } from '../../local/runner.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from './helpers/feature-fixture.js';

const CUTOFFS = ['2022-01-01', '2022-07-01', '2023-01-01'] as const;
const INPUT = { training_cutoff: CUTOFFS[0], validation_cutoff: CUTOFFS[1], test_cutoff: CUTOFFS[2] };
const table = offlineStoreTable();
let root = '';

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-runner-'));
  for (const [i, c] of CUTOFFS.entries()) await writeOfflineSnapshot(root, table, c, featureRows(c, 40, 7 + i, true));
});

function alerts(): { Subject: string; Message: string }[] {
  const file = path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl');
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
}

describe('Retry and Catch with injected failures (training-pipeline)', () => {
  it('retries a transient Athena failure, then retries training to MaxAttempts and catches: alert + Fail', async () => {
    const progress: ProgressEvent[] = [];
    const before = alerts().length;
    const r = await runLocal({
      stateMachine: 'training-pipeline',
      input: INPUT,
      root,
      executionName: 'retry-catch',
      extraTables: [table],
      waits: 'none',
      failures: { 'athena:startQueryExecution.sync': 2, 'sagemaker:createTrainingJob.sync': 10 },
      onProgress: (e) => progress.push(e),
    });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('TrainingPipelineFailed');
    // Athena: two injected failures, retried (MaxAttempts 3), then the three queries ran
    // Training: 1 try + 2 retries (MaxAttempts 2), all failing with SageMaker.AmazonSageMakerException
    expect(r.injected).toEqual({ 'athena:startQueryExecution.sync': 2, 'sagemaker:createTrainingJob.sync': 3 });
    const retried = progress.filter((e) => e.kind === 'retried').map((e) => (e as { state: string }).state);
    expect(retried).toEqual(['QueryTrainingSet', 'QueryTrainingSet', 'TrainModel', 'TrainModel']);
    const caught = progress.filter((e) => e.kind === 'caught');
    expect(caught).toMatchObject([{ state: 'TrainModel', next: 'NotifyFailure' }]);

    const failed = r.history
      .filter((e) => e.type === 'TaskFailed')
      .map((e) => (e.taskFailedEventDetails as { error: string }).error);
    expect(failed).toEqual([
      'Athena.AmazonAthenaException',
      'Athena.AmazonAthenaException',
      'SageMaker.AmazonSageMakerException',
      'SageMaker.AmazonSageMakerException',
      'SageMaker.AmazonSageMakerException',
    ]);
    const sent = alerts().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.Subject).toBe('CLV training pipeline failed');
    expect(JSON.parse(sent[0]?.Message as string)).toMatchObject({
      event: 'pipeline_failed',
      error: 'SageMaker.AmazonSageMakerException',
      execution: r.executionArn,
    });
    // nothing was trained or registered
    expect(fs.existsSync(path.join(root, '_local', 'registry'))).toBe(false);
  });

  it('does not retry an error the Retry does not name: caught at once', async () => {
    const r = await runLocal({
      stateMachine: 'training-pipeline',
      input: INPUT,
      root,
      executionName: 'catch-only',
      extraTables: [table],
      waits: 'none',
      failures: {
        'sagemaker:createTrainingJob.sync': { count: 1, error: 'States.TaskFailed', cause: 'AlgorithmError: boom' },
      },
    });
    expect(r.status).toBe('FAILED');
    const failed = r.history.filter((e) => e.type === 'TaskFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.taskFailedEventDetails).toMatchObject({
      resourceType: 'sagemaker',
      resource: 'createTrainingJob.sync',
      error: 'States.TaskFailed',
      cause: 'AlgorithmError: boom',
    });
    expect(JSON.parse(alerts().at(-1)?.Message as string)).toMatchObject({
      error: 'States.TaskFailed',
      cause: 'AlgorithmError: boom',
    });
  });

  it('writes the execution history as Step Functions records it', async () => {
    const r = await runLocal({
      stateMachine: 'training-pipeline',
      input: INPUT,
      root,
      executionName: 'history',
      extraTables: [table],
      waits: 'none',
      failures: { 'sagemaker:createTrainingJob.sync': { count: 1, error: 'States.TaskFailed' } },
    });
    const file = JSON.parse(fs.readFileSync(r.historyFile, 'utf8')) as {
      status: string;
      events: { id: number; previousEventId: number; type: string }[];
    };
    expect(r.historyFile).toBe(path.join(root, '_local', 'executions', 'training-pipeline', 'history.json'));
    expect(file.status).toBe('FAILED');
    expect(file.events.map((e) => e.id)).toEqual(file.events.map((_, i) => i + 1));
    expect(file.events.every((e) => e.previousEventId === e.id - 1)).toBe(true);
    expect(file.events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      ...['ValidateInput', 'QueryTrainingSet', 'QueryValidationSet', 'QueryTestSet'].flatMap(() => [
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
      ]),
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskFailed',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
  });

  it('rejects an execution name Step Functions would reject', async () => {
    await expect(
      runLocal({ stateMachine: 'training-pipeline', input: INPUT, root, executionName: 'bad name!' }),
    ).rejects.toThrow("execution name 'bad name!'");
  });
});

describe('definition walking and fault plans', () => {
  it('finds Tasks nested in Map and Parallel states', () => {
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } } },
          ],
          Next: 'M',
        },
        M: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'B',
            States: { B: { Type: 'Task', Resource: 'arn:aws:states:::glue:startJobRun.sync', End: true } },
          },
          End: true,
        },
      },
    };
    expect(taskStates(def)).toEqual([
      { name: 'A', resource: 'arn:aws:states:::sns:publish', path: 'States.P.Branches[0].States.A' },
      { name: 'B', resource: 'arn:aws:states:::glue:startJobRun.sync', path: 'States.M.ItemProcessor.States.B' },
    ]);
  });

  it('selects stand-ins by Resource only, and has none for services it cannot run', () => {
    expect(integrationFor('arn:aws:states:::lambda:invoke')?.id).toBe('lambda:invoke');
    expect(integrationFor('arn:aws:lambda:eu-west-1:000000000000:function:clv-local-model-gate')?.id).toBe(
      'lambda:function-arn',
    );
    expect(integrationFor('arn:aws:states:::states:startExecution.sync:2')?.id).toBe('states:startExecution');
    expect(integrationFor('arn:aws:states:::ecs:runTask.sync')).toBeUndefined();
    expect(integrationFor('arn:aws:states:::glue:startJobRun')).toBeUndefined();
  });

  it('parses fault plans from the environment and counts them down', () => {
    expect(faultPlanFromEnv({ CLV_LOCAL_FAILURES: '{"a": 1, "b": {"count": 2, "error": "X.Y"}}' })).toEqual({
      a: 1,
      b: { count: 2, error: 'X.Y' },
    });
    expect(() => faultPlanFromEnv({ CLV_LOCAL_FAILURES: '{"a": -1}' })).toThrow('CLV_LOCAL_FAILURES is invalid');
    expect(() => faultPlanFromEnv({ CLV_LOCAL_FAILURES: 'nope' })).toThrow('CLV_LOCAL_FAILURES is not JSON');
    const f = new FaultInjector({ k: { count: 1, error: 'Custom.Error' } });
    expect(() => f.maybeFail(['other', 'k'], 'Default.Error')).toThrow(
      expect.objectContaining({ name: 'Custom.Error' }),
    );
    expect(() => f.maybeFail(['k'], 'Default.Error')).not.toThrow();
    expect(f.injected).toEqual({ k: 1 });
  });
});
