/**
 * What every pipeline construct is made of: its ValidateInput Lambda (the first Task of every ASL file), its state
 * machine with the role the file's Tasks need (task-permissions.ts), and its schedule.
 */
import { ArnFormat, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import { type EventRuleContext, PIPELINE_EVENT_RULES } from '../../contracts/event-rules.js';
import { lakeTable } from '../../contracts/lake-tables.js';
import { type PipelineName, type PipelineSettings, pipelineSettingsSchemas } from '../../contracts/pipeline-inputs.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';
import { TeamFunction } from '../compute/team-function.js';
import { readAslFile } from '../orchestration/asl-definition.js';
import { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { acknowledgeNag } from '../security/acknowledge.js';
import { aslTasks } from './asl-tasks.js';
import { ATHENA_RESULTS_PREFIX } from './prefixes.js';
import { acknowledgeGrants, type TaskPermissionContext, taskGrants } from './task-permissions.js';

/** Environment variable carrying the pipeline settings (JSON) to the ValidateInput Lambda. */
export const PIPELINE_SETTINGS_ENV = 'CLV_PIPELINE_SETTINGS';

/**
 * The pipeline's own ValidateInput Lambda (lambdas/validate-input/handler.ts) with its settings in
 * `CLV_PIPELINE_SETTINGS`. The settings are checked against the contract's schema at synth, so a config the Lambda
 * would refuse never deploys.
 */
export function validateInputFunction<P extends PipelineName>(
  scope: Construct,
  pipeline: P,
  settings: PipelineSettings[P],
  config: EnvironmentConfig,
  key: kms.IKey,
): TeamFunction {
  const parsed = pipelineSettingsSchemas[pipeline].safeParse(settings);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${pipeline}: the environment config gives invalid ValidateInput settings: ${issues}`);
  }
  const fn = new TeamFunction(scope, 'ValidateInput', {
    entry: 'lambdas/validate-input/handler.ts',
    serviceName: 'validate-input',
    environmentName: config.name,
    logRetentionDays: config.logRetentionDays,
    encryptionKey: key,
    memorySize: 256,
    timeout: Duration.seconds(10),
    environment: { [PIPELINE_SETTINGS_ENV]: JSON.stringify(parsed.data) },
  });
  // Its environment (the settings) is encrypted with the platform key; the function reads nothing else.
  fn.addToRolePolicy(
    new iam.PolicyStatement({ sid: 'EnvironmentKey', actions: ['kms:Decrypt'], resources: [key.keyArn] }),
  );
  return fn;
}

/** Properties of {@link pipelineStateMachine}. */
export interface PipelineStateMachineOptions {
  readonly pipeline: PipelineName;
  readonly config: EnvironmentConfig;
  readonly key: kms.IKey;
  readonly timeoutMinutes: number;
  readonly substitutions: Record<string, string>;
  /** What the Tasks act on (everything but pipeline, stack and key). */
  readonly context: Omit<TaskPermissionContext, 'pipeline' | 'stack' | 'key'>;
}

/**
 * The state machine of `state-machines/<pipeline>.asl.json` (construct id `Default`, so its logical ids are the
 * pipeline construct's), whose role holds exactly the table entries of the Task Resources the file uses.
 */
export function pipelineStateMachine(scope: Construct, stack: Stack, o: PipelineStateMachineOptions): AslStateMachine {
  const definitionFile = `${o.pipeline}.asl.json`;
  const { json } = readAslFile(definitionFile);
  const grants = taskGrants(aslTasks(json, `state-machines/${definitionFile}`), {
    ...o.context,
    pipeline: o.pipeline,
    stack,
    key: o.key,
  });
  const machine = new AslStateMachine(scope, 'Default', {
    definitionFile,
    stateMachineName: o.pipeline,
    environmentName: o.config.name,
    timeout: Duration.minutes(o.timeoutMinutes),
    logRetentionDays: o.config.logRetentionDays,
    encryptionKey: o.key,
    policyStatements: grants.statements,
    definitionSubstitutions: o.substitutions,
  });
  acknowledgeGrants(machine.role, grants.acknowledgements);
  return machine;
}

/** Properties of {@link pipelineSchedule}. */
export interface PipelineScheduleOptions {
  readonly scheduleName: string;
  readonly description: string;
  readonly cron: string;
  readonly enabled: boolean;
}

/** An EventBridge Scheduler schedule (UTC) starting the state machine with `{"scheduledTime": "<ISO-8601>"}` only. */
export function pipelineSchedule(
  scope: Construct,
  machine: AslStateMachine,
  o: PipelineScheduleOptions,
): scheduler.Schedule {
  return new scheduler.Schedule(scope, 'Schedule', {
    scheduleName: o.scheduleName,
    description: o.description,
    schedule: scheduler.ScheduleExpression.expression(o.cron, TimeZone.ETC_UTC),
    enabled: o.enabled,
    target: new targets.StepFunctionsStartExecution(machine.stateMachine, {
      input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
      retryAttempts: 2,
    }),
  });
}

/** Properties of {@link pipelineEventRules}. */
export interface PipelineEventRulesOptions {
  readonly pipeline: PipelineName;
  readonly environmentName: string;
  readonly context: EventRuleContext;
  /** Topic of the "events not delivered" alarm. */
  readonly alertsTopic: sns.ITopic;
  readonly enabled: boolean;
}

/**
 * The EventBridge rules of lib/contracts/event-rules.ts that start this pipeline (the local event bus runs the same
 * table), each passing the whole event to the state machine, retried for 24 h, with a dead-letter queue whose
 * depth alarms to the alerts topic: an event that cannot start the pipeline is kept, not lost. Returns the rules
 * (none when the table has no rule for the pipeline).
 */
export function pipelineEventRules(
  scope: Construct,
  machine: AslStateMachine,
  o: PipelineEventRulesOptions,
): events.Rule[] {
  const rules = PIPELINE_EVENT_RULES.filter((r) => r.target === o.pipeline);
  if (rules.length === 0) return [];
  const parent = new Construct(scope, 'EventRules');
  const dlq = new sqs.Queue(parent, 'DeadLetters', {
    queueName: `clv-${o.environmentName}-${o.pipeline}-event-dlq`,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledgeNag(
    dlq,
    'AwsSolutions-SQS3',
    'This queue is the dead-letter queue of the EventBridge rule targets (events that could not start the pipeline); its depth alarms.',
  );
  new cloudwatch.Alarm(parent, 'DeadLettersAlarm', {
    alarmName: `clv-${o.environmentName}-${o.pipeline}-events-not-delivered`,
    alarmDescription: `Events that should have started ${o.pipeline} are in ${dlq.queueName} (runbook: docs/runbooks/dlq-not-empty.md)`,
    metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  }).addAlarmAction(new cloudwatchActions.SnsAction(o.alertsTopic));
  return rules.map((rule) => {
    const p = rule.pattern(o.context);
    return new events.Rule(parent, rule.name, {
      ruleName: `clv-${o.environmentName}-${rule.name}`,
      description: rule.description,
      enabled: o.enabled,
      eventPattern: {
        source: [...p.source],
        detailType: [...p['detail-type']],
        ...(p.detail ? { detail: Object.fromEntries(Object.entries(p.detail).map(([k, v]) => [k, [...v]])) } : {}),
      },
      targets: [
        new eventTargets.SfnStateMachine(machine.stateMachine, {
          deadLetterQueue: dlq,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  });
}

/**
 * The Athena part of a pipeline's task-permission context: the lake's workgroup, database and results location, and
 * the lake tables its queries read, each with the bucket that holds it.
 */
export function athenaContext(
  lake: LakeRefs,
  tables: readonly (readonly [tableName: string, bucket: s3.IBucket])[],
): NonNullable<TaskPermissionContext['athena']> {
  return {
    workGroupName: lake.workGroupName,
    databaseName: lake.databaseName,
    resultsBucket: lake.athenaResultsBucket,
    resultsPrefix: ATHENA_RESULTS_PREFIX,
    tables: tables.map(([name, bucket]) => ({ table: lakeTable(name), bucket })),
  };
}

/**
 * The ARN of another pipeline's state machine from its deterministic name (`clv-<env>-<pipeline>`, AslStateMachine),
 * so pipelines may start each other (states:startExecution) without a construct-order dependency.
 */
export function pipelineStateMachineArn(scope: Construct, environmentName: string, pipeline: PipelineName): string {
  return Stack.of(scope).formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: `clv-${environmentName}-${pipeline}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
