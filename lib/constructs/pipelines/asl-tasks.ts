/**
 * The Task states of an Amazon States Language definition, at any depth (Map item processors, Parallel branches),
 * with their Resource as written in the file (before DefinitionSubstitutions). The pipeline constructs derive their
 * role's permissions from this list (task-permissions.ts).
 */

/** One Task state of an ASL definition. */
export interface AslTask {
  /** State name, prefixed by the enclosing Map/Parallel states: `BuildFeatureSnapshots/BuildFeatureSnapshot`. */
  readonly path: string;
  /** The state's own name. */
  readonly stateName: string;
  /** The Task's Resource, e.g. `arn:aws:states:::glue:startJobRun.sync`. */
  readonly resource: string;
  /** The Task's Parameters (empty object when it has none). */
  readonly parameters: Record<string, unknown>;
}

type StatesObject = Record<string, Record<string, unknown>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function statesOf(container: unknown, where: string): StatesObject {
  if (!isObject(container) || !isObject(container.States)) {
    throw new Error(`${where}: expected an object with States`);
  }
  return container.States as StatesObject;
}

/**
 * Every Task of the definition, in file order, depth first. Fails naming the state when a Task has no string
 * Resource or a Map/Parallel state has no states to walk.
 */
export function aslTasks(definition: Record<string, unknown>, where = 'definition'): AslTask[] {
  const found: AslTask[] = [];
  const walk = (states: StatesObject, prefix: string) => {
    for (const [name, state] of Object.entries(states)) {
      const path = prefix ? `${prefix}/${name}` : name;
      if (!isObject(state)) throw new Error(`${where}: state ${path} is not an object`);
      switch (state.Type) {
        case 'Task': {
          if (typeof state.Resource !== 'string' || state.Resource.length === 0) {
            throw new Error(`${where}: Task ${path} has no Resource`);
          }
          const parameters = isObject(state.Parameters) ? state.Parameters : {};
          found.push({ path, stateName: name, resource: state.Resource, parameters });
          break;
        }
        case 'Map':
          walk(statesOf(state.ItemProcessor ?? state.Iterator, `${where}: Map ${path}`), path);
          break;
        case 'Parallel': {
          if (!Array.isArray(state.Branches) || state.Branches.length === 0) {
            throw new Error(`${where}: Parallel ${path} has no Branches`);
          }
          state.Branches.forEach((branch, i) => {
            walk(statesOf(branch, `${where}: Parallel ${path} branch ${i}`), `${path}[${i}]`);
          });
          break;
        }
        default:
          break;
      }
    }
  };
  walk(statesOf(definition, where), '');
  return found;
}

const OPTIMIZED = /^arn:aws:states:::([a-z0-9-]+):([A-Za-z]+)(\.sync(?::2)?|\.waitForTaskToken)?$/;
const SDK = /^arn:aws:states:::aws-sdk:([a-z0-9-]+):([A-Za-z]+)$/;

/**
 * The integration id of a Task Resource, as the local runtime names its stand-ins (`local/integrations/*.ts`
 * `id`): `arn:aws:states:::glue:startJobRun.sync` → `glue:startJobRun.sync`,
 * `arn:aws:states:::aws-sdk:s3:getObject` → `s3:getObject`. Fails for a Resource the platform does not use
 * (a bare Lambda ARN, an activity): add it here and to the permissions table together.
 */
export function taskResourceId(resource: string): string {
  const sdk = SDK.exec(resource);
  if (sdk) return `${sdk[1]}:${sdk[2]}`;
  const optimized = OPTIMIZED.exec(resource);
  if (optimized) {
    const suffix = optimized[3] === '.sync:2' ? '.sync' : (optimized[3] ?? '');
    return `${optimized[1]}:${optimized[2]}${suffix}`;
  }
  throw new Error(
    `Task Resource '${resource}' is not a Step Functions service integration (arn:aws:states:::<service>:<action>)`,
  );
}

/** The placeholder name of a value that is exactly `${Name}`, else undefined. */
export function placeholderName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\$\{([A-Za-z][A-Za-z0-9_]*)\}$/.exec(value)?.[1];
}

/**
 * The fixed leading part of a name parameter: the value of `key` when it is a literal, or the text before the first
 * `{}` of `States.Format('<prefix>{}', ...)` when it is `key.$`. Undefined when the name has no fixed part.
 */
export function fixedPrefix(parameters: Record<string, unknown>, key: string): string | undefined {
  const literal = parameters[key];
  if (typeof literal === 'string') return literal;
  const path = parameters[`${key}.$`];
  if (typeof path !== 'string') return undefined;
  const format = /^States\.Format\('((?:[^'{]|\{(?!\}))*)\{\}/.exec(path);
  return format?.[1] || undefined;
}
