/**
 * The analysis Lambda's work, store injected: validate the event (the campaign-experiment state machine's
 * GetQueryResults output of sql/campaigns/arm_aggregates.sql plus the campaign's settings), turn the ResultSet into
 * the two arms' aggregates, refuse data the query flagged (duplicate or invalid outcome rows, unknown arms), run
 * the statistics (./core.ts) and write analysis.json and report.html under
 * s3://<gold>/campaigns/reports/campaign_id=<id>/.
 */
import { z } from 'zod';
import type { ObjectStore } from '../shared/object-store.js';
import {
  type Analysis,
  type ArmAggregates,
  analyzeExperiment,
  DEFAULT_ALPHA,
  DEFAULT_EXPECTED_SHARE,
  SRM_P_THRESHOLD,
} from './core.js';
import { type DataChecks, renderExperimentReport } from './report.js';

/** The columns of sql/campaigns/arm_aggregates.sql the analysis reads. */
export const ARM_AGGREGATE_COLUMNS = [
  'arm',
  'n',
  'conversions',
  'revenue_sum',
  'revenue_sum_sq',
  'unsubscribes',
  'outcomes_matched',
  'outcomes_outside_audience',
  'duplicate_outcome_rows',
  'invalid_outcome_rows',
  'unknown_arm_rows',
] as const;

const cell = z.looseObject({ VarCharValue: z.string().optional() });

/** Athena GetQueryResults ResultSet (header row first, each cell {VarCharValue}, NULL as {}). */
export const resultSetSchema = z.looseObject({
  Rows: z.array(z.looseObject({ Data: z.array(cell) })).min(1, 'has no header row'),
  ResultSetMetadata: z.looseObject({}).optional(),
});

export const analysisEventSchema = z.object({
  campaign_id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be a lowercase slug (a-z, 0-9, -), 1 to 40 characters'),
  run_id: z.string().min(1),
  expected_share: z.number().gt(0).lt(1).default(DEFAULT_EXPECTED_SHARE),
  alpha: z.number().gt(0).lt(1).default(DEFAULT_ALPHA),
  gold_bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  result_set: resultSetSchema,
});

export type AnalysisEvent = z.input<typeof analysisEventSchema>;

export interface AnalysisDocument extends Analysis {
  campaign_id: string;
  run_id: string;
  analyzed_at: string;
  expected_share: number;
  aggregates: { control: ArmAggregates; treatment: ArmAggregates };
  data_checks: DataChecks;
}

export interface AnalysisOutput extends AnalysisDocument {
  analysis_uri: string;
  report_uri: string;
}

/** The arm aggregates are unusable (the query flagged bad rows, or the result does not have the expected shape). */
export class ExperimentDataError extends Error {
  override name = 'ExperimentDataError';
}

function parseNumber(raw: string | undefined, column: string, arm: string, integer: boolean): number {
  const value = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new ExperimentDataError(
      `arm aggregates: ${column} of arm ${arm} is ${raw === undefined ? 'NULL' : JSON.stringify(raw)}, expected a ${
        integer ? 'non-negative integer' : 'non-negative number'
      }`,
    );
  }
  return value;
}

/**
 * The arm aggregates and reconciliation counts from the ResultSet, by column name; exactly one row per arm.
 * Flagged rows (duplicate/invalid outcomes, unknown arms) are refused first (checkData).
 */
export function parseArmAggregates(
  resultSet: z.infer<typeof resultSetSchema>,
  campaignId = '(unnamed)',
): {
  control: ArmAggregates;
  treatment: ArmAggregates;
  data_checks: DataChecks;
} {
  const [header, ...rows] = resultSet.Rows;
  const names = (header?.Data ?? []).map((d) => d.VarCharValue ?? '');
  const missing = ARM_AGGREGATE_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new ExperimentDataError(
      `arm aggregates: the result has no column(s) ${missing.join(', ')} (header: ${names.join(', ')}); is it sql/campaigns/arm_aggregates.sql with its header row first?`,
    );
  }
  const byArm = new Map<string, Record<string, string | undefined>>();
  for (const row of rows) {
    const record = Object.fromEntries(names.map((n, i) => [n, row.Data[i]?.VarCharValue]));
    const arm = record.arm ?? '';
    if (arm !== 'control' && arm !== 'treatment') {
      throw new ExperimentDataError(
        `arm aggregates: unexpected arm ${JSON.stringify(arm)} (expected control, treatment)`,
      );
    }
    if (byArm.has(arm)) throw new ExperimentDataError(`arm aggregates: arm ${arm} appears twice`);
    byArm.set(arm, record);
  }
  // the reconciliation counts first: flagged rows explain (and would otherwise hide behind) odd sums
  const first = byArm.get('control') ?? byArm.get('treatment');
  if (!first) throw new ExperimentDataError('arm aggregates: the result has no rows (expected control and treatment)');
  const campaignWide = (column: string) => parseNumber(first[column], column, String(first.arm), true);
  const checks = {
    outcomes_outside_audience: campaignWide('outcomes_outside_audience'),
    duplicate_outcome_rows: campaignWide('duplicate_outcome_rows'),
    invalid_outcome_rows: campaignWide('invalid_outcome_rows'),
    unknown_arm_rows: campaignWide('unknown_arm_rows'),
  };
  checkData({ outcomes_matched: { control: 0, treatment: 0 }, ...checks }, campaignId);
  const arm = (name: 'control' | 'treatment'): ArmAggregates & { outcomes_matched: number } => {
    const r = byArm.get(name);
    if (!r) throw new ExperimentDataError(`arm aggregates: no row for arm ${name}`);
    return {
      n: parseNumber(r.n, 'n', name, true),
      conversions: parseNumber(r.conversions, 'conversions', name, true),
      revenue_sum: parseNumber(r.revenue_sum, 'revenue_sum', name, false),
      revenue_sum_sq: parseNumber(r.revenue_sum_sq, 'revenue_sum_sq', name, false),
      unsubscribes: parseNumber(r.unsubscribes, 'unsubscribes', name, true),
      outcomes_matched: parseNumber(r.outcomes_matched, 'outcomes_matched', name, true),
    };
  };
  const { outcomes_matched: mc, ...control } = arm('control');
  const { outcomes_matched: mt, ...treatment } = arm('treatment');
  return { control, treatment, data_checks: { outcomes_matched: { control: mc, treatment: mt }, ...checks } };
}

/** Refuses outcome data the statistics would silently misread. */
export function checkData(checks: DataChecks, campaignId: string): void {
  const problems: string[] = [];
  if (checks.duplicate_outcome_rows > 0) {
    problems.push(`${checks.duplicate_outcome_rows} duplicate outcome row(s) (a customer has more than one outcome)`);
  }
  if (checks.invalid_outcome_rows > 0) {
    problems.push(
      `${checks.invalid_outcome_rows} invalid outcome row(s) (converted/unsubscribed not 0/1, or revenue NULL or negative)`,
    );
  }
  if (checks.unknown_arm_rows > 0) {
    problems.push(`${checks.unknown_arm_rows} audience row(s) whose arm is neither control nor treatment`);
  }
  if (problems.length > 0) {
    throw new ExperimentDataError(
      `campaign ${campaignId}: the outcomes cannot be analysed: ${problems.join('; ')}. Fix campaign_outcomes/campaign_audiences partition campaign_id=${campaignId} and rerun.`,
    );
  }
}

export const reportPrefix = (goldBucket: string, campaignId: string) =>
  `s3://${goldBucket}/campaigns/reports/campaign_id=${campaignId}`;

/** Validates the event, analyses, writes analysis.json and report.html; returns the document and both URIs. */
export async function runAnalysis(
  event: unknown,
  deps: { store: ObjectStore; now?: () => Date },
): Promise<AnalysisOutput> {
  const parsed = analysisEventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`experiment-analysis: invalid event: ${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  const { control, treatment, data_checks } = parseArmAggregates(e.result_set, e.campaign_id);
  const analysis = analyzeExperiment({ control, treatment, expected_share: e.expected_share, alpha: e.alpha });
  const analyzedAt = (deps.now ?? (() => new Date()))().toISOString();
  const doc: AnalysisDocument = {
    campaign_id: e.campaign_id,
    run_id: e.run_id,
    analyzed_at: analyzedAt,
    expected_share: e.expected_share,
    ...analysis,
    aggregates: { control, treatment },
    data_checks,
  };
  const prefix = reportPrefix(e.gold_bucket, e.campaign_id);
  const analysisUri = `${prefix}/analysis.json`;
  const reportUri = `${prefix}/report.html`;
  const html = renderExperimentReport(analysis, {
    title: `Campaign experiment ${e.campaign_id}`,
    details: [
      ['campaign', e.campaign_id],
      ['run', e.run_id],
      ['analysed at', analyzedAt],
      ['alpha', String(e.alpha)],
      ['SRM threshold', String(SRM_P_THRESHOLD)],
      ['analysis JSON', analysisUri],
    ],
    control,
    treatment,
    data_checks,
  });
  await deps.store.putText(analysisUri, `${JSON.stringify(doc, null, 2)}\n`, 'application/json');
  await deps.store.putText(reportUri, html, 'text/html; charset=utf-8');
  return { ...doc, analysis_uri: analysisUri, report_uri: reportUri };
}
