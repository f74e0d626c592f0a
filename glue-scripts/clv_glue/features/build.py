"""Point-in-time customer features (and labels) for one cutoff date, from the silver tables.

Pure transformation: DataFrames in, one DataFrame out, no I/O and no Spark action except the single
aggregate that infers `observed_until` when labels are asked for without it. Definitions: docs/features.md.

Time rules (all instants UTC, compared as epoch microseconds so the session time zone cannot shift them):
- features see only rows with invoice_ts < cutoff 00:00 (sessions: session_end < cutoff 00:00);
- customer attributes come from the latest CRM extract dated on or before the cutoff (silver customers
  dt=<extract date>; an extract dated D holds the CRM's state at D 00:00 UTC), never a later one;
- labels see only rows with cutoff 00:00 <= invoice_ts < cutoff + horizon;
- days are UTC calendar days, counted as whole days since the epoch.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812

from clv_glue.features import contract as C  # noqa: N812

US_PER_DAY = 86_400 * 1_000_000
EPOCH = dt.date(1970, 1, 1)
UNKNOWN = "unknown"

TRANSACTION_COLUMNS = (
    "invoice_id",
    "customer_id",
    "invoice_ts",
    "sku",
    "quantity",
    "amount",
    "is_cancellation",
    "is_return",
    "is_gift_card",
    "is_non_product",
    "country",
)
CUSTOMER_COLUMNS = ("customer_id", "country", "acquisition_channel", "loyalty_status")
EXTRACT_DATE_COLUMN = "dt"  # silver customers partition: the CRM extract's date
SESSION_COLUMNS = (
    "customer_id",
    "session_start",
    "session_end",
    "duration_s",
    "n_product_views",
    "n_add_to_cart",
    "n_purchases",
)

BEHAVIOUR_WINDOW_DAYS = 90
TREND_WINDOW_DAYS = 90


class LabelWindowNotObservedError(ValueError):
    """Labels were asked for a cutoff whose label window is not fully observed yet."""


def _require_columns(df: DataFrame, required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"build_features: {what} is missing column(s) {missing}; it has {sorted(df.columns)}"
        )


def day_index(d: dt.date) -> int:
    """Whole UTC days since 1970-01-01."""
    return (d - EPOCH).days


def event_time_for(cutoff: dt.date) -> str:
    """Feature Store event time of a snapshot: the cutoff instant, ISO-8601 UTC."""
    return f"{cutoff.isoformat()}T00:00:00Z"


def snapshot_id_for(
    cutoff: dt.date,
    *,
    with_labels: bool,
    revenue_horizon_days: int = C.REVENUE_HORIZON_DAYS,
    churn_horizon_days: int = C.CHURN_HORIZON_DAYS,
) -> str:
    """Deterministic snapshot id: the same cutoff, label settings and contract give the same id."""
    labels = f"l{revenue_horizon_days}-{churn_horizon_days}" if with_labels else "nolabels"
    return f"{cutoff:%Y%m%d}-{labels}-{C.SCHEMA_HASH[:12]}"


def _flag(name: str) -> Column:
    return F.coalesce(F.col(name).cast("boolean"), F.lit(False))


def _prepare_transactions(transactions: DataFrame) -> DataFrame:
    """Product lines of known customers, classified; adds ts_us, day, is_purchase, is_ret, value."""
    _require_columns(transactions, TRANSACTION_COLUMNS, "transactions")
    ts_us = F.unix_micros(F.col("invoice_ts").cast("timestamp"))
    quantity = F.col("quantity").cast("long")
    is_cancel = _flag("is_cancellation")
    is_purchase = ~is_cancel & F.coalesce(quantity > 0, F.lit(False))
    return (
        transactions.where(F.col("customer_id").isNotNull() & (F.trim(F.col("customer_id")) != ""))
        .where(F.col("invoice_ts").isNotNull() & ~_flag("is_non_product"))
        .select(
            F.col("customer_id").cast("string").alias("customer_id"),
            F.col("invoice_id").cast("string").alias("invoice_id"),
            F.col("sku").cast("string").alias("sku"),
            quantity.alias("quantity"),
            F.coalesce(F.col("amount").cast("double"), F.lit(0.0)).alias("amount"),
            _flag("is_gift_card").alias("is_gift_card"),
            F.col("country").cast("string").alias("tx_country"),
            ts_us.alias("ts_us"),
            F.floor(ts_us / F.lit(US_PER_DAY)).cast("long").alias("day"),
            is_purchase.alias("is_purchase"),
            (~is_purchase & (is_cancel | _flag("is_return") | F.coalesce(quantity < 0, F.lit(False)))).alias(
                "is_ret"
            ),
        )
    )


def _history_features(hist: DataFrame, cutoff_day: int) -> DataFrame:
    """RFM-T, window and purchase-pattern aggregates from product lines strictly before the cutoff."""
    p = F.col("is_purchase")
    r = F.col("is_ret")
    amount = F.col("amount")
    ret_value = F.abs(amount)
    day = F.col("day")

    def sum_if(cond: Column, value: Column, spark_type: str = "double") -> Column:
        return F.coalesce(F.sum(F.when(cond, value)), F.lit(0)).cast(spark_type)

    def count_distinct_if(cond: Column, value: Column) -> Column:
        # The number of distinct non-null values, as countDistinct counts them, but as the size of a set:
        # Spark plans each countDistinct over a different expression with an Expand that copies every row
        # once per such expression (17 here), then aggregates twice; sets need one hash aggregate.
        return F.size(F.collect_set(F.when(cond, value))).cast("long")

    aggs: list[Column] = [
        F.min(F.when(p, day)).alias("first_day"),
        F.max(F.when(p, day)).alias("last_day"),
        count_distinct_if(p, day).alias("frequency_days"),
        F.array_sort(F.collect_set(F.when(p, day))).alias("purchase_days"),
        sum_if(p, amount).alias("gross_spend"),
        sum_if(r, ret_value).alias("returns_value_all"),
        sum_if(p & F.col("is_gift_card"), amount).alias("gift_spend"),
        sum_if(p, F.col("quantity"), "long").alias("units"),
        count_distinct_if(p, F.col("invoice_id")).alias("purchase_invoices"),
        F.max(F.when(p, F.struct(F.col("ts_us"), F.col("tx_country"))))
        .getField("tx_country")
        .alias("last_country"),
        sum_if(p & (day >= cutoff_day - TREND_WINDOW_DAYS), amount).alias("trend_recent"),
        sum_if(
            p & (day >= cutoff_day - 2 * TREND_WINDOW_DAYS) & (day < cutoff_day - TREND_WINDOW_DAYS), amount
        ).alias("trend_prior"),
    ]
    for w in C.WINDOWS_DAYS:
        in_w = day >= cutoff_day - w
        aggs += [
            count_distinct_if(p & in_w, F.col("invoice_id")).alias(f"invoices_{w}d"),
            sum_if(p & in_w, amount).alias(f"spend_{w}d"),
            sum_if(r & in_w, ret_value).alias(f"returns_value_{w}d"),
            count_distinct_if(r & in_w, F.col("invoice_id")).alias(f"returns_count_{w}d"),
            count_distinct_if(p & in_w, F.col("sku")).alias(f"distinct_products_{w}d"),
        ]
    agg = hist.groupBy("customer_id").agg(*aggs).where(F.col("frequency_days") >= 1)

    n_gaps = F.greatest(F.size("purchase_days") - 1, F.lit(0))
    gaps = F.zip_with(
        F.slice("purchase_days", 2, n_gaps),
        F.slice("purchase_days", 1, n_gaps),
        lambda a, b: (a - b).cast("double"),
    )
    btyd = F.col("last_day") - F.col("first_day")
    mean_gap = F.when(n_gaps >= 1, btyd / n_gaps)
    var_gap = F.when(
        n_gaps >= 2,
        F.aggregate(gaps, F.lit(0.0), lambda acc, g: acc + (g - btyd / n_gaps) * (g - btyd / n_gaps))
        / (n_gaps - 1),
    )
    net = F.col("gross_spend") - F.col("returns_value_all")
    recent, prior = F.col("trend_recent"), F.col("trend_prior")
    return agg.select(
        "customer_id",
        (F.lit(cutoff_day) - F.col("last_day")).alias("recency_days"),
        btyd.alias("btyd_recency_days"),
        F.col("frequency_days").cast("long").alias("frequency_days"),
        (F.col("frequency_days") - 1).cast("long").alias("repeat_frequency"),
        net.alias("monetary_total_net"),
        (net / F.col("frequency_days")).alias("monetary_avg_day"),
        (F.lit(cutoff_day) - F.col("first_day")).alias("tenure_days"),
        *[
            F.col(f"{name}_{w}d")
            for w in C.WINDOWS_DAYS
            for name in ("invoices", "spend", "returns_value", "returns_count", "distinct_products")
        ],
        mean_gap.alias("interpurchase_mean_days"),
        var_gap.alias("interpurchase_var_days"),
        F.when(recent + prior > 0, (recent - prior) / (recent + prior))
        .otherwise(F.lit(0.0))
        .alias("spend_trend_90d"),
        F.when(F.col("gross_spend") > 0, F.col("gift_spend") / F.col("gross_spend")).alias("gift_card_share"),
        F.when(F.col("gross_spend") > 0, F.col("returns_value_all") / F.col("gross_spend")).alias(
            "return_rate"
        ),
        (F.col("units") / F.col("purchase_invoices")).alias("avg_basket_items"),
        "last_country",
    )


def _session_features(sessions: DataFrame, cutoff_us: int) -> DataFrame:
    _require_columns(sessions, SESSION_COLUMNS, "sessions")
    start_us = F.unix_micros(F.col("session_start").cast("timestamp"))
    end_us = F.coalesce(F.unix_micros(F.col("session_end").cast("timestamp")), start_us)
    s = sessions.where(F.col("customer_id").isNotNull() & start_us.isNotNull() & (end_us < cutoff_us)).select(
        F.col("customer_id").cast("string").alias("customer_id"),
        start_us.alias("start_us"),
        F.col("duration_s").cast("double").alias("duration_s"),
        F.coalesce(F.col("n_product_views").cast("long"), F.lit(0)).alias("views"),
        F.coalesce(F.col("n_add_to_cart").cast("long"), F.lit(0)).alias("carts"),
        F.coalesce(F.col("n_purchases").cast("long"), F.lit(0)).alias("purchases"),
    )
    in_w = F.col("start_us") >= cutoff_us - BEHAVIOUR_WINDOW_DAYS * US_PER_DAY
    with_cart = in_w & (F.col("carts") > 0)
    agg = s.groupBy("customer_id").agg(
        F.count(F.when(in_w, 1)).alias("sessions_90d"),
        F.avg(F.when(in_w, F.col("duration_s"))).alias("avg_session_duration_s_90d"),
        F.coalesce(F.sum(F.when(in_w, F.col("views"))), F.lit(0)).alias("product_views_90d"),
        F.coalesce(F.sum(F.when(in_w, F.col("carts"))), F.lit(0)).alias("add_to_cart_90d"),
        F.count(F.when(with_cart, 1)).alias("cart_sessions"),
        F.count(F.when(with_cart & (F.col("purchases") > 0), 1)).alias("cart_purchase_sessions"),
        F.max("start_us").alias("last_start_us"),
    )
    return agg.select(
        "customer_id",
        "sessions_90d",
        "avg_session_duration_s_90d",
        "product_views_90d",
        "add_to_cart_90d",
        F.when(F.col("cart_sessions") > 0, F.col("cart_purchase_sessions") / F.col("cart_sessions")).alias(
            "cart_to_purchase_rate_90d"
        ),
        (F.lit(cutoff_us // US_PER_DAY) - F.floor(F.col("last_start_us") / F.lit(US_PER_DAY))).alias(
            "days_since_last_session"
        ),
    )


def extract_as_of(customers: DataFrame, cutoff: dt.date) -> DataFrame:
    """The rows of the latest CRM extract dated on or before `cutoff` (none when every extract is later).

    Each extract is a full snapshot of the CRM at 00:00 UTC of its date, so the latest one on or before
    the cutoff is what the CRM knew at the cutoff: a later extract (today's loyalty status, say) would
    leak the future into a past snapshot. Lazy: no Spark action."""
    _require_columns(customers, (*CUSTOMER_COLUMNS, EXTRACT_DATE_COLUMN), "customers")
    extract_date = F.col(EXTRACT_DATE_COLUMN).cast("date")
    known = customers.where(extract_date <= F.lit(cutoff))
    latest = known.agg(F.max(extract_date).alias("_clv_as_of"))
    return known.join(F.broadcast(latest), extract_date == F.col("_clv_as_of")).drop("_clv_as_of")


def extract_date_as_of(customers: DataFrame, cutoff: dt.date) -> dt.date | None:
    """The date of the extract that extract_as_of picks, for the snapshot record (one Spark action)."""
    row = extract_as_of(customers, cutoff).agg(F.max(F.col(EXTRACT_DATE_COLUMN).cast("date"))).first()
    return row[0] if row else None


def _customer_attributes(customers: DataFrame, cutoff: dt.date) -> DataFrame:
    def clean(name: str) -> Column:
        v = F.trim(F.col(name).cast("string"))
        return F.when(v != "", v)

    return (
        extract_as_of(customers, cutoff)
        .where(F.col("customer_id").isNotNull())
        .select(
            F.col("customer_id").cast("string").alias("customer_id"),
            *[clean(c).alias(f"crm_{c}") for c in CUSTOMER_COLUMNS[1:]],
        )
        .groupBy("customer_id")
        .agg(*[F.max(f"crm_{c}").alias(f"crm_{c}") for c in CUSTOMER_COLUMNS[1:]])
    )


def _labels(
    future: DataFrame, cutoff_day: int, revenue_horizon_days: int, churn_horizon_days: int
) -> DataFrame:
    p, r, day = F.col("is_purchase"), F.col("is_ret"), F.col("day")
    in_rev = day < cutoff_day + revenue_horizon_days
    in_churn = day < cutoff_day + churn_horizon_days
    agg = future.groupBy("customer_id").agg(
        F.sum(F.when(p & in_rev, F.col("amount")).when(r & in_rev, -F.abs(F.col("amount")))).alias(
            "net_future"
        ),
        F.count(F.when(p & in_churn, 1)).alias("purchases_churn_window"),
    )
    return agg.select("customer_id", "net_future", "purchases_churn_window")


def infer_observed_until(transactions: DataFrame) -> dt.date | None:
    """The day after the latest invoice_ts (exclusive end of observed data); None when there are no rows.

    This is the one Spark action build_features may run (only with labels and no observed_until).
    """
    row = transactions.agg(F.max(F.unix_micros(F.col("invoice_ts").cast("timestamp"))).alias("m")).collect()[
        0
    ]
    if row["m"] is None:
        return None
    return EPOCH + dt.timedelta(days=row["m"] // US_PER_DAY + 1)


def build_features(
    transactions: DataFrame,
    customers: DataFrame | None,
    sessions: DataFrame | None,
    cutoff: dt.date,
    *,
    with_labels: bool,
    revenue_horizon_days: int = 365,
    churn_horizon_days: int = 183,
    observed_until: dt.date | None = None,
) -> DataFrame:
    """One row per customer with a product purchase before `cutoff`; columns as in the feature contract.

    Labels (label_revenue_12m, label_churn_6m) are filled only with `with_labels`; they are null otherwise.
    `observed_until` is the exclusive end of the observed data (data is complete for
    invoice_ts < observed_until 00:00 UTC); when None it is inferred as the day after the latest invoice_ts.
    With labels, the label windows must be fully observed (observed_until >= cutoff + max horizon), otherwise
    LabelWindowNotObservedError is raised:
    a training set with truncated labels would silently bias revenue down and churn up.
    """
    if isinstance(cutoff, dt.datetime) or not isinstance(cutoff, dt.date):
        raise TypeError(
            f"build_features: cutoff must be a datetime.date, got {type(cutoff).__name__}: {cutoff!r}"
        )
    if revenue_horizon_days <= 0 or churn_horizon_days <= 0:
        raise ValueError(
            "build_features: horizons must be positive "
            f"(revenue={revenue_horizon_days}, churn={churn_horizon_days})"
        )
    cutoff_day = day_index(cutoff)
    cutoff_us = cutoff_day * US_PER_DAY
    tx = _prepare_transactions(transactions)

    out = _history_features(tx.where(F.col("ts_us") < cutoff_us), cutoff_day)

    if customers is not None:
        out = out.join(_customer_attributes(customers, cutoff), "customer_id", "left")
    else:
        out = out.select("*", *[F.lit(None).cast("string").alias(f"crm_{c}") for c in CUSTOMER_COLUMNS[1:]])

    behaviour = [
        "sessions_90d",
        "avg_session_duration_s_90d",
        "product_views_90d",
        "add_to_cart_90d",
        "cart_to_purchase_rate_90d",
        "days_since_last_session",
    ]
    if sessions is not None:
        out = out.join(_session_features(sessions, cutoff_us), "customer_id", "left")
        for c in ("sessions_90d", "product_views_90d", "add_to_cart_90d"):
            out = out.withColumn(c, F.coalesce(F.col(c), F.lit(0)))
    else:
        out = out.select("*", *[F.lit(None).alias(c) for c in behaviour])

    if with_labels:
        horizon = max(revenue_horizon_days, churn_horizon_days)
        needed = cutoff + dt.timedelta(days=horizon)
        seen = observed_until if observed_until is not None else infer_observed_until(transactions)
        if seen is None or seen < needed:
            raise LabelWindowNotObservedError(
                f"build_features: labels for cutoff {cutoff} need data observed until {needed} "
                f"(cutoff + {horizon} days) but it is observed only until {seen}"
                f"{' (inferred from the latest invoice_ts)' if observed_until is None else ''}; "
                "use an earlier cutoff or build without labels"
            )
        future = tx.where(
            (F.col("ts_us") >= cutoff_us) & (F.col("ts_us") < (cutoff_day + horizon) * US_PER_DAY)
        )
        out = out.join(
            _labels(future, cutoff_day, revenue_horizon_days, churn_horizon_days), "customer_id", "left"
        )
        out = out.withColumn(
            "label_revenue_12m", F.greatest(F.coalesce(F.col("net_future"), F.lit(0.0)), F.lit(0.0))
        ).withColumn(
            "label_churn_6m",
            F.when(F.coalesce(F.col("purchases_churn_window"), F.lit(0)) > 0, 0).otherwise(1),
        )
    else:
        out = out.withColumn("label_revenue_12m", F.lit(None)).withColumn("label_churn_6m", F.lit(None))

    def attr(name: str, fallback: Column | None = None) -> Column:
        parts = [F.col(f"crm_{name}")] + ([fallback] if fallback is not None else []) + [F.lit(UNKNOWN)]
        return F.coalesce(*parts)

    last_country = F.when(F.trim(F.col("last_country")) != "", F.trim(F.col("last_country")))
    out = (
        out.withColumn("event_time", F.lit(event_time_for(cutoff)))
        .withColumn("cutoff_date", F.lit(cutoff.isoformat()))
        .withColumn(
            "snapshot_id",
            F.lit(
                snapshot_id_for(
                    cutoff,
                    with_labels=with_labels,
                    revenue_horizon_days=revenue_horizon_days,
                    churn_horizon_days=churn_horizon_days,
                )
            ),
        )
        .withColumn("country", attr("country", last_country))
        .withColumn("acquisition_channel", attr("acquisition_channel"))
        .withColumn("loyalty_status", attr("loyalty_status"))
    )
    return out.select(*[F.col(f.name).cast(f.spark_type).alias(f.name) for f in C.FEATURES])
