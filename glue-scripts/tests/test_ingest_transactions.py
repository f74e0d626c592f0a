"""Transactions ingest on hand-made landing files: where every record goes, and why.

Each scenario runs the job's runner once and collects silver and quarantine once; the tests only
read those Python lists, so the suite stays at a handful of Spark jobs.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from clv_glue.common.pii import hmac_sha256_hex
from clv_glue.common.quality import ReconciliationError
from clv_glue.ingest import job as ingest_job
from clv_glue.ingest.job import IngestOptions, run_ingest

FIXTURES = Path(__file__).parent / "fixtures"
SALT = b"test-salt-0123456789"


def land(root: Path, dataset_dir: str, files: dict[str, str | bytes]) -> None:
    """Write landing files (gzip when the name ends in .gz); a value is a fixture name or the CSV text."""
    folder = root / "landing" / dataset_dir
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode() if "\n" in content else (FIXTURES / content).read_bytes()
        if name.endswith(".gz"):
            with gzip.open(folder / name, "wb") as fh:
                fh.write(data)
        else:
            (folder / name).write_bytes(data)


def options(root: Path, date: str, **kw) -> IngestOptions:
    return IngestOptions(
        date=dt.date.fromisoformat(date),
        landing_uri=str(root / "landing"),
        silver_uri=str(root / "silver"),
        quarantine_uri=str(root / "quarantine"),
        reports_uri=str(root / "reports"),
        run_id=kw.pop("run_id", f"run-{date}"),
        salt=SALT,
        **kw,
    )


def invoice_of(raw_row: str) -> str:
    """Invoice number of a quarantined raw row (JSON of the landed columns, or a malformed line)."""
    if not raw_row.startswith("{"):
        return raw_row.split(",")[0]
    raw = json.loads(raw_row)
    return next(raw[k] for k in ("invoice_id", "InvoiceNo", "Invoice") if k in raw)


def read_tables(spark, root: Path, table: str = "transactions"):
    silver = [r.asDict() for r in spark.read.parquet(str(root / "silver" / table)).collect()]
    qpath = root / "quarantine" / table
    quarantine = [r.asDict() for r in spark.read.parquet(str(qpath)).collect()] if qpath.exists() else []
    return silver, quarantine


@pytest.fixture(scope="module")
def generic(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("generic")
    land(
        root,
        "transactions/dt=2024-03-01",
        {
            "transactions_2024-03-01.csv.gz": "transactions_generic_2024-03-01.csv",
            "transactions_2024-03-01_late.csv.gz": "transactions_generic_2024-03-01_late.csv",
        },
    )
    record = run_ingest(spark, options(root, "2024-03-01", outlier_percentile=0.8))
    silver, quarantine = read_tables(spark, root)
    return SimpleNamespace(root=root, record=record, silver=silver, quarantine=quarantine)


def lines(silver, invoice):
    return [r for r in silver if r["invoice_id"] == invoice]


def test_every_bad_input_class_is_quarantined_with_its_reason_and_raw_row(generic):
    got = {invoice_of(q["raw_row"]): q["reason"] for q in generic.quarantine}
    assert got == {
        "100004": "missing_customer_id",
        "100005": "bad_quantity",
        "100006": "bad_unit_price",
        "100007": "bad_invoice_ts",  # 2024-03-32
        "100008": "bad_invoice_ts",  # 01/03/2024 14:05
        "100009": "bad_sku",  # X7#QZ9!
        "100010": "bad_sku",  # ZQ9X7K2L: alphanumeric garbage
        "100011": "unknown_currency",  # JPY
        "100014": "malformed_row",  # 4 fields instead of 11
    }
    silver_invoices = {r["invoice_id"] for r in generic.silver}
    assert silver_invoices.isdisjoint(got)
    raw = {invoice_of(q["raw_row"]): q for q in generic.quarantine}
    assert json.loads(raw["100005"]["raw_row"])["quantity"] == "two"
    assert json.loads(raw["100010"]["raw_row"])["sku"] == "ZQ9X7K2L"
    assert json.loads(raw["100011"]["raw_row"])["currency"] == "JPY"
    assert raw["100014"]["raw_row"] == "100014,C009,2024-03-01 15:30:00,22423"
    assert raw["100014"]["reasons"] == ["malformed_row"]
    assert raw["100004"]["landed_copies"] == 2  # a duplicated bad row: quarantined once, the copy counted
    assert all(
        q["dt"] == dt.date(2024, 3, 1) and q["ingest_run_id"] == "run-2024-03-01" for q in generic.quarantine
    )


def test_reconciliation_record_balances_and_is_written(generic):
    rec = generic.record
    assert (rec["landed_rows"], rec["silver_rows"], rec["quarantined_rows"], rec["duplicates_removed"]) == (
        19,
        8,
        9,
        2,
    )
    assert rec["landed_rows"] == rec["silver_rows"] + rec["quarantined_rows"] + rec["duplicates_removed"]
    assert rec["quarantined_by_reason"] == {
        "bad_invoice_ts": 2,
        "bad_quantity": 1,
        "bad_sku": 2,
        "bad_unit_price": 1,
        "malformed_row": 1,
        "missing_customer_id": 1,
        "unknown_currency": 1,
    }
    assert rec["silver_rows_by_dt"] == {"2024-02-28": 1, "2024-03-01": 7}
    assert len(rec["source_files"]) == 2
    written = json.loads(Path(rec["report_uri"]).read_text())
    assert written["status"] == "succeeded" and written["landed_rows"] == 19 and written["balanced"] is True
    assert Path(rec["report_uri"]).parts[-3:] == (
        "ingest_transactions",
        "dt=2024-03-01",
        "run-2024-03-01.json",
    )


def test_exact_duplicates_collapse_to_one_line(generic):
    assert len(lines(generic.silver, "100002")) == 1
    assert len(generic.silver) == 8


def test_cancellations_and_returns_net_against_spend(generic):
    (cancel,) = lines(generic.silver, "C100001")
    assert cancel["is_cancellation"] and cancel["is_return"] and cancel["amount"] == pytest.approx(-5.1)
    (ret,) = lines(generic.silver, "100012")
    assert ret["is_return"] and not ret["is_cancellation"] and ret["amount"] == pytest.approx(-5.95)
    assert generic.record["cancellation_rows"] == 1 and generic.record["return_rows"] == 2


def test_prices_are_converted_to_gbp_and_skus_flagged(generic):
    (eur,) = lines(generic.silver, "100002")
    assert eur["currency_original"] == "EUR" and eur["unit_price"] == pytest.approx(8.6)
    assert eur["amount"] == pytest.approx(17.2)
    (usd,) = lines(generic.silver, "100003")
    assert usd["unit_price"] == pytest.approx(39.5) and usd["is_gift_card"] and not usd["is_non_product"]
    by_sku = {r["sku"]: r for r in lines(generic.silver, "100001")}
    assert set(by_sku) == {"85123A", "POST"}
    assert by_sku["POST"]["is_non_product"] and not by_sku["85123A"]["is_non_product"]
    assert by_sku["85123A"]["invoice_ts"] == dt.datetime(2024, 3, 1, 9, 15)
    assert by_sku["85123A"]["quantity"] == 6 and by_sku["85123A"]["amount"] == pytest.approx(15.3)


def test_outliers_are_capped_at_the_days_percentile_when_there_is_no_reference(generic):
    rec = generic.record
    assert rec["outlier_reference"]["source"] == "self" and rec["outlier_reference"]["rows"] == 6
    assert rec["outlier_cap_gbp"] == pytest.approx(39.5)  # 80th percentile of the 6 positive line amounts
    (big,) = lines(generic.silver, "100013")
    assert big["amount_raw"] == pytest.approx(80995 * 2.08) and big["amount"] == pytest.approx(39.5)
    assert big["is_outlier_capped"]
    assert [r["invoice_id"] for r in generic.silver if r["is_outlier_capped"]] == ["100013"]
    assert rec["outliers_capped"] == 1


def test_pii_is_hmac_hashed_and_the_raw_values_never_reach_silver(generic):
    (row,) = [r for r in lines(generic.silver, "100001") if r["sku"] == "POST"]
    assert row["email_hash"] == hmac_sha256_hex("alice.smith@example.com", SALT)
    assert row["name_hash"] == hmac_sha256_hex("alice smith", SALT)
    assert "email" not in row and "name" not in row
    raw_values = ("Alice.Smith@Example.com", "alice.smith@example.com", "Alice Smith", "bob@example.de")
    for r in generic.silver:
        assert not any(v in str(value) for value in r.values() for v in raw_values)
    files = list((generic.root / "silver" / "transactions").rglob("*.parquet"))
    assert files
    for f in files:
        data = f.read_bytes()
        assert not any(v.encode() in data for v in raw_values), f


def test_late_rows_land_in_their_invoice_date_partition_of_this_delivery(generic):
    (late,) = lines(generic.silver, "099990")
    assert late["dt"] == dt.date(2024, 2, 28) and late["ingest_dt"] == dt.date(2024, 3, 1)
    assert (generic.root / "silver/transactions/dt=2024-02-28/ingest_dt=2024-03-01").is_dir()


HEADER = "invoice_id,customer_id,invoice_ts,sku,quantity,unit_price,currency,country,channel,email,name\n"
DAY1 = (
    HEADER
    + """200001,C1,2024-03-01 09:00:00,22423,1,10.00,GBP,United Kingdom,organic,a@x.com,A
200002,C2,2024-03-01 10:00:00,22423,2,10.00,GBP,United Kingdom,organic,b@x.com,B
200003,C3,2024-03-01 11:00:00,22423,3,10.00,GBP,United Kingdom,organic,c@x.com,C
"""
)
DAY2 = (
    HEADER
    + """200010,C1,2024-03-02 09:00:00,22423,5,5.00,GBP,United Kingdom,organic,a@x.com,A
200011,C2,2024-03-02 09:30:00,22423,100,10.00,GBP,United Kingdom,organic,b@x.com,B
199999,C3,2024-03-01 23:00:00,22423,50,10.00,GBP,United Kingdom,organic,c@x.com,C
"""
)
DAY2_CORRECTED = (
    HEADER
    + """200010,C1,2024-03-02 09:00:00,22423,6,5.00,GBP,United Kingdom,organic,a@x.com,A
200011,C2,2024-03-02 09:30:00,22423,100,10.00,GBP,United Kingdom,organic,b@x.com,B
"""
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_rerun_of_a_date_replaces_only_that_delivery_and_uses_the_previous_days_as_reference(spark, tmp_path):
    land(tmp_path, "transactions/dt=2024-03-01", {"t.csv": DAY1})
    land(tmp_path, "transactions/dt=2024-03-02", {"t.csv": DAY2})
    table = tmp_path / "silver" / "transactions"
    run_ingest(spark, options(tmp_path, "2024-03-01", outlier_percentile=0.99))
    day1_files = snapshot(table / "dt=2024-03-01" / "ingest_dt=2024-03-01")
    first = run_ingest(spark, options(tmp_path, "2024-03-02", outlier_percentile=0.99, run_id="a"))
    # Reference = day 1's three lines (10, 20, 30): the 1000 GBP line is capped at 30.
    assert first["outlier_reference"]["source"] == "silver" and first["outlier_reference"]["rows"] == 3
    assert first["outlier_cap_gbp"] == pytest.approx(30.0)
    assert (table / "dt=2024-03-01" / "ingest_dt=2024-03-02").is_dir()  # the late 500 GBP line
    silver_a = sorted(
        (r["invoice_id"], r["amount"], str(r["dt"]))
        for r in spark.read.parquet(str(table)).where("ingest_dt = '2024-03-02'").collect()
    )
    assert silver_a == [
        ("199999", 30.0, "2024-03-01"),
        ("200010", 25.0, "2024-03-02"),
        ("200011", 30.0, "2024-03-02"),
    ]

    same = run_ingest(spark, options(tmp_path, "2024-03-02", outlier_percentile=0.99, run_id="b"))
    # The first run's late line (ingest_dt = this date) must not leak into the reference: same cap, same rows.
    assert same["outlier_cap_gbp"] == pytest.approx(30.0) and same["silver_rows"] == 3

    (tmp_path / "landing/transactions/dt=2024-03-02/t.csv").write_text(DAY2_CORRECTED)
    fixed = run_ingest(spark, options(tmp_path, "2024-03-02", outlier_percentile=0.99, run_id="c"))
    assert [Path(p).parent.name for p in fixed["stale_partitions_removed"]] == ["dt=2024-03-01"]
    assert not (table / "dt=2024-03-01" / "ingest_dt=2024-03-02").exists()
    assert snapshot(table / "dt=2024-03-01" / "ingest_dt=2024-03-01") == day1_files
    rows = spark.read.parquet(str(table)).collect()
    by_delivery = sorted(
        (str(r["ingest_dt"]), r["invoice_id"], r["quantity"], r["ingest_run_id"]) for r in rows
    )
    assert by_delivery == [
        ("2024-03-01", "200001", 1, "run-2024-03-01"),
        ("2024-03-01", "200002", 2, "run-2024-03-01"),
        ("2024-03-01", "200003", 3, "run-2024-03-01"),
        ("2024-03-02", "200010", 6, "c"),
        ("2024-03-02", "200011", 100, "c"),
    ]
    assert not (tmp_path / "quarantine" / "transactions" / "dt=2024-03-02").exists()


def test_online_retail_preset_maps_uci_rows(spark, tmp_path):
    land(tmp_path, "transactions/dt=2011-12-09", {"Online_Retail.csv.gz": "online_retail_sample.csv"})
    record = run_ingest(spark, options(tmp_path, "2011-12-09", layout="online-retail"))
    silver, quarantine = read_tables(spark, tmp_path)
    assert (record["landed_rows"], record["silver_rows"], record["quarantined_rows"]) == (9, 7, 2)
    by_key = {(r["invoice_id"], r["sku"]): r for r in silver}
    heart = by_key[("536365", "85123A")]
    assert heart["customer_id"] == "17850" and heart["country"] == "United Kingdom"
    assert heart["invoice_ts"] == dt.datetime(2010, 12, 1, 8, 26)  # GMT in winter = UTC
    assert (
        heart["quantity"] == 6
        and heart["unit_price"] == pytest.approx(2.55)
        and heart["currency_original"] == "GBP"
    )
    assert heart["channel"] is None and heart["email_hash"] is None and heart["name_hash"] is None
    assert by_key[("536370", "POST")]["is_non_product"]
    assert by_key[("536520", "21889")]["amount"] == pytest.approx(1.25)  # quoted description with a comma
    discount = by_key[("C536379", "D")]
    assert (
        discount["is_cancellation"]
        and discount["is_non_product"]
        and discount["amount"] == pytest.approx(-27.5)
    )
    voucher = by_key[("555150", "gift_0001_20")]
    assert voucher["is_gift_card"] and voucher["country"] == "EIRE"
    assert voucher["invoice_ts"] == dt.datetime(2011, 5, 31, 23, 30)  # 00:30 BST
    assert voucher["dt"] == dt.date(2011, 5, 31)
    assert ("556444", "DCGS0066P") in by_key
    reasons = {invoice_of(q["raw_row"]): q["reasons"] for q in quarantine}
    assert reasons == {
        "536414": ["missing_customer_id"],
        "A563185": ["missing_customer_id", "negative_unit_price"],
    }
    raw = json.loads(next(q["raw_row"] for q in quarantine if "A563185" in q["raw_row"]))
    assert raw["InvoiceNo"] == "A563185" and raw["UnitPrice"] == "-11062.06"


def test_online_retail_ii_preset_maps_its_column_names(spark, tmp_path):
    land(tmp_path, "transactions/dt=2010-12-09", {"online_retail_II.csv": "online_retail_ii_sample.csv"})
    record = run_ingest(spark, options(tmp_path, "2010-12-09", layout="online-retail-ii"))
    silver, quarantine = read_tables(spark, tmp_path)
    assert sorted((r["invoice_id"], r["sku"], r["customer_id"]) for r in silver) == [
        ("489434", "79323P", "13085"),
        ("489434", "85048", "13085"),
    ]
    assert [(invoice_of(q["raw_row"]), q["reason"]) for q in quarantine] == [("489436", "bad_sku")]
    assert record["balanced"]


def test_unbalanced_counts_fail_the_job_before_silver_is_written(spark, tmp_path, monkeypatch):
    land(tmp_path, "transactions/dt=2024-03-01", {"t.csv": DAY1})
    unpersisted = []

    def fake_ingest(raw, layout, ref, **kw):
        record = {"job": "ingest_transactions", "date": "2024-03-01", "landed_rows": 3, "silver_rows": 2}
        record.update(quarantined_rows=0, duplicates_removed=0, balanced=False)
        return SimpleNamespace(record=record, unpersist=lambda: unpersisted.append(True))

    monkeypatch.setattr(ingest_job, "ingest_transactions", fake_ingest)
    with pytest.raises(ReconciliationError, match="landed_rows=3 but"):
        run_ingest(spark, options(tmp_path, "2024-03-01", run_id="bad"))
    report = json.loads(
        (tmp_path / "reports/reconciliation/ingest_transactions/dt=2024-03-01/bad.json").read_text()
    )
    assert report["status"] == "failed" and report["balanced"] is False
    assert not (tmp_path / "silver").exists() and unpersisted == [True]


def test_missing_delivery_fails_with_the_path(spark, tmp_path):
    with pytest.raises(ValueError, match=f"{os.sep}transactions{os.sep}dt=2024-03-05 does not exist"):
        run_ingest(spark, options(tmp_path, "2024-03-05"))


def test_a_file_that_does_not_fit_the_layout_fails_naming_the_missing_columns(spark, tmp_path):
    land(tmp_path, "transactions/dt=2024-03-01", {"t.csv": DAY1})
    with pytest.raises(ValueError, match=r"layout 'online-retail': columns \['InvoiceNo', 'CustomerID'"):
        run_ingest(spark, options(tmp_path, "2024-03-01", layout="online-retail"))
