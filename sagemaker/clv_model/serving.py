"""Batch Transform handlers (model_fn, input_fn, predict_fn, output_fn) for the CLV model.

Input: scoring-set rows (feature columns of the contract) as text/csv with a header, or Parquet
(application/x-parquet). Use Batch Transform with SplitType=None (one request per file: CSV keeps its header,
Parquet cannot be split). Scoring is vectorised over the whole request, in chunks of CHUNK_ROWS.

Output per customer: customer_id, predicted_revenue_12m, churn_probability, clv_score, tier, model_version,
scoring_date and the top-3 SHAP reasons (feature, contribution in the revenue head's margin units). Rows that
fail validation (missing or non-numeric features, unknown schema hash) are never scored: they come back in an
errors section with the reason, and counts reconcile: in = scored + rejected.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from . import frames
from .model import CLVModel

CHUNK_ROWS = 50_000
N_REASONS = 3
JSON = "application/json"
JSONLINES = "application/jsonlines"
CSV = "text/csv"
PARQUET = "application/x-parquet"
SCORING_DATE_ENV = "CLV_SCORING_DATE"


def model_fn(model_dir: str) -> CLVModel:
    return CLVModel.load(model_dir)


def input_fn(request_body: bytes | str, request_content_type: str) -> pd.DataFrame:
    data = request_body.encode("utf-8") if isinstance(request_body, str) else request_body
    return frames.read_table_bytes(data, request_content_type)


def _scoring_dates(rows: pd.DataFrame) -> pd.Series:
    default = os.environ.get(SCORING_DATE_ENV) or dt.datetime.now(dt.UTC).date().isoformat()
    if "cutoff_date" in rows.columns:
        return rows["cutoff_date"].astype("string").fillna(default).astype(str)
    return pd.Series(default, index=rows.index, dtype=object)


def predict_fn(input_data: pd.DataFrame, model: CLVModel) -> dict[str, Any]:
    accepted, rejected = frames.check_rows(input_data, model.spec)
    parts = []
    for start in range(0, len(accepted), CHUNK_ROWS):
        chunk = accepted.iloc[start : start + CHUNK_ROWS]
        pred = model.predict(chunk, with_reasons=N_REASONS)
        pred.insert(0, "customer_id", chunk[model.spec.record_identifier].astype(str).to_numpy())
        pred["model_version"] = model.model_version
        pred["scoring_date"] = _scoring_dates(chunk).to_numpy()
        parts.append(pred)
    scored = pd.concat(parts, ignore_index=True) if parts else _empty_scored()
    rejected = rejected.rename(columns={model.spec.record_identifier: "customer_id"})
    counts = {"in": int(len(input_data)), "scored": int(len(scored)), "rejected": int(len(rejected))}
    if counts["in"] != counts["scored"] + counts["rejected"]:
        raise RuntimeError(f"row counts do not reconcile: {counts}")
    return {"model_version": model.model_version, "counts": counts, "predictions": scored, "errors": rejected}


def _empty_scored() -> pd.DataFrame:
    cols = ["customer_id", "predicted_revenue_12m", "churn_probability", "clv_score", "tier"]
    cols += [f"reason_{k}_{x}" for k in range(1, N_REASONS + 1) for x in ("feature", "contribution")]
    return pd.DataFrame(columns=[*cols, "model_version", "scoring_date"])


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
    combined = pd.concat(
        [
            scored.assign(status="scored", reason=None),
            errors.drop(columns=["row_number"]).assign(status="rejected"),
        ],
        ignore_index=True,
    )
    if ct == JSONLINES:
        lines = [json.dumps(r) for r in _records(combined)]
        return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
    if ct in (CSV, "application/csv"):
        buf = io.StringIO()
        combined.to_csv(buf, index=False)
        return buf.getvalue().encode("utf-8")
    raise frames.InputError(f"unsupported accept type {accept!r}; use {JSON}, {JSONLINES} or {CSV}")


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
