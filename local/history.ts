/**
 * Execution history in Step Functions' shape (GetExecutionHistory events: id, previousEventId, timestamp, type,
 * <type>EventDetails), built from the interpreter's event log plus the Task events the runner records itself
 * (TaskScheduled, TaskStarted, TaskSucceeded, TaskFailed).
 */
import type { Json } from './integrations/types.js';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: string;
  type: string;
  [details: string]: Json;
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/** Splits a Task Resource into Step Functions' resourceType / resource (e.g. glue / startJobRun.sync). */
export function resourceParts(resource: string): { resourceType: string; resource: string } {
  const m = /^arn:aws:states:::(?:aws-sdk:)?([a-z0-9-]+):(.+)$/.exec(resource);
  if (m) return { resourceType: m[1] as string, resource: m[2] as string };
  const fn = /^arn:aws:lambda:[^:]+:\d{12}:function:(.+)$/.exec(resource);
  if (fn) return { resourceType: 'lambda', resource: resource };
  return { resourceType: 'unknown', resource };
}

/**
 * The details field of an event type as Step Functions names it: every `<Kind>StateEntered`/`<Kind>StateExited`
 * event shares `stateEnteredEventDetails`/`stateExitedEventDetails`; other types use `<type>EventDetails`.
 */
export function detailsKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${lowerFirst(type)}EventDetails`;
}

export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];

  add(type: string, details: Record<string, Json> | undefined, at: number = Date.now()): void {
    const id = this.events.length + 1;
    const event: HistoryEvent = { id, previousEventId: id - 1, timestamp: new Date(at).toISOString(), type };
    if (details !== undefined) event[detailsKey(type)] = details;
    this.events.push(event);
  }

  /** How many events of a type were recorded (tests use it). */
  count(type: string): number {
    return this.events.filter((e) => e.type === type).length;
  }
}
