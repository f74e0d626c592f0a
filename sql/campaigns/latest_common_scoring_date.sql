-- Campaign experiment: the latest scoring date at which both the champion and the challenger have predictions
-- (the campaign's default scoring_date). One row, one column scoring_date; NULL when the two models never scored the
-- same date (the state machine then fails with NoCommonScoringDate).
-- Parameters: 1) the champion's model version, 2) the challenger's model version (quoted literals).
-- Tables: predictions (gold, partitions scoring_date/model_version registered by batch scoring and shadow).
-- Dialect: the Trino/DuckDB common subset.
SELECT MAX(scoring_date) AS scoring_date
FROM (
  SELECT scoring_date
  FROM predictions
  WHERE model_version IN (?, ?)
  GROUP BY scoring_date
  HAVING COUNT(DISTINCT model_version) = 2
) common
