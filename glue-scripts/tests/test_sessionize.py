"""Sessionization: hand-computed examples on the pure transform, and the job on hand-made JSONL days."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path

import pytest
from clv_glue.sessionize.job import SessionizeOptions, run_sessionize
from clv_glue.sessionize.sessions import sessionize

FIXTURES = Path(__file__).parent / "fixtures" / "clickstream"
COLUMNS = (
    "event_id",
    "event_type",
    "event_ts",
    "session_id",
    "customer_id",
    "anonymous_id",
    "device",
    "country",
)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def ev(n, kind, when, anon, customer=None, client_session="s", device="mobile", country="United Kingdom"):
    return (f"e{n:03d}", kind, ts(when), client_session, customer, anon, device, country)


# Rows deliberately out of order; U1 and U2 interleave in time.
EVENTS = [
    ev(3, "page_view", "2024-03-01 11:00:01", "U1"),  # 30:01 after 10:30:00 -> new session
    ev(22, "page_view", "2024-03-01 10:20:00", "U2", device="desktop"),
    ev(1, "session_start", "2024-03-01 10:00:00", "U1"),
    ev(23, "search", "2024-03-01 10:50:00", "U2", device="desktop"),  # exactly 30:00 after 10:20 -> same
    ev(2, "product_view", "2024-03-01 10:30:00", "U1"),  # exactly 30:00 after 10:00 -> same session
    ev(21, "page_view", "2024-03-01 10:10:00", "U2", device="tablet", country="France"),
    ev(33, "add_to_cart", "2024-03-01 09:20:00", "U3", customer="C3", client_session="s3"),  # login
    ev(31, "session_start", "2024-03-01 09:00:00", "U3", client_session="s3"),
    ev(32, "page_view", "2024-03-01 09:10:00", "U3", client_session="s3"),
    ev(34, "page_view", "2024-03-01 10:00:00", "U3", client_session="s3"),  # same client id, 40 min later
    ev(41, "checkout", "2024-03-01 14:00:00", "U4", customer="C4a"),
    ev(42, "purchase", "2024-03-01 14:05:00", "U4", customer="C4b"),  # another customer on the device
]


@pytest.fixture(scope="module")
def sessions(spark):
    df = spark.createDataFrame(EVENTS, list(COLUMNS)).repartition(2)
    rows = [r.asDict() for r in sessionize(df).collect()]
    return sorted(rows, key=lambda r: (r["anonymous_id"], r["session_start"]))


def shape(rows, anon):
    return [
        (str(r["session_start"].time()), str(r["session_end"].time()), r["n_events"], r["customer_id"])
        for r in rows
        if r["anonymous_id"] == anon
    ]


def test_gap_of_exactly_30_minutes_continues_and_30_min_plus_1s_starts_a_new_session(sessions):
    assert shape(sessions, "U1") == [("10:00:00", "10:30:00", 2, None), ("11:00:01", "11:00:01", 1, None)]
    first = next(r for r in sessions if r["anonymous_id"] == "U1")
    assert first["duration_s"] == 1800.0 and first["n_product_views"] == 1


def test_interleaved_users_are_sessionized_independently(sessions):
    assert shape(sessions, "U2") == [("10:10:00", "10:50:00", 3, None)]
    (u2,) = [r for r in sessions if r["anonymous_id"] == "U2"]
    assert (u2["device"], u2["country"]) == (
        "tablet",
        "France",
    )  # from the first event, whatever the row order
    assert (u2["n_page_views"], u2["n_searches"], u2["duration_s"]) == (2, 1, 2400.0)


def test_anonymous_then_logged_in_is_one_session_of_that_customer_and_client_id_is_ignored(sessions):
    assert shape(sessions, "U3") == [("09:00:00", "09:20:00", 3, "C3"), ("10:00:00", "10:00:00", 1, None)]
    assert {r["client_session_id"] for r in sessions if r["anonymous_id"] == "U3"} == {"s3"}


def test_another_customer_on_the_same_device_starts_a_new_session(sessions):
    assert shape(sessions, "U4") == [("14:00:00", "14:00:00", 1, "C4a"), ("14:05:00", "14:05:00", 1, "C4b")]
    u4 = [r for r in sessions if r["anonymous_id"] == "U4"]
    assert (u4[0]["n_checkouts"], u4[1]["n_purchases"]) == (1, 1)


def test_session_ids_are_unique_and_deterministic(sessions):
    ids = [r["session_id"] for r in sessions]
    assert len(ids) == len(set(ids)) == 7
    assert all(len(i) == 32 for i in ids)
    expected = hashlib.sha256(b"U1|e001").hexdigest()[:32]
    assert expected in ids


@pytest.fixture(scope="module")
def job_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("clickstream")
    for day in ("2024-02-29", "2024-03-01", "2024-03-02"):
        folder = root / "landing" / "clickstream" / f"dt={day}"
        folder.mkdir(parents=True)
        with gzip.open(folder / f"events_{day}.jsonl.gz", "wb") as fh:
            fh.write((FIXTURES / f"events_{day}.jsonl").read_bytes())
    opts = SessionizeOptions(
        date=dt.date(2024, 3, 1),
        landing_uri=str(root / "landing"),
        silver_uri=str(root / "silver"),
        quarantine_uri=str(root / "quarantine"),
        reports_uri=str(root / "reports"),
        run_id="r1",
    )
    first = run_sessionize(spark, opts)
    second = run_sessionize(spark, opts)  # rerun: replaces dt=2024-03-01, must not duplicate
    sessions = [r.asDict() for r in spark.read.parquet(str(root / "silver" / "sessions")).collect()]
    quarantine = [r.asDict() for r in spark.read.parquet(str(root / "quarantine" / "clickstream")).collect()]
    return root, first, second, sorted(sessions, key=lambda r: r["session_start"]), quarantine


def test_job_counts_reconcile_and_bad_lines_are_quarantined_with_reasons(job_run):
    root, first, second, _, quarantine = job_run
    assert (first["landed_events"], first["valid_events"], first["quarantined_events"]) == (20, 9, 10)
    assert first["duplicates_removed"] == 1  # the repeated event ...0011
    assert first["quarantined_by_reason"] == {
        "bad_device": 1,
        "bad_event_id": 1,
        "bad_event_ts": 1,
        "bad_quantity": 1,
        "malformed_json": 2,  # truncated line, blank line
        "missing_anonymous_id": 1,
        "unknown_event_type": 1,
        "unsupported_schema_version": 1,
        "wrong_type": 1,  # session_id given as a JSON number
    }
    assert sorted(q["raw_row"] for q in quarantine if q["reason"] == "malformed_json")[0] == ""
    assert all(q["dt"] == dt.date(2024, 3, 1) for q in quarantine) and len(quarantine) == 10
    assert first["deliveries_read"] == ["2024-02-29", "2024-03-01", "2024-03-02"]
    report = json.loads(Path(first["report_uri"]).read_text())
    assert report["balanced"] and report["status"] == "succeeded"
    assert {k: v for k, v in second.items() if k != "report_uri"} == {
        k: v for k, v in first.items() if k != "report_uri"
    }


def test_job_emits_the_days_sessions_across_midnight_once(job_run):
    _, first, _, sessions, _ = job_run
    got = [
        (r["anonymous_id"], str(r["session_start"]), str(r["session_end"]), r["n_events"]) for r in sessions
    ]
    assert got == [
        # A1's 23:50 (Feb 29) + 00:10 session belongs to Feb 29; its 01:00 event opens a new one.
        ("A1", "2024-03-01 01:00:00", "2024-03-01 01:00:00", 1),
        ("A2", "2024-03-01 10:00:00", "2024-03-01 10:10:00", 3),
        ("A3", "2024-03-01 12:00:00", "2024-03-01 12:30:00", 2),
        ("A3", "2024-03-01 13:00:01", "2024-03-01 13:00:01", 1),
        # continues past midnight into the next delivery
        ("A4", "2024-03-01 23:50:00", "2024-03-02 00:15:00", 2),
    ]
    a2 = sessions[1]
    assert a2["customer_id"] == "C100" and a2["n_page_views"] == 1 and a2["n_product_views"] == 1
    assert all(r["dt"] == dt.date(2024, 3, 1) for r in sessions)
    assert first["sessions"] == 5 and first["events_in_sessions"] == 9


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"session_id": 42}', "session_id"),
        ('{"session_id": "s", "sku": true}', "sku"),
        ('{"quantity": "3"}', "quantity"),
        ('{"quantity": 2.5}', "quantity"),
        ('{"schema_version": true}', "schema_version"),
        ('{"revenue": "9.99"}', "revenue"),
        ('{"session_id": "s", "customer_id": null, "revenue": 9.99, "quantity": 2}', None),
        ("not json", None),
        ("[1, 2]", None),
    ],
)
def test_json_types_are_checked_against_the_contract(line, field):
    from clv_glue.sessionize.events import json_type_error

    assert json_type_error(line) == field
