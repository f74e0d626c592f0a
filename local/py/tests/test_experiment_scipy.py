"""`clv experiment analyze` agrees with scipy to 1e-6 on shared fixtures (issue #13, Done when).

Fixture files (CSV and Parquet, per-customer outcomes) are drawn with a fixed numpy seed; the CLI (Node, the
same core as the analysis Lambda: lambdas/experiment-analysis/core.ts) runs on each with --json, and its
p-values and intervals are compared with:
- SRM: scipy.stats.chisquare of the arms' counts against the expected share;
- conversion and the unsubscribe guardrail: the two-proportion z-test with the pooled proportion
  (scipy.stats.norm), the interval with the unpooled standard error;
- revenue per user: scipy.stats.ttest_ind(equal_var=False) and its confidence_interval.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

REPO = Path(__file__).resolve().parents[3]
NODE_BIN = REPO / ".tools" / "node" / "bin"
TOL = 1e-6


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if NODE_BIN.is_dir():
        env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _npx() -> str:
    found = shutil.which("npx", path=_env()["PATH"])
    if found is None:
        pytest.skip("npx (Node) is not on PATH")
    return found


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_npx(), "tsx", "local/cli/clv.ts", "experiment", "analyze", *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


def analyze(path: Path, expected_share: float, alpha: float) -> dict:
    r = run_cli(
        "--json", "--input", str(path), "--expected-share", str(expected_share), "--alpha", str(alpha)
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def make_fixture(
    seed: int,
    n: int,
    share: float,
    conv: tuple[float, float],
    spend: tuple[float, float],
    unsub: tuple[float, float],
) -> pd.DataFrame:
    """Per-customer outcomes: arm by a Bernoulli(share) draw; (control, treatment) rates and mean spend."""
    rng = np.random.default_rng(seed)
    treat = rng.random(n) < share
    p_conv = np.where(treat, conv[1], conv[0])
    converted = (rng.random(n) < p_conv).astype(int)
    mean = np.where(treat, spend[1], spend[0])
    revenue = np.where(converted == 1, np.round(rng.gamma(2.0, mean / 2.0), 2), 0.0)
    unsubscribed = (rng.random(n) < np.where(treat, unsub[1], unsub[0])).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"{10_000_000 + i}" for i in range(n)],
            "arm": np.where(treat, "treatment", "control"),
            "converted": converted,
            "revenue": revenue,
            "unsubscribed": unsubscribed,
        }
    )


# name: (seed, n, drawn share, conversion, spend, unsubscribe, expected share, alpha, decision)
FIXTURES = {
    "canary-lift": (11, 40_000, 0.05, (0.10, 0.14), (40.0, 48.0), (0.004, 0.004), 0.05, 0.05, "ship"),
    "ab-no-effect": (12, 8_000, 0.5, (0.10, 0.10), (40.0, 40.0), (0.004, 0.004), 0.5, 0.05, "no_difference"),
    "canary-srm": (13, 40_000, 0.058, (0.10, 0.10), (40.0, 40.0), (0.004, 0.004), 0.05, 0.05, "invalid"),
    "ab-unsubscribes": (14, 20_000, 0.5, (0.10, 0.11), (40.0, 40.0), (0.004, 0.012), 0.5, 0.10, "worse"),
}


def two_proportions(x_c: int, n_c: int, x_t: int, n_t: int, alpha: float) -> dict:
    p_c, p_t = x_c / n_c, x_t / n_t
    pooled = (x_c + x_t) / (n_c + n_t)
    z = (p_t - p_c) / np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    se = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    q = stats.norm.ppf(1 - alpha / 2)
    diff = p_t - p_c
    return {
        "p_value": 2 * stats.norm.sf(abs(z)),
        "diff": diff,
        "ci_low": diff - q * se,
        "ci_high": diff + q * se,
    }


def scipy_reference(df: pd.DataFrame, expected_share: float, alpha: float) -> dict:
    c, t = df[df["arm"] == "control"], df[df["arm"] == "treatment"]
    n_c, n_t = len(c), len(t)
    total = n_c + n_t
    srm = stats.chisquare([n_c, n_t], f_exp=[total * (1 - expected_share), total * expected_share])
    welch = stats.ttest_ind(t["revenue"], c["revenue"], equal_var=False)
    ci = welch.confidence_interval(confidence_level=1 - alpha)
    return {
        "srm": {"p_value": srm.pvalue, "chi_square": srm.statistic},
        "conversion": two_proportions(int(c["converted"].sum()), n_c, int(t["converted"].sum()), n_t, alpha),
        "revenue_per_user": {
            "p_value": welch.pvalue,
            "diff": t["revenue"].mean() - c["revenue"].mean(),
            "ci_low": ci.low,
            "ci_high": ci.high,
            "t": welch.statistic,
            "df": welch.df,
        },
        "unsubscribe": two_proportions(
            int(c["unsubscribed"].sum()), n_c, int(t["unsubscribed"].sum()), n_t, alpha
        ),
    }


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory) -> dict[str, tuple[pd.DataFrame, Path, Path]]:
    out = tmp_path_factory.mktemp("experiment-fixtures")
    files = {}
    for name, (seed, n, share, conv, spend, unsub, *_rest) in FIXTURES.items():
        df = make_fixture(seed, n, share, conv, spend, unsub)
        csv, parquet = out / f"{name}.csv", out / f"{name}.parquet"
        df.to_csv(csv, index=False)
        df.to_parquet(parquet, index=False)
        files[name] = (df, csv, parquet)
    return files


def _close(actual: float, expected: float, what: str) -> None:
    assert abs(actual - expected) <= TOL, f"{what}: clv {actual!r} vs scipy {expected!r}"


@pytest.mark.parametrize("name", list(FIXTURES))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_agrees_with_scipy(fixture_files, name: str, fmt: str) -> None:
    df, csv, parquet = fixture_files[name]
    *_, expected_share, alpha, decision = FIXTURES[name]
    got = analyze(csv if fmt == "csv" else parquet, expected_share, alpha)
    ref = scipy_reference(df, expected_share, alpha)
    _close(got["srm"]["p_value"], ref["srm"]["p_value"], "srm.p_value")
    _close(got["srm"]["chi_square"], ref["srm"]["chi_square"], "srm.chi_square")
    for key in ("p_value", "diff", "ci_low", "ci_high"):
        _close(got["conversion"][key], ref["conversion"][key], f"conversion.{key}")
    for key in ("p_value", "diff", "ci_low", "ci_high", "t", "df"):
        _close(got["revenue_per_user"][key], ref["revenue_per_user"][key], f"revenue_per_user.{key}")
    _close(
        got["guardrail"]["unsubscribe"]["p_value"],
        ref["unsubscribe"]["p_value"],
        "guardrail.unsubscribe.p_value",
    )
    assert got["decision"] == decision, got["reasons"]
    assert got["n"] == {
        "control": int((df["arm"] == "control").sum()),
        "treatment": int((df["arm"] == "treatment").sum()),
    }


def test_fixtures_cover_each_decision() -> None:
    assert {f[-1] for f in FIXTURES.values()} == {"ship", "no_difference", "invalid", "worse"}


def test_bad_rows_are_named(tmp_path: Path) -> None:
    df = make_fixture(1, 50, 0.5, (0.1, 0.1), (10.0, 10.0), (0.0, 0.0))
    df.loc[4, "arm"] = "canary"
    df.loc[7, "converted"] = 3
    df.loc[9, "revenue"] = -5.0
    df.loc[11, "customer_id"] = df.loc[2, "customer_id"]
    df.to_csv(tmp_path / "bad.csv", index=False)
    r = run_cli("--input", str(tmp_path / "bad.csv"))
    assert r.returncode == 1
    assert 'row 5: "canary"' in r.stderr
    assert 'row 8: "3"' in r.stderr
    assert 'row 10: "-5.0"' in r.stderr
    assert f'"{df.loc[2, "customer_id"]}" at rows 3, 12' in r.stderr
