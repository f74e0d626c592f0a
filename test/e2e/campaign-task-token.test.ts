/**
 * The local stand-in of `arn:aws:states:::lambda:invoke.waitForTaskToken` (local/integrations/task-token.ts): it
 * invokes the function with the token, waits for SendTaskSuccess/SendTaskFailure written by another caller, times
 * out with States.Timeout, and refuses a Payload that does not carry the token. The runner gives `$$.Task.Token`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  lambdaInvokeWaitForTaskToken,
  localTaskToken,
  sendTaskFailure,
  sendTaskSuccess,
  taskTokenDir,
  WAIT_FOR_TASK_TOKEN,
  waitingTask,
} from '../../local/integrations/task-token.js';
import type { Json } from '../../local/integrations/types.js';
import { stubRuntime } from '../local/helpers/runtime.js';

let root = '';
const EXECUTION = {
  name: 'tt-1',
  arn: 'arn:aws:states:eu-west-1:000000000000:execution:clv-local-campaign-experiment:tt-1',
  stateMachineName: 'campaign-experiment',
  startTime: '2024-01-01T00:00:00.000Z',
};
const TOKEN = localTaskToken(EXECUTION.arn, EXECUTION.startTime);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-task-token-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const call = (payload: Record<string, Json>) =>
  lambdaInvokeWaitForTaskToken.invoke(
    {
      stateName: 'WaitForOutcomes',
      resource: WAIT_FOR_TASK_TOKEN,
      parameters: {
        FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-campaign-token',
        Payload: payload,
      },
    },
    stubRuntime(root, { execution: EXECUTION }),
  );

const payload = (extra: Record<string, Json> = {}): Record<string, Json> => ({
  campaign_id: 'tt',
  task_token: TOKEN,
  execution_arn: EXECUTION.arn,
  timeout_seconds: 30,
  artifacts_bucket: 'clv-local-artifacts',
  ...extra,
});

const recordFile = () => path.join(root, 'clv-local-artifacts', 'campaigns', 'tt', 'task-token.json');

/** Until the Task waits and the Lambda has stored the token record. */
async function untilWaiting(): Promise<void> {
  for (let i = 0; i < 200 && !(waitingTask(root, TOKEN) && fs.existsSync(recordFile())); i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(waitingTask(root, TOKEN)?.state).toBe('WaitForOutcomes');
}

describe('lambda:invoke.waitForTaskToken stand-in', () => {
  it('is the stand-in of the Resource and its id keys the permissions table', () => {
    expect(lambdaInvokeWaitForTaskToken.matches(WAIT_FOR_TASK_TOKEN)).toBe(true);
    expect(lambdaInvokeWaitForTaskToken.matches('arn:aws:states:::lambda:invoke')).toBe(false);
    expect(lambdaInvokeWaitForTaskToken.id).toBe('lambda:invoke.waitForTaskToken');
  });

  it('stores the token through the Lambda, waits, and returns the SendTaskSuccess output', async () => {
    const running = call(payload());
    await untilWaiting();
    const record = JSON.parse(fs.readFileSync(recordFile(), 'utf8'));
    expect(record.task_token).toBe(TOKEN);
    sendTaskSuccess(root, TOKEN, JSON.stringify({ outcomes_uri: 's3://x/y/' }));
    await expect(running).resolves.toEqual({ outcomes_uri: 's3://x/y/' });
    expect(waitingTask(root, TOKEN)).toBeUndefined();
    expect(fs.readdirSync(taskTokenDir(root))).toEqual([]);
    // the task has ended: a second report finds nothing to report
    expect(() => sendTaskSuccess(root, TOKEN, '{}')).toThrow(
      expect.objectContaining({ name: 'StepFunctions.TaskDoesNotExist' }),
    );
  });

  it('SendTaskFailure fails the Task with the given error and cause', async () => {
    const running = call(payload());
    await untilWaiting();
    sendTaskFailure(root, TOKEN, 'CampaignCancelled', 'no budget');
    await expect(running).rejects.toMatchObject({ name: 'CampaignCancelled', message: 'no budget' });
  });

  it('times out with States.Timeout after timeout_seconds, and no longer accepts a report', async () => {
    const started = Date.now();
    await expect(call(payload({ timeout_seconds: 1 }))).rejects.toMatchObject({ name: 'States.Timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(() => sendTaskSuccess(root, TOKEN, '{}')).toThrow(/No task waits on this token/);
  });

  it('refuses a Payload without the task token (nobody could resume the Task)', async () => {
    await expect(call(payload({ task_token: 'something-else' }))).rejects.toMatchObject({ name: 'States.Runtime' });
    expect(waitingTask(root, TOKEN)).toBeUndefined();
  });

  it('a wrong token, an empty token or non-JSON output are refused as Step Functions refuses them', async () => {
    const running = call(payload());
    await untilWaiting();
    expect(() => sendTaskSuccess(root, `${TOKEN}x`, '{}')).toThrow(
      expect.objectContaining({ name: 'StepFunctions.TaskDoesNotExist' }),
    );
    expect(() => sendTaskSuccess(root, '', '{}')).toThrow(
      expect.objectContaining({ name: 'StepFunctions.InvalidToken' }),
    );
    expect(() => sendTaskSuccess(root, TOKEN, '{not json')).toThrow(
      expect.objectContaining({ name: 'StepFunctions.InvalidOutput' }),
    );
    sendTaskSuccess(root, TOKEN, '{"ok":true}');
    await expect(running).resolves.toEqual({ ok: true });
  });

  it('the Lambda refusing the event fails the Task before any wait', async () => {
    await expect(call(payload({ campaign_id: 'Bad Id' }))).rejects.toMatchObject({ name: 'InvalidCampaignTokenEvent' });
    expect(waitingTask(root, TOKEN)).toBeUndefined();
  });
});
