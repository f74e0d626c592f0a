"""evaluate_entry with a champion: both models on the SAME test snapshot, the report's champion and fairness
sections, fairness.json, and the error a champion that cannot be evaluated leaves for the gate."""

import json
import tarfile
from pathlib import Path

import pytest
from clv_model import evaluate_entry, train_entry
from clv_model.evaluation import NO_CHAMPION
from conftest import synthetic_snapshot

FAST = {"num_round": "15", "churn_num_round": "10", "horizon_days": "91", "early_stopping_rounds": "5"}
WEAK = FAST | {
    "num_round": "1",
    "churn_num_round": "1",
    "max_depth": "1",
    "btyd_offset": "false",
    "btyd_features": "false",
}


def _train(tmp: Path, spec, hps: dict[str, str]) -> Path:
    """Trains on two stacked snapshots; returns a directory holding model.tar.gz (as the registry has it)."""
    for ch in ("train", "validation"):
        (tmp / ch).mkdir(parents=True)
    synthetic_snapshot(spec, "2024-01-01", 200, 1).to_csv(tmp / "train" / "a.csv", index=False)
    synthetic_snapshot(spec, "2024-01-31", 200, 2).to_csv(tmp / "train" / "b.csv", index=False)
    synthetic_snapshot(spec, "2024-03-01", 200, 3).to_csv(tmp / "validation" / "a.csv", index=False)
    train_entry.run(
        [],
        {
            "SM_MODEL_DIR": str(tmp / "model"),
            "SM_CHANNEL_TRAIN": str(tmp / "train"),
            "SM_CHANNEL_VALIDATION": str(tmp / "validation"),
            "SM_OUTPUT_DATA_DIR": str(tmp / "output"),
            "SM_HPS": json.dumps(hps),
            "SM_TRAINING_ENV": json.dumps({"job_name": f"clv-train-{tmp.name}"}),
        },
    )
    packaged = tmp / "packaged"
    packaged.mkdir()
    with tarfile.open(packaged / "model.tar.gz", "w:gz") as tf:
        for f in (tmp / "model").iterdir():
            tf.add(f, arcname=f.name)
    return packaged


@pytest.fixture(scope="module")
def models(tmp_path_factory, spec):
    base = tmp_path_factory.mktemp("models")
    test = base / "test"
    test.mkdir()
    synthetic_snapshot(spec, "2024-04-01", 300, 9).to_csv(test / "test.csv", index=False)
    return {
        "good": _train(base / "good", spec, FAST),
        "weak": _train(base / "weak", spec, WEAK),
        "test": test,
    }


def _evaluate(tmp_path: Path, models, model: str, *extra: str) -> dict:
    out = tmp_path / "eval"
    report = evaluate_entry.run(
        ["--model-dir", str(models[model]), "--test", str(models["test"]), "--output-dir", str(out), *extra],
        {},
    )
    assert json.loads((out / "evaluation.json").read_text()) == json.loads(json.dumps(report))
    return report


def test_without_a_champion_the_report_says_so(tmp_path, models):
    report = _evaluate(tmp_path, models, "good")
    assert report["champion"] == {"present": False, "reason": NO_CHAMPION}
    assert (
        "Not compared: no Production model: first model." in (tmp_path / "eval" / "model_card.md").read_text()
    )


def test_the_champion_is_evaluated_on_the_same_snapshot(tmp_path, models):
    # the same model as its own champion: identical metrics prove the same rows and the same metric code
    same = _evaluate(tmp_path, models, "good", "--champion-dir", str(models["good"]))
    c = same["champion"]
    assert c["present"] is True and "error" not in c
    assert c["model_version"] == same["model_version"]
    assert c["rows"] == {"in": 300, "evaluated": 300}
    for key in ("rmse", "mae", "gini_normalized", "top_decile_capture", "spearman"):
        assert c["revenue"][key] == pytest.approx(same["revenue"][key])
    assert c["churn"]["auc"] == pytest.approx(same["churn"]["auc"])
    assert c["train_cutoffs"] == ["2024-01-01", "2024-01-31"]


def test_a_weaker_challenger_against_a_good_champion(tmp_path, models):
    report = _evaluate(
        tmp_path,
        models,
        "weak",
        "--champion-dir",
        str(models["good"]),
        "--champion-model-package-arn",
        "arn:aws:sagemaker:eu-west-1:000000000000:model-package/g/1",
    )
    c = report["champion"]
    assert c["model_version"] != report["model_version"]
    assert c["package"] == {"model_package_arn": "arn:aws:sagemaker:eu-west-1:000000000000:model-package/g/1"}
    assert report["revenue"]["rmse"] > c["revenue"]["rmse"]
    assert report["revenue"]["gini_normalized"] < c["revenue"]["gini_normalized"]
    card = (tmp_path / "eval" / "model_card.md").read_text()
    assert (
        f"| champion {c['model_version']} |" in card and f"| challenger {report['model_version']} |" in card
    )


def test_fairness_section_and_fairness_json(tmp_path, models):
    report = _evaluate(tmp_path, models, "good", "--min-slice-customers", "90")
    by = report["fairness"]["by"]
    assert report["fairness"]["min_slice_customers"] == 90
    assert set(by) == {"country", "acquisition_channel"}
    slices = report["slices"]["country"]["slices"]
    eligible = {k: v["mean_predicted"] for k, v in slices.items() if v["customers"] >= 90}
    assert by["country"]["eligible_slices"] == len(eligible) >= 2
    assert by["country"]["ratio"] == pytest.approx(min(eligible.values()) / max(eligible.values()))
    # the synthetic acquisition_channel is one value ("unknown"): fewer than two slices, no ratio
    assert by["acquisition_channel"] == {"eligible_slices": 1}
    saved = json.loads((tmp_path / "eval" / "fairness.json").read_text())
    assert saved["by"] == by and saved["model_version"] == report["model_version"]


def test_a_champion_that_cannot_be_loaded_is_recorded_as_an_error(tmp_path, models):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.tar.gz").write_bytes(b"not a tarball")
    report = _evaluate(tmp_path, models, "good", "--champion-dir", str(broken))
    assert report["champion"]["present"] is True
    assert report["champion"]["error"]
    assert "revenue" not in report["champion"]
