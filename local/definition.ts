/** Loading an ASL file for local execution: substitutions, Task discovery (nested states included), coverage. */
import { applySubstitutions, checkSubstitutions, readAslFile } from '../lib/constructs/orchestration/asl-definition.js';
import { integrationFor } from './integrations/index.js';
import type { Integration, Json } from './integrations/types.js';
import { localSubstitutions } from './substitutions.js';

export interface TaskStateInfo {
  name: string;
  resource: string;
  /** Where the state sits, e.g. `States.ScoreAll.ItemProcessor.States.Score`. */
  path: string;
}

type StatesObject = Record<string, Record<string, Json>>;

/** `training-pipeline`, `training-pipeline.asl.json` → `training-pipeline.asl.json`. */
export function aslFileName(stateMachine: string): string {
  return stateMachine.endsWith('.asl.json') ? stateMachine : `${stateMachine}.asl.json`;
}

/** Every Task state of a definition, including those inside Map (Iterator/ItemProcessor) and Parallel branches. */
export function taskStates(definition: Record<string, unknown>, prefix = ''): TaskStateInfo[] {
  const states = (definition.States ?? {}) as StatesObject;
  const out: TaskStateInfo[] = [];
  for (const [name, state] of Object.entries(states)) {
    const here = `${prefix}States.${name}`;
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      out.push({ name, resource: state.Resource, path: here });
    }
    for (const key of ['Iterator', 'ItemProcessor'] as const) {
      const sub = state[key];
      if (sub && typeof sub === 'object' && !Array.isArray(sub)) out.push(...taskStates(sub, `${here}.${key}.`));
    }
    if (Array.isArray(state.Branches)) {
      state.Branches.forEach((b, i) => {
        if (b && typeof b === 'object' && !Array.isArray(b)) out.push(...taskStates(b, `${here}.Branches[${i}].`));
      });
    }
  }
  return out;
}

/** Applies a function to every state object (nested ones too), for in-memory adjustments. */
export function forEachState(
  definition: Record<string, unknown>,
  fn: (name: string, state: Record<string, Json>) => void,
): void {
  const states = (definition.States ?? {}) as StatesObject;
  for (const [name, state] of Object.entries(states)) {
    fn(name, state);
    for (const key of ['Iterator', 'ItemProcessor'] as const) {
      const sub = state[key];
      if (sub && typeof sub === 'object' && !Array.isArray(sub)) forEachState(sub, fn);
    }
    if (Array.isArray(state.Branches)) {
      for (const b of state.Branches) if (b && typeof b === 'object' && !Array.isArray(b)) forEachState(b, fn);
    }
  }
}

export interface LoadedDefinition {
  fileName: string;
  name: string;
  substitutions: Record<string, string>;
  definition: Record<string, unknown>;
  tasks: (TaskStateInfo & { integration: Integration })[];
}

/** Reads, substitutes and checks an ASL file; fails listing every Task the local runtime cannot run. */
export function loadDefinition(stateMachine: string): LoadedDefinition {
  const fileName = aslFileName(stateMachine);
  const { text } = readAslFile(fileName);
  const substitutions = localSubstitutions(fileName, text);
  checkSubstitutions(fileName, text, substitutions);
  const substituted = applySubstitutions(text, substitutions);
  let definition: Record<string, unknown>;
  try {
    definition = JSON.parse(substituted) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`state-machines/${fileName}: not valid JSON after substitutions: ${(err as Error).message}`);
  }
  const tasks = taskStates(definition);
  const missing = tasks.filter((t) => integrationFor(t.resource) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `state-machines/${fileName}: no local stand-in for ${missing.map((t) => `${t.path} (Resource ${t.resource})`).join(', ')}`,
    );
  }
  const byName = new Map<string, string>();
  for (const t of tasks) {
    const seen = byName.get(t.name);
    if (seen !== undefined && seen !== t.resource) {
      throw new Error(
        `state-machines/${fileName}: Task name '${t.name}' is used with two Resources (${seen}, ${t.resource}); ` +
          'the local runtime binds handlers by state name, so nested Task names must be unique per Resource',
      );
    }
    byName.set(t.name, t.resource);
  }
  return {
    fileName,
    name: fileName.replace(/\.asl\.json$/, ''),
    substitutions,
    definition,
    tasks: tasks.map((t) => ({ ...t, integration: integrationFor(t.resource) as Integration })),
  };
}
