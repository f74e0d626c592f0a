"""Reading landing CSV files as raw strings, keeping malformed lines and the file each row came from."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.types import StringType, StructField, StructType

CORRUPT_COL = "_clv_corrupt_record"
SOURCE_FILE_COL = "_clv_source_file"
# The delivery day (dt= folder of the file) when several deliveries are read at once (backfill).
DELIVERY_COL = "_clv_delivery_dt"
INTERNAL_COLS = (CORRUPT_COL, SOURCE_FILE_COL, DELIVERY_COL)
DELIVERY_DT = r"/dt=([0-9]{4}-[0-9]{2}-[0-9]{2})/"


class LandingError(ValueError):
    """The landing input is missing or not what the layout expects."""


def read_landing_csv(spark: SparkSession, uri: str | list[str], *, with_delivery: bool = False) -> DataFrame:
    """All columns as strings, named by the files' header; rows with the wrong number of fields keep
    their raw text in CORRUPT_COL (PERMISSIVE mode), and SOURCE_FILE_COL names the file. Every file
    under `uri` must share the header (Spark checks it: enforceSchema=false). gzip is detected from
    the .gz extension. `uri` may be a list of folders (a backfill reads every delivery day at once);
    with_delivery adds DELIVERY_COL, the date of the file's dt= folder."""
    header = spark.read.option("header", True).csv(uri).columns
    if not header:
        raise LandingError(f"{uri}: no CSV header found")
    clashes = [c for c in header if c in INTERNAL_COLS]
    if clashes:
        raise LandingError(f"{uri}: column names {clashes} are reserved by the ingest job")
    if len(set(header)) != len(header):
        raise LandingError(f"{uri}: duplicate column names in the header {header}")
    schema = StructType(
        [StructField(c, StringType(), True) for c in header] + [StructField(CORRUPT_COL, StringType(), True)]
    )
    df = (
        spark.read.schema(schema)
        .option("header", True)
        .option("enforceSchema", False)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_COL)
        .csv(uri)
        .withColumn(SOURCE_FILE_COL, F.input_file_name())
    )
    if with_delivery:
        df = df.withColumn(DELIVERY_COL, F.to_date(F.regexp_extract(SOURCE_FILE_COL, DELIVERY_DT, 1)))
    return df


def data_columns(df: DataFrame) -> list[str]:
    return [c for c in df.columns if c not in INTERNAL_COLS]


def require_columns(df: DataFrame, needed: Iterable[str], where: str) -> None:
    present = set(data_columns(df))
    missing = [c for c in needed if c not in present]
    if missing:
        raise LandingError(f"{where}: columns {missing} are missing; the header has {sorted(present)}")


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
