/**
 * Lambda: `arn:aws:states:::lambda:invoke` (optimized integration, response wrapped as {Payload, StatusCode, ...})
 * and a bare function ARN as Resource (the payload is returned as is). The function is the `handler` export of
 * lambdas/<folder>/handler.ts, imported in-process; the local function name is `clv-local-<folder>`.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../lib/paths.js';
import { LOCAL_ACCOUNT, LOCAL_PREFIX, LOCAL_REGION } from '../constants.js';
import { serviceError, TaskError } from '../errors.js';
import { asObject, type Integration, type Json, type TaskCall, toJson } from './types.js';

const INVOKE = 'arn:aws:states:::lambda:invoke';
const FUNCTION_ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$/;

/** The lambdas/ folder of a function name or ARN (`clv-local-<folder>`). */
export function lambdaFolder(functionNameOrArn: string): string {
  const m = FUNCTION_ARN.exec(functionNameOrArn);
  const name = m ? (m[1] as string) : functionNameOrArn;
  if (!name.startsWith(`${LOCAL_PREFIX}-`)) {
    throw serviceError(
      'Lambda',
      'ResourceNotFoundException',
      `Function not found: ${functionNameOrArn} (local functions are named ${LOCAL_PREFIX}-<folder of lambdas/>)`,
    );
  }
  return name.slice(LOCAL_PREFIX.length + 1);
}

export function handlerFile(folder: string): string {
  return path.join(repoRoot, 'lambdas', folder, 'handler.ts');
}

type Handler = (event: unknown, context: unknown) => unknown;

const handlers = new Map<string, Handler>();

/** The environment a function sees (TeamFunction sets the Powertools variables in AWS). */
function functionEnv(folder: string, root: string | undefined): Record<string, string> {
  return {
    CLV_LOCAL_ROOT: root ?? '',
    AWS_REGION: LOCAL_REGION,
    AWS_LAMBDA_FUNCTION_NAME: `${LOCAL_PREFIX}-${folder}`,
    POWERTOOLS_SERVICE_NAME: `${LOCAL_PREFIX}-${folder}`,
    POWERTOOLS_METRICS_NAMESPACE: 'clv-local',
  };
}

/** Runs fn with the function's environment in process.env, restoring the previous values afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function loadHandler(folder: string, functionNameOrArn: string, root: string | undefined): Promise<Handler> {
  const cached = handlers.get(folder);
  if (cached) return cached;
  const file = handlerFile(folder);
  if (!fs.existsSync(file)) {
    throw serviceError('Lambda', 'ResourceNotFoundException', `Function not found: ${functionNameOrArn} (${file})`);
  }
  // module-level setup (Powertools) reads the environment at import time
  const mod = (await withEnv(functionEnv(folder, root), () => import(pathToFileURL(file).href))) as {
    handler?: unknown;
  };
  if (typeof mod.handler !== 'function') {
    throw serviceError('Lambda', 'ResourceNotFoundException', `lambdas/${folder}/handler.ts exports no 'handler'`);
  }
  handlers.set(folder, mod.handler as Handler);
  return mod.handler as Handler;
}

function lambdaContext(functionName: string, requestId: string) {
  const deadline = Date.now() + 900_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Invokes the handler as the Lambda runtime would. A thrown Error surfaces as Step Functions reports a function
 * error: Error = the error's name (errorType), Cause = {"errorType","errorMessage","trace"}; a thrown non-Error
 * value is `Lambda.Unknown`.
 */
export async function invokeLocalFunction(
  functionNameOrArn: string,
  payload: Json,
  env: NodeJS.ProcessEnv,
): Promise<Json> {
  const folder = lambdaFolder(functionNameOrArn);
  const handler = await loadHandler(folder, functionNameOrArn, env.CLV_LOCAL_ROOT);
  const functionName = `${LOCAL_PREFIX}-${folder}`;
  const requestId = randomUUID();
  try {
    const result = await withEnv(functionEnv(folder, env.CLV_LOCAL_ROOT), async () =>
      handler(JSON.parse(JSON.stringify(payload)), lambdaContext(functionName, requestId)),
    );
    return toJson(result);
  } catch (err) {
    if (err instanceof TaskError) throw err;
    if (err instanceof Error) {
      const errorType = err.name || 'Error';
      throw new TaskError(
        errorType,
        JSON.stringify({ errorType, errorMessage: err.message, trace: (err.stack ?? '').split('\n') }),
      );
    }
    throw new TaskError('Lambda.Unknown', `The function threw a non-Error value: ${String(err)}`);
  }
}

function functionOf(call: TaskCall): string {
  if (call.resource === INVOKE || call.resource.startsWith(`${INVOKE}.`)) {
    const params = asObject(call.parameters, `${call.stateName} (lambda:invoke parameters)`);
    const fn = params.FunctionName;
    if (typeof fn !== 'string') {
      throw serviceError('Lambda', 'InvalidParameterValueException', `${call.stateName}: FunctionName is required`);
    }
    return fn;
  }
  return call.resource;
}

export const lambdaInvoke: Integration = {
  id: 'lambda:invoke',
  matches: (r) => r === INVOKE,
  transientError: 'Lambda.ServiceException',
  target: (call) => `${LOCAL_PREFIX}-${lambdaFolder(functionOf(call))}`,
  async invoke(call, rt) {
    const params = asObject(call.parameters, `${call.stateName} (lambda:invoke parameters)`);
    const payload = (params.Payload ?? {}) as Json;
    const result = await invokeLocalFunction(functionOf(call), payload, rt.env);
    return {
      ExecutedVersion: '$LATEST',
      Payload: result,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
      StatusCode: 200,
    };
  },
};

export const lambdaArn: Integration = {
  id: 'lambda:function-arn',
  matches: (r) => FUNCTION_ARN.test(r),
  transientError: 'Lambda.ServiceException',
  target: (call) => `${LOCAL_PREFIX}-${lambdaFolder(call.resource)}`,
  invoke: (call, rt) => invokeLocalFunction(call.resource, call.parameters, rt.env),
};
