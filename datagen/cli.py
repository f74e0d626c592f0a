"""Command line: python -m datagen generate ... (see docs/data-generator.md) and
python -m datagen campaign-outcomes ... (datagen/campaign.py, docs/experiments.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from clv_local.storage import resolve as resolve_uri

from datagen.params import MALFORMED_KINDS, Process
from datagen.process import MAX_HORIZON_DAYS, SCENARIOS, Context, add_months
from datagen.reference import load_reference

MAX_CUSTOMERS = 10_000_000
USAGE = (
    "usage: python -m datagen generate --customers N --start YYYY-MM-DD --months M --seed S --out URI "
    "[--scenario NAME] [--scenario-start DATE] [--truth-horizon-days D] [--clickstream-share F] "
    "[--crm-extract-months N] [--workers W]"
)
MAX_MONTHS = 120


class ArgError(ValueError):
    pass


def _int(name: str, raw: str, lo: int, hi: int) -> int:
    try:
        v = int(raw)
    except (TypeError, ValueError):
        raise ArgError(f"{name} must be an integer from {lo} to {hi} (got {raw!r})") from None
    if not lo <= v <= hi:
        raise ArgError(f"{name} must be an integer from {lo} to {hi} (got {v})")
    return v


def _date(name: str, raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw and len(raw) == 10 else dt.date.fromisoformat("bad")
    except (TypeError, ValueError):
        raise ArgError(f"{name} must be a date YYYY-MM-DD (got {raw!r})") from None


def default_scenario_start(start: dt.date, months: int) -> dt.date:
    """Start of the last quarter of the period: 75% of its days have passed."""
    n_days = (add_months(start, months) - start).days
    return start + dt.timedelta(days=(3 * n_days + 3) // 4)


def parse_options(argv: list[str]):
    """Parse and validate `generate` arguments; raises ArgError naming the bad argument."""
    from datagen.generate import Options

    ap = argparse.ArgumentParser(prog="python -m datagen generate", add_help=True)
    ap.add_argument("--customers", required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--months", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenario", default="none")
    ap.add_argument("--scenario-start")
    ap.add_argument("--truth-horizon-days")
    ap.add_argument("--clickstream-share")
    ap.add_argument("--crm-extract-months")
    ap.add_argument("--workers")
    a = ap.parse_args(argv)
    customers = _int("--customers", a.customers, 1, MAX_CUSTOMERS)
    start = _date("--start", a.start)
    months = _int("--months", a.months, 1, MAX_MONTHS)
    seed = _int("--seed", a.seed, 0, 2**63 - 1)
    try:
        out = resolve_uri(a.out)
    except ValueError as exc:
        raise ArgError(f"--out: {exc}") from None
    if a.scenario not in SCENARIOS:
        raise ArgError(f"--scenario must be one of {', '.join(SCENARIOS)} (got {a.scenario!r})")
    end = add_months(start, months)
    if a.scenario_start is None:
        sstart = default_scenario_start(start, months)
    else:
        sstart = _date("--scenario-start", a.scenario_start)
        if not start <= sstart < end:
            raise ArgError(
                f"--scenario-start must be a date from {start} to {end - dt.timedelta(days=1)} "
                f"(inside the period; got {sstart})"
            )
    horizon = (
        0
        if a.truth_horizon_days is None
        else _int("--truth-horizon-days", a.truth_horizon_days, 1, MAX_HORIZON_DAYS)
    )
    if a.clickstream_share is None:
        share = Process().default_clickstream_share
    else:
        try:
            share = float(a.clickstream_share)
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            raise ArgError(f"--clickstream-share must be a number from 0 to 1 (got {a.clickstream_share!r})")
    crm_months = (
        Process().crm_extract_months
        if a.crm_extract_months is None
        else _int("--crm-extract-months", a.crm_extract_months, 1, MAX_MONTHS)
    )
    workers = min(2, os.cpu_count() or 1) if a.workers is None else _int("--workers", a.workers, 1, 64)
    return Options(
        customers, start, months, seed, out, a.out, a.scenario, sstart, horizon, share, workers, crm_months
    )


def make_context(opts) -> Context:
    return Context(
        seed=opts.seed,
        n_customers=opts.customers,
        start=opts.start,
        months=opts.months,
        scenario=opts.scenario,
        scenario_start=opts.scenario_start,
        truth_horizon_days=opts.truth_horizon_days,
        clickstream_share=opts.clickstream_share,
        ref=load_reference(),
        p=Process(crm_extract_months=opts.crm_extract_months),
    )


def summary(result: dict, out_uri: str) -> str:
    m, rt = result["manifest"], result["runtime"]
    c = m["counts"]
    tx, ev = c["transactions"], c["clickstream"]
    lines = [
        f"datagen: wrote {out_uri} ({rt['output_bytes'] / 2**20:.1f} MiB) in {rt['seconds']:.1f} s "
        f"(simulate {rt['seconds_phase1']:.1f} s, assemble and compress {rt['seconds_phase2']:.1f} s)",
        f"  files: {c['files']['transactions']} transaction ({c['files']['transactions_late']} late), "
        f"{c['files']['clickstream']} clickstream, {c['files']['customers']} CRM extracts, manifest"
        + (", truth" if "truth" in c else ""),
        f"  customers: {c['customers']:,} ({c['customers_with_purchases']:,} with purchases)",
        f"  transactions: {tx['rows']:,} rows, {tx['invoices']:,} invoices; "
        f"cancellations {tx['cancellation_rows']:,}, returns {tx['return_rows']:,}, "
        f"missing customer {tx['missing_customer_rows']:,}, duplicates {tx['duplicate_rows']:,}, "
        f"outliers {tx['outlier_rows']:,}, gift cards {tx['gift_card_rows']:,}, late {tx['rows_late']:,}",
        f"  clickstream: {ev['events']:,} events in {ev['sessions']:,} sessions; malformed "
        + ", ".join(f"{k} {ev['malformed'][k]:,}" for k in MALFORMED_KINDS),
    ]
    if m["arguments"]["scenario"] == "pipeline-bug":
        lines.append(
            f"  pipeline-bug: {tx['pipeline_bug_alphanumeric_sku_rows']:,} alphanumeric SKUs, "
            f"{tx['pipeline_bug_null_country_rows']:,} empty countries"
        )
    if "truth" in c:
        lines.append(f"  truth: expected revenue {c['truth']['expected_revenue']:,.2f} GBP over the horizon")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "campaign-outcomes":
        from datagen.campaign import campaign_main

        return campaign_main(argv[1:])
    if not argv or argv[0] != "generate":
        print(USAGE + "\n       python -m datagen campaign-outcomes --help", file=sys.stderr)
        return 2
    try:
        opts = parse_options(argv[1:])
        ctx = make_context(opts)
    except ArgError as exc:
        print(f"datagen generate: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"datagen generate: error: {exc}", file=sys.stderr)
        return 2
    from datagen.generate import run

    try:
        result = run(opts, ctx)
    except RuntimeError as exc:
        print(f"datagen generate: error: {exc}", file=sys.stderr)
        return 1
    print(summary(result, opts.out_uri))
    return 0
