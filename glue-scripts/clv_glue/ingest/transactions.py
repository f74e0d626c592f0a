"""Pure DataFrame transforms of the transactions batch: raw rows -> silver + quarantine + counts.

Order of the rules (docs/glue-jobs.md explains each):
  1. exact duplicates: identical raw rows (every landed column, whichever file) collapse to one;
     the extra copies are counted as duplicates_removed;
  2. validation: every distinct row gets the list of checks it fails; a row failing any goes to
     quarantine with the first reason (priority order of QUARANTINE_REASONS) and its raw row;
  3. normalization of valid rows: UTC timestamps, GBP prices (reference fx_to_base), flags,
     negative amounts for cancellations and returns, outlier capping, HMAC-hashed PII.
Counts reconcile: landed = silver + quarantined + duplicates_removed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812

from clv_glue.common.contracts import Layout, ReferenceData
from clv_glue.common.pii import hmac_column, normalize_email, normalize_text, with_hmac_key
from clv_glue.common.quality import blank_to_null, check_balance, require_utc_session, tag_reasons
from clv_glue.ingest.landing import (
    CORRUPT_COL,
    DELIVERY_COL,
    SOURCE_FILE_COL,
    data_columns,
    quoted,
    require_columns,
)

COPIES_COL = "_clv_copies"

# Allowed product ids (after trimming), besides the reference non-product codes (matched case-insensitively):
#   \d{5}[A-Za-z]{0,2}   UCI product codes: 85123A, 15056BL, 71053, 79323w
#   DCGS[0-9A-Z]{2,6}     UCI DCGS codes: DCGS0066P, DCGSSGIRL
#   gift_\d{4}_\d{2,3}    UCI gift vouchers: gift_0001_20
#   <GIFT prefix>[A-Z0-9_-]{0,16}  gift cards of the generic layout (prefix from reference data)
# Anything else (alphanumeric garbage such as 'X7QZ9', '85123A!', '1234567', 'TEST001') is
# quarantined as bad_sku.
SKU_PRODUCT_PATTERNS = (r"[0-9]{5}[A-Za-z]{0,2}", r"DCGS[0-9A-Z]{2,6}", r"gift_[0-9]{4}_[0-9]{2,3}")

TIMESTAMP_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
INT_SHAPE = r"^[+-]?[0-9]{1,9}$"
DECIMAL_SHAPE = r"^[+-]?([0-9]{1,15}(\.[0-9]{0,10})?|\.[0-9]{1,10})$"
NUMERIC_CUSTOMER_ID = r"^([0-9]+)\.0+$"  # Online Retail II exports write 13085 as 13085.0

QUARANTINE_REASONS = (
    "malformed_row",  # wrong number of fields in the CSV line
    "missing_invoice_id",
    "missing_customer_id",
    "bad_invoice_ts",  # not 'yyyy-MM-dd HH:mm:ss' or not a real instant
    "bad_quantity",  # not an integer
    "bad_unit_price",  # not a decimal number
    "negative_unit_price",  # negative amounts come from the quantity, never from the price
    "bad_sku",  # product id does not match the allowed pattern
    "unknown_currency",  # not in reference fx_to_base
)


def sku_regex(ref: ReferenceData) -> str:
    gift = re.escape(ref.gift_card_sku_prefix.upper()) + r"[A-Z0-9_-]{0,16}"
    return "^(?:" + "|".join((*SKU_PRODUCT_PATTERNS, gift)) + ")$"


def sku_is_allowed(sku: str | None, ref: ReferenceData) -> bool:
    """Plain-Python twin of the Spark check (same regex), for documentation and tests."""
    if sku is None or not sku.strip():
        return False
    value = sku.strip()
    return bool(re.match(sku_regex(ref), value)) or value.upper() in {s.upper() for s in ref.non_product_skus}


def _sku_ok(col: Column, ref: ReferenceData) -> Column:
    return col.rlike(sku_regex(ref)) | F.upper(col).isin([s.upper() for s in ref.non_product_skus])


def _raw_name(index: int) -> str:
    return f"_clv_raw_{index}"


def _field(layout: Layout, field: str, rename: dict[str, str]) -> Column:
    source = layout.columns.get(field)
    return blank_to_null(F.col(rename[source])) if source else F.lit(None).cast("string")


def tag_transactions(raw: DataFrame, layout: Layout, ref: ReferenceData) -> DataFrame:
    """One row per distinct raw row, with COPIES_COL (how many identical rows landed), the parsed
    generic fields, `reasons`/`reason` (null reason = valid) and `raw_row` (the original row as
    JSON, or the malformed line)."""
    require_utc_session(raw.sparkSession)
    require_columns(raw, layout.columns.values(), f"layout {layout.name!r}")
    raw_cols = data_columns(raw)
    # Landed columns get internal names: the generic layout's names would clash with the parsed fields.
    rename = {c: _raw_name(i) for i, c in enumerate(raw_cols)}
    # Several deliveries at once (backfill): duplicates are only removed within one delivery.
    delivery = [F.col(DELIVERY_COL)] if DELIVERY_COL in raw.columns else []
    distinct = raw.groupBy(
        *[F.col(quoted(c)).alias(rename[c]) for c in raw_cols], F.col(CORRUPT_COL), *delivery
    ).agg(F.min(SOURCE_FILE_COL).alias(SOURCE_FILE_COL), F.count(F.lit(1)).alias(COPIES_COL))
    customer = F.regexp_replace(_field(layout, "customer_id", rename), NUMERIC_CUSTOMER_ID, "$1")
    currency = (
        F.upper(_field(layout, "currency", rename))
        if "currency" in layout.columns
        else F.lit(layout.default_currency)
    )
    ts_text = _field(layout, "invoice_ts", rename)
    ts_local = F.when(ts_text.rlike(TIMESTAMP_SHAPE), ts_text.cast("timestamp"))
    ts_utc = (
        ts_local
        if layout.timezone.upper() in ("UTC", "ETC/UTC")
        else F.to_utc_timestamp(ts_local, layout.timezone)
    )
    qty_text, price_text = _field(layout, "quantity", rename), _field(layout, "unit_price", rename)
    parsed = distinct.select(
        CORRUPT_COL,
        SOURCE_FILE_COL,
        COPIES_COL,
        *delivery,
        _field(layout, "invoice_id", rename).alias("invoice_id"),
        customer.alias("customer_id"),
        ts_utc.alias("invoice_ts"),
        _field(layout, "sku", rename).alias("sku"),
        F.when(qty_text.rlike(INT_SHAPE), qty_text.cast("int")).alias("quantity"),
        F.when(price_text.rlike(DECIMAL_SHAPE), price_text.cast("double")).alias("unit_price_original"),
        currency.alias("currency_original"),
        _field(layout, "country", rename).alias("country"),
        _field(layout, "channel", rename).alias("channel"),
        _field(layout, "email", rename).alias("email"),
        _field(layout, "name", rename).alias("name"),
        F.coalesce(
            F.col(CORRUPT_COL),
            F.to_json(
                F.struct(*[F.col(rename[c]).alias(c) for c in raw_cols]), {"ignoreNullFields": "false"}
            ),
        ).alias("raw_row"),
    )
    bad = {
        "malformed_row": F.col(CORRUPT_COL).isNotNull(),
        "missing_invoice_id": F.col("invoice_id").isNull(),
        "missing_customer_id": F.col("customer_id").isNull(),
        "bad_invoice_ts": F.col("invoice_ts").isNull(),
        "bad_quantity": F.col("quantity").isNull(),
        "bad_unit_price": F.col("unit_price_original").isNull(),
        "negative_unit_price": F.col("unit_price_original") < 0,
        "bad_sku": F.col("sku").isNull() | ~_sku_ok(F.col("sku"), ref),
        "unknown_currency": F.col("currency_original").isNull()
        | ~F.col("currency_original").isin(list(ref.fx_to_base)),
    }
    checks = [(name, bad[name]) for name in QUARANTINE_REASONS]
    tagged = tag_reasons(parsed, checks, terminal=1)
    return tagged.withColumn("dt", F.when(F.col("reason").isNull(), F.to_date("invoice_ts")))


def price_lines(tagged: DataFrame, ref: ReferenceData) -> DataFrame:
    """Valid rows with GBP unit price, signed line amount before capping (amount_raw) and flags."""
    fx = F.create_map(*[x for code, rate in ref.fx_to_base.items() for x in (F.lit(code), F.lit(rate))])
    unit_price = F.round(F.col("unit_price_original") * F.element_at(fx, F.col("currency_original")), 6)
    is_cancellation = F.upper(F.col("invoice_id")).startswith("C")
    gross = F.round(F.col("quantity") * F.col("unit_price"), 6)
    return (
        tagged.where(F.col("reason").isNull())
        .withColumn("unit_price", unit_price)
        .withColumn("is_cancellation", is_cancellation)
        .withColumn("is_return", F.col("quantity") < 0)
        .withColumn("amount_raw", F.when(F.col("is_cancellation"), -F.abs(gross)).otherwise(gross))
        .withColumn("is_gift_card", F.upper(F.col("sku")).startswith(ref.gift_card_sku_prefix.upper()))
        .withColumn("is_non_product", F.upper(F.col("sku")).isin([s.upper() for s in ref.non_product_skus]))
    )


def outlier_cap(amounts: DataFrame | None, percentile: float) -> tuple[float | None, int]:
    """The `percentile` of the positive line amounts (`amount_raw`) in `amounts`, and how many lines it used.
    None when there are none. One Spark action. percentile_approx with accuracy 1e6 (exact on small data)."""
    if not 0 < percentile <= 1:
        raise ValueError(f"outlier percentile must be in (0, 1], got {percentile}")
    if amounts is None:
        return None, 0
    row = (
        amounts.where(F.col("amount_raw") > 0)
        .agg(
            F.percentile_approx("amount_raw", percentile, 1_000_000).alias("cap"),
            F.count(F.lit(1)).alias("n"),
        )
        .first()
    )
    return (float(row["cap"]) if row["cap"] is not None else None), int(row["n"])


def finish_silver(
    priced: DataFrame,
    *,
    cap: float | Column | None,
    salt: bytes,
    run_id: str,
    ingest_date: dt.date | Column,
) -> DataFrame:
    """Capped amounts, hashed PII and the silver column order (partition columns dt, ingest_dt last).

    A backfill passes the cap and the delivery date as columns (one value per delivery; a null cap
    caps nothing)."""
    if cap is None:
        capped = F.lit(False)
        amount = F.col("amount_raw")
    else:
        cap_col = cap if isinstance(cap, Column) else F.lit(cap)
        capped = F.coalesce(F.abs(F.col("amount_raw")) > cap_col, F.lit(False))
        amount = F.when(capped, F.signum("amount_raw") * cap_col).otherwise(F.col("amount_raw"))
    ingest_dt = ingest_date if isinstance(ingest_date, Column) else F.lit(ingest_date)
    return with_hmac_key(priced, salt).select(
        "invoice_id",
        "customer_id",
        "invoice_ts",
        "sku",
        "quantity",
        "unit_price",
        amount.alias("amount"),
        "amount_raw",
        "currency_original",
        "is_cancellation",
        "is_return",
        "is_gift_card",
        "is_non_product",
        capped.alias("is_outlier_capped"),
        "country",
        "channel",
        hmac_column(normalize_email(F.col("email"))).alias("email_hash"),
        hmac_column(normalize_text(F.col("name"))).alias("name_hash"),
        F.col(SOURCE_FILE_COL).alias("source_file"),
        F.lit(run_id).alias("ingest_run_id"),
        "dt",
        ingest_dt.alias("ingest_dt"),
    )


def build_quarantine(
    tagged: DataFrame, *, dataset: str, run_id: str, ingest_date: dt.date | Column
) -> DataFrame:
    """Rejected distinct rows: reason, every failed check, the original raw row, copies landed;
    partition dt = run date. The raw row holds unhashed PII: the quarantine prefix needs restricted
    access and a short retention."""
    return tagged.where(F.col("reason").isNotNull()).select(
        F.lit(dataset).alias("dataset"),
        "reason",
        "reasons",
        "raw_row",
        F.col(COPIES_COL).alias("landed_copies"),
        F.col(SOURCE_FILE_COL).alias("source_file"),
        F.lit(run_id).alias("ingest_run_id"),
        (ingest_date if isinstance(ingest_date, Column) else F.lit(ingest_date)).alias("dt"),
    )


def summarize_tagged(tagged: DataFrame) -> dict[str, Any]:
    """Landed, duplicate and quarantine counts from the tagged rows (one Spark action)."""
    rows = (
        tagged.groupBy("reason", "dt", SOURCE_FILE_COL)
        .agg(F.count(F.lit(1)).alias("distinct_rows"), F.sum(COPIES_COL).alias("landed_rows"))
        .collect()
    )
    return _summary_of(rows)


def summarize_tagged_by_delivery(tagged: DataFrame) -> dict[dt.date, dict[str, Any]]:
    """summarize_tagged per delivery day (DELIVERY_COL) of a backfill (one Spark action)."""
    rows = (
        tagged.groupBy(DELIVERY_COL, "reason", "dt", SOURCE_FILE_COL)
        .agg(F.count(F.lit(1)).alias("distinct_rows"), F.sum(COPIES_COL).alias("landed_rows"))
        .collect()
    )
    grouped: dict[dt.date, list[Any]] = defaultdict(list)
    for r in rows:
        grouped[r[DELIVERY_COL]].append(r)
    return {day: _summary_of(day_rows) for day, day_rows in grouped.items()}


def _summary_of(rows: list[Any]) -> dict[str, Any]:
    by_reason: dict[str, int] = defaultdict(int)
    valid_by_dt: dict[str, int] = defaultdict(int)
    landed = duplicates = valid = 0
    files: set[str] = set()
    for r in rows:
        landed += int(r["landed_rows"])
        duplicates += int(r["landed_rows"]) - int(r["distinct_rows"])
        files.add(r[SOURCE_FILE_COL])
        if r["reason"] is None:
            valid += int(r["distinct_rows"])
            valid_by_dt[r["dt"].isoformat()] += int(r["distinct_rows"])
        else:
            by_reason[r["reason"]] += int(r["distinct_rows"])
    return {
        "landed_rows": landed,
        "duplicates_removed": duplicates,
        "valid_rows": valid,
        "quarantined_by_reason": dict(sorted(by_reason.items())),
        "valid_rows_by_dt": dict(sorted(valid_by_dt.items())),
        "source_files": sorted(files),
    }


@dataclass
class TransactionsIngest:
    silver: DataFrame  # persisted; unpersist when written
    quarantine: DataFrame
    tagged: DataFrame  # persisted
    record: dict[str, Any]

    def unpersist(self) -> None:
        self.silver.unpersist()
        self.tagged.unpersist()


def ingest_transactions(
    raw: DataFrame,
    layout: Layout,
    ref: ReferenceData,
    *,
    salt: bytes,
    run_id: str,
    ingest_date: dt.date,
    outlier_percentile: float,
    reference_amounts: DataFrame | None,
    reference_days: int | None = None,
) -> TransactionsIngest:
    """The whole transactions transform for one delivery day, with the reconciliation record.

    `raw` comes from landing.read_landing_csv; `reference_amounts` holds `amount_raw` of the
    previous N days of silver (None or empty: the day's own valid lines are the reference).
    record["balanced"] tells whether landed = silver + quarantined + duplicates_removed
    (assert_reconciled raises when not; the job calls it before writing). Spark actions: summary,
    cap (two when the reference is empty), silver totals.
    """
    tagged = tag_transactions(raw, layout, ref).persist()
    summary = summarize_tagged(tagged)
    priced = price_lines(tagged, ref)
    cap, reference_rows = outlier_cap(reference_amounts, outlier_percentile)
    reference_source = "silver"
    if reference_rows == 0:
        cap, reference_rows = outlier_cap(priced, outlier_percentile)
        reference_source = "self"
    silver = finish_silver(priced, cap=cap, salt=salt, run_id=run_id, ingest_date=ingest_date).persist()
    totals = silver.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.col("is_outlier_capped").cast("int")).alias("capped"),
        F.sum(F.col("is_cancellation").cast("int")).alias("cancellations"),
        F.sum(F.col("is_return").cast("int")).alias("returns"),
        F.sum("amount").alias("amount"),
        F.sum("amount_raw").alias("amount_raw"),
    ).first()
    quarantine = build_quarantine(tagged, dataset="transactions", run_id=run_id, ingest_date=ingest_date)
    quarantined = sum(summary["quarantined_by_reason"].values())
    record: dict[str, Any] = {
        "job": "ingest_transactions",
        "dataset": "transactions",
        "date": ingest_date.isoformat(),
        "run_id": run_id,
        "layout": layout.name,
        "landed_rows": summary["landed_rows"],
        "silver_rows": int(totals["rows"]),
        "quarantined_rows": quarantined,
        "quarantined_by_reason": summary["quarantined_by_reason"],
        "duplicates_removed": summary["duplicates_removed"],
        "silver_rows_by_dt": summary["valid_rows_by_dt"],
        "source_files": summary["source_files"],
        "cancellation_rows": int(totals["cancellations"] or 0),
        "return_rows": int(totals["returns"] or 0),
        "outliers_capped": int(totals["capped"] or 0),
        "outlier_cap_gbp": cap,
        "outlier_percentile": outlier_percentile,
        "outlier_reference": {"source": reference_source, "rows": reference_rows, "days": reference_days},
        "amount_gbp": round(float(totals["amount"] or 0.0), 2),
        "amount_raw_gbp": round(float(totals["amount_raw"] or 0.0), 2),
    }
    record["balanced"] = record["landed_rows"] == (
        record["silver_rows"] + record["quarantined_rows"] + record["duplicates_removed"]
    )
    return TransactionsIngest(silver=silver, quarantine=quarantine, tagged=tagged, record=record)


def assert_reconciled(record: dict[str, Any]) -> None:
    """Raise ReconciliationError unless landed = silver + quarantined + duplicates_removed."""
    check_balance(
        record, total_key="landed_rows", part_keys=("silver_rows", "quarantined_rows", "duplicates_removed")
    )
