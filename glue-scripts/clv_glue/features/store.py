"""Write feature snapshots to the SageMaker Feature Store offline store, and register each snapshot.

Decision and reasons: docs/decisions/0010-feature-store-ingestion.md. In short: the job writes the offline
store's Parquet layout itself (what the Feature Store Spark connector does with direct_offline_store=True),
then registers the new hourly partition in the Glue catalog; PutRecord (batched per Spark partition, with
retries) is used only for the optional online store.

Offline store layout (AWS Glue table format, partitioned by event time, hourly):
  <S3Uri>/<account-id>/sagemaker/<region>/offline-store/<feature-group-name>-<creation-epoch-seconds>/data/
      year=YYYY/month=MM/day=DD/hour=HH/<file>.parquet
with three columns added to every record: write_time, api_invocation_time (timestamps), is_deleted (boolean).
On AWS the path up to /data is the feature group's OfflineStoreConfig.S3StorageConfig.ResolvedOutputS3Uri.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from clv_glue.features import contract as C  # noqa: N812

OFFLINE_STORE_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")
PARTITION_COLUMNS = ("year", "month", "day", "hour")
LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_REGION = "local"
_FG_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")


# --------------------------------------------------------------------------------------------- layout


def offline_store_data_uri(
    offline_store_uri: str, account_id: str, region: str, feature_group_name: str, creation_time: dt.datetime
) -> str:
    """A feature group's ResolvedOutputS3Uri.

    <S3Uri>/<account>/sagemaker/<region>/offline-store/<fg>-<creation epoch seconds>/data
    """
    if not _FG_NAME.match(feature_group_name):
        raise ValueError(f"offline store: invalid feature group name {feature_group_name!r}")
    if creation_time.tzinfo is None:
        raise ValueError("offline store: creation_time must be timezone-aware (UTC)")
    epoch = int(creation_time.timestamp())
    root = offline_store_uri.rstrip("/")
    return f"{root}/{account_id}/sagemaker/{region}/offline-store/{feature_group_name}-{epoch}/data"


def partition_values(event_time: str) -> dict[str, str]:
    """year/month/day/hour partition values (zero-padded strings) of an ISO-8601 UTC event time."""
    ts = dt.datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ")
    return {"year": f"{ts:%Y}", "month": f"{ts:%m}", "day": f"{ts:%d}", "hour": f"{ts:%H}"}


def partition_path(data_uri: str, event_time: str) -> str:
    v = partition_values(event_time)
    return f"{data_uri}/year={v['year']}/month={v['month']}/day={v['day']}/hour={v['hour']}"


def with_offline_store_columns(features: DataFrame, write_time: dt.datetime) -> DataFrame:
    """Add write_time, api_invocation_time, is_deleted and the hourly partition columns (from event_time)."""
    if write_time.tzinfo is None:
        raise ValueError("offline store: write_time must be timezone-aware (UTC)")
    missing = [c for c in C.FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise ValueError(f"offline store: features frame lacks contract column(s) {missing}")
    micros = int(write_time.timestamp() * 1_000_000)
    ts = F.timestamp_micros(F.lit(micros))
    # Partition values from the event time string itself (yyyy-MM-ddTHH:mm:ssZ, UTC by construction),
    # so the Spark session time zone cannot shift them.
    et = F.col(C.EVENT_TIME_FEATURE)
    return features.select(
        *[F.col(c) for c in C.FEATURE_COLUMNS],
        ts.alias("write_time"),
        ts.alias("api_invocation_time"),
        F.lit(False).alias("is_deleted"),
        F.substring(et, 1, 4).alias("year"),
        F.substring(et, 6, 2).alias("month"),
        F.substring(et, 9, 2).alias("day"),
        F.substring(et, 12, 2).alias("hour"),
    )


def write_offline_parquet(features: DataFrame, data_uri: str, write_time: dt.datetime) -> None:
    """Append the records under data_uri/year=/month=/day=/hour= (append-only, as the offline store is)."""
    spark = features.sparkSession
    key = "spark.sql.parquet.outputTimestampType"
    previous = spark.conf.get(key, None)
    spark.conf.set(key, "TIMESTAMP_MICROS")
    try:
        (
            with_offline_store_columns(features, write_time)
            .repartition(*PARTITION_COLUMNS)
            .write.mode("append")
            .partitionBy(*PARTITION_COLUMNS)
            .parquet(data_uri)
        )
    finally:
        if previous is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, previous)


# --------------------------------------------------------------------------------------------- file helpers


def _hadoop_fs(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write (overwrite) a small UTF-8 file through Hadoop's file system (local, s3://, s3a://)."""
    path, fs = _hadoop_fs(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def list_names(spark: SparkSession, uri: str) -> list[str]:
    """Names of the entries directly under uri ([] when it does not exist)."""
    path, fs = _hadoop_fs(spark, uri)
    if not fs.exists(path):
        return []
    return sorted(status.getPath().getName() for status in fs.listStatus(path))


# ------------------------------------------------------------------------------------- snapshot registry


@dataclass(frozen=True)
class SnapshotRecord:
    snapshot_id: str
    cutoff_date: str
    event_time: str
    with_labels: bool
    row_count: int
    schema_hash: str
    contract_version: int
    feature_group_name: str
    offline_store_data_uri: str
    write_time: str
    run_id: str
    observed_until: str | None
    customers_as_of: str | None = None  # date of the CRM extract the attributes came from (None: no extract)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, indent=2) + "\n"


def snapshot_uri(snapshots_uri: str, snapshot_id: str) -> str:
    return f"{snapshots_uri.rstrip('/')}/{snapshot_id}.json"


def register_snapshot(spark: SparkSession, snapshots_uri: str, record: SnapshotRecord) -> str:
    """Write <snapshots-uri>/<snapshot_id>.json (a rerun of the same snapshot overwrites its own record)."""
    uri = snapshot_uri(snapshots_uri, record.snapshot_id)
    write_text(spark, uri, record.to_json())
    return uri


# --------------------------------------------------------------------------------------------- stores


class OfflineStore(Protocol):
    """Where a features job puts a snapshot."""

    def data_uri(self) -> str: ...

    def write(self, features: DataFrame, write_time: dt.datetime) -> str:
        """Append the records; return the URI of the written hourly partition(s) root."""
        ...


@dataclass
class LocalOfflineStore:
    """The offline store layout on a local folder (or any Hadoop URI) for the embedded runtime.

    The creation epoch in <fg>-<epoch> is taken from an existing folder of the same feature group when
    there is one (a local "feature group" is created once), else from `creation_time` (default: now).
    """

    spark: SparkSession
    offline_store_uri: str
    feature_group_name: str
    account_id: str = LOCAL_ACCOUNT_ID
    region: str = LOCAL_REGION
    creation_time: dt.datetime | None = None

    def data_uri(self) -> str:
        base = f"{self.offline_store_uri.rstrip('/')}/{self.account_id}/sagemaker/{self.region}/offline-store"
        pattern = re.compile(rf"^{re.escape(self.feature_group_name)}-(\d{{10}})$")
        existing = sorted(n for n in list_names(self.spark, base) if pattern.match(n))
        if existing:
            return f"{base}/{existing[0]}/data"
        created = self.creation_time or dt.datetime.now(dt.UTC)
        return offline_store_data_uri(
            self.offline_store_uri, self.account_id, self.region, self.feature_group_name, created
        )

    def write(self, features: DataFrame, write_time: dt.datetime) -> str:
        uri = self.data_uri()
        write_offline_parquet(features, uri, write_time)
        return uri


def check_feature_definitions(feature_definitions: Iterable[Mapping[str, str]]) -> list[str]:
    """Differences between a feature group's FeatureDefinitions (DescribeFeatureGroup) and the contract."""
    actual = {d["FeatureName"]: d["FeatureType"] for d in feature_definitions}
    expected = {f.name: f.type for f in C.FEATURES}
    problems = [f"missing in feature group: {n} ({t})" for n, t in expected.items() if n not in actual]
    problems += [f"not in contract: {n}" for n in actual if n not in expected]
    problems += [
        f"type of {n}: feature group {actual[n]}, contract {t}"
        for n, t in expected.items()
        if n in actual and actual[n] != t
    ]
    return problems


@dataclass
class SageMakerOfflineStore:
    """The AWS path: resolve the feature group, write its offline store directly, register the Glue partition.

    Not exercised by the local tests (needs AWS); boto3 is present in Glue 5.0.
    """

    spark: SparkSession
    feature_group_name: str
    region: str
    sagemaker_client: Any = None
    glue_client: Any = None

    def __post_init__(self) -> None:
        if self.sagemaker_client is None or self.glue_client is None:
            import boto3  # Glue 5.0 ships boto3; imported here so local runs need not have it.

            self.sagemaker_client = self.sagemaker_client or boto3.client(
                "sagemaker", region_name=self.region
            )
            self.glue_client = self.glue_client or boto3.client("glue", region_name=self.region)
        self._description: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        if self._description is None:
            d = self.sagemaker_client.describe_feature_group(FeatureGroupName=self.feature_group_name)
            if d.get("FeatureGroupStatus") != "Created":
                raise RuntimeError(
                    f"feature group {self.feature_group_name} is {d.get('FeatureGroupStatus')}"
                )
            if "OfflineStoreConfig" not in d:
                raise RuntimeError(f"feature group {self.feature_group_name} has no offline store")
            if (d["RecordIdentifierFeatureName"], d["EventTimeFeatureName"]) != (
                C.RECORD_IDENTIFIER,
                C.EVENT_TIME_FEATURE,
            ):
                raise RuntimeError(
                    f"feature group {self.feature_group_name}: record id/event time differ from contract"
                )
            problems = check_feature_definitions(d["FeatureDefinitions"])
            if problems:
                raise RuntimeError(
                    f"feature group {self.feature_group_name} disagrees with the contract: {problems}"
                )
            self._description = d
        return self._description

    def data_uri(self) -> str:
        uri = self.describe()["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"].rstrip("/")
        # Hadoop on Glue reads and writes s3:// natively (EMRFS); nothing to rewrite.
        return uri

    def write(self, features: DataFrame, write_time: dt.datetime) -> str:
        uri = self.data_uri()
        write_offline_parquet(features, uri, write_time)
        return uri

    def register_partition(self, event_time: str) -> None:
        """Add the hourly partition of event_time to the offline store's Glue table (no-op when it exists)."""
        catalog = self.describe()["OfflineStoreConfig"]["DataCatalogConfig"]
        table = self.glue_client.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])[
            "Table"
        ]
        values = partition_values(event_time)
        sd = dict(table["StorageDescriptor"])
        sd["Location"] = partition_path(self.data_uri(), event_time)
        resp = self.glue_client.batch_create_partition(
            CatalogId=catalog["Catalog"],
            DatabaseName=catalog["Database"],
            TableName=catalog["TableName"],
            PartitionInputList=[
                {"Values": [values[k] for k in PARTITION_COLUMNS], "StorageDescriptor": sd},
            ],
        )
        errors = [
            e
            for e in resp.get("Errors", [])
            if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
        ]
        if errors:
            raise RuntimeError(f"glue batch_create_partition failed for {values}: {errors}")


# ------------------------------------------------------------------------------ online store (PutRecord)

RETRYABLE_ERRORS = frozenset(
    {"ThrottlingException", "ServiceUnavailable", "InternalFailure", "ThrottledException", "RequestTimeout"}
)


def to_put_record(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """A feature record as PutRecord's Record: ValueAsString per non-null feature (nulls are omitted)."""
    out = []
    for f in C.FEATURES:
        v = row.get(f.name)
        if v is None:
            continue
        if f.type == "Fractional":
            text = repr(float(v))
        elif f.type == "Integral":
            text = str(int(v))
        else:
            text = str(v)
        out.append({"FeatureName": f.name, "ValueAsString": text})
    return out


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def put_records(
    rows: Iterator[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    client: Any,
    feature_group_name: str,
    *,
    target_stores: tuple[str, ...] = ("OnlineStore",),
    max_attempts: int = 6,
    base_delay_s: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, str]]:
    """PutRecord each row (for foreachPartition/mapPartitions); retry throttling with full-jitter backoff.

    Returns the failures as [{customer_id, error}] (non-retryable errors, or retryable ones out of attempts);
    the caller counts them and fails the job when any remain, so nothing is dropped silently.
    """
    failures: list[dict[str, str]] = []
    for row in rows:
        record = to_put_record(row)
        for attempt in range(1, max_attempts + 1):
            try:
                client.put_record(
                    FeatureGroupName=feature_group_name, Record=record, TargetStores=list(target_stores)
                )
                break
            except Exception as exc:  # noqa: BLE001 - classified by error code below
                code = _error_code(exc)
                if code not in RETRYABLE_ERRORS or attempt == max_attempts:
                    failures.append(
                        {"customer_id": str(row.get(C.RECORD_IDENTIFIER)), "error": f"{code}: {exc}"}
                    )
                    break
                sleep(random.uniform(0, base_delay_s * 2 ** (attempt - 1)))
    return failures


def put_records_spark(features: DataFrame, feature_group_name: str, region: str) -> None:
    """Ingest into the online store from every Spark partition in parallel; raise when any record failed."""

    def run(partition: Iterator[Any]) -> Iterator[dict[str, str]]:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "sagemaker-featurestore-runtime",
            region_name=region,
            config=Config(retries={"mode": "adaptive", "max_attempts": 3}),
        )
        yield from put_records((r.asDict() for r in partition), client, feature_group_name)

    failed = features.rdd.mapPartitions(run).collect()
    if failed:
        sample = failed[:5]
        raise RuntimeError(
            f"PutRecord: {len(failed)} record(s) failed for {feature_group_name}; first: {sample}"
        )
