/**
 * The local runner: executes a state-machines/ file with aws-local-stepfunctions, every Task bound to the
 * stand-in its Resource selects, and records an execution history under
 * <root>/_local/executions/<state machine>/<execution name>.json.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type RunOptions as AslRunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LakeTableLike } from './athena/catalog.js';
import { publishSagemakerCode } from './code.js';
import { LOCAL_PREFIX, executionArn as makeExecutionArn, stateMachineArn } from './constants.js';
import { forEachState, type LoadedDefinition, loadDefinition } from './definition.js';
import { TaskError } from './errors.js';
import { FaultInjector, type FaultPlan, faultPlanFromEnv } from './faults.js';
import { type HistoryEvent, HistoryRecorder, resourceParts } from './history.js';
import { localTaskToken } from './integrations/task-token.js';
import type { Integration, Json, NestedExecution, RuntimeServices } from './integrations/types.js';
import { LOCAL_ROOT_ENV, localRoot } from './storage.js';

/** Task timeout when the ASL sets none: AWS has no limit; the interpreter defaults to 60 s. Node's timer max. */
const NO_TASK_TIMEOUT_S = 2_147_483;

export type ProgressEvent =
  | { kind: 'started'; execution: string; stateMachine: string; at: number }
  | { kind: 'entered'; state: string; type: string; at: number; depth: number }
  | { kind: 'exited'; state: string; type: string; ms: number; at: number; depth: number }
  | { kind: 'failed'; state: string; error: string; cause: string; at: number; depth: number }
  | { kind: 'retried'; state: string; attempt: number; at: number; depth: number }
  | { kind: 'caught'; state: string; next: string; at: number; depth: number }
  | { kind: 'log'; message: string; at: number }
  | { kind: 'finished'; status: 'SUCCEEDED' | 'FAILED'; ms: number; at: number };

export interface LocalRunOptions {
  /** A file of state-machines/ (with or without .asl.json). */
  stateMachine: string;
  input: Json;
  /** The local object store root; default $CLV_LOCAL_ROOT or <repo>/.clv-local. */
  root?: string;
  executionName?: string;
  /** Fault injection (merged over $CLV_LOCAL_FAILURES). */
  failures?: FaultPlan;
  /** Retry and Wait delays as the ASL says (default) or none (tests). */
  waits?: 'asl' | 'none';
  /** Lake tables for the local Athena besides lib/contracts/lake-tables.ts. */
  extraTables?: LakeTableLike[];
  /** Extra environment for child processes (CLV_LOCAL_ROOT is always set). */
  env?: NodeJS.ProcessEnv;
  onProgress?: (event: ProgressEvent) => void;
  /** Internal: the fault injector shared with child executions. */
  faults?: FaultInjector;
  depth?: number;
}

export interface LocalRunResult {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate: number;
  history: HistoryEvent[];
  historyFile: string;
  /** Injected failures, per fault key. */
  injected: Record<string, number>;
}

function validExecutionName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw new Error(`execution name '${name}' must be 1-80 characters of letters, digits, '-' or '_'`);
  }
  return name;
}

function bindHandlers(
  loaded: LoadedDefinition,
  rt: RuntimeServices,
  recorder: HistoryRecorder,
): Record<string, (input: unknown) => Promise<Json>> {
  const handlers: Record<string, (input: unknown) => Promise<Json>> = {};
  for (const task of loaded.tasks) {
    const integration: Integration = task.integration;
    handlers[task.name] = async (input) => {
      // Let the interpreter's queued events (StateEntered, retries) reach the recorder first.
      await new Promise((r) => setImmediate(r));
      const parameters = (input ?? null) as Json;
      const parts = resourceParts(task.resource);
      recorder.add('TaskScheduled', { ...parts, region: 'eu-west-1', parameters: JSON.stringify(parameters) });
      try {
        const call = { stateName: task.name, resource: task.resource, parameters };
        let target: string | undefined;
        try {
          target = integration.target(call);
        } catch {
          target = undefined;
        }
        rt.faults.maybeFail([task.resource, integration.id, ...(target ? [target] : [])], integration.transientError);
        recorder.add('TaskStarted', { ...parts });
        const output = await integration.invoke(call, rt);
        recorder.add('TaskSucceeded', { ...parts, output: JSON.stringify(output) });
        return output;
      } catch (err) {
        const error =
          err instanceof TaskError
            ? err
            : new TaskError(
                'States.TaskFailed',
                `local ${integration.id} stand-in failed: ${(err as Error).message ?? String(err)}`,
              );
        recorder.add('TaskFailed', { ...parts, error: error.name, cause: error.message });
        throw error;
      }
    };
  }
  return handlers;
}

/** Runs one execution to its end; never throws for a failed execution (status FAILED), only for bad setup. */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const root = localRoot(options.root);
  const loaded = loadDefinition(options.stateMachine);
  const name = validExecutionName(options.executionName ?? randomUUID());
  const smArn = stateMachineArn(loaded.name);
  const arn = makeExecutionArn(loaded.name, name);
  const recorder = new HistoryRecorder();
  const depth = options.depth ?? 0;
  const progress = (e: ProgressEvent): void => options.onProgress?.(e);
  const faults =
    options.faults ??
    new FaultInjector({ ...faultPlanFromEnv(options.env ?? process.env), ...(options.failures ?? {}) });
  if (depth === 0) publishSagemakerCode(root);
  const startDate = Date.now();

  const definition = structuredClone(loaded.definition) as Record<string, unknown>;
  const retryOverrides: Record<string, number> = {};
  const waitOverrides: Record<string, number> = {};
  forEachState(definition, (stateName, state) => {
    // A task-token wait may last weeks (a campaign): a TimeoutSecondsPath above Node's timer limit (~24.8 days)
    // would fire at once in the interpreter, so the local task-token stand-in enforces that deadline itself (it
    // receives the same value in its Payload) and the interpreter gets no timeout.
    if (
      state.Type === 'Task' &&
      state.TimeoutSecondsPath !== undefined &&
      typeof state.Resource === 'string' &&
      state.Resource.endsWith('.waitForTaskToken')
    ) {
      delete state.TimeoutSecondsPath;
    }
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = NO_TASK_TIMEOUT_S;
    }
    if (options.waits === 'none') {
      if (Array.isArray(state.Retry)) retryOverrides[stateName] = 0;
      if (state.Type === 'Wait') waitOverrides[stateName] = 0;
    }
  });

  const rt: RuntimeServices = {
    root,
    env: { ...process.env, ...(options.env ?? {}), [LOCAL_ROOT_ENV]: root },
    execution: { name, arn, stateMachineName: loaded.name, startTime: new Date(startDate).toISOString() },
    faults,
    extraTables: options.extraTables ?? [],
    log: (message) => progress({ kind: 'log', message, at: Date.now() }),
    startExecution: async (childArn, input, childName): Promise<NestedExecution> => {
      const m = /^arn:aws:states:[^:]+:\d{12}:stateMachine:(.+)$/.exec(childArn);
      const smName = m?.[1];
      if (smName === undefined || !smName.startsWith(`${LOCAL_PREFIX}-`)) {
        throw new TaskError(
          'StepFunctions.StateMachineDoesNotExistException',
          `State Machine Does Not Exist: '${childArn}'`,
        );
      }
      const child = await runLocal({
        ...options,
        stateMachine: smName.slice(LOCAL_PREFIX.length + 1),
        input,
        executionName: childName,
        faults,
        depth: depth + 1,
      });
      return {
        executionArn: child.executionArn,
        status: child.status,
        output: child.output,
        error: child.error,
        cause: child.cause,
        startDate: child.startDate,
        stopDate: child.stopDate,
      };
    },
  };

  const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: false },
  });
  const runOptions: AslRunOptions = {
    overrides: {
      taskResourceLocalHandlers: bindHandlers(loaded, rt, recorder) as NonNullable<
        NonNullable<AslRunOptions['overrides']>['taskResourceLocalHandlers']
      >,
      retryIntervalOverrides: retryOverrides,
      waitTimeOverrides: waitOverrides,
    },
    context: {
      Execution: { Id: arn, Name: name, RoleArn: `arn:aws:iam::000000000000:role/${LOCAL_PREFIX}-states` },
      StateMachine: { Id: smArn, Name: `${LOCAL_PREFIX}-${loaded.name}` },
      // $$.Task.Token of the callback Tasks (lambda:invoke.waitForTaskToken): one token per execution
      Task: { Token: localTaskToken(arn, rt.execution.startTime) },
    },
  };
  progress({ kind: 'started', execution: arn, stateMachine: loaded.fileName, at: startDate });
  const execution = machine.run(input(options.input), runOptions);

  let status = 'FAILED' as 'SUCCEEDED' | 'FAILED';
  let output: Json | undefined;
  let error: string | undefined;
  let cause: string | undefined;
  const entered = new Map<string, number>();
  const key = (n: string, i?: number): string => `${n}#${i ?? ''}`;
  const consume = (async () => {
    for await (const ev of execution.eventLogs) {
      const at = ev.timestamp;
      switch (ev.type) {
        case 'ExecutionStarted':
          recorder.add(
            'ExecutionStarted',
            {
              input: JSON.stringify(ev.input),
              inputDetails: { truncated: false },
              roleArn: runOptions.context?.Execution?.RoleArn as string,
            },
            at,
          );
          break;
        case 'StateEntered':
          entered.set(key(ev.state.name, ev.index), at);
          recorder.add(
            `${ev.state.type}StateEntered`,
            { name: ev.state.name, input: JSON.stringify(ev.state.input) },
            at,
          );
          progress({ kind: 'entered', state: ev.state.name, type: ev.state.type, at, depth });
          break;
        case 'StateExited':
          recorder.add(
            `${ev.state.type}StateExited`,
            { name: ev.state.name, output: JSON.stringify(ev.state.output ?? null) },
            at,
          );
          progress({
            kind: 'exited',
            state: ev.state.name,
            type: ev.state.type,
            ms: at - (entered.get(key(ev.state.name, ev.index)) ?? at),
            at,
            depth,
          });
          break;
        case 'StateFailed':
          if (ev.state.type === 'Map' || ev.state.type === 'Parallel') {
            recorder.add(`${ev.state.type}StateFailed`, { error: ev.Error, cause: String(ev.Cause ?? '') }, at);
          }
          progress({ kind: 'failed', state: ev.state.name, error: ev.Error, cause: String(ev.Cause ?? ''), at, depth });
          break;
        case 'StateRetried':
          progress({ kind: 'retried', state: ev.state.name, attempt: ev.retry.attempt, at, depth });
          break;
        case 'StateCaught':
          progress({ kind: 'caught', state: ev.state.name, next: ev.catch.catcher.Next, at, depth });
          break;
        case 'MapIterationStarted':
        case 'MapIterationSucceeded':
          recorder.add(ev.type, { name: ev.parentState.name, index: ev.index }, at);
          break;
        case 'MapIterationFailed':
          recorder.add(
            ev.type,
            { name: ev.parentState.name, index: ev.index, error: ev.Error, cause: String(ev.Cause ?? '') },
            at,
          );
          break;
        case 'ExecutionSucceeded':
          status = 'SUCCEEDED';
          output = ev.output as Json;
          recorder.add(
            'ExecutionSucceeded',
            { output: JSON.stringify(ev.output), outputDetails: { truncated: false } },
            at,
          );
          break;
        case 'ExecutionFailed':
          error = ev.Error;
          cause = String(ev.Cause ?? '');
          recorder.add('ExecutionFailed', { error: ev.Error, cause }, at);
          break;
        case 'ExecutionAborted':
        case 'ExecutionTimeout':
          error = ev.type === 'ExecutionTimeout' ? 'States.Timeout' : 'ExecutionAborted';
          recorder.add(ev.type === 'ExecutionTimeout' ? 'ExecutionTimedOut' : 'ExecutionAborted', {}, at);
          break;
        default:
          break;
      }
    }
  })();
  try {
    await execution.result;
  } catch (err) {
    if (error === undefined) {
      const inner = (err as Error & { cause?: unknown }).cause;
      error = inner instanceof Error ? inner.name : (err as Error).name;
      cause = inner instanceof Error ? inner.message : (err as Error).message;
    }
  }
  await consume;
  const stopDate = Date.now();
  progress({ kind: 'finished', status, ms: stopDate - startDate, at: stopDate });

  const historyFile = path.join(root, '_local', 'executions', loaded.name, `${name}.json`);
  const result: LocalRunResult = {
    executionArn: arn,
    name,
    stateMachineArn: smArn,
    status,
    ...(status === 'SUCCEEDED' ? { output } : { error, cause }),
    startDate,
    stopDate,
    history: recorder.events,
    historyFile,
    injected: { ...faults.injected },
  };
  fs.mkdirSync(path.dirname(historyFile), { recursive: true });
  fs.writeFileSync(
    historyFile,
    `${JSON.stringify(
      {
        executionArn: arn,
        stateMachineArn: smArn,
        name,
        status,
        startDate: new Date(startDate).toISOString(),
        stopDate: new Date(stopDate).toISOString(),
        input: options.input,
        ...(status === 'SUCCEEDED' ? { output } : { error, cause }),
        events: recorder.events,
      },
      null,
      2,
    )}\n`,
  );
  return result;
}

function input(value: Json): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}
