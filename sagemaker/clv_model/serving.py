"""Batch Transform handlers (model_fn, input_fn, predict_fn, output_fn) for the CLV model.

Input: scoring-set rows (feature columns of the contract) as text/csv with a header, or Parquet
(application/x-parquet). Use Batch Transform with SplitType=None (one request per file: CSV keeps its header,
Parquet cannot be split). Scoring is vectorised over the whole request, in chunks of CHUNK_ROWS.

Output per customer: customer_id, predicted_revenue_12m, churn_probability, clv_score, tier, the top-3
reasons (feature, contribution in the revenue head's margin units), reasons_method, model_version and
scoring_date. Rows that fail validation (missing or non-numeric features, unknown schema hash) are never
scored: they come back in an errors section with the reason, and counts reconcile: in = scored + rejected.

Reasons policy (environment of the model / transform job; docs/decisions/0022-scoring-reasons.md):
- CLV_REASONS_EXACT_TIERS: comma-separated tiers whose customers get exact TreeSHAP reasons
  (default "High,Medium"; "all" = every tier; "" = none). Rows whose optional input column `reasons_exact` is
  true (1/true/yes: an exported audience, a customer looked up) get exact reasons whatever their tier.
- CLV_REASONS_OTHER: what the other rows get: "saabas" (default; XGBoost approx_contribs, labelled saabas,
  never SHAP) or "none" (no reasons; reasons_method none).
- CLV_REASONS_DEVICE: "auto" (default: GPU TreeSHAP when xgboost sees a GPU, the CPU otherwise), "cpu" or
  "cuda" (falls back to the CPU when no GPU is visible).
Every scored row carries reasons_method: tree_shap | saabas | none.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from . import frames
from .model import TIERS, CLVModel, resolve_device

CHUNK_ROWS = 200_000
N_REASONS = 3
JSON = "application/json"
JSONLINES = "application/jsonlines"
CSV = "text/csv"
PARQUET = "application/x-parquet"
SCORING_DATE_ENV = "CLV_SCORING_DATE"
EXACT_TIERS_ENV = "CLV_REASONS_EXACT_TIERS"
OTHER_ENV = "CLV_REASONS_OTHER"
DEVICE_ENV = "CLV_REASONS_DEVICE"
EXACT_COLUMN = "reasons_exact"
DEFAULT_EXACT_TIERS = ("High", "Medium")


@dataclass(frozen=True)
class ReasonsPolicy:
    exact_tiers: frozenset[str] = frozenset(DEFAULT_EXACT_TIERS)
    other: str = "saabas"
    device: str = "auto"


def reasons_policy(env: Mapping[str, str] | None = None) -> ReasonsPolicy:
    """The reasons policy from the environment (see the module docstring); errors name the variable."""
    env = os.environ if env is None else env
    raw = env.get(EXACT_TIERS_ENV)
    if raw is None:
        tiers = frozenset(DEFAULT_EXACT_TIERS)
    elif raw.strip().lower() == "all":
        tiers = frozenset(TIERS)
    else:
        tiers = frozenset(t.strip() for t in raw.split(",") if t.strip())
        unknown = sorted(tiers - set(TIERS))
        if unknown:
            raise ValueError(
                f"{EXACT_TIERS_ENV}: expected a comma-separated list of {'|'.join(TIERS)} "
                f"(or all, or empty), got {raw!r}"
            )
    other = env.get(OTHER_ENV, "saabas").strip().lower() or "saabas"
    if other not in ("saabas", "none"):
        raise ValueError(f"{OTHER_ENV}: expected saabas or none, got {env.get(OTHER_ENV)!r}")
    device = env.get(DEVICE_ENV, "auto").strip().lower() or "auto"
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"{DEVICE_ENV}: expected auto, cpu or cuda, got {env.get(DEVICE_ENV)!r}")
    return ReasonsPolicy(exact_tiers=tiers, other=other, device=device)


def _exact_flags(rows: pd.DataFrame) -> np.ndarray | None:
    if EXACT_COLUMN not in rows.columns:
        return None
    text = rows[EXACT_COLUMN].astype("string").str.strip().str.lower()
    return text.isin(["1", "true", "yes", "1.0"]).to_numpy(bool, na_value=False)


def model_fn(model_dir: str) -> CLVModel:
    return CLVModel.load(model_dir)


def input_fn(request_body: bytes | str, request_content_type: str) -> pd.DataFrame:
    data = request_body.encode("utf-8") if isinstance(request_body, str) else request_body
    return frames.read_table_bytes(data, request_content_type)


def _scoring_dates(rows: pd.DataFrame) -> pd.Categorical:
    default = os.environ.get(SCORING_DATE_ENV) or dt.datetime.now(dt.UTC).date().isoformat()
    if "cutoff_date" in rows.columns:
        return pd.Categorical(rows["cutoff_date"].astype("string").fillna(default).to_numpy(object))
    return pd.Categorical.from_codes(np.zeros(len(rows), int), [default])


def predict_fn(input_data: pd.DataFrame, model: CLVModel) -> dict[str, Any]:
    policy = reasons_policy()
    device = resolve_device(policy.device)
    accepted, rejected = frames.check_rows(input_data, model.spec)
    parts = []
    for start in range(0, len(accepted), CHUNK_ROWS):
        chunk = accepted.iloc[start : start + CHUNK_ROWS]
        pred = model.predict(
            chunk,
            with_reasons=N_REASONS,
            exact_tiers=policy.exact_tiers,
            other_reasons=policy.other,
            exact_rows=_exact_flags(chunk),
            device=device,
        )
        parts.append(pred.reset_index(drop=True))
    if parts:
        scored = pd.concat(parts, ignore_index=True)
        scored.insert(0, "customer_id", accepted[model.spec.record_identifier].reset_index(drop=True))
        scored["model_version"] = pd.Categorical.from_codes(np.zeros(len(scored), int), [model.model_version])
        scored["scoring_date"] = _scoring_dates(accepted)
    else:
        scored = _empty_scored()
    rejected = rejected.rename(columns={model.spec.record_identifier: "customer_id"})
    counts = {"in": int(len(input_data)), "scored": int(len(scored)), "rejected": int(len(rejected))}
    if counts["in"] != counts["scored"] + counts["rejected"]:
        raise RuntimeError(f"row counts do not reconcile: {counts}")
    return {"model_version": model.model_version, "counts": counts, "predictions": scored, "errors": rejected}


def _empty_scored() -> pd.DataFrame:
    cols = ["customer_id", "predicted_revenue_12m", "churn_probability", "clv_score", "tier"]
    cols += [f"reason_{k}_{x}" for k in range(1, N_REASONS + 1) for x in ("feature", "contribution")]
    return pd.DataFrame(columns=[*cols, "reasons_method", "model_version", "scoring_date"])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", double_precision=10))


def _reasons_nested(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in _records(frame):
        reasons = []
        for k in range(1, N_REASONS + 1):
            f = rec.pop(f"reason_{k}_feature", None)
            c = rec.pop(f"reason_{k}_contribution", None)
            if f is not None:
                reasons.append({"feature": f, "contribution": c})
        rec["top_reasons"] = reasons
        out.append(rec)
    return out


def output_fn(prediction: dict[str, Any], accept: str = JSON) -> bytes:
    """application/json (default): one object {model_version, counts, predictions, errors};
    application/jsonlines: one line per input row with status scored|rejected;
    text/csv: the same rows as CSV with status and reason columns."""
    ct = (accept or JSON).split(";")[0].strip().lower()
    if ct in ("*/*", ""):
        ct = JSON
    scored = prediction["predictions"]
    errors = prediction["errors"]
    if ct == JSON:
        body = {
            "model_version": prediction["model_version"],
            "counts": prediction["counts"],
            "predictions": _reasons_nested(scored),
            "errors": _records(errors),
        }
        return json.dumps(body).encode("utf-8")
    if ct == JSONLINES:
        combined = _combined_frame(scored, errors)
        if not len(combined):
            return b""
        text = combined.to_json(orient="records", lines=True, double_precision=10)
        return (text if text.endswith("\n") else text + "\n").encode("utf-8")
    if ct in (CSV, "application/csv"):
        return _csv_bytes(scored, errors)
    raise frames.InputError(f"unsupported accept type {accept!r}; use {JSON}, {JSONLINES} or {CSV}")


def _combined_frame(scored: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(
        [
            scored.assign(status="scored", reason=None),
            errors.drop(columns=["row_number"]).assign(status="rejected"),
        ],
        ignore_index=True,
    )


def _arrow_column(values: pd.Series, numeric: bool) -> pa.Array | pa.ChunkedArray:
    """One output column as Arrow: float64, or text (categoricals decoded; Arrow-backed text not copied)."""
    if numeric:
        return pa.array(values.to_numpy(float, na_value=np.nan), type=pa.float64(), from_pandas=True)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pa.array(values.array).cast(pa.string())
    arrow = getattr(values.array, "_pa_array", None)
    if arrow is not None and pa.types.is_string(arrow.type):
        return arrow.combine_chunks()
    return pa.array(values.to_numpy(object, na_value=None), type=pa.string(), from_pandas=True)


def _csv_bytes(scored: pd.DataFrame, errors: pd.DataFrame) -> bytes:
    """Scored rows then rejected rows, columns: the scored columns, status, reason (the errors' identifier and
    reason in theirs, the rest empty). Written by pyarrow's CSV writer: the same cells as
    pandas.DataFrame.to_csv, at a small fraction of the cost for a million rows."""
    columns = [*scored.columns, "status", "reason"]
    n_s, n_e = len(scored), len(errors)
    parts = {}
    for col in columns:
        if col == "status":
            values = pd.Series(["scored"] * n_s + ["rejected"] * n_e, dtype=object)
            parts[col] = pa.array(values.to_numpy(object), type=pa.string())
            continue
        top = scored[col] if col in scored.columns else pd.Series([None] * n_s, dtype=object)
        bottom = errors[col] if col in errors.columns else pd.Series([None] * n_e, dtype=object)
        numeric = col in scored.columns and pd.api.types.is_float_dtype(scored[col].dtype)
        top_arr = _arrow_column(top, numeric)
        bottom_arr = pa.nulls(n_e, pa.float64()) if numeric else _arrow_column(bottom, False)
        parts[col] = pa.chunked_array([top_arr, bottom_arr], type=top_arr.type)
    table = pa.table(parts)
    sink = io.BytesIO()
    try:
        options = pacsv.WriteOptions(quoting_style="needed")  # pandas' QUOTE_MINIMAL
    except TypeError:  # an older pyarrow in the serving image: every string quoted, still the same CSV
        options = pacsv.WriteOptions()
    pacsv.write_csv(table, sink, write_options=options)
    return sink.getvalue()


def content_type_for(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(frames.PARQUET_SUFFIXES):
        return PARQUET
    if name.endswith(frames.CSV_SUFFIXES):
        return CSV
    raise frames.InputError(f"{path}: cannot tell the content type (expected .csv or .parquet)")


def transform_path(model_dir: str | Path, input_path: str | Path, output_dir: str | Path) -> dict[str, Any]:
    """What Batch Transform does, for the local runtime: every input file -> <output_dir>/<name>.out (JSON),
    plus a predictions CSV and an errors CSV per file. Returns the summed counts."""
    model = model_fn(str(model_dir))
    src = Path(input_path)
    files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if frames._is_data_file(p))
    if not files:
        raise frames.InputError(f"no CSV or Parquet files under {src}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = {"in": 0, "scored": 0, "rejected": 0, "files": 0}
    for f in files:
        raw = input_fn(f.read_bytes(), content_type_for(f))
        pred = predict_fn(raw, model)
        (out / f"{f.name}.out").write_bytes(output_fn(pred, JSON))
        pred["predictions"].to_csv(out / f"{f.name}.predictions.csv", index=False)
        pred["errors"].to_csv(out / f"{f.name}.errors.csv", index=False)
        for k in ("in", "scored", "rejected"):
            total[k] += pred["counts"][k]
        total["files"] += 1
    return total


__all__ = ["model_fn", "input_fn", "predict_fn", "output_fn", "transform_path"]
