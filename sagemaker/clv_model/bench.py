"""Model benchmark on a real or generated transaction file.

    python -m clv_model.bench model --input FILE|DIR --preset generic|online-retail|online-retail-ii \
        --cutoff YYYY-MM-DD --horizon-days N --out DIR

Reads the file with the column mapping of contracts/transactions-layouts.json, cleans it (rows without a
customer, exact duplicate lines and non-product lines dropped; cancellations and returns kept as negative
lines so revenue is net of them), builds features with the project's feature code
(clv_glue.features.build_features on a local SparkSession), labels from the horizon after each cutoff, trains
the CLV model with a later validation cutoff carved out of the calibration period, and compares it with the
baselines on the test snapshot at --cutoff.
Writes DIR/model-bench.json and prints a table.

Split (no label window reaches past --cutoff; the test label window is [cutoff, cutoff + horizon)):
- test: features at the cutoff, labels over the horizon; the same features (no labels) are the calibration
  snapshot on which BG/NBD + Gamma-Gamma is fitted (data before the cutoff only);
- validation: features at cutoff - L, labels over L days (L = label horizon, below);
- training: snapshots at cutoff - L - k * step (k = 1 .. n), each with >= min-history days of data before it;
- L is the horizon itself when the calibration period holds it plus 3 earlier snapshots (30 days apart) with
  `--min-history-days` of history; otherwise the longest horizon that does (the revenue head then learns a
  horizon-free correction of the BG/NBD + Gamma-Gamma offset, which carries the full horizon);
- the heuristic and linear-RFM baselines are fitted on the reference training snapshot one horizon before the
  cutoff with full-horizon labels (when the data reaches that far back).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import frames
from . import metrics as M
from .baselines import fit_baselines, predict_baselines
from .hyperparameters import parse_hyperparameters
from .model import revenue_target, train
from .spec import load_spec

REPO = Path(__file__).resolve().parents[2]
LAYOUTS = REPO / "contracts" / "transactions-layouts.json"
REFERENCE = REPO / "contracts" / "reference-data.json"
CHURN_HORIZON_DAYS = 183


class BenchError(ValueError):
    pass


# ----------------------------------------------------------------------------- reading and cleaning
def read_transactions(path: str | Path, preset: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read the file(s) with the preset's column mapping; return silver-like product lines and the counts."""
    layouts = json.loads(LAYOUTS.read_text())
    ref = json.loads(REFERENCE.read_text())
    if preset not in layouts or preset.startswith("$"):
        raise BenchError(f"unknown preset {preset!r}; known: {[k for k in layouts if not k.startswith('$')]}")
    layout = layouts[preset]
    cols = layout["columns"]
    src = Path(path)
    if src.is_dir() and (src / "landing" / "transactions").is_dir():
        src = src / "landing" / "transactions"  # a generator output root (docs/data-generator.md)
    files = (
        [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.name.endswith((".csv", ".csv.gz")))
    )
    if not files:
        raise BenchError(f"no CSV files at {src}")
    usecols = list(cols.values())
    parts = []
    for f in files:
        try:
            parts.append(pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""], usecols=usecols))
        except ValueError as exc:
            raise BenchError(f"{f}: columns of preset {preset!r} not found: {exc}") from exc
    raw = pd.concat(parts, ignore_index=True)
    counts = {"rows_in": int(len(raw))}
    df = raw.rename(columns={v: k for k, v in cols.items()})

    df = df[df["customer_id"].notna() & (df["customer_id"].str.strip() != "")]
    counts["dropped_missing_customer"] = counts["rows_in"] - len(df)
    n = len(df)
    df = df.drop_duplicates()
    counts["dropped_exact_duplicates"] = n - len(df)
    sku = df["sku"].fillna("").str.strip().str.upper()
    non_product = sku.isin([s.upper() for s in ref["non_product_skus"]])
    counts["dropped_non_product"] = int(non_product.sum())
    df = df[~non_product]

    quantity = pd.to_numeric(df["quantity"], errors="coerce")
    price = pd.to_numeric(df["unit_price"], errors="coerce")
    ts = pd.to_datetime(df["invoice_ts"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    bad = quantity.isna() | price.isna() | ts.isna()
    counts["dropped_unparseable"] = int(bad.sum())
    df, quantity, price, ts = df[~bad], quantity[~bad], price[~bad], ts[~bad]
    tz = layout.get("timezone", "UTC")
    if tz != "UTC":
        ts = ts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
        ts = ts.dt.tz_localize(None)
    currency = (
        df["currency"] if "currency" in df.columns else pd.Series(layout["default_currency"], index=df.index)
    )
    fx = currency.map(ref["fx_to_base"])
    if fx.isna().any():
        raise BenchError(f"unknown currencies: {sorted(currency[fx.isna()].unique())[:5]}")
    invoice = df["invoice_id"].astype(str)
    out = pd.DataFrame(
        {
            "invoice_id": invoice,
            "customer_id": df["customer_id"].str.strip(),
            "invoice_ts": ts,
            "sku": df["sku"].astype(str),
            "quantity": quantity.astype("int64"),
            "amount": (quantity * price * fx).astype(float),
            "is_cancellation": invoice.str.upper().str.startswith("C"),
            "is_return": quantity < 0,
            "is_gift_card": df["sku"].str.upper().str.startswith(ref["gift_card_sku_prefix"]),
            "is_non_product": False,
            "country": df["country"] if "country" in df.columns else None,
        }
    ).dropna(subset=["invoice_ts"])
    counts["rows_used"] = int(len(out))
    counts["customers"] = int(out["customer_id"].nunique())
    return out.reset_index(drop=True), counts


# ----------------------------------------------------------------------------- split
def plan_split(
    data_start: dt.date,
    cutoff: dt.date,
    horizon_days: int,
    *,
    max_snapshots: int = 6,
    min_snapshots: int = 4,
    step_days: int = 30,
    min_history_days: int = 30,
) -> dict[str, Any]:
    """Cutoffs of the validation and training snapshots and the label horizon (see the module docstring)."""
    span = (cutoff - data_start).days
    room = span - min_history_days - (min_snapshots - 1) * step_days
    label_h = min(horizon_days, room)
    if label_h < 14:
        raise BenchError(
            f"cutoff {cutoff} leaves {span} days of history: too short for {min_snapshots} snapshots "
            f"{step_days} days apart with {min_history_days} days of history each"
        )
    val = cutoff - dt.timedelta(days=label_h)
    train_cuts = []
    for k in range(1, max_snapshots):
        c = val - dt.timedelta(days=k * step_days)
        if (c - data_start).days < min_history_days:
            break
        train_cuts.append(c)
    ref = cutoff - dt.timedelta(days=horizon_days)
    return {
        "data_start": data_start.isoformat(),
        "test_cutoff": cutoff.isoformat(),
        "horizon_days": horizon_days,
        "label_horizon_days": label_h,
        "churn_horizon_days": min(CHURN_HORIZON_DAYS, label_h),
        "validation_cutoff": val.isoformat(),
        "train_cutoffs": [c.isoformat() for c in train_cuts],
        "baseline_reference_cutoff": ref.isoformat() if ref > data_start else None,
    }


def check_split(split: dict[str, Any]) -> None:
    """No label window overlaps the test label window, validation is later than training, and each
    snapshot's label window starts at its own cutoff (after its feature window)."""
    test = dt.date.fromisoformat(split["test_cutoff"])
    lh = split["label_horizon_days"]
    val = dt.date.fromisoformat(split["validation_cutoff"])
    trains = [dt.date.fromisoformat(c) for c in split["train_cutoffs"]]
    if val + dt.timedelta(days=lh) > test:
        raise BenchError("validation label window reaches past the test cutoff")
    if any(c >= val for c in trains):
        raise BenchError("a training cutoff is not earlier than the validation cutoff")
    if any(c + dt.timedelta(days=lh) > test for c in trains):
        raise BenchError("a training label window reaches past the test cutoff")
    ref = split.get("baseline_reference_cutoff")
    if ref and dt.date.fromisoformat(ref) + dt.timedelta(days=split["horizon_days"]) > test:
        raise BenchError("the baseline reference label window reaches past the test cutoff")


# ----------------------------------------------------------------------------- features
def spark_session():
    import os  # noqa: PLC0415

    from pyspark.sql import SparkSession  # noqa: PLC0415

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("clv-model-bench")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "3g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def feature_builder(spark, tx: pd.DataFrame):
    from clv_glue.features import build_features  # noqa: PLC0415

    sdf = spark.createDataFrame(tx).cache()
    observed_until = (tx["invoice_ts"].max().normalize() + pd.Timedelta(days=1)).date()

    def build(cutoff: str, revenue_h: int, churn_h: int) -> pd.DataFrame:
        df = build_features(
            sdf,
            None,
            None,
            dt.date.fromisoformat(cutoff),
            with_labels=True,
            revenue_horizon_days=revenue_h,
            churn_horizon_days=churn_h,
            observed_until=observed_until,
        )
        return df.toPandas()

    return build


# ----------------------------------------------------------------------------- run
def run_bench(
    input_path: str,
    preset: str,
    cutoff: dt.date,
    horizon_days: int,
    out_dir: str | Path,
    *,
    hyperparameters: dict[str, Any] | None = None,
    max_snapshots: int = 6,
    log=print,
) -> dict[str, Any]:
    t0 = time.time()
    spec = load_spec()
    tx, counts = read_transactions(input_path, preset)
    log(
        f"read {counts['rows_in']} rows, using {counts['rows_used']} product lines "
        f"of {counts['customers']} customers"
    )
    data_start = tx["invoice_ts"].min().date()
    observed_until = (tx["invoice_ts"].max().normalize() + pd.Timedelta(days=1)).date()
    if cutoff + dt.timedelta(days=horizon_days) > observed_until:
        raise BenchError(
            f"cutoff {cutoff} + {horizon_days} days is past the end of the data ({observed_until})"
        )
    split = plan_split(data_start, cutoff, horizon_days, max_snapshots=max_snapshots)
    check_split(split)
    log(f"split: {json.dumps(split)}")

    from pyspark.sql import SparkSession  # noqa: PLC0415

    owns_session = SparkSession.getActiveSession() is None
    spark = spark_session()
    build = feature_builder(spark, tx)
    lh, ch = split["label_horizon_days"], split["churn_horizon_days"]

    def checked(frame: pd.DataFrame, what: str, labels: bool = True) -> pd.DataFrame:
        ok, bad = frames.check_rows(frame, spec, require_labels=labels)
        if len(bad):
            raise BenchError(
                f"{what}: {len(bad)} feature rows rejected: {bad['reason'].value_counts().head(3).to_dict()}"
            )
        return ok

    test = checked(build(split["test_cutoff"], horizon_days, min(CHURN_HORIZON_DAYS, horizon_days)), "test")
    # calibration snapshot = the test cutoff's features without their labels (data before the cutoff only)
    calibration = test.drop(columns=list(spec.labels))
    validation = checked(build(split["validation_cutoff"], lh, ch), "validation")
    train_rows = pd.concat(
        [checked(build(c, lh, ch), f"train {c}") for c in split["train_cutoffs"]], ignore_index=True
    )
    log(
        f"features: train {len(train_rows)} rows ({len(split['train_cutoffs'])} snapshots), validation "
        f"{len(validation)}, test {len(test)} ({time.time() - t0:.0f}s)"
    )

    hp = parse_hyperparameters(
        {"horizon_days": horizon_days, "label_horizon_days": lh, **(hyperparameters or {})}
    )
    result = train(train_rows, validation, spec, hp, calibration_rows=calibration, log=lambda m: None)
    model = result.model

    y = revenue_target(test)
    preds = {"clv_xgb": model.predict(test)["predicted_revenue_12m"].to_numpy()}
    ref_cut = split["baseline_reference_cutoff"]
    if ref_cut:
        ref_rows = checked(
            build(ref_cut, horizon_days, min(CHURN_HORIZON_DAYS, horizon_days)), "baseline reference"
        )
        fitted = fit_baselines(ref_rows, revenue_target(ref_rows), horizon_days)
        split["baseline_reference_customers"] = int(len(ref_rows))
    else:
        fitted = model.baselines
    preds.update(predict_baselines(fitted, test, horizon_days))
    preds["bgnbd_gg"] = model.baseline_predictions(test)["bgnbd_gg"]
    if owns_session:
        spark.stop()

    models = {name: M.regression_metrics(y, p) for name, p in preds.items()}
    churn = model.predict(test)["churn_probability"].to_numpy()
    report = {
        "dataset": {
            "input": str(input_path),
            "preset": preset,
            "customers": int(len(test)),
            "customers_in_file": counts["customers"],
            "transactions": counts["rows_used"],
            "cleaning": counts,
        },
        "split": split | {"train_rows": int(len(train_rows)), "validation_rows": int(len(validation))},
        "models": models,
        "churn": M.classification_metrics(
            test["label_churn_6m"].to_numpy(float), churn, model.churn_threshold
        )
        | {"churn_horizon_days": min(CHURN_HORIZON_DAYS, horizon_days)},
        "checks": {
            "beats_bgnbd_gg_rmse": models["clv_xgb"]["rmse"] < models["bgnbd_gg"]["rmse"],
            "beats_bgnbd_gg_gini": models["clv_xgb"]["gini_normalized"]
            > models["bgnbd_gg"]["gini_normalized"],
            "heuristic_rmse_reduction": 1 - models["clv_xgb"]["rmse"] / models["heuristic"]["rmse"],
        },
        "model": {
            "hyperparameters": hp.to_dict(),
            "best_iteration": result.metrics["revenue"]["best_iteration"],
            "btyd": model.btyd_model.to_dict() if model.btyd_model else None,
        },
        "seconds": round(time.time() - t0, 1),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model-bench.json").write_text(json.dumps(_json_safe(report), indent=2))
    return report


def _json_safe(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _json_safe(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_json_safe(v) for v in o]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return o


def format_table(report: dict[str, Any]) -> str:
    s = report["split"]
    lines = [
        f"dataset: {report['dataset']['customers']} customers at the cutoff, "
        f"{report['dataset']['transactions']} product lines; test cutoff {s['test_cutoff']}, horizon "
        f"{s['horizon_days']} d; training label horizon {s['label_horizon_days']} d, validation cutoff "
        f"{s['validation_cutoff']}, training cutoffs {', '.join(s['train_cutoffs'])}",
        f"{'model':<12}{'RMSE':>10}{'MAE':>10}{'Gini':>8}{'Spearman':>10}{'top10%':>8}{'decMAPE':>9}",
    ]
    for name, m in report["models"].items():
        lines.append(
            f"{name:<12}{m['rmse']:>10.1f}{m['mae']:>10.1f}{m['gini_normalized']:>8.3f}{m['spearman']:>10.3f}"
            f"{m['top_decile_capture']:>8.3f}{m['decile_mape']:>9.3f}"
        )
    c = report["checks"]
    lines.append(
        f"clv_xgb vs bgnbd_gg: RMSE {'better' if c['beats_bgnbd_gg_rmse'] else 'NOT better'}, Gini "
        f"{'better' if c['beats_bgnbd_gg_gini'] else 'NOT better'}; "
        f"RMSE {c['heuristic_rmse_reduction']:.1%} below "
        f"the heuristic; churn AUC {report['churn']['auc']:.3f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m clv_model.bench", description="CLV model benchmark")
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser(
        "model", help="train and compare the CLV model with the baselines on a transaction file"
    )
    m.add_argument("--input", required=True)
    m.add_argument("--preset", required=True, choices=["generic", "online-retail", "online-retail-ii"])
    m.add_argument("--cutoff", required=True, type=dt.date.fromisoformat)
    m.add_argument("--horizon-days", required=True, type=int)
    m.add_argument("--out", required=True)
    m.add_argument("--max-snapshots", type=int, default=6, help="validation + training snapshots (default 6)")
    m.add_argument("--hp", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter override")
    args = ap.parse_args(argv)
    if not 7 <= args.horizon_days <= 730:
        ap.error(f"--horizon-days must be 7..730, got {args.horizon_days}")
    overrides = {}
    for item in args.hp:
        if "=" not in item:
            ap.error(f"--hp expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        overrides[k] = v
    try:
        report = run_bench(
            args.input,
            args.preset,
            args.cutoff,
            args.horizon_days,
            args.out,
            hyperparameters=overrides,
            max_snapshots=args.max_snapshots,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except (BenchError, frames.InputError, ValueError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
