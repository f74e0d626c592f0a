"""The benchmark end to end on a tiny generic-layout file (local Spark, the project's feature code)."""

import datetime as dt
import gzip
import json

import numpy as np
import pytest
from clv_model import bench


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    start = dt.datetime(2023, 1, 1, 9)
    lines = ["invoice_id,customer_id,invoice_ts,sku,quantity,unit_price,currency,country,channel,email,name"]
    inv = 0
    for c in range(120):
        rate = rng.gamma(1.5, 1 / 40)  # purchases per day
        life = rng.exponential(250)
        t = rng.uniform(0, 120)
        while t < min(life, 330):
            inv += 1
            ts = start + dt.timedelta(days=float(t))
            qty = int(rng.integers(1, 6))
            price = round(float(rng.gamma(2, 5)), 2)
            country = "United Kingdom" if c % 3 else "Germany"
            tail = f"{ts:%Y-%m-%d %H:%M:%S},SKU{c % 7}"
            lines.append(f"{inv},K{c},{tail},{qty},{price},GBP,{country},email,,")
            if rng.uniform() < 0.05:  # a cancellation of the same line
                lines.append(f"C{inv},K{c},{tail},{-qty},{price},GBP,{country},email,,")
            t += rng.exponential(1 / rate)
    lines.append(f"{inv + 3},K0,2023-01-01 09:00:00,SKU0,1,5,GBP,Germany,email,,")  # data spans the year
    lines.append(f"{inv + 4},K0,2023-12-31 09:00:00,SKU0,1,5,GBP,Germany,email,,")
    lines.append(f"{inv + 1},,2023-06-01 10:00:00,SKU1,1,5,GBP,Germany,email,,")  # no customer
    lines.append(f"{inv + 2},K1,2023-06-01 10:00:00,POST,1,5,GBP,Germany,email,,")  # postage
    path = tmp_path_factory.mktemp("bench") / "tx.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def test_bench_model_on_tiny_file(tiny_file, tmp_path):
    report = bench.run_bench(
        str(tiny_file),
        "generic",
        dt.date(2023, 10, 1),
        60,
        tmp_path,
        hyperparameters={"num_round": 20, "churn_num_round": 10, "early_stopping_rounds": 5},
        max_snapshots=2,
        log=lambda m: None,
    )
    saved = json.loads((tmp_path / "model-bench.json").read_text())
    assert set(saved["models"]) == {"clv_xgb", "heuristic", "linear_rfm", "bgnbd_gg"}
    for m in saved["models"].values():
        assert {"rmse", "mae", "gini_normalized", "spearman", "top_decile_capture", "decile_mape"} <= set(m)
    assert saved["dataset"]["cleaning"]["dropped_missing_customer"] == 1
    assert saved["dataset"]["cleaning"]["dropped_non_product"] == 1
    s = report["split"]
    assert s["test_cutoff"] == "2023-10-01" and s["label_horizon_days"] == 60
    assert s["validation_cutoff"] == "2023-08-02"
    assert s["train_cutoffs"] == ["2023-07-03"]
    assert saved["dataset"]["customers"] > 0
    assert "clv_xgb" in bench.format_table(report)
