// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text
import * as fs from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { readAslFile, STATE_MACHINES_DIR } from '../../lib/constructs/orchestration/asl-definition.js';
import { aslTasks, fixedPrefix, taskResourceId } from '../../lib/constructs/pipelines/asl-tasks.js';
import {
  TASK_PERMISSIONS,
  type TaskPermissionContext,
  taskGrants,
  tasksByResource,
} from '../../lib/constructs/pipelines/task-permissions.js';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { INTEGRATIONS, integrationFor } from '../../local/integrations/index.js';

const ASL_FILES = fs.readdirSync(STATE_MACHINES_DIR).filter((f) => f.endsWith('.asl.json'));
const tasksOf = (file: string) => aslTasks(readAslFile(file).json, file);

describe('the IAM table keyed by ASL Task resource', () => {
  it('finds the pipelines (at least the three of the platform)', () => {
    expect(ASL_FILES).toEqual(
      expect.arrayContaining(['data-pipeline.asl.json', 'training-pipeline.asl.json', 'batch-scoring.asl.json']),
    );
  });

  it.each(ASL_FILES)('%s: every Task Resource has a table entry', (file) => {
    for (const task of tasksOf(file)) {
      expect(TASK_PERMISSIONS[taskResourceId(task.resource)], `${file} ${task.path} ${task.resource}`).toBeDefined();
    }
  });

  it('every table entry serves a Task of some ASL file (no grant for a call nobody makes)', () => {
    const used = new Set(ASL_FILES.flatMap((f) => tasksOf(f).map((t) => taskResourceId(t.resource))));
    for (const id of Object.keys(TASK_PERMISSIONS)) expect(used.has(id), id).toBe(true);
  });

  it('every table key is the id of a local runtime integration, the one that serves the same Resources', () => {
    const ids = new Set(INTEGRATIONS.map((i) => i.id));
    for (const id of Object.keys(TASK_PERMISSIONS)) expect(ids.has(id), id).toBe(true);
    for (const file of ASL_FILES) {
      for (const task of tasksOf(file)) {
        expect(integrationFor(task.resource)?.id, `${file} ${task.path}`).toBe(taskResourceId(task.resource));
      }
    }
  });
});

describe('aslTasks', () => {
  const definition = {
    StartAt: 'A',
    States: {
      A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${F}' }, Next: 'M' },
      M: {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'B',
          States: { B: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true } },
        },
        Next: 'P',
      },
      P: {
        Type: 'Parallel',
        Branches: [
          {
            StartAt: 'C',
            States: { C: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:getObject', End: true } },
          },
          {
            StartAt: 'I',
            States: {
              I: {
                Type: 'Map',
                Iterator: {
                  StartAt: 'D',
                  States: { D: { Type: 'Task', Resource: 'arn:aws:states:::glue:startJobRun.sync', End: true } },
                },
                End: true,
              },
            },
          },
        ],
        Next: 'Done',
      },
      Done: { Type: 'Succeed' },
    },
  };

  it('returns every Task with its Resource before substitution, inside Map and Parallel states too', () => {
    expect(aslTasks(definition).map((t) => [t.path, t.resource])).toEqual([
      ['A', 'arn:aws:states:::lambda:invoke'],
      ['M/B', 'arn:aws:states:::sns:publish'],
      ['P[0]/C', 'arn:aws:states:::aws-sdk:s3:getObject'],
      ['P[1]/I/D', 'arn:aws:states:::glue:startJobRun.sync'],
    ]);
    expect(aslTasks(definition)[0]?.parameters).toEqual({ FunctionName: '${F}' });
  });

  it('fails naming a Task without a Resource and a Map without states', () => {
    expect(() => aslTasks({ States: { X: { Type: 'Task' } } }, 'f.asl.json')).toThrow(
      /f\.asl\.json: Task X has no Resource/,
    );
    expect(() => aslTasks({ States: { Y: { Type: 'Map' } } }, 'f.asl.json')).toThrow(/Map Y/);
  });

  it('names service integrations as the local runtime does and refuses other Resources', () => {
    expect(taskResourceId('arn:aws:states:::glue:startJobRun.sync')).toBe('glue:startJobRun.sync');
    expect(taskResourceId('arn:aws:states:::aws-sdk:sagemaker:createModelPackage')).toBe(
      'sagemaker:createModelPackage',
    );
    expect(taskResourceId('arn:aws:states:::lambda:invoke')).toBe('lambda:invoke');
    expect(() => taskResourceId('arn:aws:lambda:eu-west-1:111111111111:function:f')).toThrow(/not a Step Functions/);
  });

  it('reads the fixed part of a name: literal or before the first {} of States.Format', () => {
    expect(fixedPrefix({ 'Name.$': "States.Format('clv-score-{}', $$.Execution.Name)" }, 'Name')).toBe('clv-score-');
    expect(fixedPrefix({ 'S.$': "States.Format('${B}/results/{}.csv', $.id)" }, 'S')).toBe('${B}/results/');
    expect(fixedPrefix({ Name: 'fixed' }, 'Name')).toBe('fixed');
    expect(fixedPrefix({ 'Name.$': '$.name' }, 'Name')).toBeUndefined();
  });
});

describe('taskGrants', () => {
  const stack = new Stack(new App(), 'Probe', { env: { account: '111111111111', region: 'eu-west-1' } });
  const fn = (name: string) =>
    lambda.Function.fromFunctionArn(stack, name, `arn:aws:lambda:eu-west-1:111111111111:function:${name}`);
  const ctx: TaskPermissionContext = {
    pipeline: 'probe',
    stack,
    key: kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/k'),
    functions: { GateFunctionArn: fn('gate'), OtherFunctionArn: fn('other') },
    sagemaker: {
      role: iam.Role.fromRoleArn(stack, 'Sm', 'arn:aws:iam::111111111111:role/sm'),
      namePrefixes: { transform: 'clv-score-' },
    },
    alertsTopic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:alerts'),
    buckets: { ArtifactsBucket: s3.Bucket.fromBucketName(stack, 'Artifacts', 'artifacts') },
    athena: {
      workGroupName: 'wg',
      databaseName: 'db',
      resultsBucket: s3.Bucket.fromBucketName(stack, 'Results', 'results'),
      resultsPrefix: 'results/',
      tables: [
        { table: lakeTable('customer_features_offline'), bucket: s3.Bucket.fromBucketName(stack, 'F', 'features') },
      ],
    },
  };
  const task = (name: string, resource: string, parameters: Record<string, unknown>) => ({
    States: { [name]: { Type: 'Task', Resource: resource, Parameters: parameters, End: true } },
  });
  /** Resolved values with Fn::Join flattened and the partition written out, for readable expectations. */
  const flat = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(flat);
    if (typeof value !== 'object' || value === null) return value;
    const o = value as Record<string, unknown>;
    if (o.Ref === 'AWS::Partition') return 'aws';
    if (o['Fn::Join']) {
      const [sep, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flat).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, flat(v)]));
  };
  const json = (definition: Record<string, unknown>) =>
    Object.fromEntries(
      taskGrants(aslTasks(definition), ctx).statements.map((s) => {
        const j = flat(stack.resolve(s.toStatementJson())) as Record<string, unknown> & { Sid: string };
        return [j.Sid, j];
      }),
    );

  it('invokes exactly the functions the file names', () => {
    const statements = json(task('Gate', 'arn:aws:states:::lambda:invoke', { FunctionName: '${GateFunctionArn}' }));
    expect(Object.keys(statements)).toEqual(['Gate']);
    expect(statements.Gate).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Resource: 'arn:aws:lambda:eu-west-1:111111111111:function:gate',
    });
  });

  it('fails on a function the pipeline does not provide, or a function name that is not a placeholder', () => {
    expect(() => json(task('X', 'arn:aws:states:::lambda:invoke', { FunctionName: '${MissingFunctionArn}' }))).toThrow(
      /probe: the file invokes \$\{MissingFunctionArn\}/,
    );
    expect(() => json(task('X', 'arn:aws:states:::lambda:invoke', { 'FunctionName.$': '$.fn' }))).toThrow(
      /Task X: Parameters\.FunctionName must be a \$\{Placeholder\}/,
    );
  });

  it('fails naming the Task when its Resource has no table entry', () => {
    expect(() => json(task('Odd', 'arn:aws:states:::dynamodb:putItem', {}))).toThrow(
      /probe: no permissions for Task Odd \(dynamodb:putItem\)/,
    );
  });

  it('creates SageMaker resources under the pipeline prefix only, and fails when the file names them otherwise', () => {
    const ok = json(
      task('Score', 'arn:aws:states:::sagemaker:createTransformJob.sync', {
        'TransformJobName.$': "States.Format('clv-score-{}', $$.Execution.Name)",
        TransformOutput: { KmsKeyId: '${KmsKeyArn}' },
      }),
    );
    expect(ok.TransformJobs?.Resource).toBe('arn:aws:sagemaker:eu-west-1:111111111111:transform-job/clv-score-*');
    expect(ok.SyncRules?.Resource).toBe(
      'arn:aws:events:eu-west-1:111111111111:rule/StepFunctionsGetEventsForSageMakerTransformJobsRule',
    );
    expect(ok.PassSageMakerRole).toMatchObject({
      Resource: 'arn:aws:iam::111111111111:role/sm',
      Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    });
    expect(ok.PlatformKeyGrants).toMatchObject({
      Action: 'kms:CreateGrant',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
    });
    expect(() =>
      json(
        task('Score', 'arn:aws:states:::sagemaker:createTransformJob.sync', {
          'TransformJobName.$': "States.Format('other-{}', $$.Execution.Name)",
        }),
      ),
    ).toThrow(/Task Score: TransformJobName must start with 'clv-score-'/);
    expect(() => json(task('Model', 'arn:aws:states:::sagemaker:createModel', { ModelName: 'clv-model-x' }))).toThrow(
      /needs sagemaker\.namePrefixes\.model/,
    );
  });

  it('puts events on the default bus with the sources and detail types of the file only', () => {
    const statements = json(
      task('Announce', 'arn:aws:states:::events:putEvents', {
        Entries: [{ Source: 'clv.platform', DetailType: 'ScoringCompleted', Detail: {} }],
      }),
    );
    expect(statements.Events).toMatchObject({
      Action: 'events:PutEvents',
      Resource: 'arn:aws:events:eu-west-1:111111111111:event-bus/default',
      Condition: { StringEquals: { 'events:source': ['clv.platform'], 'events:detail-type': ['ScoringCompleted'] } },
    });
    expect(() =>
      json(
        task('Announce', 'arn:aws:states:::events:putEvents', {
          Entries: [{ Source: 'clv.platform', DetailType: 'X', EventBusName: 'other' }],
        }),
      ),
    ).toThrow(/a bus other than the default one/);
  });

  it('reads objects under the fixed folder of the key only', () => {
    const statements = json(
      task('ReadSummary', 'arn:aws:states:::aws-sdk:s3:getObject', {
        Bucket: '${ArtifactsBucket}',
        'Key.$': "States.Format('scoring/{}/summary.json', $$.Execution.Name)",
      }),
    );
    expect(statements.ReadSummaryObject).toMatchObject({
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::artifacts/scoring/*',
    });
    expect(() =>
      json(
        task('ReadAny', 'arn:aws:states:::aws-sdk:s3:getObject', { Bucket: '${ArtifactsBucket}', 'Key.$': '$.key' }),
      ),
    ).toThrow(/Task ReadAny: the key must start with a fixed folder/);
  });

  it('merges the statements several entries share (one PlatformKey, one PassSageMakerRole)', () => {
    const definition = {
      States: {
        Q: {
          Type: 'Task',
          Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
          Parameters: { WorkGroup: '${AthenaWorkGroup}' },
          Next: 'N',
        },
        N: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sns:publish',
          Parameters: { TopicArn: '${AlertsTopicArn}' },
          End: true,
        },
      },
    };
    const { statements } = taskGrants(aslTasks(definition), ctx);
    const sids = statements.map((s) => s.sid);
    expect(new Set(sids).size).toBe(sids.length);
    expect(tasksByResource(aslTasks(definition)).size).toBe(2);
    const key = json(definition).PlatformKey as unknown as { Action: string[] };
    expect([...key.Action].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('registers partitions of named lake tables in ${GlueDatabase} only', () => {
    const withCatalog = { ...ctx, catalog: { databaseName: 'db' } };
    const register = (parameters: Record<string, unknown>) =>
      taskGrants(
        aslTasks(task('Register', 'arn:aws:states:::aws-sdk:glue:batchCreatePartition', parameters)),
        withCatalog,
      ).statements.map((s) => flat(stack.resolve(s.toStatementJson())));
    expect(register({ DatabaseName: '${GlueDatabase}', TableName: 'predictions' })).toEqual([
      expect.objectContaining({
        Sid: 'RegisterPartitions',
        Resource: [
          'arn:aws:glue:eu-west-1:111111111111:catalog',
          'arn:aws:glue:eu-west-1:111111111111:database/db',
          'arn:aws:glue:eu-west-1:111111111111:table/db/predictions',
        ],
      }),
    ]);
    expect(() => register({ DatabaseName: '${OtherDatabase}', TableName: 'predictions' })).toThrow(
      /a database other than \$\{GlueDatabase\}/,
    );
    expect(() => register({ DatabaseName: '${GlueDatabase}', 'TableName.$': '$.table' })).toThrow(
      /TableName must be a literal lake table name/,
    );
    expect(() => register({ DatabaseName: '${GlueDatabase}', TableName: 'predictions' }).length).not.toThrow();
    expect(() =>
      taskGrants(aslTasks(task('Register', 'arn:aws:states:::aws-sdk:glue:batchCreatePartition', {})), ctx),
    ).toThrow(/needs catalog in the pipeline context/);
  });

  it('publishes to the alerts topic only', () => {
    expect(() => json(task('N', 'arn:aws:states:::sns:publish', { TopicArn: '${OtherTopicArn}' }))).toThrow(
      /publishes to a topic other than \$\{AlertsTopicArn\}/,
    );
  });
});
