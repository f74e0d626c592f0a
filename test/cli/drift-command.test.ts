/**
 * `clv drift`: two generated snapshots with a planted shift (Medium) and without (none), CSV and Parquet, the
 * feature selection and its errors, and the decile edges DuckDB computes against the Python baseline's
 * (sagemaker/clv_model/drift_baseline.py) on the same data.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { compareFiles, driftCommand, driftMain, formatTable, numericEdges } from '../../local/cli/drift-command.js';
import { projectPython } from '../../local/python.js';

const T = { psi_low: 0.1, psi_medium: 0.25 };

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shift {
  spendFactor?: number;
  channelPaid?: number;
}

/** n customers' monitored features as CSV; `shift` plants a drift in spend_90d and acquisition_channel. */
function snapshot(n: number, seed: number, shift: Shift = {}): string {
  const r = rng(seed);
  const exp = (mean: number) => -Math.log(1 - r()) * mean;
  const lines = [
    'customer_id,recency_days,repeat_frequency,monetary_total_net,spend_90d,sessions_90d,tenure_days,predicted_revenue_12m,country,acquisition_channel',
  ];
  for (let i = 0; i < n; i++) {
    const spend = exp(50) * (shift.spendFactor ?? 1);
    const channel = r() < (shift.channelPaid ?? 0.2) ? 'paid_search' : r() < 0.5 ? 'organic' : 'email';
    lines.push(
      [
        `c${i}`,
        Math.floor(exp(60)),
        Math.floor(exp(2)),
        (exp(300) + spend).toFixed(2),
        spend.toFixed(2),
        r() < 0.3 ? '' : String(Math.floor(exp(5))), // 30 % NULL
        '365', // constant
        (spend * 2.5).toFixed(2),
        r() < 0.7 ? 'United Kingdom' : 'Germany',
        channel,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

let dir: string;
let baseline: string;
let same: string;
let shifted: string;
let shiftedParquet: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drift-cli-'));
  baseline = join(dir, 'baseline.csv');
  same = join(dir, 'same.csv');
  shifted = join(dir, 'shifted.csv');
  shiftedParquet = join(dir, 'shifted.parquet');
  writeFileSync(baseline, snapshot(4000, 1));
  writeFileSync(same, snapshot(4000, 2));
  writeFileSync(shifted, snapshot(4000, 3, { spendFactor: 3, channelPaid: 0.6 }));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`COPY (SELECT * FROM read_csv('${shifted}', header = true)) TO '${shiftedParquet}' (FORMAT PARQUET)`);
  conn.closeSync();
  instance.closeSync();
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('clv drift', () => {
  it('no planted shift: every monitored feature at severity none, the constant feature at 0', async () => {
    const result = await compareFiles(baseline, same, T);
    expect(Object.keys(result.features)).toEqual([
      'recency_days',
      'repeat_frequency',
      'monetary_total_net',
      'spend_90d',
      'sessions_90d',
      'tenure_days',
      'predicted_revenue_12m',
      'country',
      'acquisition_channel',
    ]);
    expect(result.max_severity).toBe('none');
    for (const d of Object.values(result.features)) expect(d.psi).toBeLessThan(0.05);
    expect(result.features.tenure_days).toMatchObject({ psi: 0, ks: 0, severity: 'none' });
    expect(result.features.country?.ks).toBeNull();
    expect(result.features.country?.chi_square_p_value).toBeGreaterThan(0.001);
  });

  it('a planted shift (spend x3, paid search 20 % -> 60 %): Medium on the shifted features only', async () => {
    const result = await compareFiles(baseline, shiftedParquet, T);
    expect(result.max_severity).toBe('medium');
    const severities = Object.fromEntries(Object.entries(result.features).map(([f, d]) => [f, d.severity]));
    expect(severities).toMatchObject({
      spend_90d: 'medium',
      predicted_revenue_12m: 'medium',
      acquisition_channel: 'medium',
      recency_days: 'none',
      tenure_days: 'none',
      country: 'none',
    });
    expect(result.features.spend_90d?.ks).toBeGreaterThan(0.3);
  });

  it('--json prints {"features": {"<name>": {"psi", "ks", "severity"}}}; the table one row per feature', async () => {
    const out = JSON.parse(await driftMain(['--baseline', baseline, '--current', shifted, '--json']));
    expect(out.features.spend_90d).toEqual(
      expect.objectContaining({ psi: expect.any(Number), ks: expect.any(Number), severity: 'medium' }),
    );
    expect(out.features.country).toEqual(expect.objectContaining({ ks: null, severity: 'none' }));
    const table = await driftMain(['--baseline', baseline, '--current', same, '--features', 'spend_90d,country']);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^feature\s+kind\s+psi\s+ks\s+chi_square_p\s+severity$/);
    expect(lines[1]).toMatch(/^spend_90d\s+numeric\s+\d\.\d{4}\s+\d\.\d{4}\s+-\s+none$/);
    expect(lines[2]).toMatch(/^country\s+categorical\s+\d\.\d{4}\s+-\s+\d\.\d{4}\s+none$/);
    expect(table).toContain('max severity: none (psi_low 0.1, psi_medium 0.25)');
    expect(formatTable(await compareFiles(baseline, same, T, ['customer_id']))).toMatch(/customer_id\s+categorical/);
  });

  it('fails clearly: a named feature missing from a file, a missing argument, an unknown file type', async () => {
    await expect(
      driftMain(['--baseline', baseline, '--current', same, '--features', 'spend_90d,nope']),
    ).rejects.toThrow(/feature nope is not a column of baseline file/);
    await expect(driftMain(['--current', same])).rejects.toThrow(/--baseline FILE is required/);
    await expect(driftMain(['--baseline', baseline, '--current', join(dir, 'x.txt')])).rejects.toThrow(/no such file/);
    writeFileSync(join(dir, 'x.txt'), 'a\n1\n');
    await expect(driftMain(['--baseline', baseline, '--current', join(dir, 'x.txt')])).rejects.toThrow(
      /expected a .parquet or .csv file/,
    );
    await expect(driftMain(['--baseline', baseline, '--current', same, '--bogus'])).rejects.toThrow(/Unknown option/);
    expect(await driftCommand.run(['--current', same])).toBe(2);
  });
});

describe('decile edges: DuckDB (clv drift) = numpy (the evaluation job baseline)', () => {
  const DATA: Record<string, (number | null)[]> = {
    exponential: Array.from({ length: 997 }, (_, i) => -Math.log(1 - (i + 0.5) / 997) * 40),
    mostly_zero: [...Array(70).fill(0), ...Array.from({ length: 30 }, (_, i) => i + 1)],
    constant: Array(50).fill(12.5),
    with_nulls: [3, null, 1, 4, 1, 5, null, 9, 2, 6],
    ties: [1, 1, 2, 2, 2, 3, 3, 3, 3, 10, 10, 100],
  };

  it.each(Object.keys(DATA))('%s', async (name) => {
    const values = DATA[name] as (number | null)[];
    const file = join(dir, `edges-${name}.csv`);
    writeFileSync(file, `x\n${values.map((v) => (v === null ? '' : String(v))).join('\n')}\n`);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    let duck: number[];
    try {
      await conn.run(`CREATE VIEW v AS SELECT CAST(x AS DOUBLE) AS x FROM read_csv('${file}', header = true)`);
      duck = await numericEdges(conn, 'v', 'x');
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    const py = spawnSync(
      projectPython(),
      [
        '-c',
        'import json, sys, pandas as pd; from clv_model.drift_baseline import numeric_edges; ' +
          'print(json.dumps(numeric_edges(pd.read_csv(sys.argv[1])["x"].to_numpy(float))))',
        file,
      ],
      { cwd: repoRoot, env: { ...process.env, PYTHONPATH: join(repoRoot, 'sagemaker') }, encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const numpy = JSON.parse(py.stdout) as number[];
    expect(duck.length).toBe(numpy.length);
    duck.forEach((e, i) => {
      expect(e).toBeCloseTo(numpy[i] as number, 9);
    });
    if (name === 'constant') expect(duck).toEqual([]);
    if (name === 'mostly_zero') expect(duck[0]).toBeGreaterThan(0);
  });
});
