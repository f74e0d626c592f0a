"""Parse and validate raw clickstream JSON lines (what Firehose delivered) before sessionization.

Firehose only delivers events that passed the zod schema, but the job still checks every line
against the same contract (lambdas/shared is the source of truth) and quarantines what does not
hold, with a reason. All fields are read as strings first (a JSON number keeps its text), then
checked with explicit shapes, so a bad value never turns into a silent null.
"""

from __future__ import annotations

import json
import re

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.types import StringType, StructField, StructType

from clv_glue.common.contracts import ReferenceData
from clv_glue.common.quality import is_blank, require_utc_session, tag_reasons

MAX_EVENT_BYTES = 16 * 1024
DEVICES = ("desktop", "mobile", "tablet")
JSON_CORRUPT_COL = "_clv_corrupt_json"
UUID_SHAPE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ISO_UTC_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$"
POSITIVE_INT_SHAPE = r"^[0-9]{1,9}$"
NON_NEGATIVE_NUMBER_SHAPE = r"^[0-9]{1,15}(\.[0-9]{1,10})?([eE][+-]?[0-9]{1,3})?$"

EVENT_REASONS = (
    "oversized_event",  # serialized size over 16 KiB
    "malformed_json",  # not a JSON object (or a blank line)
    "wrong_type",  # a field of the wrong JSON type (e.g. a number where the contract has a string)
    "unsupported_schema_version",  # schema_version is not 1
    "bad_event_id",  # not a UUID
    "unknown_event_type",
    "bad_event_ts",  # not ISO-8601 UTC with Z, or not a real instant
    "bad_session_id",  # missing or longer than 64 characters
    "missing_anonymous_id",
    "bad_customer_id",  # present but blank (null means anonymous)
    "bad_device",
    "missing_country",
    "missing_page",  # page_view
    "missing_sku",  # product_view, add_to_cart
    "missing_query",  # search
    "bad_quantity",  # add_to_cart: integer >= 1
    "bad_cart_value",  # checkout: number >= 0
    "missing_order_id",  # purchase
    "bad_revenue",  # purchase: number >= 0
    "bad_currency",  # checkout, purchase: a reference currency
)


# JSON types of the contract's fields (lambdas/shared/schemas/clickstream-event.ts). Spark reads every field
# as a string, which would turn {"session_id": 42} into "42"; the raw line is checked for JSON types instead.
FIELD_TYPES: dict[str, str] = {
    "schema_version": "integer",
    "event_id": "string",
    "event_type": "string",
    "event_ts": "string",
    "session_id": "string",
    "customer_id": "string",
    "anonymous_id": "string",
    "device": "string",
    "country": "string",
    "page": "string",
    "sku": "string",
    "query": "string",
    "quantity": "integer",
    "cart_value": "number",
    "currency": "string",
    "order_id": "string",
    "revenue": "number",
}
EVENT_FIELDS = tuple(FIELD_TYPES)
STRING_FIELDS = tuple(f for f, t in FIELD_TYPES.items() if t == "string")
INTEGER_FIELDS = tuple(f for f, t in FIELD_TYPES.items() if t == "integer")
NUMBER_FIELDS = tuple(f for f, t in FIELD_TYPES.items() if t == "number")


def json_type_error(line: str | None) -> str | None:
    """The first field whose JSON type differs from the contract's (null is allowed here; presence rules apply
    elsewhere), or None. Lines that are not a JSON object are left to the malformed_json rule."""
    if line is None:
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    for field in STRING_FIELDS:
        if obj.get(field) is not None and not isinstance(obj[field], str):
            return field
    for field in INTEGER_FIELDS:
        value = obj.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return field
    for field in NUMBER_FIELDS:
        value = obj.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return field
    return None


@F.pandas_udf(StringType())
def _json_type_error(lines: pd.Series) -> pd.Series:
    return lines.map(json_type_error)


def _alternatives(fields: tuple[str, ...]) -> str:
    return "|".join(re.escape(f) for f in fields)


# After a value, valid JSON has whitespace, ',' or '}' (']' inside arrays).
_END = r"[\s,}\]]"
# A line can hold a JSON value of the wrong type only if it matches this (no false negatives; see
# may_have_wrong_type). Without a backslash a key is written literally, "field" followed by ':' is always a
# key, and a value's type shows in its first characters: '"' a string, 'n' null, digits or '-' a number.
WRONG_TYPE_SUSPECT = (
    rf'"(?:{_alternatives(STRING_FIELDS)})"\s*:\s*[^"n\s]'
    rf'|"(?:{_alternatives(INTEGER_FIELDS)})"\s*:\s*(?!-?[0-9]+{_END}|null{_END})'
    rf'|"(?:{_alternatives(NUMBER_FIELDS)})"\s*:\s*(?![-0-9]|null{_END})'
)


def may_have_wrong_type(line: Column) -> Column:
    """False only for lines on which json_type_error is certainly None, so the exact Python check (a JSON
    parse per line in a Python worker, plus the line's round trip through Arrow) runs only on the few lines
    where a field may hold the wrong JSON type. Lines with a backslash (an escaped key or quote
    could hide a field) always get the exact check; nested objects or repeated keys only make it run more.
    """
    return line.contains("\\") | line.rlike(WRONG_TYPE_SUSPECT)


def wrong_type_field(line: Column) -> Column:
    """json_type_error of each line, in Spark. Spark evaluates a Python UDF on every row even inside `when`,
    so the other lines are passed to it as null (a few bytes through Arrow, returned at once) rather than
    split off with a filter and a union, which would read the input twice."""
    return _json_type_error(F.when(may_have_wrong_type(line), line))


def event_schema() -> StructType:
    return StructType(
        [StructField(f, StringType(), True) for f in EVENT_FIELDS]
        + [StructField(JSON_CORRUPT_COL, StringType())]
    )


def _is(event_type: str) -> Column:
    return F.col("event_type") == event_type


def parse_events(lines: DataFrame, ref: ReferenceData) -> DataFrame:
    """`lines` has a string column `value` (one raw line) plus any context columns, which are kept.

    Adds the string fields, `event_ts_parsed` (timestamp) and `reasons`/`reason` (null reason = valid).
    """
    require_utc_session(lines.sparkSession)
    parsed = F.from_json("value", event_schema(), {"columnNameOfCorruptRecord": JSON_CORRUPT_COL})
    df = lines.withColumn("_clv_json", parsed)
    df = df.select("*", *[F.col(f"_clv_json.{f}").alias(f) for f in (*EVENT_FIELDS, JSON_CORRUPT_COL)]).drop(
        "_clv_json"
    )
    ts = F.col("event_ts")
    df = df.withColumn("event_ts_parsed", F.when(ts.rlike(ISO_UTC_SHAPE), ts.cast("timestamp")))
    currencies = list(ref.fx_to_base)
    number_ok = F.col("cart_value").rlike(NON_NEGATIVE_NUMBER_SHAPE)
    revenue_ok = F.col("revenue").rlike(NON_NEGATIVE_NUMBER_SHAPE)
    qty_ok = F.col("quantity").rlike(POSITIVE_INT_SHAPE) & (F.col("quantity").cast("int") >= 1)
    money_event = _is("checkout") | _is("purchase")
    bad = {
        "oversized_event": F.octet_length("value") > MAX_EVENT_BYTES,
        "malformed_json": F.col(JSON_CORRUPT_COL).isNotNull() | is_blank(F.col("value")),
        "wrong_type": wrong_type_field(F.col("value")).isNotNull(),
        "unsupported_schema_version": F.coalesce(F.col("schema_version"), F.lit("")) != "1",
        "bad_event_id": ~F.coalesce(F.col("event_id").rlike(UUID_SHAPE), F.lit(False)),
        "unknown_event_type": ~F.coalesce(
            F.col("event_type").isin(list(ref.clickstream_event_types)), F.lit(False)
        ),
        "bad_event_ts": F.col("event_ts_parsed").isNull(),
        "bad_session_id": F.col("session_id").isNull()
        | (F.length("session_id") < 1)
        | (F.length("session_id") > 64),
        "missing_anonymous_id": is_blank(F.col("anonymous_id")),
        "bad_customer_id": F.col("customer_id").isNotNull() & is_blank(F.col("customer_id")),
        "bad_device": ~F.coalesce(F.col("device").isin(list(DEVICES)), F.lit(False)),
        "missing_country": is_blank(F.col("country")),
        "missing_page": _is("page_view") & is_blank(F.col("page")),
        "missing_sku": (_is("product_view") | _is("add_to_cart")) & is_blank(F.col("sku")),
        "missing_query": _is("search") & F.col("query").isNull(),
        "bad_quantity": _is("add_to_cart") & ~F.coalesce(qty_ok, F.lit(False)),
        "bad_cart_value": _is("checkout") & ~F.coalesce(number_ok, F.lit(False)),
        "missing_order_id": _is("purchase") & is_blank(F.col("order_id")),
        "bad_revenue": _is("purchase") & ~F.coalesce(revenue_ok, F.lit(False)),
        "bad_currency": money_event & ~F.coalesce(F.col("currency").isin(currencies), F.lit(False)),
    }
    checks = [(name, F.coalesce(bad[name], F.lit(False))) for name in EVENT_REASONS]
    return tag_reasons(df, checks, terminal=3)
