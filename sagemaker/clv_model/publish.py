"""Publish step of the batch-scoring pipeline (SageMaker processing job, network isolation).

Reads the Batch Transform output (``*.out`` files, text/csv as ``serving.output_fn`` writes it: scored rows
and rejected rows with ``status`` and ``reason``) and the scoring set it was given (the Athena result CSV),
then:

1. splits scored and rejected rows; a scored row with a null in a published column is moved to the rejects;
2. reconciles: rows in the scoring set = scored + rejected, and the customer ids are the same set with no
   duplicate (one lost, added or repeated row fails);
3. writes, into the processing output folders the state machine maps to S3:
   - ``predictions/part-00000.parquet``: the gold ``predictions`` partition
     ``scoring_date=<d>/model_version=<v>/`` (columns of lib/contracts/lake-tables.ts, partition keys in the
     path only; one fixed file name, so a rerun of the same cutoff and model replaces that partition and
     nothing else);
   - ``monitoring/<run id>.parquet``: summary rows of the gold ``monitoring_metrics`` table (run_date=<d>/);
   - ``report/summary.json`` and ``report/rejects/rejects.csv`` (customer_id, reason).

Exit status: 0 when the run reconciles and the rejected share is at most ``--max-rejected-share`` (default
0: any rejected row fails the run); otherwise 1 after writing the summary and rejects, with the reasons
printed. Gold outputs are written only when the run passes, and SageMaker uploads outputs only for a
completed job, so a failed run never publishes predictions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PREDICTION_COLUMNS = [
    "customer_id",
    "predicted_revenue_12m",
    "churn_probability",
    "clv_score",
    "tier",
    "reason_1_feature",
    "reason_1_contribution",
    "reason_2_feature",
    "reason_2_contribution",
    "reason_3_feature",
    "reason_3_contribution",
    "reasons_method",
]
FLOAT_COLUMNS = [
    "predicted_revenue_12m",
    "churn_probability",
    "clv_score",
    "reason_1_contribution",
    "reason_2_contribution",
    "reason_3_contribution",
]
TIERS = ("Low", "Medium", "High")
# How serving.py computed a row's reasons (decision 0022): exact TreeSHAP, XGBoost's Saabas approximation,
# or none.
REASONS_METHODS = ("tree_shap", "saabas", "none")
REASON_COLUMNS = [f"reason_{k}_{x}" for k in (1, 2, 3) for x in ("feature", "contribution")]
PIPELINE = "batch-scoring"
PREDICTIONS_FILE = "part-00000.parquet"


class PublishError(Exception):
    """The inputs cannot be read as a transform output / scoring set."""


@dataclass
class PublishResult:
    summary: dict[str, Any]
    predictions: pd.DataFrame
    rejects: pd.DataFrame
    metrics: pd.DataFrame
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes))


def read_transform_output(path: Path) -> pd.DataFrame:
    """Every ``*.out`` file (CSV with header, status and reason columns), concatenated."""
    files = _files(path, (".out",))
    if not files:
        raise PublishError(f"no transform output (*.out) under {path}")
    parts = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        if not text.strip():
            raise PublishError(f"{f}: empty transform output")
        frame = pd.read_csv(io.StringIO(text), dtype={"customer_id": "string"}, keep_default_na=True)
        for col in ("customer_id", "status"):
            if col not in frame.columns:
                raise PublishError(f"{f}: column {col} missing (expected text/csv from serving.output_fn)")
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def read_scoring_set(path: Path) -> pd.Series:
    """The customer ids of the scoring-set query result (Athena CSV with header)."""
    files = _files(path, (".csv",))
    if not files:
        raise PublishError(f"no scoring-set CSV under {path}")
    ids = []
    for f in files:
        frame = pd.read_csv(f, usecols=["customer_id"], dtype={"customer_id": "string"})
        ids.append(frame["customer_id"])
    return pd.concat(ids, ignore_index=True)


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else float("nan")


def publish(
    transform: pd.DataFrame,
    scoring_ids: pd.Series,
    *,
    scoring_date: str,
    model_version: str,
    run_id: str,
    max_rejected_share: float = 0.0,
    created_at: str | None = None,
) -> PublishResult:
    """Splits, checks and reconciles one scoring run (pure: no I/O)."""
    created_at = created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    status = transform["status"].astype("string")
    unknown = ~status.isin(["scored", "rejected"])
    failures: list[str] = []
    if unknown.any():
        failures.append(f"{int(unknown.sum())} transform row(s) with a status other than scored|rejected")
    scored = transform[status == "scored"].copy()
    rejected = transform[status == "rejected"].copy()
    missing_cols = [c for c in PREDICTION_COLUMNS if c not in scored.columns]
    if missing_cols:
        raise PublishError(f"transform output lacks columns {missing_cols}")
    for col in FLOAT_COLUMNS:
        scored[col] = pd.to_numeric(scored[col], errors="coerce")
    # a scored row must be complete and sane to be published; otherwise it is a reject with the reason
    # (reasons may be empty only where the row says none were computed)
    null_cols = scored[PREDICTION_COLUMNS].isna()
    no_reasons = scored["reasons_method"].astype("string") == "none"
    for col in REASON_COLUMNS:
        null_cols[col] = null_cols[col] & ~no_reasons
    bad_tier = ~scored["tier"].isin(TIERS)
    bad_method = ~scored["reasons_method"].isin(REASONS_METHODS) & ~null_cols["reasons_method"]
    moved_reason = pd.Series("", index=scored.index, dtype=object)
    for col in PREDICTION_COLUMNS:
        moved_reason = moved_reason.where(~null_cols[col], moved_reason + f"null {col} in scored output; ")
    moved_reason = moved_reason.where(~bad_tier, moved_reason + "tier not Low|Medium|High; ")
    moved_reason = moved_reason.where(
        ~bad_method, moved_reason + f"reasons_method not {'|'.join(REASONS_METHODS)}; "
    )
    moved = moved_reason != ""
    if moved.any():
        extra = scored[moved].assign(reason=moved_reason[moved].str.rstrip("; "))
        rejected = pd.concat([rejected, extra], ignore_index=True)
        scored = scored[~moved]
    predictions = scored[PREDICTION_COLUMNS].reset_index(drop=True)
    predictions["customer_id"] = predictions["customer_id"].astype(str)
    predictions["tier"] = predictions["tier"].astype(str)
    predictions["reasons_method"] = predictions["reasons_method"].astype(str)
    for col in ("reason_1_feature", "reason_2_feature", "reason_3_feature"):
        predictions[col] = (
            predictions[col].astype("string").astype(object).where(predictions[col].notna(), None)
        )
    rejects = pd.DataFrame(
        {
            "customer_id": rejected["customer_id"].astype("string").fillna("").to_numpy(),
            "reason": rejected.get("reason", pd.Series("", index=rejected.index))
            .astype("string")
            .fillna("")
            .to_numpy(),
        }
    )

    # reconciliation: in = scored + rejected, same customers, no duplicate
    rows_in = int(len(scoring_ids))
    n_scored, n_rejected = int(len(predictions)), int(len(rejects))
    recon: list[str] = []
    if rows_in != n_scored + n_rejected:
        recon.append(
            f"row counts do not reconcile: scoring set {rows_in} != scored {n_scored} + rejected {n_rejected}"
        )
    out_ids = pd.concat([predictions["customer_id"], rejects["customer_id"]], ignore_index=True).astype(str)
    in_ids = scoring_ids.astype(str)
    lost = sorted(set(in_ids) - set(out_ids))
    added = sorted(set(out_ids) - set(in_ids))
    dup = sorted(out_ids[out_ids.duplicated()].unique().tolist())
    if lost:
        failures.append(
            f"{len(lost)} customer(s) of the scoring set missing from the output, e.g. {lost[:5]}"
        )
    if added:
        failures.append(f"{len(added)} customer(s) in the output not in the scoring set, e.g. {added[:5]}")
    if dup:
        failures.append(f"{len(dup)} customer(s) appear more than once in the output, e.g. {dup[:5]}")
    rejected_share = n_rejected / rows_in if rows_in else 0.0
    if n_rejected and rejected_share > max_rejected_share:
        top = rejects["reason"].value_counts().head(5).to_dict()
        failures.append(
            f"{n_rejected} of {rows_in} row(s) rejected (share {rejected_share:.4f} > allowed "
            f"{max_rejected_share}): {top}"
        )

    revenue = predictions["predicted_revenue_12m"].to_numpy(float)
    tiers = predictions["tier"].value_counts()
    stats: dict[str, float] = {
        "rows_in": rows_in,
        "rows_scored": n_scored,
        "rows_rejected": n_rejected,
        "clv_mean": float(revenue.mean()) if n_scored else float("nan"),
        "clv_p50": _quantile(revenue, 0.5),
        "clv_p90": _quantile(revenue, 0.9),
        "clv_p99": _quantile(revenue, 0.99),
        "churn_mean": float(predictions["churn_probability"].mean()) if n_scored else float("nan"),
    }
    for t in TIERS:
        stats[f"tier_share_{t.lower()}"] = float(tiers.get(t, 0) / n_scored) if n_scored else float("nan")
    details = {"column": "predicted_revenue_12m", "scoring_date": scoring_date}
    metrics = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "pipeline": PIPELINE,
                "model_version": model_version,
                "metric": name,
                "feature": None,
                "value": float(value),
                "details": json.dumps(details if name.startswith("clv_") else {"scoring_date": scoring_date}),
                "created_at": created_at,
            }
            for name, value in stats.items()
        ]
    )
    metrics["feature"] = metrics["feature"].astype("string")
    summary = {
        "run_id": run_id,
        "pipeline": PIPELINE,
        "scoring_date": scoring_date,
        "model_version": model_version,
        "status": "published" if not failures else "failed",
        "reconciled": not any(
            f.startswith(("row counts", "the scoring set")) or "customer(s)" in f for f in failures
        ),
        "rows_in": rows_in,
        "rows_scored": n_scored,
        "rows_rejected": n_rejected,
        "rejected_share": rejected_share,
        "max_rejected_share": max_rejected_share,
        "metrics": {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in stats.items()},
        "failures": failures,
        "created_at": created_at,
    }
    return PublishResult(summary, predictions, rejects, metrics, failures)


def write_outputs(
    result: PublishResult, *, predictions_dir: Path, monitoring_dir: Path, report_dir: Path, run_id: str
) -> None:
    """Report (summary + rejects) always; gold outputs only when the run passed."""
    (report_dir / "rejects").mkdir(parents=True, exist_ok=True)
    result.rejects.to_csv(report_dir / "rejects" / "rejects.csv", index=False)
    (report_dir / "summary.json").write_text(json.dumps(result.summary, indent=2, sort_keys=True))
    if not result.ok:
        return
    predictions_dir.mkdir(parents=True, exist_ok=True)
    monitoring_dir.mkdir(parents=True, exist_ok=True)
    result.predictions.to_parquet(predictions_dir / PREDICTIONS_FILE, index=False)
    result.metrics.to_parquet(monitoring_dir / f"{run_id}.parquet", index=False)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="publish.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--transform-output", required=True, type=Path)
    p.add_argument("--scoring-set", required=True, type=Path)
    p.add_argument("--predictions-dir", required=True, type=Path)
    p.add_argument("--monitoring-dir", required=True, type=Path)
    p.add_argument("--report-dir", required=True, type=Path)
    p.add_argument("--scoring-date", required=True)
    p.add_argument("--model-version", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--max-rejected-share", type=float, default=0.0)
    args = p.parse_args(list(argv))
    dt.date.fromisoformat(args.scoring_date)
    if not 0.0 <= args.max_rejected_share <= 1.0:
        p.error("--max-rejected-share must be between 0 and 1")
    result = publish(
        read_transform_output(args.transform_output),
        read_scoring_set(args.scoring_set),
        scoring_date=args.scoring_date,
        model_version=args.model_version,
        run_id=args.run_id,
        max_rejected_share=args.max_rejected_share,
    )
    write_outputs(
        result,
        predictions_dir=args.predictions_dir,
        monitoring_dir=args.monitoring_dir,
        report_dir=args.report_dir,
        run_id=args.run_id,
    )
    s = result.summary
    print(
        f"publish {args.run_id}: in={s['rows_in']} scored={s['rows_scored']} rejected={s['rows_rejected']} "
        f"status={s['status']}",
        flush=True,
    )
    if not result.ok:
        for f in result.failures:
            print(f"publish failed: {f}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
