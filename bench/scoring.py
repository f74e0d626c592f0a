"""Scoring benchmark: `npm run bench -- scoring --customers N --out DIR [--format csv|parquet]`.

1. Trains a realistic CLV model (default hyperparameters: depth-3 trees, up to 600/400 rounds with early
   stopping) on customers generated from the feature contract (the same shapes the model tests use).
2. Generates a scoring request of N customers (no labels) and encodes it once as the request body.
3. Times the inference entry point without reasons (clv_model.serving input_fn -> predict_fn -> output_fn:
   parsing, row checks, design matrix, both heads, score, tiers, output body) with
   CLV_REASONS_EXACT_TIERS= and CLV_REASONS_OTHER=none, and in the same run on the same design matrix raw
   xgboost predict of both heads (Booster.inplace_predict on the float32 matrix, the trees early stopping
   kept): once in a single call (raw_predict_seconds, the ratio the target is stated against) and once in
   the entry point's chunks of serving.CHUNK_ROWS rows (raw_predict_chunked_seconds: at 1M rows xgboost
   was faster per row on chunks than in one call, so this is the stricter ratio); prints both ratios.
4. Times the per-customer reasons separately: the default policy over every row (exact TreeSHAP for High
   and Medium, Saabas for Low), then each method (TreeSHAP = pred_contribs, Saabas = approx_contribs) on
   the first --shap-sample rows.

Writes DIR/scoring-bench.json with customers, predict_seconds, customers_per_second, raw_predict_seconds,
ratio_to_raw_predict, reasons_seconds, reasons_per_second, reasons_method (the default policy's figures) plus
per-method figures and the environment. Speed lives here only; tests check correctness.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import xgboost as xgb
from clv_model import serving
from clv_model.hyperparameters import Hyperparameters
from clv_model.model import CLVModel, _range, train
from clv_model.spec import FeatureSpec, load_spec

TRAIN_CUSTOMERS = 30_000
MAX_CUSTOMERS = 1_000_000
COUNTRIES = ["United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands"]
CHANNELS = ["organic", "paid_search", "social", "email", "referral"]
LOYALTY = ["none", "bronze", "silver", "gold"]


def synthetic_customers(
    spec: FeatureSpec, cutoff: str, n: int, seed: int, *, with_labels: bool = True
) -> pd.DataFrame:
    """Customers with the contract's model inputs; labels depend on frequency, recency, spend and activity."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(30, 1500, n)
    freq = 1 + rng.poisson(tenure / 60)
    btyd_rec = np.minimum((rng.uniform(0, 1, n) * tenure).astype(int), tenure - 1)
    btyd_rec = np.where(freq == 1, 0, btyd_rec)
    recency = tenure - btyd_rec
    avg = rng.gamma(2.0, 40.0, n)
    net = freq * avg
    activity = np.exp(-recency / 120)
    frame: dict[str, Any] = {}
    for col in spec.model_inputs:
        if col in spec.categorical_inputs:
            choices = {"country": COUNTRIES, "acquisition_channel": CHANNELS}.get(col, LOYALTY)
            frame[col] = rng.choice(choices, n)
        else:
            frame[col] = rng.gamma(1.0, 10.0, n) * (0.5 + activity)
    frame.update(
        {
            "recency_days": recency,
            "btyd_recency_days": btyd_rec,
            "frequency_days": freq,
            "repeat_frequency": freq - 1,
            "monetary_total_net": net,
            "monetary_avg_day": avg,
            "tenure_days": tenure,
            "spend_90d": avg * rng.poisson(activity * 2),
        }
    )
    for col in ("sessions_90d", "avg_session_duration_s_90d", "interpurchase_var_days"):
        if col in frame:
            frame[col] = np.where(rng.uniform(size=n) < 0.3, np.nan, frame[col])
    df = pd.DataFrame(frame)
    df.insert(0, spec.record_identifier, [f"C{seed}-{i:07d}" for i in range(n)])
    df["cutoff_date"] = cutoff
    df["event_time"] = f"{cutoff}T00:00:00Z"
    df["snapshot_id"] = f"{cutoff.replace('-', '')}-l365-365-{spec.schema_hash[:12]}"
    if with_labels:
        # a signal spread over many inputs, with interactions and noise, so that early stopping keeps a
        # realistic number of trees (hundreds, as on real data) rather than the few a one-factor label needs
        rate = freq / tenure * activity
        trend = np.tanh(df["spend_trend_90d"].to_numpy(float) / 10) if "spend_trend_90d" in df else 0.0
        loyal = (
            df["loyalty_status"]
            .map({"none": 0.0, "bronze": 0.1, "silver": 0.25, "gold": 0.4})
            .to_numpy(float)
            if "loyalty_status" in df
            else 0.0
        )
        logit = -1.0 + 30 * rate + 0.6 * trend + loyal - 0.002 * recency + 0.3 * np.log1p(freq)
        p_active = 1 / (1 + np.exp(-logit))
        active = rng.uniform(size=n) < p_active
        value = avg * (1 + 25 * rate) * (1 + 0.5 * trend + loyal) * np.sqrt(freq)
        df["label_revenue_12m"] = np.where(active, rng.gamma(2.0, value / 2), 0.0)
        df["label_churn_6m"] = (~active).astype(int)
    return df


def train_model(spec: FeatureSpec, customers: int, log) -> CLVModel:
    """A model with the default hyperparameters on two training snapshots and a later validation one."""
    from clv_model import frames  # noqa: PLC0415

    snaps = [
        synthetic_customers(spec, c, customers, seed) for c, seed in (("2023-01-01", 1), ("2023-04-01", 2))
    ]
    train_rows, _ = frames.check_rows(pd.concat(snaps, ignore_index=True), spec, require_labels=True)
    val_rows, _ = frames.check_rows(
        synthetic_customers(spec, "2023-07-01", customers, 3), spec, require_labels=True
    )
    return train(train_rows, val_rows, spec, Hyperparameters(), log=lambda *_: None).model


def csv_body(rows: pd.DataFrame) -> bytes:
    """The request as Athena would write it: CSV with a header, floats rounded to 6 decimals."""
    rows = rows.round(6)
    sink = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pandas(rows, preserve_index=False), sink)
    return sink.getvalue()


def parquet_body(rows: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    rows.to_parquet(sink, index=False)
    return sink.getvalue()


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(
    customers: int, out_dir: Path, *, fmt: str, accept: str, train_customers: int, shap_sample: int, log=print
):
    load_at_start = round(os.getloadavg()[0], 2)
    spec = load_spec()
    log(f"training a model on {3 * train_customers:,} generated customers (default hyperparameters) ...")
    model, train_s = _timed(lambda: train_model(spec, train_customers, log))
    trees = {
        "revenue": _range(model.revenue_booster)[1] or model.revenue_booster.num_boosted_rounds(),
        "churn": _range(model.churn_booster)[1] or model.churn_booster.num_boosted_rounds(),
    }
    log(f"  trained in {train_s:.1f}s; trees kept by early stopping: {trees}")
    log(f"generating {customers:,} customers to score ...")
    rows = synthetic_customers(spec, "2024-01-01", customers, 7, with_labels=False)
    body = csv_body(rows) if fmt == "csv" else parquet_body(rows)
    content_type = serving.CSV if fmt == "csv" else serving.PARQUET
    del rows

    # 1. the inference entry point, no reasons
    no_reasons = {serving.EXACT_TIERS_ENV: "", serving.OTHER_ENV: "none", serving.DEVICE_ENV: "cpu"}
    saved = {k: os.environ.get(k) for k in no_reasons}
    os.environ.update(no_reasons)
    try:

        def entry():
            pred = serving.predict_fn(serving.input_fn(body, content_type), model)
            return pred, serving.output_fn(pred, accept)

        (pred, output), predict_s = _timed(entry)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    counts = pred["counts"]
    if counts != {"in": customers, "scored": customers, "rejected": 0}:
        raise RuntimeError(f"unexpected counts {counts}")
    tiers = pred["predictions"]["tier"].to_numpy(object)
    del pred, output

    # 2. raw xgboost predict of both heads on the same design matrix (trees up to the best iteration)
    from clv_model import frames  # noqa: PLC0415

    accepted, _ = frames.check_rows(serving.input_fn(body, content_type), spec)
    arr, margin = model.design_array(accepted)
    del accepted

    def raw():
        model.revenue_booster.inplace_predict(
            arr, iteration_range=_range(model.revenue_booster), base_margin=margin
        )
        model.churn_booster.inplace_predict(arr, iteration_range=_range(model.churn_booster))

    def raw_chunked():  # the same calls in the entry point's chunks (serving.CHUNK_ROWS rows)
        for start in range(0, customers, serving.CHUNK_ROWS):
            sl = slice(start, start + serving.CHUNK_ROWS)
            m = None if margin is None else margin[sl]
            model.revenue_booster.inplace_predict(
                arr[sl], iteration_range=_range(model.revenue_booster), base_margin=m
            )
            model.churn_booster.inplace_predict(arr[sl], iteration_range=_range(model.churn_booster))

    _, raw_s = _timed(raw)
    _, raw_chunked_s = _timed(raw_chunked)
    log(
        f"entry point: {predict_s:.2f}s = {customers / predict_s:,.0f} customers/s; "
        f"raw predict of both heads: {raw_s:.2f}s in one call (ratio {predict_s / raw_s:.2f}), "
        f"{raw_chunked_s:.2f}s in the entry point's chunks (ratio {predict_s / raw_chunked_s:.2f})"
    )

    # 3. reasons, separately: the default policy over every row, then each method on a sample
    policy = serving.reasons_policy({})
    methods = np.where(np.isin(tiers, list(policy.exact_tiers)), "tree_shap", policy.other).astype(object)
    _, reasons_s = _timed(lambda: _reasons_in_chunks(model, arr, margin, methods))
    per_method = {}
    sample = min(customers, shap_sample)
    for method in ("tree_shap", "saabas"):
        m = np.full(sample, method, dtype=object)
        _, secs = _timed(
            lambda m=m: _reasons_in_chunks(
                model, arr[:sample], None if margin is None else margin[:sample], m
            )
        )
        per_method[method] = {"rows": sample, "seconds": secs, "per_second": sample / secs}
        log(f"reasons {method}: {sample / secs:,.0f} rows/s ({sample:,} rows)")
    policy_label = f"tree_shap for {','.join(sorted(policy.exact_tiers))}, {policy.other} for the rest"
    mix = {k: int(v) for k, v in zip(*np.unique(methods, return_counts=True), strict=True)}
    log(
        f"reasons, default policy ({policy_label}; {mix}): {reasons_s:.2f}s = "
        f"{customers / reasons_s:,.0f} rows/s"
    )

    result = {
        "customers": customers,
        "predict_seconds": round(predict_s, 4),
        "customers_per_second": round(customers / predict_s, 1),
        "raw_predict_seconds": round(raw_s, 4),
        "ratio_to_raw_predict": round(predict_s / raw_s, 4),
        "raw_predict_chunked_seconds": round(raw_chunked_s, 4),
        "ratio_to_raw_predict_chunked": round(predict_s / raw_chunked_s, 4),
        "reasons_seconds": round(reasons_s, 4),
        "reasons_per_second": round(customers / reasons_s, 1),
        "reasons_method": policy_label,
        "reasons_rows_by_method": mix,
        "reasons_by_method": {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in per_method.items()},
        "input_format": content_type,
        "accept": accept,
        "trees": trees,
        "input_columns": len(model.input_columns),
        "train_seconds": round(train_s, 2),
        "environment": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "xgboost": xgb.__version__,
            "machine": platform.machine(),
            "load_average_1m_at_start": load_at_start,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scoring-bench.json").write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {out_dir / 'scoring-bench.json'}")
    return result


def _reasons_in_chunks(model: CLVModel, arr, margin, methods) -> None:
    for start in range(0, len(arr), serving.CHUNK_ROWS):
        sl = slice(start, start + serving.CHUNK_ROWS)
        model.reasons(arr[sl], None if margin is None else margin[sl], methods[sl], serving.N_REASONS)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="npm run bench -- scoring", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--customers", type=int, default=100_000, help=f"customers to score (1..{MAX_CUSTOMERS:,})"
    )
    p.add_argument("--out", type=Path, required=True, help="directory for scoring-bench.json")
    p.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="request body (default csv, as batch scoring sends)",
    )
    p.add_argument("--accept", default=serving.CSV, choices=(serving.CSV, serving.JSONLINES, serving.JSON))
    p.add_argument(
        "--train-customers", type=int, default=TRAIN_CUSTOMERS, help="customers per training snapshot"
    )
    p.add_argument("--shap-sample", type=int, default=100_000, help="rows each reasons method is timed on")
    args = p.parse_args(argv)
    if not 1 <= args.customers <= MAX_CUSTOMERS:
        p.error(f"--customers: expected 1..{MAX_CUSTOMERS:,}, got {args.customers}")
    if args.train_customers < 100 or args.shap_sample < 1:
        p.error("--train-customers: expected >= 100; --shap-sample: expected >= 1")
    run(
        args.customers,
        args.out,
        fmt=args.format,
        accept=args.accept,
        train_customers=args.train_customers,
        shap_sample=args.shap_sample,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
