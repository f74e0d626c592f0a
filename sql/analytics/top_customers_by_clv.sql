-- Top customers by CLV score at the latest scoring date of one model version: rank, tier, predicted 12-month
-- revenue, churn probability and the three top reasons (per-customer SHAP contributions) of every customer ranked
-- N or better.
-- Parameters: two positional execution parameters (question-mark placeholders), in order:
--   1. the model version, a quoted literal ('clv-0123456789ab'): a scoring date may hold more than one model
--      version (a rerun after a promotion adds a partition beside the first), so the query names the one to read
--      (sql/analytics/scoring_runs.sql lists the model version of each scoring date);
--   2. N, the number of ranks to return, an integer literal (50).
--   Athena: ExecutionParameters ["'clv-0123456789ab'", "50"]. Athena accepts the placeholders only in WHERE
--   clauses, hence the filter on the rank rather than a LIMIT.
-- Latest scoring date: the latest scoring_date of that model version (MAX of the partition key, joined back; no date
--   parameter). Rows of the latest date are read once Trino's dynamic filter has pruned the other dates.
-- Ranking: RANK() by clv_score, highest first: customers with equal scores share a rank, so the last rank kept
--   may hold more than one customer and the result more than N rows (none is cut arbitrarily). Rows of one rank
--   are ordered by customer_id.
-- Table: predictions (gold, Parquet; partitions scoring_date 'YYYY-MM-DD' and model_version), written by the
--   batch-scoring publish step.
-- Dialect: the Trino/DuckDB common subset (CAST, window functions); no date functions.
WITH versioned AS (
  SELECT *
  FROM predictions
  WHERE model_version = ?
),
latest_date AS (
  SELECT MAX(scoring_date) AS scoring_date
  FROM versioned
),
latest AS (
  SELECT
    v.*,
    RANK() OVER (ORDER BY v.clv_score DESC) AS clv_rank
  FROM versioned AS v
  JOIN latest_date AS d ON d.scoring_date = v.scoring_date
)
SELECT
  scoring_date,
  model_version,
  clv_rank,
  customer_id,
  clv_score,
  tier,
  predicted_revenue_12m,
  churn_probability,
  reason_1_feature,
  reason_1_contribution,
  reason_2_feature,
  reason_2_contribution,
  reason_3_feature,
  reason_3_contribution,
  reasons_method
FROM latest
WHERE clv_rank <= CAST(? AS BIGINT)
ORDER BY clv_rank, customer_id
