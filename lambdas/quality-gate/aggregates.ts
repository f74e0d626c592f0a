/**
 * The aggregates the quality gate evaluates: the rows of sql/quality/aggregates.sql (long format, one row per
 * dt/metric/column/category), parsed with zod. dt = the run date is the current period, the day before the previous.
 */
import { z } from 'zod';
import { parseCsvRecords } from '../shared/csv.js';

export const PERIODS = ['current', 'previous'] as const;
export type Period = (typeof PERIODS)[number];
export const METRICS = [
  'row_count',
  'null_count',
  'min',
  'max',
  'mean',
  'distinct_count',
  'category_count',
  'column_type',
] as const;
export type MetricName = (typeof METRICS)[number];

/** One result row (Athena writes every field as text; an empty value is SQL NULL). */
export const aggregateRowSchema = z.object({
  dt: z.iso.date(),
  metric: z.enum(METRICS),
  column_name: z.string(),
  category: z.string(),
  value: z
    .string()
    .transform((v, ctx) => {
      if (v === '') return null;
      const n = Number(v);
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: `value '${v}' is not a number` });
        return z.NEVER;
      }
      return n;
    })
    .or(z.number())
    .or(z.null()),
});
export type AggregateRow = {
  period: Period;
  metric: MetricName;
  column_name: string;
  category: string;
  value: number | null;
};

/** The day before a YYYY-MM-DD date. */
export function previousDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/**
 * Parses the query's CSV result for the run date; fails naming the row and field that are wrong, or a row of a
 * day that is neither the run date nor the day before.
 */
export function parseAggregatesCsv(text: string, date: string): AggregateRow[] {
  const previous = previousDay(date);
  return parseCsvRecords(text).map((record, i) => {
    const parsed = aggregateRowSchema.safeParse(record);
    if (!parsed.success) {
      throw new Error(`quality aggregates row ${i + 2} is invalid: ${z.prettifyError(parsed.error)}`);
    }
    const { dt, ...rest } = parsed.data;
    const period: Period | undefined = dt === date ? 'current' : dt === previous ? 'previous' : undefined;
    if (!period) {
      throw new Error(`quality aggregates row ${i + 2}: dt ${dt} is neither the run date ${date} nor ${previous}`);
    }
    return { period, ...rest } as AggregateRow;
  });
}

/** Lookup over the aggregates of one run. */
export class Aggregates {
  constructor(readonly rows: readonly AggregateRow[]) {}

  private find(period: Period, metric: MetricName, column: string): AggregateRow | undefined {
    return this.rows.find((r) => r.period === period && r.metric === metric && r.column_name === column);
  }

  /** Rows of the period; 0 when the partition is empty (the query returns no row for it). */
  rowCount(period: Period): number {
    return this.find(period, 'row_count', '')?.value ?? 0;
  }

  hasPeriod(period: Period): boolean {
    return this.rowCount(period) > 0;
  }

  /** A per-column metric: undefined when the query did not return it, null when SQL returned NULL. */
  value(period: Period, metric: MetricName, column: string): number | null | undefined {
    const row = this.find(period, metric, column);
    return row === undefined ? undefined : row.value;
  }

  /** category → row count of a column. */
  categories(period: Period, column: string): Map<string, number> {
    return new Map(
      this.rows
        .filter((r) => r.period === period && r.metric === 'category_count' && r.column_name === column)
        .map((r) => [r.category, r.value ?? 0]),
    );
  }

  /** The SQL type name the engine reported for a column. */
  columnType(period: Period, column: string): string | undefined {
    return this.find(period, 'column_type', column)?.category;
  }
}
