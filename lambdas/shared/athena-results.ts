/**
 * Athena GetQueryResults result sets (the `ResultSet` a state machine's athena:getQueryResults Task returns, and
 * the local runtime's stand-in): header row first, every value a VarCharValue string, NULL a datum without one.
 * Turns one into records keyed by the header's column names, failing with the column and row when one is absent.
 */
import { z } from 'zod';

const datumSchema = z.looseObject({ VarCharValue: z.string().optional() });
const rowSchema = z.looseObject({ Data: z.array(datumSchema) });

export const resultSetSchema = z.looseObject({
  Rows: z.array(rowSchema),
  ResultSetMetadata: z.looseObject({ ColumnInfo: z.array(z.looseObject({ Name: z.string() })).optional() }).optional(),
});
export type ResultSet = z.infer<typeof resultSetSchema>;

/** A result set without the columns or values its query returns. */
export class InvalidResultSetError extends Error {
  override readonly name = 'InvalidResultSetError';
}

/** One data row: the value of each named column (null for SQL NULL). */
export type ResultRecord<C extends string> = Record<C, string | null>;

/**
 * The data rows of `resultSet` as records of `columns` (other columns are ignored). `what` names the query in
 * errors. A result set without a header row has no records.
 */
export function resultSetRecords<C extends string>(
  resultSet: ResultSet,
  columns: readonly C[],
  what: string,
): ResultRecord<C>[] {
  const [header, ...rows] = resultSet.Rows;
  if (!header) return [];
  const names = header.Data.map((d) => d.VarCharValue ?? '');
  const index = columns.map((c) => {
    const i = names.indexOf(c);
    if (i < 0) {
      throw new InvalidResultSetError(
        `${what}: column ${c} missing from the header row (${names.join(', ')}); is the first row the header?`,
      );
    }
    return i;
  });
  return rows.map((row) => {
    const record = {} as ResultRecord<C>;
    columns.forEach((c, k) => {
      record[c] = row.Data[index[k] as number]?.VarCharValue ?? null;
    });
    return record;
  });
}

/** A finite number from a result value (null stays null); fails naming where the value came from. */
export function resultNumber(value: string | null, where: string): number | null {
  if (value === null) return null;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InvalidResultSetError(`${where}: '${value}' is not a number`);
  }
  return n;
}
