"""Read the silver tables the features job needs, from a local folder or an s3:// URI (pure Spark, no boto3).

Layout (agreed in the common brief; table folders under the silver root):
  <silver-uri>/transactions/dt=YYYY-MM-DD/*.parquet   (required)
  <silver-uri>/customers/dt=YYYY-MM-DD/*.parquet      (optional: real datasets have no CRM; one full
                                                       CRM extract per date, build_features picks one)
  <silver-uri>/sessions/dt=YYYY-MM-DD/*.parquet       (optional: real datasets have no clickstream)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812


@dataclass(frozen=True)
class SilverTables:
    transactions: DataFrame
    customers: DataFrame | None
    sessions: DataFrame | None


def _join(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def path_exists(spark: SparkSession, uri: str) -> bool:
    """True when the URI exists on its Hadoop file system (local path, file://, s3://, s3a://)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(path))


def _read_parquet(spark: SparkSession, uri: str, until: dt.date | None) -> DataFrame:
    df = spark.read.option("basePath", uri).parquet(uri)
    if until is not None and "dt" in df.columns:
        # Partition pruning only: build_features applies the exact timestamp bounds itself.
        df = df.where(F.col("dt").cast("date") < F.lit(until))
    return df


def read_silver(
    spark: SparkSession,
    silver_uri: str,
    *,
    until: dt.date | None = None,
    transactions_table: str = "transactions",
    customers_table: str = "customers",
    sessions_table: str = "sessions",
) -> SilverTables:
    """Silver transactions (required), customers and sessions (None when their folder is absent).

    `until` prunes dt partitions to dt < until (pass cutoff + the longest label horizon, or the cutoff
    without labels).
    """
    tx_uri = _join(silver_uri, transactions_table)
    if not path_exists(spark, tx_uri):
        raise FileNotFoundError(f"read_silver: silver transactions not found at {tx_uri}")
    transactions = _read_parquet(spark, tx_uri, until)
    cust_uri, sess_uri = _join(silver_uri, customers_table), _join(silver_uri, sessions_table)
    customers = _read_parquet(spark, cust_uri, None) if path_exists(spark, cust_uri) else None
    if customers is not None and "dt" not in customers.columns:
        raise ValueError(
            f"read_silver: silver customers at {cust_uri} has no dt=<extract date> partitions; "
            "re-ingest the CRM extracts (ingest_transactions --dataset customers, one per extract date)"
        )
    sessions = _read_parquet(spark, sess_uri, until) if path_exists(spark, sess_uri) else None
    return SilverTables(transactions=transactions, customers=customers, sessions=sessions)
