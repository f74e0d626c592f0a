-- Scoring runs: one row per published batch-scoring run, latest scoring date first: the scoring date (the cutoff
-- scored), the model version that scored it, the run id (execution name), when it was published and how many
-- customers it scored and rejected. is_latest_for_date marks the run published last for its scoring date (a rerun
-- with another model after a promotion leaves both partitions in predictions: take this one's model version).
-- Use it to find the model_version the other sql/analytics/ queries take as a parameter.
-- Parameters: none. Reads the batch-scoring summary rows (metric rows_scored / rows_rejected) of
--   monitoring_metrics; the publish step writes them only for a run that passed, with its predictions.
-- Table: monitoring_metrics (gold, Parquet; partition run_date 'YYYY-MM-DD' = the scoring date of a batch-scoring
--   run; created_at is ISO-8601 UTC, so its text order is its time order).
-- Dialect: the Trino/DuckDB common subset (CAST, conditional aggregates, window functions).
WITH runs AS (
  SELECT
    run_date AS scoring_date,
    model_version,
    run_id,
    MAX(created_at) AS published_at,
    CAST(MAX(CASE WHEN metric = 'rows_scored' THEN value END) AS BIGINT) AS rows_scored,
    CAST(MAX(CASE WHEN metric = 'rows_rejected' THEN value END) AS BIGINT) AS rows_rejected
  FROM monitoring_metrics
  WHERE pipeline = 'batch-scoring'
    AND metric IN ('rows_scored', 'rows_rejected')
  GROUP BY run_date, model_version, run_id
)
SELECT
  scoring_date,
  model_version,
  run_id,
  published_at,
  rows_scored,
  rows_rejected,
  ROW_NUMBER() OVER (PARTITION BY scoring_date ORDER BY published_at DESC, run_id DESC) = 1 AS is_latest_for_date
FROM runs
ORDER BY scoring_date DESC, published_at DESC, run_id DESC
