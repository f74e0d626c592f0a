"""Customers extract -> silver customers (PII hashed), quarantine and reconciliation."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from clv_glue.common.pii import hmac_sha256_hex
from clv_glue.ingest.job import IngestOptions, run_ingest

FIXTURES = Path(__file__).parent / "fixtures"
SALT = b"customers-salt-0123456789"


def test_customers_extract_is_hashed_deduplicated_and_reconciled(spark, tmp_path):
    folder = tmp_path / "landing" / "customers"
    folder.mkdir(parents=True)
    with gzip.open(folder / "customers.csv.gz", "wb") as fh:
        fh.write((FIXTURES / "customers_sample.csv").read_bytes())
    opts = IngestOptions(
        date=dt.date(2024, 3, 1),
        landing_uri=str(tmp_path / "landing"),
        silver_uri=str(tmp_path / "silver"),
        quarantine_uri=str(tmp_path / "quarantine"),
        reports_uri=str(tmp_path / "reports"),
        run_id="cust-1",
        salt=SALT,
        dataset="customers",
    )
    record = run_ingest(spark, opts)
    silver = {
        r["customer_id"]: r.asDict() for r in spark.read.parquet(str(tmp_path / "silver/customers")).collect()
    }
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
