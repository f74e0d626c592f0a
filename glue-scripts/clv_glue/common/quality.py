"""Helpers shared by the transforms: reason tagging, the UTC-session guard and the reconciliation check."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812


class ReconciliationError(RuntimeError):
    """What came in does not equal what went out plus what was rejected."""


def require_utc_session(spark: SparkSession) -> None:
    """Timestamps and dt partitions are computed in the session time zone, which must be UTC."""
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise RuntimeError(f"spark.sql.session.timeZone is {tz!r}; the Glue jobs need UTC")


def tag_reasons(df: DataFrame, checks: Sequence[tuple[str, Column]], terminal: int = 0) -> DataFrame:
    """Add `reasons` (every failed check, in priority order) and `reason` (the first; null = valid).

    The first `terminal` checks are exclusive: a row failing one of them (e.g. a malformed line) gets only
    that reason, since the other checks say nothing about it."""
    flags = [F.when(cond, F.lit(name)) for name, cond in checks]
    reasons = F.filter(F.array(*flags), lambda x: x.isNotNull())
    if terminal:
        first = F.coalesce(*flags[:terminal])
        reasons = F.when(first.isNotNull(), F.array(first)).otherwise(reasons)
    return df.withColumn("reasons", reasons).withColumn("reason", F.element_at(F.col("reasons"), 1))


def is_blank(col: Column) -> Column:
    return col.isNull() | (F.trim(col) == "")


def blank_to_null(col: Column) -> Column:
    trimmed = F.trim(col)
    return F.when(trimmed != "", trimmed)


def check_balance(record: Mapping[str, Any], *, total_key: str, part_keys: Sequence[str]) -> None:
    """Raise ReconciliationError unless record[total_key] == sum(record[k] for k in part_keys)."""
    total = record[total_key]
    parts = {k: record[k] for k in part_keys}
    if total != sum(parts.values()):
        detail = " + ".join(f"{k}={v}" for k, v in parts.items())
        raise ReconciliationError(
            f"reconciliation failed for {record.get('job')} {record.get('date')}: "
            f"{total_key}={total} but {detail} = {sum(parts.values())}"
        )


def to_json(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
