"""The benchmark's temporal split and cleaning: no label window overlaps a later window or the test labels."""

import datetime as dt
import gzip

import pytest
from clv_model import bench

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("cutoff", "horizon", "label_h"),
    [("2011-09-09", 91, 91), ("2011-08-09", 122, 122), ("2011-07-09", 153, 100), ("2011-06-09", 183, 70)],
)
def test_split_windows(cutoff, horizon, label_h):
    s = bench.plan_split(D("2010-12-01"), D(cutoff), horizon)
    bench.check_split(s)
    assert s["label_horizon_days"] == label_h
    test = D(s["test_cutoff"])
    val = D(s["validation_cutoff"])
    trains = [D(c) for c in s["train_cutoffs"]]
    assert trains and all(c < val for c in trains)
    lh = dt.timedelta(days=s["label_horizon_days"])
    # every label window [c, c + L) ends by the test cutoff: none overlaps the test label window [test, ...)
    for c in [*trains, val]:
        assert c + lh <= test
        # features see data before c only, labels start at c: the windows touch, never overlap
        assert (c - D("2010-12-01")).days >= 30
    assert s["churn_horizon_days"] <= s["label_horizon_days"]


def test_split_refuses_short_history_and_detects_overlap():
    with pytest.raises(bench.BenchError, match="too short"):
        bench.plan_split(D("2011-01-01"), D("2011-03-01"), 91)
    s = bench.plan_split(D("2010-12-01"), D("2011-09-09"), 91)
    s["validation_cutoff"] = "2011-07-01"
    with pytest.raises(bench.BenchError, match="validation label window"):
        bench.check_split(s)


def test_read_transactions_cleans_online_retail_layout(tmp_path):
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        '536365,85123A,"HEART, WHITE",6,2011-07-01 10:00:00,2.5,17850,United Kingdom\n'
        '536365,85123A,"HEART, WHITE",6,2011-07-01 10:00:00,2.5,17850,United Kingdom\n'  # exact duplicate
        "536366,POST,POSTAGE,1,2011-07-01 10:00:00,18,17850,United Kingdom\n"  # non-product
        "536367,22633,HAND WARMER,6,2011-07-01 11:00:00,1.85,,United Kingdom\n"  # no customer
        'C536368,85123A,"HEART, WHITE",-2,2011-07-02 09:00:00,2.5,17850,United Kingdom\n'  # cancellation
    )
    path = tmp_path / "or.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(text)
    tx, counts = bench.read_transactions(path, "online-retail")
    assert counts == {
        "rows_in": 5,
        "dropped_missing_customer": 1,
        "dropped_exact_duplicates": 1,
        "dropped_non_product": 1,
        "dropped_unparseable": 0,
        "rows_used": 2,
        "customers": 1,
    }
    assert tx["amount"].tolist() == [15.0, -5.0]
    assert tx["is_cancellation"].tolist() == [False, True]
    # Europe/London summer time -> UTC
    assert str(tx["invoice_ts"].iloc[0]) == "2011-07-01 09:00:00"
