-- Training set for one or more cutoffs (stacked snapshots): for each listed cutoff, the latest labelled, non-deleted
-- feature record per customer_id (point in time). Records for a cutoff are those with event_time = the cutoff
-- instant; of a customer's labelled records (and delete markers) for that cutoff the latest by api_invocation_time,
-- then write_time, wins; a customer whose latest such record is a delete marker (is_deleted) is left out of that
-- cutoff. Labelled = label_revenue_12m and label_churn_6m both set, so a later unlabelled (scoring) snapshot of the
-- same cutoff never hides the labels. A customer present at several cutoffs gives one row per cutoff (each row's
-- features are as of its cutoff_date and its labels come after it: the temporal rule holds per row).
-- Parameters: one positional execution parameter (a question-mark placeholder), the list of cutoff dates as one
--   string: the JSON array text that States.JsonToString writes ('["2023-01-01","2023-04-02"]') or a
--   plain comma-separated list ('2023-01-01,2023-04-02'); brackets, double quotes and spaces around items are
--   ignored. One cutoff is a list of one.
--   Athena: StartQueryExecution ExecutionParameters ["'[\"2023-01-01\",\"2023-04-02\"]'"] (values are SQL literals,
--   hence the single quotes); DuckDB (local runtime): the same literal (local/athena/compat.ts), or bind the string.
--   Athena accepts the placeholder only in a WHERE clause, hence the IN subquery over UNNEST there; every item is
--   cast to DATE, so an item that is not a date fails the query.
-- Table: customer_features_offline, the Glue table over the feature group's offline store (database from the
--   query execution context); columns = contract features + write_time, api_invocation_time, is_deleted;
--   partition keys year, month, day, hour as strings (event time, hourly). Locally: a view over the offline-store
--   Parquet with hive partitioning and partition values kept as VARCHAR.
-- Dialect: the Trino/DuckDB common subset (CAST, ||, ROW_NUMBER, split, replace, trim, UNNEST ... AS t(c));
--   no date_add/date_diff, no lambdas (DuckDB has no transform()).
-- Columns: listed explicitly in contract order (contracts/feature-contract.json); test/sql/features.test.ts fails
--   when they drift from the contract.
WITH candidates AS (
  SELECT
    f.*,
    ROW_NUMBER() OVER (
      PARTITION BY f.customer_id, f.event_time
      ORDER BY f.api_invocation_time DESC, f.write_time DESC, f.is_deleted DESC
    ) AS rn
  FROM customer_features_offline AS f
  WHERE f.event_time IN (
      SELECT CAST(CAST(trim(c.cutoff) AS DATE) AS VARCHAR) || 'T00:00:00Z'
      FROM UNNEST(split(replace(replace(replace(?, '"', ''), '[', ''), ']', ''), ',')) AS c (cutoff)
    )
    AND (f.is_deleted OR (f.label_revenue_12m IS NOT NULL AND f.label_churn_6m IS NOT NULL))
)
SELECT
  customer_id,
  event_time,
  cutoff_date,
  snapshot_id,
  recency_days,
  btyd_recency_days,
  frequency_days,
  repeat_frequency,
  monetary_total_net,
  monetary_avg_day,
  tenure_days,
  invoices_30d,
  spend_30d,
  returns_value_30d,
  returns_count_30d,
  distinct_products_30d,
  invoices_90d,
  spend_90d,
  returns_value_90d,
  returns_count_90d,
  distinct_products_90d,
  invoices_365d,
  spend_365d,
  returns_value_365d,
  returns_count_365d,
  distinct_products_365d,
  interpurchase_mean_days,
  interpurchase_var_days,
  spend_trend_90d,
  gift_card_share,
  return_rate,
  avg_basket_items,
  sessions_90d,
  avg_session_duration_s_90d,
  product_views_90d,
  add_to_cart_90d,
  cart_to_purchase_rate_90d,
  days_since_last_session,
  country,
  acquisition_channel,
  loyalty_status,
  label_revenue_12m,
  label_churn_6m
FROM candidates
WHERE rn = 1
  AND NOT is_deleted
ORDER BY event_time, customer_id
