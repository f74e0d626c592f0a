"""Customers extracts (dated full CRM snapshots) -> silver customers/dt=<extract date> (PII hashed),
quarantine and reconciliation; a range ingests every extract dated in it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from clv_glue.common.pii import hmac_sha256_hex
from clv_glue.ingest.job import IngestOptions, run_ingest
from clv_glue.ingest.landing import LandingError

FIXTURES = Path(__file__).parent / "fixtures"
SALT = b"customers-salt-0123456789"
HEADER = "customer_id,signup_date,country,acquisition_channel,loyalty_status,email,name,address\n"


def _land(tmp_path: Path, day: str, text: str) -> None:
    folder = tmp_path / "landing" / "customers" / f"dt={day}"
    folder.mkdir(parents=True)
    with gzip.open(folder / "customers.csv.gz", "wb") as fh:
        fh.write(text.encode())


def _opts(tmp_path: Path, date: dt.date, run_id: str, date_from: dt.date | None = None) -> IngestOptions:
    return IngestOptions(
        date=date,
        date_from=date_from,
        landing_uri=str(tmp_path / "landing"),
        silver_uri=str(tmp_path / "silver"),
        quarantine_uri=str(tmp_path / "quarantine"),
        reports_uri=str(tmp_path / "reports"),
        run_id=run_id,
        salt=SALT,
        dataset="customers",
    )


def _silver(spark, tmp_path: Path) -> dict[tuple[str, str], dict]:
    table = str(tmp_path / "silver/customers")
    rows = spark.read.option("basePath", table).parquet(table).collect()
    return {(r["dt"].isoformat(), r["customer_id"]): r.asDict() for r in rows}


def test_customers_extract_is_hashed_deduplicated_and_reconciled(spark, tmp_path):
    _land(tmp_path, "2024-03-01", (FIXTURES / "customers_sample.csv").read_text())
    record = run_ingest(spark, _opts(tmp_path, dt.date(2024, 3, 1), "cust-1"))
    silver = {cid: row for (day, cid), row in _silver(spark, tmp_path).items() if day == "2024-03-01"}
    assert len(silver) == len(_silver(spark, tmp_path))
    quarantine = spark.read.parquet(str(tmp_path / "quarantine/customers")).collect()

    assert (record["landed_rows"], record["silver_rows"], record["quarantined_rows"]) == (8, 2, 5)
    assert record["duplicates_removed"] == 1 and record["balanced"]
    assert record["quarantined_by_reason"] == {
        "bad_signup_date": 1,
        "conflicting_customer_id": 2,
        "malformed_row": 1,
        "missing_customer_id": 1,
    }
    assert set(silver) == {"C001", "C002"}
    alice = silver["C001"]
    assert alice["signup_date"] == dt.date(2023, 5, 2) and alice["loyalty_status"] == "gold"
    assert alice["acquisition_channel"] == "organic" and alice["country"] == "United Kingdom"
    assert alice["email_hash"] == hmac_sha256_hex("alice.smith@example.com", SALT)
    assert alice["name_hash"] == hmac_sha256_hex("alice smith", SALT)
    assert alice["address_hash"] == hmac_sha256_hex("1 high street, london", SALT)
    assert set(alice) == {
        "dt",
        "customer_id",
        "signup_date",
        "country",
        "acquisition_channel",
        "loyalty_status",
        "email_hash",
        "name_hash",
        "address_hash",
    }
    for raw in ("Alice.Smith@Example.com", "Alice Smith", "1 High Street, London", "Hauptstr. 5, Berlin"):
        assert all(raw not in str(v) for row in silver.values() for v in row.values())
    by_reason = {}
    for q in quarantine:
        by_reason.setdefault(q["reason"], []).append(q["raw_row"])
    assert [json.loads(r)["signup_date"] for r in by_reason["bad_signup_date"]] == ["2023-13-01"]
    assert sorted(json.loads(r)["signup_date"] for r in by_reason["conflicting_customer_id"]) == [
        "2023-09-09",
        "2023-09-10",
    ]
    assert by_reason["malformed_row"] == ["C005,2024-01-15,Ireland,referral"]
    report = tmp_path / "reports/reconciliation/ingest_customers/dt=2024-03-01/cust-1.json"
    assert json.loads(report.read_text())["silver_rows"] == 2
    assert record["extract_date"] == "2024-03-01"
    assert record["silver_uri"].endswith("silver/customers/dt=2024-03-01")


def test_extracts_are_kept_by_date_and_a_rerun_replaces_only_its_own(spark, tmp_path):
    _land(tmp_path, "2024-01-01", HEADER + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n")
    _land(
        tmp_path,
        "2024-07-01",
        HEADER
        + "C1,2023-05-02,France,organic,gold,a@x.fr,A,Rue 1\n"
        + "C2,2024-03-03,Spain,email,none,b@x.es,B,Calle 2\n",
    )
    run_ingest(spark, _opts(tmp_path, dt.date(2024, 1, 1), "jan"))
    run_ingest(spark, _opts(tmp_path, dt.date(2024, 7, 1), "jul"))
    silver = _silver(spark, tmp_path)
    assert {k: v["loyalty_status"] for k, v in silver.items()} == {
        ("2024-01-01", "C1"): "none",
        ("2024-07-01", "C1"): "gold",
        ("2024-07-01", "C2"): "none",
    }
    # A corrected January extract replaces January only.
    (tmp_path / "landing/customers/dt=2024-01-01/customers.csv.gz").unlink()
    (tmp_path / "landing/customers/dt=2024-01-01").rmdir()
    _land(tmp_path, "2024-01-01", HEADER + "C1,2023-05-02,France,organic,silver,a@x.fr,A,Rue 1\n")
    run_ingest(spark, _opts(tmp_path, dt.date(2024, 1, 1), "jan-2"))
    silver = _silver(spark, tmp_path)
    assert {k: v["loyalty_status"] for k, v in silver.items()} == {
        ("2024-01-01", "C1"): "silver",
        ("2024-07-01", "C1"): "gold",
        ("2024-07-01", "C2"): "none",
    }


def test_a_range_ingests_every_extract_in_it_and_skips_days_without_one(spark, tmp_path):
    _land(tmp_path, "2023-12-31", HEADER + "C0,2023-01-01,France,organic,none,z@x.fr,Z,Rue 0\n")
    _land(tmp_path, "2024-01-01", HEADER + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n")
    _land(
        tmp_path,
        "2024-02-01",
        HEADER
        + "C1,2023-05-02,France,organic,gold,a@x.fr,A,Rue 1\n,2024-01-09,Spain,email,none,b@x.es,B,C\n",
    )
    total = run_ingest(spark, _opts(tmp_path, dt.date(2024, 2, 10), "bf", date_from=dt.date(2024, 1, 1)))
    assert total["extract_dates"] == ["2024-01-01", "2024-02-01"]
    assert (total["landed_rows"], total["silver_rows"], total["quarantined_rows"]) == (3, 2, 1)
    assert total["balanced"] and total["status"] == "succeeded"
    assert set(_silver(spark, tmp_path)) == {("2024-01-01", "C1"), ("2024-02-01", "C1")}
    reports = tmp_path / "reports/reconciliation/ingest_customers"
    assert json.loads((reports / "range=2024-01-01_2024-02-10/bf.json").read_text())["days"] == 2
    feb = json.loads((reports / "dt=2024-02-01/bf.json").read_text())
    assert feb["quarantined_by_reason"] == {"missing_customer_id": 1}
    assert feb["backfill"] == {"from": "2024-01-01", "to": "2024-02-10"}
    assert not (reports / "dt=2024-01-02").exists()


def test_missing_extracts_fail_with_the_folder_named(spark, tmp_path):
    _land(tmp_path, "2024-01-01", HEADER + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n")
    with pytest.raises(LandingError, match=r"customers/dt=2024-01-02 does not exist"):
        run_ingest(spark, _opts(tmp_path, dt.date(2024, 1, 2), "one"))
    with pytest.raises(LandingError, match=r"no .*customers/dt=<day> folder for 2024-01-02 \.\. 2024-01-05"):
        run_ingest(spark, _opts(tmp_path, dt.date(2024, 1, 5), "range", date_from=dt.date(2024, 1, 2)))
    assert not (tmp_path / "silver").exists()


def test_a_range_applies_the_rules_per_extract_as_daily_runs_do(spark, tmp_path):
    """One pass over several extracts: duplicates and conflicting ids are per extract, so the same customer
    in two extracts (identical or changed) is neither; silver and records equal those of daily runs."""
    jan = (
        HEADER
        + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n"
        + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n"  # a duplicate within January
        + "C2,2023-06-01,Spain,email,none,b@x.es,B,Calle 2\n"
    )
    feb = (
        HEADER
        + "C1,2023-05-02,France,organic,none,a@x.fr,A,Rue 1\n"  # the same row as January's: kept
        + "C2,2023-06-01,Spain,email,gold,b@x.es,B,Calle 2\n"  # changed since January: kept
        + "C3,2023-07-01,Italy,ads,none,c@x.it,C,Via 3\n"
        + "C3,2023-07-01,Italy,ads,gold,c@x.it,C,Via 3\n"  # two different C3 rows in February: conflict
    )
    ranged, daily = tmp_path / "ranged", tmp_path / "daily"
    for root in (ranged, daily):
        _land(root, "2024-01-01", jan)
        _land(root, "2024-02-01", feb)
    total = run_ingest(spark, _opts(ranged, dt.date(2024, 2, 1), "bf", date_from=dt.date(2024, 1, 1)))
    assert (
        total["landed_rows"],
        total["silver_rows"],
        total["quarantined_rows"],
        total["duplicates_removed"],
    ) == (
        7,
        4,
        2,
        1,
    )
    records = {
        d: run_ingest(spark, _opts(daily, dt.date.fromisoformat(d), "day"))
        for d in ("2024-01-01", "2024-02-01")
    }
    assert records["2024-02-01"]["quarantined_by_reason"] == {"conflicting_customer_id": 2}
    assert _silver(spark, ranged) == _silver(spark, daily)
    assert set(_silver(spark, ranged)) == {
        ("2024-01-01", "C1"),
        ("2024-01-01", "C2"),
        ("2024-02-01", "C1"),
        ("2024-02-01", "C2"),
    }
    for day, record in records.items():
        in_range = json.loads(
            (ranged / f"reports/reconciliation/ingest_customers/dt={day}/bf.json").read_text()
        )
        keys = (
            "landed_rows",
            "silver_rows",
            "quarantined_rows",
            "quarantined_by_reason",
            "duplicates_removed",
        )
        assert {k: in_range[k] for k in keys} == {k: record[k] for k in keys}
        assert in_range["balanced"] and in_range["extract_date"] == day
    quarantine = spark.read.parquet(str(ranged / "quarantine/customers")).collect()
    assert sorted((r["dt"].isoformat(), r["reason"]) for r in quarantine) == [
        ("2024-02-01", "conflicting_customer_id"),
        ("2024-02-01", "conflicting_customer_id"),
    ]
