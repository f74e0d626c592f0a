"""Pure transform of CRM extracts (landing/customers/dt=<extract date>/*.csv.gz) into silver customers.

Several extracts are transformed at once when the raw rows carry the extract date (landing.DELIVERY_COL, as
read_landing_csv(with_delivery=True) adds it): every rule below applies within one extract.

An extract is a full snapshot of the CRM at 00:00 UTC of its date; the job writes it to the silver partition
customers/dt=<extract date>/, replaced as a whole when that date is ingested again. Rules:
  - exact duplicate rows collapse to one (counted as duplicates_removed);
  - quarantined, with the first failed check as reason: malformed_row, missing_customer_id,
    bad_signup_date (not a real YYYY-MM-DD date), conflicting_customer_id (the id appears on two or
    more different rows: every one of them is quarantined, since the job cannot tell which is right);
  - vocabularies (country, channel, loyalty status) are not enforced here: new values are drift,
    which the monitoring reports, not bad data;
  - email, name and address are replaced by their HMAC-SHA256 (email trimmed and lower-cased; name and address
    trimmed, inner whitespace collapsed, lower-cased).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812

from clv_glue.common.pii import hmac_column, normalize_email, normalize_text, with_hmac_key
from clv_glue.common.quality import blank_to_null, require_utc_session, tag_reasons
from clv_glue.ingest.landing import (
    CORRUPT_COL,
    DELIVERY_COL,
    SOURCE_FILE_COL,
    data_columns,
    quoted,
    require_columns,
)
from clv_glue.ingest.transactions import COPIES_COL, build_quarantine

CUSTOMER_COLUMNS = (
    "customer_id",
    "signup_date",
    "country",
    "acquisition_channel",
    "loyalty_status",
    "email",
    "name",
    "address",
)
CUSTOMER_REASONS = ("malformed_row", "missing_customer_id", "bad_signup_date", "conflicting_customer_id")
DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def tag_customers(raw: DataFrame) -> DataFrame:
    require_utc_session(raw.sparkSession)
    require_columns(raw, CUSTOMER_COLUMNS, "customers extract")
    raw_cols = data_columns(raw)
    # Several extracts at once: duplicates and conflicting ids are only looked for within one extract.
    extract = [DELIVERY_COL] if DELIVERY_COL in raw.columns else []
    distinct = raw.groupBy(*[F.col(quoted(c)) for c in raw_cols], F.col(CORRUPT_COL), *extract).agg(
        F.min(SOURCE_FILE_COL).alias(SOURCE_FILE_COL), F.count(F.lit(1)).alias(COPIES_COL)
    )
    signup_text = blank_to_null(F.col("signup_date"))
    parsed = distinct.select(
        CORRUPT_COL,
        SOURCE_FILE_COL,
        COPIES_COL,
        *extract,
        blank_to_null(F.col("customer_id")).alias("customer_id_clean"),
        F.when(signup_text.rlike(DATE_SHAPE), signup_text.cast("date")).alias("signup_date_clean"),
        *[blank_to_null(F.col(c)).alias(f"{c}_clean") for c in CUSTOMER_COLUMNS[2:]],
        F.coalesce(
            F.col(CORRUPT_COL),
            F.to_json(F.struct(*[F.col(quoted(c)) for c in raw_cols]), {"ignoreNullFields": "false"}),
        ).alias("raw_row"),
    )
    per_id = Window.partitionBy(*extract, "customer_id_clean")
    with_count = parsed.withColumn(
        "_rows_for_id",
        F.when(F.col("customer_id_clean").isNotNull(), F.count(F.lit(1)).over(per_id)).otherwise(F.lit(0)),
    )
    bad = {
        "malformed_row": F.col(CORRUPT_COL).isNotNull(),
        "missing_customer_id": F.col("customer_id_clean").isNull(),
        "bad_signup_date": F.col("signup_date_clean").isNull(),
        "conflicting_customer_id": F.col("_rows_for_id") > 1,
    }
    return tag_reasons(with_count, [(name, bad[name]) for name in CUSTOMER_REASONS], terminal=1)


def silver_customers(tagged: DataFrame, *, salt: bytes) -> DataFrame:
    return with_hmac_key(tagged.where(F.col("reason").isNull()), salt).select(
        F.col("customer_id_clean").alias("customer_id"),
        F.col("signup_date_clean").alias("signup_date"),
        F.col("country_clean").alias("country"),
        F.col("acquisition_channel_clean").alias("acquisition_channel"),
        F.col("loyalty_status_clean").alias("loyalty_status"),
        hmac_column(normalize_email(F.col("email_clean"))).alias("email_hash"),
        hmac_column(normalize_text(F.col("name_clean"))).alias("name_hash"),
        hmac_column(normalize_text(F.col("address_clean"))).alias("address_hash"),
        *([F.col(DELIVERY_COL).alias("dt")] if DELIVERY_COL in tagged.columns else []),
    )


@dataclass
class CustomersIngest:
    silver: DataFrame  # partition column dt = the extract date
    quarantine: DataFrame  # dt = the extract date
    tagged: DataFrame  # persisted
    records: dict[dt.date, dict[str, Any]]  # per extract date, in date order

    def unpersist(self) -> None:
        self.tagged.unpersist()


def ingest_customers(
    raw: DataFrame, *, extract_dates: list[dt.date], salt: bytes, run_id: str
) -> CustomersIngest:
    """Silver customers, quarantine and a reconciliation record per extract date in `extract_dates` (two
    Spark actions for all extracts together). `raw` comes from read_landing_csv(..., with_delivery=True):
    the extracts of those dates, DELIVERY_COL naming each row's extract date."""
    if DELIVERY_COL not in raw.columns:
        raise ValueError(
            f"ingest_customers: the raw rows need {DELIVERY_COL} (read_landing_csv with_delivery)"
        )
    tagged = tag_customers(raw).persist()
    rows = (
        tagged.groupBy(DELIVERY_COL, "reason", SOURCE_FILE_COL)
        .agg(F.count(F.lit(1)).alias("distinct_rows"), F.sum(COPIES_COL).alias("landed_rows"))
        .collect()
    )
    silver = silver_customers(tagged, salt=salt)
    quarantine = build_quarantine(tagged, dataset="customers", run_id=run_id, ingest_date=F.col(DELIVERY_COL))
    silver_rows = {r["dt"]: int(r["count"]) for r in silver.groupBy("dt").count().collect()}
    records: dict[dt.date, dict[str, Any]] = {}
    for day in sorted(extract_dates):
        by_reason: dict[str, int] = defaultdict(int)
        landed = duplicates = 0
        day_rows = [r for r in rows if r[DELIVERY_COL] == day]
        for r in day_rows:
            landed += int(r["landed_rows"])
            duplicates += int(r["landed_rows"]) - int(r["distinct_rows"])
            if r["reason"] is not None:
                by_reason[r["reason"]] += int(r["distinct_rows"])
        quarantined = sum(by_reason.values())
        record: dict[str, Any] = {
            "job": "ingest_transactions",
            "dataset": "customers",
            "date": day.isoformat(),
            "run_id": run_id,
            "landed_rows": landed,
            "silver_rows": silver_rows.get(day, 0),
            "quarantined_rows": quarantined,
            "quarantined_by_reason": dict(sorted(by_reason.items())),
            "duplicates_removed": duplicates,
            "source_files": sorted({r[SOURCE_FILE_COL] for r in day_rows}),
        }
        record["balanced"] = landed == record["silver_rows"] + quarantined + duplicates
        records[day] = record
    return CustomersIngest(silver=silver, quarantine=quarantine, tagged=tagged, records=records)
