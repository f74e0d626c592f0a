/** The model-registry Lambda: find-production over SageMaker (aws-sdk-client-mock) and over local registry files. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalModelRegistry } from '../../lambdas/model-registry/local-registry.js';
import { findProduction, parseRegistryEvent } from '../../lambdas/model-registry/registry.js';
import { SageMakerModelRegistry } from '../../lambdas/model-registry/sagemaker-registry.js';

const GROUP = 'clv-dev-clv-models';
const arn = (v: number): string => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${GROUP}/${v}`;
const sm = mockClient(SageMakerClient);

function describeOutput(v: number, stage: string, approval = 'Approved') {
  return {
    ModelPackageArn: arn(v),
    ModelPackageVersion: v,
    ModelApprovalStatus: approval,
    CustomerMetadataProperties: { stage, model_version: `clv-m${v}` },
    InferenceSpecification: {
      Containers: [
        {
          Image: 'xgb:3.0-5',
          ModelDataUrl: `s3://artifacts/models/m${v}/model.tar.gz`,
          Environment: { SAGEMAKER_PROGRAM: 'inference.py' },
        },
      ],
    },
  } as never;
}

function stubRegistry(stages: Record<number, string>): void {
  for (const [v, stage] of Object.entries(stages)) {
    sm.on(DescribeModelPackageCommand, { ModelPackageName: arn(Number(v)) }).resolves(describeOutput(Number(v), stage));
  }
}

const event = (required: boolean) => ({ action: 'find-production', model_package_group: GROUP, required }) as const;
const registry = () => new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' }));

beforeEach(() => sm.reset());

describe('model-registry find-production (SageMaker)', () => {
  it('returns the Production package, ignoring Approved packages of another stage', async () => {
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [3, 2, 1].map((v) => ({ ModelPackageArn: arn(v), ModelPackageVersion: v })) as never,
    });
    stubRegistry({ 3: 'Canary', 2: 'Production', 1: 'Archived' });
    const r = await findProduction(registry(), event(true), vi.fn());
    expect(r).toEqual({
      found: true,
      model_package_arn: arn(2),
      version: 2,
      model_version: 'clv-m2',
      model_data_url: 's3://artifacts/models/m2/model.tar.gz',
      image: 'xgb:3.0-5',
      environment: { SAGEMAKER_PROGRAM: 'inference.py' },
      metadata: { stage: 'Production', model_version: 'clv-m2' },
    });
    const list = sm.commandCalls(ListModelPackagesCommand)[0]?.args[0].input;
    expect(list).toMatchObject({ ModelPackageGroupName: GROUP, ModelApprovalStatus: 'Approved' });
  });

  it('follows NextToken over every page', async () => {
    sm.on(ListModelPackagesCommand, { NextToken: undefined }).resolves({
      ModelPackageSummaryList: [{ ModelPackageArn: arn(1), ModelPackageVersion: 1 }] as never,
      NextToken: 'page-2',
    });
    sm.on(ListModelPackagesCommand, { NextToken: 'page-2' }).resolves({
      ModelPackageSummaryList: [{ ModelPackageArn: arn(7), ModelPackageVersion: 7 }] as never,
    });
    stubRegistry({ 1: 'Archived', 7: 'Production' });
    const r = await findProduction(registry(), event(true), vi.fn());
    expect(r.found && r.version).toBe(7);
    expect(sm.commandCalls(ListModelPackagesCommand)).toHaveLength(2);
  });

  it('several Production packages: the newest version wins and a warning is logged', async () => {
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [4, 5].map((v) => ({ ModelPackageArn: arn(v), ModelPackageVersion: v })) as never,
    });
    stubRegistry({ 4: 'Production', 5: 'Production' });
    const warn = vi.fn();
    const r = await findProduction(registry(), event(true), warn);
    expect(r.found && r.model_package_arn).toBe(arn(5));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('several Production'), {
      group: GROUP,
      chosen: arn(5),
      others: [arn(4)],
    });
  });

  it('none: NoProductionModel when required, found false when not', async () => {
    sm.on(ListModelPackagesCommand).resolves({
      ModelPackageSummaryList: [{ ModelPackageArn: arn(1), ModelPackageVersion: 1 }] as never,
    });
    stubRegistry({ 1: 'Staging' });
    await expect(findProduction(registry(), event(true), vi.fn())).rejects.toMatchObject({
      name: 'NoProductionModel',
      message: expect.stringContaining(GROUP),
    });
    await expect(findProduction(registry(), event(false), vi.fn())).resolves.toEqual({ found: false });
  });

  it('rejects a bad event, naming the field and what was expected', () => {
    expect(() => parseRegistryEvent({ action: 'find-production', model_package_group: GROUP })).toThrow(
      /required: .*boolean/,
    );
    expect(() => parseRegistryEvent({ ...event(true), action: 'promote' })).toThrow(/action: .*find-production/);
    expect(() => parseRegistryEvent({ ...event(true), model_package_group: 'bad group!' })).toThrow(
      /model_package_group: expected a model package group name/,
    );
    expect(() => parseRegistryEvent({ ...event(true), extra: 1 })).toThrow(/extra/);
    try {
      parseRegistryEvent({});
    } catch (err) {
      expect((err as Error).name).toBe('InvalidRegistryRequest');
    }
  });
});

describe('model-registry find-production (local registry files)', () => {
  let root = '';
  let saved: string | undefined;
  const write = (v: number, approval: string, stage: string) => {
    const dir = path.join(root, '_local', 'registry', 'clv-local-clv-models');
    fs.mkdirSync(dir, { recursive: true });
    const d = describeOutput(v, stage, approval) as Record<string, unknown>;
    d.ModelPackageArn = `arn:aws:sagemaker:eu-west-1:000000000000:model-package/clv-local-clv-models/${v}`;
    fs.writeFileSync(path.join(dir, `${v}.json`), JSON.stringify(d));
  };
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-registry-'));
    saved = process.env.CLV_LOCAL_ROOT;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CLV_LOCAL_ROOT;
    else process.env.CLV_LOCAL_ROOT = saved;
  });

  it('reads <root>/_local/registry/<group>/<version>.json; Production must also be Approved', async () => {
    write(1, 'Approved', 'Archived');
    write(2, 'Approved', 'Production');
    write(3, 'PendingManualApproval', 'Production');
    const reg = new LocalModelRegistry(root);
    const r = await findProduction(reg, { ...event(true), model_package_group: 'clv-local-clv-models' }, vi.fn());
    expect(r.found && r.version).toBe(2);
  });

  it('the handler uses the local files when CLV_LOCAL_ROOT is set, and throws NoProductionModel', async () => {
    write(1, 'Approved', 'Staging');
    process.env.CLV_LOCAL_ROOT = root;
    const { handler } = await import('../../lambdas/model-registry/handler.js');
    await expect(
      handler({ action: 'find-production', model_package_group: 'clv-local-clv-models', required: true }),
    ).rejects.toMatchObject({ name: 'NoProductionModel' });
    await expect(
      handler({ action: 'find-production', model_package_group: 'clv-local-clv-models', required: false }),
    ).resolves.toEqual({ found: false });
  });
});
