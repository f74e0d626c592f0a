"""Audience export of the campaign-experiment pipeline (SageMaker processing job, network isolation).

Reads the predictions partitions of the champion (Production) and the challenger (Canary) model at one
scoring date (``predictions/scoring_date=<d>/model_version=<v>/``, written by the batch-scoring and shadow
publish steps) and:

1. assigns every customer scored by both models to an arm, deterministically:
   ``h = sha256(salt + ':' + customer_id)``, its first 13 hex digits (52 bits) divided by 2**52, uniform in
   [0, 1); the customer is in the ``treatment`` arm when ``h < treatment_share``, else in ``control``.
   The same salt and customer always give the same arm (reruns, other scoring dates), and customers are
   randomized before any model looks at them;
2. targets each arm with its own model (``control``: the champion's scores, ``treatment``: the
   challenger's), the audience rule applied within the arm:
   - ``top_n:<n>``: the treatment arm selects its ``round(n * treatment_share)`` customers with the highest
     challenger CLV score, the control arm its ``n - round(n * treatment_share)`` highest by the champion's
     (ties: higher predicted revenue first, then customer id); an arm with fewer customers selects them all
     and the shortfall is reported;
   - ``tier:<High|Medium|Low>``: each arm selects its customers whose tier under the arm's model is that
     tier;
3. reconciles: customers considered = selected control + selected treatment + not selected, the arms are
   disjoint, and both models scored the same customers (a customer scored by one model only fails the job:
   the challenger's shadow run and the champion's scoring read the same scoring set);
4. writes, into the processing output folders the state machine maps to S3:
   - ``audiences/audience.parquet``: the gold ``campaign_audiences`` partition ``campaign_id=<id>/``
     (columns of lib/contracts/lake-tables.ts, the partition key in the path only; one fixed name, so a
     rerun replaces it);
   - ``exports/audience.csv``: the marketing tool's file (campaign_id, customer_id, arm);
   - ``report/audience-summary.json``: the counts above, the models, the rule and the salt.

Exit status 0 on success; 1 (after printing the reason) when the inputs do not reconcile or an arm selects
nobody.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

AUDIENCE_COLUMNS = [
    "customer_id",
    "arm",
    "model_version",
    "clv_score",
    "predicted_revenue_12m",
    "tier",
    "assignment_hash",
    "selected_at",
]
EXPORT_COLUMNS = ["campaign_id", "customer_id", "arm"]
PREDICTION_COLUMNS = ["customer_id", "clv_score", "predicted_revenue_12m", "tier"]
TIERS = ("High", "Medium", "Low")
CAMPAIGN_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
HASH_HEX_DIGITS = 13
HASH_SCALE = float(16**HASH_HEX_DIGITS)  # 2**52: every value / 2**52 is exact and < 1


class AudienceError(Exception):
    """The inputs cannot give a reconciled audience (the message says why)."""


@dataclass(frozen=True)
class AudienceRule:
    rule: str
    n: int | None = None
    tier: str | None = None

    @staticmethod
    def parse(text: str) -> AudienceRule:
        """``top_n:<positive int>`` or ``tier:<High|Medium|Low>``."""
        kind, _, value = text.partition(":")
        if kind == "top_n" and re.fullmatch(r"[1-9]\d*", value):
            return AudienceRule("top_n", n=int(value))
        if kind == "tier" and value in TIERS:
            return AudienceRule("tier", tier=value)
        raise AudienceError(f"--audience: expected top_n:<N> or tier:<{'|'.join(TIERS)}>, got {text!r}")

    def describe(self) -> dict[str, Any]:
        return (
            {"rule": self.rule, "n": self.n}
            if self.rule == "top_n"
            else {"rule": self.rule, "tier": self.tier}
        )


def assignment_hash(salt: str, customer_id: str) -> float:
    """sha256(salt + ':' + customer_id): the first 13 hex digits / 2**52, uniform in [0, 1)."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()
    return int(digest[:HASH_HEX_DIGITS], 16) / HASH_SCALE


def assign_arms(customer_ids: pd.Series, salt: str, treatment_share: float) -> pd.DataFrame:
    """customer_id, assignment_hash and arm (treatment when the hash is below the share)."""
    if not 0 < treatment_share < 1:
        raise AudienceError(f"treatment share must be in (0, 1), got {treatment_share}")
    ids = customer_ids.astype(str)
    hashes = ids.map(lambda c: assignment_hash(salt, c)).astype("float64")
    arms = hashes.map(lambda h: "treatment" if h < treatment_share else "control")
    return pd.DataFrame(
        {"customer_id": ids.to_numpy(), "assignment_hash": hashes.to_numpy(), "arm": arms.to_numpy()}
    )


def arm_targets(rule: AudienceRule, treatment_share: float) -> dict[str, int | None]:
    """Customers each arm selects under a top_n rule (None: a tier rule selects by tier, not by count)."""
    if rule.rule != "top_n" or rule.n is None:
        return {"control": None, "treatment": None}
    treatment = round(rule.n * treatment_share)
    return {"control": rule.n - treatment, "treatment": treatment}


def read_predictions(directory: Path, label: str) -> pd.DataFrame:
    """The predictions of one partition folder: customer_id, clv_score, predicted_revenue_12m, tier."""
    files = sorted(directory.rglob("*.parquet"))
    if not files:
        raise AudienceError(f"{label}: no Parquet file under {directory}")
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise AudienceError(f"{label}: predictions lack columns {missing}")
    frame = frame[PREDICTION_COLUMNS].copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    duplicated = frame["customer_id"].duplicated()
    if duplicated.any():
        raise AudienceError(f"{label}: {int(duplicated.sum())} customer(s) scored more than once")
    nulls = frame[["clv_score", "predicted_revenue_12m", "tier"]].isna().any(axis=1)
    if nulls.any():
        raise AudienceError(f"{label}: {int(nulls.sum())} prediction(s) with a null score, revenue or tier")
    return frame


def _select(arm_frame: pd.DataFrame, rule: AudienceRule, target: int | None) -> pd.DataFrame:
    if rule.rule == "tier":
        return arm_frame[arm_frame["tier"] == rule.tier]
    ordered = arm_frame.sort_values(
        ["clv_score", "predicted_revenue_12m", "customer_id"],
        ascending=[False, False, True],
        kind="mergesort",
    )
    return ordered.head(int(target or 0))


@dataclass
class AudienceResult:
    audience: pd.DataFrame
    summary: dict[str, Any]


def build_audience(
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    *,
    champion_version: str,
    challenger_version: str,
    rule: AudienceRule,
    treatment_share: float,
    salt: str,
    selected_at: str,
) -> AudienceResult:
    """The reconciled audience (AUDIENCE_COLUMNS) and its summary; AudienceError when it cannot reconcile."""
    only_champion = sorted(set(champion["customer_id"]) - set(challenger["customer_id"]))
    only_challenger = sorted(set(challenger["customer_id"]) - set(champion["customer_id"]))
    if only_champion or only_challenger:
        raise AudienceError(
            "the models scored different customers: "
            f"{len(only_champion)} by the champion only (e.g. {only_champion[:3]}), "
            f"{len(only_challenger)} by the challenger only (e.g. {only_challenger[:3]}); "
            "score both on the same scoring set (same scoring_date)"
        )
    assigned = assign_arms(champion["customer_id"].sort_values(ignore_index=True), salt, treatment_share)
    targets = arm_targets(rule, treatment_share)
    by_arm = {
        "control": (champion, champion_version),
        "treatment": (challenger, challenger_version),
    }
    parts = []
    arm_counts: dict[str, dict[str, Any]] = {}
    for arm, (scores, version) in by_arm.items():
        members = assigned[assigned["arm"] == arm].merge(
            scores, on="customer_id", how="inner", validate="one_to_one"
        )
        selected = _select(members, rule, targets[arm]).assign(model_version=version)
        target = targets[arm]
        arm_counts[arm] = {
            "assigned": len(members),
            "selected": len(selected),
            "model_version": version,
            "target": target,
            "shortfall": max(0, target - len(selected)) if target is not None else None,
        }
        parts.append(selected)
    audience = pd.concat(parts, ignore_index=True).assign(selected_at=selected_at)[AUDIENCE_COLUMNS]
    audience["clv_score"] = audience["clv_score"].astype("float64")
    audience["predicted_revenue_12m"] = audience["predicted_revenue_12m"].astype("float64")
    considered = len(assigned)
    selected_total = len(audience)
    not_selected = considered - selected_total
    reconciled = (
        audience["customer_id"].is_unique
        and arm_counts["control"]["assigned"] + arm_counts["treatment"]["assigned"] == considered
        and arm_counts["control"]["selected"] + arm_counts["treatment"]["selected"] + not_selected
        == considered
    )
    if not reconciled:
        raise AudienceError("the audience does not reconcile (a customer in both arms or lost)")
    empty = [arm for arm, c in arm_counts.items() if c["selected"] == 0]
    if empty:
        raise AudienceError(
            f"the {' and '.join(empty)} arm selects no customer ({rule.describe()}, "
            f"treatment share {treatment_share}); an experiment needs customers in both arms"
        )
    summary = {
        "customers_considered": considered,
        "control": arm_counts["control"],
        "treatment": arm_counts["treatment"],
        "selected": selected_total,
        "not_selected": not_selected,
        "reconciled": True,
        "audience": rule.describe(),
        "treatment_share": treatment_share,
        "observed_treatment_share_assigned": arm_counts["treatment"]["assigned"] / considered
        if considered
        else None,
        "salt": salt,
        "champion_model_version": champion_version,
        "challenger_model_version": challenger_version,
        "selected_at": selected_at,
    }
    return AudienceResult(audience=audience, summary=summary)


def _args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Campaign experiment audience export (docs/runbooks/campaign-experiment.md)"
    )
    p.add_argument("--champion-dir", type=Path, required=True)
    p.add_argument("--challenger-dir", type=Path, required=True)
    p.add_argument("--audience-dir", type=Path, required=True)
    p.add_argument("--export-dir", type=Path, required=True)
    p.add_argument("--report-dir", type=Path, required=True)
    p.add_argument("--campaign-id", required=True)
    p.add_argument("--audience", required=True, help="top_n:<N> or tier:<High|Medium|Low>")
    p.add_argument("--mode", choices=["canary", "ab"], required=True)
    p.add_argument("--treatment-share", type=float, required=True)
    p.add_argument("--salt", required=True)
    p.add_argument("--scoring-date", required=True)
    p.add_argument("--champion-version", required=True)
    p.add_argument("--challenger-version", required=True)
    p.add_argument("--run-id", required=True)
    return p.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    args = _args(argv)
    try:
        if not CAMPAIGN_ID.match(args.campaign_id):
            raise AudienceError(
                f"--campaign-id: expected a lowercase slug of 1-40 characters, got {args.campaign_id!r}"
            )
        if args.champion_version == args.challenger_version:
            raise AudienceError(
                f"champion and challenger are the same model version ({args.champion_version})"
            )
        rule = AudienceRule.parse(args.audience)
        champion = read_predictions(args.champion_dir, f"champion {args.champion_version}")
        challenger = read_predictions(args.challenger_dir, f"challenger {args.challenger_version}")
        selected_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = build_audience(
            champion,
            challenger,
            champion_version=args.champion_version,
            challenger_version=args.challenger_version,
            rule=rule,
            treatment_share=args.treatment_share,
            salt=args.salt,
            selected_at=selected_at,
        )
    except AudienceError as err:
        print(f"campaign audience: {err}", file=sys.stderr)
        return 1
    for d in (args.audience_dir, args.export_dir, args.report_dir):
        d.mkdir(parents=True, exist_ok=True)
    result.audience.to_parquet(args.audience_dir / "audience.parquet", index=False)
    export = result.audience.assign(campaign_id=args.campaign_id)[EXPORT_COLUMNS]
    export.to_csv(args.export_dir / "audience.csv", index=False)
    summary = {
        "campaign_id": args.campaign_id,
        "run_id": args.run_id,
        "mode": args.mode,
        "scoring_date": args.scoring_date,
        **result.summary,
    }
    (args.report_dir / "audience-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"campaign {args.campaign_id}: {summary['customers_considered']} considered, "
        f"{summary['control']['selected']} control + {summary['treatment']['selected']} treatment selected, "
        f"{summary['not_selected']} not selected"
    )
    return 0
