/**
 * What the demo prints while it runs: a header per stage with its number, per-state lines with durations for the
 * Task, Map and Parallel states of every execution (nested executions indented), and the executions' own timings
 * (a monitoring run starts a retraining, which starts a shadow run: each is timed).
 */
import type { ProgressEvent } from '../runner.js';

export interface ExecutionTiming {
  stateMachine: string;
  execution: string;
  status: 'SUCCEEDED' | 'FAILED';
  seconds: number;
}

const BOLD = (s: string, tty: boolean): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const TIMED_TYPES = new Set(['Task', 'Map', 'Parallel']);

export class DemoProgress {
  readonly executions: ExecutionTiming[] = [];
  private readonly stack: { stateMachine: string; execution: string; at: number }[] = [];
  private readonly tty: boolean;

  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
    this.tty = process.stdout.isTTY === true;
  }

  line(text: string): void {
    this.write(text);
  }

  stage(index: string, text: string): void {
    this.write('');
    this.write(BOLD(`== ${index} ${text}`, this.tty));
  }

  /** The runner's progress events, for every execution of the stage (nested ones too). */
  onProgress = (e: ProgressEvent): void => {
    const depth = this.stack.length;
    const pad = '  '.repeat(depth + 1);
    switch (e.kind) {
      case 'started': {
        // the runner names the definition file and the execution ARN: keep the pipeline and execution names
        const stateMachine = e.stateMachine.replace(/\.asl\.json$/, '');
        const execution = e.execution.split(':').pop() ?? e.execution;
        this.stack.push({ stateMachine, execution, at: e.at });
        this.write(`${'  '.repeat(depth)}▶ ${stateMachine} ${execution}`);
        return;
      }
      case 'finished': {
        const top = this.stack.pop();
        if (top) {
          this.executions.push({
            stateMachine: top.stateMachine,
            execution: top.execution,
            status: e.status,
            seconds: e.ms / 1000,
          });
        }
        this.write(
          `${'  '.repeat(Math.max(0, depth - 1))}■ ${top?.stateMachine ?? ''} ${e.status} in ${seconds(e.ms)}`,
        );
        return;
      }
      case 'exited':
        if (TIMED_TYPES.has(e.type)) this.write(`${pad}✓ ${e.state}  ${seconds(e.ms)}`);
        return;
      case 'failed':
        this.write(`${pad}✗ ${e.state}  ${e.error}: ${e.cause.length > 240 ? `${e.cause.slice(0, 240)}…` : e.cause}`);
        return;
      case 'retried':
        this.write(`${pad}↻ ${e.state}  retry ${e.attempt}`);
        return;
      case 'caught':
        this.write(`${pad}⤷ ${e.state}  caught → ${e.next}`);
        return;
      case 'log':
        this.write(`${pad}· ${e.message}`);
        return;
      default:
        return;
    }
  };
}
