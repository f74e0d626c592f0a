"""Feature contract JSON, offline-store writer, snapshot registry, PutRecord batching, job entry."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from clv_glue.features import contract as C  # noqa: N812
from clv_glue.features import store
from clv_glue.features.build import LabelWindowNotObservedError
from clv_glue.features.job import parse_args, run

REPO = Path(__file__).resolve().parents[2]
CONTRACT_JSON = REPO / "contracts" / "feature-contract.json"
PACKAGE_JSON = REPO / "glue-scripts" / "clv_glue" / "features" / "feature_contract.json"
WRITE_TIME = dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
FG = "clv-customer-features"


# ------------------------------------------------------------------ contract


def test_package_copy_is_the_exported_contract():
    # Same JSON value (a JSON formatter may lay the package copy out differently).
    assert json.loads(PACKAGE_JSON.read_text()) == json.loads(CONTRACT_JSON.read_text())
    doc = C.load_contract_document(str(CONTRACT_JSON))
    assert doc["schema_hash"] == C.SCHEMA_HASH == C.compute_schema_hash(doc)


def test_tampered_contract_fails_hash_check(tmp_path):
    doc = json.loads(CONTRACT_JSON.read_text())
    doc["features"][5]["type"] = "String"
    bad = tmp_path / "contract.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(C.ContractError, match="does not match its content"):
        C.load_contract_document(str(bad))


def test_contract_lists():
    assert C.FEATURE_COLUMNS[0] == C.RECORD_IDENTIFIER == "customer_id"
    assert C.EVENT_TIME_FEATURE in C.FEATURE_COLUMNS
    assert len(set(C.FEATURE_COLUMNS)) == len(C.FEATURE_COLUMNS)
    assert C.LABELS == ("label_revenue_12m", "label_churn_6m")
    assert not set(C.MODEL_INPUTS) & {*C.LABELS, "customer_id", "event_time", "cutoff_date", "snapshot_id"}
    assert set(C.CATEGORICAL_INPUTS) == {"country", "acquisition_channel", "loyalty_status"}
    assert [f.name for f in C.spark_schema().fields] == list(C.FEATURE_COLUMNS)


def test_feature_group_definitions_check():
    defs = [{"FeatureName": f.name, "FeatureType": f.type} for f in C.FEATURES]
    assert store.check_feature_definitions(defs) == []
    defs[4]["FeatureType"] = "String"
    problems = store.check_feature_definitions(
        [*defs[:-1], {"FeatureName": "extra", "FeatureType": "String"}]
    )
    assert f"type of {defs[4]['FeatureName']}: feature group String, contract Integral" in problems
    assert "missing in feature group: label_churn_6m (Integral)" in problems
    assert "not in contract: extra" in problems


# ------------------------------------------------------------------ layout


def test_offline_store_layout_names():
    created = dt.datetime(2020, 7, 1, 10, 0, tzinfo=dt.UTC)  # epoch 1593597600
    uri = store.offline_store_data_uri("s3://bucket/prefix/", "111122223333", "eu-west-1", FG, created)
    assert uri == f"s3://bucket/prefix/111122223333/sagemaker/eu-west-1/offline-store/{FG}-1593597600/data"
    assert store.partition_values("2024-03-09T07:00:00Z") == {
        "year": "2024",
        "month": "03",
        "day": "09",
        "hour": "07",
    }
    assert (
        store.partition_path("x/data", "2024-03-09T07:00:00Z") == "x/data/year=2024/month=03/day=09/hour=07"
    )
    with pytest.raises(ValueError, match="invalid feature group name"):
        store.offline_store_data_uri("s3://b", "1", "r", "bad name", created)


def _features_frame(spark, customers: list[str], cutoff: str = "2024-01-01"):
    rows = []
    for cid in customers:
        row = {}
        for f in C.FEATURES:
            row[f.name] = {"Integral": 1, "Fractional": 0.5, "String": "x"}[f.type]
        row.update(customer_id=cid, event_time=f"{cutoff}T00:00:00Z", cutoff_date=cutoff, label_churn_6m=None)
        rows.append(tuple(row[c] for c in C.FEATURE_COLUMNS))
    return spark.createDataFrame(rows, C.spark_schema())


def test_local_offline_store_layout_and_columns(spark, tmp_path):
    root = tmp_path / "offline"
    local = store.LocalOfflineStore(
        spark, str(root), FG, creation_time=dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    )
    data_uri = local.write(_features_frame(spark, ["a", "b"]), WRITE_TIME)
    # A second write (a rerun) lands in the same feature group folder and appends.
    assert local.write(_features_frame(spark, ["a"]), WRITE_TIME + dt.timedelta(hours=1)) == data_uri
    assert data_uri == f"{root}/000000000000/sagemaker/local/offline-store/{FG}-1672531200/data"

    files = sorted(root.rglob("*.parquet"))
    rel = {str(p.parent.relative_to(root)) for p in files}
    assert rel == {
        f"000000000000/sagemaker/local/offline-store/{FG}-1672531200/data/year=2024/month=01/day=01/hour=00"
    }
    table = pq.ParquetDataset([str(p) for p in files], partitioning=None).read()
    assert table.column_names == [*C.FEATURE_COLUMNS, "write_time", "api_invocation_time", "is_deleted"]
    assert str(table.schema.field("write_time").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("recency_days").type) == "int64"
    assert str(table.schema.field("spend_30d").type) == "double"
    assert table.num_rows == 3
    assert set(table.column("is_deleted").to_pylist()) == {False}
    times = sorted(t.replace(tzinfo=dt.UTC) for t in table.column("api_invocation_time").to_pylist())
    assert times == [WRITE_TIME, WRITE_TIME, WRITE_TIME + dt.timedelta(hours=1)]


def test_snapshot_record_roundtrip(spark, tmp_path):
    rec = store.SnapshotRecord(
        snapshot_id="20240101-nolabels-abc",
        cutoff_date="2024-01-01",
        event_time="2024-01-01T00:00:00Z",
        with_labels=False,
        row_count=7,
        schema_hash=C.SCHEMA_HASH,
        contract_version=C.CONTRACT_VERSION,
        feature_group_name=FG,
        offline_store_data_uri="x",
        write_time="2024-01-02T03:04:05.678901Z",
        run_id="run-1",
        observed_until=None,
    )
    uri = store.register_snapshot(spark, str(tmp_path / "snapshots"), rec)
    assert uri.endswith("/snapshots/20240101-nolabels-abc.json")
    assert json.loads(Path(uri).read_text()) == rec.__dict__


# ------------------------------------------------------------------ PutRecord batching


class _ClientError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeRuntime:
    def __init__(self, script: dict[str, list[str]]):
        self.script = script  # customer_id -> error codes to raise before succeeding
        self.calls: list[dict] = []

    def put_record(self, **kwargs):
        self.calls.append(kwargs)
        cid = next(v["ValueAsString"] for v in kwargs["Record"] if v["FeatureName"] == "customer_id")
        queue = self.script.get(cid, [])
        if queue:
            raise _ClientError(queue.pop(0))


def test_put_records_retries_throttling_and_reports_failures():
    rows = [
        {"customer_id": "ok", "recency_days": 3, "spend_30d": 1.5, "country": "UK", "label_churn_6m": None},
        {"customer_id": "throttled", "recency_days": 4},
        {"customer_id": "invalid", "recency_days": 5},
        {"customer_id": "always", "recency_days": 6},
    ]
    client = FakeRuntime(
        {
            "throttled": ["ThrottlingException", "ThrottlingException"],
            "invalid": ["ValidationError"],
            "always": ["ThrottlingException"] * 9,
        }
    )
    sleeps: list[float] = []
    failures = store.put_records(rows, client, FG, max_attempts=4, sleep=sleeps.append)
    assert [f["customer_id"] for f in failures] == ["invalid", "always"]
    assert failures[0]["error"].startswith("ValidationError")
    per_customer = {}
    for call in client.calls:
        cid = call["Record"][0]["ValueAsString"]
        per_customer[cid] = per_customer.get(cid, 0) + 1
    assert per_customer == {"ok": 1, "throttled": 3, "invalid": 1, "always": 4}
    assert len(sleeps) == 2 + 3
    first = client.calls[0]
    assert first["FeatureGroupName"] == FG and first["TargetStores"] == ["OnlineStore"]
    assert first["Record"] == [
        {"FeatureName": "customer_id", "ValueAsString": "ok"},
        {"FeatureName": "recency_days", "ValueAsString": "3"},
        {"FeatureName": "spend_30d", "ValueAsString": "1.5"},
        {"FeatureName": "country", "ValueAsString": "UK"},
    ]


# ------------------------------------------------------------------ job entry, end to end on local files


def test_job_end_to_end(spark, tmp_path):
    from pyspark.sql import Row

    silver = tmp_path / "silver"
    t = dt.datetime
    rows = [
        Row(invoice_id="1", customer_id="a", invoice_ts=t(2023, 12, 1, 9), sku="P", quantity=1, amount=10.0,
            is_cancellation=False, is_return=False, is_gift_card=False, is_non_product=False, country="UK",
            dt=dt.date(2023, 12, 1)),
        Row(invoice_id="2", customer_id="b", invoice_ts=t(2023, 12, 5, 9), sku="P", quantity=2, amount=20.0,
            is_cancellation=False, is_return=False, is_gift_card=False, is_non_product=False, country="UK",
            dt=dt.date(2023, 12, 5)),
        Row(invoice_id="3", customer_id="c", invoice_ts=t(2024, 1, 5, 9), sku="P", quantity=2, amount=20.0,
            is_cancellation=False, is_return=False, is_gift_card=False, is_non_product=False, country="UK",
            dt=dt.date(2024, 1, 5)),
    ]  # fmt: skip
    spark.createDataFrame(rows).write.partitionBy("dt").parquet(str(silver / "transactions"))
    args = parse_args(
        [
            "--JOB_NAME", "features",  # Glue's own arguments are ignored
            "--cutoff", "2024-01-01",
            "--silver-uri", str(silver),
            "--offline-store-uri", str(tmp_path / "offline"),
            "--feature-group-name", FG,
            "--snapshots-uri", str(tmp_path / "features" / "snapshots"),
            "--with-labels", "false",
            "--observed-until", "",
            "--run-id", "exec-1",
        ]
    )  # fmt: skip
    record = run(spark, args, now=WRITE_TIME)
    assert record.row_count == 2  # c buys after the cutoff
    assert record.snapshot_id == f"20240101-nolabels-{C.SCHEMA_HASH[:12]}"
    saved = json.loads((tmp_path / "features" / "snapshots" / f"{record.snapshot_id}.json").read_text())
    assert saved["row_count"] == 2 and saved["schema_hash"] == C.SCHEMA_HASH and saved["run_id"] == "exec-1"
    files = list((tmp_path / "offline").rglob("*.parquet"))
    assert files and all(re.search(r"/year=2024/month=01/day=01/hour=00/", str(p)) for p in files)
    table = pq.ParquetDataset([str(p) for p in files], partitioning=None).read()
    assert sorted(table.column("customer_id").to_pylist()) == ["a", "b"]
    assert table.column("sessions_90d").null_count == 2  # no sessions table under the silver root

    # With labels and no --observed-until: inferred from all transactions (latest 2024-01-05 -> 2024-01-06).
    args.with_labels = True
    with pytest.raises(LabelWindowNotObservedError, match="only until 2024-01-06"):
        run(spark, args, now=WRITE_TIME)


def test_job_arguments_are_validated():
    base = [
        "--silver-uri",
        "s",
        "--offline-store-uri",
        "o",
        "--feature-group-name",
        FG,
        "--snapshots-uri",
        "x",
    ]
    with pytest.raises(SystemExit):
        parse_args([*base, "--cutoff", "2024-13-01", "--with-labels", "false", "--run-id", "r"])
    with pytest.raises(SystemExit):
        parse_args([*base, "--cutoff", "2024-01-01", "--with-labels", "yes", "--run-id", "r"])
    labelled = ["--cutoff", "2024-01-01", "--with-labels", "true", "--observed-until", "2025-01-01"]
    ok = parse_args([*base, *labelled, "--run-id", "r"])
    assert ok.with_labels is True and ok.observed_until == dt.date(2025, 1, 1) and ok.store == "local"
