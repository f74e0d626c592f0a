/**
 * `clv models list|describe <version>|approve <version>|reject <version>`: the local Model Registry
 * (<root>/_local/registry/<group>/) as a person uses the SageMaker console. See docs/model-registry.md.
 */
import { parseArgs } from 'node:util';
import { LOCAL_PREFIX } from '../constants.js';
import { getPackage, listPackages, packageView, setPackageDecision } from '../integrations/durable.js';
import { localRoot } from '../storage.js';
import type { Command } from './commands.js';

export const DEFAULT_GROUP = `${LOCAL_PREFIX}-clv-models`;
const METRICS = ['test_gini', 'test_rmse', 'test_churn_auc'] as const;

const USAGE = `usage: npm run clv -- models list [--group G] [--root DIR]
       npm run clv -- models describe <version> [--group G] [--root DIR]
       npm run clv -- models approve <version> [--description TEXT] [--group G] [--root DIR]
       npm run clv -- models reject <version> [--description TEXT] [--group G] [--root DIR]

  approve: ModelApprovalStatus=Approved and stage Production; the previous Production package becomes Archived.
  reject:  ModelApprovalStatus=Rejected and stage Archived.
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

/** Runs one `models` subcommand; returns the text to print (throws with a clear message on a bad call). */
export function modelsMain(argv: string[]): string {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      group: { type: 'string', default: DEFAULT_GROUP },
      root: { type: 'string' },
      description: { type: 'string' },
    },
  });
  const root = values.root ?? localRoot();
  const group = values.group;
  const [sub, version, ...extra] = positionals;
  if (extra.length > 0) throw new Error(`models: unexpected arguments ${extra.join(' ')}\n\n${USAGE}`);
  switch (sub) {
    case 'list':
      if (version !== undefined) throw new Error(`models list takes no version\n\n${USAGE}`);
      return formatList(root, group);
    case 'describe':
      return JSON.stringify(getPackage(root, group, parseVersion(version, sub)).record, null, 2);
    case 'approve':
    case 'reject': {
      const r = setPackageDecision(root, group, parseVersion(version, sub), sub, values.description);
      const lines = [`${group} v${r.package.version}: ${r.package.approval}, stage ${r.package.stage}`];
      for (const a of r.archived) lines.push(`${group} v${a.version}: stage Archived (was Production)`);
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
      console.log(modelsMain(argv));
      return 0;
    } catch (err) {
      console.error(`clv models: ${(err as Error).message}`);
      return 1;
    }
  },
};
