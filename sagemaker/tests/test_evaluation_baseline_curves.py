"""The evaluation report's baselines carry a Lorenz curve and a decile table computed exactly as the model's
(the demo report draws the model's gain curve against them), and the model card still renders."""

import numpy as np
import pytest
from clv_model import frames
from clv_model import metrics as M
from clv_model.evaluation import evaluate, model_card
from clv_model.hyperparameters import Hyperparameters
from clv_model.model import revenue_target, train


@pytest.fixture(scope="module")
def fitted(spec, snapshots):
    tr, _ = frames.check_rows(snapshots["train"], spec, require_labels=True)
    va, _ = frames.check_rows(snapshots["validation"], spec, require_labels=True)
    te, _ = frames.check_rows(snapshots["test"], spec, require_labels=True)
    hp = Hyperparameters(num_round=20, churn_num_round=10, early_stopping_rounds=5, horizon_days=91)
    model = train(tr, va, spec, hp, log=lambda *_: None).model
    return model, te, evaluate(model, te)


def test_each_baseline_has_lorenz_and_decile_table_like_the_model(fitted):
    model, te, report = fitted
    y = revenue_target(te)
    preds = model.baseline_predictions(te)
    assert set(report["baselines"]) == set(preds) and preds
    for name, b in preds.items():
        base = report["baselines"][name]
        assert base["lorenz"] == M.lorenz_points(y, b)
        assert len(base["lorenz"]) == len(report["revenue"]["lorenz"]) == 21
        assert [p["customer_share"] for p in base["lorenz"]] == [
            p["customer_share"] for p in report["revenue"]["lorenz"]
        ]
        assert base["lorenz"][0]["value_share"] == 0.0
        assert base["lorenz"][-1]["value_share"] == pytest.approx(1.0)
        assert base["decile_table"] == M.decile_table(y, b)
        assert [d["decile"] for d in base["decile_table"]] == list(range(1, 11))
        assert sum(d["customers"] for d in base["decile_table"]) == len(te)
        # The metrics already in the report are unchanged by the added curves.
        assert base["decile_mape"] == pytest.approx(M.decile_mape(base["decile_table"]))
        assert base["rmse"] == pytest.approx(M.rmse(y, b))


def test_baseline_curves_differ_from_the_model_and_card_still_renders(fitted):
    _, _, report = fitted
    model_curve = np.array([p["value_share"] for p in report["revenue"]["lorenz"]])
    curves = [np.array([p["value_share"] for p in b["lorenz"]]) for b in report["baselines"].values()]
    assert any(not np.allclose(c, model_curve) for c in curves)
    card = model_card(report)
    for name in report["baselines"]:
        assert f"| {name} |" in card
