"""I/O around sessionization: what glue-scripts/jobs/sessionize_clickstream.py calls.

For run date D:
  read   <landing>/clickstream/dt=D/      the day's delivery (required); bad lines quarantined
         <landing>/clickstream/dt=D-1/, dt=D+1/   when present; context only, so sessions that
                                          cross midnight are cut right (their bad lines are
                                          left to their own runs)
  write  <silver>/sessions/dt=D/          sessions starting on D (dynamic partition overwrite)
         <quarantine>/clickstream/dt=D/   rejected lines of the D delivery
         <reports>/reconciliation/sessionize_clickstream/dt=D/<run_id>.json
Reconciliation (D delivery): landed lines = valid unique events + quarantined + duplicates_removed
(a duplicate repeats the event_id of an earlier valid event).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F  # noqa: N812

from clv_glue.common import fs
from clv_glue.common.contracts import load_reference_data
from clv_glue.common.paths import join_uri
from clv_glue.common.quality import check_balance, to_json
from clv_glue.ingest.landing import LandingError
from clv_glue.sessionize.events import parse_events
from clv_glue.sessionize.sessions import SESSION_COLUMNS, sessionize

RECONCILE_PARTS = ("valid_events", "quarantined_events", "duplicates_removed")


@dataclass(frozen=True)
class SessionizeOptions:
    date: dt.date
    landing_uri: str
    silver_uri: str
    quarantine_uri: str
    reports_uri: str
    run_id: str
    gap_minutes: float = 30
    contracts_dir: str | None = None

    def __post_init__(self) -> None:
        if self.gap_minutes <= 0:
            raise ValueError(f"--session-gap-minutes must be positive, got {self.gap_minutes}")
        if not self.run_id or "/" in self.run_id:
            raise ValueError(f"--run-id must be non-empty and without '/', got {self.run_id!r}")


def read_event_lines(spark: SparkSession, landing_uri: str, date: dt.date) -> tuple[DataFrame, list[str]]:
    """Raw lines of dt=D (required) and dt=D-1 / dt=D+1 (if present) with delivery_dt and source_file."""
    frames, days = [], []
    for offset in (-1, 0, 1):
        day = date + dt.timedelta(days=offset)
        uri = join_uri(landing_uri, "clickstream", f"dt={day.isoformat()}")
        if not fs.exists(spark, uri):
            if offset == 0:
                raise LandingError(f"no clickstream delivery: {uri} does not exist")
            continue
        days.append(day.isoformat())
        frames.append(
            spark.read.option("recursiveFileLookup", True)
            .text(uri)
            .select("value", F.lit(day).alias("delivery_dt"), F.input_file_name().alias("source_file"))
        )
    lines = frames[0]
    for frame in frames[1:]:
        lines = lines.unionByName(frame)
    return lines, days


def tag_duplicates(tagged: DataFrame) -> DataFrame:
    """`is_duplicate`: a valid event whose event_id came earlier (by delivery day, file, line)."""
    first_seen = Window.partitionBy("event_id", F.col("reason").isNull()).orderBy(
        "delivery_dt", "source_file", "value"
    )
    rank = F.row_number().over(first_seen)
    return tagged.withColumn("is_duplicate", F.col("reason").isNull() & (rank > 1))


def run_sessionize(spark: SparkSession, opts: SessionizeOptions) -> dict[str, Any]:
    ref = load_reference_data(opts.contracts_dir)
    lines, days = read_event_lines(spark, opts.landing_uri, opts.date)
    tagged = tag_duplicates(parse_events(lines, ref)).persist()
    try:
        return _run(spark, opts, tagged, days)
    finally:
        tagged.unpersist()


def _run(spark: SparkSession, opts: SessionizeOptions, tagged: DataFrame, days: list[str]) -> dict[str, Any]:
    today = F.col("delivery_dt") == F.lit(opts.date)
    counts = tagged.where(today).groupBy("reason", "is_duplicate").count().collect()
    by_reason: dict[str, int] = defaultdict(int)
    landed = valid = duplicates = 0
    for r in counts:
        landed += r["count"]
        if r["reason"] is not None:
            by_reason[r["reason"]] += r["count"]
        elif r["is_duplicate"]:
            duplicates += r["count"]
        else:
            valid += r["count"]
    events = tagged.where(F.col("reason").isNull() & ~F.col("is_duplicate")).select(
        "event_id",
        "event_type",
        F.col("event_ts_parsed").alias("event_ts"),
        "session_id",
        "customer_id",
        "anonymous_id",
        "device",
        "country",
    )
    sessions = (
        sessionize(events, gap_seconds=int(round(opts.gap_minutes * 60)))
        .where(F.to_date("session_start") == F.lit(opts.date))
        .select(*SESSION_COLUMNS, F.lit(opts.date).alias("dt"))
        .persist()
    )
    quarantine = tagged.where(today & F.col("reason").isNotNull()).select(
        F.lit("clickstream").alias("dataset"),
        "reason",
        "reasons",
        F.col("value").alias("raw_row"),
        F.lit(1).cast("long").alias("landed_copies"),
        "source_file",
        F.lit(opts.run_id).alias("ingest_run_id"),
        F.lit(opts.date).alias("dt"),
    )
    try:
        totals = sessions.agg(F.count(F.lit(1)).alias("n"), F.sum("n_events").alias("events")).first()
        record: dict[str, Any] = {
            "job": "sessionize_clickstream",
            "dataset": "clickstream",
            "date": opts.date.isoformat(),
            "run_id": opts.run_id,
            "landed_events": landed,
            "valid_events": valid,
            "quarantined_events": sum(by_reason.values()),
            "quarantined_by_reason": dict(sorted(by_reason.items())),
            "duplicates_removed": duplicates,
            "sessions": int(totals["n"]),
            "events_in_sessions": int(totals["events"] or 0),
            "session_gap_minutes": opts.gap_minutes,
            "deliveries_read": days,
            "landing_uri": join_uri(opts.landing_uri, "clickstream"),
            "silver_uri": join_uri(opts.silver_uri, "sessions"),
            "quarantine_uri": join_uri(opts.quarantine_uri, "clickstream"),
        }
        record["balanced"] = landed == valid + record["quarantined_events"] + duplicates
        target = join_uri(
            opts.reports_uri,
            "reconciliation",
            "sessionize_clickstream",
            f"dt={opts.date.isoformat()}",
            f"{opts.run_id}.json",
        )
        if not record["balanced"]:
            fs.write_text(spark, target, to_json({**record, "status": "failed"}))
            check_balance(record, total_key="landed_events", part_keys=RECONCILE_PARTS)
        _replace_day(spark, sessions, record["silver_uri"], opts.date, record["sessions"])
        _replace_day(spark, quarantine, record["quarantine_uri"], opts.date, record["quarantined_events"])
        record["status"] = "succeeded"
        fs.write_text(spark, target, to_json(record))
        record["report_uri"] = target
        return record
    finally:
        sessions.unpersist()


def _replace_day(spark: SparkSession, df: DataFrame, table_uri: str, date: dt.date, rows: int) -> None:
    if rows == 0:
        fs.delete(spark, join_uri(table_uri, f"dt={date.isoformat()}"))
        return
    df.write.mode("overwrite").option("partitionOverwriteMode", "dynamic").partitionBy("dt").parquet(
        table_uri
    )
