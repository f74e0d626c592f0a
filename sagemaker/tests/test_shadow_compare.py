"""The shadow comparison: statistics per model, degenerate counts, Spearman and the top-decile overlap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clv_model import shadow_compare as sc
from clv_model.publish import PublishError
from scipy import stats


def _output(values: list[float], ids: list[str] | None = None, rejected: int = 0) -> pd.DataFrame:
    ids = ids or [f"C{i:04d}" for i in range(len(values))]
    scored = pd.DataFrame({"customer_id": ids, "predicted_revenue_12m": values, "status": "scored"})
    rej = pd.DataFrame(
        {
            "customer_id": [f"R{i}" for i in range(rejected)],
            "predicted_revenue_12m": np.nan,
            "status": "rejected",
        }
    )
    return pd.concat([scored, rej], ignore_index=True)


def test_sound_challenger_statistics_and_rank_metrics() -> None:
    rng = np.random.default_rng(7)
    champ = rng.gamma(2.0, 50.0, 200)
    chall = champ * 1.05 + rng.normal(0, 5, 200).clip(-1, None)
    chall = np.abs(chall)
    r = sc.compare(_output(list(champ), rejected=3), _output(list(chall)))
    assert r["rows_joined"] == 200
    assert r["champion"]["n"] == 200  # rejected rows are not predictions
    assert r["challenger"]["mean"] == pytest.approx(float(chall.mean()))
    assert r["challenger"]["n_distinct"] == 200
    assert r["rank_correlation"] == pytest.approx(float(stats.spearmanr(champ, chall).statistic), abs=1e-12)
    assert 0.5 < r["top_decile_overlap"] <= 1.0


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ([0.0, 0.0, 0.0, 0.0], "n_zero", 4),
        ([1.0, float("nan"), 2.0, 3.0], "n_nan", 1),
        ([1.0, -2.0, 2.0, 3.0], "n_negative", 1),
        ([5.0, 5.0, 5.0, 5.0], "n_distinct", 1),
    ],
)
def test_degenerate_counts(values: list[float], field: str, expected: int) -> None:
    r = sc.compare(_output([1.0, 2.0, 3.0, 4.0]), _output(values))
    assert r["challenger"][field] == expected


def test_constant_challenger_has_no_rank_correlation() -> None:
    r = sc.compare(_output([1.0, 2.0, 3.0]), _output([7.0, 7.0, 7.0]))
    assert r["rank_correlation"] is None


def test_top_decile_overlap_exact() -> None:
    a = np.arange(20, dtype=float)  # top 2: 19, 18
    b = a.copy()
    b[19] = -1.0  # challenger drops one of the champion's top 2
    assert sc.top_decile_overlap(a, b) == pytest.approx(0.5)
    assert sc.top_decile_overlap(a, a) == 1.0
    assert sc.top_decile_overlap(np.array([]), np.array([])) is None


def test_only_common_customers_are_ranked() -> None:
    champ = _output([1.0, 2.0, 3.0], ids=["A", "B", "C"])
    chall = _output([1.0, 2.0, 3.0, 9.0], ids=["A", "B", "C", "D"])
    r = sc.compare(champ, chall)
    assert r["rows_joined"] == 3
    assert r["challenger"]["n"] == 4


def test_missing_column_is_an_error() -> None:
    with pytest.raises(PublishError, match="no column"):
        sc.compare(_output([1.0]), _output([1.0]), column="clv_score")


def test_main_writes_comparison_json(tmp_path: Path) -> None:
    for name, values in (("champion", [1.0, 2.0, 3.0]), ("challenger", [0.0, 0.0, 0.0])):
        d = tmp_path / name
        d.mkdir()
        _output(values).to_csv(d / "scoring-set.csv.out", index=False)
    code = sc.main(
        [
            "--champion",
            str(tmp_path / "champion"),
            "--challenger",
            str(tmp_path / "challenger"),
            "--report-dir",
            str(tmp_path / "report"),
        ]
    )
    assert code == 0  # degenerate is the gate's decision, not a job failure
    report = json.loads((tmp_path / "report" / "comparison.json").read_text())
    assert report["challenger"]["n_zero"] == 3
    assert report["rank_correlation"] is None


def test_main_fails_without_output(tmp_path: Path) -> None:
    (tmp_path / "champion").mkdir()
    (tmp_path / "challenger").mkdir()
    args = ["--champion", str(tmp_path / "champion"), "--challenger", str(tmp_path / "challenger")]
    assert sc.main([*args, "--report-dir", str(tmp_path / "r")]) == 1
