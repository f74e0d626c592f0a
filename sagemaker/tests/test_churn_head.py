"""The churn head's own min_child_weight: the revenue head's value (what tuning for revenue Gini picks) must
not forbid the churn head's splits on a small training set (the demo's tuned model once had a constant churn
probability, AUC 0.5, and the gate rightly rejected it)."""

import pytest
from clv_model import frames
from clv_model.hyperparameters import HyperparameterError, Hyperparameters, parse_hyperparameters
from clv_model.model import train
from conftest import synthetic_snapshot


def _churn_auc(spec, **hp) -> float:
    tr, _ = frames.check_rows(synthetic_snapshot(spec, "2024-01-01", 212, 1), spec, require_labels=True)
    va, _ = frames.check_rows(synthetic_snapshot(spec, "2024-03-01", 300, 2), spec, require_labels=True)
    params = Hyperparameters(
        num_round=30, churn_num_round=60, early_stopping_rounds=10, horizon_days=91, **hp
    )
    return train(tr, va, spec, params, log=lambda *_: None).metrics["churn"]["validation"]["auc"]


def test_a_large_revenue_min_child_weight_leaves_the_churn_head_learning(spec):
    assert _churn_auc(spec, min_child_weight=31.0) > 0.6
    # the churn head follows its own parameter: forbidding its splits gives a constant probability
    assert _churn_auc(spec, min_child_weight=31.0, churn_min_child_weight=1e4) == pytest.approx(0.5)


def test_churn_min_child_weight_is_a_validated_hyperparameter():
    assert Hyperparameters().churn_min_child_weight == 1.0
    assert parse_hyperparameters({"churn_min_child_weight": "3"}).churn_min_child_weight == 3.0
    with pytest.raises(HyperparameterError, match="churn_min_child_weight"):
        parse_hyperparameters({"churn_min_child_weight": "-1"})
