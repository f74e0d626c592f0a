"""Baselines reported beside the model, fitted on the same training rows:

- heuristic: average spend x average lifespan. For a fixed horizon this is, at population level, the training
  snapshot's mean revenue per customer over the horizon (average spend per active customer x the share of the
  horizon they stay active); scaled linearly when the prediction horizon differs from the label horizon.
- linear_rfm: ordinary least squares of the revenue label on recency, frequency, monetary value and tenure,
  predictions floored at 0 (scaled like the heuristic).
- bgnbd_gg: BG/NBD + Gamma-Gamma expected revenue over the horizon (see btyd.py), fitted on the
  calibration snapshot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

RFM_COLUMNS = ("recency_days", "frequency_days", "monetary_total_net", "tenure_days")


def fit_baselines(rows: pd.DataFrame, y: np.ndarray, label_horizon_days: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "label_horizon_days": int(label_horizon_days),
        "heuristic": {"mean_revenue": float(np.mean(y))},
    }
    if all(c in rows.columns for c in RFM_COLUMNS):
        X = rows[list(RFM_COLUMNS)].to_numpy(float)
        lr = LinearRegression().fit(X, y)
        out["linear_rfm"] = {
            "features": list(RFM_COLUMNS),
            "coef": lr.coef_.astype(float).tolist(),
            "intercept": float(lr.intercept_),
        }
    return out


def predict_baselines(fitted: dict[str, Any], rows: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray]:
    scale = horizon_days / fitted["label_horizon_days"]
    out = {"heuristic": np.full(len(rows), fitted["heuristic"]["mean_revenue"] * scale, dtype=float)}
    lin = fitted.get("linear_rfm")
    if lin:
        X = rows[lin["features"]].to_numpy(float)
        out["linear_rfm"] = np.clip(X @ np.asarray(lin["coef"]) + lin["intercept"], 0, None) * scale
    return out
