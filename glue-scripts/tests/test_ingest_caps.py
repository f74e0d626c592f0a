"""The outlier caps of a backfill (delivery_caps): the equi-join expansion gives exactly the caps of the
window condition they are defined by (lines dated [D-N, D-1], delivered before D)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from clv_glue.ingest.job import delivery_caps
from clv_glue.ingest.landing import DELIVERY_COL
from pyspark.sql import functions as F  # noqa: N812

START = dt.date(2024, 1, 1)


def _window_caps(spark, priced, existing, days, n, percentile):
    """The definition, as a (slow) non-equi join of every line against every delivery day."""
    lines = priced.select("dt", F.col(DELIVERY_COL).alias("ingest_dt"), "amount_raw")
    if existing is not None:
        lines = (
            existing.where(F.col("ingest_dt") < F.lit(days[0]))
            .select("dt", "ingest_dt", "amount_raw")
            .unionByName(lines)
        )
    lines = lines.where(F.col("amount_raw") > 0)
    deliveries = spark.createDataFrame([(d,) for d in days], "delivery date")
    cond = (
        (lines["dt"] >= F.date_sub(deliveries["delivery"], n))
        & (lines["dt"] < deliveries["delivery"])
        & (lines["ingest_dt"] < deliveries["delivery"])
    )
    rows = (
        deliveries.join(lines, cond)
        .groupBy("delivery")
        .agg(
            F.percentile_approx("amount_raw", percentile, 1_000_000).alias("cap"),
            F.count(F.lit(1)).alias("n"),
        )
        .collect()
    )
    return {r["delivery"]: (float(r["cap"]), int(r["n"])) for r in rows}


@pytest.mark.parametrize("n", [1, 3, 30])
def test_caps_equal_the_window_definition(spark, n):
    rng = random.Random(n)
    days = [START + dt.timedelta(days=i) for i in range(40) if i % 7 != 3]  # some days without a delivery

    def line(ingest: dt.date) -> tuple:
        invoice = ingest - dt.timedelta(days=rng.choice([0, 0, 0, 1, 2, 5, 40]))  # late lines, some very late
        return (invoice, ingest, round(rng.choice([-1, 1]) * rng.uniform(0.5, 500), 2))

    priced = spark.createDataFrame(
        [line(d) for d in days for _ in range(rng.randint(0, 12))],
        f"dt date, {DELIVERY_COL} date, amount_raw double",
    )
    earlier = [START - dt.timedelta(days=i) for i in range(1, 10)]
    existing = spark.createDataFrame(
        [line(d) for d in earlier for _ in range(5)]
        + [line(days[2]) for _ in range(5)],  # an earlier run of a day this range replaces: not a reference
        "dt date, ingest_dt date, amount_raw double",
    )
    caps = delivery_caps(spark, priced, existing, days, n, 0.9)
    expected = _window_caps(spark, priced, existing, days, n, 0.9)
    assert expected  # the data do give most days a silver reference
    for day in days:
        cap, rows, source = caps[day]
        if day in expected:
            assert (source, cap, rows) == ("silver", *expected[day]), day
        else:
            assert source == "self", day
