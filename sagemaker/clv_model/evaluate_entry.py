"""Evaluation entry point: a trained model + a held-out later snapshot -> evaluation.json, fairness.json and
model_card.md.

Paths: --model-dir (a directory with the artefacts or with model.tar.gz; default $SM_CHANNEL_MODEL), --test
(CSV/Parquet files of the test snapshot with labels; default $SM_CHANNEL_TEST), --output-dir (default
$SM_OUTPUT_DATA_DIR). Optional --champion-dir: the Production model's artefacts (model.tar.gz), evaluated on
the SAME test snapshot into the report's `champion` section (without it the section says there is no
champion; a champion that cannot be loaded or evaluated is recorded as an error: the gate fails it).
--champion-model-package-arn records which package it was. --min-slice-customers: the fairness slice minimum
(the gate's fairness_min_slice_customers). Prints `test:rmse=...;` lines for metric definitions.
--drift-baseline-dir: the model's drift baseline, fixed on the test snapshot's rows of the monitored
population, is written to <drift-baseline-dir>/<model_version>.csv (drift_baseline.py, decisions 0030 and
0035), which the job uploads to the gold drift_baselines/ table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path

from . import frames
from .drift_baseline import write_baseline
from .evaluation import champion_error, evaluate, evaluate_champion, model_card
from .lineage import code_commit
from .model import CLVModel


def _model_path(path: Path, tmp: Path) -> Path:
    tar = path / "model.tar.gz" if path.is_dir() else path
    if tar.is_file() and tar.name.endswith(".tar.gz"):
        with tarfile.open(tar) as tf:
            tf.extractall(tmp, filter="data")
        return tmp
    return path


def _champion(path: Path, raw, package_arn: str | None, min_slice_customers: int) -> dict:
    """The champion section: its metrics on the same raw test rows, or the error that stopped it."""
    package = {"model_package_arn": package_arn} if package_arn else {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            champion = CLVModel.load(_model_path(path, Path(tmp)))
        ok, _ = frames.check_rows(raw, champion.spec, require_labels=True)
        return evaluate_champion(
            champion, ok, rows_in=len(raw), min_slice_customers=min_slice_customers, package=package
        )
    except Exception as err:  # noqa: BLE001 - recorded in the report; the gate fails on it
        print(f"champion could not be evaluated: {type(err).__name__}: {err}", flush=True)
        return champion_error(f"{type(err).__name__}: {err}", package)


def run(argv: list[str], env: dict[str, str]) -> dict:
    ap = argparse.ArgumentParser(prog="evaluate", description=__doc__)
    ap.add_argument("--model-dir", default=env.get("SM_CHANNEL_MODEL", "/opt/ml/processing/model"))
    ap.add_argument("--test", default=env.get("SM_CHANNEL_TEST", "/opt/ml/processing/test"))
    ap.add_argument("--output-dir", default=env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/processing/evaluation"))
    ap.add_argument("--min-slice-customers", type=int, default=30)
    ap.add_argument("--champion-dir", default=None)
    ap.add_argument("--champion-model-package-arn", default=None)
    ap.add_argument(
        "--drift-baseline-dir",
        default=None,
        help="where <model_version>.csv, the drift baseline fixed on the test snapshot, is written",
    )
    args = ap.parse_args(argv)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = CLVModel.load(_model_path(Path(args.model_dir), Path(tmp)))
    if args.drift_baseline_dir is not None:
        write_baseline(model, args.test, args.drift_baseline_dir)
    raw = frames.read_channel(args.test)
    ok, bad = frames.check_rows(raw, model.spec, require_labels=True)
    if len(bad):
        bad.to_csv(out / "rejected_test.csv", index=False)
    champion = (
        _champion(Path(args.champion_dir), raw, args.champion_model_package_arn, args.min_slice_customers)
        if args.champion_dir
        else None
    )
    report = evaluate(
        model,
        ok,
        rejected=bad,
        rows_in=len(raw),
        extra_lineage={"evaluation_code_commit": code_commit(env)},
        min_slice_customers=args.min_slice_customers,
        champion=champion,
    )
    (out / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    fairness = {"model_version": report["model_version"], **report["fairness"], "slices": report["slices"]}
    (out / "fairness.json").write_text(json.dumps(fairness, indent=2, sort_keys=True))
    (out / "model_card.md").write_text(model_card(report))
    r = report["revenue"]
    auc = report["churn"]["auc"] if report["churn"]["auc"] is not None else float("nan")
    print(
        f"test:rmse={r['rmse']:.6f}; test:mae={r['mae']:.6f}; test:gini={r['gini_normalized']:.6f}; "
        f"test:churn_auc={auc:.6f};",
        flush=True,
    )
    c = report["champion"]
    if c.get("present") and not c.get("error"):
        print(
            f"champion:rmse={c['revenue']['rmse']:.6f}; champion:gini={c['revenue']['gini_normalized']:.6f};",
            flush=True,
        )
    return report


def main() -> int:
    run(sys.argv[1:], dict(os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
