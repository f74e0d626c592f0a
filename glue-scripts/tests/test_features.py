"""build_features on a tiny hand-made silver dataset; expected values are worked out by hand in comments.

Cutoff 2024-01-01 (00:00 UTC). Windows: 30d = [2023-12-02, cutoff), 90d = [2023-10-03, cutoff),
365d = [2023-01-01, cutoff); trend: recent [2023-10-03, cutoff), prior [2023-07-05, 2023-10-03).
Each scenario is built and collected once (module fixtures) to keep Spark actions few.
"""

from __future__ import annotations

import datetime as dt

import pytest
from clv_glue.features import build_features, contract
from clv_glue.features.build import LabelWindowNotObservedError, extract_date_as_of
from pyspark.sql import types as T  # noqa: N812

CUTOFF = dt.date(2024, 1, 1)
OBSERVED = dt.date(2024, 12, 31)  # exactly cutoff + 365 days (2024 is a leap year): just enough

TX_SCHEMA = T.StructType(
    [
        T.StructField("invoice_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("invoice_ts", T.TimestampType()),
        T.StructField("sku", T.StringType()),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("unit_price", T.DoubleType()),
        T.StructField("amount", T.DoubleType()),
        T.StructField("is_cancellation", T.BooleanType()),
        T.StructField("is_return", T.BooleanType()),
        T.StructField("is_gift_card", T.BooleanType()),
        T.StructField("is_non_product", T.BooleanType()),
        T.StructField("country", T.StringType()),
        T.StructField("channel", T.StringType()),
    ]
)
CUST_SCHEMA = T.StructType(
    [
        T.StructField("customer_id", T.StringType()),
        T.StructField("signup_date", T.DateType()),
        T.StructField("country", T.StringType()),
        T.StructField("acquisition_channel", T.StringType()),
        T.StructField("loyalty_status", T.StringType()),
        T.StructField("dt", T.DateType()),  # the CRM extract's date (silver customers partition)
    ]
)
SESS_SCHEMA = T.StructType(
    [
        T.StructField("session_id", T.StringType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("session_start", T.TimestampType()),
        T.StructField("session_end", T.TimestampType()),
        T.StructField("duration_s", T.DoubleType()),
        T.StructField("n_events", T.IntegerType()),
        T.StructField("n_product_views", T.IntegerType()),
        T.StructField("n_add_to_cart", T.IntegerType()),
        T.StructField("n_purchases", T.IntegerType()),
    ]
)


def ts(*a: int) -> dt.datetime:
    return dt.datetime(*a)  # naive = UTC (the test session time zone is UTC)


def tx(inv, cust, when, sku, qty, amount, *, country="United Kingdom", non_product=False):
    cancel = inv.startswith("C")
    return (
        inv,
        cust,
        when,
        sku,
        qty,
        abs(amount / qty) if qty else 0.0,
        amount,
        cancel,
        qty < 0,
        sku.startswith("GIFT"),
        non_product,
        country,
        "web",
    )


# Rows before the cutoff (the only ones features may see).
HISTORY = [
    # A: purchase days 2023-06-01, 08-15, 11-15, 12-20, 12-31 (5 days); POST line is non-product.
    tx("A1", "A", ts(2023, 6, 1, 10), "P1", 2, 20.0),
    tx("A1", "A", ts(2023, 6, 1, 10), "POST", 1, 5.0, non_product=True),
    tx("A2", "A", ts(2023, 6, 1, 15), "P2", 1, 10.0),
    tx("A10", "A", ts(2023, 8, 15, 9), "P4", 1, 70.0),
    tx("A3", "A", ts(2023, 11, 15, 12), "P1", 3, 30.0),
    tx("A3", "A", ts(2023, 11, 15, 12), "GIFT50", 1, 50.0),
    tx("A4", "A", ts(2023, 12, 20, 8), "P3", 1, 40.0),
    tx("CA5", "A", ts(2023, 12, 22, 8), "P3", -1, -40.0),
    tx("A6", "A", ts(2023, 12, 31, 23, 59, 59), "P2", 1, 10.0),  # last second before the cutoff: included
    # B: one gift-card purchase, country only on the transaction.
    tx("B1", "B", ts(2023, 10, 1, 12), "GIFT25", 1, 25.0, country="France"),
    # C: returns only -> not eligible.
    tx("CC1", "C", ts(2023, 12, 1, 12), "P1", -1, -15.0),
    # D: one old purchase and a return inside the 365-day window.
    tx("D1", "D", ts(2022, 6, 1, 12), "P1", 4, 100.0),
    tx("CD2", "D", ts(2023, 3, 1, 12), "P1", -1, -25.0),
    # F: only non-product lines -> not eligible.
    tx("F1", "F", ts(2023, 11, 1, 12), "POST", 1, 8.0, non_product=True),
    # No customer id -> dropped.
    tx("N1", None, ts(2023, 11, 1, 12), "P1", 1, 999.0),
]
# Rows at / after the cutoff (labels only).
AT_CUTOFF = [
    tx("A7", "A", ts(2024, 1, 1, 0, 0, 0), "P1", 1, 100.0),  # exactly at the cutoff
    tx("A8", "A", ts(2024, 1, 1, 0, 0, 1), "P1", 1, 100.0),  # one second after
    tx("G1", "G", ts(2024, 1, 1, 0, 0, 0), "P1", 1, 10.0),  # new customer at the cutoff: not eligible
]
FUTURE = [
    tx("A9", "A", ts(2024, 3, 1, 12), "P2", 1, 60.0),
    tx("CA11", "A", ts(2024, 5, 1, 12), "P2", -1, -30.0),
    tx("CB2", "B", ts(2024, 2, 1, 12), "GIFT25", -1, -10.0),  # B future net -10 -> label floored at 0
    tx("D3", "D", ts(2024, 9, 1, 12), "P1", 1, 20.0),  # after the 183-day churn window (ends 2024-07-02)
    tx("C2", "C", ts(2024, 2, 1, 12), "P1", 1, 15.0),
    tx(
        "A12", "A", ts(2024, 12, 31, 0, 0, 0), "P1", 1, 500.0
    ),  # cutoff + 365d: first instant after the window
]
EXTRACT_AT_CUTOFF = dt.date(2024, 1, 1)  # the CRM's state at the cutoff: the one the features use
CUSTOMERS = [
    ("A", dt.date(2023, 1, 1), "Germany", "email", "gold", EXTRACT_AT_CUTOFF),
    ("B", dt.date(2023, 1, 1), "", None, "silver", EXTRACT_AT_CUTOFF),
    ("C", dt.date(2023, 1, 1), "United Kingdom", "organic", "none", EXTRACT_AT_CUTOFF),
    ("X", dt.date(2023, 1, 1), "Spain", "social", "none", EXTRACT_AT_CUTOFF),
]
# An older extract (superseded: D was in the CRM then, not at the cutoff) and a later one (the future).
OLDER_EXTRACT = [
    ("A", dt.date(2023, 1, 1), "Germany", "email", "none", dt.date(2023, 6, 1)),
    ("D", dt.date(2023, 1, 1), "Italy", "social", "silver", dt.date(2023, 6, 1)),
]
LATER_EXTRACT = [
    ("A", dt.date(2023, 1, 1), "Austria", "referral", "platinum", dt.date(2024, 1, 2)),
    ("B", dt.date(2023, 1, 1), "Belgium", "email", "gold", dt.date(2024, 1, 2)),
    ("D", dt.date(2023, 1, 1), "Italy", "social", "gold", dt.date(2024, 1, 2)),
]
SESSIONS = [
    ("s1", "A", ts(2023, 12, 30, 10), ts(2023, 12, 30, 10, 1, 40), 100.0, 9, 5, 2, 1),
    ("s2", "A", ts(2023, 11, 20, 10), ts(2023, 11, 20, 10, 5), 300.0, 5, 3, 1, 0),
    ("s3", "A", ts(2023, 8, 1, 10), ts(2023, 8, 1, 10, 0, 50), 50.0, 11, 10, 0, 0),  # outside 90 days
    ("s4", "A", ts(2023, 12, 31, 23, 50), ts(2024, 1, 1, 0, 10), 1200.0, 9, 7, 1, 1),  # ends after the cutoff
    ("s5", "A", ts(2024, 1, 2, 10), ts(2024, 1, 2, 10, 10), 600.0, 9, 7, 3, 1),  # after the cutoff
    ("s6", None, ts(2023, 12, 15, 10), ts(2023, 12, 15, 10, 10), 600.0, 9, 7, 3, 1),  # anonymous
    ("s7", "D", ts(2022, 5, 1, 10), ts(2022, 5, 1, 10, 10), 600.0, 2, 1, 0, 0),
]


def _collect(df) -> dict[str, dict]:
    return {r["customer_id"]: r.asDict() for r in df.collect()}


@pytest.fixture(scope="module")
def frames(spark):
    return {
        "full": spark.createDataFrame(HISTORY + AT_CUTOFF + FUTURE, TX_SCHEMA),
        "no_cutoff_rows": spark.createDataFrame(HISTORY + FUTURE, TX_SCHEMA),
        "customers": spark.createDataFrame(OLDER_EXTRACT + CUSTOMERS + LATER_EXTRACT, CUST_SCHEMA),
        "customers_at_cutoff": spark.createDataFrame(CUSTOMERS, CUST_SCHEMA),
        "customers_later_only": spark.createDataFrame(LATER_EXTRACT, CUST_SCHEMA),
        "sessions": spark.createDataFrame(SESSIONS, SESS_SCHEMA),
    }


@pytest.fixture(scope="module")
def labelled(frames):
    df = build_features(
        frames["full"],
        frames["customers"],
        frames["sessions"],
        CUTOFF,
        with_labels=True,
        observed_until=OBSERVED,
    )
    return df, _collect(df)


@pytest.fixture(scope="module")
def bare(frames):
    """No customers, no sessions, no labels."""
    df = build_features(frames["full"], None, None, CUTOFF, with_labels=False)
    return df, _collect(df)


@pytest.fixture(scope="module")
def without_cutoff_rows(frames):
    df = build_features(
        frames["no_cutoff_rows"],
        frames["customers"],
        frames["sessions"],
        CUTOFF,
        with_labels=True,
        observed_until=OBSERVED,
    )
    return _collect(df)


def test_eligible_customers(labelled, bare):
    # C returns only, F non-product only, G first buys at the cutoff, X has no transactions, N has no id.
    assert sorted(labelled[1]) == ["A", "B", "D"]
    assert sorted(bare[1]) == ["A", "B", "D"]


def test_output_matches_contract(labelled, bare):
    for df, _ in (labelled, bare):
        assert tuple(df.columns) == contract.FEATURE_COLUMNS
        types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        assert types == {f.name: f.spark_type for f in contract.FEATURES}


def test_rfm_t(labelled):
    a, b, d = (labelled[1][k] for k in "ABD")
    # A: last purchase day 12-31 -> 1 day; first 06-01 -> 214 days; 06-01..12-31 = 213 days.
    assert (a["recency_days"], a["tenure_days"], a["btyd_recency_days"]) == (1, 214, 213)
    assert (a["frequency_days"], a["repeat_frequency"]) == (5, 4)
    # gross 20+10+70+30+50+40+10 = 230, returns 40 -> net 190, per purchase day 190/5.
    assert a["monetary_total_net"] == pytest.approx(190.0)
    assert a["monetary_avg_day"] == pytest.approx(38.0)
    # B: one day, 2023-10-01 -> 92 days before the cutoff.
    assert (b["recency_days"], b["tenure_days"], b["btyd_recency_days"], b["frequency_days"]) == (
        92,
        92,
        0,
        1,
    )
    assert b["repeat_frequency"] == 0 and b["monetary_avg_day"] == pytest.approx(25.0)
    # D: 2022-06-01 -> 579 days; net 100 - 25.
    assert (d["recency_days"], d["tenure_days"]) == (579, 579)
    assert d["monetary_total_net"] == pytest.approx(75.0)


def test_windows(labelled):
    a, b, d = (labelled[1][k] for k in "ABD")
    # A 30d: A4 (12-20) + A6 (12-31) = 50; return CA5 40; SKUs P3, P2.
    assert (a["invoices_30d"], a["spend_30d"], a["returns_value_30d"], a["returns_count_30d"]) == (
        2,
        50.0,
        40.0,
        1,
    )
    assert a["distinct_products_30d"] == 2
    # A 90d: A3 (30+50), A4, A6 = 130; SKUs P1, GIFT50, P3, P2.
    assert (a["invoices_90d"], a["spend_90d"], a["returns_value_90d"], a["distinct_products_90d"]) == (
        3,
        130.0,
        40.0,
        4,
    )
    # A 365d: all 6 purchase invoices, 230; SKUs P1, P2, P3, P4, GIFT50 (POST excluded).
    assert (a["invoices_365d"], a["spend_365d"], a["returns_count_365d"], a["distinct_products_365d"]) == (
        6,
        230.0,
        1,
        5,
    )
    # B bought on 2023-10-01: outside 30d and 90d (starts 10-03), inside 365d.
    assert (b["invoices_30d"], b["invoices_90d"], b["invoices_365d"]) == (0, 0, 1)
    assert (b["spend_30d"], b["spend_90d"], b["spend_365d"]) == (0.0, 0.0, 25.0)
    # D: no purchase in any window, one return (2023-03-01) inside 365d only.
    assert (d["invoices_365d"], d["spend_365d"], d["distinct_products_365d"]) == (0, 0.0, 0)
    assert (d["returns_value_90d"], d["returns_value_365d"], d["returns_count_365d"]) == (0.0, 25.0, 1)


def test_purchase_pattern(labelled):
    a, b, d = (labelled[1][k] for k in "ABD")
    # A gaps 75, 92, 35, 11: mean 53.25, sample variance 1364.25.
    assert a["interpurchase_mean_days"] == pytest.approx(53.25)
    assert a["interpurchase_var_days"] == pytest.approx(1364.25)
    # A trend: recent 130, prior (A10 on 08-15) 70 -> 60/200.
    assert a["spend_trend_90d"] == pytest.approx(0.3)
    assert a["gift_card_share"] == pytest.approx(50 / 230)
    assert a["return_rate"] == pytest.approx(40 / 230)
    assert a["avg_basket_items"] == pytest.approx(10 / 6)  # units 2+1+1+3+1+1+1 over 6 invoices
    # B: gift card only; one day -> no gaps; prior window holds its 25 -> trend -1.
    assert b["gift_card_share"] == pytest.approx(1.0)
    assert b["interpurchase_mean_days"] is None and b["interpurchase_var_days"] is None
    assert b["spend_trend_90d"] == pytest.approx(-1.0)
    assert b["return_rate"] == pytest.approx(0.0)
    # D: nothing in the last 180 days -> trend 0 (not null); return rate 25/100; 4 units in 1 invoice.
    assert d["spend_trend_90d"] == 0.0
    assert d["return_rate"] == pytest.approx(0.25)
    assert d["avg_basket_items"] == pytest.approx(4.0)


def test_two_purchase_days_give_mean_but_no_variance(spark):
    rows = [tx("H1", "H", ts(2023, 12, 1, 9), "P1", 1, 5.0), tx("H2", "H", ts(2023, 12, 11, 9), "P1", 1, 5.0)]
    h = _collect(
        build_features(spark.createDataFrame(rows, TX_SCHEMA), None, None, CUTOFF, with_labels=False)
    )["H"]
    assert h["interpurchase_mean_days"] == pytest.approx(10.0)
    assert h["interpurchase_var_days"] is None


def test_behaviour(labelled):
    a, b, d = (labelled[1][k] for k in "ABD")
    # A: s1 and s2 only (s3 too old, s4 ends after the cutoff, s5 after, s6 anonymous).
    assert (a["sessions_90d"], a["product_views_90d"], a["add_to_cart_90d"]) == (2, 8, 3)
    assert a["avg_session_duration_s_90d"] == pytest.approx(200.0)
    assert a["cart_to_purchase_rate_90d"] == pytest.approx(0.5)  # s1 bought, s2 did not
    assert a["days_since_last_session"] == 2  # s1 started 2023-12-30
    # B: sessions given but none -> counts 0, undefined ratios null.
    assert (b["sessions_90d"], b["product_views_90d"], b["add_to_cart_90d"]) == (0, 0, 0)
    assert b["avg_session_duration_s_90d"] is None and b["cart_to_purchase_rate_90d"] is None
    assert b["days_since_last_session"] is None
    # D: one session on 2022-05-01 -> 610 days, none in the window.
    assert (d["sessions_90d"], d["days_since_last_session"]) == (0, 610)


def test_attributes(labelled, bare):
    a, b, d = (labelled[1][k] for k in "ABD")
    assert (a["country"], a["acquisition_channel"], a["loyalty_status"]) == ("Germany", "email", "gold")
    # B: empty CRM country -> country of its latest purchase; missing channel -> unknown.
    assert (b["country"], b["acquisition_channel"], b["loyalty_status"]) == ("France", "unknown", "silver")
    # D: not in customers.
    assert (d["country"], d["acquisition_channel"], d["loyalty_status"]) == (
        "United Kingdom",
        "unknown",
        "unknown",
    )
    # Without customers: transaction country, the rest unknown.
    ba = bare[1]["A"]
    assert (ba["country"], ba["acquisition_channel"], ba["loyalty_status"]) == (
        "United Kingdom",
        "unknown",
        "unknown",
    )


def test_attributes_come_from_the_extract_at_the_cutoff_never_a_later_one(frames, labelled):
    """Leakage test for the CRM: the extract dated after the cutoff (today's loyalty status, say) and the
    superseded older one change no feature; with only later extracts the attributes are unknown."""
    only_at_cutoff = build_features(
        frames["full"],
        frames["customers_at_cutoff"],
        frames["sessions"],
        CUTOFF,
        with_labels=True,
        observed_until=OBSERVED,
    )
    assert _collect(only_at_cutoff) == labelled[1]
    assert extract_date_as_of(frames["customers"], CUTOFF) == EXTRACT_AT_CUTOFF
    assert extract_date_as_of(frames["customers"], dt.date(2023, 12, 31)) == dt.date(2023, 6, 1)
    assert extract_date_as_of(frames["customers_later_only"], CUTOFF) is None
    later_only = _collect(
        build_features(frames["full"], frames["customers_later_only"], None, CUTOFF, with_labels=False)
    )
    a = later_only["A"]
    assert (a["country"], a["acquisition_channel"], a["loyalty_status"]) == (
        "United Kingdom",
        "unknown",
        "unknown",
    )


def test_customers_without_an_extract_date_are_refused(spark, frames):
    undated = frames["customers_at_cutoff"].drop("dt")
    with pytest.raises(ValueError, match=r"customers.*dt"):
        build_features(frames["full"], undated, None, CUTOFF, with_labels=False)


def test_missing_sessions_and_customers_give_null_behaviour(bare):
    for row in bare[1].values():
        for c in (
            "sessions_90d",
            "avg_session_duration_s_90d",
            "product_views_90d",
            "add_to_cart_90d",
            "cart_to_purchase_rate_90d",
            "days_since_last_session",
        ):
            assert row[c] is None, c


def test_labels(labelled):
    a, b, d = (labelled[1][k] for k in "ABD")
    # A: A7 100 + A8 100 + A9 60 - CA11 30 = 230 (A12 at cutoff + 365d is outside); bought within 183 days.
    assert a["label_revenue_12m"] == pytest.approx(230.0)
    assert a["label_churn_6m"] == 0
    # B: only a return after the cutoff -> net -10 floored at 0; churned.
    assert (b["label_revenue_12m"], b["label_churn_6m"]) == (0.0, 1)
    # D: bought on 2024-09-01: revenue yes, but after the 183-day churn window.
    assert (d["label_revenue_12m"], d["label_churn_6m"]) == (20.0, 1)


def test_metadata(labelled, bare):
    a = labelled[1]["A"]
    assert (a["event_time"], a["cutoff_date"]) == ("2024-01-01T00:00:00Z", "2024-01-01")
    assert a["snapshot_id"] == f"20240101-l365-183-{contract.SCHEMA_HASH[:12]}"
    assert bare[1]["A"]["snapshot_id"] == f"20240101-nolabels-{contract.SCHEMA_HASH[:12]}"
    assert all(r["label_revenue_12m"] is None and r["label_churn_6m"] is None for r in bare[1].values())


def test_no_leakage_from_rows_at_or_after_cutoff(labelled, without_cutoff_rows):
    """Purchases at the cutoff instant and one second after it change no feature, only the labels."""
    with_rows = labelled[1]
    assert sorted(with_rows) == sorted(without_cutoff_rows)
    features = [c for c in contract.FEATURE_COLUMNS if c not in contract.LABELS]
    for cust in with_rows:
        assert {c: with_rows[cust][c] for c in features} == {
            c: without_cutoff_rows[cust][c] for c in features
        }
    assert with_rows["A"]["label_revenue_12m"] == pytest.approx(230.0)
    assert without_cutoff_rows["A"]["label_revenue_12m"] == pytest.approx(30.0)


def test_labels_need_observed_window(frames):
    # Explicit observed_until one day short of cutoff + 365 (= 2024-12-31).
    with pytest.raises(
        LabelWindowNotObservedError, match="need data observed until 2024-12-31 .* only until 2024-12-30"
    ):
        build_features(
            frames["full"], None, None, CUTOFF, with_labels=True, observed_until=dt.date(2024, 12, 30)
        )
    # Inferred: the latest invoice is 2024-12-31 00:00 -> observed until 2025-01-01: enough for cutoff
    # 2024-01-01, not for cutoff 2024-01-03 (needs 2025-01-02).
    build_features(frames["full"], None, None, CUTOFF, with_labels=True)
    with pytest.raises(LabelWindowNotObservedError, match="only until 2025-01-01 .inferred"):
        build_features(frames["full"], None, None, dt.date(2024, 1, 3), with_labels=True)


def test_bad_inputs_are_named(frames, spark):
    with pytest.raises(ValueError, match=r"transactions is missing column\(s\) \['amount'\]"):
        build_features(frames["full"].drop("amount"), None, None, CUTOFF, with_labels=False)
    with pytest.raises(ValueError, match="sessions is missing"):
        build_features(
            frames["full"], None, frames["sessions"].drop("n_purchases"), CUTOFF, with_labels=False
        )
    with pytest.raises(TypeError, match="datetime.date"):
        build_features(frames["full"], None, None, dt.datetime(2024, 1, 1), with_labels=False)
