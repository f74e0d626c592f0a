/**
 * `clv drift --baseline FILE --current FILE [--features a,b] [--json] [--env NAME]`: the drift of any two
 * snapshots of feature rows (Parquet or CSV), with the drift Lambda's core (lambdas/drift/core.ts). The binning
 * runs in DuckDB, so files of any size never enter Node: numeric features get the baseline's decile edges
 * (quantile_cont, the same edges as sagemaker/clv_model/drift_baseline.py: the distinct quantiles 0, 0.1 ..
 * 0.9 above the minimum) and a NULL bin; categorical ones a bin per baseline category, `__other__` and NULL.
 * Thresholds: monitoring.drift of the environment's config (default dev). Exit 0 whatever the drift (it is
 * a report); 2 on a bad call or file. See docs/runbooks/drift-alert.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  type DriftBinRow,
  type DriftThresholds,
  featureDrift,
  type Severity,
  summarize,
} from '../../lambdas/drift/core.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import {
  DRIFT_EDGE_QUANTILES,
  DRIFT_FEATURES,
  type DriftKind,
  driftKind,
  OPEN_LOWER,
  OPEN_UPPER,
  OTHER_CATEGORY,
} from '../../lib/contracts/drift-features.js';
import type { Command } from './commands.js';

const USAGE = `usage: npm run clv -- drift --baseline FILE --current FILE [--features a,b] [--json] [--env NAME]

  Compares two snapshots of feature rows (.parquet or .csv with a header): PSI and KS (numeric features, binned
  by the baseline's deciles) or PSI and chi-square (categorical features) per feature, and the severity
  (PSI >= psi_low: low, > psi_medium: medium; thresholds from monitoring.drift of --env, default dev).
  --features  comma-separated columns (default: the monitored features present in both files:
              ${DRIFT_FEATURES.join(', ')})
  --json      {"features": {"<name>": {"psi", "ks", "severity", ...}}, "max_severity": ...}
  See docs/runbooks/drift-alert.md.`;

/** A bad call or an unreadable file: the message says what to fix. */
export class DriftCommandError extends Error {
  override readonly name = 'DriftCommandError';
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const NUMERIC_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;

function source(file: string): string {
  if (!fs.existsSync(file)) throw new DriftCommandError(`${file}: no such file`);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet') return `read_parquet(${literal(file)})`;
  if (ext === '.csv') return `read_csv(${literal(file)}, header = true, auto_detect = true)`;
  throw new DriftCommandError(`${file}: expected a .parquet or .csv file`);
}

async function columnTypes(conn: DuckDBConnection, view: string): Promise<Map<string, string>> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${view}`);
  return new Map(reader.getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]));
}

/**
 * Interior bin edges of a numeric column: the distinct values of quantile_cont at 0, 0.1 .. 0.9 that lie above
 * the minimum (NULLs left out). The same rule as drift_baseline.numeric_edges (numpy, linear interpolation).
 */
export async function numericEdges(conn: DuckDBConnection, view: string, column: string): Promise<number[]> {
  const c = `CAST(${ident(column)} AS DOUBLE)`;
  const reader = await conn.runAndReadAll(
    `SELECT quantile_cont(${c}, [${DRIFT_EDGE_QUANTILES.join(', ')}]) AS q, MIN(${c}) AS lo FROM ${view} WHERE ${c} IS NOT NULL AND NOT isnan(${c})`,
  );
  const row = reader.getRows()[0] as [unknown, unknown] | undefined;
  if (!row || row[0] === null || row[1] === null) return [];
  const q = (row[0] as { items: unknown[] }).items.map(Number);
  const min = Number(row[1]);
  return [...new Set(q)].filter((x) => x > min).sort((a, b) => a - b);
}

async function counts(conn: DuckDBConnection, sql: string): Promise<Map<number | string | null, number>> {
  const reader = await conn.runAndReadAll(sql);
  return new Map(reader.getRows().map(([k, n]) => [k === null ? null : (k as number | string), Number(n)]));
}

async function numericBins(conn: DuckDBConnection, feature: string): Promise<DriftBinRow[]> {
  const edges = await numericEdges(conn, 'baseline', feature);
  const c = `CAST(${ident(feature)} AS DOUBLE)`;
  const k = edges.length + 1; // the NULL bin
  const binOf = `CASE WHEN ${c} IS NULL OR isnan(${c}) THEN ${k} ${edges
    .map((e, i) => `WHEN ${c} < ${e} THEN ${i}`)
    .join(' ')} ELSE ${edges.length} END`;
  const side = (view: string) => counts(conn, `SELECT ${binOf} AS bin, COUNT(*) FROM ${view} GROUP BY 1`);
  const [b, cur] = [await side('baseline'), await side('current')];
  const bounds = [OPEN_LOWER, ...edges, OPEN_UPPER];
  return Array.from({ length: k + 1 }, (_, i) => ({
    feature,
    kind: 'numeric' as const,
    bin: i,
    lower: i === k ? null : (bounds[i] as number),
    upper: i === k ? null : (bounds[i + 1] as number),
    category: null,
    baseline_count: b.get(i) ?? 0,
    current_count: cur.get(i) ?? 0,
  }));
}

async function categoricalBins(conn: DuckDBConnection, feature: string): Promise<DriftBinRow[]> {
  const v = `NULLIF(TRIM(CAST(${ident(feature)} AS VARCHAR)), '')`;
  const side = (view: string) => counts(conn, `SELECT ${v} AS category, COUNT(*) FROM ${view} GROUP BY 1`);
  const [b, cur] = [await side('baseline'), await side('current')];
  const categories = [...b.keys()].filter((x): x is string => x !== null).sort();
  const known = new Set(categories);
  let unseen = 0;
  for (const [cat, n] of cur) if (cat !== null && !known.has(String(cat))) unseen += n;
  const labelled: [string | null, number, number][] = [
    ...categories.map((cat): [string, number, number] => [cat, b.get(cat) ?? 0, cur.get(cat) ?? 0]),
    [OTHER_CATEGORY, 0, unseen],
    [null, b.get(null) ?? 0, cur.get(null) ?? 0],
  ];
  return labelled.map(([category, baseline, current], i) => ({
    feature,
    kind: 'categorical' as const,
    bin: i,
    lower: null,
    upper: null,
    category,
    baseline_count: baseline,
    current_count: current,
  }));
}

export interface DriftCommandResult {
  readonly features: Record<
    string,
    {
      kind: DriftKind;
      psi: number;
      ks: number | null;
      severity: Severity;
      chi_square: number | null;
      chi_square_p_value: number | null;
      baseline_total: number;
      current_total: number;
    }
  >;
  readonly max_severity: Severity;
  readonly thresholds: DriftThresholds;
}

/** The drift of `current` against `baseline` (files), per feature. */
export async function compareFiles(
  baselineFile: string,
  currentFile: string,
  thresholds: DriftThresholds,
  features?: readonly string[],
): Promise<DriftCommandResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`CREATE VIEW baseline AS SELECT * FROM ${source(baselineFile)}`);
    await conn.run(`CREATE VIEW current AS SELECT * FROM ${source(currentFile)}`);
    const types = { baseline: await columnTypes(conn, 'baseline'), current: await columnTypes(conn, 'current') };
    let wanted: string[];
    if (features) {
      for (const f of features) {
        for (const [side, file] of [
          ['baseline', baselineFile],
          ['current', currentFile],
        ] as const) {
          if (!types[side].has(f)) throw new DriftCommandError(`feature ${f} is not a column of ${side} file ${file}`);
        }
      }
      wanted = [...features];
    } else {
      wanted = DRIFT_FEATURES.filter((f) => types.baseline.has(f) && types.current.has(f));
      if (wanted.length === 0) {
        throw new DriftCommandError(
          `no monitored feature is in both files (${DRIFT_FEATURES.join(', ')}); name columns with --features`,
        );
      }
    }
    const rows: DriftBinRow[] = [];
    for (const f of wanted) {
      const kind = driftKind(f) ?? (NUMERIC_TYPES.test(types.baseline.get(f) as string) ? 'numeric' : 'categorical');
      rows.push(...(kind === 'numeric' ? await numericBins(conn, f) : await categoricalBins(conn, f)));
    }
    const drift = featureDrift(rows, thresholds, wanted);
    const summary = summarize(drift, thresholds);
    return {
      features: Object.fromEntries(
        Object.entries(drift).map(([f, d]) => [
          f,
          {
            kind: d.kind,
            psi: d.psi,
            ks: d.ks,
            severity: d.severity,
            chi_square: d.chi_square,
            chi_square_p_value: d.chi_square_p_value,
            baseline_total: d.baseline_total,
            current_total: d.current_total,
          },
        ]),
      ),
      max_severity: summary.max_severity,
      thresholds,
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const fmt = (x: number | null): string => (x === null ? '-' : x.toFixed(4));

/** The table `clv drift` prints: one row per feature. */
export function formatTable(result: DriftCommandResult): string {
  const header = ['feature', 'kind', 'psi', 'ks', 'chi_square_p', 'severity'];
  const cells = Object.entries(result.features).map(([f, d]) => [
    f,
    d.kind,
    fmt(d.psi),
    fmt(d.ks),
    fmt(d.chi_square_p_value),
    d.severity,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    ...cells.map(line),
    '',
    `max severity: ${result.max_severity} (psi_low ${result.thresholds.psi_low}, psi_medium ${result.thresholds.psi_medium})`,
  ].join('\n');
}

/** Parses the arguments and runs the comparison; returns the text to print. */
export async function driftMain(argv: string[]): Promise<string> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false });
  } catch (err) {
    throw new DriftCommandError(`drift: ${(err as Error).message}\n\n${USAGE}`);
  }
  const { values } = parsed;
  if (!values.baseline) throw new DriftCommandError(`drift: --baseline FILE is required\n\n${USAGE}`);
  if (!values.current) throw new DriftCommandError(`drift: --current FILE is required\n\n${USAGE}`);
  const features = values.features
    ?.split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (values.features !== undefined && (features?.length ?? 0) === 0) {
    throw new DriftCommandError('drift: --features needs at least one column name');
  }
  const config = loadEnvironmentConfig(values.env ?? 'dev');
  const thresholds = { psi_low: config.monitoring.drift.psiLow, psi_medium: config.monitoring.drift.psiMedium };
  const result = await compareFiles(values.baseline, values.current, thresholds, features);
  return values.json ? JSON.stringify(result, null, 2) : formatTable(result);
}

const OPTIONS = {
  baseline: { type: 'string' },
  current: { type: 'string' },
  features: { type: 'string' },
  json: { type: 'boolean', default: false },
  env: { type: 'string' },
} as const;

export const driftCommand: Command = {
  summary: 'drift (PSI, KS, chi-square, severity) between two snapshots of feature rows',
  usage: USAGE,
  async run(argv) {
    try {
      console.log(await driftMain(argv));
      return 0;
    } catch (err) {
      console.error(`clv drift: ${(err as Error).message}`);
      return 2;
    }
  },
};
