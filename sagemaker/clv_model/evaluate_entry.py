"""Evaluation entry point: a trained model + a held-out later snapshot -> evaluation.json and model_card.md.

Paths: --model-dir (a directory with the artefacts or with model.tar.gz; default $SM_CHANNEL_MODEL),
--test (CSV/Parquet files of the test snapshot with labels; default $SM_CHANNEL_TEST), --output-dir
(default $SM_OUTPUT_DATA_DIR). Prints `test:rmse=...;` lines for metric definitions.
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
from .evaluation import evaluate, model_card
from .lineage import code_commit
from .model import CLVModel


def _model_path(path: Path, tmp: Path) -> Path:
    tar = path / "model.tar.gz" if path.is_dir() else path
    if tar.is_file() and tar.name.endswith(".tar.gz"):
        with tarfile.open(tar) as tf:
            tf.extractall(tmp, filter="data")
        return tmp
    return path


def run(argv: list[str], env: dict[str, str]) -> dict:
    ap = argparse.ArgumentParser(prog="evaluate", description=__doc__)
    ap.add_argument("--model-dir", default=env.get("SM_CHANNEL_MODEL", "/opt/ml/processing/model"))
    ap.add_argument("--test", default=env.get("SM_CHANNEL_TEST", "/opt/ml/processing/test"))
    ap.add_argument("--output-dir", default=env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/processing/evaluation"))
    ap.add_argument("--min-slice-customers", type=int, default=30)
    args = ap.parse_args(argv)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model = CLVModel.load(_model_path(Path(args.model_dir), Path(tmp)))
    raw = frames.read_channel(args.test)
    ok, bad = frames.check_rows(raw, model.spec, require_labels=True)
    if len(bad):
        bad.to_csv(out / "rejected_test.csv", index=False)
    report = evaluate(
        model,
        ok,
        rejected=bad,
        rows_in=len(raw),
        extra_lineage={"evaluation_code_commit": code_commit(env)},
        min_slice_customers=args.min_slice_customers,
    )
    (out / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    (out / "model_card.md").write_text(model_card(report))
    r = report["revenue"]
    auc = report["churn"]["auc"] if report["churn"]["auc"] is not None else float("nan")
    print(
        f"test:rmse={r['rmse']:.6f}; test:mae={r['mae']:.6f}; test:gini={r['gini_normalized']:.6f}; "
        f"test:churn_auc={auc:.6f};",
        flush=True,
    )
    return report


def main() -> int:
    run(sys.argv[1:], dict(os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
