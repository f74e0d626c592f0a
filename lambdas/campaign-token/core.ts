/**
 * Campaign token (the campaign-experiment pipeline's WaitForOutcomes Task, `lambda:invoke.waitForTaskToken`):
 * stores the task token Step Functions hands the Task, so that whoever holds the campaign's outcomes can resume the
 * execution: `clv campaign complete <id> --outcomes URI` locally, `aws stepfunctions send-task-success` in AWS
 * (docs/runbooks/campaign-experiment.md).
 *
 * The record is `s3://<artifacts bucket>/campaigns/<campaign id>/task-token.json`:
 * `{campaign_id, task_token, execution_arn, stored_at, expires_at}` (expires_at: stored_at + timeout_seconds, when
 * Step Functions times the wait out). A rerun of the campaign replaces the record: only the newest execution can be
 * resumed (the older one times out).
 */
import { z } from 'zod';
import { campaignIdSchema } from '../../lib/contracts/pipeline-inputs.js';
import type { ObjectStore } from '../shared/object-store.js';

/** Where a campaign's task token record lives in the artifacts bucket. */
export function tokenRecordKey(campaignId: string): string {
  return `campaigns/${campaignId}/task-token.json`;
}

export function tokenRecordUri(artifactsBucket: string, campaignId: string): string {
  return `s3://${artifactsBucket}/${tokenRecordKey(campaignId)}`;
}

export const campaignTokenEventSchema = z.strictObject({
  campaign_id: campaignIdSchema,
  task_token: z
    .string({ error: 'expected the task token ($$.Task.Token)' })
    .min(1, 'expected the task token ($$.Task.Token), got an empty string')
    .max(2048, 'expected at most 2048 characters (the Step Functions limit)'),
  execution_arn: z
    .string({ error: 'expected the execution ARN ($$.Execution.Id)' })
    .regex(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/,
      'expected a Step Functions execution ARN',
    ),
  timeout_seconds: z
    .int({ error: 'expected the wait timeout in whole seconds' })
    .min(1, 'expected ≥ 1 second')
    .max(366 * 86_400, 'expected at most a year'),
  artifacts_bucket: z
    .string({ error: 'expected the artifacts bucket name' })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name'),
});
export type CampaignTokenEvent = z.infer<typeof campaignTokenEventSchema>;

/** The stored record (what `clv campaign complete` and the runbook's send-task-success read). */
export const taskTokenRecordSchema = z.strictObject({
  campaign_id: campaignIdSchema,
  task_token: z.string().min(1).max(2048),
  execution_arn: z.string().min(1),
  stored_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
});
export type TaskTokenRecord = z.infer<typeof taskTokenRecordSchema>;

/** The event is not what the ASL's WaitForOutcomes Payload sends (a wiring error, or a token missing). */
export class InvalidCampaignTokenEventError extends Error {
  override readonly name = 'InvalidCampaignTokenEvent';
}

export function parseCampaignTokenEvent(event: unknown): CampaignTokenEvent {
  const r = campaignTokenEventSchema.safeParse(event);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    throw new InvalidCampaignTokenEventError(`campaign-token: invalid event: ${issues}`);
  }
  return r.data;
}

export interface StoredToken {
  record_uri: string;
  campaign_id: string;
  expires_at: string;
}

/** Stores the token record; returns where (Step Functions ignores a callback Task's Lambda result). */
export async function storeTaskToken(store: ObjectStore, event: unknown, now: Date = new Date()): Promise<StoredToken> {
  const e = parseCampaignTokenEvent(event);
  const record: TaskTokenRecord = {
    campaign_id: e.campaign_id,
    task_token: e.task_token,
    execution_arn: e.execution_arn,
    stored_at: now.toISOString(),
    expires_at: new Date(now.getTime() + e.timeout_seconds * 1000).toISOString(),
  };
  const uri = tokenRecordUri(e.artifacts_bucket, e.campaign_id);
  await store.putText(uri, `${JSON.stringify(record, null, 2)}\n`, 'application/json');
  return { record_uri: uri, campaign_id: e.campaign_id, expires_at: record.expires_at };
}
