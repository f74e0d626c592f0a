/**
 * The demo's command line (`npm run demo -- [options]`) and its timeline: which calendar the generated shop, the
 * two periods, the cutoffs and the scoring dates follow. Checked with zod: a bad option exits 2 naming it.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LOCAL_PIPELINE_SETTINGS, rollingCutoffs } from '../../lib/contracts/pipeline-inputs.js';
import { repoRoot } from '../../lib/paths.js';

export const DEMO_USAGE = `usage: npm run demo -- [--customers N] [--seed S] [--out DIR] [--skip-drift] [--tuning-trials T]

  The whole MLOps loop on the local runtime, offline: generate a shop, the data pipeline, training with tuning
  trials, the gates, registration, approval and promotion, batch scoring and monitoring; then a second period with
  the generator's drift-channel scenario: a drift alert, a triggered retraining, shadow, a 5 % canary campaign with
  simulated outcomes and its analysis, the promotion of the challenger, and scoring with the new champion.

  --customers N      customers of the generated shop (default 20000; 1000 .. 1000000)
  --seed S           generator seed (default 42)
  --out DIR          where summary.json, report.html and the local lake (DIR/lake, unless $CLV_LOCAL_ROOT is
                     set) go; emptied first (default demo-output)
  --skip-drift       stop after the first period's monitoring (no drift period, retraining or rollout)
  --tuning-trials T  hyperparameter tuning trials of the first training run (default 4; 1 .. 20)`;

export class DemoUsageError extends Error {}

const optionsSchema = z.strictObject({
  customers: z.coerce
    .number({ error: '--customers must be an integer' })
    .int('--customers must be an integer')
    .min(1000, '--customers must be at least 1000 (the model gates need enough customers per slice)')
    .max(1_000_000, '--customers must be at most 1000000'),
  seed: z.coerce
    .number({ error: '--seed must be an integer' })
    .int('--seed must be an integer')
    .min(0, '--seed must be 0 or more')
    .max(Number.MAX_SAFE_INTEGER, '--seed is too large'),
  out: z.string().min(1, '--out must not be empty'),
  skipDrift: z.boolean(),
  tuningTrials: z.coerce
    .number({ error: '--tuning-trials must be an integer' })
    .int('--tuning-trials must be an integer')
    .min(1, '--tuning-trials must be at least 1')
    .max(20, '--tuning-trials must be at most 20 (the ASL tuning job allows 20)'),
});

export interface DemoOptions {
  customers: number;
  seed: number;
  /** Absolute output folder. */
  out: string;
  /** Absolute local lake root ($CLV_LOCAL_ROOT or <out>/lake). */
  root: string;
  skipDrift: boolean;
  tuningTrials: number;
}

const isInteger = (v: string | undefined): boolean => v === undefined || /^-?\d+$/.test(v.trim());

export function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        customers: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'skip-drift': { type: 'boolean' },
        'tuning-trials': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new DemoUsageError(`demo: ${(err as Error).message}\n\n${DEMO_USAGE}`);
  }
  if (values.help) throw new DemoUsageError(DEMO_USAGE);
  for (const key of ['customers', 'seed', 'tuning-trials'] as const) {
    if (!isInteger(values[key] as string | undefined)) {
      throw new DemoUsageError(`demo: --${key} must be an integer, got '${values[key]}'`);
    }
  }
  const parsed = optionsSchema.safeParse({
    customers: values.customers ?? '20000',
    seed: values.seed ?? '42',
    out: values.out ?? 'demo-output',
    skipDrift: values['skip-drift'] === true,
    tuningTrials: values['tuning-trials'] ?? '4',
  });
  if (!parsed.success) {
    throw new DemoUsageError(`demo: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const out = path.resolve(repoRoot, parsed.data.out);
  if (out === repoRoot || repoRoot.startsWith(`${out}${path.sep}`)) {
    throw new DemoUsageError(`demo: --out must not be the repository or a folder above it (${out})`);
  }
  const root = env.CLV_LOCAL_ROOT ? path.resolve(env.CLV_LOCAL_ROOT) : path.join(out, 'lake');
  return { ...parsed.data, out, root };
}

const addDays = (iso: string, days: number): string => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

/**
 * The calendar. The shop opens on `start`; the first period is three years of history, the second six months in
 * which the drift-channel scenario changes the acquisition mix. The CRM extracts come every six months (1 January
 * and 1 July), the dates of the first training's cutoffs and of both scoring runs, and each data pipeline run
 * ingests through its scoring date: a scoring snapshot has the extract of its own day, so no customer is "unknown"
 * for lack of an extract (decision 0035).
 */
export interface DemoTimeline {
  start: string;
  months: number;
  steadyMonths: number;
  driftStart: string;
  /** First period: ingest from start through scoring1 (inclusive); the hand-started training's cutoffs. */
  training: { training_cutoff: string; validation_cutoff: string; test_cutoff: string };
  scoring1: string;
  /** Second period: ingest from the day after scoring1 through scoring2. */
  scoring2: string;
  /** Labelled snapshots the triggered retraining needs (its rolling cutoffs from scoring2), oldest first. */
  retrainingCutoffs: string[];
  truthHorizonDays: number;
}

export function demoTimeline(): DemoTimeline {
  const rolling = rollingCutoffs('2025-07-01', LOCAL_PIPELINE_SETTINGS['training-pipeline'].rolling_cutoffs);
  const retrainingCutoffs = [
    ...new Set([...rolling.training_cutoffs, rolling.validation_cutoff, rolling.test_cutoff]),
  ].sort();
  return {
    start: '2022-01-01',
    // the same shop with or without --skip-drift: the first period is identical either way. 43 months: the second
    // scoring day (2025-07-01) is a delivery day with transactions (the period's last day is 2025-07-31)
    months: 43,
    steadyMonths: 36,
    // the day after the first scoring cutoff: the first period's last delivery day is still the unchanged shop
    driftStart: '2025-01-02',
    training: { training_cutoff: '2023-01-01', validation_cutoff: '2023-07-01', test_cutoff: '2024-01-01' },
    scoring1: '2025-01-01',
    scoring2: '2025-07-01',
    retrainingCutoffs,
    truthHorizonDays: 365,
  };
}

export { addDays };
