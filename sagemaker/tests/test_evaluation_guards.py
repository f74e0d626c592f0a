"""The evaluation's guards, called directly (no model training): the leakage guard refuses a test snapshot
that is not later than every training/validation cutoff, and the fairness section the model gate re-reads
counts the eligible slices with the report's own threshold."""

from types import SimpleNamespace

import pandas as pd
import pytest
from clv_model.evaluation import _check_later, _fairness


def _model(train=(), validation=()):
    lineage = {}
    if train:
        lineage["train_cutoffs"] = list(train)
    if validation:
        lineage["validation_cutoffs"] = list(validation)
    return SimpleNamespace(lineage=lineage)


def _rows(*cutoffs):
    return pd.DataFrame({"cutoff_date": list(cutoffs)})


@pytest.mark.parametrize(
    ("test_cutoff", "refused"),
    [("2024-02-29", True), ("2024-03-01", True), ("2024-03-02", False)],
)
def test_the_test_snapshot_must_be_later_than_the_latest_cutoff(test_cutoff, refused):
    model = _model(train=["2024-01-01", "2024-02-01"], validation=["2024-03-01"])
    if refused:
        with pytest.raises(ValueError) as err:
            _check_later(model, _rows(test_cutoff))
        assert str(err.value) == (
            f"test cutoff {test_cutoff} is not later than the model's training/validation cutoffs "
            "(latest 2024-03-01)"
        )
    else:
        _check_later(model, _rows(test_cutoff))


def test_the_earliest_test_cutoff_decides_and_both_lineage_lists_count():
    # one test row at the training cutoff is enough to refuse, even when the others are later
    with pytest.raises(ValueError, match="test cutoff 2024-02-01 is not later"):
        _check_later(_model(train=["2024-02-01"]), _rows("2024-05-01", "2024-02-01"))
    # the training cutoffs alone, and the validation cutoffs alone, are each checked
    with pytest.raises(ValueError, match=r"\(latest 2024-02-01\)"):
        _check_later(_model(train=["2024-02-01"]), _rows("2024-02-01"))
    with pytest.raises(ValueError, match=r"\(latest 2024-03-01\)"):
        _check_later(_model(validation=["2024-03-01"]), _rows("2024-02-15"))
    # missing test cutoffs are ignored, not compared
    _check_later(_model(train=["2024-02-01"]), _rows(None, "2024-03-01"))


def test_nothing_to_compare_passes():
    _check_later(_model(), _rows("2020-01-01"))
    _check_later(_model(train=["2024-02-01"]), _rows(None))
    _check_later(_model(train=["2024-02-01"]), pd.DataFrame({"snapshot_id": ["s"]}))


def test_fairness_counts_eligible_slices_with_the_reports_threshold():
    slices = {
        "country": {
            "slices": {"UK": {"customers": 30}, "DE": {"customers": 29}, "FR": {"customers": 31}},
            "disparate_impact": {"lowest_slice": "UK", "highest_slice": "FR", "ratio": 0.9},
        },
        "acquisition_channel": {"slices": {"organic": {"customers": 100}}, "disparate_impact": None},
    }
    assert _fairness(slices, 30) == {
        "metric": "mean predicted revenue, lowest / highest slice",
        "min_slice_customers": 30,
        "by": {
            "country": {"lowest_slice": "UK", "highest_slice": "FR", "ratio": 0.9, "eligible_slices": 2},
            "acquisition_channel": {"eligible_slices": 1},
        },
    }
    assert _fairness(slices, 31)["by"]["country"]["eligible_slices"] == 1
    assert _fairness(slices, 29)["by"]["country"]["eligible_slices"] == 3
