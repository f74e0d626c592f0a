/**
 * What a state machine's role may do, keyed by the Task Resource of the ASL file: one entry per service integration
 * the platform's ASL files use, named by the local runtime's integration id (`local/integrations/*.ts` `id`). A
 * pipeline construct walks the Task states of its file (asl-tasks.ts) and takes the entries of the Resources it
 * finds, so the role grants what the file calls and nothing else. See docs/decisions/0006-pipeline-constructs.md.
 */
import type { IResolvable, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { type LakeTable, lakeTable } from '../../contracts/lake-tables.js';
import { acknowledgeNag } from '../security/acknowledge.js';
import { nagResource } from '../security/s3-prefix-access.js';
import { type AslTask, fixedPrefix, placeholderName, taskResourceId } from './asl-tasks.js';

/** Kinds of SageMaker resources the pipelines name at run time (job, model). */
export type SageMakerNameKind = 'training' | 'tuning' | 'processing' | 'transform' | 'model';

/** What the Tasks of one pipeline act on: the entries read the parts their Tasks need and fail when one is absent. */
export interface TaskPermissionContext {
  /** Pipeline name (file name without .asl.json), for error messages. */
  readonly pipeline: string;
  /** The stack of the state machine (ARNs are formatted for its account and region). */
  readonly stack: Stack;
  /** The platform key: lake objects, Athena results, the alerts topic and SageMaker outputs are encrypted with it. */
  readonly key: kms.IKey;
  /** Lambda functions by the placeholder of their ARN in the file, e.g. `ValidateInputFunctionArn`. */
  readonly functions?: Readonly<Record<string, lambda.IFunction>>;
  /** Glue job names by their placeholder, e.g. `IngestTransactionsJobName`. */
  readonly glueJobs?: Readonly<Record<string, string>>;
  /** Athena: the workgroup, catalog, results location and the lake tables the queries read. */
  readonly athena?: {
    readonly workGroupName: string;
    readonly databaseName: string;
    readonly resultsBucket: s3.IBucket;
    /** Key prefix of the results (ends in "/"). */
    readonly resultsPrefix: string;
    readonly tables: readonly { readonly table: LakeTable; readonly bucket: s3.IBucket }[];
  };
  /** SageMaker: the execution role passed to jobs and models, and the name prefix of each kind the file creates. */
  readonly sagemaker?: {
    readonly role: iam.IRole;
    readonly namePrefixes: Readonly<Partial<Record<SageMakerNameKind, string>>>;
  };
  /** The Glue catalog database of `${GlueDatabase}` (for catalog Tasks that register partitions). */
  readonly catalog?: { readonly databaseName: string };
  /** The Model Registry group the file registers model versions in. */
  readonly modelPackageGroupName?: string;
  /** The topic of `${AlertsTopicArn}`. */
  readonly alertsTopic?: sns.ITopic;
  /**
   * State machines the file starts (states:startExecution), by the placeholder of their ARN, e.g.
   * `TrainingPipelineStateMachineArn`: ARNs formatted from the deterministic names (clv-<env>-<pipeline>), so two
   * pipelines may start each other without a construct-order dependency.
   */
  readonly stateMachines?: Readonly<Record<string, string>>;
  /** Buckets by the placeholder of their name, e.g. `ArtifactsBucket` (for s3:getObject Tasks). */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
}

/** An IAM statement before statements of the same Sid are merged. */
export interface GrantStatement {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/** A resource wildcard granted on purpose, and why (the cdk-nag AwsSolutions-IAM5 acknowledgement). */
export interface GrantAcknowledgement {
  readonly resource: string;
  readonly reason: string;
}

/** What one table entry grants for the Tasks of its Resource. */
export interface TaskGrant {
  readonly statements: GrantStatement[];
  readonly acknowledgements: GrantAcknowledgement[];
}

/** A table entry: the grant for every Task of one Resource in one ASL file. */
export type TaskPermission = (tasks: readonly AslTask[], ctx: TaskPermissionContext) => TaskGrant;

function need<T>(value: T | undefined, ctx: TaskPermissionContext, tasks: readonly AslTask[], what: string): T {
  if (value === undefined) {
    const names = tasks.map((t) => t.path).join(', ');
    throw new Error(`${ctx.pipeline}: Task ${names} (${tasks[0]?.resource}) needs ${what} in the pipeline context`);
  }
  return value;
}

function placeholderOf(task: AslTask, key: string, ctx: TaskPermissionContext): string {
  const name = placeholderName(task.parameters[key]);
  if (name === undefined) {
    throw new Error(
      `${ctx.pipeline}: Task ${task.path}: Parameters.${key} must be a \${Placeholder} (the role is scoped to what it names), got ${JSON.stringify(task.parameters[key])}`,
    );
  }
  return name;
}

/** Whether the Task passes the platform key (its `KmsKeyArn` placeholder) to the service. */
const usesKey = (task: AslTask) => /\$\{KmsKeyArn\}/.test(JSON.stringify(task.parameters));

const arn = (ctx: TaskPermissionContext, service: string, resource: string, resourceName?: string) =>
  ctx.stack.formatArn({ service, resource, resourceName });

const platformKey = (ctx: TaskPermissionContext, actions: string[]): GrantStatement => ({
  sid: 'PlatformKey',
  actions,
  resources: [ctx.key.keyArn],
});

/** The SageMaker execution role, passed to SageMaker only. */
const passSageMakerRole = (role: iam.IRole): GrantStatement => ({
  sid: 'PassSageMakerRole',
  actions: ['iam:PassRole'],
  resources: [role.roleArn],
  conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
});

/** The Step Functions-managed EventBridge rule a SageMaker `.sync` integration watches its job through. */
const syncRule = (ctx: TaskPermissionContext, jobs: string): GrantStatement => ({
  sid: 'SyncRules',
  actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
  resources: [arn(ctx, 'events', 'rule', `StepFunctionsGetEventsForSageMaker${jobs}Rule`)],
});

/** SageMaker jobs and models are created with the platform key on their outputs and volumes: SageMaker needs a grant. */
const keyGrants = (ctx: TaskPermissionContext): GrantStatement => ({
  sid: 'PlatformKeyGrants',
  actions: ['kms:CreateGrant'],
  resources: [ctx.key.keyArn],
  conditions: { Bool: { 'kms:GrantIsForAWSResource': true } },
});

interface SageMakerKind {
  readonly kind: SageMakerNameKind;
  /** The Parameters key holding the name. */
  readonly nameKey: string;
  /** The resource type in the ARN. */
  readonly resourceType: string;
  readonly sid: string;
  readonly actions: string[];
  /** The managed rule of the `.sync` integration (TrainingJobs → StepFunctionsGetEventsForSageMakerTrainingJobsRule). */
  readonly syncRule?: string;
}

/** A SageMaker Task: the named resources under the pipeline's name prefix, the role passed, the managed rule. */
function sagemakerEntry(k: SageMakerKind): TaskPermission {
  return (tasks, ctx) => {
    const sagemaker = need(ctx.sagemaker, ctx, tasks, 'sagemaker (execution role and name prefixes)');
    const prefix = need(sagemaker.namePrefixes[k.kind], ctx, tasks, `sagemaker.namePrefixes.${k.kind}`);
    for (const task of tasks) {
      const fixed = fixedPrefix(task.parameters, k.nameKey);
      if (fixed === undefined || !fixed.startsWith(prefix)) {
        throw new Error(
          `${ctx.pipeline}: Task ${task.path}: ${k.nameKey} must start with '${prefix}' (the role may create ${k.resourceType} resources named ${prefix}* only), got ${JSON.stringify(task.parameters[k.nameKey] ?? task.parameters[`${k.nameKey}.$`])}`,
        );
      }
    }
    const named = arn(ctx, 'sagemaker', k.resourceType, `${prefix}*`);
    const statements: GrantStatement[] = [
      { sid: k.sid, actions: k.actions, resources: [named] },
      passSageMakerRole(sagemaker.role),
    ];
    if (k.syncRule) statements.push(syncRule(ctx, k.syncRule));
    if (tasks.some(usesKey)) statements.push(keyGrants(ctx));
    return {
      statements,
      acknowledgements: [
        {
          resource: named,
          reason: `Named at run time: ${k.resourceType} names are ${prefix}<execution name>; the grant is limited to that name prefix.`,
        },
      ],
    };
  };
}

/** Objects under a key prefix of a bucket, as a grant plus its acknowledgement. */
function prefixGrant(sid: string, actions: string[], bucket: s3.IBucket, prefix: string, why: string): TaskGrant {
  const resource = bucket.arnForObjects(`${prefix}*`);
  return {
    statements: [{ sid, actions, resources: [resource] }],
    acknowledgements: [{ resource, reason: `Objects under ${prefix}: ${why}; the grant is limited to that prefix.` }],
  };
}

const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

const namedByPipeline = (folder: string) =>
  `the pipeline names the objects under ${folder} per execution (execution name, query execution id)`;

/**
 * The bucket (a `${Placeholder}` the context provides) and fixed folder (up to the last "/" of the fixed part of the
 * key) an S3 Task reads or writes.
 */
function s3Location(
  task: AslTask,
  ctx: TaskPermissionContext,
  bucketValue: unknown,
  fixedKey: string | undefined,
): { bucket: s3.IBucket; folder: string } {
  const name = placeholderName(bucketValue);
  const bucket = name === undefined ? undefined : ctx.buckets?.[name];
  if (bucket === undefined) {
    throw new Error(
      `${ctx.pipeline}: Task ${task.path}: the bucket must be a \${Placeholder} the pipeline provides in buckets, got ${JSON.stringify(bucketValue)}`,
    );
  }
  const key = fixedKey ?? '';
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  if (folder.length === 0) {
    throw new Error(`${ctx.pipeline}: Task ${task.path}: the key must start with a fixed folder (e.g. 'scoring/')`);
  }
  return { bucket, folder };
}

const join = (...grants: TaskGrant[]): TaskGrant => ({
  statements: grants.flatMap((g) => g.statements),
  acknowledgements: grants.flatMap((g) => g.acknowledgements),
});

/**
 * The table: integration id → the grant for the Tasks of that Resource. Every key serves at least one Task of
 * `state-machines/*.asl.json` and is the id of a local runtime stand-in (test/constructs/task-permissions.test.ts).
 */
export const TASK_PERMISSIONS: Readonly<Record<string, TaskPermission>> = {
  'lambda:invoke': (tasks, ctx) => {
    const functions = need(ctx.functions, ctx, tasks, 'functions');
    const names = [...new Set(tasks.map((t) => placeholderOf(t, 'FunctionName', ctx)))];
    return {
      statements: names.map((name) => {
        const fn = functions[name];
        if (fn === undefined) {
          throw new Error(`${ctx.pipeline}: the file invokes \${${name}}, which the pipeline does not provide`);
        }
        return {
          sid: name.replace(/FunctionArn$/, ''),
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
        };
      }),
      acknowledgements: [],
    };
  },

  // The callback pattern (campaign experiment): the function is invoked once, as with lambda:invoke, and the Task
  // waits for its token. Resuming it is not the state machine's role's business: whoever reports the task needs
  // states:SendTaskSuccess/SendTaskFailure on the state machine (the campaign-completer managed policy).
  'lambda:invoke.waitForTaskToken': (tasks, ctx) => (TASK_PERMISSIONS['lambda:invoke'] as TaskPermission)(tasks, ctx),

  'glue:startJobRun.sync': (tasks, ctx) => {
    const jobs = need(ctx.glueJobs, ctx, tasks, 'glueJobs');
    const names = [...new Set(tasks.map((t) => placeholderOf(t, 'JobName', ctx)))].sort();
    return {
      statements: [
        {
          sid: 'GlueJobs',
          actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
          resources: names.map((name) => {
            const job = jobs[name];
            if (job === undefined) {
              throw new Error(
                `${ctx.pipeline}: the file runs the Glue job \${${name}}, which the pipeline does not provide`,
              );
            }
            return arn(ctx, 'glue', 'job', job);
          }),
        },
      ],
      acknowledgements: [],
    };
  },

  'athena:startQueryExecution.sync': (tasks, ctx) => {
    const athena = need(ctx.athena, ctx, tasks, 'athena');
    const db = athena.databaseName;
    const query: GrantStatement[] = [
      {
        sid: 'AthenaQuery',
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:StopQueryExecution',
          'athena:GetWorkGroup',
        ],
        resources: [arn(ctx, 'athena', 'workgroup', athena.workGroupName)],
      },
      {
        sid: 'AthenaCatalog',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          arn(ctx, 'glue', 'catalog'),
          arn(ctx, 'glue', 'database', db),
          ...athena.tables.map(({ table }) => arn(ctx, 'glue', 'table', `${db}/${table.name}`)),
        ],
      },
      {
        sid: 'AthenaBuckets',
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: [...athena.tables.map(({ bucket }) => bucket.bucketArn), athena.resultsBucket.bucketArn],
      },
      platformKey(ctx, ['kms:Decrypt', 'kms:GenerateDataKey']),
    ];
    return join(
      { statements: query, acknowledgements: [] },
      prefixGrant(
        'AthenaResults',
        ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        athena.resultsBucket,
        athena.resultsPrefix,
        'Athena names result objects after the query execution id',
      ),
      ...athena.tables.map(({ table, bucket }) =>
        prefixGrant(
          `AthenaReads${pascal(table.name)}`,
          ['s3:GetObject'],
          bucket,
          `${table.prefix}/`,
          `the queries read the ${table.name} files their writer named (partitions, part files)`,
        ),
      ),
    );
  },

  'athena:getQueryResults': (tasks, ctx) => {
    const athena = need(ctx.athena, ctx, tasks, 'athena');
    return join(
      {
        statements: [
          {
            sid: 'AthenaQueryResults',
            actions: ['athena:GetQueryResults'],
            resources: [arn(ctx, 'athena', 'workgroup', athena.workGroupName)],
          },
          platformKey(ctx, ['kms:Decrypt']),
        ],
        acknowledgements: [],
      },
      prefixGrant(
        'AthenaResultsRead',
        ['s3:GetObject'],
        athena.resultsBucket,
        athena.resultsPrefix,
        'Athena names result objects after the query execution id',
      ),
    );
  },

  'states:startExecution': (tasks, ctx) => {
    const machines = need(ctx.stateMachines, ctx, tasks, 'stateMachines');
    const arns = tasks.map((task) => {
      if (task.resource !== 'arn:aws:states:::states:startExecution') {
        throw new Error(
          `${ctx.pipeline}: Task ${task.path}: only the asynchronous states:startExecution is granted (a .sync start also needs DescribeExecution, StopExecution and the managed rule); got ${task.resource}`,
        );
      }
      const name = placeholderOf(task, 'StateMachineArn', ctx);
      const target = machines[name];
      if (target === undefined) {
        throw new Error(
          `${ctx.pipeline}: Task ${task.path} starts \${${name}}, which is not in the stateMachines context`,
        );
      }
      return target;
    });
    return {
      statements: [{ sid: 'StartPipelines', actions: ['states:StartExecution'], resources: [...new Set(arns)] }],
      acknowledgements: [],
    };
  },

  'glue:batchCreatePartition': (tasks, ctx) => {
    const { databaseName } = need(ctx.catalog, ctx, tasks, 'catalog');
    const tables = [
      ...new Set(
        tasks.map((task) => {
          if (placeholderOf(task, 'DatabaseName', ctx) !== 'GlueDatabase') {
            throw new Error(`${ctx.pipeline}: Task ${task.path} writes to a database other than \${GlueDatabase}`);
          }
          const table = task.parameters.TableName;
          if (typeof table !== 'string') {
            throw new Error(`${ctx.pipeline}: Task ${task.path}: TableName must be a literal lake table name`);
          }
          return lakeTable(table).name;
        }),
      ),
    ].sort();
    return {
      statements: [
        {
          sid: 'RegisterPartitions',
          actions: ['glue:BatchCreatePartition'],
          resources: [
            arn(ctx, 'glue', 'catalog'),
            arn(ctx, 'glue', 'database', databaseName),
            ...tables.map((t) => arn(ctx, 'glue', 'table', `${databaseName}/${t}`)),
          ],
        },
      ],
      acknowledgements: [],
    };
  },

  'sagemaker:createTrainingJob.sync': sagemakerEntry({
    kind: 'training',
    nameKey: 'TrainingJobName',
    resourceType: 'training-job',
    sid: 'TrainingJobs',
    actions: [
      'sagemaker:CreateTrainingJob',
      'sagemaker:DescribeTrainingJob',
      'sagemaker:StopTrainingJob',
      'sagemaker:ListTags',
    ],
    syncRule: 'TrainingJobs',
  }),

  'sagemaker:createHyperParameterTuningJob.sync': sagemakerEntry({
    kind: 'tuning',
    nameKey: 'HyperParameterTuningJobName',
    resourceType: 'hyper-parameter-tuning-job',
    sid: 'TuningJobs',
    actions: [
      'sagemaker:CreateHyperParameterTuningJob',
      'sagemaker:DescribeHyperParameterTuningJob',
      'sagemaker:StopHyperParameterTuningJob',
      'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
      'sagemaker:ListTags',
    ],
    syncRule: 'TuningJobs',
  }),

  'sagemaker:createProcessingJob.sync': sagemakerEntry({
    kind: 'processing',
    nameKey: 'ProcessingJobName',
    resourceType: 'processing-job',
    sid: 'ProcessingJobs',
    actions: [
      'sagemaker:CreateProcessingJob',
      'sagemaker:DescribeProcessingJob',
      'sagemaker:StopProcessingJob',
      'sagemaker:ListTags',
    ],
    syncRule: 'ProcessingJobs',
  }),

  'sagemaker:createTransformJob.sync': sagemakerEntry({
    kind: 'transform',
    nameKey: 'TransformJobName',
    resourceType: 'transform-job',
    sid: 'TransformJobs',
    actions: [
      'sagemaker:CreateTransformJob',
      'sagemaker:DescribeTransformJob',
      'sagemaker:StopTransformJob',
      'sagemaker:ListTags',
    ],
    syncRule: 'TransformJobs',
  }),

  'sagemaker:createModel': sagemakerEntry({
    kind: 'model',
    nameKey: 'ModelName',
    resourceType: 'model',
    sid: 'Models',
    actions: ['sagemaker:CreateModel'],
  }),

  'sagemaker:createModelPackage': (tasks, ctx) => {
    const group = need(ctx.modelPackageGroupName, ctx, tasks, 'modelPackageGroupName');
    for (const task of tasks) {
      if (placeholderOf(task, 'ModelPackageGroupName', ctx) !== 'ModelPackageGroupName') {
        throw new Error(`${ctx.pipeline}: Task ${task.path} registers in a group other than \${ModelPackageGroupName}`);
      }
    }
    const packages = arn(ctx, 'sagemaker', 'model-package', `${group}/*`);
    return {
      statements: [
        {
          sid: 'RegisterModel',
          actions: ['sagemaker:CreateModelPackage'],
          resources: [arn(ctx, 'sagemaker', 'model-package-group', group), packages],
        },
      ],
      acknowledgements: [
        {
          resource: packages,
          reason: 'Named at run time: Model Registry numbers the versions of the group; the grant is that group only.',
        },
      ],
    };
  },

  'sns:publish': (tasks, ctx) => {
    const topic = need(ctx.alertsTopic, ctx, tasks, 'alertsTopic');
    for (const task of tasks) {
      if (placeholderOf(task, 'TopicArn', ctx) !== 'AlertsTopicArn') {
        throw new Error(`${ctx.pipeline}: Task ${task.path} publishes to a topic other than \${AlertsTopicArn}`);
      }
    }
    return {
      // The alerts topic is encrypted with the platform key: publishing needs its data keys.
      statements: [
        { sid: 'Alerts', actions: ['sns:Publish'], resources: [topic.topicArn] },
        platformKey(ctx, ['kms:Decrypt', 'kms:GenerateDataKey']),
      ],
      acknowledgements: [],
    };
  },

  'events:putEvents': (tasks, ctx) => {
    const sources = new Set<string>();
    const detailTypes = new Set<string>();
    for (const task of tasks) {
      const entries = task.parameters.Entries;
      if (!Array.isArray(entries) || entries.length === 0) {
        throw new Error(`${ctx.pipeline}: Task ${task.path}: Parameters.Entries must be a non-empty array`);
      }
      for (const entry of entries as Record<string, unknown>[]) {
        if (entry.EventBusName !== undefined) {
          throw new Error(`${ctx.pipeline}: Task ${task.path} puts events on a bus other than the default one`);
        }
        if (typeof entry.Source !== 'string' || typeof entry.DetailType !== 'string') {
          throw new Error(`${ctx.pipeline}: Task ${task.path}: every entry needs a literal Source and DetailType`);
        }
        sources.add(entry.Source);
        detailTypes.add(entry.DetailType);
      }
    }
    return {
      statements: [
        {
          sid: 'Events',
          actions: ['events:PutEvents'],
          resources: [arn(ctx, 'events', 'event-bus', 'default')],
          conditions: {
            StringEquals: { 'events:source': [...sources].sort(), 'events:detail-type': [...detailTypes].sort() },
          },
        },
      ],
      acknowledgements: [],
    };
  },

  's3:getObject': (tasks, ctx) =>
    join(
      ...tasks.map((task) => {
        const { bucket, folder } = s3Location(task, ctx, task.parameters.Bucket, fixedPrefix(task.parameters, 'Key'));
        return prefixGrant(
          `${pascal(task.stateName)}Object`,
          ['s3:GetObject'],
          bucket,
          folder,
          namedByPipeline(folder),
        );
      }),
      { statements: [platformKey(ctx, ['kms:Decrypt'])], acknowledgements: [] },
    ),

  'sagemaker:updateModelPackage': (tasks, ctx) => {
    const group = need(ctx.modelPackageGroupName, ctx, tasks, 'modelPackageGroupName');
    const packages = arn(ctx, 'sagemaker', 'model-package', `${group}/*`);
    return {
      statements: [{ sid: 'UpdateModelPackages', actions: ['sagemaker:UpdateModelPackage'], resources: [packages] }],
      acknowledgements: [
        {
          resource: packages,
          reason:
            'Named at run time: the stage, evidence and approval of the versions of the group (shadow, promotion); the grant is that group only.',
        },
      ],
    };
  },

  's3:putObject': (tasks, ctx) =>
    join(
      ...tasks.map((task) => {
        const { bucket, folder } = s3Location(task, ctx, task.parameters.Bucket, fixedPrefix(task.parameters, 'Key'));
        return prefixGrant(
          `${pascal(task.stateName)}Object`,
          ['s3:PutObject'],
          bucket,
          folder,
          namedByPipeline(folder),
        );
      }),
      { statements: [platformKey(ctx, ['kms:Decrypt', 'kms:GenerateDataKey'])], acknowledgements: [] },
    ),

  's3:copyObject': (tasks, ctx) =>
    join(
      ...tasks.flatMap((task) => {
        const source = /^(\$\{[A-Za-z][A-Za-z0-9_]*\})\/(.*)$/.exec(fixedPrefix(task.parameters, 'CopySource') ?? '');
        if (!source) {
          throw new Error(
            `${ctx.pipeline}: Task ${task.path}: CopySource must start with \${Bucket}/<fixed folder>/, got ${JSON.stringify(task.parameters.CopySource ?? task.parameters['CopySource.$'])}`,
          );
        }
        const from = s3Location(task, ctx, source[1], source[2]);
        const to = s3Location(task, ctx, task.parameters.Bucket, fixedPrefix(task.parameters, 'Key'));
        const name = pascal(task.stateName);
        return [
          prefixGrant(`${name}From`, ['s3:GetObject'], from.bucket, from.folder, namedByPipeline(from.folder)),
          prefixGrant(`${name}To`, ['s3:PutObject'], to.bucket, to.folder, namedByPipeline(to.folder)),
        ];
      }),
      { statements: [platformKey(ctx, ['kms:Decrypt', 'kms:GenerateDataKey'])], acknowledgements: [] },
    ),
};

/** The Tasks of a file grouped by integration id, in file order. */
export function tasksByResource(tasks: readonly AslTask[]): Map<string, AslTask[]> {
  const grouped = new Map<string, AslTask[]>();
  for (const task of tasks) {
    const id = taskResourceId(task.resource);
    grouped.set(id, [...(grouped.get(id) ?? []), task]);
  }
  return grouped;
}

type Resolvable = string | IResolvable;

/**
 * The statements and acknowledgements of a file's Tasks: the table entries of the Resources found, with statements
 * of one Sid merged (actions and resources united; their conditions must agree). Fails naming the Task when a
 * Resource has no entry.
 */
export function taskGrants(
  tasks: readonly AslTask[],
  ctx: TaskPermissionContext,
): { statements: iam.PolicyStatement[]; acknowledgements: GrantAcknowledgement[] } {
  const grants: TaskGrant[] = [];
  for (const [id, group] of tasksByResource(tasks)) {
    const entry = TASK_PERMISSIONS[id];
    if (entry === undefined) {
      throw new Error(
        `${ctx.pipeline}: no permissions for Task ${group.map((t) => t.path).join(', ')} (${id}): add an entry to TASK_PERMISSIONS in lib/constructs/pipelines/task-permissions.ts`,
      );
    }
    grants.push(entry(group, ctx));
  }
  const key = (value: Resolvable) => JSON.stringify(ctx.stack.resolve(value));
  const merged = new Map<string, { actions: Set<string>; resources: Map<string, string>; conditions?: unknown }>();
  for (const s of grants.flatMap((g) => g.statements)) {
    const existing = merged.get(s.sid);
    if (existing && JSON.stringify(existing.conditions) !== JSON.stringify(s.conditions)) {
      throw new Error(`${ctx.pipeline}: statements ${s.sid} have different conditions and cannot be merged`);
    }
    const target = existing ?? {
      actions: new Set<string>(),
      resources: new Map<string, string>(),
      conditions: s.conditions,
    };
    for (const a of s.actions) target.actions.add(a);
    for (const r of s.resources) target.resources.set(key(r), r);
    merged.set(s.sid, target);
  }
  const statements = [...merged.entries()].map(
    ([sid, s]) =>
      new iam.PolicyStatement({
        sid,
        actions: [...s.actions],
        resources: [...s.resources.values()],
        conditions: s.conditions as Record<string, unknown> | undefined,
      }),
  );
  const acks = new Map<string, GrantAcknowledgement>();
  for (const a of grants.flatMap((g) => g.acknowledgements)) acks.set(key(a.resource), a);
  return { statements, acknowledgements: [...acks.values()] };
}

/** Acknowledges each wildcard of the grants on the role that carries them (cdk-nag AwsSolutions-IAM5). */
export function acknowledgeGrants(role: IConstruct, acknowledgements: readonly GrantAcknowledgement[]): void {
  for (const a of acknowledgements) {
    acknowledgeNag(role, `AwsSolutions-IAM5[Resource::${nagResource(role, a.resource)}]`, a.reason);
  }
}
