// @ts-check
/**
 * StrykerJS mutation testing of the TypeScript modules that guard data and models. `npm run test:mutation`
 * (scripts/mutation.ts) runs Stryker once per entry of `modules` below, each against its own unit tests, then
 * mutmut over the Python modules listed in scripts/mutation.ts, and prints the score per module. Not part of
 * `npm test`: every mutant re-runs the tests that cover it, which takes many minutes (docs/testing.md has the
 * scores, the wall time and the surviving mutants judged equivalent).
 *
 * `npx stryker run` alone mutates every module below against the union of their tests.
 *
 * Settings chosen for a 2-core machine shared with other work: one test process (`concurrency: 1`); per-test
 * coverage, so a mutant runs only the tests that execute it; `testFiles` limited to the unit tests of the module
 * (the e2e and CDK synth suites would make each dry run take minutes and cover nothing more here); incremental
 * results per module under reports/mutation/, so a rerun tests only the mutants whose code or tests changed.
 */

/** @typedef {{ name: string, why: string, mutate: string[], testFiles: string[] }} MutationModule */

/** @type {MutationModule[]} */
export const modules = [
  {
    name: 'model-gate',
    why: 'decides whether a trained model may be registered: thresholds, champion comparison, fairness ratio',
    mutate: ['lambdas/model-gate/gate.ts'],
    testFiles: ['test/lambdas/model-gate.test.ts', 'test/lambdas/model-gate-guards.test.ts'],
  },
  {
    name: 'quality-gate',
    why: "stops a data-pipeline run whose silver tables fail their expectations; the ratio bounds and the 'critical' flag decide",
    mutate: ['lambdas/quality-gate/gate.ts', 'lambdas/quality-gate/evaluate.ts'],
    testFiles: ['test/lambdas/quality-gate.test.ts', 'test/lambdas/quality-gate-boundaries.test.ts'],
  },
  {
    name: 'shadow-gate',
    why: 'decides whether a shadow (challenger) endpoint may replace the production one',
    mutate: ['lambdas/shadow-gate/core.ts'],
    testFiles: ['test/lambdas/shadow-gate.test.ts', 'test/lambdas/shadow-gate-boundaries.test.ts'],
  },
  {
    name: 'validate-input',
    why: 'first state of every pipeline: rejects malformed execution input before anything runs',
    mutate: ['lambdas/validate-input/core.ts'],
    testFiles: ['test/lambdas/validate-input.test.ts'],
  },
  {
    name: 'clickstream-schema',
    why: 'the schema every clickstream event must pass before it reaches the lake',
    mutate: ['lambdas/shared/schemas/clickstream-event.ts'],
    testFiles: ['test/lambdas/clickstream-transform.test.ts', 'test/lambdas/clickstream-schema.test.ts'],
  },
  {
    name: 'local-object-store',
    why: "maps s3:// URIs to local paths; refuses '.'/'..' segments and invalid buckets that would escape its root",
    mutate: ['local/storage.ts'],
    testFiles: ['test/local/storage.test.ts'],
  },
  {
    name: 'object-store',
    why: 'the object-store port the Lambdas read reports and write results through (S3 and local)',
    mutate: ['lambdas/shared/object-store.ts'],
    testFiles: ['test/lambdas/object-store.test.ts', 'test/lambdas/object-store-guards.test.ts'],
  },
  {
    name: 'alert-router',
    why:
      'de-duplicates alerts: a dedup bug pages twice or never. Only route() and resolve() (the dedup keys, the ' +
      'partial-delivery markers, the releases) are mutated; message formatting is left to the unit tests',
    mutate: ['lambdas/alert-router/core.ts:248-345'],
    testFiles: ['test/lambdas/alert-router.test.ts', 'test/lambdas/alert-router-dedup.test.ts'],
  },
  {
    name: 'drift',
    why:
      'drift severity (PSI against psi_low / psi_medium), the alerts it raises and the checks on the binned ' +
      'counts; the statistics above them (PSI, KS, chi-square) are pinned by drift.test.ts hand computations',
    mutate: ['lambdas/drift/core.ts:181-305'],
    testFiles: ['test/lambdas/drift.test.ts', 'test/lambdas/drift-monitoring-boundaries.test.ts'],
  },
  {
    name: 'monitoring',
    why: 'the proxy-drop judgement and the decision to notify and to retrain (judgeProxy, decide)',
    mutate: ['lambdas/monitoring/core.ts:134-184', 'lambdas/monitoring/core.ts:377-430'],
    testFiles: ['test/lambdas/monitoring.test.ts', 'test/lambdas/drift-monitoring-boundaries.test.ts'],
  },
];

export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: false },
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30_000,
  mutate: modules.flatMap((m) => m.mutate),
  testFiles: [...new Set(modules.flatMap((m) => m.testFiles))],
  // The sandbox is a copy of the repository: leave out what no TypeScript unit test reads (the Python venv, the
  // local runtime's data, CDK output, downloaded tools, the Python mutation scratch).
  ignorePatterns: ['/.venv', '/.tools', '/.clv-local', '/cdk.out', '/.mutmut', '/reports', '/.stryker-tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // Static mutants (module-level code: the zod schemas) are not activated by the vitest runner here: every one
  // "survives" even against tests that reject exactly what it breaks (checked on clickstream-event.ts's currency
  // regex). Ignored rather than counted; the schema rules are pinned by rejection tests instead (docs/testing.md).
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress-append-only'],
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 80 },
};
