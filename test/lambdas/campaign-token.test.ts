/**
 * The campaign-token Lambda (the campaign experiment's WaitForOutcomes Task): stores the task token record where the
 * CLI and the runbook read it, and refuses an event without a token, with a bad campaign id or a bad timeout.
 */
import { describe, expect, it } from 'vitest';
import {
  InvalidCampaignTokenEventError,
  parseCampaignTokenEvent,
  storeTaskToken,
  taskTokenRecordSchema,
  tokenRecordUri,
} from '../../lambdas/campaign-token/core.js';
import { MemoryObjectStore } from './helpers/memory-store.js';

const EVENT = {
  campaign_id: 'spring-canary',
  task_token: 'AQCEAAAAKgAAAAMAAAAA-token',
  execution_arn: 'arn:aws:states:eu-west-1:111111111111:execution:clv-dev-campaign-experiment:run-1',
  timeout_seconds: 86_400,
  artifacts_bucket: 'clv-dev-artifacts-111111111111-eu-west-1',
};

describe('campaign-token Lambda core', () => {
  it('stores {campaign_id, task_token, execution_arn, stored_at, expires_at} at campaigns/<id>/task-token.json', async () => {
    const store = new MemoryObjectStore();
    const now = new Date('2024-03-01T10:00:00.000Z');
    const stored = await storeTaskToken(store, EVENT, now);
    const uri = 's3://clv-dev-artifacts-111111111111-eu-west-1/campaigns/spring-canary/task-token.json';
    expect(stored).toEqual({ record_uri: uri, campaign_id: 'spring-canary', expires_at: '2024-03-02T10:00:00.000Z' });
    expect(tokenRecordUri(EVENT.artifacts_bucket, 'spring-canary')).toBe(uri);
    const object = store.objects.get(uri);
    expect(object?.contentType).toBe('application/json');
    const record = taskTokenRecordSchema.parse(JSON.parse(object?.body ?? '{}'));
    expect(record).toEqual({
      campaign_id: 'spring-canary',
      task_token: EVENT.task_token,
      execution_arn: EVENT.execution_arn,
      stored_at: '2024-03-01T10:00:00.000Z',
      expires_at: '2024-03-02T10:00:00.000Z',
    });
  });

  it('a rerun of the campaign replaces the record (only the newest execution can be resumed)', async () => {
    const store = new MemoryObjectStore();
    await storeTaskToken(store, EVENT);
    await storeTaskToken(store, { ...EVENT, task_token: 'second', execution_arn: `${EVENT.execution_arn}-2` });
    const [only] = [...store.objects.values()];
    expect(store.objects.size).toBe(1);
    expect(JSON.parse(only?.body ?? '{}').task_token).toBe('second');
  });

  it.each([
    [{ ...EVENT, task_token: undefined }, /task_token: expected the task token/],
    [{ ...EVENT, task_token: '' }, /task_token: expected the task token .*empty/],
    [{ ...EVENT, task_token: 'x'.repeat(2049) }, /task_token: expected at most 2048/],
    [{ ...EVENT, campaign_id: 'Spring Canary' }, /campaign_id: expected 1-40 lowercase/],
    [{ ...EVENT, campaign_id: 'a'.repeat(41) }, /campaign_id/],
    [{ ...EVENT, execution_arn: 'run-1' }, /execution_arn: expected a Step Functions execution ARN/],
    [{ ...EVENT, timeout_seconds: 0 }, /timeout_seconds: expected ≥ 1 second/],
    [{ ...EVENT, timeout_seconds: 1.5 }, /timeout_seconds: expected the wait timeout in whole seconds/],
    [{ ...EVENT, artifacts_bucket: 'Not_A_Bucket' }, /artifacts_bucket: expected an S3 bucket name/],
    [{ ...EVENT, extra: 1 }, /extra|unrecognized/i],
  ])('refuses a bad event, naming the field (%#)', async (event, message) => {
    const store = new MemoryObjectStore();
    await expect(storeTaskToken(store, event)).rejects.toThrow(message);
    await expect(storeTaskToken(store, event)).rejects.toBeInstanceOf(InvalidCampaignTokenEventError);
    expect(store.objects.size).toBe(0);
  });

  it('the error is named for the Catch (InvalidCampaignTokenEvent)', () => {
    expect(() => parseCampaignTokenEvent({})).toThrow(expect.objectContaining({ name: 'InvalidCampaignTokenEvent' }));
  });
});
