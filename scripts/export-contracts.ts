/**
 * Writes the feature contract (lib/contracts/feature-contract.ts) as JSON for Python:
 *   contracts/feature-contract.json                          (the committed, shared copy)
 *   glue-scripts/clv_glue/features/feature_contract.json     (the same JSON, shipped inside the Glue package)
 *   sagemaker/clv_model/feature_contract.json                (the same JSON, shipped with the SageMaker code)
 *
 * Usage: npx tsx scripts/export-contracts.ts [--check] [--root DIR]
 *   --check  writes nothing; exits 1 when a file's JSON value differs from the TypeScript contract.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, contractDocument } from '../lib/contracts/feature-contract.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CONTRACT_OUTPUTS = [
  'contracts/feature-contract.json',
  'glue-scripts/clv_glue/features/feature_contract.json',
  'sagemaker/clv_model/feature_contract.json',
] as const;

/** The exact text written to every output file. */
export function renderContractJson(): string {
  return `${JSON.stringify(contractDocument(), null, 2)}\n`;
}

/**
 * Output files (repo-relative) whose JSON value differs from the TypeScript contract, with the reason.
 * Values are compared, not bytes, so a JSON formatter run over the tree does not make a file stale.
 */
export function staleOutputs(root: string = REPO_ROOT): string[] {
  const expected = canonicalJson(contractDocument());
  const stale: string[] = [];
  for (const rel of CONTRACT_OUTPUTS) {
    let text: string;
    try {
      text = readFileSync(join(root, rel), 'utf8');
    } catch {
      stale.push(`${rel} (missing)`);
      continue;
    }
    let actual: string;
    try {
      actual = canonicalJson(JSON.parse(text));
    } catch (err) {
      stale.push(`${rel} (not valid JSON: ${(err as Error).message})`);
      continue;
    }
    if (actual !== expected) stale.push(`${rel} (differs from lib/contracts/feature-contract.ts)`);
  }
  return stale;
}

/** CLI: [--check] [--root DIR] (DIR defaults to the repository root). Returns the exit code. */
export function main(argv: string[]): number {
  let check = false;
  let root = REPO_ROOT;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') check = true;
    else if (arg === '--root' && argv[i + 1] !== undefined) root = resolve(argv[++i] as string);
    else {
      console.error(`export-contracts: unexpected argument ${arg}; usage: export-contracts.ts [--check] [--root DIR]`);
      return 2;
    }
  }
  if (check) {
    const stale = staleOutputs(root);
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
    writeFileSync(join(root, rel), text);
    console.log(`wrote ${relative(process.cwd(), join(root, rel)) || rel}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
