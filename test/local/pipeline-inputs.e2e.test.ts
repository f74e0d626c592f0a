/**
 * Every pipeline's ASL file refuses a malformed input in its first state (ValidateInput, the in-process Lambda
 * lambdas/validate-input on the local runner): status FAILED, error InvalidPipelineInput, a cause naming the field,
 * and nothing else runs (no alert: the InvalidInput Fail state is reached straight from ValidateInput's Catch).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../local/history.js';
import type { Json } from '../../local/integrations/types.js';
import { runLocal } from '../../local/runner.js';

const roots: string[] = [];

afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function enteredStates(history: HistoryEvent[]): string[] {
  return history
    .filter((e) => e.type.endsWith('StateEntered'))
    .map((e) => {
      const key = Object.keys(e).find((k) => k.endsWith('EventDetails'));
      return key === undefined ? '' : ((e[key] as { name?: string }).name ?? '');
    });
}

const cases: [string, string, Json, string][] = [
  ['data-pipeline', 'a wrong date', { date: '2024-02-30' }, 'date: expected a date YYYY-MM-DD, got \\"2024-02-30\\"'],
  ['data-pipeline', 'an unknown field', { date: '2024-03-01', cutofff: '2024-03-01' }, 'cutofff: unknown field'],
  ['data-pipeline', 'a bad type', { date: '2024-03-01', clickstream: 'yes' }, 'clickstream: expected true or false'],
  [
    'training-pipeline',
    'a wrong date',
    { training_cutoff: '2022-01-01', validation_cutoff: '2022-07-01', test_cutoff: '2024-13-01' },
    'test_cutoff: expected a date YYYY-MM-DD, got \\"2024-13-01\\"',
  ],
  [
    'training-pipeline',
    'an unknown field',
    { training_cutoff: '2022-01-01', validation_cutoff: '2022-07-01', test_cutoff: '2023-01-01', tunes: true },
    'tunes: unknown field',
  ],
  [
    'training-pipeline',
    'a bad type',
    { training_cutoff: '2022-01-01', validation_cutoff: '2022-07-01', test_cutoff: '2023-01-01', tune: 'true' },
    'tune: expected true or false',
  ],
  [
    'batch-scoring',
    'a wrong date',
    { cutoff: '2023-02-29' },
    'cutoff: expected a date YYYY-MM-DD, got \\"2023-02-29\\"',
  ],
  ['batch-scoring', 'an unknown field', { cutoff: '2024-03-01', model: 'x' }, 'model: unknown field'],
  ['batch-scoring', 'a bad type', { scheduledTime: 1700000000 }, 'scheduledTime: expected an ISO-8601 date-time'],
];

describe('ValidateInput refuses malformed input in every pipeline', () => {
  it.each(cases)('%s: %s', async (stateMachine, _, input, fieldMessage) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-inputs-'));
    roots.push(root);
    const result = await runLocal({ stateMachine, root, input, waits: 'none' });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('InvalidPipelineInput');
    // Cause: the Lambda error JSON {"errorType","errorMessage","trace"} as Step Functions reports it.
    expect(result.cause).toContain('"errorType":"InvalidPipelineInput"');
    expect(result.cause).toContain(`${stateMachine}: invalid input: `);
    expect(result.cause).toContain(fieldMessage);
    expect(enteredStates(result.history)).toEqual(['ValidateInput', 'InvalidInput']);
  });
});
