/**
 * `npm run test:mutation`: mutation testing of the modules that guard data and models, with the score per module.
 *
 *   - TypeScript: StrykerJS (vitest runner), one run per module of stryker.config.mjs `modules`, each against
 *     that module's own unit tests;
 *   - Python: mutmut over PYTHON_MODULES below, in a scratch copy (.mutmut/) so the working tree is never mutated.
 *
 * Score = (killed + timed out) / (killed + timed out + survived + no coverage): a mutant no test even executes
 * counts as a survivor. Each module's surviving mutants are listed so they can be killed or judged equivalent
 * (docs/testing.md). Reports land in reports/mutation/ (git-ignored). Stryker reruns are incremental (only the
 * mutants whose code or covering tests changed are tested again); mutmut starts from a fresh copy every run.
 *
 * Usage: npx tsx scripts/mutation.ts [--only NAME[,NAME…]] [--ts-only | --py-only]
 * Exit status: 0 when every module ran (the scores are reported, not enforced), 1 when a run failed or a name
 * given to --only is unknown.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reportsDir = path.join(root, 'reports', 'mutation');
const scratch = path.join(root, '.mutmut');

const moduleSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  why: z.string().min(1),
  mutate: z.array(z.string().min(1)).min(1),
  testFiles: z.array(z.string().min(1)).min(1),
  /** Python only: score just these functions of the module (the guards), when the rest needs Spark or a model. */
  functions: z.array(z.string().min(1)).optional(),
});
type MutationModule = z.infer<typeof moduleSchema>;

/**
 * The Python modules. mutmut needs the packages at the root of the directory it runs in, so the scratch copy puts
 * clv_glue (glue-scripts/) and clv_model (sagemaker/) side by side; `mutate` is relative to that root.
 */
export const PYTHON_MODULES: MutationModule[] = [
  {
    name: 'py-metrics',
    why: "the figures the model gate reads (normalized Gini and its guard, top-decile capture, AUC) and the inputs' guard",
    mutate: ['clv_model/metrics.py'],
    testFiles: ['sagemaker/tests/test_metrics.py', 'sagemaker/tests/test_metrics_guards.py'],
  },
  {
    name: 'py-reconciliation',
    why:
      'the balance check every Glue job runs before it writes (landed = silver + quarantined + duplicates), its ' +
      'report text and the UTC-session guard; the Spark column helpers of the module are covered by the job tests',
    mutate: ['clv_glue/common/quality.py'],
    testFiles: ['glue-scripts/tests/test_reconciliation_balance.py'],
    functions: ['check_balance', 'to_json', 'require_utc_session'],
  },
  {
    name: 'py-leakage-guard',
    why:
      'the evaluation refuses a test snapshot that is not later than the training/validation cutoffs, and writes ' +
      'the fairness section the gate re-reads; the rest of evaluation.py needs a trained model (evaluate_entry tests)',
    mutate: ['clv_model/evaluation.py'],
    testFiles: ['sagemaker/tests/test_evaluation_guards.py'],
    functions: ['_check_later', '_fairness'],
  },
];

interface Score {
  name: string;
  tool: 'stryker' | 'mutmut';
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  other: number;
  seconds: number;
  survivors: string[];
}

const pct = (s: Score): string => {
  const detected = s.killed + s.timeout;
  const total = detected + s.survived + s.noCoverage;
  return total === 0 ? 'n/a' : `${((100 * detected) / total).toFixed(2)}%`;
};

function parseArgs(argv: string[]): { only: Set<string> | null; ts: boolean; py: boolean } {
  let only: Set<string> | null = null;
  let ts = true;
  let py = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') {
      const v = argv[++i];
      if (!v) throw new Error('--only needs a comma-separated list of module names');
      only = new Set(v.split(',').filter(Boolean));
    } else if (a === '--ts-only') py = false;
    else if (a === '--py-only') ts = false;
    else throw new Error(`unknown argument '${a}' (expected --only NAMES, --ts-only or --py-only)`);
  }
  return { only, ts, py };
}

async function loadStrykerModules(): Promise<MutationModule[]> {
  const mod = (await import(pathToFileURL(path.join(root, 'stryker.config.mjs')).href)) as { modules: unknown };
  const modules = z.array(moduleSchema).safeParse(mod.modules);
  if (!modules.success) throw new Error(`stryker.config.mjs: invalid \`modules\`: ${z.prettifyError(modules.error)}`);
  return modules.data;
}

async function runStryker(m: MutationModule): Promise<Score> {
  for (const f of [...m.mutate, ...m.testFiles]) {
    // a mutate entry may name a line range (file.ts:10-20)
    if (!fs.existsSync(path.join(root, f.replace(/:\d+-\d+$/, '')))) throw new Error(`${m.name}: ${f} does not exist`);
  }
  const { Stryker } = await import('@stryker-mutator/core');
  const started = Date.now();
  // Stryker reads stryker.config.mjs itself; only this module's files and report paths are overridden.
  const results = await new Stryker({
    configFile: 'stryker.config.mjs',
    mutate: m.mutate,
    testFiles: m.testFiles,
    incrementalFile: path.join('reports', 'mutation', `${m.name}.incremental.json`),
    reporters: ['progress-append-only'],
  }).runMutationTest();
  const count = (...statuses: string[]) => results.filter((r) => statuses.includes(r.status)).length;
  return {
    name: m.name,
    tool: 'stryker',
    killed: count('Killed'),
    timeout: count('Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    other: count('CompileError', 'RuntimeError'),
    seconds: (Date.now() - started) / 1000,
    survivors: results
      .filter((r) => r.status === 'Survived' || r.status === 'NoCoverage')
      .map(
        (r) =>
          `${r.fileName}:${r.location.start.line}:${r.location.start.column} ${r.mutatorName} → ${r.replacement ?? ''}`,
      ),
  };
}

/** mutmut's exit codes per mutant (mutmut/stats.py `status_by_exit_code`). */
const MUTMUT_STATUS: Record<string, 'killed' | 'survived' | 'no tests' | 'timeout'> = {
  '1': 'killed',
  '3': 'killed',
  '0': 'survived',
  '5': 'no tests',
  '33': 'no tests',
  '36': 'timeout',
  '24': 'timeout',
  '-24': 'timeout',
  '152': 'timeout',
  '255': 'timeout',
};

const metaSchema = z.object({ exit_code_by_key: z.record(z.string(), z.number().int().nullable()) });

/**
 * A fresh scratch copy of the Python packages and tests. Always fresh: mutmut reuses a mutant's result while the
 * function is unchanged, even when the tests changed, so a kept copy would report stale survivors.
 */
function prepareScratch(modules: MutationModule[]): void {
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  for (const [pkg, from] of [
    ['clv_glue', 'glue-scripts/clv_glue'],
    ['clv_model', 'sagemaker/clv_model'],
  ] as const) {
    fs.rmSync(path.join(scratch, pkg), { recursive: true, force: true });
    fs.cpSync(path.join(root, from), path.join(scratch, pkg), {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !src.includes('__pycache__'),
    });
  }
  // mutmut runs pytest with --rootdir at its copy and keeps test ids relative to it: the tests must live inside
  // the scratch directory (tests/, which mutmut copies along), under names unique across the test folders.
  const testsDir = path.join(scratch, 'tests');
  fs.rmSync(testsDir, { recursive: true, force: true });
  fs.mkdirSync(testsDir);
  const tests = [...new Set(modules.flatMap((m) => m.testFiles))].map((t) => {
    const target = path.join(testsDir, path.basename(t));
    if (fs.existsSync(target)) throw new Error(`two Python test files named ${path.basename(t)}`);
    fs.copyFileSync(path.join(root, t), target);
    return path.relative(scratch, target);
  });
  const toml = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  fs.writeFileSync(
    path.join(scratch, 'pyproject.toml'),
    [
      '# Written by scripts/mutation.ts (PYTHON_MODULES there says why each module is mutated).',
      '[tool.mutmut]',
      'source_paths = ["clv_glue", "clv_model"]',
      `only_mutate = ${toml(modules.flatMap((m) => m.mutate))}`,
      `pytest_add_cli_args_test_selection = ${toml(tests)}`,
      'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
      'use_git_change_detection = false',
      '',
    ].join('\n'),
  );
}

function runMutmut(modules: MutationModule[]): Score[] {
  for (const m of modules) {
    for (const t of m.testFiles) {
      if (!fs.existsSync(path.join(root, t))) throw new Error(`${m.name}: test file ${t} does not exist`);
    }
  }
  prepareScratch(modules);
  const started = Date.now();
  // mutmut redraws a progress line many times a second: its output goes to a log file, not the console
  const logPath = path.join(reportsDir, 'mutmut.log');
  const log = fs.openSync(logPath, 'w');
  console.log(`mutmut: ${modules.map((m) => m.name).join(', ')} (log: ${path.relative(root, logPath)})`);
  const run = spawnSync(path.join(root, '.venv', 'bin', 'mutmut'), ['run', '--max-children', '1'], {
    cwd: scratch,
    stdio: ['ignore', log, log],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  fs.closeSync(log);
  if (run.error) throw new Error(`mutmut could not start (run 'npm run setup:python'): ${run.error.message}`);
  if (run.status !== 0) {
    const tail = fs.readFileSync(logPath, 'utf8').slice(-2000);
    throw new Error(`mutmut run exited with ${run.status}; the end of ${logPath}:\n${tail}`);
  }
  const seconds = (Date.now() - started) / 1000;
  return modules.map((m) => {
    const score: Score = {
      name: m.name,
      tool: 'mutmut',
      killed: 0,
      timeout: 0,
      survived: 0,
      noCoverage: 0,
      other: 0,
      seconds,
      survivors: [],
    };
    for (const file of m.mutate) {
      const metaPath = path.join(scratch, 'mutants', `${file}.meta`);
      if (!fs.existsSync(metaPath)) throw new Error(`${m.name}: mutmut wrote no results for ${file} (${metaPath})`);
      const meta = metaSchema.parse(JSON.parse(fs.readFileSync(metaPath, 'utf8')));
      // keys look like clv_model.evaluation.x__check_later__mutmut_3 (x_ + function name + __mutmut_ + n)
      const scored = (key: string) =>
        !m.functions || m.functions.some((f) => new RegExp(`\\.x_${f}__mutmut_\\d+$`).test(key));
      for (const [key, code] of Object.entries(meta.exit_code_by_key).filter(([k]) => scored(k))) {
        const status = code === null ? undefined : MUTMUT_STATUS[String(code)];
        if (status === 'killed') score.killed++;
        else if (status === 'timeout') score.timeout++;
        else if (status === 'survived') score.survived++;
        else if (status === 'no tests') score.noCoverage++;
        else score.other++;
        if (status === 'survived' || status === 'no tests') score.survivors.push(`${key} (${status})`);
      }
    }
    return score;
  });
}

function table(scores: Score[]): string {
  const rows = [
    ['module', 'tool', 'score', 'killed', 'timeout', 'survived', 'no cov', 'errors', 'seconds'],
    ...scores.map((s) => [
      s.name,
      s.tool,
      pct(s),
      String(s.killed),
      String(s.timeout),
      String(s.survived),
      String(s.noCoverage),
      String(s.other),
      s.seconds.toFixed(0),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const modules = await loadStrykerModules();
  const known = new Set([...modules, ...PYTHON_MODULES].map((m) => m.name));
  const unknown = [...(args.only ?? [])].filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`unknown module(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  const chosen = (ms: MutationModule[]) => ms.filter((m) => !args.only || args.only.has(m.name));
  fs.mkdirSync(reportsDir, { recursive: true });
  const started = Date.now();
  const scores: Score[] = [];
  if (args.ts) for (const m of chosen(modules)) scores.push(await runStryker(m));
  const py = chosen(PYTHON_MODULES);
  if (args.py && py.length) scores.push(...runMutmut(py));
  const wall = (Date.now() - started) / 1000;
  const summary = `${table(scores)}\n\nwall time ${(wall / 60).toFixed(1)} min`;
  const survivors = scores.map((s) => `## ${s.name}\n${s.survivors.join('\n') || '(none)'}`).join('\n\n');
  fs.writeFileSync(path.join(reportsDir, 'summary.txt'), `${summary}\n`);
  fs.writeFileSync(path.join(reportsDir, 'survivors.txt'), `${survivors}\n`);
  console.log(`\n${summary}\nsurvivors: ${path.relative(root, path.join(reportsDir, 'survivors.txt'))}`);
}

main().catch((err: unknown) => {
  console.error(`test:mutation: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
