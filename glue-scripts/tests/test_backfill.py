"""The --date-from (backfill) option of ingest_transactions and sessionize_clickstream.

One run over a range of delivery days must give, per day, what the daily runs of those days give
(records, silver, quarantine), report the days it found no delivery for, reconcile in total and be
idempotent when rerun."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import pytest
from clv_glue.ingest.job import IngestOptions, run_ingest
from clv_glue.sessionize.job import SessionizeOptions, run_sessionize
from test_ingest_transactions import DAY1, DAY2, FIXTURES, SALT, land

CLICKSTREAM = FIXTURES / "clickstream"
RECORD_KEYS = (
    "landed_rows",
    "silver_rows",
    "quarantined_rows",
    "quarantined_by_reason",
    "duplicates_removed",
    "silver_rows_by_dt",
    "cancellation_rows",
    "return_rows",
    "outliers_capped",
    "outlier_cap_gbp",
    "outlier_reference",
    "amount_gbp",
    "amount_raw_gbp",
)


def ingest_opts(root: Path, date: str, run_id: str, date_from: str | None = None) -> IngestOptions:
    return IngestOptions(
        date=dt.date.fromisoformat(date),
        date_from=dt.date.fromisoformat(date_from) if date_from else None,
        landing_uri=str(root / "landing"),
        silver_uri=str(root / "silver"),
        quarantine_uri=str(root / "quarantine"),
        reports_uri=str(root / "reports"),
        run_id=run_id,
        salt=SALT,
        outlier_percentile=0.99,
    )


def land_three_deliveries(root: Path) -> None:
    """2024-03-01 and 03-02 (a late line, an outlier), nothing on 03-03, the messy fixture day on 03-04."""
    land(root, "transactions/dt=2024-03-01", {"t.csv": DAY1})
    land(root, "transactions/dt=2024-03-02", {"t.csv": DAY2})
    land(
        root,
        "transactions/dt=2024-03-04",
        {
            "a.csv.gz": "transactions_generic_2024-03-01.csv",
            "b.csv.gz": "transactions_generic_2024-03-01_late.csv",
        },
    )


def silver_rows(spark, root: Path) -> list[tuple]:
    rows = spark.read.parquet(str(root / "silver" / "transactions")).collect()
    keys = ("invoice_id", "sku", "quantity", "amount", "amount_raw", "is_outlier_capped", "email_hash")
    return sorted((*(r[k] for k in keys), str(r["dt"]), str(r["ingest_dt"])) for r in rows)


def quarantine_rows(spark, root: Path, table: str) -> list[tuple]:
    rows = spark.read.parquet(str(root / "quarantine" / table)).collect()
    return sorted((r["reason"], r["raw_row"], r["landed_copies"], str(r["dt"])) for r in rows)


@pytest.fixture(scope="module")
def ingest_backfill(spark, tmp_path_factory):
    daily_root, range_root = tmp_path_factory.mktemp("daily"), tmp_path_factory.mktemp("range")
    for root in (daily_root, range_root):
        land_three_deliveries(root)
    daily = {
        d: run_ingest(spark, ingest_opts(daily_root, d, "daily"))
        for d in ("2024-03-01", "2024-03-02", "2024-03-04")
    }
    total = run_ingest(spark, ingest_opts(range_root, "2024-03-04", "bf", date_from="2024-03-01"))
    return daily_root, range_root, daily, total


def test_ingest_range_gives_per_day_what_the_daily_runs_give(spark, ingest_backfill):
    daily_root, range_root, daily, total = ingest_backfill
    for day, record in daily.items():
        path = range_root / "reports/reconciliation/ingest_transactions" / f"dt={day}" / "bf.json"
        ranged = json.loads(path.read_text())
        assert {k: ranged[k] for k in RECORD_KEYS} == {k: record[k] for k in RECORD_KEYS}, day
        assert ranged["balanced"] and ranged["status"] == "succeeded"
    # 03-02's outlier (1000 GBP) is capped from 03-01's lines, as in the daily run.
    assert daily["2024-03-02"]["outlier_reference"]["source"] == "silver"
    assert daily["2024-03-02"]["outliers_capped"] == 2  # the 1000 GBP line and the late 500 GBP one
    assert silver_rows(spark, range_root) == silver_rows(spark, daily_root)
    assert quarantine_rows(spark, range_root, "transactions") == quarantine_rows(
        spark, daily_root, "transactions"
    )
    assert {p.name for p in (range_root / "quarantine/transactions").iterdir() if p.is_dir()} == {
        "dt=2024-03-04"
    }


def test_ingest_range_reconciles_in_total_and_lists_missing_days(ingest_backfill):
    _, range_root, daily, total = ingest_backfill
    assert total["days"] == 3 and total["days_missing"] == ["2024-03-03"]
    for key in ("landed_rows", "silver_rows", "quarantined_rows", "duplicates_removed"):
        assert total[key] == sum(r[key] for r in daily.values()), key
    assert (
        total["landed_rows"] == total["silver_rows"] + total["quarantined_rows"] + total["duplicates_removed"]
    )
    assert total["duplicates_removed"] > 0 and total["quarantined_rows"] > 0
    report = json.loads(Path(total["report_uri"]).read_text())
    assert Path(total["report_uri"]).parent.name == "range=2024-03-01_2024-03-04"
    assert report["balanced"] and report["status"] == "succeeded"


def test_ingest_range_rerun_is_idempotent_and_drops_rows_a_corrected_delivery_no_longer_has(
    spark, ingest_backfill
):
    _, range_root, _, total = ingest_backfill
    root = range_root.parent / "rerun"
    shutil.copytree(range_root, root)
    before = silver_rows(spark, root)
    again = run_ingest(spark, ingest_opts(root, "2024-03-04", "bf2", date_from="2024-03-01"))
    assert silver_rows(spark, root) == before
    assert {k: again[k] for k in ("landed_rows", "silver_rows")} == {
        k: total[k] for k in ("landed_rows", "silver_rows")
    }
    # 03-02 is corrected without its late line: its dt=2024-03-01/ingest_dt=2024-03-02 partition goes.
    (root / "landing/transactions/dt=2024-03-02/t.csv").write_text("\n".join(DAY2.splitlines()[:3]) + "\n")
    fixed = run_ingest(spark, ingest_opts(root, "2024-03-02", "bf3", date_from="2024-03-01"))
    assert [Path(p).parent.name for p in fixed["stale_partitions_removed"]] == ["dt=2024-03-01"]
    assert not (root / "silver/transactions/dt=2024-03-01/ingest_dt=2024-03-02").exists()
    # 03-04 is outside the rerun range: its delivery's silver is untouched.
    assert [r for r in silver_rows(spark, root) if r[-1] == "2024-03-04"] == [
        r for r in before if r[-1] == "2024-03-04"
    ]


def test_date_from_after_date_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--date-from 2024-03-05 is after --date 2024-03-04"):
        ingest_opts(tmp_path, "2024-03-04", "x", date_from="2024-03-05")


def land_clickstream(root: Path) -> None:
    for day in ("2024-02-29", "2024-03-01", "2024-03-02"):
        folder = root / "landing" / "clickstream" / f"dt={day}"
        folder.mkdir(parents=True)
        with gzip.open(folder / f"events_{day}.jsonl.gz", "wb") as fh:
            fh.write((CLICKSTREAM / f"events_{day}.jsonl").read_bytes())


def sessionize_opts(root: Path, date: str, run_id: str, date_from: str | None = None) -> SessionizeOptions:
    return SessionizeOptions(
        date=dt.date.fromisoformat(date),
        date_from=dt.date.fromisoformat(date_from) if date_from else None,
        landing_uri=str(root / "landing"),
        silver_uri=str(root / "silver"),
        quarantine_uri=str(root / "quarantine"),
        reports_uri=str(root / "reports"),
        run_id=run_id,
    )


def test_sessionize_range_gives_per_day_what_the_daily_runs_give(spark, tmp_path):
    daily_root, range_root = tmp_path / "daily", tmp_path / "range"
    land_clickstream(daily_root)
    land_clickstream(range_root)
    days = ("2024-03-01", "2024-03-02")
    daily = {d: run_sessionize(spark, sessionize_opts(daily_root, d, "daily")) for d in days}
    total = run_sessionize(spark, sessionize_opts(range_root, "2024-03-03", "bf", date_from="2024-03-01"))
    keys = (
        "landed_events",
        "valid_events",
        "quarantined_events",
        "quarantined_by_reason",
        "duplicates_removed",
    )
    for day in days:
        path = range_root / "reports/reconciliation/sessionize_clickstream" / f"dt={day}" / "bf.json"
        ranged = json.loads(path.read_text())
        assert {k: ranged[k] for k in (*keys, "sessions", "events_in_sessions")} == {
            k: daily[day][k] for k in (*keys, "sessions", "events_in_sessions")
        }, day
        assert ranged["balanced"] and ranged["status"] == "succeeded"
    assert total["days"] == 2 and total["days_missing"] == ["2024-03-03"]
    assert total["deliveries_read"] == ["2024-02-29", "2024-03-01", "2024-03-02"]
    for key in ("landed_events", "valid_events", "quarantined_events", "duplicates_removed", "sessions"):
        assert total[key] == sum(r[key] for r in daily.values()), key
    assert total["balanced"] and total["landed_events"] > 0

    def sessions(root: Path) -> list[tuple]:
        rows = spark.read.parquet(str(root / "silver" / "sessions")).collect()
        return sorted(
            (r["session_id"], r["customer_id"], r["n_events"], str(r["session_end"]), str(r["dt"]))
            for r in rows
        )

    assert sessions(range_root) == sessions(daily_root)
    assert quarantine_rows(spark, range_root, "clickstream") == quarantine_rows(
        spark, daily_root, "clickstream"
    )
    again = run_sessionize(spark, sessionize_opts(range_root, "2024-03-03", "bf2", date_from="2024-03-01"))
    assert sessions(range_root) == sessions(daily_root) and again["sessions"] == total["sessions"]


def _event(n: int, when: str, anon: str) -> str:
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": f"00000000-0000-4000-8000-{n:012d}",
            "event_type": "page_view",
            "event_ts": f"{when}Z",
            "session_id": f"s-{anon}",
            "customer_id": None,
            "anonymous_id": anon,
            "device": "mobile",
            "country": "United Kingdom",
            "page": "/",
        }
    )


def _land_events(root: Path, day: str, lines: list[str]) -> None:
    folder = root / "landing" / "clickstream" / f"dt={day}"
    folder.mkdir(parents=True)
    with gzip.open(folder / f"events_{day}.jsonl.gz", "wb") as fh:
        fh.write(("\n".join(lines) + "\n").encode())


# No delivery for 2024-02-29 or 2024-03-03. The 03-01 delivery brings a session that started on 02-29 at
# 23:50; the 03-02 delivery brings, after a 23:50 event, one at 03-03 00:45 (55 minutes later: a new session
# that starts on 03-03).
BOUNDARY_DELIVERIES = {
    "2024-03-01": [
        _event(1, "2024-02-29T23:50:00.000", "P"),
        _event(2, "2024-03-01T00:05:00.000", "P"),
        _event(3, "2024-03-01T12:00:00.000", "Q"),
    ],
    "2024-03-02": [
        _event(4, "2024-03-02T23:50:00.000", "R"),
        _event(5, "2024-03-03T00:45:00.000", "R"),
    ],
}


def test_sessions_of_undelivered_days_are_written_by_the_run_that_brought_their_first_event(spark, tmp_path):
    daily_root, range_root = tmp_path / "daily", tmp_path / "range"
    for root in (daily_root, range_root):
        for day, lines in BOUNDARY_DELIVERIES.items():
            _land_events(root, day, lines)
    daily = {d: run_sessionize(spark, sessionize_opts(daily_root, d, "daily")) for d in BOUNDARY_DELIVERIES}
    total = run_sessionize(spark, sessionize_opts(range_root, "2024-03-02", "bf", date_from="2024-03-01"))

    def by_dt(root: Path) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for r in spark.read.parquet(str(root / "silver" / "sessions")).collect():
            out.setdefault(str(r["dt"]), []).append(r["n_events"])
        return {k: sorted(v) for k, v in sorted(out.items())}

    expected = {"2024-02-29": [2], "2024-03-01": [1], "2024-03-02": [1], "2024-03-03": [1]}
    assert by_dt(daily_root) == by_dt(range_root) == expected
    # No event is lost: every valid event is in a session some run wrote.
    assert sum(r["events_in_sessions"] for r in daily.values()) == sum(
        r["valid_events"] for r in daily.values()
    )
    assert total["valid_events"] == 5
    assert daily["2024-03-01"]["sessions_of_undelivered_days"] == {"2024-02-29": 1}
    assert daily["2024-03-02"]["sessions_of_undelivered_days"] == {"2024-03-03": 1}
    ranged = json.loads(
        (range_root / "reports/reconciliation/sessionize_clickstream/dt=2024-03-01/bf.json").read_text()
    )
    assert ranged["sessions_of_undelivered_days"] == {"2024-02-29": 1}
    assert (ranged["sessions"], ranged["events_in_sessions"]) == (2, 3)

    # A late 02-29 delivery: its own run now owns the 02-29 session (reading 03-01 as context), and a rerun
    # of 03-01 leaves that partition to it.
    _land_events(daily_root, "2024-02-29", [_event(6, "2024-02-29T08:00:00.000", "S")])
    late = run_sessionize(spark, sessionize_opts(daily_root, "2024-02-29", "late"))
    rerun = run_sessionize(spark, sessionize_opts(daily_root, "2024-03-01", "rerun"))
    assert (late["sessions"], late["events_in_sessions"]) == (2, 3)
    assert rerun["sessions_of_undelivered_days"] == {} and rerun["sessions"] == 1
    assert by_dt(daily_root)["2024-02-29"] == [1, 2]
