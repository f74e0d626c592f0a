"""SageMaker training entry (script mode, XGBoost framework container 3.0-5); the same code runs locally.

Contract: SM_MODEL_DIR (artefacts), SM_CHANNEL_TRAIN and SM_CHANNEL_VALIDATION (CSV with header or Parquet
files of the training-set query output), optional SM_CHANNEL_CALIBRATION (the latest feature snapshot, no
labels needed, on which BG/NBD + Gamma-Gamma is fitted), SM_OUTPUT_DATA_DIR (rejected rows, metrics),
hyperparameters from SM_HPS and/or `--name value` arguments.

The model directory also gets the inference code under ``code/`` (inference.py and the clv_model package), so
that model.tar.gz is self-contained: the batch-scoring model runs with network isolation and cannot download
SAGEMAKER_SUBMIT_DIRECTORY from S3; its environment points SAGEMAKER_SUBMIT_DIRECTORY at /opt/ml/model/code.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from . import frames
from .hyperparameters import hyperparameters_from_sagemaker
from .lineage import code_commit
from .model import metric_lines, train
from .spec import load_spec

DEFAULTS = {
    "SM_MODEL_DIR": "/opt/ml/model",
    "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
    "SM_CHANNEL_VALIDATION": "/opt/ml/input/data/validation",
    "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
}


def _job_name(env: dict[str, str]) -> str:
    try:
        return json.loads(env.get("SM_TRAINING_ENV", "{}")).get("job_name", "") or ""
    except json.JSONDecodeError:
        return ""


SOURCE_DIR = Path(__file__).resolve().parents[1]
INFERENCE_PROGRAM = "inference.py"
CODE_SUFFIXES = (".py", ".json")


def package_inference_code(model_dir: str | Path, source_dir: Path = SOURCE_DIR) -> list[str]:
    """Copies inference.py and the clv_model package (code and JSON, no caches) to <model_dir>/code/."""
    dest = Path(model_dir) / "code"
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "clv_model").mkdir(parents=True)
    shutil.copy2(source_dir / INFERENCE_PROGRAM, dest / INFERENCE_PROGRAM)
    copied = [INFERENCE_PROGRAM]
    for f in sorted((source_dir / "clv_model").iterdir()):
        if f.is_file() and f.suffix in CODE_SUFFIXES:
            shutil.copy2(f, dest / "clv_model" / f.name)
            copied.append(f"clv_model/{f.name}")
    return copied


def run(argv: list[str], env: dict[str, str]) -> dict:
    hp = hyperparameters_from_sagemaker(argv, env)
    if not hp.model_version and _job_name(env):
        from dataclasses import replace  # noqa: PLC0415

        hp = replace(hp, model_version=_job_name(env))
    paths = {k: env.get(k, v) for k, v in DEFAULTS.items()}
    out_dir = Path(paths["SM_OUTPUT_DATA_DIR"])
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = load_spec()
    print(f"feature spec: schema_hash={spec.schema_hash} inputs={len(spec.model_inputs)}", flush=True)

    accepted = {}
    counts = {}
    channels = {"train": paths["SM_CHANNEL_TRAIN"], "validation": paths["SM_CHANNEL_VALIDATION"]}
    if env.get("SM_CHANNEL_CALIBRATION"):
        channels["calibration"] = env["SM_CHANNEL_CALIBRATION"]
    for name, path in channels.items():
        raw = frames.read_channel(path)
        ok, bad = frames.check_rows(raw, spec, require_labels=name != "calibration")
        counts[name] = {"in": int(len(raw)), "accepted": int(len(ok)), "rejected": int(len(bad))}
        if len(bad):
            bad.to_csv(out_dir / f"rejected_{name}.csv", index=False)
            top = bad["reason"].value_counts().head(5).to_dict()
            print(f"channel {name}: rejected {len(bad)} of {len(raw)} rows: {top}", flush=True)
        accepted[name] = ok
        print(f"channel {name}: {counts[name]}", flush=True)

    lineage = {"code_commit": code_commit(env), "training_job": _job_name(env), "row_counts": counts}
    result = train(
        accepted["train"],
        accepted["validation"],
        spec,
        hp,
        calibration_rows=accepted.get("calibration"),
        lineage=lineage,
        log=lambda msg: print(msg, flush=True),
    )
    model_dir = result.model.save(paths["SM_MODEL_DIR"])
    code_files = package_inference_code(model_dir)
    print(f"inference code packed into {model_dir}/code ({len(code_files)} files)", flush=True)
    for line in metric_lines(result.metrics):
        print(line, flush=True)
    summary = {
        "model_version": result.model.model_version,
        "metrics": result.metrics,
        "rows": counts,
        "tier_boundaries": result.model.tier_boundaries,
    }
    (out_dir / "training_metrics.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    print(f"model {result.model.model_version} written to {model_dir}", flush=True)
    return summary


def main() -> int:
    try:
        run(sys.argv[1:], dict(os.environ))
    except Exception as exc:
        # SageMaker reports the failure reason from /opt/ml/output/failure
        failure = Path(os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output")) / "failure"
        try:
            failure.parent.mkdir(parents=True, exist_ok=True)
            failure.write_text(f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
        print(f"training failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
