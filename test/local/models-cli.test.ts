/**
 * `clv models`: list, describe, approve (Approved, then the approval event runs the promotion pipeline: the first
 * package by bootstrap, a later one only with evidence or an override reason; previous Production → Archived),
 * reject, and clear errors.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { modelsMain } from '../../local/cli/models-command.js';
import { createModelPackage, getPackage, updateModelPackage } from '../../local/integrations/durable.js';
import { stubRuntime } from './helpers/runtime.js';

const GROUP = 'clv-local-clv-models';
let root = '';

const runtime = () => stubRuntime(root, { env: {} });

async function register(modelVersion: string, gini: string): Promise<void> {
  await createModelPackage.invoke(
    {
      stateName: 'RegisterModel',
      resource: 'arn:aws:states:::aws-sdk:sagemaker:createModelPackage',
      parameters: {
        ModelPackageGroupName: GROUP,
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: {
          Containers: [
            { Image: 'local/xgboost:3.0-5', ModelDataUrl: `s3://clv-local-artifacts/${modelVersion}.tar.gz` },
          ],
        },
        CustomerMetadataProperties: {
          stage: 'Staging',
          model_version: modelVersion,
          test_gini: gini,
          test_rmse: '12.5',
        },
      },
    },
    runtime(),
  );
}

const models = (...args: string[]) => modelsMain([...args, '--root', root]);

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-models-'));
  await register('clv-a', '0.61');
  await register('clv-b', '0.64');
});

describe('clv models', () => {
  it('list shows version, approval, stage, model_version, key metrics and created', async () => {
    const lines = (await models('list')).split('\n');
    expect(lines[0]).toMatch(
      /^version\s+approval\s+stage\s+model_version\s+test_gini\s+test_rmse\s+test_churn_auc\s+created$/,
    );
    expect(lines[1]).toMatch(/^1\s+PendingManualApproval\s+Staging\s+clv-a\s+0\.61\s+12\.5\s+-\s+\d{4}-\d\d-\d\dT/);
    expect(lines[2]).toMatch(/^2\s+PendingManualApproval\s+Staging\s+clv-b\s+0\.64/);
    expect(await modelsMain(['list', '--root', root, '--group', 'other-group'])).toContain(
      'no model packages in group other-group',
    );
  });

  it('approve: the first package by bootstrap; a second needs evidence or an override reason; previous → Archived', async () => {
    expect(await models('approve', '1')).toContain(`${GROUP} v1: Approved, stage Production`);
    // no shadow, no canary, no reason: the promotion pipeline refuses, nothing changes
    await expect(models('approve', '2')).rejects.toThrow(/PromotionRefused/);
    expect(getPackage(root, GROUP, 1).stage).toBe('Production');
    expect(getPackage(root, GROUP, 2).stage).toBe('Staging');
    const out = await models('approve', '2', '--description', 'better gini', '--override-reason', 'hotfix, signed off');
    expect(out).toContain(`${GROUP} v2: Approved, stage Production`);
    expect(out).toContain(`${GROUP} v1: stage Archived (was Production)`);
    const v1 = getPackage(root, GROUP, 1);
    const v2 = getPackage(root, GROUP, 2);
    expect([v1.approval, v1.stage]).toEqual(['Approved', 'Archived']);
    expect([v2.approval, v2.stage]).toEqual(['Approved', 'Production']);
    expect(v2.record.ApprovalDescription).toMatch(/^Promoted to Production \(override\)/);
    expect(v2.metadata.model_version).toBe('clv-b'); // other metadata kept
    expect(v2.metadata.promotion_override_reason).toBe('hotfix, signed off');
  }, 60_000);

  it('reject makes the package Rejected + Archived', async () => {
    expect(await models('reject', '2')).toBe(`${GROUP} v2: Rejected, stage Archived`);
    expect(JSON.parse(await models('describe', '2'))).toMatchObject({
      ModelApprovalStatus: 'Rejected',
      CustomerMetadataProperties: { stage: 'Archived', model_version: 'clv-b' },
    });
  });

  it('fails clearly on unknown versions, bad versions and unknown subcommands', async () => {
    await expect(models('approve', '9')).rejects.toThrow(
      `model package version 9 not found in group ${GROUP} (versions: 1, 2)`,
    );
    await expect(models('describe', 'x1')).rejects.toThrow(
      'models describe: expected a package version (a positive integer), got "x1"',
    );
    await expect(models('approve')).rejects.toThrow('expected a package version');
    await expect(models('approve', '1', '--override-reason', '  ')).rejects.toThrow(
      '--override-reason must not be empty',
    );
    await expect(models('promote', '1')).rejects.toThrow('models: unknown subcommand "promote"');
  });

  it('the registry stand-in keeps the stage and rejects a stage outside the convention', async () => {
    const update = (props: Record<string, string>) =>
      updateModelPackage.invoke(
        {
          stateName: 'Promote',
          resource: 'arn:aws:states:::aws-sdk:sagemaker:updateModelPackage',
          parameters: {
            ModelPackageArn: `arn:aws:sagemaker:eu-west-1:000000000000:model-package/${GROUP}/1`,
            CustomerMetadataProperties: props,
          },
        },
        runtime(),
      );
    await update({ stage: 'Shadow' });
    expect(getPackage(root, GROUP, 1).stage).toBe('Shadow');
    await expect(update({ stage: 'Live' })).rejects.toThrow(
      /stage must be one of Staging, Shadow, Canary, Production, Archived/,
    );
    expect(getPackage(root, GROUP, 1).stage).toBe('Shadow');
  });

  it('is registered in the clv command line (exit 0 on success, 1 on an unknown version)', () => {
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const cli = path.join(repoRoot, 'local', 'cli', 'clv.ts');
    const ok = spawnSync(tsx, [cli, 'models', 'approve', '1', '--root', root], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('v1: Approved, stage Production');
    const bad = spawnSync(tsx, [cli, 'models', 'describe', '5', '--root', root], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('clv models: model package version 5 not found');
  }, 60_000);
});
