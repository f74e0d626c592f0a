"""Campaign audience export: deterministic salted assignment, per-arm targeting, reconciliation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clv_model.campaign_audience import (
    AUDIENCE_COLUMNS,
    AudienceError,
    AudienceRule,
    arm_targets,
    assign_arms,
    assignment_hash,
    build_audience,
    main,
)


def predictions(n: int, seed: int, ids: list[str] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customer_ids = ids if ids is not None else [f"c{i:05d}" for i in range(n)]
    scores = rng.uniform(0, 100, len(customer_ids))
    return pd.DataFrame(
        {
            "customer_id": customer_ids,
            "clv_score": scores,
            "predicted_revenue_12m": scores * 3.0,
            "tier": np.where(scores >= 80, "High", np.where(scores >= 40, "Medium", "Low")),
            "churn_probability": rng.uniform(0, 1, len(customer_ids)),
        }
    )


def build(
    champion: pd.DataFrame, challenger: pd.DataFrame, rule: str, share: float, salt: str = "campaign:t"
):
    return build_audience(
        champion,
        challenger,
        champion_version="champ",
        challenger_version="chall",
        rule=AudienceRule.parse(rule),
        treatment_share=share,
        salt=salt,
        selected_at="2024-01-01T00:00:00Z",
    )


def test_hash_is_the_documented_sha256_prefix_and_in_unit_interval() -> None:
    digest = hashlib.sha256(b"campaign:x:c00001").hexdigest()
    assert assignment_hash("campaign:x", "c00001") == int(digest[:13], 16) / 2**52
    values = [assignment_hash("s", f"c{i}") for i in range(5000)]
    assert min(values) >= 0 and max(values) < 1
    # uniform: each decile holds about a tenth
    counts = np.histogram(values, bins=10, range=(0, 1))[0]
    assert counts.min() > 400 and counts.max() < 600


def test_assignment_is_stable_salted_and_near_the_share() -> None:
    ids = pd.Series([f"c{i:05d}" for i in range(20000)])
    a = assign_arms(ids, "campaign:spring", 0.05)
    b = assign_arms(ids.sample(frac=1, random_state=3), "campaign:spring", 0.05)
    merged = a.merge(b, on="customer_id", suffixes=("_a", "_b"))
    assert (merged["arm_a"] == merged["arm_b"]).all()  # order does not matter; reruns agree
    share = (a["arm"] == "treatment").mean()
    assert abs(share - 0.05) < 0.006
    other = assign_arms(ids, "campaign:summer", 0.05)
    assert (other["arm"] != a["arm"]).any()  # another campaign's salt gives another assignment
    # the boundary: treatment exactly when the hash is below the share
    assert ((a["assignment_hash"] < 0.05) == (a["arm"] == "treatment")).all()


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1])
def test_share_outside_the_open_interval_is_refused(share: float) -> None:
    with pytest.raises(AudienceError, match="treatment share"):
        assign_arms(pd.Series(["a"]), "s", share)


def test_top_n_targets_split_n_by_the_share() -> None:
    assert arm_targets(AudienceRule.parse("top_n:1000"), 0.05) == {"control": 950, "treatment": 50}
    assert arm_targets(AudienceRule.parse("top_n:10"), 0.5) == {"control": 5, "treatment": 5}
    assert arm_targets(AudienceRule.parse("tier:High"), 0.5) == {"control": None, "treatment": None}


@pytest.mark.parametrize("bad", ["top_n:0", "top_n:-3", "top_n:x", "tier:Gold", "best:5", "top_n"])
def test_bad_rules_are_refused(bad: str) -> None:
    with pytest.raises(AudienceError, match="--audience"):
        AudienceRule.parse(bad)


def test_each_arm_is_targeted_by_its_own_model_top_n() -> None:
    champion = predictions(2000, 1)
    challenger = predictions(2000, 2)  # same customers, other scores
    result = build(champion, challenger, "top_n:400", 0.5)
    aud = result.audience
    assert list(aud.columns) == AUDIENCE_COLUMNS
    assigned = assign_arms(champion["customer_id"], "campaign:t", 0.5).set_index("customer_id")["arm"]
    assert (aud["arm"] == assigned.loc[aud["customer_id"]].to_numpy()).all()
    for arm, scores, version in (("control", champion, "champ"), ("treatment", challenger, "chall")):
        chosen = aud[aud["arm"] == arm]
        assert len(chosen) == 200 and (chosen["model_version"] == version).all()
        members = scores[scores["customer_id"].map(assigned) == arm]
        expected = set(members.nlargest(200, "clv_score")["customer_id"])
        assert set(chosen["customer_id"]) == expected
        # the scores written are that arm's model's
        written = chosen.set_index("customer_id")["clv_score"]
        assert np.allclose(written, scores.set_index("customer_id").loc[written.index, "clv_score"])
    s = result.summary
    assert s["customers_considered"] == 2000
    assert s["control"]["selected"] + s["treatment"]["selected"] + s["not_selected"] == 2000
    assert s["control"]["assigned"] + s["treatment"]["assigned"] == 2000
    assert s["reconciled"] is True


def test_tier_rule_uses_the_arm_models_tier() -> None:
    champion = predictions(1000, 5)
    challenger = predictions(1000, 6)
    aud = build(champion, challenger, "tier:High", 0.5).audience
    tiers = {"control": champion, "treatment": challenger}
    for arm, scores in tiers.items():
        chosen = aud[aud["arm"] == arm]
        by_id = scores.set_index("customer_id")["tier"]
        assert (by_id.loc[chosen["customer_id"]] == "High").all()
        assert (chosen["tier"] == "High").all()


def test_small_arm_reports_its_shortfall() -> None:
    champion = predictions(100, 7)
    challenger = predictions(100, 8)
    s = build(champion, challenger, "top_n:90", 0.5).summary
    assert s["treatment"]["target"] == 45
    assert s["treatment"]["selected"] == min(45, s["treatment"]["assigned"])


def test_models_scoring_different_customers_fail_the_reconciliation() -> None:
    champion = predictions(100, 1)
    challenger = predictions(99, 2, ids=[f"c{i:05d}" for i in range(99)])
    with pytest.raises(AudienceError, match="1 by the champion only"):
        build(champion, challenger, "top_n:10", 0.5)


def test_an_empty_arm_fails() -> None:
    champion = predictions(50, 1)
    challenger = predictions(50, 2)
    with pytest.raises(AudienceError, match="treatment arm selects no customer"):
        build(champion, challenger, "top_n:5", 0.05)  # round(5 * 0.05) = 0 treatment customers


def write_partition(root: Path, name: str, frame: pd.DataFrame) -> Path:
    d = root / name
    d.mkdir(parents=True)
    frame.to_parquet(d / "part-00000.parquet", index=False)
    return d


def run_main(tmp_path: Path, champion: pd.DataFrame, challenger: pd.DataFrame, *extra: str) -> int:
    return main(
        [
            "--champion-dir",
            str(write_partition(tmp_path, "champion", champion)),
            "--challenger-dir",
            str(write_partition(tmp_path, "challenger", challenger)),
            "--audience-dir",
            str(tmp_path / "out" / "audiences"),
            "--export-dir",
            str(tmp_path / "out" / "exports"),
            "--report-dir",
            str(tmp_path / "out" / "report"),
            "--campaign-id",
            "spring-1",
            "--mode",
            "ab",
            "--treatment-share",
            "0.5",
            "--salt",
            "campaign:spring-1",
            "--scoring-date",
            "2024-01-07",
            "--champion-version",
            "champ",
            "--challenger-version",
            "chall",
            "--run-id",
            "r1",
            *extra,
        ]
    )


def test_main_writes_parquet_csv_and_a_reconciled_summary(tmp_path: Path) -> None:
    assert run_main(tmp_path, predictions(500, 1), predictions(500, 2), "--audience", "top_n:100") == 0
    out = tmp_path / "out"
    aud = pd.read_parquet(out / "audiences" / "audience.parquet")
    csv = pd.read_csv(out / "exports" / "audience.csv")
    summary = json.loads((out / "report" / "audience-summary.json").read_text())
    assert list(aud.columns) == AUDIENCE_COLUMNS and len(aud) == 100
    assert list(csv.columns) == ["campaign_id", "customer_id", "arm"]
    assert (csv["campaign_id"] == "spring-1").all()
    assert set(csv["customer_id"]) == set(aud["customer_id"])
    assert (
        summary["customers_considered"] == 500
        and summary["selected"] == 100
        and summary["not_selected"] == 400
    )
    assert summary["campaign_id"] == "spring-1" and summary["scoring_date"] == "2024-01-07"


def test_main_fails_without_outputs_on_a_bad_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(tmp_path, predictions(50, 1), predictions(50, 2), "--audience", "tier:Gold") == 1
    assert "--audience" in capsys.readouterr().err
    assert not (tmp_path / "out" / "audiences").exists()
