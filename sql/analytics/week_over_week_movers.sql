-- Week-over-week movers: the customers whose CLV score moved most between the latest two scoring dates (the
-- weekly batch scoring runs) of one model version, biggest absolute change first, with both scores, the change
-- (absolute and relative), both tiers and both churn probabilities. One model version on both dates keeps a model
-- change out of the moves; across a promotion, compare the two dates with sql/analytics/tier_migration_matrix.sql.
-- Parameters: two positional execution parameters (question-mark placeholders), in order:
--   1. the model version, a quoted literal ('clv-0123456789ab'): a scoring date may hold more than one model
--      version (a rerun after a promotion adds a partition beside the first), so the query names the one to read
--      (sql/analytics/scoring_runs.sql lists the model version of each scoring date);
--   2. N, the number of ranks to return, an integer literal (100).
--   Athena: ExecutionParameters ["'clv-0123456789ab'", "100"]. Athena accepts the placeholders only in WHERE
--   clauses, hence the filter on the rank rather than a LIMIT.
-- Dates: the latest two distinct scoring_date values of that model version (subqueries on the partition key; no
--   date parameter). With fewer than two scoring dates the result is empty.
-- Customers: those scored on both dates; customers new at the latest date or gone from it have no change and are
--   left out (sql/analytics/tier_migration_matrix.sql counts them).
-- Ranking: RANK() by ABS(clv_change), largest first: equal moves share a rank, so the last rank kept may hold
--   more than one customer. Rows of one rank are ordered by customer_id. clv_change_ratio is the change relative to
--   the previous score; NULL when the previous score is 0.
-- Table: predictions (gold, Parquet; partitions scoring_date, model_version).
-- Dialect: the Trino/DuckDB common subset (CAST, NULLIF, window functions).
WITH versioned AS (
  SELECT *
  FROM predictions
  WHERE model_version = ?
),
scoring_dates AS (
  SELECT scoring_date, ROW_NUMBER() OVER (ORDER BY scoring_date DESC) AS k
  FROM (SELECT DISTINCT scoring_date FROM versioned) AS dates
),
cur AS (
  SELECT v.*
  FROM versioned AS v
  JOIN scoring_dates AS d ON d.scoring_date = v.scoring_date AND d.k = 1
),
prev AS (
  SELECT v.*
  FROM versioned AS v
  JOIN scoring_dates AS d ON d.scoring_date = v.scoring_date AND d.k = 2
),
moves AS (
  SELECT
    c.customer_id,
    p.scoring_date AS previous_scoring_date,
    c.scoring_date AS current_scoring_date,
    p.clv_score AS previous_clv_score,
    c.clv_score AS current_clv_score,
    c.clv_score - p.clv_score AS clv_change,
    (c.clv_score - p.clv_score) / NULLIF(p.clv_score, 0) AS clv_change_ratio,
    p.tier AS previous_tier,
    c.tier AS current_tier,
    p.churn_probability AS previous_churn_probability,
    c.churn_probability AS current_churn_probability,
    c.model_version
  FROM cur AS c
  JOIN prev AS p ON p.customer_id = c.customer_id
),
ranked AS (
  SELECT moves.*, RANK() OVER (ORDER BY ABS(clv_change) DESC) AS move_rank
  FROM moves
)
SELECT
  move_rank,
  customer_id,
  CASE WHEN clv_change > 0 THEN 'up' WHEN clv_change < 0 THEN 'down' ELSE 'none' END AS direction,
  clv_change,
  clv_change_ratio,
  previous_clv_score,
  current_clv_score,
  previous_tier,
  current_tier,
  previous_churn_probability,
  current_churn_probability,
  previous_scoring_date,
  current_scoring_date,
  model_version
FROM ranked
WHERE move_rank <= CAST(? AS BIGINT)
ORDER BY move_rank, customer_id
