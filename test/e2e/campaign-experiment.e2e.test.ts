/**
 * End to end, offline: state-machines/campaign-experiment.asl.json on the local runtime with the real stand-ins.
 * The registry holds a Production (champion) and a Canary (challenger) package, and the gold predictions table holds
 * both models' predictions at one scoring date (fixtures: no training). The experiment runs in the background:
 * ValidateInput → the two packages → the latest common scoring date (Athena) → the audience export (the real
 * processing entry sagemaker/campaign_audience.py) → the campaign_audiences partition → WaitForOutcomes (task token);
 * the test then writes the campaign_outcomes Parquet with a planted lift for the treatment arm and completes the
 * campaign through the CLI core (`clv campaign complete`); the run registers the outcomes partition, aggregates the
 * arms (Athena), analyses (lambdas/experiment-analysis) and records the decision in the challenger's metadata.
 * Failures: an unknown campaign, a wrong token, a wrong outcomes URI (refused by the CLI, and by the state machine when
 * sent directly), a completion after the end, a SendTaskFailure. The task timeout: test/e2e/campaign-task-token.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignMain, completeCampaign, readTokenRecord } from '../../local/cli/campaign-command.js';
import { createModelPackage, listPackages } from '../../local/integrations/durable.js';
import { gluePartitions } from '../../local/integrations/glue-catalog.js';
import { sendTaskFailure, sendTaskSuccess, waitingTask } from '../../local/integrations/task-token.js';
import type { Json } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { readObject, resolveS3Uri } from '../../local/storage.js';
import { stubRuntime } from '../local/helpers/runtime.js';

const GROUP = 'clv-local-clv-models';
const CHAMPION = 'clv-train-champion';
const CHALLENGER = 'clv-train-challenger';
const OLD_DATE = '2024-01-07';
const SCORING_DATE = '2024-01-14';
const CUSTOMERS = 2000;
const CAMPAIGN = 'spring-ab';
const FAILING_CAMPAIGN = 'spring-fail';
const REDIRECTED_CAMPAIGN = 'spring-redirect';

let root = '';
let run: LocalRunResult;
let failed: LocalRunResult;
let redirected: LocalRunResult;
let completeOutput = '';
let statusWhileWaiting = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sql(statement: string): Promise<Record<string, Json>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(statement);
  const rows = reader.getRowObjectsJson() as Record<string, Json>[];
  conn.closeSync();
  instance.closeSync();
  return rows;
}

/** A predictions partition of `model` at `date`: every customer, scores from a seeded hash. */
async function writePredictions(date: string, model: string, seed: number): Promise<void> {
  const dir = resolveS3Uri(`s3://clv-local-gold/predictions/scoring_date=${date}/model_version=${model}/`, root);
  fs.mkdirSync(dir, { recursive: true });
  const score = `((hash(i * 7919 + ${seed}) % 10000) / 100.0)`;
  await sql(`COPY (
    SELECT printf('C%05d', i) AS customer_id,
      ${score} * 4.0 AS predicted_revenue_12m,
      0.3 AS churn_probability,
      ${score} AS clv_score,
      CASE WHEN ${score} >= 80 THEN 'High' WHEN ${score} >= 40 THEN 'Medium' ELSE 'Low' END AS tier,
      'recency' AS reason_1_feature, 0.1 AS reason_1_contribution,
      'frequency' AS reason_2_feature, 0.05 AS reason_2_contribution,
      'monetary' AS reason_3_feature, 0.01 AS reason_3_contribution,
      'tree_shap' AS reasons_method
    FROM range(${CUSTOMERS}) t(i)
  ) TO '${path.join(dir, 'part-00000.parquet')}' (FORMAT PARQUET)`);
}

async function registerPackage(stage: string, model: string, approval: string): Promise<void> {
  const rt = stubRuntime(root);
  await createModelPackage.invoke(
    {
      stateName: 'Fixture',
      resource: 'arn:aws:states:::aws-sdk:sagemaker:createModelPackage',
      parameters: {
        ModelPackageGroupName: GROUP,
        ModelApprovalStatus: approval,
        InferenceSpecification: {
          Containers: [
            { Image: 'local/xgboost:3.0-5', ModelDataUrl: `s3://clv-local-artifacts/models/${model}.tar.gz` },
          ],
        },
        CustomerMetadataProperties: { stage, model_version: model, shadow_passed: 'true' },
      } as Json,
    },
    rt,
  );
}

/** Waits until the campaign's execution waits on its task token. */
async function waitForToken(campaign: string, within = 120_000): Promise<string> {
  const deadline = Date.now() + within;
  while (Date.now() < deadline) {
    try {
      const record = readTokenRecord(root, campaign);
      if (waitingTask(root, record.task_token)) return record.task_token;
    } catch {
      // not stored yet
    }
    await sleep(100);
  }
  throw new Error(`campaign ${campaign}: no waiting task token within ${within} ms`);
}

/** campaign_outcomes for the audience: treatment converts 40%, control 10%, everyone spends 50; 2% unsubscribe. */
async function writeOutcomes(campaign: string): Promise<string> {
  const audience = resolveS3Uri(
    `s3://clv-local-gold/campaigns/audiences/campaign_id=${campaign}/audience.parquet`,
    root,
  );
  const uri = `s3://clv-local-gold/campaigns/outcomes/campaign_id=${campaign}/`;
  const dir = resolveS3Uri(uri, root);
  fs.mkdirSync(dir, { recursive: true });
  const bucket = '(hash(customer_id) % 100)';
  const converted = `CASE WHEN arm = 'treatment' THEN ${bucket} < 40 ELSE ${bucket} < 10 END`;
  await sql(`COPY (
    SELECT customer_id,
      CAST(${converted} AS INTEGER) AS converted,
      CASE WHEN ${converted} THEN 50.0 + (hash(customer_id || 'r') % 20) ELSE 0.0 END AS revenue,
      CAST((hash(customer_id || 'u') % 50) = 0 AS INTEGER) AS unsubscribed,
      '2024-02-01T00:00:00Z' AS observed_at
    FROM read_parquet('${audience}')
  ) TO '${path.join(dir, 'outcomes.parquet')}' (FORMAT PARQUET)`);
  return uri;
}

const start = (campaign: string, name: string) =>
  runLocal({
    stateMachine: 'campaign-experiment',
    root,
    executionName: name,
    input: { campaign_id: campaign, audience: { rule: 'top_n', n: 1200 }, mode: 'ab', max_days: 1 },
    waits: 'none',
  });

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-campaign-e2e-'));
  await registerPackage('Production', CHAMPION, 'Approved');
  await registerPackage('Canary', CHALLENGER, 'PendingManualApproval');
  await writePredictions(OLD_DATE, CHAMPION, 1);
  await writePredictions(SCORING_DATE, CHAMPION, 1);
  await writePredictions(SCORING_DATE, CHALLENGER, 2);

  const running = start(CAMPAIGN, 'campaign-e2e-1');
  await waitForToken(CAMPAIGN);
  statusWhileWaiting = campaignMain(['status', CAMPAIGN, '--root', root]);
  const outcomes = await writeOutcomes(CAMPAIGN);
  completeOutput = completeCampaign(root, CAMPAIGN, outcomes);
  run = await running;

  const failing = start(FAILING_CAMPAIGN, 'campaign-e2e-2');
  const token = await waitForToken(FAILING_CAMPAIGN);
  sendTaskFailure(root, token, 'CampaignCancelled', 'marketing cancelled the campaign');
  failed = await failing;

  // a completion (send-task-success) naming another location than the campaign's outcomes partition
  const redirecting = start(REDIRECTED_CAMPAIGN, 'campaign-e2e-3');
  const redirectToken = await waitForToken(REDIRECTED_CAMPAIGN);
  sendTaskSuccess(root, redirectToken, JSON.stringify({ outcomes_uri: 's3://clv-local-gold/elsewhere/' }));
  redirected = await redirecting;
}, 600_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const metadata = (version: number): Record<string, string> => {
  const record = listPackages(root, GROUP).find((p) => p.ModelPackageVersion === version);
  return (record?.CustomerMetadataProperties ?? {}) as Record<string, string>;
};

const snsMessages = (): Record<string, Json>[] => {
  const file = path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, Json>);
};

describe('campaign experiment, end to end on the local runtime', () => {
  it('succeeds and records the decision in the challenger package only, keeping its other metadata', () => {
    expect(run.status, `${run.error}: ${run.cause}`).toBe('SUCCEEDED');
    const challenger = metadata(2);
    expect(challenger.canary_decision).toBe('ship');
    expect(challenger.canary_campaign_id).toBe(CAMPAIGN);
    expect(challenger.canary_analysis_uri).toBe(
      `s3://clv-local-gold/campaigns/reports/campaign_id=${CAMPAIGN}/analysis.json`,
    );
    expect(challenger).toMatchObject({ stage: 'Canary', model_version: CHALLENGER, shadow_passed: 'true' });
    expect(metadata(1).canary_decision).toBeUndefined();
    const analysis = JSON.parse(readObject(challenger.canary_analysis_uri as string, root).toString('utf8'));
    expect(analysis.decision).toBe('ship');
  });

  it('took the latest scoring date both models scored and exported a reconciled audience (Parquet and CSV)', async () => {
    const summary = JSON.parse(
      readObject(`s3://clv-local-artifacts/campaigns/${CAMPAIGN}/audience-summary.json`, root).toString('utf8'),
    );
    expect(summary.scoring_date).toBe(SCORING_DATE);
    expect(summary.customers_considered).toBe(CUSTOMERS);
    expect(summary.control.selected + summary.treatment.selected + summary.not_selected).toBe(CUSTOMERS);
    expect(summary.control.selected + summary.treatment.selected).toBe(1200);
    expect(summary.control.model_version).toBe(CHAMPION);
    expect(summary.treatment.model_version).toBe(CHALLENGER);
    expect(summary.salt).toBe(`campaign:${CAMPAIGN}`);
    const csv = resolveS3Uri(`s3://clv-local-gold/campaigns/exports/campaign_id=${CAMPAIGN}/audience.csv`, root);
    const parquet = resolveS3Uri(
      `s3://clv-local-gold/campaigns/audiences/campaign_id=${CAMPAIGN}/audience.parquet`,
      root,
    );
    const [counts] = await sql(
      `SELECT (SELECT count(*) FROM read_csv('${csv}')) AS csv_rows, (SELECT count(*) FROM read_parquet('${parquet}')) AS parquet_rows`,
    );
    expect(counts).toEqual({ csv_rows: '1200', parquet_rows: '1200' });
  });

  it('registered both partitions in the Glue catalog', () => {
    const audiences = gluePartitions(root, 'clv_local', 'campaign_audiences') as { Values: string[] }[];
    const outcomes = gluePartitions(root, 'clv_local', 'campaign_outcomes') as { Values: string[] }[];
    expect(audiences.map((p) => p.Values)).toContainEqual([CAMPAIGN]);
    expect(outcomes.map((p) => p.Values)).toContainEqual([CAMPAIGN]);
  });

  it('notified the export and the decision', () => {
    const messages = snsMessages().map((m) => JSON.parse(String(m.Message ?? '{}')) as Record<string, Json>);
    const exported = messages.find((m) => m.event === 'campaign_audience_exported' && m.campaign_id === CAMPAIGN);
    const decided = messages.find((m) => m.event === 'campaign_experiment_decided' && m.campaign_id === CAMPAIGN);
    expect(exported?.audience_csv_uri).toContain(`campaign_id=${CAMPAIGN}/audience.csv`);
    expect(decided).toMatchObject({ decision: 'ship', severity: 'info' });
  });

  it('the CLI showed the waiting execution and completed it', () => {
    expect(statusWhileWaiting).toContain('waiting     yes (WaitForOutcomes');
    expect(completeOutput).toContain(`campaign ${CAMPAIGN}: outcomes sent to`);
    expect(campaignMain(['status', CAMPAIGN, '--root', root])).toContain('decision    ship');
  });

  it('a completion after the end, or with a wrong token, fails with TaskDoesNotExist', () => {
    const uri = `s3://clv-local-gold/campaigns/outcomes/campaign_id=${CAMPAIGN}/`;
    expect(() => completeCampaign(root, CAMPAIGN, uri)).toThrow(/No task waits on this token/);
    expect(() => sendTaskSuccess(root, 'not-a-token', '{}')).toThrow(
      expect.objectContaining({ name: 'StepFunctions.TaskDoesNotExist' }),
    );
    expect(() => sendTaskSuccess(root, '', '{}')).toThrow(
      expect.objectContaining({ name: 'StepFunctions.InvalidToken' }),
    );
  });

  it('an unknown campaign and a wrong outcomes URI are refused by the CLI', () => {
    expect(() => campaignMain(['complete', 'no-such-campaign', '--outcomes', 's3://x/y/', '--root', root])).toThrow(
      /unknown campaign 'no-such-campaign'/,
    );
    expect(() => campaignMain(['complete', 'Bad_Id', '--outcomes', 's3://x/y/', '--root', root])).toThrow(
      /campaign id/,
    );
    expect(() =>
      completeCampaign(root, CAMPAIGN, `s3://clv-local-gold/campaigns/outcomes/campaign_id=${FAILING_CAMPAIGN}/`),
    ).toThrow(/must be the campaign's outcomes partition/);
  });

  it('SendTaskFailure fails the run with an alert and records no decision', () => {
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('CampaignExperimentFailed');
    const alert = snsMessages()
      .map((m) => JSON.parse(String(m.Message ?? '{}')) as Record<string, Json>)
      .find((m) => m.event === 'pipeline_failed' && m.error === 'CampaignCancelled');
    expect(alert).toMatchObject({ severity: 'high', pipeline: 'campaign-experiment' });
    expect(metadata(2).canary_campaign_id).toBe(CAMPAIGN); // the failed campaign changed nothing
  });

  it('a completion naming another location fails with OutcomesRefused: nothing registered, analysed or recorded', () => {
    expect(redirected.status).toBe('FAILED');
    const alert = snsMessages()
      .map((m) => JSON.parse(String(m.Message ?? '{}')) as Record<string, Json>)
      .find((m) => m.event === 'pipeline_failed' && m.error === 'OutcomesRefused');
    expect(String(alert?.cause)).toContain(`campaign_id=${REDIRECTED_CAMPAIGN}/`);
    const outcomes = gluePartitions(root, 'clv_local', 'campaign_outcomes') as { Values: string[] }[];
    expect(outcomes.map((p) => p.Values)).not.toContainEqual([REDIRECTED_CAMPAIGN]);
    expect(metadata(2).canary_campaign_id).toBe(CAMPAIGN);
  });
});
