"""The batch-scoring publish step: split, reconcile (failing at its boundary), rejects with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from clv_model import publish as pub
from clv_model.serving import CSV, output_fn


def _scored(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "predicted_revenue_12m": [10.0 * (i + 1) for i in range(n)],
            "churn_probability": [0.1 + 0.8 * i / max(n, 1) for i in range(n)],
            "clv_score": [100.0 * i / max(n, 1) for i in range(n)],
            "tier": [("Low", "Medium", "High")[i % 3] for i in range(n)],
        }
    )
    for k in (1, 2, 3):
        frame[f"reason_{k}_feature"] = f"feature_{k}"
        frame[f"reason_{k}_contribution"] = 0.5 / k
    frame["reasons_method"] = "tree_shap"
    frame["model_version"] = "clv-test"
    frame["scoring_date"] = "2024-01-01"
    return frame


def _transform_csv(scored_ids: list[str], rejected: dict[str, str]) -> pd.DataFrame:
    errors = pd.DataFrame(
        {
            "customer_id": list(rejected),
            "row_number": range(len(rejected)),
            "reason": list(rejected.values()),
        }
    )
    body = output_fn(
        {
            "model_version": "clv-test",
            "counts": {},
            "predictions": _scored(scored_ids),
            "errors": errors,
        },
        CSV,
    )
    return body.decode()


def _run(tmp_path: Path, scoring_ids: list[str], out_text: str, **kw) -> tuple[int, Path]:
    (tmp_path / "transform").mkdir(parents=True)
    (tmp_path / "transform" / "result.csv.out").write_text(out_text)
    (tmp_path / "scoring").mkdir()
    pd.DataFrame({"customer_id": scoring_ids, "country": "UK"}).to_csv(
        tmp_path / "scoring" / "q.csv", index=False
    )
    args = [
        "--transform-output",
        str(tmp_path / "transform"),
        "--scoring-set",
        str(tmp_path / "scoring"),
        "--predictions-dir",
        str(tmp_path / "predictions"),
        "--monitoring-dir",
        str(tmp_path / "monitoring"),
        "--report-dir",
        str(tmp_path / "report"),
        "--scoring-date",
        "2024-01-01",
        "--model-version",
        "clv-test",
        "--run-id",
        "run-1",
    ]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    return pub.main(args), tmp_path


IDS = [f"C{i:03d}" for i in range(20)]


def test_publishes_every_row_with_the_contract_columns(tmp_path: Path) -> None:
    code, d = _run(tmp_path, IDS, _transform_csv(IDS, {}))
    assert code == 0
    pred = pd.read_parquet(d / "predictions" / pub.PREDICTIONS_FILE)
    assert list(pred.columns) == pub.PREDICTION_COLUMNS
    assert len(pred) == 20
    assert not pred.isna().any().any()
    assert set(pred["reasons_method"]) == {"tree_shap"}
    summary = json.loads((d / "report" / "summary.json").read_text())
    assert summary | {"created_at": None, "metrics": None} == summary | {
        "status": "published",
        "reconciled": True,
        "rows_in": 20,
        "rows_scored": 20,
        "rows_rejected": 0,
        "created_at": None,
        "metrics": None,
    }
    metrics = pd.read_parquet(d / "monitoring" / "run-1.parquet")
    assert list(metrics.columns) == [
        "run_id",
        "pipeline",
        "model_version",
        "metric",
        "feature",
        "value",
        "details",
        "created_at",
    ]
    by = dict(zip(metrics["metric"], metrics["value"], strict=True))
    assert by["rows_in"] == 20 and by["rows_scored"] == 20 and by["rows_rejected"] == 0
    assert by["clv_mean"] == pytest.approx(105.0)
    assert by["tier_share_low"] + by["tier_share_medium"] + by["tier_share_high"] == pytest.approx(1.0)
    assert {"clv_p50", "clv_p90", "clv_p99", "churn_mean"} <= set(by)
    assert set(metrics["run_id"]) == {"run-1"} and set(metrics["pipeline"]) == {"batch-scoring"}


@pytest.mark.parametrize(
    ("scored", "ok"),
    [
        (IDS[:-1], False),  # one row lost: 20 in, 19 out
        (IDS, True),  # exactly reconciled
        ([*IDS, "C999"], False),  # one row added
        ([*IDS[:-1], IDS[0]], False),  # same count, one lost and one duplicated
    ],
)
def test_reconciliation_fails_at_its_boundary(tmp_path: Path, scored: list[str], ok: bool) -> None:
    code, d = _run(tmp_path, IDS, _transform_csv(scored, {}))
    summary = json.loads((d / "report" / "summary.json").read_text())
    assert (code == 0) is ok
    assert summary["reconciled"] is ok
    assert (d / "predictions" / pub.PREDICTIONS_FILE).exists() is ok
    if not ok:
        assert summary["status"] == "failed"
        assert summary["failures"]


def test_rejects_are_kept_with_their_reasons_and_fail_the_run_by_default(tmp_path: Path) -> None:
    rejected = {"C018": "missing recency_days", "C019": "non-numeric spend_365d"}
    code, d = _run(tmp_path, IDS, _transform_csv(IDS[:18], rejected))
    assert code == 1
    summary = json.loads((d / "report" / "summary.json").read_text())
    assert summary["reconciled"] is True  # 20 = 18 + 2
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (20, 18, 2)
    assert "2 of 20 row(s) rejected" in summary["failures"][0]
    rejects = pd.read_csv(d / "report" / "rejects" / "rejects.csv")
    assert dict(zip(rejects["customer_id"], rejects["reason"], strict=True)) == rejected
    assert not (d / "predictions").exists()


@pytest.mark.parametrize(("allowed", "code"), [(0.09, 1), (0.1, 0), (0.11, 0)])
def test_allowed_rejected_share_boundary(tmp_path: Path, allowed: float, code: int) -> None:
    rejected = {"C018": "missing recency_days", "C019": "missing tenure_days"}  # share 2/20 = 0.1
    got, d = _run(tmp_path, IDS, _transform_csv(IDS[:18], rejected), max_rejected_share=allowed)
    assert got == code
    if code == 0:
        assert len(pd.read_parquet(d / "predictions" / pub.PREDICTIONS_FILE)) == 18


def test_a_scored_row_with_a_null_is_moved_to_the_rejects(tmp_path: Path) -> None:
    text = _transform_csv(IDS, {})
    frame = pd.read_csv(pd.io.common.StringIO(text), dtype={"customer_id": "string"})
    frame.loc[3, "churn_probability"] = None
    result = pub.publish(
        frame,
        pd.Series(IDS, dtype="string"),
        scoring_date="2024-01-01",
        model_version="clv-test",
        run_id="r",
    )
    assert not result.ok
    assert result.summary["reconciled"] is True
    assert result.rejects.to_dict("records") == [
        {"customer_id": "C003", "reason": "null churn_probability in scored output"}
    ]
    assert len(result.predictions) == 19


def test_no_transform_output_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    with pytest.raises(pub.PublishError, match="no transform output"):
        pub.read_transform_output(tmp_path / "t")


def test_model_artifact_carries_the_inference_code_for_network_isolation(tmp_path: Path) -> None:
    """train_entry packs code/ into the model directory: the isolated scoring model loads it from there."""
    from clv_model.train_entry import package_inference_code

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "stale.py").write_text("")  # replaced, not merged
    copied = package_inference_code(tmp_path)
    assert "inference.py" in copied and "clv_model/serving.py" in copied and "clv_model/publish.py" in copied
    assert "clv_model/feature_contract.json" in copied
    assert not (tmp_path / "code" / "stale.py").exists()
    assert not any("tests" in c or "__pycache__" in c for c in copied)
    assert (tmp_path / "code" / "inference.py").read_text() == (
        Path(__file__).resolve().parents[1] / "inference.py"
    ).read_text()


def _transform_with(ids: list[str], method: str, empty_reasons: bool) -> str:
    frame = _scored(ids)
    frame["reasons_method"] = method
    if empty_reasons:
        for k in (1, 2, 3):
            frame[f"reason_{k}_feature"] = None
            frame[f"reason_{k}_contribution"] = None
    body = output_fn(
        {"model_version": "clv-test", "counts": {}, "predictions": frame, "errors": _transform_errors()}, CSV
    )
    return body.decode()


def _transform_errors() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [], "row_number": [], "reason": []})


def test_rows_without_reasons_are_published_only_when_their_method_says_none(tmp_path: Path) -> None:
    ids = IDS[:6]
    code, d = _run(tmp_path / "a", ids, _transform_with(ids, "none", empty_reasons=True))
    assert code == 0
    pred = pd.read_parquet(d / "predictions" / pub.PREDICTIONS_FILE)
    assert len(pred) == 6 and set(pred["reasons_method"]) == {"none"}
    assert pred["reason_1_feature"].isna().all()
    # the same empty reasons on a row that claims exact TreeSHAP are a reject with the reason: the run fails
    code, d = _run(tmp_path / "b", ids, _transform_with(ids, "tree_shap", empty_reasons=True))
    assert code != 0
    summary = json.loads((d / "report" / "summary.json").read_text())
    assert summary["rows_rejected"] == 6


def test_an_unknown_reasons_method_is_a_reject(tmp_path: Path) -> None:
    ids = IDS[:4]
    code, d = _run(tmp_path, ids, _transform_with(ids, "pred_contribs", empty_reasons=False))
    assert code != 0
    rejects = json.loads((d / "report" / "summary.json").read_text())
    assert rejects["rows_rejected"] == 4
