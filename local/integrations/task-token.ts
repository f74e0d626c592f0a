/**
 * Lambda with a task token: `arn:aws:states:::lambda:invoke.waitForTaskToken` (the callback pattern). As in AWS, the
 * function is invoked once (in-process, as lambda.ts does) and the Task then waits, without a result of its own, until
 * someone reports the task: SendTaskSuccess (its output becomes the Task's result), SendTaskFailure (the Task fails
 * with that error and cause), or the Task times out (`States.Timeout`).
 *
 * The token: aws-local-stepfunctions gives a Task's `$$.Task.Token` only from the context the runner passes, so the
 * runner (local/runner.ts) puts `Task.Token = localTaskToken(execution ARN, start time)` in it: one token per
 * execution (every callback Task of the execution sees the same one; AWS gives each Task its own). The stand-in
 * refuses a Payload that does not carry the token (nobody could ever resume the Task).
 *
 * The waiting and the reports go through files, so that another process (the `clv campaign complete` CLI) can
 * report: `<root>/_local/task-tokens/<sha256(token)>.waiting.json` while the Task waits (gone once it ends), and
 * `<id>.result.json` written by `sendTaskSuccess`/`sendTaskFailure` below. The Task polls every 250 ms. Its deadline
 * is the Payload's `timeout_seconds` when given (the campaign-experiment ASL passes the same value as its
 * TimeoutSecondsPath); the interpreter also enforces the state's TimeoutSeconds/TimeoutSecondsPath itself.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { serviceError, TaskError } from '../errors.js';
import { invokeLocalFunction } from './lambda.js';
import { asObject, type Integration, type Json } from './types.js';

export const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** How often a waiting Task looks for its result. */
export const TASK_TOKEN_POLL_MS = 250;

/** The local task token of an execution (what the runner puts in `$$.Task.Token`). */
export function localTaskToken(executionArn: string, startTime: string): string {
  return `clv-local-task-token-${createHash('sha256').update(`${executionArn}|${startTime}`).digest('hex')}`;
}

export const taskTokenDir = (root: string): string => path.join(root, '_local', 'task-tokens');
const tokenId = (token: string): string => createHash('sha256').update(token).digest('hex');
const waitingFile = (root: string, token: string): string =>
  path.join(taskTokenDir(root), `${tokenId(token)}.waiting.json`);
const resultFile = (root: string, token: string): string =>
  path.join(taskTokenDir(root), `${tokenId(token)}.result.json`);

/** What a waiting Task records (the CLI checks it before reporting). */
export interface WaitingTask {
  execution_arn: string;
  state: string;
  function: string;
  started_at: string;
  /** ISO-8601, or null when the Payload gives no timeout_seconds. */
  deadline: string | null;
}

type TaskReport = { status: 'success'; output: Json } | { status: 'failure'; error: string; cause: string };

/** The waiting Task of a token, or undefined when none waits on it (unknown, finished or timed out). */
export function waitingTask(root: string, token: string): WaitingTask | undefined {
  const file = waitingFile(root, token);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as WaitingTask;
}

function report(root: string, token: string, value: TaskReport): WaitingTask {
  if (typeof token !== 'string' || token.length === 0 || token.length > 2048) {
    throw serviceError('StepFunctions', 'InvalidToken', 'The provided token is not valid (1 to 2048 characters).');
  }
  const waiting = waitingTask(root, token);
  if (!waiting) {
    throw serviceError(
      'StepFunctions',
      'TaskDoesNotExist',
      `No task waits on this token in ${root} (it never existed, or its Task already ended or timed out)`,
    );
  }
  const file = resultFile(root, token);
  if (fs.existsSync(file)) {
    throw serviceError('StepFunctions', 'TaskDoesNotExist', 'The task of this token was already reported');
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value));
  fs.renameSync(tmp, file);
  return waiting;
}

/** SendTaskSuccess: `output` must be a JSON text (as the API takes it) of at most 256 KiB. */
export function sendTaskSuccess(root: string, token: string, output: string): WaitingTask {
  if (Buffer.byteLength(output, 'utf8') > 262_144) {
    throw serviceError('StepFunctions', 'InvalidOutput', 'The output exceeds 262144 bytes');
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(output) as Json;
  } catch (err) {
    throw serviceError('StepFunctions', 'InvalidOutput', `The output is not JSON: ${(err as Error).message}`);
  }
  return report(root, token, { status: 'success', output: parsed });
}

/** SendTaskFailure: the Task fails with `error` and `cause` (its Catch sees them). */
export function sendTaskFailure(root: string, token: string, error: string, cause: string): WaitingTask {
  return report(root, token, { status: 'failure', error, cause });
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    // unref: a Task abandoned by the interpreter (its own timeout) must not keep the process alive
    setTimeout(resolve, ms).unref();
  });

export const lambdaInvokeWaitForTaskToken: Integration = {
  id: 'lambda:invoke.waitForTaskToken',
  matches: (r) => r === WAIT_FOR_TASK_TOKEN,
  transientError: 'Lambda.ServiceException',
  target: (call) => {
    const fn = (call.parameters as Record<string, Json> | null)?.FunctionName;
    return typeof fn === 'string' ? fn : undefined;
  },
  async invoke(call, rt) {
    const params = asObject(call.parameters, `${call.stateName} (lambda:invoke.waitForTaskToken parameters)`);
    const fn = params.FunctionName;
    if (typeof fn !== 'string') {
      throw serviceError('Lambda', 'InvalidParameterValueException', `${call.stateName}: FunctionName is required`);
    }
    const payload = (params.Payload ?? {}) as Json;
    const token = localTaskToken(rt.execution.arn, rt.execution.startTime);
    if (!JSON.stringify(payload).includes(JSON.stringify(token))) {
      throw new TaskError(
        'States.Runtime',
        `${call.stateName}: the Payload of a waitForTaskToken Task must pass the task token ("...$": "$$.Task.Token"); nobody could resume it otherwise`,
      );
    }
    const timeout = (payload as Record<string, Json>).timeout_seconds;
    const deadline = typeof timeout === 'number' && timeout > 0 ? Date.now() + timeout * 1000 : undefined;
    fs.mkdirSync(taskTokenDir(rt.root), { recursive: true });
    fs.rmSync(resultFile(rt.root, token), { force: true });
    const waiting: WaitingTask = {
      execution_arn: rt.execution.arn,
      state: call.stateName,
      function: fn,
      started_at: new Date().toISOString(),
      deadline: deadline === undefined ? null : new Date(deadline).toISOString(),
    };
    fs.writeFileSync(waitingFile(rt.root, token), JSON.stringify(waiting, null, 2));
    try {
      await invokeLocalFunction(fn, payload, rt.env);
      rt.log(`${call.stateName}: waiting for SendTaskSuccess/SendTaskFailure (${waiting.deadline ?? 'no deadline'})`);
      for (;;) {
        const file = resultFile(rt.root, token);
        if (fs.existsSync(file)) {
          const result = JSON.parse(fs.readFileSync(file, 'utf8')) as TaskReport;
          fs.rmSync(file, { force: true });
          if (result.status === 'failure') throw new TaskError(result.error, result.cause);
          return result.output;
        }
        if (deadline !== undefined && Date.now() >= deadline) {
          throw new TaskError('States.Timeout', `${call.stateName}: no task report within ${String(timeout)} s`);
        }
        await sleep(TASK_TOKEN_POLL_MS);
      }
    } finally {
      fs.rmSync(waitingFile(rt.root, token), { force: true });
    }
  },
};
