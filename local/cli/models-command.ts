/**
 * `clv models list|describe <version>|approve <version>|reject <version>|rollback`: the local Model Registry
 * (<root>/_local/registry/<group>/) as a person uses the SageMaker console. See docs/model-registry.md and
 * docs/runbooks/promotion-and-rollback.md.
 *
 * approve sets ModelApprovalStatus=Approved (as the console does) and puts the Model Registry's
 * "SageMaker Model Package State Change" event on the local bus (local/events.ts): the `promotion-on-approval`
 * rule runs state-machines/promotion.asl.json, which decides whether the package becomes Production. rollback runs
 * the promotion state machine with {rollback: true, reason}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_PACKAGE_STATE_CHANGE, SAGEMAKER_EVENT_SOURCE } from '../../lib/contracts/event-rules.js';
import { LOCAL_PREFIX } from '../constants.js';
import { publishLocalEvents } from '../events.js';
import { getPackage, listPackages, packageView, registryDir, setPackageDecision } from '../integrations/durable.js';
import type { Json } from '../integrations/types.js';
import { runLocal } from '../runner.js';
import { localRoot } from '../storage.js';
import type { Command } from './commands.js';

export const DEFAULT_GROUP = `${LOCAL_PREFIX}-clv-models`;
const METRICS = ['test_gini', 'test_rmse', 'test_churn_auc'] as const;

const USAGE = `usage: npm run clv -- models list [--group G] [--root DIR]
       npm run clv -- models describe <version> [--group G] [--root DIR]
       npm run clv -- models approve <version> [--description TEXT] [--override-reason TEXT] [--operator NAME] [--group G] [--root DIR]
       npm run clv -- models reject <version> [--description TEXT] [--group G] [--root DIR]
       npm run clv -- models rollback [--reason TEXT] [--operator NAME] [--root DIR]

  approve:  ModelApprovalStatus=Approved, then the approval event runs the promotion pipeline: the package becomes
            Production (the previous one Archived) when it has the evidence (shadow_passed=true, canary_decision
            ship|waived), when no Production package exists yet (bootstrap), or with --override-reason (recorded
            in the metadata and the audit log); otherwise the promotion is refused and the stage is unchanged.
  reject:   ModelApprovalStatus=Rejected and stage Archived.
  rollback: the promotion pipeline promotes the previous Production package again (the newest Archived package
            that was Production), with the reason recorded.
  --group  model package group (default ${DEFAULT_GROUP}); --root  local root (default $CLV_LOCAL_ROOT or .clv-local)
  See docs/model-registry.md.`;

/** The `models list` table: version, approval, stage, model_version, key metrics, created. */
export function formatList(root: string, group: string): string {
  const rows = listPackages(root, group).map(packageView);
  if (rows.length === 0) return `no model packages in group ${group} (${root})`;
  const header = ['version', 'approval', 'stage', 'model_version', ...METRICS, 'created'];
  const cells = rows.map((r) => [
    String(r.version),
    r.approval,
    r.stage || '-',
    r.model_version || '-',
    ...METRICS.map((m) => (r.metadata[m] === undefined ? '-' : String(r.metadata[m]))),
    r.created,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

function parseVersion(value: string | undefined, sub: string): number {
  if (value === undefined || !/^[1-9]\d*$/.test(value)) {
    throw new Error(`models ${sub}: expected a package version (a positive integer), got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

const packageLine = (group: string, version: number, root: string): string => {
  const p = getPackage(root, group, version);
  return `${group} v${p.version}: ${p.approval}, stage ${p.stage || '-'}`;
};

/**
 * ModelApprovalStatus=Approved as UpdateModelPackage does (the stage is the promotion pipeline's to change); an
 * override reason and the operator go into the metadata, where the promotion rule reads them.
 */
function markApproved(
  root: string,
  group: string,
  version: number,
  description: string | undefined,
  overrideReason: string | undefined,
  operator: string,
): Record<string, Json> {
  const record = getPackage(root, group, version).record;
  const meta = { ...((record.CustomerMetadataProperties as Record<string, Json> | undefined) ?? {}) };
  if (overrideReason !== undefined) {
    if (overrideReason.trim() === '') throw new Error('models approve: --override-reason must not be empty');
    meta.promotion_override_reason = overrideReason.trim().slice(0, 256);
  }
  meta.approved_by = operator.slice(0, 128);
  record.CustomerMetadataProperties = meta;
  record.ModelApprovalStatus = 'Approved';
  if (description !== undefined) record.ApprovalDescription = description;
  record.LastModifiedTime = Date.now();
  fs.writeFileSync(path.join(registryDir(root, group), `${version}.json`), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** A Lambda error's Cause is {"errorType","errorMessage","trace"}: the message alone; any other cause as is. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

const defaultOperator = (): string => process.env.USER || process.env.USERNAME || 'local-operator';

/** Runs one `models` subcommand; returns the text to print (throws with a clear message on a bad call). */
export async function modelsMain(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      group: { type: 'string', default: DEFAULT_GROUP },
      root: { type: 'string' },
      description: { type: 'string' },
      'override-reason': { type: 'string' },
      reason: { type: 'string' },
      operator: { type: 'string' },
    },
  });
  const root = values.root ?? localRoot();
  const group = values.group;
  const operator = values.operator ?? defaultOperator();
  const [sub, version, ...extra] = positionals;
  if (extra.length > 0) throw new Error(`models: unexpected arguments ${extra.join(' ')}\n\n${USAGE}`);
  switch (sub) {
    case 'list':
      if (version !== undefined) throw new Error(`models list takes no version\n\n${USAGE}`);
      return formatList(root, group);
    case 'describe':
      return JSON.stringify(getPackage(root, group, parseVersion(version, sub)).record, null, 2);
    case 'reject': {
      const r = setPackageDecision(root, group, parseVersion(version, sub), sub, values.description);
      return `${group} v${r.package.version}: ${r.package.approval}, stage ${r.package.stage}`;
    }
    case 'approve': {
      const v = parseVersion(version, sub);
      const record = markApproved(root, group, v, values.description, values['override-reason'], operator);
      const lines = [`${group} v${v}: Approved (the approval event starts the promotion pipeline)`];
      const runs = await publishLocalEvents(
        [
          {
            source: SAGEMAKER_EVENT_SOURCE,
            'detail-type': MODEL_PACKAGE_STATE_CHANGE,
            detail: {
              ModelPackageGroupName: group,
              ModelPackageName: group,
              ModelPackageVersion: v,
              ModelPackageArn: record.ModelPackageArn,
              ModelApprovalStatus: 'Approved',
              ModelPackageStatus: record.ModelPackageStatus ?? 'Completed',
              CreationTime: record.CreationTime,
            },
            resources: [record.ModelPackageArn as string],
          },
        ],
        { root },
      );
      if (runs.length === 0) lines.push(`no rule matched (the local rules watch group ${DEFAULT_GROUP} only)`);
      for (const run of runs) {
        lines.push(
          `${run.target} ${run.result.name}: ${run.result.status}` +
            (run.result.status === 'FAILED' ? ` ${run.result.error ?? ''}: ${causeMessage(run.result.cause)}` : ''),
        );
      }
      lines.push(packageLine(group, v, root));
      for (const p of listPackages(root, group).map(packageView)) {
        if (p.version !== v && p.metadata.superseded_by === record.ModelPackageArn && p.stage === 'Archived') {
          lines.push(`${group} v${p.version}: stage Archived (was Production)`);
        }
      }
      if (runs.some((r) => r.result.status === 'FAILED')) throw new Error(lines.join('\n'));
      return lines.join('\n');
    }
    case 'rollback': {
      if (version !== undefined) throw new Error(`models rollback takes no version\n\n${USAGE}`);
      const reason = values.reason ?? `clv models rollback by ${operator} (no reason given)`;
      const name = `rollback-${new Date()
        .toISOString()
        .replace(/[^0-9]/g, '')
        .slice(0, 17)}`;
      const result = await runLocal({
        stateMachine: 'promotion',
        root,
        executionName: name,
        input: { rollback: true, reason, operator },
      });
      if (result.status !== 'SUCCEEDED') {
        throw new Error(`rollback ${name} failed: ${result.error ?? ''}: ${causeMessage(result.cause)}`);
      }
      const lines = [`promotion ${name}: SUCCEEDED (rollback: ${reason})`];
      for (const p of listPackages(root, group).map(packageView)) {
        if (p.stage === 'Production' || p.metadata.archived_at !== undefined) {
          lines.push(`${group} v${p.version}: ${p.approval}, stage ${p.stage}`);
        }
      }
      return lines.join('\n');
    }
    default:
      throw new Error(`models: unknown subcommand ${JSON.stringify(sub ?? '')}\n\n${USAGE}`);
  }
}

export const modelsCommand: Command = {
  summary: 'list, describe, approve or reject model packages of the local Model Registry',
  usage: USAGE,
  async run(argv) {
    try {
      console.log(await modelsMain(argv));
      return 0;
    } catch (err) {
      console.error(`clv models: ${(err as Error).message}`);
      return 1;
    }
  },
};
