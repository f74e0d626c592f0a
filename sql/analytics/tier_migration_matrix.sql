-- Tier migration matrix between two scoring dates A (from) and B (to): the number of customers per
-- (from_tier, to_tier) cell, in long format, every cell of the matrix present (0 when empty). Customers scored at
-- B only come from the row 'New'; customers scored at A only go to the column 'Gone' (the cell New -> Gone does
-- not exist). share_of_from_tier is the cell's share of its row (the customers of from_tier at A, or the new ones).
-- Parameters: four positional execution parameters (question-mark placeholders), in order: date A, the model
--   version that scored A, date B, the model version that scored B. Dates are 'YYYY-MM-DD', cast to DATE, so a
--   value that is not a date fails the query; model versions are quoted literals ('clv-0123456789ab'): a scoring
--   date may hold more than one model version (a rerun after a promotion adds a partition beside the first), so
--   the query names the one to read (sql/analytics/scoring_runs.sql lists the model version of each scoring
--   date). The two versions may differ (a promotion between A and B). Athena: ExecutionParameters
--   ["'2024-01-07'", "'clv-0123456789ab'", "'2024-01-14'", "'clv-0123456789ab'"] (SQL literals, hence the quotes).
--   A may be later than B (the matrix then reads backwards in time); A = B with one version gives the diagonal.
-- Tiers: High, Medium, Low; any other tier value found (a NULL tier reads 'unknown') gets its own row and column
--   after them, so no customer goes uncounted. share_of_from_tier is NULL for a row without customers.
-- Table: predictions (gold, Parquet; partitions scoring_date, model_version).
-- Dialect: the Trino/DuckDB common subset (CAST, FULL OUTER JOIN, VALUES, window functions).
WITH a AS (
  SELECT customer_id, tier
  FROM predictions
  WHERE scoring_date = CAST(CAST(? AS DATE) AS VARCHAR)
    AND model_version = ?
),
b AS (
  SELECT customer_id, tier
  FROM predictions
  WHERE scoring_date = CAST(CAST(? AS DATE) AS VARCHAR)
    AND model_version = ?
),
transitions AS (
  SELECT
    CASE WHEN a.customer_id IS NULL THEN 'New' ELSE COALESCE(a.tier, 'unknown') END AS from_tier,
    CASE WHEN b.customer_id IS NULL THEN 'Gone' ELSE COALESCE(b.tier, 'unknown') END AS to_tier
  FROM a
  FULL OUTER JOIN b ON b.customer_id = a.customer_id
),
counted AS (
  SELECT from_tier, to_tier, COUNT(*) AS customers
  FROM transitions
  GROUP BY from_tier, to_tier
),
tiers (tier, tier_order) AS (
  VALUES ('High', 1), ('Medium', 2), ('Low', 3)
),
-- the rows and columns of the matrix: the known tiers, any other tier value observed (after them), New / Gone
from_tiers (from_tier, from_order) AS (
  SELECT tier, tier_order FROM tiers
  UNION
  SELECT from_tier, 4 FROM counted WHERE from_tier NOT IN ('High', 'Medium', 'Low', 'New')
  UNION
  SELECT 'New', 5
),
to_tiers (to_tier, to_order) AS (
  SELECT tier, tier_order FROM tiers
  UNION
  SELECT to_tier, 4 FROM counted WHERE to_tier NOT IN ('High', 'Medium', 'Low', 'Gone')
  UNION
  SELECT 'Gone', 5
),
cells AS (
  SELECT f.from_tier, f.from_order, t.to_tier, t.to_order
  FROM from_tiers AS f
  CROSS JOIN to_tiers AS t
  WHERE NOT (f.from_tier = 'New' AND t.to_tier = 'Gone')
)
SELECT
  cells.from_tier,
  cells.to_tier,
  COALESCE(counted.customers, 0) AS customers,
  CAST(COALESCE(counted.customers, 0) AS DOUBLE)
    / NULLIF(SUM(COALESCE(counted.customers, 0)) OVER (PARTITION BY cells.from_tier), 0) AS share_of_from_tier
FROM cells
LEFT JOIN counted ON counted.from_tier = cells.from_tier AND counted.to_tier = cells.to_tier
ORDER BY cells.from_order, cells.from_tier, cells.to_order, cells.to_tier
