"""Reading feature-set files and checking rows against the feature spec.

Every row that comes in is either kept or rejected with a reason; nothing is dropped silently."""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .spec import FeatureSpec

PARQUET_SUFFIXES = (".parquet", ".pq", ".snappy.parquet")
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
ARROW_STRING = pd.StringDtype("pyarrow")
PARALLEL_MIN_ROWS = 50_000


class InputError(ValueError):
    """An input file or channel cannot be read."""


def _arrow_strings_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow table -> pandas, strings kept Arrow-backed (no Python object per cell)."""
    return table.to_pandas(types_mapper={pa.string(): ARROW_STRING, pa.large_string(): ARROW_STRING}.get)


def read_csv_bytes(data: bytes) -> pd.DataFrame:
    """CSV with a header, every column read as text (empty field = missing, nothing else), as Arrow-backed
    strings: check_rows converts and checks the numeric inputs, so a bad value rejects its row, not the file.
    Parsed with pyarrow's multithreaded reader (the same cells as pandas.read_csv(dtype=str,
    keep_default_na=False, na_values=[""]))."""
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).rstrip(b"\r")
    if not first.strip():
        raise InputError("CSV body cannot be parsed: no header line")
    try:
        header = next(csv.reader([first.decode("utf-8-sig")]))
    except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
        raise InputError(f"CSV body cannot be parsed: bad header: {exc}") from exc
    if len(set(header)) != len(header):
        raise InputError(f"CSV body cannot be parsed: duplicate column names in the header {header}")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(f"CSV body cannot be parsed: {exc}") from exc
    return _arrow_strings_frame(table)


def read_table_bytes(data: bytes, content_type: str) -> pd.DataFrame:
    """Parse one request body / file content: CSV with a header, or Parquet."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/csv", "application/csv"):
        return read_csv_bytes(data)
    if ct in ("application/x-parquet", "application/parquet", "application/vnd.apache.parquet"):
        try:
            return _arrow_strings_frame(pq.read_table(io.BytesIO(data)))
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


class _Reasons:
    """Reasons per row, collected as (mask, text) and joined only for the rows that have one."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.items: list[tuple[np.ndarray, str]] = []

    def add(self, mask: np.ndarray, text: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.items.append((mask, text))

    def bad(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for mask, _ in self.items:
            out |= mask
        return out

    def texts(self, rows: np.ndarray) -> list[str]:
        return ["; ".join(t for m, t in self.items if m[i]) for i in rows]


def _strings(col: pd.Series) -> pa.ChunkedArray | None:
    """The column as Arrow strings when it holds only strings and missing values (None when not)."""
    values = col.array
    arrow = getattr(values, "_pa_array", None)  # Arrow-backed pandas arrays: no copy
    if arrow is None:
        try:
            arrow = pa.chunked_array([pa.array(values, from_pandas=True)])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
        return arrow
    if pa.types.is_null(arrow.type):
        return arrow.cast(pa.string())
    return None


def _trimmed(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    s = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def _stripped(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Text with surrounding whitespace removed and "" as missing, plus the missing mask."""
    arr = _strings(col)
    if arr is None:
        s = col.astype("string").str.strip()
        s = s.mask(s == "")
        return s, s.isna().to_numpy()
    s = _trimmed(arr)
    missing = s.is_null().to_numpy(zero_copy_only=False)
    return pd.Series(pd.arrays.ArrowStringArray(s), index=col.index), missing


def _numeric(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values as float64 with inf -> NaN, missing mask, non-numeric-or-infinite mask) of one input column.

    Numbers pass through; text is parsed the way pandas.to_numeric does (the fast Arrow cast when every value
    parses, pandas otherwise)."""
    text = None
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        num = col.to_numpy(float, na_value=np.nan)
        raw_missing = np.isnan(num)
    else:
        arr = _strings(col)
        text = arr
    if text is not None:
        try:  # clean text (the usual case): one Arrow cast, no trimming needed
            num = pc.cast(arr, pa.float64()).to_numpy().astype(float)  # nulls come back as NaN
            raw_missing = arr.is_null().to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            text = _trimmed(arr)
            raw_missing = text.is_null().to_numpy(zero_copy_only=False)
            try:
                num = pc.cast(text, pa.float64()).to_numpy().astype(float)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                num = pd.to_numeric(col.astype(object), errors="coerce").to_numpy(float, na_value=np.nan)
    elif not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        num = pd.to_numeric(col.astype(object), errors="coerce").to_numpy(float, na_value=np.nan)
        raw_missing = (col.isna() | (col.astype("string").str.strip() == "")).to_numpy(bool, na_value=True)
    inf = np.isinf(num)
    non_numeric = (np.isnan(num) & ~raw_missing) | inf
    num = np.where(inf, np.nan, num)
    return num, raw_missing, non_numeric


def _as_string(col: pd.Series) -> pd.Series:
    """A pandas string column (Arrow-backed input stays Arrow-backed: no Python object per cell)."""
    return col if isinstance(col.dtype, pd.StringDtype) else col.astype("string")


def check_rows(
    frame: pd.DataFrame, spec: FeatureSpec, *, require_labels: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into (accepted, rejected). Accepted rows have numeric inputs as float64 and categorical
    inputs as strings. Rejected rows carry the record identifier, the row number in the input and a `reason`.

    Reasons: a missing column, a missing record identifier, a missing value in a feature whose contract
    null_policy is "never", a non-numeric or infinite value in a numeric feature, a schema hash (column
    `schema_hash`) other than the model's, a missing or invalid label (when `require_labels`).
    Vectorised over columns (Arrow compute for text), so it keeps up with scoring a million rows."""
    frame = frame.reset_index(drop=True)
    n = len(frame)
    reasons = _Reasons(n)
    cols: dict[str, object] = {}
    rid = spec.record_identifier
    if rid in frame.columns:
        ids, missing = _stripped(frame[rid])
        reasons.add(missing, f"missing {rid}")
        cols[rid] = ids if isinstance(ids.dtype, pd.StringDtype) else ids.astype("string")
    else:
        reasons.add(np.ones(n, bool), f"column {rid} missing")
        cols[rid] = pd.Series(pd.NA, index=frame.index, dtype="string")
    if "schema_hash" in frame.columns:
        bad = frame["schema_hash"].astype("string").fillna("") != spec.schema_hash
        reasons.add(bad.to_numpy(bool), f"unknown schema hash (model expects {spec.schema_hash[:12]})")
    if "snapshot_id" in frame.columns:
        # snapshot ids end with the first 12 characters of the contract's schema hash (clv_glue.features)
        sid = _strings(frame["snapshot_id"])
        if sid is None:
            sid = pa.chunked_array([pa.array(frame["snapshot_id"].astype("string").array)])
        bad = pc.and_(pc.is_valid(sid), pc.invert(pc.ends_with(sid, "-" + spec.schema_hash[:12])))
        reasons.add(bad.to_numpy(zero_copy_only=False), "unknown schema hash in snapshot_id")
    required = set(spec.required_inputs)
    # numeric inputs parsed in parallel (Arrow releases the GIL): the bulk of the work for a large request
    present = [c for c in spec.numeric_inputs if c in frame.columns]
    workers = min(len(present), os.cpu_count() or 1)
    if workers > 1 and n >= PARALLEL_MIN_ROWS:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parsed = dict(zip(present, pool.map(lambda c: _numeric(frame[c]), present), strict=True))
    else:
        parsed = {c: _numeric(frame[c]) for c in present}
    for col in spec.model_inputs:
        if col not in frame.columns:
            reasons.add(np.ones(n, bool), f"column {col} missing")
            cols[col] = (
                np.full(n, np.nan) if col not in spec.categorical_inputs else np.full(n, None, dtype=object)
            )
            continue
        if col in spec.categorical_inputs:
            s, missing = _stripped(frame[col])
            if col in required:
                reasons.add(missing, f"missing {col}")
            # Arrow-backed input (a scoring request) stays Arrow-backed; other input keeps Python strings
            arrow_input = getattr(frame[col].array, "_pa_array", None) is not None
            cols[col] = s if arrow_input else s.to_numpy(object, na_value=None)
            continue
        num, raw_missing, non_numeric = parsed[col]
        reasons.add(non_numeric, f"non-numeric {col}")
        if col in required:
            reasons.add(raw_missing, f"missing {col}")
        cols[col] = num
    # reasons_exact: optional per-row request for exact reasons (clv_model.serving)
    for col in ("cutoff_date", "snapshot_id", "event_time", "reasons_exact"):
        if col in frame.columns:
            cols[col] = _as_string(frame[col])
    if require_labels:
        from .spec import CHURN_LABEL, REVENUE_LABEL  # noqa: PLC0415

        for label in (REVENUE_LABEL, CHURN_LABEL):
            if label not in frame.columns:
                reasons.add(np.ones(n, bool), f"label {label} missing")
                cols[label] = np.full(n, np.nan)
                continue
            num = pd.to_numeric(frame[label], errors="coerce").astype(float)
            reasons.add((num.isna() | np.isinf(num)).to_numpy(), f"missing or non-numeric {label}")
            if label == CHURN_LABEL:
                reasons.add((num.notna() & ~num.isin([0.0, 1.0])).to_numpy(), f"{label} not 0/1")
            cols[label] = num.to_numpy()
    # pass through slice attributes the evaluation reports on
    for col in ("country", "acquisition_channel"):
        if col not in cols and col in frame.columns:
            cols[col] = _as_string(frame[col])
    out = pd.DataFrame(cols, index=frame.index)
    bad = reasons.bad()
    accepted = out[~bad].reset_index(drop=True) if bad.any() else out
    bad_rows = np.flatnonzero(bad)
    rejected = pd.DataFrame(
        {
            rid: out[rid]
            .iloc[bad_rows]
            .astype(object)
            .where(out[rid].iloc[bad_rows].notna(), None)
            .to_numpy(),
            "row_number": bad_rows,
            "reason": np.array(reasons.texts(bad_rows), dtype=object),
        }
    )
    return accepted, rejected
