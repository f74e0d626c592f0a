"""Ground truth and the generating process: closed form against the simulation, seasonality, catalogue."""

import datetime as dt

import numpy as np

from datagen.params import Process
from datagen.process import make_catalogue, seasonal_intensity
from datagen.reference import load_reference
from datagen.tests.conftest import read_csv_gz

REF = load_reference()


def test_truth_file_and_closed_form_matches_simulation(sample):
    header, rows = read_csv_gz(sample["out"] / "truth" / "expected_revenue.csv.gz")
    assert header == ["customer_id", "expected_revenue", "probability_alive", "expected_purchases",
                      "realized_revenue", "realized_purchases"]  # fmt: skip
    assert len(rows) == 2000
    a = np.array([[float(x) for x in r[1:]] for r in rows])
    exp_rev, p_alive, exp_n, real_rev, real_n = a.T
    assert ((p_alive >= 0) & (p_alive <= 1)).all() and (exp_rev >= 0).all()
    # the closed form is the expectation of the simulated future: totals agree within sampling noise
    assert abs(exp_n.sum() - real_n.sum()) < 4 * np.sqrt(real_n.sum()) + 0.05 * real_n.sum()
    assert abs(exp_rev.sum() - real_rev.sum()) < 0.15 * real_rev.sum()
    # and it ranks customers: the top decile by expected revenue holds far more realized revenue
    top = np.argsort(-exp_rev)[: len(rows) // 10]
    assert real_rev[top].sum() > 0.35 * real_rev.sum()
    # never-buyers (no transaction at all) have no expected revenue
    buyers = {r[1] for _, r in sample["tx_rows"] if r[1]}
    for r, e in zip(rows, exp_rev, strict=True):
        if r[0] not in buyers:
            assert e == 0 or float(r[2]) > 0


def test_seasonality_peaks_in_november_december_and_weekly():
    p = Process()
    s = seasonal_intensity(dt.date(2023, 1, 1), 365, p)
    assert abs(s.mean() - 1) < 0.01
    dec1, jul15 = (
        (dt.date(2023, 12, 1) - dt.date(2023, 1, 1)).days,
        (dt.date(2023, 7, 15) - dt.date(2023, 1, 1)).days,
    )
    assert s[dec1 - 3 : dec1 + 4].mean() > 1.8 * s[jul15 - 3 : jul15 + 4].mean()
    sat = [d for d in range(365) if (dt.date(2023, 1, 1) + dt.timedelta(d)).weekday() == 5 and d < 270]
    thu = [d for d in range(365) if (dt.date(2023, 1, 1) + dt.timedelta(d)).weekday() == 3 and d < 270]
    assert s[thu].mean() > 1.2 * s[sat].mean()


def test_orders_follow_the_seasonality(sample):
    per_month = np.zeros(13)
    for _, r in sample["tx_rows"]:
        per_month[int(r[2][5:7])] += 1
    # signups grow through the year too, so compare November-December with September-October
    assert per_month[11:13].sum() > 1.3 * per_month[9:11].sum()


def test_catalogue_is_deterministic_and_shaped():
    p = Process()
    a, b = make_catalogue(5, REF, p), make_catalogue(5, REF, p)
    assert a.skus == b.skus and (a.price_pennies == b.price_pennies).all()
    assert a.n_products == 2000 and len(set(a.skus[:2000])) == 2000
    assert a.skus[a.nonproduct_first :] == list(REF.non_product_skus)
    assert all(s.startswith(REF.gift_card_sku_prefix) for s in a.skus[a.gift_first : a.nonproduct_first])
    assert make_catalogue(6, REF, p).skus != a.skus
