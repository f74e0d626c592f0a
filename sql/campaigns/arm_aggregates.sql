-- Campaign experiment: the sufficient statistics of each arm for the analysis Lambda (lambdas/experiment-analysis):
-- one row per arm (control, treatment; both always present, n = 0 for an empty arm) with n (customers in the arm's
-- audience), conversions, revenue_sum, revenue_sum_sq (sum of squared per-customer revenue: Welch's t-test needs
-- only n, the sum and the sum of squares), unsubscribes. The audience is LEFT JOINed to the outcomes: a customer of
-- the audience without an outcome row counts as not converted, 0 revenue, not unsubscribed.
-- Nothing is dropped silently; campaign-wide counts repeated on both rows:
--   outcomes_matched: (per arm) audience customers that have an outcome row;
--   outcomes_outside_audience: outcome customers not in the audience (ignored by the statistics);
--   duplicate_outcome_rows: outcome rows beyond the first of a customer (the analysis refuses them);
--   invalid_outcome_rows: outcome rows with converted/unsubscribed not 0/1 or revenue NULL or negative (refused);
--   unknown_arm_rows: audience rows whose arm is neither control nor treatment (refused).
-- Parameters: 1) campaign_id, quoted literal (e.g. 'spring-canary'), the campaign_audiences partition;
--   2) the same campaign_id again, the campaign_outcomes partition. Athena accepts an execution parameter only in a
--   WHERE clause (as sql/features/scoring_set.sql), hence once per table, which also prunes to one partition each.
-- Tables: campaign_audiences, campaign_outcomes (gold, Parquet, partition campaign_id).
-- Dialect: the Trino/DuckDB common subset.
WITH audience AS (
  SELECT a.customer_id, a.arm
  FROM campaign_audiences a
  WHERE a.campaign_id = ?
),
outcome_rows AS (
  SELECT o.customer_id, o.converted, o.revenue, o.unsubscribed
  FROM campaign_outcomes o
  WHERE o.campaign_id = ?
),
outcomes AS (
  SELECT
    customer_id,
    MAX(converted) AS converted,
    SUM(revenue) AS revenue,
    MAX(unsubscribed) AS unsubscribed,
    COUNT(*) AS n_rows
  FROM outcome_rows
  GROUP BY customer_id
),
arms AS (
  SELECT 'control' AS arm
  UNION ALL
  SELECT 'treatment' AS arm
),
per_arm AS (
  SELECT
    arms.arm,
    COUNT(a.customer_id) AS n,
    CAST(COALESCE(SUM(o.converted), 0) AS BIGINT) AS conversions,
    COALESCE(SUM(CAST(o.revenue AS DOUBLE)), 0.0) AS revenue_sum,
    COALESCE(SUM(CAST(o.revenue AS DOUBLE) * CAST(o.revenue AS DOUBLE)), 0.0) AS revenue_sum_sq,
    CAST(COALESCE(SUM(o.unsubscribed), 0) AS BIGINT) AS unsubscribes,
    COUNT(o.customer_id) AS outcomes_matched
  FROM arms
  LEFT JOIN audience a ON a.arm = arms.arm
  LEFT JOIN outcomes o ON o.customer_id = a.customer_id
  GROUP BY arms.arm
),
checks AS (
  SELECT
    (
      SELECT COUNT(*) FROM outcomes o
      WHERE NOT EXISTS (SELECT 1 FROM audience a WHERE a.customer_id = o.customer_id)
    ) AS outcomes_outside_audience,
    (SELECT CAST(COALESCE(SUM(n_rows - 1), 0) AS BIGINT) FROM outcomes) AS duplicate_outcome_rows,
    (
      SELECT COUNT(*) FROM outcome_rows
      WHERE converted IS NULL OR converted NOT IN (0, 1)
        OR unsubscribed IS NULL OR unsubscribed NOT IN (0, 1)
        OR revenue IS NULL OR revenue < 0
    ) AS invalid_outcome_rows,
    (
      SELECT COUNT(*) FROM audience
      WHERE arm IS NULL OR arm NOT IN ('control', 'treatment')
    ) AS unknown_arm_rows
)
SELECT
  per_arm.arm,
  per_arm.n,
  per_arm.conversions,
  per_arm.revenue_sum,
  per_arm.revenue_sum_sq,
  per_arm.unsubscribes,
  per_arm.outcomes_matched,
  checks.outcomes_outside_audience,
  checks.duplicate_outcome_rows,
  checks.invalid_outcome_rows,
  checks.unknown_arm_rows
FROM per_arm
CROSS JOIN checks
ORDER BY per_arm.arm
