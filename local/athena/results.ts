/**
 * Athena's result formats: the CSV written to <OutputLocation>/<QueryExecutionId>.csv (a header row, every
 * value in double quotes with inner quotes doubled, NULL as an empty unquoted field, \n line ends) and the
 * GetQueryResults ResultSet (header row first, each cell {VarCharValue}, NULL as {}).
 * Values are rendered as Athena renders them: doubles as Java's Double.toString, timestamps with milliseconds.
 */
import type { Json } from '../integrations/types.js';

export interface ColumnInfo {
  name: string;
  /** Athena type name (varchar, bigint, double, timestamp, ...). */
  type: string;
  precision: number;
  scale: number;
}

export type Cell = string | null;

/** Java's Double.toString, which Trino uses to print doubles. */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(exp)}`;
}

/** Trino prints timestamp(3): 'YYYY-MM-DD HH:MM:SS.mmm'. */
export function athenaTimestamp(duck: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(duck);
  if (!m) return duck;
  const frac = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  const zone = m[4] === '+00' || m[4] === 'Z' ? ' UTC' : (m[4] ?? '');
  return `${m[1]} ${m[2]}.${frac}${zone}`;
}

function quote(cell: Cell): string {
  return cell === null ? '' : `"${cell.replace(/"/g, '""')}"`;
}

export function toAthenaCsv(columns: ColumnInfo[], rows: Cell[][]): string {
  const lines = [columns.map((c) => quote(c.name)).join(',')];
  for (const row of rows) lines.push(row.map(quote).join(','));
  return `${lines.join('\n')}\n`;
}

/** Parses the CSV above back into header and rows (quoted → string, empty unquoted → null). */
export function parseAthenaCsv(text: string): { header: string[]; rows: Cell[][] } {
  const records: Cell[][] = [];
  let row: Cell[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let cell: Cell;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new Error('unterminated quoted field in Athena CSV');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      cell = value;
    } else {
      let value = '';
      while (i < n && text[i] !== ',' && text[i] !== '\n') value += text[i++];
      cell = value === '' ? null : value;
    }
    row.push(cell);
    if (text[i] === ',') {
      i++;
    } else {
      records.push(row);
      row = [];
      if (text[i] === '\n') i++;
    }
  }
  const [header, ...rows] = records;
  return { header: (header ?? []).map((h) => h ?? ''), rows };
}

export function resultSet(columns: ColumnInfo[], rows: Cell[][], includeHeader: boolean): Json {
  const toRow = (cells: Cell[]): Json => ({
    Data: cells.map((c): Json => (c === null ? {} : { VarCharValue: c })),
  });
  return {
    Rows: [...(includeHeader ? [toRow(columns.map((c) => c.name))] : []), ...rows.map(toRow)],
    ResultSetMetadata: {
      ColumnInfo: columns.map((c) => ({
        CatalogName: 'hive',
        SchemaName: '',
        TableName: '',
        Name: c.name,
        Label: c.name,
        Type: c.type,
        Precision: c.precision,
        Scale: c.scale,
        Nullable: 'UNKNOWN',
        CaseSensitive: c.type === 'varchar',
      })),
    },
  };
}
