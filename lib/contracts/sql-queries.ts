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
  DriftBinsQuery: 'sql/monitoring/drift_bins.sql',
  ProxyPerformanceQuery: 'sql/monitoring/proxy_performance.sql',
  MaturedCohortQuery: 'sql/monitoring/matured_cohort.sql',
  ChampionLatestScoringDateQuery: 'sql/rollout/champion_latest_scoring_date.sql',
  CampaignArmAggregatesQuery: 'sql/campaigns/arm_aggregates.sql',
  CampaignLatestCommonScoringDateQuery: 'sql/campaigns/latest_common_scoring_date.sql',
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

/** One analysts' query of sql/analytics/: shipped as an Athena named query by the Lake stack. */
export interface AnalyticsQuery {
  /** Repository-relative path of the SQL file. */
  readonly file: string;
  /** What it answers (the named query's description, with the parameters appended). */
  readonly summary: string;
  /** Its positional `?` execution parameters, in order (empty: none). */
  readonly parameters: readonly string[];
}

const MODEL_VERSION = "model version, quoted literal (e.g. 'clv-0123456789ab'; scoring_runs lists them)";
const SCORING_DATE = "scoring date 'YYYY-MM-DD' (quoted literal, e.g. '2024-01-07')";

/**
 * The analysts' named queries over the gold predictions table (docs/analytics.md). Keyed by name: the named query
 * is `clv-analytics-<name>`. test/sql/analytics.test.ts runs each on DuckDB fixtures and fails when a file of
 * sql/analytics/ is missing here (or the reverse), or when a file's `?` count differs from its parameters.
 * A scoring date may hold more than one model version (a rerun after a promotion adds a partition beside the
 * first): every query that reads predictions takes the model version as a parameter (scoring_runs lists them).
 */
export const ANALYTICS_QUERIES: Readonly<Record<string, AnalyticsQuery>> = {
  scoring_runs: {
    file: 'sql/analytics/scoring_runs.sql',
    summary:
      'Published batch-scoring runs, latest scoring date first: model version, run id, publish time, rows scored and rejected; is_latest_for_date marks the model version to query for each date.',
    parameters: [],
  },
  top_customers_by_clv: {
    file: 'sql/analytics/top_customers_by_clv.sql',
    summary:
      'Top customers by CLV score at the latest scoring date of a model version, with tier, predicted revenue, churn probability and top reasons; ties share a rank.',
    parameters: [MODEL_VERSION, 'N: the number of ranks to return (integer, e.g. 50)'],
  },
  clv_churn_by_segment: {
    file: 'sql/analytics/clv_churn_by_segment.sql',
    summary:
      'CLV and churn by country, acquisition channel (feature store at the scoring cutoff) and tier for one scoring date.',
    parameters: [SCORING_DATE, MODEL_VERSION],
  },
  week_over_week_movers: {
    file: 'sql/analytics/week_over_week_movers.sql',
    summary:
      'Customers whose CLV score moved most between the latest two scoring dates of a model version (customers scored on both), biggest absolute change first; ties share a rank.',
    parameters: [MODEL_VERSION, 'N: the number of ranks to return (integer, e.g. 100)'],
  },
  tier_migration_matrix: {
    file: 'sql/analytics/tier_migration_matrix.sql',
    summary:
      'Customer counts from tier at scoring date A to tier at scoring date B, New and Gone customers included, every cell present.',
    parameters: [
      "date A 'YYYY-MM-DD' (quoted literal)",
      'the model version that scored A (quoted literal)',
      "date B 'YYYY-MM-DD' (quoted literal)",
      'the model version that scored B (quoted literal)',
    ],
  },
};

/**
 * The description of the named query of a sql/ file (Athena allows 1024 characters). A file of sql/analytics/
 * must be declared in ANALYTICS_QUERIES (its description and parameters come from there).
 */
export function namedQueryDescription(file: string): string {
  const analytics = Object.values(ANALYTICS_QUERIES).find((q) => q.file === file);
  if (!analytics && file.startsWith('sql/analytics/')) {
    throw new Error(
      `${file} is not declared in ANALYTICS_QUERIES (lib/contracts/sql-queries.ts): add its summary and parameters`,
    );
  }
  const text = analytics
    ? `${analytics.summary} Parameters (positional ?, pass them as execution parameters): ${
        analytics.parameters.length > 0 ? analytics.parameters.map((p, i) => `${i + 1}) ${p}`).join('; ') : 'none'
      }. Source: ${file}.`
    : `${file} (positional ? parameters: pass them as execution parameters)`;
  if (text.length > 1024) throw new Error(`the named query description of ${file} exceeds 1024 characters`);
  return text;
}
