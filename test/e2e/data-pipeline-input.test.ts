/**
 * The data pipeline's input handling on the local runtime, without Spark: a malformed backfill_from is refused, the
 * daily path schedules the unchanged Glue arguments and a backfill adds --date-from (the Glue calls are failed by
 * fault injection before any job starts, so the executions end in the alerting failure path).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Json } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';

const roots: string[] = [];

async function run(input: Json): Promise<LocalRunResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-dp-input-'));
  roots.push(root);
  return runLocal({
    stateMachine: 'data-pipeline',
    root,
    input,
    waits: 'none',
    failures: { 'glue:startJobRun.sync': 10 },
  });
}

/** The Arguments of every Glue TaskScheduled event, by state, in order. */
function glueCalls(result: LocalRunResult): { state: string; args: Record<string, string> }[] {
  const calls: { state: string; args: Record<string, string> }[] = [];
  let state = '';
  for (const e of result.history) {
    if (e.type === 'TaskStateEntered') state = (e.taskStateEnteredEventDetails as { name: string }).name;
    if (e.type === 'TaskScheduled') {
      const d = e.taskScheduledEventDetails as { resource: string; parameters: string };
      if (d.resource.startsWith('startJobRun')) {
        calls.push({ state, args: (JSON.parse(d.parameters) as { Arguments: Record<string, string> }).Arguments });
      }
    }
  }
  return calls;
}

afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

describe('data pipeline input', () => {
  it.each([{ backfill_from: 'last year' }, { backfill_from: 20230101 }])(
    'refuses a backfill_from that is not a date: %j',
    async (extra) => {
      const result = await run({ date: '2024-03-01', ...extra });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('InvalidInput');
      expect(glueCalls(result)).toEqual([]);
    },
  );

  it('the daily path runs IngestTransactions with the date only', async () => {
    const result = await run({ date: '2024-03-01' });
    expect(result.error).toBe('DataPipelineFailed');
    const calls = glueCalls(result);
    expect(calls.map((c) => c.state)).toEqual(['IngestTransactions', 'IngestTransactions', 'IngestTransactions']);
    expect(calls[0]?.args['--date']).toBe('2024-03-01');
    expect(calls[0]?.args).not.toHaveProperty('--date-from');
  });

  it('a backfill runs IngestTransactionsBackfill over [backfill_from, date]', async () => {
    const result = await run({ date: '2024-12-31', backfill_from: '2023-01-01' });
    expect(result.error).toBe('DataPipelineFailed');
    const calls = glueCalls(result);
    expect(calls[0]?.state).toBe('IngestTransactionsBackfill');
    expect(calls[0]?.args).toMatchObject({ '--date': '2024-12-31', '--date-from': '2023-01-01' });
  });
});
