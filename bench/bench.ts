/**
 * `npm run bench -- <name> [options]`: the project's benchmarks. Each reports its figures on stdout and as JSON.
 * Benchmarks measure speed and memory; tests never do.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../lib/paths.js';

interface Benchmark {
  readonly description: string;
  /** Python module run with the project's .venv and the given arguments. */
  readonly pythonArgs: (args: string[]) => string[];
}

const BENCHMARKS: Record<string, Benchmark> = {
  generate: {
    description: 'synthetic data generator: rows/s and peak memory (--customers N [--months M] [--out DIR])',
    pythonArgs: (args) => ['-m', 'datagen.bench', ...args],
  },
  features: {
    description: 'features job on generated data in local mode: wall time, rows/s, peak memory (--customers N)',
    pythonArgs: (args) => ['-m', 'clv_glue.bench', 'features', ...args],
  },
  model: {
    description:
      'CLV model vs baselines (--input FILE --preset generic|online-retail --cutoff YYYY-MM-DD --horizon-days N --out DIR)',
    pythonArgs: (args) => ['-m', 'clv_model.bench', 'model', ...args],
  },
  scoring: {
    description:
      'inference entry point vs raw xgboost predict, then per-customer reasons (--customers N --out DIR [--format csv|parquet])',
    pythonArgs: (args) => [path.join(repoRoot, 'bench/scoring.py'), ...args],
  },
};

function usage(): string {
  const lines = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(10)} ${b.description}`);
  return `usage: npm run bench -- <benchmark> [options]\n\nbenchmarks:\n${lines.join('\n')}`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  console.log(usage());
  process.exit(name === undefined ? 2 : 0);
}
const benchmark = BENCHMARKS[name];
if (benchmark === undefined) {
  console.error(`Unknown benchmark '${name}'. Allowed: ${Object.keys(BENCHMARKS).join(', ')}.\n\n${usage()}`);
  process.exit(2);
}
const result = spawnSync('bash', [path.join(repoRoot, 'scripts/py.sh'), ...benchmark.pythonArgs(rest)], {
  cwd: repoRoot,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
