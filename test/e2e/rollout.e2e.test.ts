/**
 * End to end, offline: the safe rollout on the local runtime with the real stand-ins.
 *
 * Two models are trained with the SageMaker training entry on the feature fixture and registered (Staging). The
 * first is approved with `clv models approve 1`: the approval event runs the promotion pipeline, which promotes it
 * (bootstrap: no Production package yet). The second is refused by the promotion pipeline without evidence and
 * without a reason; its shadow run (state-machines/shadow.asl.json) beside the champion passes (stage Canary, its
 * predictions partition published and registered); its canary is waived by hand with a reason
 * (canary_decision=waived, as an operator does when the campaign experiment is skipped); its approval then promotes
 * it (v1 Archived), and the next batch scoring uses it. `clv models rollback` promotes v1 again and batch scoring
 * uses v1. A third, degenerate model (no split allowed: it predicts a single value for everyone) is rejected by its
 * shadow run with a medium alert; an operator then promotes it with an override reason (recorded and audited).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelsMain } from '../../local/cli/models-command.js';
import { createModelPackage, getPackage, updateModelPackage } from '../../local/integrations/durable.js';
import { gluePartitions } from '../../local/integrations/glue-catalog.js';
import type { Json } from '../../local/integrations/types.js';
import { type LocalRunResult, runLocal } from '../../local/runner.js';
import { resolveS3Uri } from '../../local/storage.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from '../local/helpers/feature-fixture.js';
import { trainAndRegister as trainModel } from '../local/helpers/registered-model.js';
import { stubRuntime } from '../local/helpers/runtime.js';

const GROUP = 'clv-local-clv-models';
const TRAIN = '2022-01-01';
const VALIDATION = '2022-07-01';
const SCORE_A = '2023-01-01';
const SCORE_B = '2023-04-01';
const CUSTOMERS = 150;
const V1 = 'clv-train-ro-champion';
const V2 = 'clv-train-ro-challenger';
const V3 = 'clv-train-ro-degenerate';
const arn = (v: number) => `arn:aws:sagemaker:eu-west-1:000000000000:model-package/${GROUP}/${v}`;

const table = offlineStoreTable();
let root = '';
const runs: Record<string, LocalRunResult> = {};
const outputs: Record<string, string> = {};
const stages: Record<string, Record<number, string>> = {};
let bootstrapMeta: Record<string, string> = {};
let archivedMeta: Record<string, string> = {};

const runtime = () => stubRuntime(root);

async function trainAndRegister(
  jobName: string,
  train: string,
  validation: string,
  rounds: number,
  extra: Record<string, string> = {},
): Promise<void> {
  await trainModel(root, {
    jobName,
    trainFile: train,
    validationFile: validation,
    rounds,
    hyperparameters: extra,
    metadata: { test_cutoff: SCORE_A },
  });
}

const run = async (key: string, stateMachine: string, input: Json): Promise<LocalRunResult> => {
  runs[key] = await runLocal({ stateMachine, root, executionName: key, input, waits: 'none' });
  return runs[key] as LocalRunResult;
};
const stageSnapshot = (key: string) => {
  stages[key] = Object.fromEntries([1, 2, 3].map((v) => [v, getPackage(root, GROUP, v).stage]));
};
const scoredModel = (r: LocalRunResult) => (r.output as { model: { model_version: string } }).model.model_version;
const alerts = (): Record<string, unknown>[] =>
  fs
    .readFileSync(path.join(root, '_local', 'sns', 'clv-local-alerts.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(JSON.parse(l).Message) as Record<string, unknown>);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-rollout-e2e-'));
  await writeOfflineSnapshot(root, table, SCORE_A, featureRows(SCORE_A, CUSTOMERS, 21, false));
  await writeOfflineSnapshot(root, table, SCORE_B, featureRows(SCORE_B, CUSTOMERS - 10, 22, false));
  const train = await writeOfflineSnapshot(root, table, TRAIN, featureRows(TRAIN, 300, 11, true));
  const validation = await writeOfflineSnapshot(root, table, VALIDATION, featureRows(VALIDATION, 300, 12, true));
  await trainAndRegister(V1, train, validation, 40);
  await trainAndRegister(V2, train, validation, 60);
  // the degenerate model: min_child_weight far above the training set's total hessian allows no split, so every
  // tree is one leaf, and without the BG/NBD offset the model predicts a single value for every customer
  await trainAndRegister(V3, train, validation, 5, { min_child_weight: '10000', btyd_offset: 'false' });

  outputs.approve1 = await modelsMain(['approve', '1', '--root', root, '--operator', 'e2e']);
  stageSnapshot('afterBootstrap');
  bootstrapMeta = getPackage(root, GROUP, 1).metadata;
  await run('ro-refused', 'promotion', { model_package_arn: arn(2), operator: 'e2e' });
  stageSnapshot('afterRefusal');
  await run('ro-shadow-v2', 'shadow', { model_package_arn: arn(2), cutoff: SCORE_A });
  stageSnapshot('afterShadow');
  // canary waived by hand, with a reason (the campaign experiment is another pipeline)
  await updateModelPackage.invoke(
    {
      stateName: 'WaiveCanary',
      resource: 'arn:aws:states:::aws-sdk:sagemaker:updateModelPackage',
      parameters: {
        ModelPackageArn: arn(2),
        CustomerMetadataProperties: { canary_decision: 'waived', canary_waiver_reason: 'e2e: no campaign' },
      },
    },
    runtime(),
  );
  outputs.approve2 = await modelsMain(['approve', '2', '--root', root, '--operator', 'e2e']);
  stageSnapshot('afterPromotion');
  archivedMeta = getPackage(root, GROUP, 1).metadata;
  await run('ro-score-v2', 'batch-scoring', { cutoff: SCORE_B });
  outputs.rollback = await modelsMain(['rollback', '--reason', 'e2e: conversion dropped', '--root', root]);
  stageSnapshot('afterRollback');
  await run('ro-score-v1', 'batch-scoring', { cutoff: SCORE_B });
  await run('ro-shadow-v3', 'shadow', { model_package_arn: arn(3), cutoff: SCORE_A });
  stageSnapshot('afterDegenerate');
  // an operator override: refused without a reason, accepted with one (recorded in the metadata and the audit)
  outputs.emptyOverride = await modelsMain(['approve', '3', '--override-reason', ' ', '--root', root]).catch(
    (e: Error) => e.message,
  );
  outputs.override = await modelsMain(['approve', '3', '--override-reason', 'e2e: operator override', '--root', root]);
  stageSnapshot('afterOverride');
  // a challenger whose transform job fails (injected) is rejected by the gate; an Archived package is not shadowed
  const v2 = getPackage(root, GROUP, 2).record as { InferenceSpecification: Json };
  await createModelPackage.invoke(
    {
      stateName: 'RegisterModel',
      resource: 'arn:aws:states:::aws-sdk:sagemaker:createModelPackage',
      parameters: {
        ModelPackageGroupName: GROUP,
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: v2.InferenceSpecification,
        CustomerMetadataProperties: { stage: 'Staging', model_version: 'clv-ro-v4' },
      } as Json,
    },
    runtime(),
  );
  runs['ro-shadow-fail'] = await runLocal({
    stateMachine: 'shadow',
    root,
    executionName: 'ro-shadow-fail',
    input: { model_package_arn: arn(4), cutoff: SCORE_A },
    waits: 'none',
    failures: {
      'clv-shadow-challenger-ro-shadow-fail': {
        count: 5,
        error: 'States.TaskFailed',
        cause: 'AlgorithmError: injected',
      },
    },
  });
  await run('ro-shadow-archived', 'shadow', { model_package_arn: arn(2), cutoff: SCORE_A });
}, 900_000);

describe('safe rollout, end to end on the local runtime', () => {
  it('approving the first package promotes it through the approval event (bootstrap)', () => {
    expect(outputs.approve1).toContain(`promotion promotion-on-approval-`);
    expect(outputs.approve1).toContain(`${GROUP} v1: Approved, stage Production`);
    expect(stages.afterBootstrap).toEqual({ 1: 'Production', 2: 'Staging', 3: 'Staging' });
    expect(bootstrapMeta).toMatchObject({
      promotion_basis: 'bootstrap',
      approved_by: 'e2e',
      previous_production: 'none',
    });
  });

  it('promotion refuses a package without evidence and without a reason (alert, nothing changes)', () => {
    const r = runs['ro-refused'] as LocalRunResult;
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('PromotionRefused');
    expect(stages.afterRefusal).toEqual(stages.afterBootstrap);
    const alert = alerts().find((a) => String(a.execution).endsWith(':ro-refused'));
    expect(alert).toMatchObject({ event: 'promotion_refused', severity: 'medium', error: 'PromotionRefused' });
    expect(String(alert?.cause)).toMatch(/shadow_passed is null.*canary_decision is null/);
  });

  it('the shadow run passes a sound challenger: stage Canary, evidence in the metadata, predictions published', () => {
    const r = runs['ro-shadow-v2'] as LocalRunResult;
    expect(r.error ?? '', r.cause).toBe('');
    expect(r.status).toBe('SUCCEEDED');
    expect(stages.afterShadow?.[2]).toBe('Canary');
    const meta = getPackage(root, GROUP, 2).metadata;
    expect(meta).toMatchObject({ shadow_passed: 'true', shadow_champion: V1 });
    expect(Number(meta.shadow_rank_correlation)).toBeGreaterThan(0.5);
    expect(Number(meta.shadow_mean_shift)).toBeLessThan(0.15);
    const partition = `s3://clv-local-gold/predictions/scoring_date=${SCORE_A}/model_version=${V2}/part-00000.parquet`;
    expect(fs.existsSync(resolveS3Uri(partition, root))).toBe(true);
    expect(gluePartitions(root, 'clv_local', 'predictions').map((p) => p.Values)).toContainEqual([SCORE_A, V2]);
    const notice = alerts().find((a) => String(a.execution).endsWith(':ro-shadow-v2'));
    expect(notice).toMatchObject({ event: 'shadow_passed', severity: 'info', model_version: V2 });
  });

  it('with the canary waived, approval promotes the challenger, archives the champion and writes the audit', () => {
    expect(outputs.approve2).toContain(`${GROUP} v2: Approved, stage Production`);
    expect(outputs.approve2).toContain(`${GROUP} v1: stage Archived (was Production)`);
    expect(stages.afterPromotion).toMatchObject({ 1: 'Archived', 2: 'Production' });
    expect(archivedMeta).toMatchObject({ stage: 'Archived', superseded_by: arn(2) });
    const audits = fs.readdirSync(resolveS3Uri('s3://clv-local-gold/audit/promotions/', root));
    expect(audits.length).toBeGreaterThanOrEqual(2);
    const records = audits.map((f) =>
      JSON.parse(fs.readFileSync(path.join(resolveS3Uri('s3://clv-local-gold/audit/promotions/', root), f), 'utf8')),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ basis: 'evidence', promoted: expect.objectContaining({ model_version: V2 }) }),
    );
  });

  it('the next batch scoring uses the promoted model', () => {
    const r = runs['ro-score-v2'] as LocalRunResult;
    expect(r.status).toBe('SUCCEEDED');
    expect(scoredModel(r)).toBe(V2);
    const partition = `s3://clv-local-gold/predictions/scoring_date=${SCORE_B}/model_version=${V2}/part-00000.parquet`;
    expect(fs.existsSync(resolveS3Uri(partition, root))).toBe(true);
  });

  it('rollback restores the previous model, and batch scoring uses it again', () => {
    expect(outputs.rollback).toContain('rollback: e2e: conversion dropped');
    expect(stages.afterRollback).toMatchObject({ 1: 'Production', 2: 'Archived' });
    expect(getPackage(root, GROUP, 1).metadata).toMatchObject({
      promotion_basis: 'rollback',
      rollback_reason: 'e2e: conversion dropped',
    });
    const r = runs['ro-score-v1'] as LocalRunResult;
    expect(r.status).toBe('SUCCEEDED');
    expect(scoredModel(r)).toBe(V1);
  });

  it('an operator override promotes without evidence only with a non-empty reason, recorded and audited', () => {
    expect(outputs.emptyOverride).toMatch(/--override-reason must not be empty/);
    expect(outputs.override).toContain(`${GROUP} v3: Approved, stage Production`);
    expect(stages.afterOverride).toEqual({ 1: 'Archived', 2: 'Archived', 3: 'Production' });
    expect(getPackage(root, GROUP, 3).metadata).toMatchObject({
      promotion_basis: 'override',
      promotion_override_reason: 'e2e: operator override',
    });
    const dir = resolveS3Uri('s3://clv-local-gold/audit/promotions/', root);
    const records = fs.readdirSync(dir).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(records).toContainEqual(
      expect.objectContaining({ basis: 'override', override_reason: 'e2e: operator override' }),
    );
  });

  it('a challenger whose transform job failed is rejected by the gate; an Archived package is not shadowed', () => {
    const failed = runs['ro-shadow-fail'] as LocalRunResult;
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('ShadowRejected');
    expect(failed.injected).toEqual({ 'clv-shadow-challenger-ro-shadow-fail': 1 });
    const alert = alerts().find((a) => String(a.execution).endsWith(':ro-shadow-fail')) as Record<string, unknown>;
    expect((alert.reasons as string[])[0]).toMatch(/challenger transform job did not complete \(status Failed/);
    expect(getPackage(root, GROUP, 4).metadata).toMatchObject({ stage: 'Staging', shadow_passed: 'false' });
    const archived = runs['ro-shadow-archived'] as LocalRunResult;
    expect(archived.status).toBe('FAILED');
    const notEligible = alerts().find((a) => String(a.execution).endsWith(':ro-shadow-archived'));
    expect(notEligible).toMatchObject({ event: 'pipeline_failed', error: 'ChallengerNotEligible' });
    expect(getPackage(root, GROUP, 2).stage).toBe('Archived');
  });

  it('the shadow run rejects a degenerate challenger with a medium alert and the comparison', () => {
    const r = runs['ro-shadow-v3'] as LocalRunResult;
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('ShadowRejected');
    expect(stages.afterDegenerate).toMatchObject({ 1: 'Production', 3: 'Staging' });
    expect(getPackage(root, GROUP, 3).metadata).toMatchObject({ shadow_passed: 'false' });
    const alert = alerts().find((a) => String(a.execution).endsWith(':ro-shadow-v3')) as Record<string, unknown>;
    expect(alert).toMatchObject({ event: 'shadow_failed', severity: 'medium', model_version: V3 });
    expect((alert.reasons as string[]).join('; ')).toMatch(/degenerate/);
    expect(alert.comparison).toMatchObject({ column: 'predicted_revenue_12m' });
    const partition = `s3://clv-local-gold/predictions/scoring_date=${SCORE_A}/model_version=${V3}/`;
    expect(fs.existsSync(resolveS3Uri(partition, root))).toBe(false);
  });
});
