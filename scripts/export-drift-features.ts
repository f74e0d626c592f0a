/**
 * Writes the drift-monitoring contract (lib/contracts/drift-features.ts) as JSON for Python:
 *   sagemaker/clv_model/drift_features.json (shipped with the SageMaker code; read by drift_baseline.py)
 *
 * Usage: npx tsx scripts/export-drift-features.ts [--check]
 *   --check  writes nothing; exits 1 when the file's JSON value differs from the TypeScript contract.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { driftFeaturesDocument } from '../lib/contracts/drift-features.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DRIFT_FEATURES_JSON = 'sagemaker/clv_model/drift_features.json';

export function renderDriftFeaturesJson(): string {
  return `${JSON.stringify(driftFeaturesDocument(), null, 2)}\n`;
}

/** Why the exported file is stale (missing, not JSON, different value), or undefined when it is up to date. */
export function driftFeaturesStale(root: string = REPO_ROOT): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, DRIFT_FEATURES_JSON), 'utf8');
  } catch {
    return `${DRIFT_FEATURES_JSON} (missing)`;
  }
  try {
    if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(driftFeaturesDocument())) {
      return `${DRIFT_FEATURES_JSON} (differs from lib/contracts/drift-features.ts)`;
    }
  } catch (err) {
    return `${DRIFT_FEATURES_JSON} (not valid JSON: ${(err as Error).message})`;
  }
  return undefined;
}

export function main(argv: string[]): number {
  if (argv.length > 1 || (argv.length === 1 && argv[0] !== '--check')) {
    console.error('usage: export-drift-features.ts [--check]');
    return 2;
  }
  if (argv[0] === '--check') {
    const stale = driftFeaturesStale();
    if (stale) {
      console.error(
        `export-drift-features --check: out of date: ${stale}\nRun: npx tsx scripts/export-drift-features.ts`,
      );
      return 1;
    }
    console.log(`export-drift-features --check: ${DRIFT_FEATURES_JSON} up to date`);
    return 0;
  }
  writeFileSync(join(REPO_ROOT, DRIFT_FEATURES_JSON), renderDriftFeaturesJson());
  console.log(`wrote ${DRIFT_FEATURES_JSON}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
