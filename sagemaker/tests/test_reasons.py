"""Per-customer reasons: exact TreeSHAP where the policy asks for it, Saabas (approx_contribs) or none for the
rest, every row labelled with its method; predictions and reasons use the trees early stopping kept."""

import io
import json

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from clv_model import frames, serving
from clv_model.hyperparameters import Hyperparameters
from clv_model.model import REASONS_METHODS, TIERS, _range, resolve_device, train
from conftest import synthetic_snapshot

K = serving.N_REASONS


@pytest.fixture(scope="module")
def model(spec, snapshots):
    tr, _ = frames.check_rows(snapshots["train"], spec, require_labels=True)
    va, _ = frames.check_rows(snapshots["validation"], spec, require_labels=True)
    hp = Hyperparameters(
        num_round=300, churn_num_round=200, early_stopping_rounds=5, horizon_days=91, eta=0.3
    )
    return train(tr, va, spec, hp, log=lambda *_: None).model


@pytest.fixture(scope="module")
def rows(spec, snapshots):
    accepted, rejected = frames.check_rows(snapshots["test"], spec)
    assert len(rejected) == 0
    return accepted


def _contribs_top(model, rows, *, approx: bool):
    """Top-K of xgboost's own contributions on the pandas design matrix (the reference)."""
    dm = model._dmatrix(model.design_matrix(rows))
    c = model.revenue_booster.predict(
        dm, pred_contribs=True, approx_contribs=approx, iteration_range=_range(model.revenue_booster)
    )[:, :-1]
    order = np.argsort(-np.abs(c), axis=1, kind="stable")[:, :K]
    names = np.asarray(model.input_columns, dtype=object)
    return names[order], np.take_along_axis(c, order, axis=1)


def _reasons(pred):
    feats = np.column_stack([pred[f"reason_{k}_feature"].astype(object) for k in range(1, K + 1)])
    contribs = np.column_stack([pred[f"reason_{k}_contribution"].to_numpy(float) for k in range(1, K + 1)])
    return feats, contribs


def test_early_stopping_kept_fewer_trees_than_trained(model):
    for booster in (model.revenue_booster, model.churn_booster):
        assert booster.attr("best_iteration") is not None
        assert _range(booster)[1] < booster.num_boosted_rounds()


def test_predictions_use_the_trees_up_to_best_iteration(model, rows):
    pred = model.predict(rows)
    X = model.design_matrix(rows)
    rev_dm = model._dmatrix(X)
    rev = model.revenue_booster.predict(rev_dm, iteration_range=_range(model.revenue_booster))
    churn_dm = xgb.DMatrix(X[model.input_columns], enable_categorical=True, missing=np.nan)
    churn = model.churn_booster.predict(churn_dm, iteration_range=_range(model.churn_booster))
    np.testing.assert_array_equal(pred["predicted_revenue_12m"].to_numpy(), rev.astype(float))
    np.testing.assert_array_equal(pred["churn_probability"].to_numpy(), churn.astype(float))
    # every tree would give other predictions: the range matters
    all_trees = model.revenue_booster.predict(rev_dm, iteration_range=(0, 0))
    assert not np.allclose(all_trees, rev)


def test_exact_reasons_equal_xgboost_pred_contribs_top3(model, rows):
    pred = model.predict(rows, with_reasons=K, exact_tiers=TIERS)
    assert (pred["reasons_method"] == "tree_shap").all()
    feats, contribs = _reasons(pred)
    ref_feats, ref_contribs = _contribs_top(model, rows, approx=False)
    np.testing.assert_array_equal(feats, ref_feats)
    np.testing.assert_allclose(contribs, ref_contribs, rtol=1e-6, atol=1e-7)


def test_saabas_rows_are_labelled_saabas_and_equal_approx_contribs(model, rows):
    pred = model.predict(rows, with_reasons=K, exact_tiers=(), other_reasons="saabas")
    assert (pred["reasons_method"] == "saabas").all()
    feats, contribs = _reasons(pred)
    ref_feats, ref_contribs = _contribs_top(model, rows, approx=True)
    np.testing.assert_array_equal(feats, ref_feats)
    np.testing.assert_allclose(contribs, ref_contribs, rtol=1e-6, atol=1e-7)
    # Saabas is not TreeSHAP: the attributions differ (so labelling matters)
    _, shap_contribs = _contribs_top(model, rows, approx=False)
    assert not np.allclose(contribs, shap_contribs)


def test_none_leaves_reasons_empty(model, rows):
    pred = model.predict(rows, with_reasons=K, exact_tiers=(), other_reasons="none")
    assert (pred["reasons_method"] == "none").all()
    feats, contribs = _reasons(pred)
    assert pd.isna(feats).all() and np.isnan(contribs).all()


def test_tier_policy_applies_to_exactly_the_right_rows(model, rows):
    pred = model.predict(rows, with_reasons=K, exact_tiers=("High", "Medium"), other_reasons="saabas")
    assert set(pred["tier"]) == set(TIERS)  # the data exercises every tier
    exact = pred["tier"].isin(["High", "Medium"]).to_numpy()
    method = pred["reasons_method"].astype(str).to_numpy()
    assert (method[exact] == "tree_shap").all() and (method[~exact] == "saabas").all()
    # each row's reasons are those of its method, computed on that row alone
    feats, contribs = _reasons(pred)
    shap_f, shap_c = _contribs_top(model, rows, approx=False)
    saabas_f, saabas_c = _contribs_top(model, rows, approx=True)
    np.testing.assert_array_equal(feats[exact], shap_f[exact])
    np.testing.assert_array_equal(feats[~exact], saabas_f[~exact])
    np.testing.assert_allclose(contribs[exact], shap_c[exact], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(contribs[~exact], saabas_c[~exact], rtol=1e-6, atol=1e-7)


def test_tier_boundary_decides_the_method(model, rows):
    """A customer exactly at the High boundary gets exact reasons; just below it does not."""
    revenue = model.predict(rows)["predicted_revenue_12m"].to_numpy()
    order = np.argsort(revenue)
    at, below = order[-10], order[-11]
    assert revenue[below] < revenue[at]
    saved = dict(model.tier_boundaries)
    model.tier_boundaries["high"] = float(revenue[at])
    model.tier_boundaries["medium"] = float(revenue[order[0]])
    try:
        pred = model.predict(rows, with_reasons=K, exact_tiers=("High",), other_reasons="none")
    finally:
        model.tier_boundaries.clear()
        model.tier_boundaries.update(saved)
    method = pred["reasons_method"].astype(str).to_numpy()
    assert pred["tier"].iloc[at] == "High" and method[at] == "tree_shap"
    assert pred["tier"].iloc[below] == "Medium" and method[below] == "none"
    assert (method[revenue > revenue[at]] == "tree_shap").all()
    assert (method == "tree_shap").sum() == 10


def test_rows_flagged_reasons_exact_get_exact_reasons(model, rows):
    flags = np.zeros(len(rows), bool)
    flags[[0, 5]] = True
    pred = model.predict(rows, with_reasons=K, exact_tiers=(), other_reasons="none", exact_rows=flags)
    method = pred["reasons_method"].astype(str).to_numpy()
    assert list(np.flatnonzero(method == "tree_shap")) == [0, 5]
    assert (method[~flags] == "none").all()


def test_gpu_request_falls_back_cleanly(model, rows):
    device = resolve_device("cuda")
    assert device in ("cpu", "cuda")
    assert resolve_device("cpu") == "cpu"
    cpu = model.predict(rows, with_reasons=K, exact_tiers=TIERS, device="cpu")
    gpu = model.predict(rows, with_reasons=K, exact_tiers=TIERS, device="cuda")
    np.testing.assert_allclose(
        _reasons(gpu)[1], _reasons(cpu)[1], rtol=1e-4 if device == "cuda" else 0, atol=1e-5
    )
    with pytest.raises(ValueError, match="device: expected cpu, cuda or auto"):
        resolve_device("tpu")


def test_unknown_method_is_refused(model, rows):
    arr, margin = model.design_array(rows)
    with pytest.raises(ValueError, match="reasons method: expected one of"):
        model.reasons(arr, margin, np.array(["tree_shap"] * (len(arr) - 1) + ["shap"], dtype=object), K)
    with pytest.raises(ValueError, match="other_reasons: expected saabas or none"):
        model.predict(rows, with_reasons=K, other_reasons="tree_shap")


# ------------------------------------------------------------------ serving: policy from the environment
def test_policy_defaults_and_errors_name_the_variable():
    assert serving.reasons_policy({}) == serving.ReasonsPolicy(
        frozenset({"High", "Medium"}), "saabas", "auto"
    )
    p = serving.reasons_policy({serving.EXACT_TIERS_ENV: "all", serving.OTHER_ENV: "none"})
    assert p.exact_tiers == frozenset(TIERS) and p.other == "none"
    assert serving.reasons_policy({serving.EXACT_TIERS_ENV: ""}).exact_tiers == frozenset()
    with pytest.raises(ValueError, match="CLV_REASONS_EXACT_TIERS: expected .* got 'High,Gold'"):
        serving.reasons_policy({serving.EXACT_TIERS_ENV: "High,Gold"})
    with pytest.raises(ValueError, match="CLV_REASONS_OTHER: expected saabas or none, got 'shap'"):
        serving.reasons_policy({serving.OTHER_ENV: "shap"})
    with pytest.raises(ValueError, match="CLV_REASONS_DEVICE: expected auto, cpu or cuda"):
        serving.reasons_policy({serving.DEVICE_ENV: "gpu"})


def test_serving_policy_counts_reconcile_and_every_format_carries_the_method(model, spec, monkeypatch):
    monkeypatch.setenv(serving.EXACT_TIERS_ENV, "High")
    monkeypatch.setenv(serving.OTHER_ENV, "none")
    monkeypatch.setenv(serving.DEVICE_ENV, "cpu")
    raw = synthetic_snapshot(spec, "2024-05-01", 120, 21, with_labels=False)
    raw["reasons_exact"] = ""
    raw.loc[7, "reasons_exact"] = "true"  # a customer looked up: exact whatever the tier
    raw["frequency_days"] = raw["frequency_days"].astype(object)
    raw.loc[3, "frequency_days"] = "x"  # rejected, never scored
    raw.loc[4, "customer_id"] = None
    pred = serving.predict_fn(serving.input_fn(raw.to_csv(index=False), "text/csv"), model)
    assert pred["counts"] == {"in": 120, "scored": 118, "rejected": 2}
    scored = pred["predictions"]
    method = scored["reasons_method"].astype(str)
    expected = np.where(
        (scored["tier"] == "High") | (scored["customer_id"] == "C21-00007"), "tree_shap", "none"
    )
    np.testing.assert_array_equal(method.to_numpy(), expected)
    assert method.eq("none").any() and method.eq("tree_shap").sum() > 1

    csv = pd.read_csv(io.BytesIO(serving.output_fn(pred, "text/csv")), dtype={"customer_id": str})
    assert csv["status"].value_counts().to_dict() == {"scored": 118, "rejected": 2}
    ok = csv[csv["status"] == "scored"]
    assert set(ok["reasons_method"]) == {"tree_shap", "none"}
    assert ok.loc[ok["reasons_method"] == "none", "reason_1_feature"].isna().all()
    assert ok.loc[ok["reasons_method"] == "tree_shap", "reason_1_feature"].notna().all()
    assert csv.loc[csv["status"] == "rejected", "reasons_method"].isna().all()
    np.testing.assert_allclose(ok["predicted_revenue_12m"], scored["predicted_revenue_12m"], rtol=1e-12)

    lines = pd.read_json(io.BytesIO(serving.output_fn(pred, "application/jsonlines")), lines=True)
    assert len(lines) == 120 and set(lines.loc[lines["status"] == "scored", "reasons_method"]) <= set(
        REASONS_METHODS
    )
    body = json.loads(serving.output_fn(pred, "application/json"))
    assert {p["reasons_method"] for p in body["predictions"]} == {"tree_shap", "none"}
    none_row = next(p for p in body["predictions"] if p["reasons_method"] == "none")
    assert none_row["top_reasons"] == []
