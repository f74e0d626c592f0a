"""Reconciliation failures driven for real: a transform step of the job is wrapped to drop one row, so the
counts the job computes from its own frames disagree. Each job must then fail with ReconciliationError, write
a report with status "failed", and leave silver and quarantine exactly as an earlier good run left them (for
a range: nothing of any day of the range). One good run and the failing runs share a tree per job, so the
suite stays at a handful of Spark jobs.

The sessionize cases are expected failures: they document a bug (see their reason) rather than hide it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from clv_glue.common.quality import ReconciliationError
from clv_glue.ingest import customers as customers_module
from clv_glue.ingest import job as ingest_job
from clv_glue.ingest import transactions as transactions_module
from clv_glue.ingest.job import IngestOptions, run_ingest
from clv_glue.sessionize import job as sessionize_job
from clv_glue.sessionize.job import SessionizeOptions, run_sessionize
from test_ingest_transactions import DAY1, DAY2, FIXTURES, SALT, land

CUSTOMERS_HEADER = "customer_id,signup_date,country,acquisition_channel,loyalty_status,email,name,address\n"


def drop_one_row(transform):
    """The transform, losing exactly one of the rows it returns (a bug of the kind reconciliation is for)."""

    def dropping(*args, **kwargs):
        out = transform(*args, **kwargs)
        return out.exceptAll(out.limit(1))

    return dropping


def snapshot(root: Path, *tables: str) -> dict[str, bytes]:
    """Every file under silver/ and quarantine/ of the given tables, by relative path (bytes compared)."""
    files: dict[str, bytes] = {}
    for zone in ("silver", "quarantine"):
        for table in tables:
            base = root / zone / table
            if base.exists():
                found = (p for p in base.rglob("*") if p.is_file())
                files.update({str(p.relative_to(root)): p.read_bytes() for p in found})
    return files


def failed_report(path: Path) -> dict:
    assert path.is_file(), f"no failed report at {path}"
    report = json.loads(path.read_text())
    assert report["status"] == "failed"
    assert report["balanced"] is False
    return report


def ingest_options(root: Path, date: str, run_id: str, date_from: str | None = None, **kw) -> IngestOptions:
    return IngestOptions(
        date=dt.date.fromisoformat(date),
        date_from=dt.date.fromisoformat(date_from) if date_from else None,
        landing_uri=str(root / "landing"),
        silver_uri=str(root / "silver"),
        quarantine_uri=str(root / "quarantine"),
        reports_uri=str(root / "reports"),
        run_id=run_id,
        salt=SALT,
        **kw,
    )


def test_transactions_day_and_range_fail_on_a_lost_row_and_write_nothing(spark, tmp_path, monkeypatch):
    land(tmp_path, "transactions/dt=2024-03-01", {"t.csv": DAY1})
    land(tmp_path, "transactions/dt=2024-03-02", {"t.csv": DAY2})
    good = run_ingest(spark, ingest_options(tmp_path, "2024-03-01", "good"))
    assert good["balanced"] and good["silver_rows"] == 3
    before = snapshot(tmp_path, "transactions")
    assert any("silver/transactions/" in p for p in before), "the good run wrote no silver files"

    # the daily path runs ingest_transactions (transactions module); the range path calls finish_silver itself
    monkeypatch.setattr(transactions_module, "finish_silver", drop_one_row(transactions_module.finish_silver))
    monkeypatch.setattr(ingest_job, "finish_silver", drop_one_row(ingest_job.finish_silver))

    with pytest.raises(ReconciliationError, match=r"landed_rows=3 but silver_rows=2 \+ "):
        run_ingest(spark, ingest_options(tmp_path, "2024-03-01", "bad-day"))
    reports = tmp_path / "reports/reconciliation/ingest_transactions"
    day = failed_report(reports / "dt=2024-03-01/bad-day.json")
    assert (day["landed_rows"], day["silver_rows"]) == (3, 2)
    assert snapshot(tmp_path, "transactions") == before

    range_message = r"ingest_transactions 2024-03-01\.\.2024-03-02: landed_rows=6"
    with pytest.raises(ReconciliationError, match=range_message):
        run_ingest(spark, ingest_options(tmp_path, "2024-03-02", "bad-range", date_from="2024-03-01"))
    total = failed_report(reports / "range=2024-03-01_2024-03-02/bad-range.json")
    assert total["landed_rows"] == 6 and total["silver_rows"] == 5
    assert len(total["days_unbalanced"]) == 1
    failed_report(reports / f"dt={total['days_unbalanced'][0]}/bad-range.json")
    # no partial range output: not even the balanced day of the range was written
    assert snapshot(tmp_path, "transactions") == before
    assert not list((tmp_path / "silver/transactions").glob("dt=*/ingest_dt=2024-03-02"))


def _land_customers(root: Path, day: str, text: str) -> None:
    folder = root / "landing" / "customers" / f"dt={day}"
    folder.mkdir(parents=True)
    with gzip.open(folder / "customers.csv.gz", "wb") as fh:
        fh.write(text.encode())


def test_customers_extract_and_range_fail_on_a_lost_row_and_write_nothing(spark, tmp_path, monkeypatch):
    _land_customers(tmp_path, "2024-03-01", (FIXTURES / "customers_sample.csv").read_text())
    _land_customers(
        tmp_path, "2024-03-02", CUSTOMERS_HEADER + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n"
    )
    good = run_ingest(spark, ingest_options(tmp_path, "2024-03-01", "good", dataset="customers"))
    assert good["balanced"] and good["silver_rows"] == 2 and good["quarantined_rows"] == 5
    before = snapshot(tmp_path, "customers")
    assert any("quarantine/customers/" in p for p in before), "the good run wrote no quarantine files"

    monkeypatch.setattr(customers_module, "silver_customers", drop_one_row(customers_module.silver_customers))

    with pytest.raises(ReconciliationError, match=r"landed_rows=8 but silver_rows=1 \+ quarantined_rows=5"):
        run_ingest(spark, ingest_options(tmp_path, "2024-03-01", "bad-day", dataset="customers"))
    reports = tmp_path / "reports/reconciliation/ingest_customers"
    failed_report(reports / "dt=2024-03-01/bad-day.json")
    assert snapshot(tmp_path, "customers") == before

    with pytest.raises(ReconciliationError):
        bad_range = ingest_options(
            tmp_path, "2024-03-02", "bad-range", date_from="2024-03-01", dataset="customers"
        )
        run_ingest(spark, bad_range)
    failed = sorted(p.parent.name for p in reports.glob("dt=*/bad-range.json"))
    assert len(failed) == 1, failed
    failed_report(reports / failed[0] / "bad-range.json")
    assert not (reports / "range=2024-03-01_2024-03-02/bad-range.json").exists()
    assert snapshot(tmp_path, "customers") == before
    assert not (tmp_path / "silver/customers/dt=2024-03-02").exists()


def _land_clickstream(root: Path) -> None:
    for day in ("2024-02-29", "2024-03-01", "2024-03-02"):
        folder = root / "landing" / "clickstream" / f"dt={day}"
        folder.mkdir(parents=True)
        with gzip.open(folder / f"events_{day}.jsonl.gz", "wb") as fh:
            fh.write((FIXTURES / "clickstream" / f"events_{day}.jsonl").read_bytes())


def _sessionize_options(root: Path, run_id: str, date_from: dt.date | None = None) -> SessionizeOptions:
    return SessionizeOptions(
        date=dt.date(2024, 3, 1),
        date_from=date_from,
        landing_uri=str(root / "landing"),
        silver_uri=str(root / "silver"),
        quarantine_uri=str(root / "quarantine"),
        reports_uri=str(root / "reports"),
        run_id=run_id,
    )


# BUG (reported, not fixed here: production code is out of this change's scope): sessionize_clickstream
# reconciles landed = valid + quarantined + duplicates, but all four come from the same grouped count of the
# parsed lines, so the check cannot fail; an event lost between parsing and the written sessions (here:
# valid_events drops one) is not noticed, and the job writes silver and reports "balanced": true. The job
# should reconcile valid events against events_in_sessions (and landed against the lines read).
@pytest.mark.xfail(strict=True, reason="BUG: sessionize reconciliation cannot detect a lost event")
def test_sessionize_day_fails_on_a_lost_event_and_writes_nothing(spark, tmp_path, monkeypatch):
    _land_clickstream(tmp_path)
    good = run_sessionize(spark, _sessionize_options(tmp_path, "good"))
    assert good["balanced"] and good["events_in_sessions"] > 0
    before = snapshot(tmp_path, "sessions", "clickstream")
    monkeypatch.setattr(sessionize_job, "valid_events", drop_one_row(sessionize_job.valid_events))
    with pytest.raises(ReconciliationError):
        run_sessionize(spark, _sessionize_options(tmp_path, "bad-day"))
    failed_report(tmp_path / "reports/reconciliation/sessionize_clickstream/dt=2024-03-01/bad-day.json")
    assert snapshot(tmp_path, "sessions", "clickstream") == before


@pytest.mark.xfail(strict=True, reason="BUG: sessionize range reconciliation cannot detect a lost event")
def test_sessionize_range_fails_on_a_lost_event_and_writes_nothing(spark, tmp_path, monkeypatch):
    _land_clickstream(tmp_path)
    monkeypatch.setattr(sessionize_job, "valid_events", drop_one_row(sessionize_job.valid_events))
    with pytest.raises(ReconciliationError):
        run_sessionize(spark, _sessionize_options(tmp_path, "bad-range", date_from=dt.date(2024, 2, 29)))
    assert not (tmp_path / "silver").exists()
