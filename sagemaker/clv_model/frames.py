"""Reading feature-set files and checking rows against the feature spec.

Every row that comes in is either kept or rejected with a reason; nothing is dropped silently."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .spec import FeatureSpec

PARQUET_SUFFIXES = (".parquet", ".pq", ".snappy.parquet")
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")


class InputError(ValueError):
    """An input file or channel cannot be read."""


def read_table_bytes(data: bytes, content_type: str) -> pd.DataFrame:
    """Parse one request body / file content: CSV with a header, or Parquet."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/csv", "application/csv"):
        try:
            return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"CSV body cannot be parsed: {exc}") from exc
    if ct in ("application/x-parquet", "application/parquet", "application/vnd.apache.parquet"):
        try:
            return pq.read_table(io.BytesIO(data)).to_pandas()
        except Exception as exc:  # pyarrow raises several types for a corrupt file
            raise InputError(f"Parquet body cannot be parsed: {exc}") from exc
    raise InputError(
        f"unsupported content type {content_type!r}; use text/csv (with a header) or application/x-parquet"
    )


def _is_data_file(p: Path) -> bool:
    name = p.name.lower()
    return p.is_file() and not name.startswith((".", "_")) and name.endswith(PARQUET_SUFFIXES + CSV_SUFFIXES)


def read_channel(path: str | Path) -> pd.DataFrame:
    """All CSV (with header) and Parquet files under a channel directory (recursively), or one file."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"input path {root} does not exist")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if _is_data_file(p))
    if not files:
        raise InputError(f"no CSV or Parquet files under {root}")
    frames = []
    for f in files:
        name = f.name.lower()
        if name.endswith(PARQUET_SUFFIXES):
            frames.append(pq.read_table(f).to_pandas())
        else:
            try:
                frames.append(pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""]))
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise InputError(f"{f}: CSV cannot be parsed: {exc}") from exc
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _add_reason(reasons: pd.Series, mask: np.ndarray, text: str) -> None:
    idx = reasons.index[mask]
    if len(idx):
        reasons.loc[idx] = np.where(reasons.loc[idx] == "", text, reasons.loc[idx] + "; " + text)


def check_rows(
    frame: pd.DataFrame, spec: FeatureSpec, *, require_labels: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into (accepted, rejected). Accepted rows have numeric inputs as float64 and categorical
    inputs as strings. Rejected rows carry the record identifier, the row number in the input and a `reason`.

    Reasons: a missing column, a missing record identifier, a missing value in a feature whose contract
    null_policy is "never", a non-numeric or infinite value in a numeric feature, a schema hash (column
    `schema_hash`) other than the model's, a missing or invalid label (when `require_labels`)."""
    frame = frame.reset_index(drop=True)
    reasons = pd.Series("", index=frame.index, dtype=object)
    out = pd.DataFrame(index=frame.index)
    rid = spec.record_identifier
    if rid in frame.columns:
        ids = frame[rid].astype("string").str.strip()
        _add_reason(reasons, (ids.isna() | (ids == "")).to_numpy(), f"missing {rid}")
        out[rid] = ids
    else:
        _add_reason(reasons, np.ones(len(frame), bool), f"column {rid} missing")
        out[rid] = pd.Series(pd.NA, index=frame.index, dtype="string")
    if "schema_hash" in frame.columns:
        bad = frame["schema_hash"].astype("string").fillna("") != spec.schema_hash
        _add_reason(reasons, bad.to_numpy(), f"unknown schema hash (model expects {spec.schema_hash[:12]})")
    if "snapshot_id" in frame.columns:
        # snapshot ids end with the first 12 characters of the contract's schema hash (clv_glue.features)
        sid = frame["snapshot_id"].astype("string")
        suffix = sid.str.rsplit("-", n=1).str[-1]
        bad = sid.notna() & (suffix != spec.schema_hash[:12])
        _add_reason(reasons, bad.fillna(False).to_numpy(bool), "unknown schema hash in snapshot_id")
    required = set(spec.required_inputs)
    for col in spec.model_inputs:
        if col not in frame.columns:
            _add_reason(reasons, np.ones(len(frame), bool), f"column {col} missing")
            out[col] = np.nan if col not in spec.categorical_inputs else None
            continue
        raw = frame[col]
        if col in spec.categorical_inputs:
            s = raw.astype("string").str.strip()
            s = s.mask(s == "")
            if col in required:
                _add_reason(reasons, s.isna().to_numpy(), f"missing {col}")
            out[col] = s.astype(object).where(s.notna(), None)
            continue
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        raw_missing = raw.isna() | (raw.astype("string").str.strip() == "")
        non_numeric = (num.isna() & ~raw_missing) | np.isinf(num)
        _add_reason(reasons, non_numeric.to_numpy(), f"non-numeric {col}")
        if col in required:
            _add_reason(reasons, raw_missing.to_numpy(), f"missing {col}")
        out[col] = num.where(~np.isinf(num))
    for col in ("cutoff_date", "snapshot_id", "event_time"):
        if col in frame.columns:
            out[col] = frame[col].astype("string")
    if require_labels:
        from .spec import CHURN_LABEL, REVENUE_LABEL  # noqa: PLC0415

        for label in (REVENUE_LABEL, CHURN_LABEL):
            if label not in frame.columns:
                _add_reason(reasons, np.ones(len(frame), bool), f"label {label} missing")
                out[label] = np.nan
                continue
            num = pd.to_numeric(frame[label], errors="coerce").astype(float)
            _add_reason(reasons, (num.isna() | np.isinf(num)).to_numpy(), f"missing or non-numeric {label}")
            if label == CHURN_LABEL:
                _add_reason(reasons, (num.notna() & ~num.isin([0.0, 1.0])).to_numpy(), f"{label} not 0/1")
            out[label] = num
    # pass through slice attributes the evaluation reports on
    for col in ("country", "acquisition_channel"):
        if col not in out.columns and col in frame.columns:
            out[col] = frame[col].astype("string")
    bad = reasons != ""
    accepted = out[~bad].reset_index(drop=True)
    rejected = pd.DataFrame(
        {
            rid: out.loc[bad, rid].astype(object).where(out.loc[bad, rid].notna(), None),
            "row_number": np.flatnonzero(bad.to_numpy()),
            "reason": reasons[bad].to_numpy(),
        }
    ).reset_index(drop=True)
    return accepted, rejected
