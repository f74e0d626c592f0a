/**
 * The drift Lambda's input (pure): the event the monitoring state machine sends, validated with zod, and the
 * Athena ResultSet of sql/monitoring/drift_bins.sql (header row first, values as VarCharValue strings, NULL as a
 * datum without VarCharValue: GetQueryResults, or the local runtime's athena:getQueryResults) turned into bins.
 */
import { z } from 'zod';
import type { DriftBinRow, DriftThresholds } from './core.js';

const Datum = z.looseObject({ VarCharValue: z.string().optional() });
const Row = z.looseObject({ Data: z.array(Datum) });

export const ResultSetSchema = z.looseObject({
  Rows: z.array(Row),
  ResultSetMetadata: z.looseObject({ ColumnInfo: z.array(z.looseObject({ Name: z.string() })).optional() }).optional(),
});

export const ThresholdsSchema = z
  .object({
    psi_low: z.number().min(0, 'thresholds.psi_low must be >= 0'),
    psi_medium: z.number().min(0, 'thresholds.psi_medium must be >= 0'),
  })
  .refine((t) => t.psi_low < t.psi_medium, {
    message: 'thresholds.psi_low must be below thresholds.psi_medium',
    path: ['psi_medium'],
  });

export const DriftEventSchema = z.object({
  run_id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/, 'run_id: the execution name ([A-Za-z0-9._-], at most 80 characters)'),
  scoring_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'scoring_date must be YYYY-MM-DD')
    .refine(
      (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
      {
        message: 'scoring_date is not a calendar date',
      },
    ),
  model_version: z.string().min(1, 'model_version must not be empty'),
  gold_bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'gold_bucket must be an S3 bucket name'),
  thresholds: ThresholdsSchema,
  result_set: ResultSetSchema,
});
export type DriftEvent = z.infer<typeof DriftEventSchema>;

/** The event is not what the state machine should send: the message names the field. */
export class InvalidDriftEventError extends Error {
  override readonly name = 'InvalidDriftEventError';
}

export function parseDriftEvent(event: unknown): DriftEvent & { thresholds: DriftThresholds } {
  const parsed = DriftEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidDriftEventError(`drift: invalid event: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export const RESULT_COLUMNS = [
  'feature',
  'kind',
  'bin',
  'lower',
  'upper',
  'category',
  'baseline_count',
  'current_count',
] as const;

/** The result set does not have the columns or values drift_bins.sql returns. */
export class InvalidResultSetError extends Error {
  override readonly name = 'InvalidResultSetError';
}

function number(value: string | undefined, where: string, integer: boolean): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new InvalidResultSetError(`${where}: '${value}' is not ${integer ? 'an integer' : 'a number'}`);
  }
  return n;
}

/**
 * The bins of a drift_bins.sql result set. The header row (first) names the columns; extra columns are ignored.
 * An empty list when there is no data row (the caller fails on it by name).
 */
export function binRowsFromResultSet(resultSet: z.infer<typeof ResultSetSchema>): DriftBinRow[] {
  const [header, ...rows] = resultSet.Rows;
  if (!header) return [];
  const names = header.Data.map((d) => d.VarCharValue ?? '');
  const index = Object.fromEntries(
    RESULT_COLUMNS.map((c) => {
      const i = names.indexOf(c);
      if (i < 0) {
        throw new InvalidResultSetError(
          `result_set: column ${c} missing from the header row (${names.join(', ')}); is the first row the header?`,
        );
      }
      return [c, i];
    }),
  ) as Record<(typeof RESULT_COLUMNS)[number], number>;
  return rows.map((row, r) => {
    const at = (c: (typeof RESULT_COLUMNS)[number]): string | undefined => row.Data[index[c]]?.VarCharValue;
    const where = (c: string) => `result_set row ${r + 1} column ${c}`;
    const feature = at('feature');
    if (!feature) throw new InvalidResultSetError(`${where('feature')}: empty`);
    const kind = at('kind');
    if (kind !== 'numeric' && kind !== 'categorical') {
      throw new InvalidResultSetError(`${where('kind')}: '${kind}' is not numeric or categorical`);
    }
    const required = (c: 'bin' | 'baseline_count' | 'current_count'): number => {
      const n = number(at(c), where(c), true);
      if (n === null) throw new InvalidResultSetError(`${where(c)}: NULL`);
      return n;
    };
    const category = at('category');
    return {
      feature,
      kind,
      bin: required('bin'),
      lower: number(at('lower'), where('lower'), false),
      upper: number(at('upper'), where('upper'), false),
      category: category === undefined || category === '' ? null : category,
      baseline_count: required('baseline_count'),
      current_count: required('current_count'),
    };
  });
}
