"""I/O around the ingest transforms: what the Glue entry glue-scripts/jobs/ingest_transactions.py calls.

Locations (all roots are URIs; table folders are appended here):
  read   <landing>/transactions/dt=<date>/*.csv[.gz]      (dataset transactions)
         <landing>/customers/*.csv[.gz]                    (dataset customers)
         <silver>/transactions  dt in [date-N, date-1] and ingest_dt < date  (outlier reference window)
  write  <silver>/transactions/dt=<invoice date>/ingest_dt=<date>/   (dynamic partition overwrite)
         <silver>/customers/                               (full snapshot, overwritten)
         <quarantine>/<dataset>/dt=<date>/                 (dynamic partition overwrite)
         <reports>/reconciliation/ingest_<dataset>/dt=<date>/<run_id>.json
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from clv_glue.common import fs
from clv_glue.common.contracts import load_layout, load_reference_data
from clv_glue.common.paths import join_uri
from clv_glue.common.quality import check_balance, to_json
from clv_glue.ingest.customers import ingest_customers
from clv_glue.ingest.landing import LandingError, read_landing_csv
from clv_glue.ingest.transactions import assert_reconciled, ingest_transactions

DATASETS = ("transactions", "customers")


@dataclass(frozen=True)
class IngestOptions:
    date: dt.date
    landing_uri: str
    silver_uri: str
    quarantine_uri: str
    reports_uri: str
    run_id: str
    salt: bytes
    dataset: str = "transactions"
    layout: str = "generic"
    outlier_percentile: float = 0.999
    reference_days: int = 30
    contracts_dir: str | None = None

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"--dataset must be one of {DATASETS}, got {self.dataset!r}")
        if not 0 < self.outlier_percentile <= 1:
            raise ValueError(f"--outlier-percentile must be in (0, 1], got {self.outlier_percentile}")
        if self.reference_days < 0:
            raise ValueError(f"--reference-days must be >= 0, got {self.reference_days}")
        if not self.run_id or "/" in self.run_id:
            raise ValueError(f"--run-id must be non-empty and without '/', got {self.run_id!r}")


def report_uri(reports_uri: str, dataset: str, date: dt.date, run_id: str) -> str:
    return join_uri(
        reports_uri, "reconciliation", f"ingest_{dataset}", f"dt={date.isoformat()}", f"{run_id}.json"
    )


def read_reference_amounts(spark: SparkSession, table_uri: str, date: dt.date, days: int) -> DataFrame | None:
    """amount_raw of silver lines dated [date-days, date-1] and delivered before `date`, or None."""
    if days == 0 or not fs.glob(spark, join_uri(table_uri, "dt=*")):
        return None
    start = date - dt.timedelta(days=days)
    return (
        spark.read.option("basePath", table_uri)
        .parquet(table_uri)
        .where(
            (F.col("dt") >= F.lit(start)) & (F.col("dt") < F.lit(date)) & (F.col("ingest_dt") < F.lit(date))
        )
        .select("amount_raw")
    )


def _write_partitioned(df: DataFrame, uri: str, *partition_cols: str) -> None:
    (
        df.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(*partition_cols)
        .parquet(uri)
    )


def remove_stale_delivery_partitions(
    spark: SparkSession, table_uri: str, date: dt.date, written_dts: list[str]
) -> list[str]:
    """Delete dt=*/ingest_dt=<date> folders this run did not write (left by an earlier run of the
    same delivery whose rows had other invoice dates). Returns what was deleted."""
    keep = {f"dt={d}" for d in written_dts}
    removed = []
    for path in fs.glob(spark, join_uri(table_uri, "dt=*", f"ingest_dt={date.isoformat()}")):
        if path.rstrip("/").split("/")[-2] not in keep:
            fs.delete(spark, path)
            removed.append(path)
    return removed


def _landing_or_fail(spark: SparkSession, uri: str) -> DataFrame:
    if not fs.exists(spark, uri):
        raise LandingError(f"no landing files: {uri} does not exist")
    return read_landing_csv(spark, uri)


def run_ingest(spark: SparkSession, opts: IngestOptions) -> dict[str, Any]:
    """Run one ingest (transactions for a delivery date, or the customers snapshot) and return its record.

    The record is written before anything else fails the job; silver is only written when counts reconcile.
    """
    if opts.dataset == "customers":
        return _run_customers(spark, opts)
    layout = load_layout(opts.layout, opts.contracts_dir)
    ref = load_reference_data(opts.contracts_dir)
    landing = join_uri(opts.landing_uri, "transactions", f"dt={opts.date.isoformat()}")
    silver_table = join_uri(opts.silver_uri, "transactions")
    raw = _landing_or_fail(spark, landing)
    reference = read_reference_amounts(spark, silver_table, opts.date, opts.reference_days)
    result = ingest_transactions(
        raw,
        layout,
        ref,
        salt=opts.salt,
        run_id=opts.run_id,
        ingest_date=opts.date,
        outlier_percentile=opts.outlier_percentile,
        reference_amounts=reference,
        reference_days=opts.reference_days,
    )
    record = {
        **result.record,
        "landing_uri": landing,
        "silver_uri": silver_table,
        "quarantine_uri": join_uri(opts.quarantine_uri, "transactions"),
        "reference_days": opts.reference_days,
    }
    target = report_uri(opts.reports_uri, "transactions", opts.date, opts.run_id)
    try:
        if not record["balanced"]:
            fs.write_text(spark, target, to_json({**record, "status": "failed"}))
            assert_reconciled(record)
        _write_partitioned(result.silver, silver_table, "dt", "ingest_dt")
        record["stale_partitions_removed"] = remove_stale_delivery_partitions(
            spark, silver_table, opts.date, list(record["silver_rows_by_dt"])
        )
        _write_quarantine(
            spark, result.quarantine, record["quarantine_uri"], opts.date, record["quarantined_rows"]
        )
        record["status"] = "succeeded"
        fs.write_text(spark, target, to_json(record))
    finally:
        result.unpersist()
    record["report_uri"] = target
    return record


def _write_quarantine(spark: SparkSession, df: DataFrame, table_uri: str, date: dt.date, rows: int) -> None:
    """Replace the quarantine partition of the run date (also when this run quarantined nothing)."""
    if rows == 0:
        fs.delete(spark, join_uri(table_uri, f"dt={date.isoformat()}"))
    else:
        _write_partitioned(df, table_uri, "dt")


def _run_customers(spark: SparkSession, opts: IngestOptions) -> dict[str, Any]:
    landing = join_uri(opts.landing_uri, "customers")
    raw = _landing_or_fail(spark, landing)
    result = ingest_customers(raw, salt=opts.salt, run_id=opts.run_id, ingest_date=opts.date)
    record = {
        **result.record,
        "landing_uri": landing,
        "silver_uri": join_uri(opts.silver_uri, "customers"),
        "quarantine_uri": join_uri(opts.quarantine_uri, "customers"),
    }
    target = report_uri(opts.reports_uri, "customers", opts.date, opts.run_id)
    parts = ("silver_rows", "quarantined_rows", "duplicates_removed")
    try:
        if not record["balanced"]:
            fs.write_text(spark, target, to_json({**record, "status": "failed"}))
            check_balance(record, total_key="landed_rows", part_keys=parts)
        result.silver.write.mode("overwrite").parquet(record["silver_uri"])
        _write_quarantine(
            spark, result.quarantine, record["quarantine_uri"], opts.date, record["quarantined_rows"]
        )
        record["status"] = "succeeded"
        fs.write_text(spark, target, to_json(record))
    finally:
        result.unpersist()
    record["report_uri"] = target
    return record
