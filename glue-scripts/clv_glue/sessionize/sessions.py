"""Sessionization of valid clickstream events (pure DataFrame transform).

Rule (docs/glue-jobs.md): events are grouped per anonymous_id (the device/browser id every event
carries) and ordered by (event_ts, event_id). A new session starts at the first event, and at every
event that comes more than `gap_seconds` (default 30 min) after the previous event of the same
anonymous_id - strictly more: a gap of exactly 30:00 continues the session, 30:00.000001 starts a
new one. The client's session_id plays no part: a client that keeps its session_id across a long
pause still gets two sessions. Within a session, anonymous events before a login belong to the
logged-in customer (customer_id = the session's non-null customer_id); if a different customer_id
appears on the same device within the gap (a shared device), a new session starts at that event.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812

DEFAULT_GAP_SECONDS = 30 * 60
EVENT_COUNTS = (
    ("n_page_views", "page_view"),
    ("n_product_views", "product_view"),
    ("n_searches", "search"),
    ("n_add_to_cart", "add_to_cart"),
    ("n_checkouts", "checkout"),
    ("n_purchases", "purchase"),
)
SESSION_COLUMNS = (
    "session_id",
    "customer_id",
    "anonymous_id",
    "session_start",
    "session_end",
    "duration_s",
    "n_events",
    *[name for name, _ in EVENT_COUNTS],
    "device",
    "country",
    "client_session_id",
)


def sessionize(events: DataFrame, *, gap_seconds: int = DEFAULT_GAP_SECONDS) -> DataFrame:
    """`events` columns: event_id, event_type, event_ts (timestamp), session_id, customer_id (nullable),
    anonymous_id, device, country, optionally delivery_dt; one row per event (deduplicated). Returns one
    row per session with SESSION_COLUMNS, session_id = first 32 hex chars of sha256(anonymous_id | first
    event_id), and, when the events carry delivery_dt, first_delivery_dt: the delivery day of the
    session's first event (the job uses it to give sessions of undelivered days an owner)."""
    if gap_seconds <= 0:
        raise ValueError(f"session gap must be positive seconds, got {gap_seconds}")
    order = ("event_ts", "event_id")
    by_device = Window.partitionBy("anonymous_id").orderBy(*order)
    micros = F.unix_micros("event_ts")
    previous = F.lag(micros).over(by_device)
    starts_after_gap = previous.isNull() | ((micros - previous) > F.lit(gap_seconds * 1_000_000))
    running = Window.unboundedPreceding
    df = events.withColumn("_gap_start", starts_after_gap.cast("int")).withColumn(
        "_gap_idx", F.sum("_gap_start").over(by_device.rowsBetween(running, Window.currentRow))
    )
    by_gap = Window.partitionBy("anonymous_id", "_gap_idx").orderBy(*order)
    last_customer = F.last("customer_id", ignorenulls=True).over(by_gap.rowsBetween(running, -1))
    switch = (
        F.col("customer_id").isNotNull() & last_customer.isNotNull() & (F.col("customer_id") != last_customer)
    )
    df = df.withColumn("_switch", switch.cast("int")).withColumn(
        "_sub_idx", F.sum("_switch").over(by_gap.rowsBetween(running, Window.currentRow))
    )
    first = F.struct(*order)
    sessions = df.groupBy("anonymous_id", "_gap_idx", "_sub_idx").agg(
        F.min("event_ts").alias("session_start"),
        F.max("event_ts").alias("session_end"),
        F.count(F.lit(1)).cast("int").alias("n_events"),
        *[F.sum((F.col("event_type") == t).cast("int")).cast("int").alias(name) for name, t in EVENT_COUNTS],
        F.max("customer_id").alias("customer_id"),
        F.min_by("device", first).alias("device"),
        F.min_by("country", first).alias("country"),
        F.min_by("session_id", first).alias("client_session_id"),
        F.min_by("event_id", first).alias("_first_event_id"),
        *(
            [F.min_by("delivery_dt", first).alias("first_delivery_dt")]
            if "delivery_dt" in events.columns
            else []
        ),
    )
    return sessions.select(
        F.substring(F.sha2(F.concat_ws("|", "anonymous_id", "_first_event_id"), 256), 1, 32).alias(
            "session_id"
        ),
        "customer_id",
        "anonymous_id",
        "session_start",
        "session_end",
        ((F.unix_micros("session_end") - F.unix_micros("session_start")) / F.lit(1_000_000.0)).alias(
            "duration_s"
        ),
        "n_events",
        *[name for name, _ in EVENT_COUNTS],
        "device",
        "country",
        "client_session_id",
        *(["first_delivery_dt"] if "delivery_dt" in events.columns else []),
    )
