/**
 * Every SNS message a state machine publishes to the alerts topic is one the alert router reads as what it is: a
 * `summary` in a Message is text (the router's schema, lib/contracts/alerts.ts), else the message becomes a High
 * `unparseable_alert` and pages. The shadow pipeline once sent its gate's summary object as `summary`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';

type Node = Record<string, unknown>;

function snsMessages(node: unknown, found: { file: string; state: string; message: Node }[], file: string): void {
  if (node === null || typeof node !== 'object') return;
  const states = (node as { States?: Record<string, Node> }).States;
  if (states) {
    for (const [name, state] of Object.entries(states)) {
      const parameters = state.Parameters as Node | undefined;
      if (state.Resource === 'arn:aws:states:::sns:publish' && parameters && typeof parameters.Message === 'object') {
        found.push({ file, state: name, message: parameters.Message as Node });
      }
    }
  }
  for (const v of Object.values(node)) snsMessages(v, found, file);
}

describe('alert messages of the state machines', () => {
  const dir = path.join(repoRoot, 'state-machines');
  const found: { file: string; state: string; message: Node }[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.asl.json'))) {
    snsMessages(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), found, file);
  }

  it('finds the publish states', () => {
    expect(found.length).toBeGreaterThan(10);
  });

  it('a summary is literal text or a path to a text field the state computes, never an object', () => {
    for (const { file, state, message } of found) {
      if ('summary' in message) expect(typeof message.summary, `${file} ${state}`).toBe('string');
      const p = message['summary.$'];
      if (p !== undefined) {
        // paths the tests know to hold text: a Format, a notification's summary, the retraining reason
        expect(
          typeof p === 'string' &&
            (p.startsWith('States.Format(') || p === '$.notification.summary' || p === '$.decision.retrain_reason'),
          `${file} ${state}: summary.$ = ${String(p)}`,
        ).toBe(true);
      }
    }
  });
});
