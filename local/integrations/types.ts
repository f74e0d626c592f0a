/** The contract between the runner and the service stand-ins. */
import type { LakeTableLike } from '../athena/catalog.js';
import type { FaultInjector } from '../faults.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ExecutionInfo {
  /** Execution name (also $$.Execution.Name). */
  name: string;
  arn: string;
  stateMachineName: string;
  startTime: string;
}

export interface RuntimeServices {
  /** The local object store root (CLV_LOCAL_ROOT). */
  root: string;
  /** Environment for child processes and in-process handlers (CLV_LOCAL_ROOT set). */
  env: NodeJS.ProcessEnv;
  execution: ExecutionInfo;
  faults: FaultInjector;
  /** A progress line for the console (the CLI prints it; tests collect it). */
  log: (line: string) => void;
  /** Lake tables the local Athena sees besides those of lib/contracts/lake-tables.ts (test fixtures). */
  extraTables: LakeTableLike[];
  /** Runs another state machine of state-machines/ (states:startExecution). */
  startExecution: (stateMachineArn: string, input: Json, name: string) => Promise<NestedExecution>;
}

export interface NestedExecution {
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate: number;
}

export interface TaskCall {
  stateName: string;
  resource: string;
  /** The effective input of the Task (after InputPath and Parameters). */
  parameters: Json;
}

export interface Integration {
  /** Short id, e.g. `glue:startJobRun.sync` (also a fault-injection key). */
  id: string;
  /** Whether this stand-in serves the Task's Resource (after substitutions). */
  matches: (resource: string) => boolean;
  /** The name a transient failure of this service carries (used for injected faults). */
  transientError: string;
  /** The target named by the call (function, job, query...), a fault-injection key. */
  target: (call: TaskCall) => string | undefined;
  invoke: (call: TaskCall, rt: RuntimeServices) => Promise<Json>;
}

export function asObject(value: Json, what: string): { [key: string]: Json } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what}: expected a JSON object`);
  }
  return value;
}

/** Normalizes any JS value to JSON (what Step Functions would serialize). */
export function toJson(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}
