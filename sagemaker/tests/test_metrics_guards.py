"""The metric guards and edge cases test_metrics.py leaves open: every input check of _arrays, the normalized
Gini's zero-perfect guard, the ranking figures the model gate reads (top-decile capture, Lorenz points, decile
table) on hand-computed inputs, churn metrics at the threshold, and the slice table's eligibility boundary."""

import math

import numpy as np
import pandas as pd
import pytest
from clv_model import metrics as M


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([1.0, 2.0], [1.0], "y_true and y_pred must be 1-D of equal length, got (2,) and (1,)"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "y_true and y_pred must be 1-D of equal length, got (1, 2) and (1, 2)"),
        ([], [], "metrics need at least one row"),
        ([1.0, np.inf], [1.0, 2.0], "metrics inputs contain NaN or infinite values"),
        ([1.0, 2.0], [np.nan, 2.0], "metrics inputs contain NaN or infinite values"),
    ],
)
def test_inputs_are_checked(y_true, y_pred, message):
    with pytest.raises(ValueError) as err:
        M.rmse(y_true, y_pred)
    assert str(err.value) == message


def test_a_single_row_is_enough():
    assert M.rmse([3.0], [1.0]) == 2.0
    assert M.mae([3.0], [1.0]) == 2.0


def test_rmse_and_mae_hand_computed():
    assert M.rmse([1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(math.sqrt(5 / 3))
    assert M.mae([1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(1.0)


def test_normalized_gini_refuses_equal_actuals_and_a_zero_total():
    with pytest.raises(ValueError) as err:
        M.gini_normalized([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    assert str(err.value) == (
        "normalized Gini undefined: the perfect ranking has Gini 0 (all actual values equal)"
    )
    with pytest.raises(ValueError, match=r"^Gini/Lorenz undefined: the actual values sum to zero$"):
        M.gini_normalized([0.0, 0.0], [1.0, 2.0])


def test_gini_of_a_single_valuable_customer():
    # value all in the first of 4 customers: curve (0,0) (.25,1) (.5,1) (.75,1) (1,1): area .875 -> Gini .75
    y = np.array([8.0, 0.0, 0.0, 0.0])
    assert M.gini(y, np.array([4.0, 3.0, 2.0, 1.0])) == pytest.approx(0.75)
    # reversed: (0,0) (.25,0) (.5,0) (.75,0) (1,1): area .125 -> Gini -.75, normalized -1
    assert M.gini(y, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(-0.75)
    assert M.gini_normalized(y, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(-1.0)


def test_lorenz_points_and_top_share():
    y = np.array([8.0, 0.0, 0.0, 0.0])
    s = np.array([4.0, 3.0, 2.0, 1.0])
    assert M.lorenz_points(y, s, n_points=5) == [
        {"customer_share": 0.0, "value_share": 0.0},
        {"customer_share": 0.25, "value_share": 1.0},
        {"customer_share": 0.5, "value_share": 1.0},
        {"customer_share": 0.75, "value_share": 1.0},
        {"customer_share": 1.0, "value_share": 1.0},
    ]
    assert len(M.lorenz_points(y, s)) == 21
    assert M.top_share_capture(y, s, 0.125) == pytest.approx(0.5)
    assert M.top_share_capture(y, s) == pytest.approx(0.4)
    assert M.top_share_capture(y, -s, 0.5) == pytest.approx(0.0)


def test_spearman_of_a_constant_actual_and_a_reversed_ranking():
    assert M.spearman([5.0, 5.0, 5.0], [1.0, 2.0, 3.0]) == 0.0
    assert M.spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)


def test_decile_table_cuts_highest_prediction_first_and_skips_empty_bins():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([10.0, 30.0, 20.0, 40.0])
    table = M.decile_table(y, p, n_bins=2)
    assert table == [
        {
            "decile": 1,
            "customers": 2,
            "mean_predicted": 35.0,
            "mean_actual": 3.0,
            "sum_predicted": 70.0,
            "sum_actual": 6.0,
        },
        {
            "decile": 2,
            "customers": 2,
            "mean_predicted": 15.0,
            "mean_actual": 2.0,
            "sum_predicted": 30.0,
            "sum_actual": 4.0,
        },
    ]
    three = M.decile_table(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    assert [r["decile"] for r in three] == [1, 4, 7]
    assert [r["customers"] for r in three] == [1, 1, 1]


def test_decile_mape_skips_zero_actuals_and_is_nan_when_all_are():
    table = [
        {"mean_predicted": 12.0, "mean_actual": 10.0},
        {"mean_predicted": 5.0, "mean_actual": 0.0},
        {"mean_predicted": 4.0, "mean_actual": -5.0},
    ]
    assert M.decile_mape(table) == pytest.approx((0.2 + 1.8) / 2)
    assert math.isnan(M.decile_mape([{"mean_predicted": 1.0, "mean_actual": 0.0}]))


def test_regression_metrics_names_every_figure():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    r = M.regression_metrics(y, y)
    assert set(r) == {"rmse", "mae", "gini_normalized", "spearman", "top_decile_capture", "decile_mape"}
    assert r["rmse"] == 0.0
    assert r["gini_normalized"] == pytest.approx(1.0)
    assert r["top_decile_capture"] == pytest.approx(10 / 55)
    assert r["decile_mape"] == 0.0


def test_classification_metrics_at_the_threshold_and_with_one_class():
    c = M.classification_metrics([0, 1, 1], [0.2, 0.5, 0.49], threshold=0.5)
    assert c["threshold"] == 0.5
    assert c["precision"] == 1.0  # 0.5 is predicted positive (>=), 0.49 is not
    assert c["recall"] == 0.5
    assert c["positive_rate"] == pytest.approx(2 / 3)
    assert c["predicted_positive_rate"] == pytest.approx(1 / 3)
    one = M.classification_metrics([1, 1], [0.9, 0.1], threshold=0.5)
    assert math.isnan(one["auc"])
    with pytest.raises(
        ValueError, match=r"^churn labels and probabilities differ in length: \(2,\) vs \(1,\)$"
    ):
        M.classification_metrics([0, 1], [0.5], threshold=0.5)
    with pytest.raises(ValueError, match="^churn labels must be 0/1$"):
        M.classification_metrics([0, 2], [0.5, 0.5], threshold=0.5)


def test_best_f1_threshold():
    assert M.best_f1_threshold([1, 1], [0.2, 0.9]) == 0.5
    assert M.best_f1_threshold([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.8]) == pytest.approx(0.7)


def test_slice_metrics_eligibility_boundary_and_ratio():
    frame = pd.DataFrame(
        {
            "country": ["A"] * 3 + ["B"] * 3 + [None] * 2,
            "y": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 1.0, 1.0],
            "p": [1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 9.0, 9.0],
            "churn": [0, 1, 0, 1, 0, 1, 0, 0],
            "prob": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.5, 0.5],
        }
    )
    s = M.slice_metrics(
        frame, "country", y_true="y", y_pred="p", churn_true="churn", churn_prob="prob", min_customers=3
    )
    assert s["min_customers"] == 3
    assert set(s["slices"]) == {"A", "B", "unknown"}
    a = s["slices"]["A"]
    assert a["customers"] == 3
    assert a["mean_actual"] == pytest.approx(2.0)
    assert a["rmse"] == 0.0 and a["mae"] == 0.0
    assert a["gini_normalized"] == pytest.approx(1.0)
    assert a["churn"]["auc"] == 1.0
    # B's predictions are constant: Gini 0, and its churn section is there
    assert s["slices"]["B"]["gini_normalized"] == pytest.approx(0.0)
    assert s["slices"]["B"]["churn"]["threshold"] == 0.5
    # 'unknown' (2 customers) is below min_customers: no metrics, not in the ratio
    assert set(s["slices"]["unknown"]) == {"customers", "mean_predicted", "mean_actual"}
    assert s["disparate_impact"] == {"lowest_slice": "A", "highest_slice": "B", "ratio": pytest.approx(0.5)}
    # one more required customer: A and B drop out, no ratio
    assert (
        M.slice_metrics(frame, "country", y_true="y", y_pred="p", min_customers=4)["disparate_impact"] is None
    )


def test_slice_metrics_undefined_gini_and_non_positive_means():
    frame = pd.DataFrame({"c": ["A", "A", "B", "B"], "y": [2.0, 2.0, 1.0, 3.0], "p": [0.0, 0.0, 0.0, 0.0]})
    s = M.slice_metrics(frame, "c", y_true="y", y_pred="p", min_customers=2)
    assert s["slices"]["A"]["gini_normalized"] is None
    assert "churn" not in s["slices"]["A"]
    assert s["disparate_impact"] is None  # highest mean 0: ratio undefined
    one_class = pd.DataFrame(
        {"c": ["A", "A"], "y": [1.0, 2.0], "p": [1.0, 2.0], "ch": [1, 1], "pr": [0.4, 0.6]}
    )
    out = M.slice_metrics(
        one_class, "c", y_true="y", y_pred="p", churn_true="ch", churn_prob="pr", min_customers=2
    )
    assert out["slices"]["A"]["churn"]["auc"] is None
    with_gap = one_class.assign(ch=[1.0, None])
    gap = M.slice_metrics(
        with_gap, "c", y_true="y", y_pred="p", churn_true="ch", churn_prob="pr", min_customers=2
    )
    assert "churn" not in gap["slices"]["A"]


def test_numeric_text_is_read_as_numbers():
    # values read from CSV text are converted, not compared as strings
    assert M.rmse(["1", "2"], ["1", "4"]) == pytest.approx(math.sqrt(2))
    assert M.gini(["0", "10"], ["1", "2"]) == pytest.approx(M.gini([0.0, 10.0], [1.0, 2.0]))


def test_a_tie_block_below_the_top_is_one_block():
    # scores 2 > 1 = 1 > 0; the tied pair holds all the value: its block spans customer shares .25 .. .75,
    # so the curve is (0,0) (.25,0) (.75,1) (1,1): area .5 -> Gini 0, whichever of the pair comes first
    y = np.array([0.0, 10.0, 0.0, 0.0])
    assert M.gini(y, np.array([2.0, 1.0, 1.0, 0.0])) == pytest.approx(0.0)
    assert M.gini(y[[0, 2, 1, 3]], np.array([2.0, 1.0, 1.0, 0.0])) == pytest.approx(0.0)


def test_lorenz_points_are_rounded_to_six_decimals():
    y = np.array([1.0, 1.0, 1.0])
    pts = M.lorenz_points(y, np.array([3.0, 2.0, 1.0]), n_points=4)
    assert pts[1] == {"customer_share": 0.333333, "value_share": 0.333333}


def test_spearman_of_a_single_row_is_zero():
    assert M.spearman([5.0], [3.0]) == 0.0


def test_decile_table_keeps_the_row_order_within_tied_predictions():
    y = np.arange(1000, dtype=float)
    table = M.decile_table(y, np.zeros(1000))
    assert [r["mean_actual"] for r in table] == [float(100 * d + 49.5) for d in range(10)]


def test_precision_and_recall_are_zero_when_undefined():
    nothing_predicted = M.classification_metrics([0, 1], [0.1, 0.2], threshold=0.5)
    assert nothing_predicted["precision"] == 0.0
    no_positive = M.classification_metrics([0, 0], [0.9, 0.1], threshold=0.5)
    assert no_positive["recall"] == 0.0


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([1, 0, 0, 0, 0, 1, 0], 0.6),
        ([1, 0, 0, 1, 1, 1, 1], 0.4),
        ([0, 0, 1, 0, 0, 0, 0, 1], 0.8),
    ],
)
def test_best_f1_threshold_hand_checked(labels, expected):
    scores = [round(0.1 * (i + 1), 1) for i in range(len(labels))]
    assert M.best_f1_threshold(labels, scores) == pytest.approx(expected)


def test_slice_defaults_order_and_ratio_direction():
    # 30 customers count by default; slices come back sorted; the lowest mean is found by value, not name
    frame = pd.DataFrame(
        {
            "c": ["B"] * 30 + ["A"] * 30,
            "y": [1.0, 2.0] * 30,
            "p": [0.5, 0.5] * 15 + [0.25, 0.75] * 15,
        }
    )
    s = M.slice_metrics(frame, "c", y_true="y", y_pred="p")
    assert list(s["slices"]) == ["A", "B"]
    assert s["slices"]["A"]["spearman"] == pytest.approx(1.0)
    assert s["disparate_impact"]["ratio"] == pytest.approx(1.0)
    lopsided = frame.assign(p=[0.2] * 30 + [0.8] * 30)
    di = M.slice_metrics(lopsided, "c", y_true="y", y_pred="p")["disparate_impact"]
    assert di == {"lowest_slice": "B", "highest_slice": "A", "ratio": pytest.approx(0.25)}
