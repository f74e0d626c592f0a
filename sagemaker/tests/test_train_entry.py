"""The training entry under SageMaker's directory contract, and the evaluation entry on its model."""

import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from clv_model import evaluate_entry, train_entry
from clv_model.hyperparameters import HyperparameterError, hyperparameters_from_sagemaker
from clv_model.model import CLVModel, ModelError
from conftest import synthetic_snapshot

SAGEMAKER_DIR = Path(__file__).resolve().parents[1]
FAST = {"num_round": "15", "churn_num_round": "10", "horizon_days": "91", "early_stopping_rounds": "5"}


def _channels(tmp_path: Path, spec, *, csv: bool = True) -> dict[str, str]:
    (tmp_path / "train").mkdir()
    (tmp_path / "validation").mkdir()
    t1 = synthetic_snapshot(spec, "2024-01-01", 200, 1)
    t2 = synthetic_snapshot(spec, "2024-01-31", 200, 2)
    va = synthetic_snapshot(spec, "2024-03-01", 200, 3)
    if csv:
        t1.to_csv(tmp_path / "train" / "part-00000.csv", index=False)
        t2.to_csv(tmp_path / "train" / "part-00001.csv", index=False)
        va.to_csv(tmp_path / "validation" / "part-00000.csv", index=False)
    else:
        pd.concat([t1, t2]).to_parquet(tmp_path / "train" / "part-00000.parquet")
        va.to_parquet(tmp_path / "validation" / "part-00000.parquet")
    return {
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_CHANNEL_TRAIN": str(tmp_path / "train"),
        "SM_CHANNEL_VALIDATION": str(tmp_path / "validation"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
        "SM_TRAINING_ENV": json.dumps({"job_name": "clv-train-test-1"}),
    }


def test_train_entry_writes_model_dir_and_metric_lines(tmp_path, spec):
    env = _channels(tmp_path, spec)
    env["SM_HPS"] = json.dumps(FAST)
    env["PATH"] = "/usr/bin:/bin"
    env["CLV_CODE_COMMIT"] = "abc1234"
    proc = subprocess.run(
        [sys.executable, "train.py", "--max_depth", "2", "--eta", "0.2"],
        cwd=SAGEMAKER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    model_dir = tmp_path / "model"
    assert {"clv_model.json", "revenue.json", "churn.json", "feature_list.json"} <= {
        p.name for p in model_dir.iterdir()
    }
    meta = json.loads((model_dir / "clv_model.json").read_text())
    assert meta["schema_hash"] == spec.schema_hash
    assert meta["model_version"] == "clv-train-test-1"
    assert meta["hyperparameters"]["max_depth"] == 2  # command line overrides SM_HPS / defaults
    assert meta["hyperparameters"]["num_round"] == 15
    assert meta["lineage"]["code_commit"] == "abc1234"
    assert meta["lineage"]["train_cutoffs"] == ["2024-01-01", "2024-01-31"]
    assert meta["lineage"]["validation_cutoffs"] == ["2024-03-01"]
    assert meta["tier_boundaries"]["medium"] <= meta["tier_boundaries"]["high"]
    features = json.loads((model_dir / "feature_list.json").read_text())
    assert set(spec.model_inputs) <= set(features)
    # every metric definition finds its value in the log
    defs = json.loads((SAGEMAKER_DIR / "clv_model" / "metric_definitions.json").read_text())
    for d in defs:
        m = re.search(d["Regex"], proc.stdout)
        assert m, f"{d['Name']} not found in the training log"
        float(m.group(1))
    summary = json.loads((tmp_path / "output" / "training_metrics.json").read_text())
    assert summary["rows"]["train"] == {"in": 400, "accepted": 400, "rejected": 0}


def test_train_then_evaluate_from_tarball(tmp_path, spec):
    env = _channels(tmp_path, spec, csv=False)
    env["SM_HPS"] = json.dumps(FAST)
    train_entry.run([], env)
    tar_dir = tmp_path / "packaged"
    tar_dir.mkdir()
    with tarfile.open(tar_dir / "model.tar.gz", "w:gz") as tf:
        for f in (tmp_path / "model").iterdir():
            tf.add(f, arcname=f.name)
    (tmp_path / "test").mkdir()
    test = synthetic_snapshot(spec, "2024-04-01", 250, 9)
    test.loc[0, "frequency_days"] = None  # one bad row: rejected with its reason, not evaluated
    test.to_csv(tmp_path / "test" / "test.csv", index=False)
    report = evaluate_entry.run(
        [
            "--model-dir",
            str(tar_dir),
            "--test",
            str(tmp_path / "test"),
            "--output-dir",
            str(tmp_path / "eval"),
        ],
        {},
    )
    assert report["rows"] == {
        "in": 250,
        "evaluated": 249,
        "rejected": 1,
        "rejected_reasons": {"missing frequency_days": 1},
    }
    saved = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    for key in ("rmse", "mae", "gini_normalized", "spearman", "top_decile_capture", "decile_mape", "lorenz"):
        assert key in saved["revenue"]
    assert len(saved["revenue"]["decile_table"]) == 10
    assert set(saved["baselines"]) == {"heuristic", "linear_rfm", "bgnbd_gg"}
    assert {"auc", "precision", "recall", "threshold"} <= set(saved["churn"])
    assert "disparate_impact" in saved["slices"]["country"]
    assert saved["lineage"]["test_cutoffs"] == ["2024-04-01"]
    assert saved["shap_importance"][0]["mean_abs_shap"] >= saved["shap_importance"][-1]["mean_abs_shap"]
    card = (tmp_path / "eval" / "model_card.md").read_text()
    assert "normalized Gini" in card and "bgnbd_gg" in card and spec.schema_hash in card


def test_validation_must_be_later_than_training(tmp_path, spec):
    env = _channels(tmp_path, spec)
    # swap channels: validation earlier than training -> refused (temporal split, never random)
    env["SM_CHANNEL_TRAIN"], env["SM_CHANNEL_VALIDATION"] = (
        env["SM_CHANNEL_VALIDATION"],
        env["SM_CHANNEL_TRAIN"],
    )
    env["SM_HPS"] = json.dumps(FAST)
    with pytest.raises(ModelError, match="not later than the latest training cutoff"):
        train_entry.run([], env)


def test_model_round_trip_predicts_the_same(tmp_path, spec):
    env = _channels(tmp_path, spec)
    env["SM_HPS"] = json.dumps(FAST)
    train_entry.run([], env)
    m1 = CLVModel.load(tmp_path / "model")
    m1.save(tmp_path / "copy")
    m2 = CLVModel.load(tmp_path / "copy")
    rows = synthetic_snapshot(spec, "2024-04-01", 20, 5, with_labels=False)
    from clv_model import frames

    ok, _ = frames.check_rows(rows, spec)
    pd.testing.assert_frame_equal(m1.predict(ok), m2.predict(ok))


def test_hyperparameters_from_command_line_and_sm_hps():
    hp = hyperparameters_from_sagemaker(
        ["--max_depth", "5", "--eta=0.1", "--btyd_offset", "false"],
        {"SM_HPS": json.dumps({"max_depth": "3", "lambda": "2.5", "sagemaker_program": "train.py"})},
    )
    assert (hp.max_depth, hp.eta, hp.lambda_, hp.btyd_offset) == (5, 0.1, 2.5, False)
    # JSON-encoded values, as the SageMaker SDK writes them
    encoded = json.dumps({"objective": '"reg:squarederror"', "eta": 0.2})
    hp = hyperparameters_from_sagemaker([], {"SM_HPS": encoded})
    assert (hp.objective, hp.eta) == ("reg:squarederror", 0.2)
    with pytest.raises(HyperparameterError, match="unknown hyperparameter 'depth'"):
        hyperparameters_from_sagemaker(["--depth", "3"], {})
    with pytest.raises(HyperparameterError, match="max_depth: expected int"):
        hyperparameters_from_sagemaker(["--max_depth", "3.5"], {})
    with pytest.raises(HyperparameterError, match="outside"):
        hyperparameters_from_sagemaker(["--tweedie_variance_power", "2.5"], {})


def test_bundled_contract_copy_matches_the_contract():
    """The SageMaker source bundle carries clv_model/feature_contract.json (no clv_glue there): it must equal
    contracts/feature-contract.json."""
    bundled = json.loads((SAGEMAKER_DIR / "clv_model" / "feature_contract.json").read_text())
    source = json.loads((SAGEMAKER_DIR.parent / "contracts" / "feature-contract.json").read_text())
    assert bundled == source


def test_tuning_ranges_name_declared_hyperparameters():
    from clv_model.hyperparameters import parse_hyperparameters

    ranges = json.loads((SAGEMAKER_DIR / "clv_model" / "tuning_ranges.json").read_text())
    names = set()
    for kind in ("IntegerParameterRanges", "ContinuousParameterRanges"):
        for r in ranges[kind]:
            assert r["ScalingType"] in ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
            parse_hyperparameters({r["Name"]: r["MinValue"]})  # both ends are valid values
            parse_hyperparameters({r["Name"]: r["MaxValue"]})
            names.add(r["Name"])
    expected = {"max_depth", "eta", "num_round", "min_child_weight", "subsample", "tweedie_variance_power"}
    assert expected | {"alpha", "lambda"} <= names
    objective = json.loads((SAGEMAKER_DIR / "clv_model" / "tuning_objective.json").read_text())
    defs = {
        d["Name"] for d in json.loads((SAGEMAKER_DIR / "clv_model" / "metric_definitions.json").read_text())
    }
    assert objective["MetricName"] in defs
