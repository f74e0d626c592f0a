"""The Glue entries run as the local runtime runs them: a fresh Python process with Glue-style arguments."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def clean_env() -> dict[str, str]:
    """The environment without what the test session's Spark fixture set (the entry must set it up itself)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}


def run_job(script: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "glue-scripts" / "jobs" / script), "--JOB_NAME", script[:-3], *args],
        cwd=REPO,
        env={**clean_env(), "CLV_SPARK_MASTER": "local[2]", "CLV_SPARK_DRIVER_MEMORY": "1g", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ingest_entry_runs_with_s3_uris_mapped_under_the_local_root(tmp_path):
    landing = tmp_path / "raw-bucket" / "landing" / "transactions" / "dt=2024-03-01"
    landing.mkdir(parents=True)
    with gzip.open(landing / "transactions_2024-03-01.csv.gz", "wb") as fh:
        fh.write((FIXTURES / "transactions_generic_2024-03-01.csv").read_bytes())
    args = [
        "--date",
        "2024-03-01",
        "--landing-uri",
        "s3://raw-bucket/landing",
        "--silver-uri",
        "s3://curated/silver",
    ]
    args += ["--quarantine-uri", "s3://raw-bucket/quarantine", "--reports-uri", "s3://artifacts/reports"]
    args += [
        "--pii-salt-secret",
        "local:entry-test-salt-0123",
        "--run-id",
        "exec-1",
        "--TempDir",
        "s3://tmp/x",
    ]
    done = run_job("ingest_transactions.py", args, {"CLV_LOCAL_ROOT": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["landed_rows"], summary["silver_rows"], summary["quarantined_rows"]) == (18, 7, 9)
    report = tmp_path / "artifacts/reports/reconciliation/ingest_transactions/dt=2024-03-01/exec-1.json"
    assert summary["report_uri"] == str(report) and report.is_file()
    assert (tmp_path / "curated/silver/transactions/dt=2024-03-01/ingest_dt=2024-03-01").is_dir()


def test_entries_reject_bad_arguments_before_starting_spark(tmp_path):
    done = run_job("ingest_transactions.py", ["--date", "2024-03-01"], {})
    assert done.returncode != 0 and "--landing-uri" in done.stderr
    args = ["--date", "2024-13-01", "--landing-uri", "a", "--silver-uri", "b", "--quarantine-uri", "c"]
    done = run_job("sessionize_clickstream.py", [*args, "--reports-uri", "d"], {})
    assert done.returncode != 0 and "--date must be a date YYYY-MM-DD, got '2024-13-01'" in done.stderr
    no_root = {"CLV_LOCAL_ROOT": ""}
    args = [
        "--date",
        "2024-03-01",
        "--landing-uri",
        "s3://raw/landing",
        "--silver-uri",
        "b",
        "--quarantine-uri",
        "c",
    ]
    done = run_job("sessionize_clickstream.py", [*args, "--reports-uri", "d"], no_root)
    assert done.returncode != 0 and "need AWS Glue, or CLV_LOCAL_ROOT set" in done.stderr
