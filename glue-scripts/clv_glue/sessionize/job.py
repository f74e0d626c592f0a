"""I/O around sessionization: what glue-scripts/jobs/sessionize_clickstream.py calls.

For run date D:
  read   <landing>/clickstream/dt=D/      the day's delivery (required); bad lines quarantined
         <landing>/clickstream/dt=D-1/, dt=D+1/   when present; context only, so sessions that
                                          cross midnight are cut right (their bad lines are
                                          left to their own runs)
  write  <silver>/sessions/dt=D/          sessions starting on D (dynamic partition overwrite), and
         <silver>/sessions/dt=S/          sessions starting on a day S without a delivery whose first
                                          event came in the D delivery (see owned_sessions)
         <quarantine>/clickstream/dt=D/   rejected lines of the D delivery
         <reports>/reconciliation/sessionize_clickstream/dt=D/<run_id>.json
With date_from (a backfill) every delivery in [date_from, D] is sessionized in one run: see
run_sessionize_range.
Reconciliation (D delivery): landed lines = valid unique events + quarantined + duplicates_removed
(a duplicate repeats the event_id of an earlier valid event).
Session ownership: a session is written by the run of its start day (UTC) when that day has a delivery,
else by the run of the day whose delivery brought its first event; always under dt=<start day>. Without
the second rule a session of an undelivered day (events before the first delivery, or after midnight of
the last) would be written by no run and its events lost.
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
        "delivery_dt",
        "event_id",
        "event_type",
        F.col("event_ts_parsed").alias("event_ts"),
        "session_id",
        "customer_id",
        "anonymous_id",
        "device",
        "country",
    )


def owned_sessions(
    spark: SparkSession,
    sessions: DataFrame,
    landing_uri: str,
    owners: list[dt.date],
    window: tuple[dt.date, dt.date],
    delivered: list[dt.date],
) -> DataFrame:
    """The sessions the runs of `owners` write, with dt (start day) and owner_dt.

    owner_dt = the start day when it has a delivery, else the delivery day of the session's first event.
    `delivered` lists the days of [window[0], window[1]] that have a delivery (the days the run listed);
    start days outside the window are checked in the landing zone (one small Spark action)."""
    start_day = F.to_date("session_start")
    lo, hi = window
    span = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    undelivered = [d for d in span if d not in delivered]
    outside = (
        sessions.where(F.col("first_delivery_dt").isin(owners) & ~start_day.between(F.lit(lo), F.lit(hi)))
        .select(start_day.alias("d"))
        .distinct()
        .collect()
    )
    root = join_uri(landing_uri, "clickstream")
    undelivered += [
        r["d"] for r in outside if not fs.exists(spark, join_uri(root, f"dt={r['d'].isoformat()}"))
    ]
    orphan = start_day.isin(undelivered) if undelivered else F.lit(False)
    owner = F.when(orphan, F.col("first_delivery_dt")).otherwise(start_day)
    return (
        sessions.withColumn("dt", start_day)
        .withColumn("owner_dt", owner)
        .where(F.col("owner_dt").isin(owners))
    )


def _write_sessions(spark: SparkSession, sessions: DataFrame, table_uri: str, days: list[dt.date]) -> None:
    """Replace the dt partitions the owned sessions fall in, and delete the partitions of `days` (the
    run's own days) that get none (a rerun after a correction must not keep old sessions)."""
    written = {r["dt"] for r in sessions.select("dt").distinct().collect()}
    for day in days:
        if day not in written:
            fs.delete(spark, join_uri(table_uri, f"dt={day.isoformat()}"))
    if written:
        # One file per day: a range has hundreds of dt partitions.
        sessions.select(*SESSION_COLUMNS, "dt").repartition("dt").write.mode("overwrite").option(
            "partitionOverwriteMode", "dynamic"
        ).partitionBy("dt").parquet(table_uri)


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


# What the job reads of the tagged lines once they are cached: the counts, the valid events' columns and the
# quarantine's. The other parsed fields are dropped and the raw line is kept for rejected lines only, so the
# cache holds about half the bytes (with the raw line of every event the JVM spent more time in garbage
# collection than in the work at 20,000 customers).
CACHED_COLUMNS = (
    "delivery_dt",
    "source_file",
    "reason",
    "reasons",
    "is_duplicate",
    "event_id",
    "event_type",
    "event_ts_parsed",
    "session_id",
    "customer_id",
    "anonymous_id",
    "device",
    "country",
)


def cached_lines(tagged: DataFrame) -> DataFrame:
    """The tagged lines as the job caches them (persisted): CACHED_COLUMNS, and `value` only where a line is
    rejected (null otherwise)."""
    return tagged.select(
        *CACHED_COLUMNS, F.when(F.col("reason").isNotNull(), F.col("value")).alias("value")
    ).persist()


def run_sessionize(spark: SparkSession, opts: SessionizeOptions) -> dict[str, Any]:
    if opts.date_from is not None:
        return run_sessionize_range(spark, opts)
    ref = load_reference_data(opts.contracts_dir)
    lines, days = read_event_lines(spark, opts.landing_uri, opts.date)
    tagged = cached_lines(tag_duplicates(parse_events(lines, ref)))
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
    one_day = dt.timedelta(days=1)
    # Cached once: owned_sessions looks at it before the counts and the write read it.
    cut = sessionize(events, gap_seconds=int(round(opts.gap_minutes * 60))).persist()
    sessions = owned_sessions(
        spark,
        cut,
        opts.landing_uri,
        [opts.date],
        (opts.date - one_day, opts.date + one_day),
        [dt.date.fromisoformat(d) for d in days],
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
        other_days = {
            r["dt"].isoformat(): int(r["n"])
            for r in sessions.where(F.col("dt") != F.lit(opts.date))
            .groupBy("dt")
            .count()
            .withColumnRenamed("count", "n")
            .collect()
        }
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
            "sessions_of_undelivered_days": dict(sorted(other_days.items())),
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
        _write_sessions(spark, sessions, record["silver_uri"], [opts.date])
        _replace_day(spark, quarantine, record["quarantine_uri"], opts.date, record["quarantined_events"])
        record["status"] = "succeeded"
        fs.write_text(spark, target, to_json(record))
        record["report_uri"] = target
        return record
    finally:
        cut.unpersist()


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
    tagged = cached_lines(tag_duplicates(parse_events(lines, ref)))
    try:
        in_range = F.col("delivery_dt").between(F.lit(first), F.lit(last))
        counts = tagged.where(in_range).groupBy("delivery_dt", "reason", "is_duplicate").count().collect()
        events = valid_events(tagged)
        # Cached once: owned_sessions looks at it before the counts and the write read it.
        cut = sessionize(events, gap_seconds=int(round(opts.gap_minutes * 60))).persist()
        try:
            sessions = owned_sessions(spark, cut, opts.landing_uri, present, (context[0], context[-1]), found)
            return _write_range(spark, opts, tagged, sessions, counts, present, missing, found)
        finally:
            cut.unpersist()
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
    session_totals: dict[dt.date, dict[str, Any]] = defaultdict(
        lambda: {"n": 0, "events": 0, "other_days": {}}
    )
    for r in (
        sessions.groupBy("owner_dt", "dt")
        .agg(F.count(F.lit(1)).alias("n"), F.sum("n_events").alias("events"))
        .collect()
    ):
        t = session_totals[r["owner_dt"]]
        t["n"] += int(r["n"])
        t["events"] += int(r["events"] or 0)
        if r["dt"] != r["owner_dt"]:
            t["other_days"][r["dt"].isoformat()] = int(r["n"])
    silver_uri = join_uri(opts.silver_uri, "sessions")
    quarantine_uri = join_uri(opts.quarantine_uri, "clickstream")
    records: dict[dt.date, dict[str, Any]] = {}
    for day, c in per_day.items():
        t = session_totals[day]
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
            "sessions": t["n"],
            "events_in_sessions": t["events"],
            "sessions_of_undelivered_days": dict(sorted(t["other_days"].items())),
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
    _write_sessions(spark, sessions, silver_uri, present)
    if total["quarantined_events"] > 0:
        # One file per day: a range has hundreds of dt partitions.
        quarantine.repartition("dt").write.mode("overwrite").option(
            "partitionOverwriteMode", "dynamic"
        ).partitionBy("dt").parquet(quarantine_uri)
    for day, record in records.items():
        if record["quarantined_events"] == 0:
            fs.delete(spark, join_uri(quarantine_uri, f"dt={day.isoformat()}"))
    for day, record in records.items():
        record["status"] = "succeeded"
        fs.write_text(spark, _report_uri(opts.reports_uri, day, opts.run_id), to_json(record))
    total["status"] = "succeeded"
    fs.write_text(spark, target, to_json(total))
    total["report_uri"] = target
    return total
