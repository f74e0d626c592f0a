"""Model metrics: regression (revenue), ranking (Gini, Lorenz, deciles), classification (churn), slices.

All functions take plain numpy arrays / pandas objects and return plain Python data (JSON-serialisable).
Ranking conventions: customers are ordered by prediction, highest first; ties in the prediction are
treated as a block (its revenue is spread evenly across the block), so a constant prediction has Gini 0
whatever the row order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics as skm


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("metrics need at least one row")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("metrics inputs contain NaN or infinite values")
    return t, p


def rmse(y_true, y_pred) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true, y_pred) -> float:
    t, p = _arrays(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def _gain_curve(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of customers (x) and of actual value (y), ordered by score descending, one point per
    block of tied scores. Starts at (0, 0), ends at (1, 1)."""
    order = np.argsort(-y_score, kind="mergesort")
    s = y_score[order]
    v = y_true[order]
    total = v.sum()
    if total == 0:
        raise ValueError("Gini/Lorenz undefined: the actual values sum to zero")
    # last index of each block of equal scores
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    cum_v = np.cumsum(v)[ends] / total
    cum_n = (ends + 1) / v.size
    return np.r_[0.0, cum_n], np.r_[0.0, cum_v]


def gini(y_true, y_score) -> float:
    """Gini of the cumulative-gain curve: 2 * (area under the curve) - 1 (trapezoids)."""
    t, p = _arrays(y_true, y_score)
    x, y = _gain_curve(t, p)
    area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
    return 2 * area - 1


def gini_normalized(y_true, y_score) -> float:
    """Model Gini divided by the Gini of the perfect ranking (by the actual values themselves)."""
    t, p = _arrays(y_true, y_score)
    perfect = gini(t, t)
    if perfect == 0:
        raise ValueError(
            "normalized Gini undefined: the perfect ranking has Gini 0 (all actual values equal)"
        )
    return gini(t, p) / perfect


def lorenz_points(y_true, y_score, n_points: int = 21) -> list[dict[str, float]]:
    """Points of the cumulative-gain (Lorenz) curve at evenly spaced customer shares (linear between
    blocks)."""
    t, p = _arrays(y_true, y_score)
    x, y = _gain_curve(t, p)
    grid = np.linspace(0.0, 1.0, n_points)
    vals = np.interp(grid, x, y)
    return [
        {"customer_share": round(float(g), 6), "value_share": round(float(v), 6)}
        for g, v in zip(grid, vals, strict=True)
    ]


def top_share_capture(y_true, y_score, share: float = 0.1) -> float:
    """Share of the actual total captured by the top `share` of customers by score."""
    t, p = _arrays(y_true, y_score)
    x, y = _gain_curve(t, p)
    return float(np.interp(share, x, y))


def spearman(y_true, y_pred) -> float:
    t, p = _arrays(y_true, y_pred)
    if np.all(p == p[0]) or np.all(t == t[0]):
        return 0.0
    return float(stats.spearmanr(t, p).statistic)


def decile_table(y_true, y_pred, n_bins: int = 10) -> list[dict[str, Any]]:
    """Calibration by decile of prediction (decile 1 = highest predicted). Customers are ranked by prediction
    (stable order for ties) and cut into n_bins groups of near-equal size."""
    t, p = _arrays(y_true, y_pred)
    n = t.size
    order = np.argsort(-p, kind="mergesort")
    bins = np.empty(n, dtype=int)
    bins[order] = np.arange(n) * n_bins // n
    rows = []
    for b in range(n_bins):
        mask = bins == b
        if not mask.any():
            continue
        rows.append(
            {
                "decile": b + 1,
                "customers": int(mask.sum()),
                "mean_predicted": float(p[mask].mean()),
                "mean_actual": float(t[mask].mean()),
                "sum_predicted": float(p[mask].sum()),
                "sum_actual": float(t[mask].sum()),
            }
        )
    return rows


def decile_mape(table: list[dict[str, Any]]) -> float:
    """Mean absolute percentage error of mean predicted vs mean actual per decile; deciles whose mean
    actual is 0 are skipped (percentage undefined). NaN when every decile is skipped."""
    errs = [
        abs(r["mean_predicted"] - r["mean_actual"]) / abs(r["mean_actual"])
        for r in table
        if r["mean_actual"] != 0
    ]
    return float(np.mean(errs)) if errs else float("nan")


def regression_metrics(y_true, y_pred) -> dict[str, Any]:
    table = decile_table(y_true, y_pred)
    return {
        "rmse": rmse(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "gini_normalized": gini_normalized(y_true, y_pred),
        "spearman": spearman(y_true, y_pred),
        "top_decile_capture": top_share_capture(y_true, y_pred, 0.1),
        "decile_mape": decile_mape(table),
    }


def classification_metrics(y_true, p_pred, threshold: float) -> dict[str, Any]:
    t = np.asarray(y_true, dtype=int)
    p = np.asarray(p_pred, dtype=float)
    if t.shape != p.shape:
        raise ValueError(f"churn labels and probabilities differ in length: {t.shape} vs {p.shape}")
    if not set(np.unique(t)).issubset({0, 1}):
        raise ValueError("churn labels must be 0/1")
    pred = (p >= threshold).astype(int)
    auc = float(skm.roc_auc_score(t, p)) if len(np.unique(t)) == 2 else float("nan")
    return {
        "auc": auc,
        "threshold": float(threshold),
        "precision": float(skm.precision_score(t, pred, zero_division=0)),
        "recall": float(skm.recall_score(t, pred, zero_division=0)),
        "positive_rate": float(t.mean()),
        "predicted_positive_rate": float(pred.mean()),
    }


def best_f1_threshold(y_true, p_pred) -> float:
    """Threshold maximising F1 on the given (training or validation) labels."""
    t = np.asarray(y_true, dtype=int)
    p = np.asarray(p_pred, dtype=float)
    if len(np.unique(t)) < 2:
        return 0.5
    precision, recall, thresholds = skm.precision_recall_curve(t, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def _finite_or_none(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def slice_metrics(
    frame: pd.DataFrame,
    slice_col: str,
    *,
    y_true: str,
    y_pred: str,
    churn_true: str | None = None,
    churn_prob: str | None = None,
    churn_threshold: float = 0.5,
    min_customers: int = 30,
) -> dict[str, Any]:
    """Metrics per value of `slice_col`, plus the disparate-impact ratio of mean predicted value between the
    lowest and the highest slice (slices with at least `min_customers`)."""
    out: dict[str, Any] = {"slices": {}, "min_customers": min_customers}
    means: dict[str, float] = {}
    for value, g in frame.groupby(frame[slice_col].fillna("unknown").astype(str), sort=True):
        entry: dict[str, Any] = {"customers": int(len(g)), "mean_predicted": float(g[y_pred].mean())}
        entry["mean_actual"] = float(g[y_true].mean())
        if len(g) >= min_customers:
            means[value] = entry["mean_predicted"]
            entry["rmse"] = rmse(g[y_true], g[y_pred])
            entry["mae"] = mae(g[y_true], g[y_pred])
            try:
                entry["gini_normalized"] = gini_normalized(g[y_true], g[y_pred])
            except ValueError:
                entry["gini_normalized"] = None
            entry["spearman"] = spearman(g[y_true], g[y_pred])
            if churn_true and churn_prob and g[churn_true].notna().all():
                c = classification_metrics(g[churn_true], g[churn_prob], churn_threshold)
                entry["churn"] = {k: _finite_or_none(v) for k, v in c.items()}
        out["slices"][value] = entry
    if len(means) >= 2 and max(means.values()) > 0:
        lo = min(means, key=means.get)
        hi = max(means, key=means.get)
        out["disparate_impact"] = {
            "lowest_slice": lo,
            "highest_slice": hi,
            "ratio": float(means[lo] / means[hi]),
        }
    else:
        out["disparate_impact"] = None
    return out
