"""Metrics against hand-computed values."""

import numpy as np
import pytest
from clv_model import metrics as M


def test_gini_perfect_and_reversed_ranking():
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert M.gini_normalized(y, y) == pytest.approx(1.0)
    assert M.gini_normalized(y, -y) == pytest.approx(-1.0)
    assert M.gini_normalized(y, np.full(5, 7.0)) == pytest.approx(0.0)


def test_gini_hand_computed():
    # actual [4, 0, 2, 2] (total 8), scored in order 4, 0, 2, 2 (scores 4 > 3 > 2 > 1):
    # cumulative value shares 0.5, 0.5, 0.75, 1.0 at customer shares 0.25 .. 1.0
    # area = 0.25 * ((0 + .5) + (.5 + .5) + (.5 + .75) + (.75 + 1)) / 2 = 0.5625 -> Gini 0.125
    y = np.array([4.0, 0.0, 2.0, 2.0])
    s = np.array([4.0, 3.0, 2.0, 1.0])
    assert M.gini(y, s) == pytest.approx(0.125)
    # perfect ranking: shares .5, .75, 1, 1 -> area = .25 * (.5 + 1.25 + 1.75 + 2) / 2 = 0.6875 -> Gini 0.375
    assert M.gini(y, y) == pytest.approx(0.375)
    assert M.gini_normalized(y, s) == pytest.approx(0.125 / 0.375)


def test_ties_are_one_block_whatever_the_row_order():
    y = np.array([10.0, 0.0, 0.0, 0.0])
    s = np.array([1.0, 1.0, 0.0, 0.0])
    a = M.gini(y, s)
    b = M.gini(y[[1, 0, 2, 3]], s[[1, 0, 2, 3]])
    assert a == pytest.approx(b)
    # the tied block of 2 holds all the value: curve (0,0) -> (.5, 1) -> (1, 1): area .75 -> Gini .5
    assert a == pytest.approx(0.5)


def test_top_decile_capture_and_lorenz():
    y = np.arange(1, 11, dtype=float)  # total 55
    assert M.top_share_capture(y, y, 0.1) == pytest.approx(10 / 55)
    pts = M.lorenz_points(y, y, n_points=3)
    assert [p["customer_share"] for p in pts] == [0.0, 0.5, 1.0]
    assert pts[1]["value_share"] == pytest.approx((10 + 9 + 8 + 7 + 6) / 55)


def test_decile_table_and_mape():
    y = np.arange(20, dtype=float)  # 0..19
    p = y + 1.0
    table = M.decile_table(y, p)
    assert len(table) == 10
    assert [r["customers"] for r in table] == [2] * 10
    top = table[0]
    assert top["decile"] == 1
    assert top["mean_actual"] == pytest.approx(18.5)
    assert top["mean_predicted"] == pytest.approx(19.5)
    last = table[-1]
    assert last["mean_actual"] == pytest.approx(0.5)
    # MAPE: mean over deciles of 1 / mean_actual, mean_actual = 0.5, 2.5, ..., 18.5
    expected = np.mean([1 / (0.5 + 2 * k) for k in range(10)])
    assert M.decile_mape(table) == pytest.approx(expected)


def test_rmse_mae_spearman():
    assert M.rmse([0, 0], [3, 4]) == pytest.approx(np.sqrt(12.5))
    assert M.mae([0, 0], [3, 4]) == pytest.approx(3.5)
    assert M.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert M.spearman([1, 2, 3], [5, 5, 5]) == 0.0


def test_classification_metrics():
    c = M.classification_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], threshold=0.5)
    assert c["auc"] == pytest.approx(0.75)
    assert c["precision"] == pytest.approx(0.5)
    assert c["recall"] == pytest.approx(0.5)


def test_slices_and_disparate_impact():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "country": ["A"] * 4 + ["B"] * 4 + ["C"],
            "y": [1, 2, 3, 4, 2, 4, 6, 8, 1],
            "p": [1, 1, 1, 1, 4, 4, 4, 4, 100],
        }
    )
    s = M.slice_metrics(frame, "country", y_true="y", y_pred="p", min_customers=2)
    assert s["slices"]["B"]["mean_predicted"] == pytest.approx(4.0)
    # C is too small to count; A/B = 1/4
    assert s["disparate_impact"] == {"lowest_slice": "A", "highest_slice": "B", "ratio": pytest.approx(0.25)}


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="equal length"):
        M.rmse([1, 2], [1])
    with pytest.raises(ValueError, match="NaN"):
        M.mae([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="sum to zero"):
        M.gini([0, 0], [1, 2])
