/**
 * The local event bus: what EventBridge does between the pipelines on AWS. Events put by a state machine
 * (events:putEvents) or by the CLI (`clv models approve` emits the Model Registry's state change) are appended to
 * <root>/_local/events.jsonl; `dispatchEvents` then runs, for each event, the state machines of the rules it matches
 * (lib/contracts/event-rules.ts, the same table the CDK constructs deploy), to completion and in order. Events those
 * runs put are dispatched in turn, up to MAX_CHAIN rounds (a rule loop would otherwise never end).
 *
 * On AWS a rule's target starts asynchronously after the putting execution has moved on; locally the CLI dispatches
 * after the execution that put the events has finished, which is the same order without the concurrency.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BusEvent, type PipelineEventRule, rulesMatching } from '../lib/contracts/event-rules.js';
import { LOCAL_ACCOUNT, LOCAL_ENVIRONMENT_NAME, LOCAL_PREFIX, LOCAL_REGION } from './constants.js';
import { eventsLog } from './integrations/durable.js';
import type { Json } from './integrations/types.js';
import { type LocalRunOptions, type LocalRunResult, runLocal } from './runner.js';
import { localRoot } from './storage.js';

/** Most rounds of events started by events. */
export const MAX_CHAIN = 5;

/** One line of the events log (what events:putEvents and publishLocalEvents append). */
export interface LoggedEvent {
  id: string;
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  'event-bus-name'?: string;
  resources?: string[];
  time?: string;
}

/** A rule's run for one event. */
export interface DispatchedRun {
  rule: string;
  eventId: string;
  target: string;
  result: LocalRunResult;
}

export type DispatchOptions = Omit<LocalRunOptions, 'stateMachine' | 'input' | 'executionName'>;

/** The rule context of the local runtime (environment `local`, group clv-local-clv-models). */
export const LOCAL_RULE_CONTEXT = {
  environmentName: LOCAL_ENVIRONMENT_NAME,
  modelPackageGroupName: `${LOCAL_PREFIX}-clv-models`,
};

/** The current size of the events log (bytes), to read what is appended after it. */
export function eventsLogOffset(root: string): number {
  const file = eventsLog(root);
  return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

/** The events appended to the log after `offset` (bytes). */
export function eventsSince(root: string, offset: number): LoggedEvent[] {
  const file = eventsLog(root);
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file).subarray(offset).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as LoggedEvent;
      } catch (err) {
        throw new Error(`${file}: line ${i + 1} after byte ${offset} is not JSON: ${(err as Error).message}`);
      }
    });
}

/** The event as EventBridge hands it to a target (the envelope around source, detail-type and detail). */
export function envelope(e: LoggedEvent): BusEvent {
  return {
    version: '0',
    id: e.id,
    'detail-type': e['detail-type'],
    source: e.source,
    account: LOCAL_ACCOUNT,
    time: e.time ?? new Date().toISOString(),
    region: LOCAL_REGION,
    resources: e.resources ?? [],
    detail: e.detail,
  };
}

/** Appends events to the log as the local events:putEvents does; returns them with their ids. */
export function appendEvents(
  root: string,
  events: Array<Pick<LoggedEvent, 'source' | 'detail-type' | 'detail' | 'resources'>>,
): LoggedEvent[] {
  const file = eventsLog(root);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return events.map((e) => {
    const logged: LoggedEvent = {
      id: randomUUID(),
      source: e.source,
      'detail-type': e['detail-type'],
      detail: e.detail,
      'event-bus-name': 'default',
      resources: e.resources ?? [],
      time: new Date().toISOString(),
    };
    fs.appendFileSync(file, `${JSON.stringify(logged)}\n`);
    return logged;
  });
}

function executionName(rule: PipelineEventRule, eventId: string): string {
  return `${rule.name}-${eventId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`.slice(0, 80);
}

/**
 * Runs the targets of every rule the events match, then those of the events the runs put, round after round
 * (at most MAX_CHAIN). A failed run is reported in the result, never thrown: on AWS a failed target execution
 * alerts through its own failure path and does not affect the one that put the event.
 */
export async function dispatchEvents(events: LoggedEvent[], options: DispatchOptions = {}): Promise<DispatchedRun[]> {
  const root = localRoot(options.root);
  const runs: DispatchedRun[] = [];
  let pending = events;
  for (let round = 0; round < MAX_CHAIN && pending.length > 0; round++) {
    const offset = eventsLogOffset(root);
    for (const e of pending) {
      for (const rule of rulesMatching(envelope(e), LOCAL_RULE_CONTEXT)) {
        options.onProgress?.({
          kind: 'log',
          message: `event ${e['detail-type']} (${e.id}) matches rule ${rule.name}: starting ${rule.target}`,
          at: Date.now(),
        });
        const result = await runLocal({
          ...options,
          root,
          stateMachine: rule.target,
          input: envelope(e) as unknown as Json,
          executionName: executionName(rule, e.id),
        });
        runs.push({ rule: rule.name, eventId: e.id, target: rule.target, result });
      }
    }
    pending = eventsSince(root, offset);
  }
  if (pending.length > 0) {
    throw new Error(
      `local event bus: events still pending after ${MAX_CHAIN} rounds (a rule loop?): ${pending
        .map((e) => e['detail-type'])
        .join(', ')}`,
    );
  }
  return runs;
}

/** Puts events on the local bus (the log) and runs the rules they match: `clv models approve` uses it. */
export async function publishLocalEvents(
  events: Array<Pick<LoggedEvent, 'source' | 'detail-type' | 'detail' | 'resources'>>,
  options: DispatchOptions = {},
): Promise<DispatchedRun[]> {
  const root = localRoot(options.root);
  return dispatchEvents(appendEvents(root, events), { ...options, root });
}
