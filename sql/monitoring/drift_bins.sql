-- Drift bins of one scoring run: for every (feature, bin) of the model's drift baseline, the baseline count and the
-- count of the current scoring run in that bin. The drift Lambda (lambdas/drift) computes PSI, KS and chi-square
-- from these rows only: O(features x bins) rows whatever the data size. Decision 0030.
-- Parameters: three positional execution parameters (question-mark placeholders), in this order:
--   1) the model version, quoted literal (e.g. 'clv-train-abc'): the baseline drift_baselines/<model_version>.csv;
--   2) the scoring date 'YYYY-MM-DD' (quoted literal): the cutoff scored (its feature records, as
--      sql/features/scoring_set.sql selects them);
--   3) the model version again (the predictions partition scoring_date=<2>/model_version=<3>).
--   Athena: StartQueryExecution ExecutionParameters ["'clv-train-abc'", "'2024-01-07'", "'clv-train-abc'"];
--   Athena accepts the placeholder only in a WHERE clause, hence one per place it is needed.
-- Tables: drift_baselines (gold CSV, one file per model: feature, kind, bin, lower, upper, category,
--   baseline_count; sagemaker/clv_model/drift_baseline.py writes it), customer_features_offline (the feature
--   store's offline store) and predictions (gold, partitions scoring_date/model_version).
-- Current rows: the scoring set of the cutoff (latest non-deleted record per customer at event_time = the cutoff
--   instant, exactly as scoring_set.sql) in the monitored population — a purchase in the 365 days before the cutoff
--   (recency_days <= 365, lib/contracts/drift-features.ts DRIFT_ACTIVE_WINDOW_DAYS; the baseline is cut on the same
--   population, decision 0035) — for the input features; their rows of the predictions partition of (cutoff, model
--   version) for predicted_revenue_12m.
-- Bins: numeric bin = [lower, upper) (lower -1e308 and upper 1e308 are the open ends), a NULL value in the bin
--   whose lower and upper are NULL; categorical bin = the category (trimmed; empty = NULL) when the baseline has
--   it, else the __other__ bin, a NULL value in the bin whose category is NULL. The CSV SerDe reads an empty
--   string column as '' (hence NULLIF on category) and an empty numeric column as NULL.
-- Output: feature, kind, bin, lower, upper, category, baseline_count, current_count (0 when no current row falls
--   in the bin), ordered by feature and bin. No rows: the model has no baseline.
-- Dialect: the Trino/DuckDB common subset (CAST, ||, ROW_NUMBER, CASE, COALESCE, NULLIF, TRIM).
WITH baseline AS (
  SELECT
    b.feature,
    b.kind,
    CAST(b.bin AS INTEGER) AS bin,
    b.lower,
    b.upper,
    NULLIF(b.category, '') AS category,
    CAST(b.baseline_count AS BIGINT) AS baseline_count
  FROM drift_baselines AS b
  WHERE b.model_version = ?
),
candidates AS (
  SELECT
    f.customer_id,
    f.cutoff_date,
    f.recency_days,
    f.repeat_frequency,
    f.monetary_total_net,
    f.spend_90d,
    f.sessions_90d,
    f.tenure_days,
    f.country,
    f.acquisition_channel,
    f.is_deleted,
    ROW_NUMBER() OVER (
      PARTITION BY f.customer_id
      ORDER BY f.api_invocation_time DESC, f.write_time DESC, f.is_deleted DESC
    ) AS rn
  FROM customer_features_offline AS f
  WHERE f.event_time = CAST(CAST(? AS DATE) AS VARCHAR) || 'T00:00:00Z'
),
scoring AS (
  SELECT *
  FROM candidates
  WHERE rn = 1
    AND NOT is_deleted
    AND recency_days IS NOT NULL
    AND recency_days <= 365
),
scored AS (
  SELECT p.predicted_revenue_12m
  FROM predictions AS p
  WHERE p.model_version = ?
    AND p.scoring_date IN (SELECT DISTINCT s.cutoff_date FROM scoring AS s)
    AND p.customer_id IN (SELECT s.customer_id FROM scoring AS s)
),
baseline_features AS (
  SELECT DISTINCT feature, kind
  FROM baseline
),
input_values AS (
  SELECT
    k.feature,
    k.kind,
    CASE k.feature
      WHEN 'recency_days' THEN CAST(s.recency_days AS DOUBLE)
      WHEN 'repeat_frequency' THEN CAST(s.repeat_frequency AS DOUBLE)
      WHEN 'monetary_total_net' THEN CAST(s.monetary_total_net AS DOUBLE)
      WHEN 'spend_90d' THEN CAST(s.spend_90d AS DOUBLE)
      WHEN 'sessions_90d' THEN CAST(s.sessions_90d AS DOUBLE)
      WHEN 'tenure_days' THEN CAST(s.tenure_days AS DOUBLE)
    END AS num_value,
    CASE k.feature
      WHEN 'country' THEN NULLIF(TRIM(s.country), '')
      WHEN 'acquisition_channel' THEN NULLIF(TRIM(s.acquisition_channel), '')
    END AS cat_value
  FROM scoring AS s
  CROSS JOIN baseline_features AS k
  WHERE k.feature <> 'predicted_revenue_12m'
),
current_values AS (
  SELECT feature, kind, num_value, cat_value
  FROM input_values
  UNION ALL
  SELECT k.feature, k.kind, CAST(p.predicted_revenue_12m AS DOUBLE) AS num_value, CAST(NULL AS VARCHAR) AS cat_value
  FROM scored AS p
  CROSS JOIN baseline_features AS k
  WHERE k.feature = 'predicted_revenue_12m'
),
numeric_counts AS (
  SELECT b.feature, b.bin, COUNT(*) AS current_count
  FROM current_values AS v
  JOIN baseline AS b
    ON b.feature = v.feature
   AND b.kind = 'numeric'
   AND (
     (v.num_value IS NULL AND b.lower IS NULL AND b.upper IS NULL)
     OR (v.num_value >= b.lower AND v.num_value < b.upper)
   )
  WHERE v.kind = 'numeric'
  GROUP BY b.feature, b.bin
),
category_values AS (
  SELECT feature, cat_value, COUNT(*) AS n
  FROM current_values
  WHERE kind = 'categorical'
  GROUP BY feature, cat_value
),
categorical_counts AS (
  SELECT c.feature, COALESCE(known.bin, CASE WHEN c.cat_value IS NULL THEN nulls.bin ELSE other.bin END) AS bin, SUM(c.n) AS current_count
  FROM category_values AS c
  LEFT JOIN baseline AS known
    ON known.feature = c.feature
   AND known.kind = 'categorical'
   AND known.category = c.cat_value
  LEFT JOIN baseline AS other
    ON other.feature = c.feature
   AND other.kind = 'categorical'
   AND other.category = '__other__'
  LEFT JOIN baseline AS nulls
    ON nulls.feature = c.feature
   AND nulls.kind = 'categorical'
   AND nulls.category IS NULL
  GROUP BY c.feature, COALESCE(known.bin, CASE WHEN c.cat_value IS NULL THEN nulls.bin ELSE other.bin END)
),
current_counts AS (
  SELECT feature, bin, current_count FROM numeric_counts
  UNION ALL
  SELECT feature, bin, current_count FROM categorical_counts
)
SELECT
  b.feature,
  b.kind,
  b.bin,
  b.lower,
  b.upper,
  b.category,
  b.baseline_count,
  CAST(COALESCE(c.current_count, 0) AS BIGINT) AS current_count
FROM baseline AS b
LEFT JOIN current_counts AS c
  ON c.feature = b.feature
 AND c.bin = b.bin
ORDER BY b.feature, b.bin
