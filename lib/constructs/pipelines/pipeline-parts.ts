/**
 * What every pipeline construct is made of: its ValidateInput Lambda (the first Task of every ASL file), its state
 * machine with the role the file's Tasks need (task-permissions.ts), and its schedule.
 */
import { Duration, type Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import { type PipelineName, type PipelineSettings, pipelineSettingsSchemas } from '../../contracts/pipeline-inputs.js';
import { TeamFunction } from '../compute/team-function.js';
import { readAslFile } from '../orchestration/asl-definition.js';
import { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { aslTasks } from './asl-tasks.js';
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
