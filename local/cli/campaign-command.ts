/**
 * `clv campaign complete <campaign-id> --outcomes URI` and `clv campaign status <campaign-id>`: the local side of the
 * campaign experiment's wait for outcomes (docs/runbooks/campaign-experiment.md).
 *
 * complete: reads the task token the waiting execution stored (s3://clv-local-artifacts/campaigns/<id>/task-token.json,
 * lambdas/campaign-token), checks that URI is the campaign's campaign_outcomes partition
 * (s3://clv-local-gold/campaigns/outcomes/campaign_id=<id>/) holding at least one Parquet file, and sends
 * SendTaskSuccess with `{"outcomes_uri": URI}` (local/integrations/task-token.ts). In AWS the same is
 * `aws stepfunctions send-task-success` (the runbook).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type TaskTokenRecord, taskTokenRecordSchema, tokenRecordUri } from '../../lambdas/campaign-token/core.js';
import { campaignIdSchema } from '../../lib/contracts/pipeline-inputs.js';
import { bucketName } from '../constants.js';
import { sendTaskSuccess, waitingTask } from '../integrations/task-token.js';
import { listObjects, localRoot, readObject } from '../storage.js';
import type { Command } from './commands.js';

const USAGE = `usage: npm run clv -- campaign complete <campaign-id> --outcomes URI [--root DIR]
       npm run clv -- campaign status <campaign-id> [--root DIR]

  complete  resumes the campaign experiment waiting for this campaign's outcomes (SendTaskSuccess with
            {"outcomes_uri": URI}); URI must be s3://${bucketName('Gold')}/campaigns/outcomes/campaign_id=<id>/
            and hold the outcomes Parquet file(s) (e.g. written by: npm run clv -- generate campaign-outcomes).
  status    the campaign's token record, whether an execution waits on it, its audience and its decision.
  --root    local root (default $CLV_LOCAL_ROOT or .clv-local). See docs/runbooks/campaign-experiment.md.`;

/** The local location of a campaign's outcomes partition (the only URI `complete` accepts). */
export function outcomesPartitionUri(campaignId: string): string {
  return `s3://${bucketName('Gold')}/campaigns/outcomes/campaign_id=${campaignId}/`;
}

function parseCampaignId(value: string | undefined, sub: string): string {
  const r = campaignIdSchema.safeParse(value);
  if (!r.success) {
    throw new Error(
      `campaign ${sub}: campaign id: ${r.error.issues[0]?.message ?? 'invalid'}, got ${JSON.stringify(value)}`,
    );
  }
  return r.data;
}

/** The stored token record of a campaign; fails naming the campaign when there is none (unknown campaign). */
export function readTokenRecord(root: string, campaignId: string): TaskTokenRecord {
  const uri = tokenRecordUri(bucketName('Artifacts'), campaignId);
  let text: string;
  try {
    text = readObject(uri, root).toString('utf8');
  } catch {
    throw new Error(
      `unknown campaign '${campaignId}': no task token record at ${uri} (no campaign-experiment execution has reached WaitForOutcomes for it in ${root})`,
    );
  }
  const parsed = taskTokenRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${uri} is not a task token record: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Resumes the campaign's waiting execution with its outcomes; returns the text to print. */
export function completeCampaign(root: string, campaignId: string, outcomesUri: string): string {
  const record = readTokenRecord(root, campaignId);
  const expected = outcomesPartitionUri(campaignId);
  const given = outcomesUri.endsWith('/') ? outcomesUri : `${outcomesUri}/`;
  if (given !== expected) {
    throw new Error(
      `campaign complete: --outcomes must be the campaign's outcomes partition ${expected}, got ${outcomesUri}`,
    );
  }
  const files = listObjects(expected, root).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) {
    throw new Error(
      `campaign complete: no Parquet file under ${expected}: write the outcomes first (npm run clv -- generate campaign-outcomes --campaign ${campaignId})`,
    );
  }
  const waiting = sendTaskSuccess(root, record.task_token, JSON.stringify({ outcomes_uri: expected }));
  return [
    `campaign ${campaignId}: outcomes sent to ${waiting.execution_arn} (${waiting.state})`,
    `  outcomes_uri ${expected} (${files.length} Parquet file(s))`,
  ].join('\n');
}

function readJson(uri: string, root: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readObject(uri, root).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The campaign's state as far as the local files tell; returns the text to print. */
export function campaignStatus(root: string, campaignId: string): string {
  const record = readTokenRecord(root, campaignId);
  const waiting = waitingTask(root, record.task_token);
  const lines = [
    `campaign ${campaignId}`,
    `  execution   ${record.execution_arn}`,
    `  token       stored ${record.stored_at}, expires ${record.expires_at}`,
    `  waiting     ${waiting ? `yes (${waiting.state} since ${waiting.started_at})` : 'no (completed, failed or timed out)'}`,
  ];
  const summary = readJson(`s3://${bucketName('Artifacts')}/campaigns/${campaignId}/audience-summary.json`, root);
  if (summary) {
    const arm = (name: string) => (summary[name] ?? {}) as { selected?: number; model_version?: string };
    lines.push(
      `  audience    ${String(summary.customers_considered)} considered; control ${String(arm('control').selected)} (${String(arm('control').model_version)}), treatment ${String(arm('treatment').selected)} (${String(arm('treatment').model_version)}); scoring date ${String(summary.scoring_date)}`,
    );
  }
  const analysis = readJson(
    `s3://${bucketName('Gold')}/campaigns/reports/campaign_id=${campaignId}/analysis.json`,
    root,
  );
  lines.push(`  decision    ${analysis ? String(analysis.decision) : '(not analysed yet)'}`);
  return lines.join('\n');
}

/** Runs one `campaign` subcommand; returns the text to print (throws with a clear message on a bad call). */
export function campaignMain(argv: string[]): string {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { outcomes: { type: 'string' }, root: { type: 'string' } },
  });
  const root = values.root ?? localRoot();
  const [sub, id, ...extra] = positionals;
  if (extra.length > 0) throw new Error(`campaign: unexpected arguments ${extra.join(' ')}\n\n${USAGE}`);
  switch (sub) {
    case 'complete': {
      const campaignId = parseCampaignId(id, sub);
      if (values.outcomes === undefined) throw new Error(`campaign complete: --outcomes URI is required\n\n${USAGE}`);
      return completeCampaign(root, campaignId, values.outcomes);
    }
    case 'status':
      return campaignStatus(root, parseCampaignId(id, sub));
    default:
      throw new Error(`campaign: unknown subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
  }
}

export const campaignCommand: Command = {
  summary: 'complete a campaign experiment with its outcomes, or show its status',
  usage: USAGE,
  async run(argv) {
    try {
      console.log(campaignMain(argv));
      return 0;
    } catch (err) {
      console.error(`clv campaign: ${(err as Error).message}`);
      return 1;
    }
  },
};
