"""The features benchmark (clv_glue.bench): arguments, and one end-to-end smoke run on a tiny shop whose
reported counts must reconcile with each other and with the generator's manifest. No timing checks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from clv_glue import bench


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--customers", "0"], "--customers"),
        (["--customers", "ten"], "--customers"),
        (["--customers", "100", "--months", "12"], "--months"),
        (["--customers", "100", "--seed", "-1"], "--seed"),
        (["--customers", "100", "--cutoff", "2024-06-31"], "--cutoff"),
        (
            ["--customers", "100", "--cutoff", "2024-06-01"],
            "--cutoff",
        ),  # label window not observed by 2025-01-01
        (["--customers", "100", "--spark-driver-memory", "lots"], "--spark-driver-memory"),
        (["--customers", "100", "--shuffle-partitions", "0"], "--shuffle-partitions"),
    ],
)
def test_invalid_arguments_exit_2_naming_the_argument(args, named, capsys):
    assert bench.main(["features", *args]) == 2
    assert named in capsys.readouterr().err


def test_defaults():
    opts = bench.parse_features_args(["--customers", "100000"])
    assert (opts.months, opts.seed, opts.driver_memory) == (24, 42, "8g")
    assert opts.end == dt.date(2025, 1, 1)
    assert opts.cutoff == dt.date(2024, 1, 1)  # end minus 12 months
    assert str(opts.work_dir) == ".clv-local/bench/features-100000"


def test_smoke_run_reconciles(spark, tmp_path):
    opts = bench.parse_features_args(["--customers", "200", "--months", "14", "--work-dir", str(tmp_path)])
    report = bench.run_features_benchmark(opts, spark=spark, log=lambda _msg: None)

    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert json.loads(json.dumps(report, default=str)) == json.loads(
        (tmp_path / bench.REPORT_NAME).read_text()
    )
    assert not (tmp_path / bench.PARTIAL_REPORT_NAME).exists()
    assert [c["check"] for c in report["reconciliation"]["checks"] if not c["ok"]] == []
    assert report["reconciled"] is True
    stages = {s["name"]: s for s in report["stages"]}
    assert list(stages) == ["generate", "ingest_transactions", "ingest_customers", "sessionize", "features"]
    assert stages["generate"]["detail"]["reused"] is False

    tx = stages["ingest_transactions"]
    assert tx["input_rows"] == manifest["counts"]["transactions"]["rows"]
    assert tx["detail"]["landed_rows"] == (
        tx["detail"]["silver_rows"] + tx["detail"]["quarantined_rows"] + tx["detail"]["duplicates_removed"]
    )
    # Rows the generator left without a customer are quarantined with that reason (identical copies
    # of such a row count once).
    missing = tx["detail"]["quarantined_by_reason"]["missing_customer_id"]
    assert 0 < missing <= manifest["counts"]["transactions"]["missing_customer_rows"]
    extracts = manifest["crm_extracts"]
    assert stages["ingest_customers"]["detail"]["extract_dates"] == [e["dt"] for e in extracts]
    assert stages["ingest_customers"]["output_rows"] == sum(e["rows"] for e in extracts)
    assert extracts[-1]["rows"] == manifest["counts"]["customers"] == 200
    events = stages["sessionize"]["detail"]
    assert events["landed_events"] == manifest["counts"]["clickstream"]["events"]
    assert events["events_in_sessions"] == events["valid_events"] > 0
    assert 0 < stages["sessionize"]["output_rows"] < events["valid_events"]

    features = stages["features"]
    assert features["output_rows"] == report["reconciliation"]["eligible_customers"] > 0
    assert features["output_rows"] == report["reconciliation"]["offline_store_rows"]
    assert report["reconciliation"]["snapshot"]["cutoff_date"] == "2023-03-01"
    assert features["detail"]["observed_until"] == "2024-03-01"
    # Extracts are dated 2023-07-01, 2024-01-01 and 2024-03-01: none holds the CRM at the 2023-03-01 cutoff.
    assert features["detail"]["customers_as_of"] is None
    for stage in report["stages"]:
        memory = stage["peak_memory_mib"]
        assert stage["seconds"] > 0 and stage["peak_rss_mib"] == memory["rss"] >= memory["anon"] > 0
    # The Spark stages ran in the JVM of the test session, a child of this process.
    assert 0 < stages["features"]["peak_memory_mib"]["jvm_rss"] < stages["features"]["peak_rss_mib"]

    # A second run with the same arguments reuses the generated data.
    manifest_again, reused = bench.ensure_dataset(opts, log=lambda _msg: None)
    assert reused and manifest_again == manifest
