-- CLV and churn by segment for one scoring date: one row per (country, acquisition_channel, tier) with the number
-- of customers, the total and mean CLV score, the mean predicted 12-month revenue, the mean churn probability and
-- the expected number of churners (the sum of churn probabilities), plus the segment's share of the date's CLV.
-- Parameters: two positional execution parameters (question-mark placeholders), in order:
--   1. the scoring date 'YYYY-MM-DD', cast to DATE, so a value that is not a date fails the query;
--   2. the model version that scored it ('clv-0123456789ab'): a scoring date may hold more than one model version
--      (a rerun after a promotion adds a partition beside the first), so the query names the one to read
--      (sql/analytics/scoring_runs.sql lists the model version of each scoring date).
--   Athena: ExecutionParameters ["'2024-01-07'", "'clv-0123456789ab'"] (values are SQL literals, hence the quotes).
-- Segments: country and acquisition_channel come from the feature offline store (customer_features_offline) at the
--   scoring date's cutoff (event_time = scoring_date || 'T00:00:00Z'): the attributes the model scored, point in
--   time, the latest non-deleted record per customer as in sql/features/scoring_set.sql. A customer without such a
--   record (erased since, or scored from another source) is counted under 'unknown'. The join on the hourly
--   partition keys (year, month, day) of the one date lets Athena prune the offline store's partitions.
-- Order: country, acquisition_channel, then tier High, Medium, Low (any other tier value last).
-- Table: predictions (gold, Parquet; partitions scoring_date, model_version).
-- Dialect: the Trino/DuckDB common subset (CAST, ||, substr, window functions).
WITH scored AS (
  SELECT customer_id, scoring_date, model_version, tier, clv_score, predicted_revenue_12m, churn_probability
  FROM predictions
  WHERE scoring_date = CAST(CAST(? AS DATE) AS VARCHAR)
    AND model_version = ?
),
scoring_dates AS (
  SELECT DISTINCT scoring_date FROM scored
),
attribute_records AS (
  SELECT
    f.customer_id,
    f.country,
    f.acquisition_channel,
    f.is_deleted,
    ROW_NUMBER() OVER (
      PARTITION BY f.customer_id
      ORDER BY f.api_invocation_time DESC, f.write_time DESC, f.is_deleted DESC
    ) AS rn
  FROM customer_features_offline AS f
  JOIN scoring_dates AS d
    ON f.year = substr(d.scoring_date, 1, 4)
    AND f.month = substr(d.scoring_date, 6, 2)
    AND f.day = substr(d.scoring_date, 9, 2)
    AND f.event_time = d.scoring_date || 'T00:00:00Z'
),
attributes AS (
  SELECT customer_id, country, acquisition_channel
  FROM attribute_records
  WHERE rn = 1
    AND NOT is_deleted
),
segmented AS (
  SELECT
    s.*,
    COALESCE(a.country, 'unknown') AS country,
    COALESCE(a.acquisition_channel, 'unknown') AS acquisition_channel
  FROM scored AS s
  LEFT JOIN attributes AS a ON a.customer_id = s.customer_id
)
SELECT
  scoring_date,
  model_version,
  country,
  acquisition_channel,
  tier,
  COUNT(*) AS customers,
  SUM(clv_score) AS total_clv_score,
  AVG(clv_score) AS avg_clv_score,
  AVG(predicted_revenue_12m) AS avg_predicted_revenue_12m,
  AVG(churn_probability) AS avg_churn_probability,
  SUM(churn_probability) AS expected_churners,
  SUM(clv_score) / SUM(SUM(clv_score)) OVER () AS share_of_total_clv
FROM segmented
GROUP BY scoring_date, model_version, country, acquisition_channel, tier
ORDER BY
  country,
  acquisition_channel,
  CASE tier WHEN 'High' THEN 1 WHEN 'Medium' THEN 2 WHEN 'Low' THEN 3 ELSE 4 END,
  tier
