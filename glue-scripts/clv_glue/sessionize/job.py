"""I/O around sessionization: what glue-scripts/jobs/sessionize_clickstream.py calls.

For run date D:
  read   <landing>/clickstream/dt=D/      the day's delivery (required); bad lines quarantined
         <landing>/clickstream/dt=D-1/, dt=D+1/   when present; context only, so sessions that
                                          cross midnight are cut right (their bad lines are
                                          left to their own runs)
  write  <silver>/sessions/dt=D/          sessions starting on D (dynamic partition overwrite)
         <quarantine>/clickstream/dt=D/   rejected lines of the D delivery
         <reports>/reconciliation/sessionize_clickstream/dt=D/<run_id>.json
With date_from (a backfill) every delivery in [date_from, D] is sessionized in one run: see
run_sessionize_range.
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
    date_from: dt.date | None = None

    def __post_init__(self) -> None:
        if self.date_from is not None and self.date_from > self.date:
            raise ValueError(f"--date-from {self.date_from} is after --date {self.date}")
        if self.gap_minutes <= 0:
            raise ValueError(f"--session-gap-minutes must be positive, got {self.gap_minutes}")
        if not self.run_id or "/" in self.run_id:
            raise ValueError(f"--run-id must be non-empty and without '/', got {self.run_id!r}")


def valid_events(tagged: DataFrame) -> DataFrame:
    """The events that passed every check and are not duplicates, in the columns sessionization reads."""
    return tagged.where(F.col("reason").isNull() & ~F.col("is_duplicate")).select(
        "event_id",
        "event_type",
        F.col("event_ts_parsed").alias("event_ts"),
        "session_id",
        "customer_id",
        "anonymous_id",
        "device",
        "country",
    )


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
    if opts.date_from is not None:
        return run_sessionize_range(spark, opts)
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
    events = valid_events(tagged)
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


# ------------------------------------------------------------------------------------------ backfill


def _report_uri(reports_uri: str, date: dt.date, run_id: str) -> str:
    return join_uri(
        reports_uri, "reconciliation", "sessionize_clickstream", f"dt={date.isoformat()}", f"{run_id}.json"
    )


def run_sessionize_range(spark: SparkSession, opts: SessionizeOptions) -> dict[str, Any]:
    """Sessionize every clickstream delivery in [date_from, date] in one run (a backfill).

    Reads the deliveries of [date_from - 1, date + 1] that exist (the outer two as context only, as a
    daily run does), validates and deduplicates every line, cuts sessions over all valid events and
    writes, per delivery day D of the range, what a daily run of D writes: sessions that start on D
    (silver dt=D), the rejected lines of D (quarantine dt=D) and D's reconciliation record. A session
    that crosses midnight is cut once, with all its events, as a daily run does when D+1 has landed.
    Differences from daily runs: a repeated event_id is a duplicate across the whole range (a daily
    run looks one day back). Days without a delivery are skipped and listed in the total record
    (<reports>/reconciliation/sessionize_clickstream/range=<from>_<to>/<run_id>.json), which also
    checks landed = valid + quarantined + duplicates_removed over the range. Nothing is written unless
    every day and the total reconcile.
    """
    assert opts.date_from is not None
    ref = load_reference_data(opts.contracts_dir)
    root = join_uri(opts.landing_uri, "clickstream")
    first, last = opts.date_from, opts.date
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    context = [first - dt.timedelta(days=1), *days, last + dt.timedelta(days=1)]
    found = [d for d in context if fs.exists(spark, join_uri(root, f"dt={d.isoformat()}"))]
    present = [d for d in days if d in found]
    if not present:
        raise LandingError(f"no clickstream delivery: no {root}/dt=<day> folder for {first} .. {last}")
    missing = [d.isoformat() for d in days if d not in present]
    lines = (
        spark.read.option("recursiveFileLookup", True)
        .text([join_uri(root, f"dt={d.isoformat()}") for d in found])
        .select("value", F.input_file_name().alias("source_file"))
        .withColumn(
            "delivery_dt",
            F.to_date(F.regexp_extract("source_file", r"/dt=([0-9]{4}-[0-9]{2}-[0-9]{2})/", 1)),
        )
    )
    tagged = tag_duplicates(parse_events(lines, ref)).persist()
    try:
        in_range = F.col("delivery_dt").between(F.lit(first), F.lit(last))
        counts = tagged.where(in_range).groupBy("delivery_dt", "reason", "is_duplicate").count().collect()
        events = valid_events(tagged)
        start_day = F.to_date("session_start")
        sessions = (
            sessionize(events, gap_seconds=int(round(opts.gap_minutes * 60)))
            .where(start_day.between(F.lit(first), F.lit(last)))
            .select(*SESSION_COLUMNS, start_day.alias("dt"))
            .persist()
        )
        try:
            return _write_range(spark, opts, tagged, sessions, counts, present, missing, found)
        finally:
            sessions.unpersist()
    finally:
        tagged.unpersist()


def _write_range(
    spark: SparkSession,
    opts: SessionizeOptions,
    tagged: DataFrame,
    sessions: DataFrame,
    counts: list[Any],
    present: list[dt.date],
    missing: list[str],
    found: list[dt.date],
) -> dict[str, Any]:
    assert opts.date_from is not None
    per_day: dict[dt.date, dict[str, Any]] = {
        d: {"landed": 0, "valid": 0, "duplicates": 0, "by_reason": defaultdict(int)} for d in present
    }
    for r in counts:
        c = per_day[r["delivery_dt"]]
        c["landed"] += r["count"]
        if r["reason"] is not None:
            c["by_reason"][r["reason"]] += r["count"]
        elif r["is_duplicate"]:
            c["duplicates"] += r["count"]
        else:
            c["valid"] += r["count"]
    session_totals = {
        r["dt"]: r
        for r in sessions.groupBy("dt")
        .agg(F.count(F.lit(1)).alias("n"), F.sum("n_events").alias("events"))
        .collect()
    }
    silver_uri = join_uri(opts.silver_uri, "sessions")
    quarantine_uri = join_uri(opts.quarantine_uri, "clickstream")
    records: dict[dt.date, dict[str, Any]] = {}
    for day, c in per_day.items():
        t = session_totals.get(day)
        record: dict[str, Any] = {
            "job": "sessionize_clickstream",
            "dataset": "clickstream",
            "date": day.isoformat(),
            "run_id": opts.run_id,
            "landed_events": c["landed"],
            "valid_events": c["valid"],
            "quarantined_events": sum(c["by_reason"].values()),
            "quarantined_by_reason": dict(sorted(c["by_reason"].items())),
            "duplicates_removed": c["duplicates"],
            "sessions": int(t["n"]) if t else 0,
            "events_in_sessions": int(t["events"] or 0) if t else 0,
            "session_gap_minutes": opts.gap_minutes,
            "deliveries_read": [d.isoformat() for d in found if abs((d - day).days) <= 1],
            "landing_uri": join_uri(opts.landing_uri, "clickstream"),
            "silver_uri": silver_uri,
            "quarantine_uri": quarantine_uri,
            "backfill": {"from": opts.date_from.isoformat(), "to": opts.date.isoformat()},
        }
        record["balanced"] = record["landed_events"] == (
            record["valid_events"] + record["quarantined_events"] + record["duplicates_removed"]
        )
        records[day] = record
    keys = ("landed_events", "valid_events", "quarantined_events", "duplicates_removed", "sessions")
    total: dict[str, Any] = {
        "job": "sessionize_clickstream",
        "dataset": "clickstream",
        "date": opts.date.isoformat(),
        "date_from": opts.date_from.isoformat(),
        "run_id": opts.run_id,
        "days": len(present),
        "days_missing": missing,
        "deliveries_read": [d.isoformat() for d in found],
        **{k: sum(r[k] for r in records.values()) for k in keys},
        "days_unbalanced": [d.isoformat() for d, r in records.items() if not r["balanced"]],
    }
    total["balanced"] = not total["days_unbalanced"] and total["landed_events"] == (
        total["valid_events"] + total["quarantined_events"] + total["duplicates_removed"]
    )
    target = join_uri(
        opts.reports_uri,
        "reconciliation",
        "sessionize_clickstream",
        f"range={opts.date_from.isoformat()}_{opts.date.isoformat()}",
        f"{opts.run_id}.json",
    )
    if not total["balanced"]:
        for day, record in records.items():
            if not record["balanced"]:
                fs.write_text(
                    spark,
                    _report_uri(opts.reports_uri, day, opts.run_id),
                    to_json({**record, "status": "failed"}),
                )
        fs.write_text(spark, target, to_json({**total, "status": "failed"}))
        check_balance(total, total_key="landed_events", part_keys=RECONCILE_PARTS)
        bad = records[dt.date.fromisoformat(total["days_unbalanced"][0])]
        check_balance(bad, total_key="landed_events", part_keys=RECONCILE_PARTS)
    quarantine = tagged.where(
        F.col("delivery_dt").between(F.lit(opts.date_from), F.lit(opts.date)) & F.col("reason").isNotNull()
    ).select(
        F.lit("clickstream").alias("dataset"),
        "reason",
        "reasons",
        F.col("value").alias("raw_row"),
        F.lit(1).cast("long").alias("landed_copies"),
        "source_file",
        F.lit(opts.run_id).alias("ingest_run_id"),
        F.col("delivery_dt").alias("dt"),
    )
    for df, table, count_key, rows in (
        (sessions, silver_uri, "sessions", total["sessions"]),
        (quarantine, quarantine_uri, "quarantined_events", total["quarantined_events"]),
    ):
        if rows > 0:
            # One file per day: a range has hundreds of dt partitions.
            df.repartition("dt").write.mode("overwrite").option(
                "partitionOverwriteMode", "dynamic"
            ).partitionBy("dt").parquet(table)
        for day, record in records.items():
            if record[count_key] == 0:
                fs.delete(spark, join_uri(table, f"dt={day.isoformat()}"))
    for day, record in records.items():
        record["status"] = "succeeded"
        fs.write_text(spark, _report_uri(opts.reports_uri, day, opts.run_id), to_json(record))
    total["status"] = "succeeded"
    fs.write_text(spark, target, to_json(total))
    total["report_uri"] = target
    return total
