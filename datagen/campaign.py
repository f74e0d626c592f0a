"""Simulated campaign outcomes: `python -m datagen campaign-outcomes` (`clv generate campaign-outcomes`).

Given a campaign's exported audience (campaign_audiences: customer_id, arm, ...) and the generator's ground
truth (truth/expected_revenue.csv.gz: each customer's expected purchases and revenue over the truth horizon,
from their true latent parameters), draws each targeted customer's outcome:

- converted ~ Bernoulli(p), p = floor + (ceiling − floor) · (1 − exp(−expected_purchases / propensity_scale)),
  times (1 + lift) in the lift arm (capped at 1): customers who truly buy more respond more;
- revenue = 0 unless converted, else ~ Gamma(shape, mean/shape) with mean = the customer's true value per
  order (expected_revenue / expected_purchases; for customers expected to buy nothing, the median of that
  over the truth);
- unsubscribed ~ Bernoulli(unsubscribe_rate), times (1 + unsubscribe_lift) in the lift arm.

So a model that ranks customers better (targets those with a higher true value) truly earns more, and a
planted lift can be checked against the analysis (lambdas/experiment-analysis). Every customer's draws come
from one random stream seeded by (seed, campaign id) in customer_id order, independent of the file order and
of the lift (common random numbers: with and without a lift the same customers get the same uniforms).
Writes <out>/campaign_id=<id>/outcomes.parquet in the campaign_outcomes layout (lib/contracts/lake-tables.ts).
See docs/experiments.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from clv_local.storage import resolve as resolve_uri

CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ARMS = ("control", "treatment")
TRUTH_FILE = "expected_revenue.csv.gz"
OUTCOME_COLUMNS = ("customer_id", "converted", "revenue", "unsubscribed", "observed_at")


@dataclass(frozen=True)
class CampaignProcess:
    """Parameters of the response model (documented in docs/experiments.md)."""

    conversion_floor: float = 0.02
    """Conversion probability of a customer the truth expects to buy nothing (the offer alone)."""
    conversion_ceiling: float = 0.40
    """Conversion probability approached by the most active customers (before any lift)."""
    propensity_scale: float = 2.0
    """Expected purchases over the truth horizon at which a customer is 1 − 1/e of the way from floor
    to ceiling."""
    spend_shape: float = 2.0
    """Gamma shape of a converted customer's spend (coefficient of variation 1/sqrt(shape))."""
    unsubscribe_rate: float = 0.003
    """Base probability that a targeted customer unsubscribes."""
    campaign_days: int = 28
    """Default observation time: this many days after the latest selected_at of the audience."""


DEFAULT_PROCESS = CampaignProcess()


class CampaignError(ValueError):
    """A bad argument or input file; the message names it."""


@dataclass(frozen=True)
class CampaignOptions:
    campaign_id: str
    audience: str
    truth_dir: str
    out: str
    lift_arm: str = "treatment"
    lift: float = 0.0
    unsubscribe_rate: float = CampaignProcess.unsubscribe_rate
    unsubscribe_lift: float = 0.0
    seed: int = 0
    observed_at: str | None = None
    analysis_csv: str | None = None


def _read_table(path: Path, what: str) -> pd.DataFrame:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith(("_", ".")))
        if not files:
            raise CampaignError(f"{what}: no .parquet file under {path}")
        return pd.read_parquet(path)
    if not path.exists():
        raise CampaignError(f"{what}: {path} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, dtype={"customer_id": str})
    raise CampaignError(f"{what}: {path} is not .parquet, .csv or .csv.gz (or a folder of Parquet files)")


def read_audience(uri: str, campaign_id: str) -> pd.DataFrame:
    """customer_id (str) and arm of the campaign's audience: a file, a campaign_id=<id> folder or the
    table prefix (then filtered to the campaign)."""
    df = _read_table(resolve_uri(uri), f"--audience {uri}")
    missing = [c for c in ("customer_id", "arm") if c not in df.columns]
    if missing:
        raise CampaignError(
            f"--audience {uri}: missing column(s) {', '.join(missing)} (has {', '.join(df.columns)})"
        )
    if "campaign_id" in df.columns:  # hive partition column of a table prefix: keep this campaign
        df = df[df["campaign_id"].astype(str) == campaign_id]
        if df.empty:
            raise CampaignError(f"--audience {uri}: no rows for campaign_id={campaign_id}")
    df = df.copy()
    df["customer_id"] = df["customer_id"].astype(str)
    bad = df[~df["arm"].isin(ARMS)]
    if not bad.empty:
        values = sorted(map(str, bad["arm"].unique()))[:5]
        raise CampaignError(
            f"--audience {uri}: {len(bad)} row(s) with an arm other than control/treatment: {values}"
        )
    dup = df["customer_id"][df["customer_id"].duplicated()]
    if not dup.empty:
        raise CampaignError(
            f"--audience {uri}: {dup.nunique()} customer(s) listed twice, e.g. {sorted(dup)[:5]}"
        )
    if df.empty:
        raise CampaignError(f"--audience {uri}: the audience is empty")
    return df


def read_truth(uri: str) -> pd.DataFrame:
    """The ground truth: --truth-dir is the generator's output root, its truth/ folder or the file itself."""
    base = resolve_uri(uri)
    for candidate in (base, base / TRUTH_FILE, base / "truth" / TRUTH_FILE):
        if candidate.is_file():
            truth = pd.read_csv(candidate, dtype={"customer_id": str})
            break
    else:
        raise CampaignError(
            f"--truth-dir {uri}: no {TRUTH_FILE} there or under truth/ "
            "(run `clv generate ... --truth-horizon-days D` to write the ground truth)"
        )
    missing = [c for c in ("customer_id", "expected_revenue", "expected_purchases") if c not in truth.columns]
    if missing:
        raise CampaignError(f"--truth-dir {uri}: the truth file has no column(s) {', '.join(missing)}")
    return truth


def expected_outcomes(
    audience: pd.DataFrame, truth: pd.DataFrame, opts: CampaignOptions, p: CampaignProcess = DEFAULT_PROCESS
) -> pd.DataFrame:
    """Per customer (sorted by customer_id): arm, p_convert, mean_spend, p_unsubscribe, expected_revenue."""
    merged = audience[["customer_id", "arm"]].merge(
        truth[["customer_id", "expected_purchases", "expected_revenue"]], on="customer_id", how="left"
    )
    unknown = merged["expected_purchases"].isna()
    if unknown.any():
        ids = sorted(merged.loc[unknown, "customer_id"])
        raise CampaignError(
            f"{len(ids)} audience customer(s) are not in the ground truth (another generated shop?), "
            f"e.g. {ids[:5]}"
        )
    merged = merged.sort_values("customer_id", kind="stable").reset_index(drop=True)
    purchases = merged["expected_purchases"].to_numpy(float)
    revenue = merged["expected_revenue"].to_numpy(float)
    buyers = truth["expected_purchases"].to_numpy(float) > 0
    per_order_all = (
        truth["expected_revenue"].to_numpy(float)[buyers]
        / truth["expected_purchases"].to_numpy(float)[buyers]
    )
    fallback = float(np.median(per_order_all)) if per_order_all.size else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_spend = np.where(purchases > 0, revenue / np.where(purchases > 0, purchases, 1.0), fallback)
    mean_spend = np.maximum(mean_spend, 0.01)
    in_lift = (merged["arm"] == opts.lift_arm).to_numpy()
    base = p.conversion_floor + (p.conversion_ceiling - p.conversion_floor) * -np.expm1(
        -purchases / p.propensity_scale
    )
    p_convert = np.minimum(1.0, base * np.where(in_lift, 1.0 + opts.lift, 1.0))
    p_unsub = np.minimum(1.0, opts.unsubscribe_rate * np.where(in_lift, 1.0 + opts.unsubscribe_lift, 1.0))
    return pd.DataFrame(
        {
            "customer_id": merged["customer_id"],
            "arm": merged["arm"],
            "p_convert": p_convert,
            "mean_spend": mean_spend,
            "p_unsubscribe": p_unsub,
            "expected_revenue": p_convert * mean_spend,
        }
    )


def campaign_rng(seed: int, campaign_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(campaign_id.encode("utf-8"))])


def simulate_outcomes(
    audience: pd.DataFrame, truth: pd.DataFrame, opts: CampaignOptions, p: CampaignProcess = DEFAULT_PROCESS
) -> pd.DataFrame:
    """One outcome row per audience customer (campaign_outcomes columns plus arm), sorted by customer_id."""
    exp = expected_outcomes(audience, truth, opts, p)
    n = len(exp)
    rng = campaign_rng(opts.seed, opts.campaign_id)
    u_convert = rng.random(n)
    spend = rng.gamma(p.spend_shape, 1.0, n) / p.spend_shape  # mean 1, scaled per customer below
    u_unsub = rng.random(n)
    converted = (u_convert < exp["p_convert"].to_numpy()).astype(np.int32)
    revenue = np.where(converted == 1, np.round(spend * exp["mean_spend"].to_numpy(), 2), 0.0)
    return pd.DataFrame(
        {
            "customer_id": exp["customer_id"].astype(str),
            "arm": exp["arm"],
            "converted": converted,
            "revenue": revenue.astype(np.float64),
            "unsubscribed": (u_unsub < exp["p_unsubscribe"].to_numpy()).astype(np.int32),
            "observed_at": opts.observed_at,
        }
    )


def default_observed_at(audience: pd.DataFrame, p: CampaignProcess = DEFAULT_PROCESS) -> str:
    if "selected_at" not in audience.columns:
        raise CampaignError("--observed-at is required when the audience has no selected_at column")
    selected = pd.to_datetime(audience["selected_at"], utc=True, errors="coerce")
    if selected.isna().all():
        raise CampaignError("--observed-at is required: the audience's selected_at values are not timestamps")
    day = (selected.max() + pd.Timedelta(days=p.campaign_days)).date()
    return f"{day.isoformat()}T00:00:00Z"


def outcomes_path(out: str, campaign_id: str) -> Path:
    return resolve_uri(out) / f"campaign_id={campaign_id}" / "outcomes.parquet"


def write_outcomes(outcomes: pd.DataFrame, path: Path) -> None:
    """campaign_outcomes Parquet: customer_id string, converted int32, revenue double, unsubscribed int32,
    observed_at string (the Glue types of lib/contracts/lake-tables.ts); no campaign_id column (the folder
    is the partition)."""
    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("converted", pa.int32()),
            ("revenue", pa.float64()),
            ("unsubscribed", pa.int32()),
            ("observed_at", pa.string()),
        ]
    )
    table = pa.Table.from_pandas(outcomes[list(OUTCOME_COLUMNS)], schema=schema, preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def _fraction(name: str, raw: str | None, default: float, lo: float, hi: float) -> float:
    if raw is None:
        return default
    try:
        v = float(raw)
    except ValueError:
        v = float("nan")
    if not lo <= v <= hi:
        raise CampaignError(f"{name} must be a number from {lo} to {hi} (got {raw!r})")
    return v


def parse_campaign_options(argv: list[str]) -> CampaignOptions:
    ap = argparse.ArgumentParser(prog="python -m datagen campaign-outcomes")
    ap.add_argument("--campaign", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--truth-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lift-arm", default="treatment")
    ap.add_argument("--lift")
    ap.add_argument("--unsubscribe-rate")
    ap.add_argument("--unsubscribe-lift")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--observed-at")
    ap.add_argument("--analysis-csv")
    a = ap.parse_args(argv)
    if not CAMPAIGN_ID.match(a.campaign):
        raise CampaignError(
            f"--campaign must be a lowercase slug (a-z, 0-9, -), 1 to 40 characters (got {a.campaign!r})"
        )
    if a.lift_arm not in ARMS:
        raise CampaignError(f"--lift-arm must be control or treatment (got {a.lift_arm!r})")
    try:
        seed = int(a.seed)
    except ValueError:
        seed = -1
    if not 0 <= seed < 2**63:
        raise CampaignError(f"--seed must be a non-negative integer (got {a.seed!r})")
    observed = None
    if a.observed_at is not None:
        try:
            observed = f"{dt.date.fromisoformat(a.observed_at).isoformat()}T00:00:00Z"
        except ValueError:
            raise CampaignError(f"--observed-at must be a date YYYY-MM-DD (got {a.observed_at!r})") from None
    paths = [("--audience", a.audience), ("--truth-dir", a.truth_dir), ("--out", a.out)]
    for flag, value in paths + ([("--analysis-csv", a.analysis_csv)] if a.analysis_csv else []):
        try:
            resolve_uri(value)
        except ValueError as exc:
            raise CampaignError(f"{flag}: {exc}") from None
    return CampaignOptions(
        campaign_id=a.campaign,
        audience=a.audience,
        truth_dir=a.truth_dir,
        out=a.out,
        lift_arm=a.lift_arm,
        lift=_fraction("--lift", a.lift, 0.0, -1.0, 10.0),
        unsubscribe_rate=_fraction(
            "--unsubscribe-rate", a.unsubscribe_rate, CampaignProcess.unsubscribe_rate, 0, 1
        ),
        unsubscribe_lift=_fraction("--unsubscribe-lift", a.unsubscribe_lift, 0.0, -1.0, 100.0),
        seed=seed,
        observed_at=observed,
        analysis_csv=a.analysis_csv,
    )


def run_campaign_outcomes(opts: CampaignOptions) -> dict:
    """Reads the audience and the truth, simulates, writes the outcomes; returns a summary."""
    audience = read_audience(opts.audience, opts.campaign_id)
    truth = read_truth(opts.truth_dir)
    if opts.observed_at is None:
        opts = CampaignOptions(**{**opts.__dict__, "observed_at": default_observed_at(audience)})
    outcomes = simulate_outcomes(audience, truth, opts)
    path = outcomes_path(opts.out, opts.campaign_id)
    write_outcomes(outcomes, path)
    if opts.analysis_csv:  # per-customer file with the arm, the input of `clv experiment analyze`
        target = resolve_uri(opts.analysis_csv)
        target.parent.mkdir(parents=True, exist_ok=True)
        outcomes[["customer_id", "arm", "converted", "revenue", "unsubscribed"]].to_csv(target, index=False)
    arms = {}
    for arm, g in outcomes.groupby("arm"):
        arms[str(arm)] = {
            "n": int(len(g)),
            "conversions": int(g["converted"].sum()),
            "revenue": float(g["revenue"].sum()),
            "unsubscribes": int(g["unsubscribed"].sum()),
        }
    return {"path": str(path), "observed_at": opts.observed_at, "arms": arms, "options": opts}


def campaign_main(argv: list[str]) -> int:
    import sys

    try:
        opts = parse_campaign_options(argv)
        result = run_campaign_outcomes(opts)
    except CampaignError as exc:
        print(f"datagen campaign-outcomes: error: {exc}", file=sys.stderr)
        return 2
    o = result["options"]
    lift = f"lift {o.lift:+.1%} on {o.lift_arm}" if o.lift else "no planted lift"
    print(
        f"datagen campaign-outcomes: campaign {o.campaign_id} ({lift}, seed {o.seed}) → {result['path']} "
        f"(observed_at {result['observed_at']})"
    )
    for arm, s in sorted(result["arms"].items()):
        rate = s["conversions"] / s["n"]
        print(
            f"  {arm}: {s['n']:,} customers, {s['conversions']:,} converted ({rate:.2%}), "
            f"revenue {s['revenue']:,.2f} ({s['revenue'] / s['n']:.2f} per customer), "
            f"{s['unsubscribes']:,} unsubscribed"
        )
    return 0
