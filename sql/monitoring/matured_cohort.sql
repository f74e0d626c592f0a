-- Matured-cohort evaluation: once a scoring run's 12-month label window has closed, its predictions against what
-- the customers really spent (the model's true error, to compare with what its test set promised at registration).
-- The judged run is the latest production run (the batch-scoring run published last for its date, as in
-- sql/monitoring/proxy_performance.sql) on or before parameter 1; actual revenue follows the label definition of
-- the feature build (net of returns, floored at 0) over [scoring_date 00:00, scoring_date + parameter 2 days).
-- One row: scoring_date, model_version, customers, rmse, mae, mean_predicted, mean_actual, gini_normalized.
-- gini_normalized = Gini of the cumulative-gain curve of actual revenue ordered by prediction (descending;
-- trapezoids, one point per customer, ties broken by customer id) divided by the Gini of the perfect order, as
-- sagemaker/clv_model/metrics.py gini_normalized (which spreads tied scores linearly: equal for distinct scores).
-- No row when no production run is old enough.
-- Parameters (positional, each used in a WHERE clause):
--   1. 'YYYY-MM-DD' the judged run is the latest production run on or before this date
--   2. label window in days (integer, 365)
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
  SELECT scoring_date, model_version
  FROM production_runs
  WHERE scoring_date = (SELECT MAX(scoring_date) FROM production_runs WHERE scoring_date <= ?)
),
lines AS (
  SELECT
    t.customer_id,
    CASE
      WHEN NOT COALESCE(t.is_cancellation, FALSE) AND t.quantity > 0 THEN COALESCE(t.amount, 0.0)
      WHEN COALESCE(t.is_cancellation, FALSE) OR COALESCE(t.is_return, FALSE) OR t.quantity < 0
        THEN -ABS(COALESCE(t.amount, 0.0))
      ELSE 0.0
    END AS value
  FROM judged AS j
  INNER JOIN silver_transactions AS t
    ON t.invoice_ts >= CAST(j.scoring_date AS TIMESTAMP)
  WHERE t.invoice_ts < date_add('day', ?, CAST(j.scoring_date AS TIMESTAMP))
    AND t.customer_id IS NOT NULL
    AND TRIM(t.customer_id) <> ''
    AND NOT COALESCE(t.is_non_product, FALSE)
),
outcome AS (
  SELECT
    j.scoring_date,
    j.model_version,
    p.customer_id,
    p.predicted_revenue_12m AS predicted,
    GREATEST(COALESCE(SUM(l.value), 0.0), 0.0) AS actual
  FROM judged AS j
  INNER JOIN predictions AS p
    ON p.scoring_date = j.scoring_date AND p.model_version = j.model_version
  LEFT JOIN lines AS l
    ON l.customer_id = p.customer_id
  GROUP BY j.scoring_date, j.model_version, p.customer_id, p.predicted_revenue_12m
),
curve AS (
  SELECT
    o.scoring_date,
    o.model_version,
    o.predicted,
    o.actual,
    SUM(o.actual) OVER (
      ORDER BY o.predicted DESC, o.customer_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cum_by_predicted,
    SUM(o.actual) OVER (
      ORDER BY o.actual DESC, o.customer_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cum_by_actual,
    SUM(o.actual) OVER () AS total,
    CAST(COUNT(*) OVER () AS DOUBLE) AS n
  FROM outcome AS o
)
SELECT
  scoring_date,
  model_version,
  CAST(COUNT(*) AS DOUBLE) AS customers,
  SQRT(AVG((predicted - actual) * (predicted - actual))) AS rmse,
  AVG(ABS(predicted - actual)) AS mae,
  AVG(predicted) AS mean_predicted,
  AVG(actual) AS mean_actual,
  (2 * SUM((2 * cum_by_predicted - actual) / NULLIF(2 * total * n, 0.0)) - 1)
    / NULLIF(2 * SUM((2 * cum_by_actual - actual) / NULLIF(2 * total * n, 0.0)) - 1, 0.0) AS gini_normalized
FROM curve
GROUP BY scoring_date, model_version
