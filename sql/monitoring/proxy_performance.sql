-- Proxy performance of batch scoring: how the predictions of a published production run compare with what its
-- customers actually spent in the days after it (the 12-month truth arrives a year late; these are its leading
-- indicators). Two windows are computed: `current` judges the latest production run on or before parameter 1,
-- `previous` the latest on or before parameter 2, so the monitoring pipeline compares them window over window.
-- One row per (window, metric, segment):
--   segment 'all': customers, pearson (predicted 12-month revenue vs actual spend in the window), spearman
--     (Pearson of average ranks, ties sharing their mean rank), top_decile_spend and bottom_half_spend (mean actual
--     spend per customer of the top 10% and the bottom 50% by predicted revenue), total_spend;
--   segment = the predicted tier (Low | Medium | High): customers, aov (gross purchase value per order) and
--     churn_rate (share of the tier's customers without a purchase in the window).
-- Actual spend follows the label definition of the feature build (glue-scripts/clv_glue/features/build.py):
-- product lines of known customers; a purchase (not a cancellation, quantity > 0) adds its amount, a return,
-- cancellation or negative quantity subtracts its absolute amount; a customer's net is floored at 0.
-- A production run is the batch-scoring run published last for its scoring date (monitoring_metrics rows of
-- pipeline 'batch-scoring', as sql/analytics/scoring_runs.sql); the window of a run is
-- [scoring_date 00:00, scoring_date + parameter 3 days).
-- Parameters (positional; Athena ExecutionParameters are SQL literals, each used in a WHERE clause):
--   1. 'YYYY-MM-DD' the current window's run is the latest production run on or before this date
--   2. 'YYYY-MM-DD' the previous window's run: the latest production run on or before this date
--   3. window length in days (integer)
-- Tables: monitoring_metrics, predictions (gold), silver_transactions (curated).
-- Dialect: the Trino/DuckDB common subset plus date_add (local/athena/compat.ts).
WITH runs AS (
  SELECT
    run_date AS scoring_date,
    model_version,
    MAX(created_at) AS published_at
  FROM monitoring_metrics
  WHERE pipeline = 'batch-scoring'
    AND metric = 'rows_scored'
  GROUP BY run_date, model_version
),
production_runs AS (
  SELECT scoring_date, model_version
  FROM (
    SELECT
      scoring_date,
      model_version,
      ROW_NUMBER() OVER (PARTITION BY scoring_date ORDER BY published_at DESC, model_version DESC) AS rn
    FROM runs
  ) AS r
  WHERE rn = 1
),
judged AS (
  SELECT 'current' AS run_window, scoring_date, model_version
  FROM production_runs
  WHERE scoring_date = (SELECT MAX(scoring_date) FROM production_runs WHERE scoring_date <= ?)
  UNION ALL
  SELECT 'previous' AS run_window, scoring_date, model_version
  FROM production_runs
  WHERE scoring_date = (SELECT MAX(scoring_date) FROM production_runs WHERE scoring_date <= ?)
),
lines AS (
  SELECT
    j.run_window,
    t.customer_id,
    t.invoice_id,
    CASE
      WHEN NOT COALESCE(t.is_cancellation, FALSE) AND t.quantity > 0 THEN COALESCE(t.amount, 0.0)
      WHEN COALESCE(t.is_cancellation, FALSE) OR COALESCE(t.is_return, FALSE) OR t.quantity < 0
        THEN -ABS(COALESCE(t.amount, 0.0))
      ELSE 0.0
    END AS value,
    (NOT COALESCE(t.is_cancellation, FALSE) AND t.quantity > 0) AS is_purchase
  FROM judged AS j
  INNER JOIN silver_transactions AS t
    ON t.invoice_ts >= CAST(j.scoring_date AS TIMESTAMP)
  WHERE t.invoice_ts < date_add('day', ?, CAST(j.scoring_date AS TIMESTAMP))
    AND t.customer_id IS NOT NULL
    AND TRIM(t.customer_id) <> ''
    AND NOT COALESCE(t.is_non_product, FALSE)
),
scored AS (
  SELECT
    j.run_window,
    j.scoring_date,
    j.model_version,
    p.customer_id,
    p.predicted_revenue_12m AS predicted,
    p.tier
  FROM judged AS j
  INNER JOIN predictions AS p
    ON p.scoring_date = j.scoring_date AND p.model_version = j.model_version
),
spend AS (
  SELECT
    s.run_window,
    s.scoring_date,
    s.model_version,
    s.customer_id,
    s.predicted,
    s.tier,
    GREATEST(COALESCE(SUM(l.value), 0.0), 0.0) AS actual,
    COUNT(DISTINCT CASE WHEN l.is_purchase THEN l.invoice_id END) AS orders,
    COALESCE(SUM(CASE WHEN l.is_purchase THEN l.value END), 0.0) AS gross
  FROM scored AS s
  LEFT JOIN lines AS l
    ON l.run_window = s.run_window AND l.customer_id = s.customer_id
  GROUP BY s.run_window, s.scoring_date, s.model_version, s.customer_id, s.predicted, s.tier
),
ranked AS (
  SELECT
    sp.run_window,
    sp.scoring_date,
    sp.model_version,
    sp.customer_id,
    sp.predicted,
    sp.tier,
    sp.actual,
    sp.orders,
    sp.gross,
    RANK() OVER (PARTITION BY sp.run_window ORDER BY sp.predicted)
      + (COUNT(*) OVER (PARTITION BY sp.run_window, sp.predicted) - 1) / 2.0 AS rank_predicted,
    RANK() OVER (PARTITION BY sp.run_window ORDER BY sp.actual)
      + (COUNT(*) OVER (PARTITION BY sp.run_window, sp.actual) - 1) / 2.0 AS rank_actual,
    ROW_NUMBER() OVER (PARTITION BY sp.run_window ORDER BY sp.predicted DESC, sp.customer_id) AS position,
    COUNT(*) OVER (PARTITION BY sp.run_window) AS customers
  FROM spend AS sp
),
overall AS (
  SELECT
    run_window,
    scoring_date,
    model_version,
    CAST(COUNT(*) AS DOUBLE) AS customers,
    CORR(predicted, actual) AS pearson,
    CORR(rank_predicted, rank_actual) AS spearman,
    AVG(CASE WHEN position <= CEIL(customers / 10.0) THEN actual END) AS top_decile_spend,
    AVG(CASE WHEN position > customers / 2.0 THEN actual END) AS bottom_half_spend,
    SUM(actual) AS total_spend
  FROM ranked
  GROUP BY run_window, scoring_date, model_version
),
tiers AS (
  SELECT
    run_window,
    scoring_date,
    model_version,
    tier,
    CAST(COUNT(*) AS DOUBLE) AS customers,
    SUM(gross) / NULLIF(CAST(SUM(orders) AS DOUBLE), 0.0) AS aov,
    AVG(CASE WHEN orders = 0 THEN 1.0 ELSE 0.0 END) AS churn_rate
  FROM ranked
  GROUP BY run_window, scoring_date, model_version, tier
)
SELECT run_window, scoring_date, model_version, 'customers' AS metric, 'all' AS segment, customers AS value
FROM overall
UNION ALL
SELECT run_window, scoring_date, model_version, 'pearson', 'all', pearson FROM overall
UNION ALL
SELECT run_window, scoring_date, model_version, 'spearman', 'all', spearman FROM overall
UNION ALL
SELECT run_window, scoring_date, model_version, 'top_decile_spend', 'all', top_decile_spend FROM overall
UNION ALL
SELECT run_window, scoring_date, model_version, 'bottom_half_spend', 'all', bottom_half_spend FROM overall
UNION ALL
SELECT run_window, scoring_date, model_version, 'total_spend', 'all', total_spend FROM overall
UNION ALL
SELECT run_window, scoring_date, model_version, 'customers', tier, customers FROM tiers
UNION ALL
SELECT run_window, scoring_date, model_version, 'aov', tier, aov FROM tiers
UNION ALL
SELECT run_window, scoring_date, model_version, 'churn_rate', tier, churn_rate FROM tiers
ORDER BY run_window, metric, segment
