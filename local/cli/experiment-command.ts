/**
 * `clv experiment analyze --input FILE`: the campaign experiment analysis (lambdas/experiment-analysis/core.ts,
 * the same statistics as the analysis Lambda) over a per-customer outcomes file: CSV or Parquet with customer_id,
 * arm (control|treatment), converted (0/1), revenue (≥ 0), unsubscribed (0/1). DuckDB validates and aggregates it
 * (@duckdb/node-api); every bad row is reported by its row number and value. See docs/experiments.md.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  type Analysis,
  type ArmAggregates,
  analyzeExperiment,
  DEFAULT_ALPHA,
  DEFAULT_EXPECTED_SHARE,
  SRM_P_THRESHOLD,
} from '../../lambdas/experiment-analysis/core.js';
import { renderExperimentReport } from '../../lambdas/experiment-analysis/report.js';
import { localRoot, resolveS3Uri } from '../storage.js';
import type { Command } from './commands.js';

const USAGE = `usage: npm run clv -- experiment analyze --input FILE [--expected-share 0.05] [--alpha 0.05] [--json] [--html FILE]

  FILE: CSV (header row; .csv or .csv.gz) or Parquet (.parquet), a local path or an s3:// URI of the local store,
        one row per targeted customer: customer_id, arm (control|treatment), converted (0/1), revenue (>= 0, 0 when
        not converted), unsubscribed (0/1). Other columns are ignored.
  --expected-share  the treatment arm's expected share of the customers (default ${DEFAULT_EXPECTED_SHARE}: a 5% canary; 0.5 for A/B)
  --alpha           significance level; intervals are at 1 - alpha (default ${DEFAULT_ALPHA})
  --json            print the analysis as JSON instead of a table
  --html FILE       also write the HTML report to FILE
  Decision: invalid (sample ratio mismatch, p < ${SRM_P_THRESHOLD}) | worse | ship | no_difference. See docs/experiments.md.`;

export const REQUIRED_COLUMNS = ['customer_id', 'arm', 'converted', 'revenue', 'unsubscribed'] as const;
/** Examples of bad rows shown per problem. */
const EXAMPLES = 5;

/** The outcomes file is unusable: the message lists every problem with row numbers and values. */
export class OutcomeFileError extends Error {
  override name = 'OutcomeFileError';
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

function sourceSql(file: string): string {
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet')) return `read_parquet(${literal(file)})`;
  if (lower.endsWith('.csv') || lower.endsWith('.csv.gz')) {
    return `read_csv(${literal(file)}, header = true, all_varchar = true)`;
  }
  throw new OutcomeFileError(`${file}: unsupported file type (expected .csv, .csv.gz or .parquet)`);
}

/** The per-arm sufficient statistics of a validated outcomes file. */
export interface FileAggregates {
  file: string;
  rows: number;
  control: ArmAggregates;
  treatment: ArmAggregates;
}

/** Validates the file (all problems at once) and aggregates it per arm. */
export async function aggregateOutcomeFile(input: string): Promise<FileAggregates> {
  const file = input.startsWith('s3://') ? resolveS3Uri(input, localRoot()) : path.resolve(input);
  if (!existsSync(file)) throw new OutcomeFileError(`${input}: no such file${file !== input ? ` (${file})` : ''}`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const rowsOf = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
  try {
    try {
      await conn.run(`CREATE TEMP TABLE src AS SELECT *, row_number() OVER () AS __row FROM ${sourceSql(file)}`);
    } catch (err) {
      if (err instanceof OutcomeFileError) throw err;
      throw new OutcomeFileError(`${input}: cannot be read: ${(err as Error).message}`);
    }
    const columns = (await rowsOf('DESCRIBE src')).map((r) => String(r.column_name));
    const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new OutcomeFileError(
        `${input}: missing column(s) ${missing.join(', ')} (has: ${columns.filter((c) => c !== '__row').join(', ')})`,
      );
    }
    // Values as text first, so a bad value of any type is reported as it is written.
    await conn.run(`CREATE TEMP TABLE raw AS SELECT __row,
        CAST(customer_id AS VARCHAR) AS customer_id, CAST(arm AS VARCHAR) AS arm,
        CAST(converted AS VARCHAR) AS converted, CAST(revenue AS VARCHAR) AS revenue,
        CAST(unsubscribed AS VARCHAR) AS unsubscribed FROM src`);
    const flag = (c: string) => `TRY_CAST(TRIM(${c}) AS DOUBLE)`;
    const checks: Array<[string, string, string]> = [
      ['customer_id is empty', "customer_id IS NULL OR TRIM(customer_id) = ''", 'customer_id'],
      ['arm is not control or treatment', "arm IS NULL OR TRIM(arm) NOT IN ('control', 'treatment')", 'arm'],
      ['converted is not 0 or 1', `${flag('converted')} IS NULL OR ${flag('converted')} NOT IN (0, 1)`, 'converted'],
      [
        'revenue is not a non-negative number',
        `${flag('revenue')} IS NULL OR NOT isfinite(${flag('revenue')}) OR ${flag('revenue')} < 0`,
        'revenue',
      ],
      [
        'unsubscribed is not 0 or 1',
        `${flag('unsubscribed')} IS NULL OR ${flag('unsubscribed')} NOT IN (0, 1)`,
        'unsubscribed',
      ],
    ];
    const problems: string[] = [];
    for (const [what, where, column] of checks) {
      const bad = await rowsOf(
        `SELECT __row, ${column} AS value, count(*) OVER () AS total FROM raw WHERE ${where} ORDER BY __row LIMIT ${EXAMPLES}`,
      );
      if (bad.length > 0) {
        const total = Number(bad[0]?.total);
        const shown = bad.map((r) => `row ${r.__row}: ${r.value === null ? 'empty' : JSON.stringify(r.value)}`);
        problems.push(`${total} row(s) where ${what} (${shown.join(', ')}${total > bad.length ? ', …' : ''})`);
      }
    }
    const dups = await rowsOf(`SELECT customer_id, list(__row ORDER BY __row) AS rows_, count(*) OVER () AS total
        FROM raw WHERE customer_id IS NOT NULL GROUP BY customer_id HAVING count(*) > 1
        ORDER BY min(__row) LIMIT ${EXAMPLES}`);
    if (dups.length > 0) {
      const total = Number(dups[0]?.total);
      const shown = dups.map((r) => `${JSON.stringify(r.customer_id)} at rows ${(r.rows_ as unknown[]).join(', ')}`);
      problems.push(`${total} duplicate customer id(s) (${shown.join('; ')}${total > dups.length ? '; …' : ''})`);
    }
    if (problems.length > 0) {
      throw new OutcomeFileError(
        `${input}: ${problems.length} problem(s); rows are numbered from 1 after the header:\n  - ${problems.join('\n  - ')}`,
      );
    }
    const agg = await rowsOf(`SELECT TRIM(arm) AS arm, count(*) AS n,
        sum(${flag('converted')}) AS conversions,
        fsum(${flag('revenue')}) AS revenue_sum,
        fsum(${flag('revenue')} * ${flag('revenue')}) AS revenue_sum_sq,
        sum(${flag('unsubscribed')}) AS unsubscribes
      FROM raw GROUP BY TRIM(arm)`);
    const empty: ArmAggregates = { n: 0, conversions: 0, revenue_sum: 0, revenue_sum_sq: 0, unsubscribes: 0 };
    const arms: Record<string, ArmAggregates> = { control: { ...empty }, treatment: { ...empty } };
    for (const r of agg) {
      arms[String(r.arm)] = {
        n: Number(r.n),
        conversions: Number(r.conversions),
        revenue_sum: Number(r.revenue_sum),
        revenue_sum_sq: Number(r.revenue_sum_sq),
        unsubscribes: Number(r.unsubscribes),
      };
    }
    const control = arms.control as ArmAggregates;
    const treatment = arms.treatment as ArmAggregates;
    return { file: input, rows: control.n + treatment.n, control, treatment };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const money = (x: number) => x.toFixed(2);
const pv = (x: number) => (x < 1e-4 ? x.toExponential(2) : x.toFixed(4));

/** The readable table of `experiment analyze`. */
export function formatAnalysis(a: Analysis, agg: FileAggregates): string {
  const conf = `${Math.round(100 * (1 - a.alpha))}% CI`;
  const rows: string[][] = [
    ['', 'control', 'treatment', `treatment - control [${conf}]`, 'p-value'],
    ['customers', String(agg.control.n), String(agg.treatment.n), '', ''],
    [
      'conversion',
      pct(a.conversion.control_rate),
      pct(a.conversion.treatment_rate),
      `${pct(a.conversion.diff)} [${pct(a.conversion.ci_low)}, ${pct(a.conversion.ci_high)}]`,
      pv(a.conversion.p_value),
    ],
    [
      'revenue per user',
      money(a.revenue_per_user.control_mean),
      money(a.revenue_per_user.treatment_mean),
      `${money(a.revenue_per_user.diff)} [${money(a.revenue_per_user.ci_low)}, ${money(a.revenue_per_user.ci_high)}]`,
      pv(a.revenue_per_user.p_value),
    ],
    [
      'unsubscribes',
      pct(a.guardrail.unsubscribe.control_rate),
      pct(a.guardrail.unsubscribe.treatment_rate),
      a.guardrail.unsubscribe.worse ? 'WORSE (guardrail)' : 'ok',
      pv(a.guardrail.unsubscribe.p_value),
    ],
  ];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [
    `experiment: ${agg.file} (${agg.rows} customers)`,
    `sample ratio: treatment ${pct(a.srm.observed_share)} of customers, expected ${pct(a.srm.expected_share)}; ` +
      `chi-square p = ${pv(a.srm.p_value)} → ${a.srm.valid ? 'valid' : `MISMATCH (p < ${SRM_P_THRESHOLD})`}`,
    '',
    ...rows.map(line),
    '',
    `decision: ${a.decision} (alpha ${a.alpha})`,
    ...a.reasons.map((r) => `  - ${r}`),
  ].join('\n');
}

function parseFraction(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0 || v >= 1) {
    throw new OutcomeFileError(`${name} must be a number strictly between 0 and 1 (got ${JSON.stringify(raw)})`);
  }
  return v;
}

/** Runs `experiment <sub> ...`; returns the text to print. */
export async function experimentMain(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      'expected-share': { type: 'string' },
      alpha: { type: 'string' },
      json: { type: 'boolean', default: false },
      html: { type: 'string' },
    },
  });
  const [sub, ...extra] = positionals;
  if (sub !== 'analyze') throw new OutcomeFileError(`unknown subcommand ${JSON.stringify(sub ?? '')}\n\n${USAGE}`);
  if (extra.length > 0) throw new OutcomeFileError(`unexpected arguments ${extra.join(' ')}\n\n${USAGE}`);
  if (!values.input) throw new OutcomeFileError(`--input FILE is required\n\n${USAGE}`);
  const expectedShare = parseFraction('--expected-share', values['expected-share'], DEFAULT_EXPECTED_SHARE);
  const alpha = parseFraction('--alpha', values.alpha, DEFAULT_ALPHA);
  const agg = await aggregateOutcomeFile(values.input);
  const analysis = analyzeExperiment({
    control: agg.control,
    treatment: agg.treatment,
    expected_share: expectedShare,
    alpha,
  });
  if (values.html) {
    const out = path.resolve(values.html);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      renderExperimentReport(analysis, {
        title: `Experiment analysis: ${path.basename(values.input)}`,
        details: [
          ['input', values.input],
          ['expected treatment share', String(expectedShare)],
          ['alpha', String(alpha)],
          ['analysed at', new Date().toISOString()],
        ],
        control: agg.control,
        treatment: agg.treatment,
      }),
    );
  }
  if (values.json) {
    return JSON.stringify(
      {
        input: values.input,
        expected_share: expectedShare,
        ...analysis,
        aggregates: { control: agg.control, treatment: agg.treatment },
      },
      null,
      2,
    );
  }
  return formatAnalysis(analysis, agg) + (values.html ? `\nreport: ${path.resolve(values.html)}` : '');
}

export const experimentCommand: Command = {
  summary: 'analyse a campaign experiment (per-customer outcomes file): SRM, conversion, revenue per user, guardrail',
  usage: USAGE,
  async run(argv) {
    try {
      console.log(await experimentMain(argv));
      return 0;
    } catch (err) {
      console.error(
        `clv experiment: ${(err as Error).name === 'Error' ? '' : `${(err as Error).name}: `}${(err as Error).message}`,
      );
      return 1;
    }
  },
};
