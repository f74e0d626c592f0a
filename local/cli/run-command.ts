/** `clv run <state-machine> --input <json|@file>`: one local execution with progress per state. */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  InvalidPipelineInputError,
  isPipelineName,
  LOCAL_PIPELINE_SETTINGS,
  parsePipelineInput,
} from '../../lib/contracts/pipeline-inputs.js';
import { dispatchEvents, eventsLogOffset, eventsSince } from '../events.js';
import type { FaultPlan } from '../faults.js';
import type { Json } from '../integrations/types.js';
import { type ProgressEvent, runLocal } from '../runner.js';
import { localRoot } from '../storage.js';
import type { Command } from './commands.js';

export const RUN_USAGE = `usage: npm run clv -- run <state-machine> [--input <json|@file>] [options]

  <state-machine>      a file of state-machines/, e.g. training-pipeline (.asl.json optional)
  --input, -i          execution input: JSON text, or @path to a JSON file (default {})
  --name               execution name (default: a UUID)
  --root               local object store root (default: $CLV_LOCAL_ROOT or .clv-local)
  --fail KEY[=N]       inject N (default 1) transient failures into the stand-in KEY (a Resource, an
                       integration id such as glue:startJobRun.sync, a function or job name); repeatable
  --no-waits           skip Retry intervals and Wait states
  --output FILE        also write the output (or {error, cause}) as JSON to FILE (in-process Lambda handlers
                       log to stdout too)
  --quiet              print only the final output or error
  --no-events          do not run the state machines of the EventBridge rules that the events put by this
                       execution match (lib/contracts/event-rules.ts; e.g. batch scoring's ScoringCompleted
                       starts monitoring). By default they run after the execution, each to its end.

The input of data-pipeline, training-pipeline and batch-scoring is checked (lib/contracts/pipeline-inputs.ts,
local settings) before the execution starts: a bad one exits 2 with the field named.`;

export function parseInput(value: string | undefined): Json {
  if (value === undefined) return {};
  const text = value.startsWith('@') ? readFile(value.slice(1)) : value;
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new Error(
      `--input is not valid JSON${value.startsWith('@') ? ` (${value.slice(1)})` : ''}: ${(err as Error).message}`,
    );
  }
}

function readFile(file: string): string {
  if (!fs.existsSync(file)) throw new Error(`--input file not found: ${file}`);
  return fs.readFileSync(file, 'utf8');
}

/**
 * Checks the input of a pipeline that has an input schema the way its ValidateInput state will (local settings),
 * so a bad input is refused before an execution starts. Returns the refusal message, or undefined when valid or
 * when the state machine has no schema.
 */
export function inputRefusal(
  stateMachine: string,
  input: Json,
  now: Date = new Date(),
  executionName?: string,
): string | undefined {
  const name = stateMachine.replace(/\.asl\.json$/, '');
  if (!isPipelineName(name)) return undefined;
  try {
    parsePipelineInput(name, input, LOCAL_PIPELINE_SETTINGS[name], now, executionName ?? 'local');
    return undefined;
  } catch (err) {
    if (err instanceof InvalidPipelineInputError) return err.message;
    throw err;
  }
}

export function parseFailures(values: string[]): FaultPlan {
  const plan: FaultPlan = {};
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    const keyPart = eq > 0 && /^\d+$/.test(v.slice(eq + 1)) ? v.slice(0, eq) : v;
    const count = keyPart === v ? 1 : Number(v.slice(eq + 1));
    plan[keyPart] = count;
  }
  return plan;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export function formatProgress(e: ProgressEvent): string | undefined {
  const pad = (d: number): string => '  '.repeat(d + 1);
  switch (e.kind) {
    case 'started':
      return `▶ ${e.stateMachine}  ${e.execution}`;
    case 'entered':
      return `${pad(e.depth)}→ ${e.state} (${e.type})`;
    case 'exited':
      return `${pad(e.depth)}✓ ${e.state}  ${seconds(e.ms)}`;
    case 'failed':
      return `${pad(e.depth)}✗ ${e.state}  ${e.error}: ${e.cause.length > 300 ? `${e.cause.slice(0, 300)}…` : e.cause}`;
    case 'retried':
      return `${pad(e.depth)}↻ ${e.state}  retry ${e.attempt}`;
    case 'caught':
      return `${pad(e.depth)}⤷ ${e.state}  caught → ${e.next}`;
    case 'log':
      return `      · ${e.message}`;
    case 'finished':
      return `■ ${e.status} in ${seconds(e.ms)}`;
    default:
      return undefined;
  }
}

export const runCommand: Command = {
  summary: 'run a state machine of state-machines/ locally',
  usage: RUN_USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string', short: 'i' },
        name: { type: 'string' },
        root: { type: 'string' },
        fail: { type: 'string', multiple: true },
        'no-waits': { type: 'boolean' },
        output: { type: 'string' },
        quiet: { type: 'boolean' },
        'no-events': { type: 'boolean' },
      },
    });
    const [stateMachine, ...extra] = positionals;
    if (stateMachine === undefined || extra.length > 0) {
      console.error(RUN_USAGE);
      return 2;
    }
    const quiet = values.quiet === true;
    const input = parseInput(values.input);
    const refusal = inputRefusal(stateMachine, input, new Date(), values.name);
    if (refusal !== undefined) {
      console.error(refusal);
      return 2;
    }
    const root = localRoot(values.root);
    const offset = eventsLogOffset(root);
    const common = {
      root,
      failures: parseFailures(values.fail ?? []),
      waits: values['no-waits'] ? ('none' as const) : ('asl' as const),
      onProgress: (e: ProgressEvent) => {
        if (quiet) return;
        const line = formatProgress(e);
        if (line !== undefined) console.error(line);
      },
    };
    const result = await runLocal({
      ...common,
      stateMachine,
      input,
      ...(values.name ? { executionName: values.name } : {}),
    });
    const final = JSON.stringify(
      result.status === 'SUCCEEDED' ? result.output : { error: result.error, cause: result.cause },
      null,
      2,
    );
    console.log(final);
    if (values.output) fs.writeFileSync(values.output, `${final}\n`);
    if (!quiet) console.error(`history: ${result.historyFile}`);
    if (values['no-events'] !== true) {
      const runs = await dispatchEvents(eventsSince(root, offset), common);
      for (const r of runs) {
        if (!quiet) {
          console.error(`event rule ${r.rule} → ${r.target} ${r.result.name}: ${r.result.status}`);
          if (r.result.status !== 'SUCCEEDED') console.error(`  ${r.result.error}: ${r.result.cause ?? ''}`);
        }
      }
    }
    return result.status === 'SUCCEEDED' ? 0 : 1;
  },
};
