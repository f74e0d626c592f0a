/**
 * The model-registry actions of the safe rollout: find-stage, describe, find-previous-production and the
 * promotion rule (plan-promotion): evidence, bootstrap, override (only with a reason), refusal, idempotence,
 * rollback. Over an in-memory registry, the local registry files and the SageMaker client (aws-sdk-client-mock).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/model-registry/handler.js';
import { LocalModelRegistry } from '../../lambdas/model-registry/local-registry.js';
import type { ModelRegistry, PackageDetail, PlanPromotionEvent } from '../../lambdas/model-registry/registry.js';
import { parseRegistryEvent } from '../../lambdas/model-registry/registry.js';
import {
  describePackage,
  findPreviousProduction,
  findStage,
  missingEvidence,
  planPromotion,
} from '../../lambdas/model-registry/rollout.js';
import { SageMakerModelRegistry } from '../../lambdas/model-registry/sagemaker-registry.js';

const GROUP = 'clv-dev-clv-models';
const arn = (v: number): string => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${GROUP}/${v}`;
const NOW = new Date('2026-01-05T10:00:00Z');

class MemoryRegistry implements ModelRegistry {
  constructor(readonly packages: PackageDetail[]) {}
  async listApproved() {
    return this.packages
      .filter((p) => p.approvalStatus === 'Approved')
      .map((p) => ({ arn: p.arn, version: p.version }));
  }
  async listAll() {
    return this.packages.map((p) => ({ arn: p.arn, version: p.version }));
  }
  async describe(a: string) {
    const p = this.packages.find((x) => x.arn === a);
    if (!p) throw new Error(`Model package ${a} does not exist.`);
    return p;
  }
}

function pkg(version: number, approvalStatus: string, metadata: Record<string, string>): PackageDetail {
  return {
    arn: arn(version),
    version,
    approvalStatus,
    metadata: { model_version: `clv-m${version}`, ...metadata },
    image: 'xgb',
    modelDataUrl: `s3://artifacts/models/m${version}/model.tar.gz`,
    environment: {},
  };
}

const plan = (over: Partial<PlanPromotionEvent>): PlanPromotionEvent => ({
  action: 'plan-promotion',
  model_package_group: GROUP,
  model_package_arn: arn(2),
  rollback: false,
  override_reason: null,
  reason: null,
  operator: 'alice',
  source: 'approval-event',
  execution: 'arn:aws:states:eu-west-1:123456789012:execution:clv-dev-promotion:p1',
  ...over,
});

const EVIDENCE = { shadow_passed: 'true', canary_decision: 'ship' };
const production1 = () => pkg(1, 'Approved', { stage: 'Production', promoted_at: '2025-12-01T00:00:00.000Z' });

describe('find-stage', () => {
  const reg = new MemoryRegistry([
    pkg(1, 'Approved', { stage: 'Production' }),
    pkg(2, 'PendingManualApproval', { stage: 'Canary' }),
    pkg(3, 'PendingManualApproval', { stage: 'Canary' }),
    pkg(4, 'Rejected', { stage: 'Canary' }),
  ]);

  it('returns the newest Approved-or-pending package of the stage with the find-production fields and metadata', async () => {
    const r = await findStage(reg, {
      action: 'find-stage',
      stage: 'Canary',
      model_package_group: GROUP,
      required: true,
    });
    expect(r).toEqual({
      found: true,
      model_package_arn: arn(3),
      version: 3,
      model_version: 'clv-m3',
      model_data_url: 's3://artifacts/models/m3/model.tar.gz',
      image: 'xgb',
      environment: {},
      metadata: { model_version: 'clv-m3', stage: 'Canary' },
    });
  });

  it('none: found=false, or NoPackageInStage when required', async () => {
    const ev = { action: 'find-stage', stage: 'Shadow', model_package_group: GROUP } as const;
    await expect(findStage(reg, { ...ev, required: false })).resolves.toEqual({ found: false });
    await expect(findStage(reg, { ...ev, required: true })).rejects.toMatchObject({ name: 'NoPackageInStage' });
  });
});

describe('describe', () => {
  it('returns the package with approval status, stage and group; refuses another group', async () => {
    const reg = new MemoryRegistry([pkg(2, 'PendingManualApproval', { stage: 'Staging' })]);
    const r = await describePackage(reg, { action: 'describe', model_package_arn: arn(2), model_package_group: GROUP });
    expect(r).toMatchObject({ approval_status: 'PendingManualApproval', stage: 'Staging', version: 2 });
    await expect(
      describePackage(reg, { action: 'describe', model_package_arn: arn(2), model_package_group: 'other-group' }),
    ).rejects.toMatchObject({ name: 'InvalidRegistryRequest' });
  });
});

describe('plan-promotion', () => {
  it('promotes a package with evidence, archiving the Production package, with an audit record', async () => {
    const reg = new MemoryRegistry([production1(), pkg(2, 'Approved', { stage: 'Canary', ...EVIDENCE })]);
    const p = await planPromotion(reg, plan({}), NOW);
    if (p.noop) throw new Error('expected a promotion');
    expect(p.basis).toBe('evidence');
    expect(p.target_update).toEqual({
      model_package_arn: arn(2),
      metadata: {
        stage: 'Production',
        promoted_at: '2026-01-05T10:00:00.000Z',
        promotion_basis: 'evidence',
        promotion_execution: plan({}).execution,
        promoted_by: 'alice',
        previous_production: arn(1),
      },
    });
    expect(p.previous_update).toEqual({
      model_package_arn: arn(1),
      metadata: { stage: 'Archived', archived_at: '2026-01-05T10:00:00.000Z', superseded_by: arn(2) },
    });
    expect(p.has_previous).toBe(true);
    const audit = JSON.parse(p.audit_json);
    expect(audit).toMatchObject({
      basis: 'evidence',
      operator: 'alice',
      override_reason: null,
      promoted: { model_package_arn: arn(2), model_version: 'clv-m2' },
      archived: { model_package_arn: arn(1) },
      evidence: { shadow_passed: 'true', canary_decision: 'ship', missing: [] },
    });
  });

  it.each([
    [{ shadow_passed: 'true' }, /canary_decision is null/],
    [{ canary_decision: 'ship' }, /shadow_passed is null/],
    [{ shadow_passed: 'false', canary_decision: 'ship' }, /shadow_passed is "false"/],
    [{ shadow_passed: 'true', canary_decision: 'no_difference' }, /canary_decision is "no_difference"/],
    [{}, /shadow_passed .*canary_decision/],
  ])('refuses a package without the evidence (%j) and without an override reason', async (meta, why) => {
    const reg = new MemoryRegistry([production1(), pkg(2, 'Approved', { stage: 'Staging', ...meta })]);
    const err = await planPromotion(reg, plan({}), NOW).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'PromotionRefused' });
    expect((err as Error).message).toMatch(why);
  });

  it('waived canary counts as evidence', async () => {
    const reg = new MemoryRegistry([
      production1(),
      pkg(2, 'Approved', { shadow_passed: 'true', canary_decision: 'waived' }),
    ]);
    const p = await planPromotion(reg, plan({}), NOW);
    expect(!p.noop && p.basis).toBe('evidence');
  });

  it('accepts an override only with a reason, recorded in the metadata and the audit', async () => {
    const reg = new MemoryRegistry([production1(), pkg(2, 'Approved', { stage: 'Staging' })]);
    const p = await planPromotion(reg, plan({ override_reason: 'urgent fix of a broken feature' }), NOW);
    if (p.noop) throw new Error('expected a promotion');
    expect(p.basis).toBe('override');
    expect(p.target_update.metadata.promotion_override_reason).toBe('urgent fix of a broken feature');
    expect(JSON.parse(p.audit_json).override_reason).toBe('urgent fix of a broken feature');
    // an empty or blank reason is refused at the event boundary (never reaches the rule)
    expect(() => parseRegistryEvent({ ...plan({}), override_reason: '   ' })).toThrow(
      /override_reason: expected a non-empty reason/,
    );
  });

  it('reads an override reason from the package metadata (set before approving in the console)', async () => {
    const reg = new MemoryRegistry([production1(), pkg(2, 'Approved', { promotion_override_reason: 'ok by CFO' })]);
    const p = await planPromotion(reg, plan({}), NOW);
    expect(!p.noop && p.basis).toBe('override');
  });

  it('bootstrap: the first package of a group without Production needs no evidence', async () => {
    const reg = new MemoryRegistry([pkg(1, 'Approved', { stage: 'Staging' })]);
    const p = await planPromotion(reg, plan({ model_package_arn: arn(1) }), NOW);
    if (p.noop) throw new Error('expected a promotion');
    expect(p.basis).toBe('bootstrap');
    expect(p.has_previous).toBe(false);
    expect(p.previous_update).toBeNull();
    expect(p.target_update.metadata.previous_production).toBe('none');
  });

  it('is a no-op for the package that is Production already (its own approval event)', async () => {
    const reg = new MemoryRegistry([production1()]);
    const p = await planPromotion(reg, plan({ model_package_arn: arn(1) }), NOW);
    expect(p).toMatchObject({ noop: true, target: { model_package_arn: arn(1) } });
  });

  it('an approval event of an Archived package (e.g. the promotion archiving it) is a no-op; by hand it is judged', async () => {
    const reg = new MemoryRegistry([
      pkg(1, 'Approved', { stage: 'Archived', promoted_at: '2025-01-01', ...EVIDENCE }),
      pkg(2, 'Approved', { stage: 'Production', promoted_at: '2025-06-01' }),
    ]);
    const p = await planPromotion(reg, plan({ model_package_arn: arn(1) }), NOW);
    expect(p).toMatchObject({ noop: true, reason: expect.stringMatching(/Archived/) });
    const byHand = await planPromotion(reg, plan({ model_package_arn: arn(1), source: 'manual' }), NOW);
    expect(!byHand.noop && byHand.basis).toBe('evidence');
  });

  it('refuses a rejected package, a package of another group and an inconsistent registry', async () => {
    const rejected = new MemoryRegistry([production1(), pkg(2, 'Rejected', EVIDENCE)]);
    await expect(planPromotion(rejected, plan({}), NOW)).rejects.toThrow(/Rejected/);
    const other = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/other-group/2';
    await expect(planPromotion(rejected, plan({ model_package_arn: other }), NOW)).rejects.toThrow(
      /not a package of group/,
    );
    const two = new MemoryRegistry([
      production1(),
      pkg(2, 'Approved', { stage: 'Production' }),
      pkg(3, 'Approved', EVIDENCE),
    ]);
    await expect(planPromotion(two, plan({ model_package_arn: arn(3) }), NOW)).rejects.toThrow(/2 Production packages/);
  });

  it('rollback promotes the newest Archived package that was Production, with the reason recorded', async () => {
    const reg = new MemoryRegistry([
      pkg(1, 'Approved', { stage: 'Archived', promoted_at: '2025-01-01', archived_at: '2025-06-01T00:00:00Z' }),
      pkg(2, 'Approved', { stage: 'Archived', promoted_at: '2025-06-01', archived_at: '2025-12-01T00:00:00Z' }),
      pkg(3, 'Approved', { stage: 'Production', promoted_at: '2025-12-01', ...EVIDENCE }),
      pkg(4, 'Approved', { stage: 'Archived' }), // never Production (no promoted_at)
    ]);
    const p = await planPromotion(
      reg,
      plan({ model_package_arn: null, rollback: true, reason: 'conversion dropped', source: 'rollback' }),
      NOW,
    );
    if (p.noop) throw new Error('expected a promotion');
    expect(p.basis).toBe('rollback');
    expect(p.target.model_package_arn).toBe(arn(2));
    expect(p.target_update.metadata).toMatchObject({ stage: 'Production', rollback_reason: 'conversion dropped' });
    expect(p.previous_update?.model_package_arn).toBe(arn(3));
    expect(JSON.parse(p.audit_json)).toMatchObject({ basis: 'rollback', rollback_reason: 'conversion dropped' });
    const prev = await findPreviousProduction(reg, {
      action: 'find-previous-production',
      model_package_group: GROUP,
      required: true,
    });
    expect(prev.found && prev.version).toBe(2);
  });

  it('rollback without a previous Production package: NoPreviousProduction; without a reason: refused', async () => {
    const reg = new MemoryRegistry([production1()]);
    const ev = plan({ model_package_arn: null, rollback: true, reason: 'x', source: 'rollback' });
    await expect(planPromotion(reg, ev, NOW)).rejects.toMatchObject({ name: 'NoPreviousProduction' });
    await expect(planPromotion(reg, { ...ev, reason: null }, NOW)).rejects.toMatchObject({ name: 'PromotionRefused' });
  });

  it('missingEvidence lists both gaps', () => {
    expect(missingEvidence({})).toHaveLength(2);
    expect(missingEvidence(EVIDENCE)).toEqual([]);
  });
});

describe('the handler over local registry files and SageMaker', () => {
  let root = '';
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-registry-rollout-'));
  });

  function writeLocal(version: number, approval: string, meta: Record<string, string>): void {
    const dir = path.join(root, '_local', 'registry', GROUP);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, `${version}.json`),
      JSON.stringify({
        ModelPackageArn: arn(version),
        ModelPackageVersion: version,
        ModelApprovalStatus: approval,
        CustomerMetadataProperties: meta,
        InferenceSpecification: { Containers: [{ Image: 'xgb', ModelDataUrl: `s3://a/m${version}.tar.gz` }] },
      }),
    );
  }

  it('dispatches find-stage and plan-promotion on the local files (CLV_LOCAL_ROOT)', async () => {
    writeLocal(1, 'Approved', { stage: 'Production', model_version: 'v1' });
    writeLocal(2, 'PendingManualApproval', { stage: 'Canary', model_version: 'v2', shadow_passed: 'true' });
    const saved = process.env.CLV_LOCAL_ROOT;
    process.env.CLV_LOCAL_ROOT = root;
    try {
      await expect(
        handler({ action: 'find-stage', stage: 'Canary', model_package_group: GROUP, required: true }),
      ).resolves.toMatchObject({ found: true, version: 2, metadata: { shadow_passed: 'true' } });
      await expect(handler(plan({}))).rejects.toMatchObject({ name: 'PromotionRefused' });
      await expect(handler({ action: 'promote' })).rejects.toThrow(/action: expected one of find-production/);
    } finally {
      if (saved === undefined) delete process.env.CLV_LOCAL_ROOT;
      else process.env.CLV_LOCAL_ROOT = saved;
    }
    expect((await new LocalModelRegistry(root).listAll(GROUP)).map((p) => p.version).sort()).toEqual([1, 2]);
  });

  it('SageMaker listAll lists every approval status', async () => {
    const sm = mockClient(SageMakerClient);
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [{ ModelPackageArn: arn(2), ModelPackageVersion: 2 }] as never,
    });
    sm.on(DescribeModelPackageCommand).resolves({} as never);
    const refs = await new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' })).listAll(GROUP);
    expect(refs).toEqual([{ arn: arn(2), version: 2 }]);
    expect(sm.commandCalls(ListModelPackagesCommand)[0]?.args[0].input.ModelApprovalStatus).toBeUndefined();
    sm.restore();
  });
});
