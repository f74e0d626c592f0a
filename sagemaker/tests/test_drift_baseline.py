"""The drift baseline (drift_baseline.py): decile edges by hand, constant and mostly-zero features,
categories with __other__ and NULL, and the file the evaluation job writes (evaluate_entry
--drift-baseline-dir, from the test channel)."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from clv_model import drift_baseline as db
from clv_model import evaluate_entry, train_entry
from conftest import synthetic_snapshot

FAST = {"num_round": "10", "churn_num_round": "5", "horizon_days": "91", "early_stopping_rounds": "5"}


def test_edges_of_1_to_10_are_the_deciles_above_the_minimum():
    # n = 10, linear interpolation: q(p) = 1 + 9p -> 1, 1.9, 2.8, ..., 9.1; the minimum (1) is not an edge
    edges = db.numeric_edges(np.arange(1, 11, dtype=float))
    assert edges == pytest.approx([1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1])
    counts, nulls = db.numeric_counts(np.arange(1, 11, dtype=float), edges)
    assert counts == [1] * 10  # 1 | 2 | ... | 10 (the last bin open above)
    assert nulls == 0


def test_mostly_zero_feature_collapses_duplicate_edges():
    values = np.array([0, 0, 0, 0, 0, 0, 0, 1, 2, 3, np.nan], dtype=float)
    # non-NaN n = 10, h = 9p: q(.7) = x6 + .3 (x7 - x6) = 0.3, q(.8) = 1 + .2 = 1.2, q(.9) = 2 + .1 = 2.1;
    # q(0) .. q(.6) = 0 = the minimum: no edge
    edges = db.numeric_edges(values)
    assert edges == pytest.approx([0.3, 1.2, 2.1])
    assert db.numeric_counts(values, edges) == ([7, 1, 1, 1], 1)


def test_constant_feature_is_one_bin_and_edge_values_go_up():
    assert db.numeric_edges([5.0, 5.0, 5.0, np.nan]) == []
    assert db.numeric_counts([5.0, 5.0, 5.0, np.nan], []) == ([3], 1)
    assert db.numeric_edges([np.nan, np.nan]) == []
    # a value equal to an edge belongs to the bin above it: [edge, next)
    assert db.numeric_counts([1.0, 2.0, 3.0], [2.0]) == ([1, 2], 0)


def test_categories_are_trimmed_and_blank_is_null():
    cats, counts, nulls = db.categorical_counts(["GB", " DE ", "", None, "GB", float("nan")])
    assert (cats, counts, nulls) == (["DE", "GB"], [1, 2], 3)
    arrow = pd.Series(["GB", None, " "], dtype="string[pyarrow]")  # pd.NA, as Arrow-backed input holds it
    assert db.categorical_counts(arrow) == (["GB"], [1], 2)


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    f = {c: rng.gamma(2.0, 10.0, n) for c in db.NUMERIC_INPUTS}
    f["tenure_days"] = np.full(n, 30.0)  # constant at training
    f["country"] = rng.choice(["GB", "DE"], n)
    f["acquisition_channel"] = ["organic"] * (n - 1) + [None]
    return pd.DataFrame(f)


def test_baseline_rows_layout():
    frame = db.baseline_rows(_frame(100), np.linspace(0, 99, 100), "clv-x")
    assert list(frame.columns) == db.COLUMNS
    assert set(frame["feature"]) == {*db.NUMERIC_INPUTS, db.PREDICTION_FEATURE, *db.CATEGORICAL_FEATURES}
    assert (frame.groupby("feature")["baseline_count"].sum() == 100).all()
    tenure = frame[frame["feature"] == "tenure_days"]
    assert tenure[["bin", "lower", "upper", "baseline_count"]].values.tolist()[0] == [0, -1e308, 1e308, 100]
    assert math.isnan(tenure["lower"].iloc[1]) and tenure["baseline_count"].iloc[1] == 0  # the NULL bin
    channel = frame[frame["feature"] == "acquisition_channel"]
    assert channel["category"].tolist() == ["organic", "__other__", None]
    assert channel["baseline_count"].tolist() == [99, 0, 1]
    pred = frame[frame["feature"] == db.PREDICTION_FEATURE]
    assert len(pred) == 11  # 10 deciles + NULL
    with pytest.raises(db.DriftBaselineError, match="country"):
        db.baseline_rows(_frame(10).drop(columns=["country"]), np.zeros(10), "clv-x")
    with pytest.raises(db.DriftBaselineError, match="no rows"):
        db.baseline_rows(_frame(10).iloc[:0], np.zeros(0), "clv-x")


def test_contract_matches_the_typescript_export():
    doc = json.loads(Path(db.__file__).with_name("drift_features.json").read_text())
    assert doc["edge_quantiles"] == [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert doc["other_category"] == "__other__"


def test_evaluation_job_writes_the_baseline_of_the_test_snapshot_monitored_population(tmp_path, spec):
    for ch in ("train", "validation", "test"):
        (tmp_path / ch).mkdir()
    synthetic_snapshot(spec, "2024-01-01", 150, 1).to_csv(tmp_path / "train" / "a.csv", index=False)
    synthetic_snapshot(spec, "2024-03-01", 150, 3).to_csv(tmp_path / "validation" / "a.csv", index=False)
    test = synthetic_snapshot(spec, "2024-04-01", 150, 4)
    test.loc[0, "country"] = ""  # blank: the model's input checks reject the row (country is required)
    # the monitored population's boundary: 365 days is in, 366 is out (decision 0035)
    test.loc[1, "recency_days"] = db.ACTIVE_WINDOW_DAYS
    test.loc[2, "recency_days"] = db.ACTIVE_WINDOW_DAYS + 1
    test.to_csv(tmp_path / "test" / "a.csv", index=False)
    recency = pd.to_numeric(test["recency_days"], errors="coerce")
    expected = int(((recency <= db.ACTIVE_WINDOW_DAYS) & recency.notna()).iloc[1:].sum())
    assert 0 < expected < 149
    train_entry.run(
        [],
        {
            "SM_MODEL_DIR": str(tmp_path / "model"),
            "SM_CHANNEL_TRAIN": str(tmp_path / "train"),
            "SM_CHANNEL_VALIDATION": str(tmp_path / "validation"),
            "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
            "SM_HPS": json.dumps(FAST),
            "SM_TRAINING_ENV": json.dumps({"job_name": "clv-train-drift"}),
        },
    )
    out = tmp_path / "drift"
    report = evaluate_entry.run(
        [
            "--model-dir", str(tmp_path / "model"), "--test", str(tmp_path / "test"),
            "--output-dir", str(tmp_path / "evaluation"), "--drift-baseline-dir", str(out),
        ],
        {},
    )  # fmt: skip
    assert report["model_version"] == "clv-train-drift"
    csv = out / "clv-train-drift.csv"
    # read back as Athena / DuckDB read it: every field a string, empty = NULL
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""])
    assert list(frame.columns) == db.COLUMNS
    assert (frame["model_version"] == "clv-train-drift").all()
    totals = frame.assign(n=frame["baseline_count"].astype(int)).groupby("feature")["n"].sum()
    # the test snapshot's monitored population, less the rejected row
    assert totals.to_dict() == {f: expected for f in totals.index}
    assert set(totals.index) == {*db.NUMERIC_INPUTS, db.PREDICTION_FEATURE, *db.CATEGORICAL_FEATURES}
    country = frame[frame["feature"] == "country"]
    assert country["category"].tolist()[-2:] == ["__other__", np.nan]
    assert country["baseline_count"].tolist()[-2:] == ["0", "0"]  # no unseen category, no NULL at baseline
    sessions = frame[frame["feature"] == "sessions_90d"]  # 30 % NaN in the synthetic data
    assert int(sessions["baseline_count"].iloc[-1]) > 0 and sessions["lower"].isna().iloc[-1]
    recency = frame[(frame["feature"] == "recency_days") & frame["lower"].notna()]
    assert float(recency["lower"].iloc[0]) == -1e308 and float(recency["upper"].iloc[-1]) == 1e308
    assert (
        recency["upper"].astype(float).iloc[:-1].to_numpy()
        == recency["lower"].astype(float).iloc[1:].to_numpy()
    ).all()


def test_the_training_channel_is_no_longer_an_argument(tmp_path):
    with pytest.raises(SystemExit):
        evaluate_entry.run(["--train", str(tmp_path)], {})


def test_no_row_in_the_monitored_population_is_an_error(spec):
    rows = synthetic_snapshot(spec, "2024-04-01", 20, 5)
    rows["recency_days"] = db.ACTIVE_WINDOW_DAYS + 1
    with pytest.raises(db.DriftBaselineError, match="monitored population"):
        db.compute_baseline(SimpleNamespace(spec=spec), rows)  # type: ignore[arg-type]
