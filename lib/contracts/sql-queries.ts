/**
 * The SQL files behind the `${<Name>Query}` placeholders of the ASL files: declared once, used by the CDK
 * (DefinitionSubstitutions) and by the local runtime alike. Paths are relative to the repository root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../paths.js';

export const SQL_QUERIES: Record<string, string> = {
  QualityAggregatesQuery: 'sql/quality/aggregates.sql',
  TrainingSetQuery: 'sql/features/training_set.sql',
  ScoringSetQuery: 'sql/features/scoring_set.sql',
};

/** The text of the SQL file behind a `${<Name>Query}` placeholder, failing with the name when it is unknown or absent. */
export function readSqlQuery(placeholder: string): string {
  const rel = SQL_QUERIES[placeholder];
  if (rel === undefined) {
    throw new Error(
      `no SQL file is declared for the placeholder \${${placeholder}} (add it to SQL_QUERIES in lib/contracts/sql-queries.ts)`,
    );
  }
  const file = path.join(repoRoot, rel);
  if (!fs.existsSync(file)) throw new Error(`\${${placeholder}} names ${rel}, which does not exist`);
  return fs.readFileSync(file, 'utf8');
}

/**
 * The substitution value of a `${<Name>Query}` placeholder: the SQL text escaped as the inside of a JSON string,
 * since the placeholder stands inside `"QueryString": "..."` and DefinitionSubstitutions replace text verbatim.
 * A trailing semicolon and surrounding whitespace are removed (Athena runs one statement per execution).
 */
export function sqlQuerySubstitution(placeholder: string): string {
  const sql = readSqlQuery(placeholder).trim().replace(/;\s*$/, '');
  return JSON.stringify(sql).slice(1, -1);
}
