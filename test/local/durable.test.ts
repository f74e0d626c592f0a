/** The durable local control plane: Model Registry, SNS, EventBridge, S3 SDK calls and nested executions. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createModelPackage,
  describeModelPackage,
  eventsLog,
  eventsPutEvents,
  listModelPackages,
  s3CopyObject,
  s3GetObject,
  s3PutObject,
  snsPublish,
  snsTopicLog,
  updateModelPackage,
} from '../../local/integrations/durable.js';
import { statesStartExecution } from '../../local/integrations/states.js';
import type { Integration, Json, NestedExecution, RuntimeServices } from '../../local/integrations/types.js';
import { stubRuntime } from './helpers/runtime.js';

function runtime(child?: NestedExecution): RuntimeServices {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-durable-'));
  return stubRuntime(root, {
    env: {},
    startExecution: async () => child ?? Promise.reject(new Error('no child')),
  });
}
const call = (i: Integration, resource: string, parameters: Json, rt: RuntimeServices) =>
  i.invoke({ stateName: 'S', resource, parameters }, rt) as Promise<Record<string, Json>>;
const SDK = 'arn:aws:states:::aws-sdk:sagemaker:';

describe('Model Registry', () => {
  it('versions packages per group, persists them, updates approval, lists and describes', async () => {
    const rt = runtime();
    const a = await call(
      createModelPackage,
      `${SDK}createModelPackage`,
      { ModelPackageGroupName: 'clv-local-clv-models', ModelApprovalStatus: 'PendingManualApproval' },
      rt,
    );
    const b = await call(
      createModelPackage,
      `${SDK}createModelPackage`,
      { ModelPackageGroupName: 'clv-local-clv-models', CustomerMetadataProperties: { k: 'v' } },
      rt,
    );
    expect(a.ModelPackageArn).toBe('arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/1');
    expect(b.ModelPackageArn).toBe('arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/2');
    expect(fs.readdirSync(path.join(rt.root, '_local', 'registry', 'clv-local-clv-models')).sort()).toEqual([
      '1.json',
      '2.json',
    ]);

    await call(
      updateModelPackage,
      `${SDK}updateModelPackage`,
      { ModelPackageArn: a.ModelPackageArn as string, ModelApprovalStatus: 'Approved', ApprovalDescription: 'ok' },
      rt,
    );
    const d = await call(
      describeModelPackage,
      `${SDK}describeModelPackage`,
      { ModelPackageName: a.ModelPackageArn as string },
      rt,
    );
    expect(d).toMatchObject({
      ModelApprovalStatus: 'Approved',
      ApprovalDescription: 'ok',
      ModelPackageVersion: 1,
      ModelPackageStatus: 'Completed',
    });

    const approved = await call(
      listModelPackages,
      `${SDK}listModelPackages`,
      { ModelPackageGroupName: 'clv-local-clv-models', ModelApprovalStatus: 'Approved' },
      rt,
    );
    expect(
      (approved.ModelPackageSummaryList as { ModelPackageVersion: number }[]).map((p) => p.ModelPackageVersion),
    ).toEqual([1]);
    const newest = await call(
      listModelPackages,
      `${SDK}listModelPackages`,
      { ModelPackageGroupName: 'clv-local-clv-models', SortOrder: 'Descending', MaxResults: 1 },
      rt,
    );
    expect(
      (newest.ModelPackageSummaryList as { ModelPackageVersion: number }[]).map((p) => p.ModelPackageVersion),
    ).toEqual([2]);

    await expect(
      call(
        describeModelPackage,
        `${SDK}describeModelPackage`,
        { ModelPackageName: 'arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/9' },
        rt,
      ),
    ).rejects.toMatchObject({ name: 'SageMaker.ResourceNotFoundException' });
    await expect(
      call(createModelPackage, `${SDK}createModelPackage`, { ModelPackageGroupName: 'bad name' }, rt),
    ).rejects.toMatchObject({
      name: 'SageMaker.ValidationException',
    });
  });
});

describe('Model Registry stages', () => {
  it('keeps CustomerMetadataProperties.stage through updates, removes keys, rejects unknown stages', async () => {
    const rt = runtime();
    const { ModelPackageArn } = await call(
      createModelPackage,
      `${SDK}createModelPackage`,
      {
        ModelPackageGroupName: 'clv-local-clv-models',
        CustomerMetadataProperties: { stage: 'Staging', model_version: 'm1', note: 'x' },
      },
      rt,
    );
    const meta = async () =>
      (
        await call(
          describeModelPackage,
          `${SDK}describeModelPackage`,
          { ModelPackageName: ModelPackageArn as string },
          rt,
        )
      ).CustomerMetadataProperties;
    await call(
      updateModelPackage,
      `${SDK}updateModelPackage`,
      { ModelPackageArn: ModelPackageArn as string, CustomerMetadataProperties: { stage: 'Canary' } },
      rt,
    );
    expect(await meta()).toEqual({ stage: 'Canary', model_version: 'm1', note: 'x' });
    await call(
      updateModelPackage,
      `${SDK}updateModelPackage`,
      { ModelPackageArn: ModelPackageArn as string, CustomerMetadataPropertiesToRemove: ['note'] },
      rt,
    );
    expect(await meta()).toEqual({ stage: 'Canary', model_version: 'm1' });
    await expect(
      call(
        createModelPackage,
        `${SDK}createModelPackage`,
        { ModelPackageGroupName: 'clv-local-clv-models', CustomerMetadataProperties: { stage: 'production' } },
        rt,
      ),
    ).rejects.toMatchObject({ name: 'SageMaker.ValidationException' });
  });
});

describe('SNS, EventBridge, S3', () => {
  it('appends published messages and events as JSON lines', async () => {
    const rt = runtime();
    const topic = 'arn:aws:sns:eu-west-1:000000000000:clv-local-alerts';
    await call(snsPublish, 'arn:aws:states:::sns:publish', { TopicArn: topic, Subject: 's', Message: { a: 1 } }, rt);
    await call(snsPublish, 'arn:aws:states:::sns:publish', { TopicArn: topic, Message: 'text' }, rt);
    const lines = fs
      .readFileSync(snsTopicLog(rt.root, 'clv-local-alerts'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.Message)).toEqual(['{"a":1}', 'text']);
    expect(lines[0]).toMatchObject({ Subject: 's', TopicArn: topic, Execution: rt.execution.arn });
    await expect(
      call(snsPublish, 'arn:aws:states:::sns:publish', { TopicArn: 'nope', Message: 'x' }, rt),
    ).rejects.toMatchObject({
      name: 'SNS.InvalidParameterException',
    });

    const put = await call(
      eventsPutEvents,
      'arn:aws:states:::events:putEvents',
      { Entries: [{ Source: 'clv', DetailType: 'ModelRegistered', Detail: { v: 1 } }] },
      rt,
    );
    expect(put.FailedEntryCount).toBe(0);
    const event = JSON.parse(fs.readFileSync(eventsLog(rt.root), 'utf8').trim());
    expect(event).toMatchObject({
      source: 'clv',
      'detail-type': 'ModelRegistered',
      detail: { v: 1 },
      'event-bus-name': 'default',
    });
  });

  it('copies an object (CopySource <bucket>/<key>), failing with NoSuchKey for a missing source', async () => {
    const rt = runtime();
    const COPY = 'arn:aws:states:::aws-sdk:s3:copyObject';
    await call(
      s3PutObject,
      'arn:aws:states:::aws-sdk:s3:putObject',
      { Bucket: 'clv-local-athena-results', Key: 'results/q1.csv', Body: 'a,b\n1,2\n' },
      rt,
    );
    const out = await call(
      s3CopyObject,
      COPY,
      {
        Bucket: 'clv-local-artifacts',
        Key: 'scoring/e/input/scoring-set.csv',
        CopySource: 'clv-local-athena-results/results/q1.csv',
      },
      rt,
    );
    expect(out.CopyObjectResult).toMatchObject({ ETag: expect.any(String) });
    const got = await call(
      s3GetObject,
      'arn:aws:states:::aws-sdk:s3:getObject',
      { Bucket: 'clv-local-artifacts', Key: 'scoring/e/input/scoring-set.csv' },
      rt,
    );
    expect(got.Body).toBe('a,b\n1,2\n');
    await expect(
      call(
        s3CopyObject,
        COPY,
        { Bucket: 'clv-local-artifacts', Key: 'x', CopySource: 'clv-local-athena-results/results/none.csv' },
        rt,
      ),
    ).rejects.toMatchObject({ name: 'S3.NoSuchKeyException' });
    await expect(
      call(s3CopyObject, COPY, { Bucket: 'clv-local-artifacts', Key: 'x', CopySource: 'no-key' }, rt),
    ).rejects.toMatchObject({
      name: 'S3.ValidationException',
    });
  });

  it('reads and writes objects of the local store through the SDK integration', async () => {
    const rt = runtime();
    await call(
      s3PutObject,
      'arn:aws:states:::aws-sdk:s3:putObject',
      { Bucket: 'clv-local-gold', Key: 'a/b.json', Body: { x: 1 } },
      rt,
    );
    const got = await call(
      s3GetObject,
      'arn:aws:states:::aws-sdk:s3:getObject',
      { Bucket: 'clv-local-gold', Key: 'a/b.json' },
      rt,
    );
    expect(got.Body).toBe('{"x":1}');
    await expect(
      call(s3GetObject, 'arn:aws:states:::aws-sdk:s3:getObject', { Bucket: 'clv-local-gold', Key: 'missing' }, rt),
    ).rejects.toMatchObject({
      name: 'S3.NoSuchKeyException',
    });
  });
});

describe('states:startExecution', () => {
  const child: NestedExecution = {
    executionArn: 'arn:aws:states:eu-west-1:000000000000:execution:clv-local-child:c1',
    status: 'SUCCEEDED',
    output: { ok: true },
    startDate: 1,
    stopDate: 2,
  };
  const params = {
    StateMachineArn: 'arn:aws:states:eu-west-1:000000000000:stateMachine:clv-local-child',
    Input: { a: 1 },
    Name: 'c1',
  };

  it('returns DescribeExecution for .sync (Output as text) and .sync:2 (Output as JSON), the start for the plain form', async () => {
    const base = 'arn:aws:states:::states:startExecution';
    expect((await call(statesStartExecution, `${base}.sync`, params, runtime(child))).Output).toBe('{"ok":true}');
    const v2 = await call(statesStartExecution, `${base}.sync:2`, params, runtime(child));
    expect(v2).toMatchObject({ Status: 'SUCCEEDED', Output: { ok: true }, Input: '{"a":1}', Name: 'c1' });
    expect(await call(statesStartExecution, base, params, runtime(child))).toEqual({
      ExecutionArn: child.executionArn,
      StartDate: 1,
    });
  });

  it('fails .sync with States.TaskFailed when the child fails', async () => {
    const failed: NestedExecution = { ...child, status: 'FAILED', output: undefined, error: 'X', cause: 'y' };
    const err = await call(
      statesStartExecution,
      'arn:aws:states:::states:startExecution.sync',
      params,
      runtime(failed),
    ).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'States.TaskFailed' });
    expect(JSON.parse((err as Error).message)).toMatchObject({ Status: 'FAILED', Error: 'X', Cause: 'y' });
  });
});
