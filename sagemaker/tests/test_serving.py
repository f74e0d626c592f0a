"""Batch Transform handlers on CSV and Parquet, with bad rows reported and never scored."""

import io
import json

import pandas as pd
import pytest
from clv_model import serving, train_entry
from clv_model.frames import InputError
from conftest import synthetic_snapshot


@pytest.fixture(scope="module")
def model(tmp_path_factory, spec):
    d = tmp_path_factory.mktemp("m")
    for ch, cut, seed in (("train", "2024-01-01", 1), ("validation", "2024-02-01", 2)):
        (d / ch).mkdir()
        synthetic_snapshot(spec, cut, 200, seed).to_csv(d / ch / "x.csv", index=False)
    env = {
        "SM_MODEL_DIR": str(d / "model"),
        "SM_CHANNEL_TRAIN": str(d / "train"),
        "SM_CHANNEL_VALIDATION": str(d / "validation"),
        "SM_OUTPUT_DATA_DIR": str(d / "out"),
        "SM_HPS": json.dumps({"num_round": "10", "churn_num_round": "5", "horizon_days": "91"}),
    }
    train_entry.run([], env)
    return serving.model_fn(str(d / "model"))


def _scoring_rows(spec, n=12):
    # recency_days as text (Parquet needs one type per column): numeric strings are accepted, "twelve" is not
    rows = synthetic_snapshot(spec, "2024-03-01", n, 11, with_labels=False).astype({"recency_days": str})
    rows.loc[0, "recency_days"] = "twelve"  # non-numeric
    rows.loc[1, "frequency_days"] = None  # missing required feature
    rows.loc[2, "snapshot_id"] = "20240301-nolabels-000000000000"  # unknown schema hash
    rows.loc[3, "customer_id"] = None
    return rows


EXPECTED_REASONS = {
    0: "non-numeric recency_days",
    1: "missing frequency_days",
    2: "unknown schema hash in snapshot_id",
    3: "missing customer_id",
}


def _check(pred, n=12):
    assert pred["counts"] == {"in": n, "scored": n - 4, "rejected": 4}
    errors = pred["errors"].set_index("row_number")["reason"].to_dict()
    assert errors == EXPECTED_REASONS
    scored = pred["predictions"]
    bad_ids = {f"C11-{i:05d}" for i in range(4)}
    assert not bad_ids & set(scored["customer_id"])
    assert scored["predicted_revenue_12m"].ge(0).all()
    assert scored["churn_probability"].between(0, 1).all()
    assert scored["clv_score"].between(0, 100).all()
    assert set(scored["tier"]) <= {"Low", "Medium", "High"}
    assert (scored["scoring_date"] == "2024-03-01").all()
    for k in (1, 2, 3):
        assert scored[f"reason_{k}_feature"].notna().all()
    # reasons are ordered by |contribution|
    assert (scored["reason_1_contribution"].abs() >= scored["reason_2_contribution"].abs()).all()
    # default policy: exact TreeSHAP for High and Medium, Saabas for Low
    exact = scored["tier"].isin(["High", "Medium"])
    assert (scored.loc[exact, "reasons_method"] == "tree_shap").all()
    assert (scored.loc[~exact, "reasons_method"] == "saabas").all()


def test_csv_request_with_bad_rows(model, spec):
    body = _scoring_rows(spec).to_csv(index=False).encode()
    pred = serving.predict_fn(serving.input_fn(body, "text/csv"), model)
    _check(pred)
    out = json.loads(serving.output_fn(pred, "application/json"))
    assert out["counts"] == {"in": 12, "scored": 8, "rejected": 4}
    assert len(out["predictions"]) == 8 and len(out["errors"]) == 4
    first = out["predictions"][0]
    assert first["model_version"] == model.model_version
    assert len(first["top_reasons"]) == 3 and {"feature", "contribution"} == set(first["top_reasons"][0])


def test_parquet_request_and_csv_output(model, spec):
    buf = io.BytesIO()
    _scoring_rows(spec).to_parquet(buf)
    pred = serving.predict_fn(serving.input_fn(buf.getvalue(), "application/x-parquet"), model)
    _check(pred)
    csv = pd.read_csv(io.BytesIO(serving.output_fn(pred, "text/csv")))
    assert csv["status"].value_counts().to_dict() == {"scored": 8, "rejected": 4}
    # the columns of pandas' CSV of the combined frame, in the same order, with the same cells
    expected = pd.concat(
        [
            pred["predictions"].astype(object).assign(status="scored", reason=None),
            pred["errors"].drop(columns=["row_number"]).assign(status="rejected"),
        ],
        ignore_index=True,
    )
    assert list(csv.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(csv, pd.read_csv(io.StringIO(expected.to_csv(index=False))))
    lines = serving.output_fn(pred, "application/jsonlines").decode().strip().split("\n")
    assert len(lines) == 12


def test_csv_and_parquet_score_identically(model, spec):
    rows = synthetic_snapshot(spec, "2024-03-01", 30, 12, with_labels=False)
    buf = io.BytesIO()
    rows.to_parquet(buf)
    a = serving.predict_fn(serving.input_fn(rows.to_csv(index=False), "text/csv"), model)["predictions"]
    b = serving.predict_fn(serving.input_fn(buf.getvalue(), "application/x-parquet"), model)["predictions"]
    pd.testing.assert_frame_equal(a, b)


def test_unknown_schema_hash_column_and_missing_column(model, spec):
    rows = synthetic_snapshot(spec, "2024-03-01", 5, 13, with_labels=False)
    rows["schema_hash"] = spec.schema_hash
    rows.loc[4, "schema_hash"] = "f" * 64
    pred = serving.predict_fn(rows, model)
    assert pred["counts"] == {"in": 5, "scored": 4, "rejected": 1}
    assert pred["errors"]["reason"].str.contains("unknown schema hash").all()
    pred = serving.predict_fn(rows.drop(columns=["tenure_days"]), model)
    assert pred["counts"] == {"in": 5, "scored": 0, "rejected": 5}
    assert pred["errors"]["reason"].str.contains("column tenure_days missing").all()


def test_bad_content_types(model):
    with pytest.raises(InputError, match="unsupported content type"):
        serving.input_fn(b"{}", "application/json")
    with pytest.raises(InputError, match="Parquet body cannot be parsed"):
        serving.input_fn(b"not parquet", "application/x-parquet")
    pred = serving.predict_fn(pd.DataFrame({"customer_id": []}), model)
    with pytest.raises(InputError, match="unsupported accept"):
        serving.output_fn(pred, "application/xml")


def test_transform_path_writes_outputs_per_file(model, spec, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    _scoring_rows(spec).to_csv(src / "a.csv", index=False)
    synthetic_snapshot(spec, "2024-03-01", 7, 14, with_labels=False).to_parquet(src / "b.parquet")
    model_dir = tmp_path / "model"
    model.save(model_dir)
    total = serving.transform_path(model_dir, src, tmp_path / "out")
    assert total == {"in": 19, "scored": 15, "rejected": 4, "files": 2}
    assert (tmp_path / "out" / "a.csv.out").is_file()
    assert len(pd.read_csv(tmp_path / "out" / "a.csv.errors.csv")) == 4
