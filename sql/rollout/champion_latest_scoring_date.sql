-- Shadow run: the latest scoring date the champion scored as the production run (the batch-scoring summary rows of
-- monitoring_metrics, as sql/analytics/scoring_runs.sql), so the challenger scores the very scoring set the
-- champion's customers were last scored on and the campaign experiment finds both models at one date. One row;
-- scoring_date NULL when the champion has not scored yet (the shadow run then uses the challenger's test cutoff).
-- Parameters: 1) the champion's model version, quoted literal (e.g. 'clv-train-abc').
-- Table: monitoring_metrics (gold, Parquet; partition run_date = the scoring date of a batch-scoring run).
-- Dialect: the Trino/DuckDB common subset.
SELECT MAX(run_date) AS scoring_date
FROM monitoring_metrics
WHERE pipeline = 'batch-scoring'
  AND metric = 'rows_scored'
  AND model_version = ?
