"""Simulated campaign outcomes (datagen/campaign.py): planted lift shows up, no lift gives equal
expectations, reproducible for a seed, the response rises with the true value, and the CLI writes the
campaign_outcomes layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from datagen.campaign import (
    CampaignError,
    CampaignOptions,
    CampaignProcess,
    expected_outcomes,
    simulate_outcomes,
)
from datagen.cli import main
from datagen.tests.conftest import generate

N = 40_000


def _truth(n: int = N, seed: int = 5) -> pd.DataFrame:
    """A truth table shaped like truth/expected_revenue.csv.gz: heterogeneous purchases and values."""
    rng = np.random.default_rng(seed)
    purchases = rng.gamma(0.8, 1.5, n) * (rng.random(n) < 0.8)
    per_order = rng.lognormal(3.5, 0.5, n)
    return pd.DataFrame(
        {
            "customer_id": [str(10_000_000 + i) for i in range(n)],
            "expected_revenue": purchases * per_order,
            "probability_alive": np.where(purchases > 0, 0.7, 0.0),
            "expected_purchases": purchases,
            "realized_revenue": 0.0,
            "realized_purchases": 0,
        }
    )


def _randomized_audience(truth: pd.DataFrame, share: float = 0.5, seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(len(truth)) < share, "treatment", "control")
    return pd.DataFrame(
        {"customer_id": truth["customer_id"], "arm": arm, "selected_at": "2024-01-08T06:00:00Z"}
    )


def _opts(**kw) -> CampaignOptions:
    base = {
        "campaign_id": "c1",
        "audience": "-",
        "truth_dir": "-",
        "out": "-",
        "observed_at": "2024-02-05T00:00:00Z",
    }
    return CampaignOptions(**{**base, **kw})


def _z(a: pd.Series, b: pd.Series) -> float:
    return (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))


def test_no_lift_gives_equal_expectations_per_customer_and_per_arm():
    truth = _truth()
    audience = _randomized_audience(truth)
    exp_a = expected_outcomes(audience, truth, _opts(lift=0.0))
    # the same customer has the same expected outcome whichever arm it is in
    flipped = audience.assign(arm=np.where(audience["arm"] == "control", "treatment", "control"))
    exp_b = expected_outcomes(flipped, truth, _opts(lift=0.0))
    for col in ("p_convert", "mean_spend", "p_unsubscribe", "expected_revenue"):
        np.testing.assert_array_equal(exp_a[col].to_numpy(), exp_b[col].to_numpy())
    # randomized arms: the realized outcomes agree within sampling noise
    out = simulate_outcomes(audience, truth, _opts(lift=0.0, seed=3))
    c, t = out[out["arm"] == "control"], out[out["arm"] == "treatment"]
    assert abs(_z(t["converted"], c["converted"])) < 3.5
    assert abs(_z(t["revenue"], c["revenue"])) < 3.5


def test_planted_lift_shows_up_in_the_lift_arm_only():
    truth = _truth()
    audience = _randomized_audience(truth)
    base = expected_outcomes(audience, truth, _opts(lift=0.0))
    lifted = expected_outcomes(audience, truth, _opts(lift=0.2, lift_arm="treatment"))
    t = (base["arm"] == "treatment").to_numpy()
    np.testing.assert_allclose(lifted["p_convert"][t], np.minimum(1, base["p_convert"][t] * 1.2))
    np.testing.assert_array_equal(lifted["p_convert"][~t], base["p_convert"][~t])
    out = simulate_outcomes(audience, truth, _opts(lift=0.2, seed=3))
    oc, ot = out[out["arm"] == "control"], out[out["arm"] == "treatment"]
    ratio = ot["converted"].mean() / oc["converted"].mean()
    assert 1.12 < ratio < 1.28
    assert _z(ot["revenue"], oc["revenue"]) > 3
    # a lift planted on control shows up there
    out_c = simulate_outcomes(audience, truth, _opts(lift=0.2, lift_arm="control", seed=3))
    assert (
        out_c[out_c["arm"] == "control"]["converted"].mean()
        > out_c[out_c["arm"] == "treatment"]["converted"].mean()
    )


def test_unsubscribe_lift_and_rate():
    truth = _truth()
    audience = _randomized_audience(truth)
    out = simulate_outcomes(audience, truth, _opts(unsubscribe_rate=0.01, unsubscribe_lift=1.0, seed=4))
    oc, ot = out[out["arm"] == "control"], out[out["arm"] == "treatment"]
    assert 0.007 < oc["unsubscribed"].mean() < 0.013
    assert 0.016 < ot["unsubscribed"].mean() < 0.024


def test_response_rises_with_the_true_value():
    """A model that targets the customers with the higher true value earns more."""
    truth = _truth()
    audience = _randomized_audience(truth).assign(arm="control")
    out = simulate_outcomes(audience, truth, _opts(seed=1)).merge(truth, on="customer_id")
    top = out["expected_revenue"] >= out["expected_revenue"].quantile(0.8)
    assert out[top]["converted"].mean() > 2 * out[~top]["converted"].mean()
    assert out[top]["revenue"].mean() > 3 * out[~top]["revenue"].mean()
    p = CampaignProcess()
    exp = expected_outcomes(audience, truth, _opts())
    assert exp["p_convert"].min() >= p.conversion_floor - 1e-12
    assert exp["p_convert"].max() <= p.conversion_ceiling + 1e-12


def test_reproducible_for_a_seed_and_independent_of_row_order():
    truth = _truth(5_000)
    audience = _randomized_audience(truth)
    a = simulate_outcomes(audience, truth, _opts(seed=7, lift=0.1))
    b = simulate_outcomes(audience.sample(frac=1.0, random_state=1), truth, _opts(seed=7, lift=0.1))
    pd.testing.assert_frame_equal(a, b)
    c = simulate_outcomes(audience, truth, _opts(seed=8, lift=0.1))
    assert not a["converted"].equals(c["converted"])
    d = simulate_outcomes(audience, truth, _opts(seed=7, lift=0.1, campaign_id="c2"))
    assert not a["converted"].equals(d["converted"])


def test_audience_customers_missing_from_the_truth_are_refused():
    truth = _truth(100)
    audience = pd.DataFrame({"customer_id": ["10000001", "99"], "arm": ["control", "treatment"]})
    with pytest.raises(CampaignError, match=r"1 audience customer\(s\) are not in the ground truth.*'99'"):
        expected_outcomes(audience, truth, _opts())


def test_cli_writes_the_campaign_outcomes_layout(tmp_path, monkeypatch, capsys):
    """On a generated shop: truth from `generate`, an audience file, `campaign-outcomes` via the CLI."""
    shop = tmp_path / "shop"
    generate(shop, "--truth-horizon-days", "180")
    truth = pd.read_csv(shop / "truth" / "expected_revenue.csv.gz", dtype={"customer_id": str})
    audience = _randomized_audience(truth.head(600), share=0.5)
    folder = tmp_path / "root" / "clv-local-gold" / "campaigns" / "audiences" / "campaign_id=spring"
    folder.mkdir(parents=True)
    audience.to_parquet(folder / "audience.parquet", index=False)
    monkeypatch.setenv("CLV_LOCAL_ROOT", str(tmp_path / "root"))
    args = [
        "campaign-outcomes",
        "--campaign", "spring",
        "--audience", "s3://clv-local-gold/campaigns/audiences",
        "--truth-dir", str(shop),
        "--out", "s3://clv-local-gold/campaigns/outcomes",
        "--lift", "0.1",
        "--seed", "42",
        "--analysis-csv", str(tmp_path / "analysis.csv"),
    ]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "campaign spring (lift +10.0% on treatment, seed 42)" in printed
    path = (
        tmp_path
        / "root"
        / "clv-local-gold"
        / "campaigns"
        / "outcomes"
        / "campaign_id=spring"
        / "outcomes.parquet"
    )
    table = pq.ParquetFile(path).read()  # the file alone (read_table would add the hive key)
    assert table.schema.names == ["customer_id", "converted", "revenue", "unsubscribed", "observed_at"]
    assert [str(t) for t in table.schema.types] == ["string", "int32", "double", "int32", "string"]
    df = table.to_pandas()
    assert len(df) == 600 and df["customer_id"].is_unique
    assert set(df["converted"]) <= {0, 1} and (df["revenue"] >= 0).all()
    assert (df.loc[df["converted"] == 0, "revenue"] == 0).all()
    assert (df["observed_at"] == "2024-02-05T00:00:00Z").all()  # selected_at + 28 days
    per_customer = pd.read_csv(tmp_path / "analysis.csv", dtype={"customer_id": str})
    assert list(per_customer.columns) == ["customer_id", "arm", "converted", "revenue", "unsubscribed"]
    pd.testing.assert_frame_equal(
        per_customer.drop(columns="arm"), df.drop(columns="observed_at"), check_dtype=False
    )
    first = path.read_bytes()
    assert main(args) == 0  # rerun: the same file
    assert path.read_bytes() == first


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (["--campaign", "Bad_Id"], "--campaign must be a lowercase slug"),
        (["--lift-arm", "both"], "--lift-arm must be control or treatment"),
        (["--lift", "-2"], "--lift must be a number from -1.0 to 10.0"),
        (["--unsubscribe-rate", "1.5"], "--unsubscribe-rate must be a number from 0 to 1"),
        (["--observed-at", "2024-13-01"], "--observed-at must be a date"),
        (["--seed", "x"], "--seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(tmp_path, capsys, change, needle):
    args = ["--campaign", "c1", "--audience", str(tmp_path / "a.parquet"), "--truth-dir", str(tmp_path)]
    args += ["--out", str(tmp_path / "out")]
    assert main(["campaign-outcomes", *args, *change]) == 2
    assert needle in capsys.readouterr().err


def test_missing_truth_and_bad_audience_are_named(tmp_path, capsys):
    truth = _truth(10)
    audience = pd.DataFrame({"customer_id": truth["customer_id"], "arm": ["control"] * 9 + ["canary"]})
    audience.to_csv(tmp_path / "a.csv", index=False)
    args = [
        "campaign-outcomes",
        "--campaign",
        "c1",
        "--audience",
        str(tmp_path / "a.csv"),
        "--out",
        str(tmp_path),
    ]
    assert main([*args, "--truth-dir", str(tmp_path), "--observed-at", "2024-01-01"]) == 2
    assert "an arm other than control/treatment: ['canary']" in capsys.readouterr().err
    audience.assign(arm="control").to_csv(tmp_path / "a.csv", index=False)
    assert main([*args, "--truth-dir", str(tmp_path), "--observed-at", "2024-01-01"]) == 2
    assert "no expected_revenue.csv.gz there or under truth/" in capsys.readouterr().err
