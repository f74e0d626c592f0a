-- Quality aggregates of one silver transactions partition and of the day before it, in long format:
-- one row per (dt, metric, column_name, category) with a numeric value. Read by lambdas/quality-gate, which
-- treats dt = the run date as the current partition and dt = the run date - 1 day as the previous one.
--   metric:   row_count | null_count | min | max | mean | distinct_count | category_count | column_type
--   category: the category value (category_count) or the SQL type name (column_type); '' otherwise
-- Parameters (Athena allows ? only in WHERE): ?1 and ?2 are both the run date as a string literal ('2024-03-01').
-- Athena (Trino) and DuckDB both run this text unchanged. A column missing from the table fails the query
-- itself, which fails the pipeline (schema check).
WITH t AS (
  SELECT *
  FROM silver_transactions
  WHERE dt IN (?, CAST(CAST(CAST(? AS date) - INTERVAL '1' DAY AS date) AS varchar))
)
SELECT dt, 'row_count' AS metric, '' AS column_name, '' AS category, CAST(COUNT(*) AS double) AS value
FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'invoice_id', '', CAST(SUM(CASE WHEN invoice_id IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'customer_id', '', CAST(SUM(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'invoice_ts', '', CAST(SUM(CASE WHEN invoice_ts IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'sku', '', CAST(SUM(CASE WHEN sku IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'quantity', '', CAST(SUM(CASE WHEN quantity IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'unit_price', '', CAST(SUM(CASE WHEN unit_price IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'amount', '', CAST(SUM(CASE WHEN amount IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'currency_original', '', CAST(SUM(CASE WHEN currency_original IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'country', '', CAST(SUM(CASE WHEN country IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'null_count', 'channel', '', CAST(SUM(CASE WHEN channel IS NULL THEN 1 ELSE 0 END) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'min', 'quantity', '', CAST(MIN(quantity) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'max', 'quantity', '', CAST(MAX(quantity) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'mean', 'quantity', '', CAST(AVG(quantity) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'min', 'unit_price', '', CAST(MIN(unit_price) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'max', 'unit_price', '', CAST(MAX(unit_price) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'mean', 'unit_price', '', CAST(AVG(unit_price) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'min', 'amount', '', CAST(MIN(amount) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'max', 'amount', '', CAST(MAX(amount) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'mean', 'amount', '', CAST(AVG(amount) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'distinct_count', 'customer_id', '', CAST(COUNT(DISTINCT customer_id) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'distinct_count', 'invoice_id', '', CAST(COUNT(DISTINCT invoice_id) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'distinct_count', 'sku', '', CAST(COUNT(DISTINCT sku) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'category_count', 'currency_original', COALESCE(CAST(currency_original AS varchar), '(null)'), CAST(COUNT(*) AS double)
FROM t GROUP BY dt, COALESCE(CAST(currency_original AS varchar), '(null)')
UNION ALL
SELECT dt, 'category_count', 'country', COALESCE(CAST(country AS varchar), '(null)'), CAST(COUNT(*) AS double)
FROM t GROUP BY dt, COALESCE(CAST(country AS varchar), '(null)')
UNION ALL
SELECT dt, 'category_count', 'channel', COALESCE(CAST(channel AS varchar), '(null)'), CAST(COUNT(*) AS double)
FROM t GROUP BY dt, COALESCE(CAST(channel AS varchar), '(null)')
UNION ALL
SELECT dt, 'column_type', 'invoice_id', typeof(MIN(invoice_id)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'customer_id', typeof(MIN(customer_id)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'invoice_ts', typeof(MIN(invoice_ts)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'sku', typeof(MIN(sku)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'quantity', typeof(MIN(quantity)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'unit_price', typeof(MIN(unit_price)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'amount', typeof(MIN(amount)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'amount_raw', typeof(MIN(amount_raw)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'currency_original', typeof(MIN(currency_original)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'is_cancellation', typeof(MIN(is_cancellation)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'is_return', typeof(MIN(is_return)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'is_gift_card', typeof(MIN(is_gift_card)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'is_non_product', typeof(MIN(is_non_product)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'is_outlier_capped', typeof(MIN(is_outlier_capped)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'country', typeof(MIN(country)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'channel', typeof(MIN(channel)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'email_hash', typeof(MIN(email_hash)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
UNION ALL
SELECT dt, 'column_type', 'name_hash', typeof(MIN(name_hash)), CAST(COUNT(*) AS double) FROM t GROUP BY dt
ORDER BY 1, 2, 3, 4
