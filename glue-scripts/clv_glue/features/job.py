"""The build_features job: silver tables -> one feature snapshot in the offline store -> a snapshot record.

Arguments (Glue passes them as `--name value`; unknown Glue arguments such as --JOB_NAME are ignored):
  --cutoff YYYY-MM-DD            cutoff date (features use data strictly before it; event_time = cutoff)
  --silver-uri URI               silver root (transactions/, customers/, sessions/ under it)
  --offline-store-uri URI        offline store S3Uri (OfflineStoreConfig.S3StorageConfig.S3Uri)
  --feature-group-name NAME      feature group name
  --snapshots-uri URI            where <snapshot_id>.json records go (e.g. <features-uri>/snapshots)
  --with-labels true|false       build labels (needs the label window observed)
  --observed-until YYYY-MM-DD    exclusive end of observed data (optional; inferred from the data when absent)
  --run-id ID                    run id (execution name), recorded in the snapshot record
  --store local|sagemaker        local: write the layout under --offline-store-uri; sagemaker: resolve
                                 the feature group (DescribeFeatureGroup), write its ResolvedOutputS3Uri,
                                 add the Glue partition
  --account-id, --region         for the local layout (defaults 000000000000 / local) and the AWS clients
  --online-store true|false      also PutRecord every record to the online store (sagemaker store only)
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Sequence

from pyspark.sql import SparkSession

from clv_glue.common.paths import resolve_uri
from clv_glue.common.runtime import start_job
from clv_glue.features import contract as C  # noqa: N812
from clv_glue.features.build import (
    build_features,
    event_time_for,
    extract_date_as_of,
    infer_observed_until,
    snapshot_id_for,
)
from clv_glue.features.silver import read_silver
from clv_glue.features.store import (
    LOCAL_ACCOUNT_ID,
    LOCAL_REGION,
    LocalOfflineStore,
    SageMakerOfflineStore,
    SnapshotRecord,
    put_records_spark,
    register_snapshot,
)

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def _optional_date(value: str) -> dt.date | None:
    return None if value.strip().lower() in ("", "none", "null") else _date(value)


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")
    return v == "true"


def _run_id(value: str) -> str:
    if not _RUN_ID.match(value):
        raise argparse.ArgumentTypeError(f"run id must match {_RUN_ID.pattern}, got {value!r}")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="build_features", description="Build one customer feature snapshot.")
    p.add_argument("--cutoff", type=_date, required=True)
    p.add_argument("--silver-uri", required=True)
    p.add_argument("--offline-store-uri", required=True)
    p.add_argument("--feature-group-name", required=True)
    p.add_argument("--snapshots-uri", required=True)
    p.add_argument("--with-labels", type=_bool, required=True)
    p.add_argument("--observed-until", type=_optional_date, default=None)
    p.add_argument("--run-id", type=_run_id, required=True)
    p.add_argument("--store", choices=("local", "sagemaker"), default="local")
    p.add_argument("--account-id", default=LOCAL_ACCOUNT_ID)
    p.add_argument("--region", default=LOCAL_REGION)
    p.add_argument("--online-store", type=_bool, default=False)
    args, _unknown = p.parse_known_args(list(argv))
    if args.online_store and args.store != "sagemaker":
        p.error("--online-store true needs --store sagemaker")
    # s3:// URIs go through the local object store when the local runtime runs the job (CLV_LOCAL_ROOT set).
    for key in ("silver_uri", "offline_store_uri", "snapshots_uri"):
        setattr(args, key, resolve_uri(getattr(args, key)))
    return args


def run(spark: SparkSession, args: argparse.Namespace, *, now: dt.datetime | None = None) -> SnapshotRecord:
    """Build the snapshot, append it to the offline store, register it; returns the snapshot record."""
    write_time = now or dt.datetime.now(dt.UTC)
    horizon = max(C.REVENUE_HORIZON_DAYS, C.CHURN_HORIZON_DAYS)
    observed_until: dt.date | None = args.observed_until
    if args.with_labels and observed_until is None:
        # Inferred from all transactions (before any pruning) and recorded in the snapshot record.
        observed_until = infer_observed_until(read_silver(spark, args.silver_uri).transactions)
    # dt-partition pruning: features need dt < cutoff, labels dt < cutoff + the longest horizon.
    until = args.cutoff + dt.timedelta(days=horizon) if args.with_labels else args.cutoff
    silver = read_silver(spark, args.silver_uri, until=until)
    features = build_features(
        silver.transactions,
        silver.customers,
        silver.sessions,
        args.cutoff,
        with_labels=args.with_labels,
        observed_until=observed_until,
    ).persist()
    customers_as_of = (
        extract_date_as_of(silver.customers, args.cutoff) if silver.customers is not None else None
    )
    try:
        row_count = features.count()
        if args.store == "sagemaker":
            store = SageMakerOfflineStore(spark, args.feature_group_name, args.region)
            data_uri = store.write(features, write_time)
            store.register_partition(event_time_for(args.cutoff))
            if args.online_store:
                put_records_spark(features, args.feature_group_name, args.region)
        else:
            store = LocalOfflineStore(
                spark,
                args.offline_store_uri,
                args.feature_group_name,
                args.account_id,
                args.region,
                write_time,
            )
            data_uri = store.write(features, write_time)
    finally:
        features.unpersist()
    record = SnapshotRecord(
        snapshot_id=snapshot_id_for(args.cutoff, with_labels=args.with_labels),
        cutoff_date=args.cutoff.isoformat(),
        event_time=event_time_for(args.cutoff),
        with_labels=args.with_labels,
        row_count=row_count,
        schema_hash=C.SCHEMA_HASH,
        contract_version=C.CONTRACT_VERSION,
        feature_group_name=args.feature_group_name,
        offline_store_data_uri=data_uri,
        write_time=write_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        run_id=args.run_id,
        observed_until=observed_until.isoformat() if observed_until else None,
        customers_as_of=customers_as_of.isoformat() if customers_as_of else None,
    )
    register_snapshot(spark, args.snapshots_uri, record)
    return record


def main(argv: Sequence[str]) -> SnapshotRecord:
    args = parse_args(argv)
    # One session factory for every job (clv_glue.common.runtime): GlueContext in Glue; locally the
    # tuned local session (driver-side partition listing, few shuffle partitions, UTC).
    ctx = start_job("build_features", {"JOB_NAME": "build_features", "run_id": args.run_id})
    record = run(ctx.spark, args)
    ctx.commit()
    print(record.to_json(), end="")
    return record
