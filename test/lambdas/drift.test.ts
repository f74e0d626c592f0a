/**
 * The drift core (PSI, KS from bins, chi-square, severity) against hand-computed values, and the drift Lambda:
 * event validation, the named failures, the Parquet rows it writes to monitoring_metrics (read back with DuckDB)
 * and its output.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chiSquare,
  type DriftBinRow,
  driftOfFeature,
  featureDrift,
  ksFromBins,
  PROPORTION_FLOOR,
  psi,
  severity,
  summarize,
} from '../../lambdas/drift/core.js';
import { binRowsFromResultSet } from '../../lambdas/drift/event.js';
import { handler, recordDriftMetrics } from '../../lambdas/drift/handler.js';
import { runDrift } from '../../lambdas/drift/run.js';
import { monitoringMetricsParquet } from '../../lambdas/shared/monitoring-metrics.js';
import { DirectoryObjectStore } from '../../lambdas/shared/object-store.js';
import {
  DRIFT_CATEGORICAL_FEATURES,
  DRIFT_FEATURES,
  DRIFT_NUMERIC_FEATURES,
} from '../../lib/contracts/drift-features.js';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { MemoryObjectStore } from './helpers/memory-store.js';

const T = { psi_low: 0.1, psi_medium: 0.25 };

describe('psi', () => {
  it('matches the hand computation', () => {
    // p = [.5, .3, .2], q = [.3, .3, .4]
    // (.3 - .5) ln(.3/.5) = -.2 * -0.5108256 = 0.1021651;  (.3 - .3) ln 1 = 0;  (.4 - .2) ln 2 = 0.1386294
    expect(psi([50, 30, 20], [30, 30, 40])).toBeCloseTo(0.1021651 + 0.1386294, 6);
    expect(psi([50, 30, 20], [5, 3, 2])).toBeCloseTo(0, 12); // same proportions, other totals
  });

  it('floors an empty bin at 1e-4 (no infinity)', () => {
    expect(PROPORTION_FLOOR).toBe(1e-4);
    // p = [1, 0 -> 1e-4], q = [.9, .1]
    // (.9 - 1) ln .9 = -.1 * -0.1053605 = 0.0105361;  (.1 - .0001) ln(.1/.0001) = .0999 * 6.9077553 = 0.6900848
    expect(psi([100, 0], [90, 10])).toBeCloseTo(0.0105361 + 0.6900848, 6);
    // both sides empty in a bin: (1e-4 - 1e-4) ln 1 = 0
    expect(psi([50, 50, 0], [50, 50, 0])).toBeCloseTo(0, 12);
  });

  it('refuses mismatched bins and empty totals', () => {
    expect(() => psi([1, 2], [1])).toThrow(/2 baseline bins vs 1 current bins/);
    expect(() => psi([0, 0], [1, 1])).toThrow(/baseline counts sum to 0/);
    expect(() => psi([1, 1], [0, 0])).toThrow(/current counts sum to 0/);
  });
});

describe('ksFromBins', () => {
  it('is the largest gap between the binned CDFs', () => {
    // CDF baseline .1 .3 .6 1; CDF current .4 .7 .9 1; gaps .3 .4 .3 0
    expect(ksFromBins([10, 20, 30, 40], [40, 30, 20, 10])).toBeCloseTo(0.4, 12);
    expect(ksFromBins([10, 20], [1, 2])).toBeCloseTo(0, 12);
    // an empty bin on one side: CDF baseline 0 .5 1; current .5 .5 1 -> .5
    expect(ksFromBins([0, 5, 5], [5, 0, 5])).toBeCloseTo(0.5, 12);
  });

  it('is null when a side has no values', () => {
    expect(ksFromBins([0, 0], [1, 2])).toBeNull();
    expect(ksFromBins([], [])).toBeNull();
  });
});

describe('chiSquare', () => {
  it('matches the hand computation (df 2: p = exp(-x/2))', () => {
    // expected = [.5, .3, .2] * 100 = [50, 30, 20]; (40-50)^2/50 + (35-30)^2/30 + (25-20)^2/20 = 2 + 0.833333 + 1.25
    const r = chiSquare([50, 30, 20], [40, 35, 25]);
    expect(r.statistic).toBeCloseTo(4.0833333, 6);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-4.0833333 / 2), 6); // 0.12981
  });

  it('drops bins empty on both sides and floors a baseline-empty bin', () => {
    // bins: a, b, __other__ (new values), NULL (empty both sides: dropped) -> df 2
    // expected [50, 50, 1e-4 * 100 = 0.01]: 0 + (40-50)^2/50 = 2 + (10-0.01)^2/0.01 = 9980.01
    const r = chiSquare([50, 50, 0, 0], [50, 40, 10, 0]);
    expect(r.statistic).toBeCloseTo(2 + 9980.01, 6);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeLessThan(1e-12);
  });

  it('one bin left: statistic 0, p 1', () => {
    expect(chiSquare([10, 0], [5, 0])).toEqual({ statistic: 0, df: 0, pValue: 1 });
  });
});

describe('severity', () => {
  it.each([
    [0.0999, 'none'],
    [0.1, 'low'],
    [0.1001, 'low'],
    [0.2499, 'low'],
    [0.25, 'low'],
    [0.2501, 'medium'],
  ])('psi %f -> %s', (value, expected) => {
    expect(severity(value, T)).toBe(expected);
  });
});

// ------------------------------------------------------------------------------------------------ fixtures

/** Bins of a numeric feature: counts per bin, the last bin being the NULL bin. */
function numeric(feature: string, baseline: number[], current: number[]): DriftBinRow[] {
  const k = baseline.length - 1; // non-NULL bins
  return baseline.map((b, i) => ({
    feature,
    kind: 'numeric' as const,
    bin: i,
    lower: i === k ? null : i === 0 ? -1e308 : i * 10,
    upper: i === k ? null : i === k - 1 ? 1e308 : (i + 1) * 10,
    category: null,
    baseline_count: b,
    current_count: current[i] as number,
  }));
}

/** Bins of a categorical feature: categories, then __other__, then NULL. */
function categorical(feature: string, categories: string[], baseline: number[], current: number[]): DriftBinRow[] {
  const names = [...categories, '__other__', null];
  return names.map((category, i) => ({
    feature,
    kind: 'categorical' as const,
    bin: i,
    lower: null,
    upper: null,
    category,
    baseline_count: baseline[i] as number,
    current_count: current[i] as number,
  }));
}

/** Every monitored feature without drift, `override` replacing some. */
function allBins(override: Record<string, DriftBinRow[]> = {}): DriftBinRow[] {
  const rows: DriftBinRow[] = [];
  for (const f of DRIFT_NUMERIC_FEATURES)
    rows.push(...(override[f] ?? numeric(f, [25, 25, 25, 25, 0], [25, 25, 25, 25, 0])));
  for (const f of DRIFT_CATEGORICAL_FEATURES) {
    rows.push(...(override[f] ?? categorical(f, ['a', 'b'], [50, 50, 0, 0], [50, 50, 0, 0])));
  }
  return rows;
}

/** The ResultSet of GetQueryResults: header row first, NULL as a datum without VarCharValue. */
function resultSet(rows: DriftBinRow[]) {
  const cols = ['feature', 'kind', 'bin', 'lower', 'upper', 'category', 'baseline_count', 'current_count'] as const;
  const datum = (v: unknown) => (v === null ? {} : { VarCharValue: String(v) });
  return {
    Rows: [
      { Data: cols.map((c) => ({ VarCharValue: c })) },
      ...rows.map((r) => ({ Data: cols.map((c) => datum(r[c])) })),
    ],
    ResultSetMetadata: { ColumnInfo: cols.map((c) => ({ Name: c, Type: 'varchar' })) },
  };
}

const event = (rows: DriftBinRow[], over: Record<string, unknown> = {}) => ({
  run_id: 'monitoring-exec-1',
  scoring_date: '2024-03-03',
  model_version: 'clv-train-abc',
  gold_bucket: 'clv-local-gold',
  thresholds: T,
  result_set: resultSet(rows),
  ...over,
});

describe('featureDrift', () => {
  it('numeric: PSI over every bin (NULL included), KS over the non-NULL bins', () => {
    // baseline 25/25/25/25 + 0 NULL; current 10/20/30/30 + 10 NULL
    const d = driftOfFeature('spend_90d', numeric('spend_90d', [25, 25, 25, 25, 0], [10, 20, 30, 30, 10]), T);
    // PSI: (.1-.25)ln(.4) + (.2-.25)ln(.8) + (.3-.25)ln(1.2) * 2 + (.1-.0001)ln(1000)
    //    = .1374436 + .0111572 + .0091161 * 2 + .6900848 = .8569178
    expect(d.psi).toBeCloseTo(0.1374436 + 0.0111572 + 2 * 0.0091161 + 0.6900848, 5);
    // non-NULL CDFs: baseline .25 .5 .75 1; current 10/90 30/90 60/90 1 -> gaps .1389 .1667 .0833 0
    expect(d.ks).toBeCloseTo(0.5 - 30 / 90, 10);
    expect(d).toMatchObject({ kind: 'numeric', severity: 'medium', baseline_total: 100, current_total: 100 });
    expect(d.chi_square).toBeNull();
    expect(d.chi_square_p_value).toBeNull();
  });

  it('a feature constant in the baseline (one bin + NULL): PSI and KS 0 when it stays constant', () => {
    const d = driftOfFeature('tenure_days', numeric('tenure_days', [100, 0], [70, 0]), T);
    expect(d.psi).toBeCloseTo(0, 12);
    expect(d.ks).toBe(0);
    expect(d.severity).toBe('none');
    // and when NULLs appear: (.8-1)ln(.8) + (.2-.0001)ln(2000) = .0446287 + 1.5194204; KS still 0 (one bin)
    const withNulls = driftOfFeature('tenure_days', numeric('tenure_days', [100, 0], [80, 20]), T);
    expect(withNulls.psi).toBeCloseTo(0.0446287 + 1.5194204, 6);
    expect(withNulls.ks).toBe(0);
  });

  it('categorical: PSI and chi-square, no KS; a category unseen at training lands in __other__', () => {
    const d = driftOfFeature('country', categorical('country', ['DE', 'GB'], [50, 50, 0, 0], [50, 40, 10, 0]), T);
    expect(d.ks).toBeNull();
    expect(d.chi_square).toBeCloseTo(2 + 9980.01, 6);
    // PSI: 0 + (.4-.5)ln(.8) + (.1-.0001)ln(1000) = .0223144 + .6900848
    expect(d.psi).toBeCloseTo(0.0223144 + 0.6900848, 6);
    expect(d.severity).toBe('medium');
  });

  it('fails by name: empty rows, a missing feature, a baseline or current total of 0, duplicate bins, wrong kind', () => {
    expect(() => featureDrift([], T)).toThrow(expect.objectContaining({ name: 'EmptyDriftResultError' }));
    const missing = allBins().filter((r) => r.feature !== 'sessions_90d');
    expect(() => featureDrift(missing, T, DRIFT_FEATURES)).toThrow(
      expect.objectContaining({ name: 'MissingDriftFeatureError', message: expect.stringMatching(/sessions_90d/) }),
    );
    expect(() => driftOfFeature('spend_90d', numeric('spend_90d', [0, 0], [1, 1]), T)).toThrow(
      expect.objectContaining({ name: 'EmptyBaselineError' }),
    );
    expect(() => driftOfFeature('spend_90d', numeric('spend_90d', [1, 1], [0, 0]), T)).toThrow(
      expect.objectContaining({ name: 'EmptyCurrentError' }),
    );
    const dup = numeric('spend_90d', [1, 1], [1, 1]).map((r) => ({ ...r, bin: 0 }));
    expect(() => driftOfFeature('spend_90d', dup, T)).toThrow(/bin 0 appears twice/);
    const wrongKind = numeric('country', [1, 1], [1, 1]);
    expect(() => driftOfFeature('country', wrongKind, T)).toThrow(/kind numeric, the contract says categorical/);
  });

  it('summarize: max severity, prediction PSI and one alert per drifting feature', () => {
    const features = featureDrift(
      allBins({
        predicted_revenue_12m: numeric('predicted_revenue_12m', [25, 25, 25, 25, 0], [10, 20, 30, 30, 10]),
        // PSI 0.2407946: Low
        acquisition_channel: categorical(
          'acquisition_channel',
          ['a', 'b', 'c'],
          [50, 30, 20, 0, 0],
          [30, 30, 40, 0, 0],
        ),
      }),
      T,
      DRIFT_FEATURES,
    );
    const s = summarize(features, T);
    expect(s.max_severity).toBe('medium');
    expect(s.prediction_severity).toBe('medium');
    expect(s.prediction_psi).toBeCloseTo(features.predicted_revenue_12m?.psi as number, 12);
    expect(s.alerts).toEqual([
      {
        feature: 'predicted_revenue_12m',
        metric: 'psi',
        value: expect.any(Number),
        threshold: 0.25,
        severity: 'medium',
      },
      {
        feature: 'acquisition_channel',
        metric: 'psi',
        value: expect.closeTo(0.2407946, 6),
        threshold: 0.1,
        severity: 'low',
      },
    ]);
  });
});

describe('drift Lambda', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'drift-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    delete process.env.CLV_LOCAL_ROOT;
  });

  it.each([
    [{ run_id: undefined }, /run_id/],
    [{ run_id: 'has space' }, /run_id/],
    [{ scoring_date: '2024-3-3' }, /scoring_date must be YYYY-MM-DD/],
    [{ scoring_date: '2024-02-30' }, /scoring_date is not a calendar date/],
    [{ model_version: '' }, /model_version must not be empty/],
    [{ gold_bucket: 'Not_A_Bucket' }, /gold_bucket must be an S3 bucket name/],
    [{ thresholds: { psi_low: 0.25, psi_medium: 0.25 } }, /psi_low must be below thresholds.psi_medium/],
    [{ thresholds: { psi_low: -0.1, psi_medium: 0.25 } }, /psi_low must be >= 0/],
    [{ thresholds: undefined }, /thresholds/],
    [{ result_set: { Rows: 'x' } }, /result_set/],
  ])('refuses an invalid event %o naming the field', async (over, message) => {
    await expect(runDrift(event(allBins(), over), { store: new MemoryObjectStore() })).rejects.toThrow(message);
    await expect(runDrift(event(allBins(), over), { store: new MemoryObjectStore() })).rejects.toMatchObject({
      name: 'InvalidDriftEventError',
    });
  });

  it('fails by name on an empty result set (header only), a missing feature, a baseline total of 0', async () => {
    const store = new MemoryObjectStore();
    await expect(runDrift(event([]), { store })).rejects.toMatchObject({ name: 'EmptyDriftResultError' });
    await expect(runDrift({ ...event([]), result_set: { Rows: [] } }, { store })).rejects.toMatchObject({
      name: 'EmptyDriftResultError',
    });
    await expect(runDrift(event(allBins().filter((r) => r.feature !== 'country')), { store })).rejects.toMatchObject({
      name: 'MissingDriftFeatureError',
      message: expect.stringMatching(/country/),
    });
    await expect(
      runDrift(event(allBins({ tenure_days: numeric('tenure_days', [0, 0, 0], [5, 5, 0]) })), { store }),
    ).rejects.toMatchObject({ name: 'EmptyBaselineError', message: expect.stringMatching(/tenure_days/) });
    expect(store.binaries.size).toBe(0); // nothing written on a failure
  });

  it('refuses a result set without the expected header or with a non-numeric count', () => {
    const rs = resultSet(allBins());
    expect(() => binRowsFromResultSet({ ...rs, Rows: rs.Rows.slice(1) })).toThrow(/missing from the header row/);
    const bad = resultSet(numeric('spend_90d', [1, 1], [1, 1]));
    (bad.Rows[1] as { Data: { VarCharValue?: string }[] }).Data[6] = { VarCharValue: 'many' };
    expect(() => binRowsFromResultSet(bad)).toThrow(/row 1 column baseline_count: 'many' is not an integer/);
  });

  it('reads Athena doubles (1.0E308) and NULLs', () => {
    const rows = binRowsFromResultSet({
      Rows: [
        {
          Data: ['feature', 'kind', 'bin', 'lower', 'upper', 'category', 'baseline_count', 'current_count'].map(
            (v) => ({ VarCharValue: v }),
          ),
        },
        {
          Data: [
            { VarCharValue: 'x' },
            { VarCharValue: 'numeric' },
            { VarCharValue: '0' },
            { VarCharValue: '-1.0E308' },
            { VarCharValue: '2.5' },
            {},
            { VarCharValue: '3' },
            { VarCharValue: '4' },
          ],
        },
      ],
    });
    expect(rows).toEqual([
      {
        feature: 'x',
        kind: 'numeric',
        bin: 0,
        lower: -1e308,
        upper: 2.5,
        category: null,
        baseline_count: 3,
        current_count: 4,
      },
    ]);
  });

  it('writes the monitoring_metrics rows as Parquet (read back with DuckDB) and returns the summary', async () => {
    process.env.CLV_LOCAL_ROOT = root;
    const rows = allBins({
      predicted_revenue_12m: numeric('predicted_revenue_12m', [25, 25, 25, 25, 0], [10, 20, 30, 30, 10]),
      acquisition_channel: categorical('acquisition_channel', ['a', 'b', 'c'], [50, 30, 20, 0, 0], [30, 30, 40, 0, 0]),
    });
    const out = await handler(event(rows));
    expect(out.metrics_uri).toBe(
      's3://clv-local-gold/monitoring_metrics/run_date=2024-03-03/monitoring-exec-1-drift.parquet',
    );
    expect(out.max_severity).toBe('medium');
    expect(out.prediction_severity).toBe('medium');
    expect(out.prediction_psi).toBeCloseTo(0.1374436 + 0.0111572 + 2 * 0.0091161 + 0.6900848, 5);
    expect(out.alerts.map((a) => [a.feature, a.severity])).toEqual([
      ['predicted_revenue_12m', 'medium'],
      ['acquisition_channel', 'low'],
    ]);
    // 7 numeric features x (psi, ks) + 2 categorical x (psi, chi_square, chi_square_p_value)
    expect(out.rows_written).toBe(7 * 2 + 2 * 3);
    expect(Object.keys(out.features)).toEqual(DRIFT_FEATURES);

    const file = new DirectoryObjectStore(root).pathOf(out.metrics_uri);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const described = await conn.runAndReadAll(
        `DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`,
      );
      const columns = described.getRowObjects().map((r) => [r.column_name, r.column_type]);
      expect(columns).toEqual(
        lakeTable('monitoring_metrics').columns.map((c) => [c.name, c.type === 'double' ? 'DOUBLE' : 'VARCHAR']),
      );
      const reader = await conn.runAndReadAll(
        `SELECT run_id, pipeline, model_version, metric, feature, value, details, created_at FROM read_parquet('${file}', hive_partitioning = false) ORDER BY feature, metric`,
      );
      const read = reader.getRowObjects();
      expect(read).toHaveLength(20);
      const psiRow = read.find((r) => r.feature === 'acquisition_channel' && r.metric === 'psi');
      expect(psiRow).toMatchObject({
        run_id: 'monitoring-exec-1',
        pipeline: 'monitoring',
        model_version: 'clv-train-abc',
      });
      expect(psiRow?.value as number).toBeCloseTo(0.2407946, 6);
      const details = JSON.parse(psiRow?.details as string);
      expect(details).toMatchObject({ severity: 'low', thresholds: T, scoring_date: '2024-03-03', current_total: 100 });
      expect(details.bins[0]).toEqual({ bin: 0, category: 'a', baseline_count: 50, current_count: 30 });
      expect(read.filter((r) => r.feature === 'country').map((r) => r.metric)).toEqual([
        'chi_square',
        'chi_square_p_value',
        'psi',
      ]);
      expect(String(psiRow?.created_at)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('the writer refuses rows of several run dates and non-finite values', () => {
    const row = {
      run_id: 'r',
      pipeline: 'monitoring',
      model_version: 'm',
      metric: 'psi',
      feature: 'x',
      value: Number.NaN,
      details: '{}',
      created_at: '2024-01-01T00:00:00Z',
      run_date: '2024-01-01',
    };
    expect(() => monitoringMetricsParquet([row])).toThrow(/row 0: value/);
  });
});

describe('drift Lambda metrics', () => {
  it('FeaturePsi and FeatureKs per feature (dimension feature), PredictionPsi once', async () => {
    const calls: { dims: Record<string, string>; name: string; unit: string; value: number }[] = [];
    const single = () => {
      const dims: Record<string, string> = {};
      return {
        addDimension: (k: string, v: string) => {
          dims[k] = v;
        },
        addMetric: (name: string, unit: string, value: number) => calls.push({ dims: { ...dims }, name, unit, value }),
      };
    };
    const sink = { singleMetric: single, addMetric: single().addMetric };
    const out = await runDrift(event(allBins()), { store: new MemoryObjectStore() });
    recordDriftMetrics(out, sink as never);
    expect(calls.filter((c) => c.name === 'FeaturePsi').map((c) => c.dims.feature)).toEqual(DRIFT_FEATURES);
    expect(calls.filter((c) => c.name === 'FeatureKs').map((c) => c.dims.feature)).toEqual([...DRIFT_NUMERIC_FEATURES]);
    expect(calls.filter((c) => c.name === 'PredictionPsi')).toEqual([
      { dims: {}, name: 'PredictionPsi', unit: 'None', value: out.prediction_psi },
    ]);
  });
});
