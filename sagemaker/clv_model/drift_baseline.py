"""Drift baseline of a model, fixed when it is evaluated (decisions 0030, 0035).

The evaluation processing job calls ``write_baseline`` with the model and the test channel: from the rows of
the test snapshot (the latest cutoff the model was judged on, the population closest to the one it will
score) in the monitored population (customers with a purchase in the ``active_window_days`` before the
cutoff, as sql/monitoring/drift_bins.sql selects them), it bins every monitored feature
(drift_features.json, exported from lib/contracts/drift-features.ts) and the model's
``predicted_revenue_12m`` on those rows, and writes one CSV, ``<model_version>.csv``, that the job uploads
to ``s3://<gold>/drift_baselines/`` (lake table ``drift_baselines``; sql/monitoring/drift_bins.sql reads
it).

Numeric features: the edges are the distinct values, above the minimum, of the quantiles at 0, 0.1, ..., 0.9
(``numpy.quantile``, linear interpolation): bin i is [edge(i-1), edge(i)), the first open below (-1e308),
the last open above (1e308); a feature constant at the baseline is one bin; NULLs (NaN) have their own bin
(lower and upper empty). ``clv drift`` computes the same edges with DuckDB's ``quantile_cont``. Categorical
features: one bin per category seen at the baseline (sorted; values trimmed, blank = NULL), then ``__other__``
(count 0: categories unseen at the baseline land there) and the NULL bin (category empty). Rows are those the
model's input checks accept (frames.check_rows), the rows it would score.

Columns: model_version, feature, kind (numeric|categorical), bin, lower, upper, category, baseline_count.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import frames
from .model import CLVModel

CONTRACT: dict[str, Any] = json.loads((Path(__file__).with_name("drift_features.json")).read_text())
NUMERIC_INPUTS: tuple[str, ...] = tuple(CONTRACT["numeric_inputs"])
PREDICTION_FEATURE: str = CONTRACT["prediction_feature"]
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(CONTRACT["categorical_features"])
EDGE_QUANTILES: tuple[float, ...] = tuple(CONTRACT["edge_quantiles"])
OPEN_LOWER: float = float(CONTRACT["open_lower"])
OPEN_UPPER: float = float(CONTRACT["open_upper"])
OTHER_CATEGORY: str = CONTRACT["other_category"]
ACTIVE_WINDOW_DAYS: int = int(CONTRACT["active_window_days"])
COLUMNS: list[str] = list(CONTRACT["baseline_columns"])


class DriftBaselineError(Exception):
    """The rows cannot give a baseline (no rows, none in the monitored population, a monitored feature
    missing)."""


def numeric_edges(values: Any) -> list[float]:
    """Interior bin edges of a numeric feature: the distinct quantiles (0, 0.1, ..., 0.9) above the minimum.
    NaN values are left out; no value at all gives no edge (one bin)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return []
    q = np.unique(np.quantile(v, EDGE_QUANTILES))
    return [float(x) for x in q[q > v.min()]]


def numeric_counts(values: Any, edges: list[float]) -> tuple[list[int], int]:
    """Counts per bin ([edge(i-1), edge(i)), open ends) and the NULL count."""
    v = np.asarray(values, dtype=float)
    nulls = np.isnan(v)
    idx = np.searchsorted(np.asarray(edges, dtype=float), v[~nulls], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return [int(c) for c in counts], int(nulls.sum())


def _categories(values: Any) -> pd.Series:
    s = pd.Series(values, dtype=object)
    s = s.map(lambda x: None if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x).strip())
    return s.map(lambda x: None if x in (None, "") else x)


def categorical_counts(values: Any) -> tuple[list[str], list[int], int]:
    """Categories seen (sorted), their counts, and the NULL count (blank strings are NULL)."""
    s = _categories(values)
    present = s.dropna()
    counts = present.value_counts()
    cats = sorted(counts.index.tolist())
    return cats, [int(counts[c]) for c in cats], int(s.isna().sum())


def baseline_rows(features: pd.DataFrame, predictions: Any, model_version: str) -> pd.DataFrame:
    """The baseline bins of the monitored features of `features` and of `predictions` (same rows)."""
    if len(features) == 0:
        raise DriftBaselineError("no rows to fix a drift baseline on")
    missing = [c for c in (*NUMERIC_INPUTS, *CATEGORICAL_FEATURES) if c not in features.columns]
    if missing:
        raise DriftBaselineError(f"monitored feature(s) missing from the training rows: {', '.join(missing)}")
    rows: list[dict[str, Any]] = []

    def numeric(feature: str, values: Any) -> None:
        edges = numeric_edges(values)
        counts, nulls = numeric_counts(values, edges)
        bounds = [OPEN_LOWER, *edges, OPEN_UPPER]
        for i, c in enumerate(counts):
            rows.append(
                {"feature": feature, "kind": "numeric", "bin": i, "lower": bounds[i], "upper": bounds[i + 1],
                 "category": None, "baseline_count": c}
            )  # fmt: skip
        rows.append(
            {"feature": feature, "kind": "numeric", "bin": len(counts), "lower": None, "upper": None,
             "category": None, "baseline_count": nulls}
        )  # fmt: skip

    for f in NUMERIC_INPUTS:
        numeric(f, pd.to_numeric(features[f], errors="coerce").to_numpy(float))
    numeric(PREDICTION_FEATURE, np.asarray(predictions, dtype=float))
    for f in CATEGORICAL_FEATURES:
        cats, counts, nulls = categorical_counts(features[f])
        labelled = [*zip(cats, counts, strict=True), (OTHER_CATEGORY, 0), (None, nulls)]
        for i, (cat, c) in enumerate(labelled):
            rows.append(
                {"feature": f, "kind": "categorical", "bin": i, "lower": None, "upper": None,
                 "category": cat, "baseline_count": c}
            )  # fmt: skip
    out = pd.DataFrame(rows)
    out.insert(0, "model_version", model_version)
    out["bin"] = out["bin"].astype(int)
    out["baseline_count"] = out["baseline_count"].astype("int64")
    out["lower"] = out["lower"].astype(float)
    out["upper"] = out["upper"].astype(float)
    return out[COLUMNS]


def latest_cutoff_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The rows of the latest cutoff_date (all rows when there is no cutoff_date column)."""
    if "cutoff_date" not in raw.columns or raw["cutoff_date"].isna().all():
        return raw, None
    latest = str(raw["cutoff_date"].dropna().max())
    return raw[raw["cutoff_date"] == latest], latest


def monitored(rows: pd.DataFrame) -> pd.DataFrame:
    """The monitored population: a purchase in the active window before the cutoff (recency_days <= it)."""
    recency = pd.to_numeric(rows["recency_days"], errors="coerce")
    return rows[recency.notna() & (recency <= ACTIVE_WINDOW_DAYS)]


def compute_baseline(model: CLVModel, raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The model's baseline on the rows of the latest cutoff of a channel (those its input checks
    accept) in the monitored population."""
    latest, cutoff = latest_cutoff_rows(raw)
    ok, bad = frames.check_rows(latest, model.spec, require_labels=False)
    active = monitored(ok)
    if len(active) == 0:
        raise DriftBaselineError(
            f"no valid rows of the monitored population (a purchase in the {ACTIVE_WINDOW_DAYS} days "
            f"before the cutoff) at cutoff {cutoff} ({len(ok)} valid, {len(bad)} rejected)"
        )
    predictions = model.predict(active)["predicted_revenue_12m"].to_numpy(float)
    frame = baseline_rows(active, predictions, model.model_version)
    return frame, {
        "cutoff": cutoff,
        "rows": len(active),
        "rows_inactive": len(ok) - len(active),
        "rows_rejected": len(bad),
    }


def write_baseline(model: CLVModel, channel: str | Path, out_dir: str | Path) -> Path:
    """Computes the baseline from a channel (the evaluation's test channel) and writes
    <out_dir>/<model_version>.csv."""
    frame, info = compute_baseline(model, frames.read_channel(channel))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{model.model_version}.csv"
    frame.to_csv(path, index=False)
    print(
        f"drift baseline: {path.name}: {len(frame)} bins from {info['rows']} rows of cutoff {info['cutoff']} "
        f"({info['rows_inactive']} outside the monitored population, {info['rows_rejected']} rejected)",
        flush=True,
    )
    return path
