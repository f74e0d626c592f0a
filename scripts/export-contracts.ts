/**
 * Writes the feature contract (lib/contracts/feature-contract.ts) as JSON for Python:
 *   contracts/feature-contract.json                          (the committed, shared copy)
 *   glue-scripts/clv_glue/features/feature_contract.json     (the same bytes, shipped inside the Glue package)
 *
 * Usage: npx tsx scripts/export-contracts.ts [--check]
 *   --check  writes nothing; exits 1 when a file on disk differs from the TypeScript contract.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contractDocument } from '../lib/contracts/feature-contract.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CONTRACT_OUTPUTS = [
  'contracts/feature-contract.json',
  'glue-scripts/clv_glue/features/feature_contract.json',
] as const;

/** The exact text written to every output file. */
export function renderContractJson(): string {
  return `${JSON.stringify(contractDocument(), null, 2)}\n`;
}

/** Output files (repo-relative) whose content differs from renderContractJson(), with the reason. */
export function staleOutputs(root: string = REPO_ROOT): string[] {
  const expected = renderContractJson();
  const stale: string[] = [];
  for (const rel of CONTRACT_OUTPUTS) {
    let actual: string | null = null;
    try {
      actual = readFileSync(join(root, rel), 'utf8');
    } catch {
      stale.push(`${rel} (missing)`);
      continue;
    }
    if (actual !== expected) stale.push(`${rel} (differs from lib/contracts/feature-contract.ts)`);
  }
  return stale;
}

function main(argv: string[]): number {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`export-contracts: unknown argument(s): ${unknown.join(' ')}; usage: export-contracts.ts [--check]`);
    return 2;
  }
  if (argv.includes('--check')) {
    const stale = staleOutputs();
    if (stale.length > 0) {
      console.error(
        `export-contracts --check: out of date:\n  ${stale.join('\n  ')}\nRun: npx tsx scripts/export-contracts.ts`,
      );
      return 1;
    }
    console.log(`export-contracts --check: ${CONTRACT_OUTPUTS.length} files up to date`);
    return 0;
  }
  const text = renderContractJson();
  for (const rel of CONTRACT_OUTPUTS) {
    writeFileSync(join(REPO_ROOT, rel), text);
    console.log(`wrote ${relative(process.cwd(), join(REPO_ROOT, rel)) || rel}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
