"""How the shop departs from BG/NBD: each mechanism is measured on the simulation, with its parameter at
the default and at the neutral value (which recovers the stationary BG/NBD process), so each test fails
when its mechanism is switched off or broken. The ground truth's closed form is checked for the new
process."""

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from datagen.clickstream import _browse_counts, browse_sessions
from datagen.params import Process
from datagen.process import (
    DAY,
    STREAM_CLICKSTREAM,
    Context,
    cumulative_rate,
    ground_truth,
    holiday_cohort,
    inverse_cumulative_rate,
    rng_for,
    simulate_customers,
)
from datagen.reference import load_reference

REF = load_reference()
P = Process()


def make_ctx(n: int = 20_000, months: int = 36, horizon: int = 365, **changes) -> Context:
    return Context(
        seed=3,
        n_customers=n,
        start=dt.date(2022, 1, 1),
        months=months,
        scenario="none",
        scenario_start=dt.date(2024, 7, 1),
        truth_horizon_days=horizon,
        clickstream_share=1.0,
        ref=REF,
        p=dataclasses.replace(P, **changes),
    )


def all_chunks(ctx: Context) -> list[dict]:
    return [simulate_customers(ctx, k) for k in range(ctx.n_chunks)]


def test_cumulative_rate_inverts_and_is_neutral_without_honeymoon():
    lam = np.array([0.001, 0.0123, 0.05, 0.3])
    x = np.array([0.0, 3.0, 45.0, 2000.0])
    m = cumulative_rate(lam, x, P)
    assert np.allclose(inverse_cumulative_rate(lam, m, P), x, atol=1e-7)
    # the integral of lam (1 + h exp(-u/tau)) from 0 to x, checked numerically
    u = np.linspace(0, 45.0, 200_001)
    f = 0.05 * (1 + P.honeymoon_factor * np.exp(-u / P.honeymoon_days))
    assert abs(np.sum((f[1:] + f[:-1]) / 2 * np.diff(u)) - m[2]) < 1e-6
    flat = dataclasses.replace(P, honeymoon_factor=0.0)
    assert np.allclose(cumulative_rate(lam, x, flat), lam * x)
    assert np.allclose(inverse_cumulative_rate(lam, lam * x, flat), x)


def _early_late_rate_ratio(ctx: Context) -> float:
    """Repeat purchases per operational day in the first 90 days after signup over days 90-450, for buyers
    observed 450 days (dropout switched off so that only the rate is measured)."""
    early = late = 0
    end_op = ctx.op_time[ctx.n_days]
    for cu in all_chunks(ctx):
        full = ~cu["never"] & (cu["t0"] + 450 < end_op)
        rep = ~cu["order_first"]
        owner = cu["order_cust"][rep]
        x = (cu["order_op"][rep] - cu["t0"][owner])[full[owner]]
        early += int((x < 90).sum())
        late += int(((x >= 90) & (x < 450)).sum())
    return (early / 90) / (late / 360)


def test_honeymoon_rate_after_signup_exceeds_the_settled_rate_by_the_configured_factor():
    no_dropout = {"dropout_a": 1e-3, "dropout_b": 1e3}
    h, tau = P.honeymoon_factor, P.honeymoon_days
    expected = (1 + h * tau / 90 * -np.expm1(-90 / tau)) / (
        1 + h * tau / 360 * (np.exp(-90 / tau) - np.exp(-450 / tau))
    )
    assert expected > 1.4
    ratio = _early_late_rate_ratio(make_ctx(**no_dropout))
    assert abs(ratio - expected) < 0.08 * expected, (ratio, expected)
    flat = _early_late_rate_ratio(make_ctx(honeymoon_factor=0.0, **no_dropout))
    assert abs(flat - 1) < 0.08, flat


def _truth_sums(ctx: Context, recent_days: int) -> tuple[float, float, float]:
    """Expected and realized purchases in the horizon of the customers acquired in the last recent_days
    days of the period, and what the stationary BG/NBD formula (no honeymoon) would expect of them."""
    expected = realized = stationary = 0.0
    end_op = ctx.op_time[ctx.n_days]
    h_op = ctx.op_time[ctx.n_days + ctx.truth_horizon_days] - end_op
    for k in range(ctx.n_chunks):
        cu = simulate_customers(ctx, k)
        t = ground_truth(ctx, k, cu)
        sel = cu["signup_day"] >= ctx.n_days - recent_days
        expected += t["expected_purchases"][sel].sum()
        realized += t["realized_purchases"][sel].sum()
        lam, pd = cu["lam"][sel], cu["p"][sel]
        stationary += (t["p_alive"][sel] * -np.expm1(-lam * pd * h_op) / pd).sum()
    return expected, realized, stationary


def test_closed_form_truth_is_exact_for_the_non_stationary_process():
    ctx = make_ctx()
    expected, realized, _ = _truth_sums(ctx, ctx.n_days)
    assert realized > 5000
    assert abs(expected - realized) < 3 * np.sqrt(realized), (expected, realized)
    # customers acquired in the last 60 days are still in their honeymoon at the period end: the closed form
    # expects their extra purchases in the next 90 days, the stationary BG/NBD formula would miss them
    expected, realized, stationary = _truth_sums(make_ctx(horizon=90), 60)
    assert realized > 500
    assert abs(expected - realized) < 3 * np.sqrt(realized), (expected, realized)
    assert realized - stationary > 4 * np.sqrt(realized), (stationary, realized)


def _first_year_repeats(ctx: Context) -> dict[bool, float]:
    """Mean repeat purchases in the first 365 operational days, by holiday cohort (buyers without gift cards
    observed a full year)."""
    total = {True: 0, False: 0}
    count = {True: 0, False: 0}
    end_op = ctx.op_time[ctx.n_days]
    for cu in all_chunks(ctx):
        ok = ~cu["never"] & ~cu["gift"] & (cu["t0"] + 365 < end_op)
        rep = ~cu["order_first"]
        owner = cu["order_cust"][rep]
        first_year = cu["order_op"][rep] - cu["t0"][owner] < 365
        n_rep = np.bincount(owner[first_year], minlength=cu["n"])
        for hol in (True, False):
            sel = ok & (cu["holiday_cohort"] == hol)
            total[hol] += int(n_rep[sel].sum())
            count[hol] += int(sel.sum())
    return {hol: total[hol] / count[hol] for hol in (True, False)}


def test_peak_acquired_cohorts_repeat_less():
    ctx = make_ctx()
    r = _first_year_repeats(ctx)
    assert r[True] < 0.75 * r[False], r
    neutral = _first_year_repeats(make_ctx(holiday_cohort_frequency=1.0, holiday_cohort_dropout_odds=1.0))
    assert abs(neutral[True] / neutral[False] - 1) < 0.1, neutral


def test_holiday_cohort_is_november_and_december():
    ctx = make_ctx(months=24)
    days = np.arange(ctx.n_days)
    dates = [ctx.start + dt.timedelta(days=int(d)) for d in days]
    assert holiday_cohort(ctx, days).tolist() == [d.month >= 11 for d in dates]


def _browse_lead_share(ctx: Context) -> tuple[float, int]:
    """Share of browse sessions followed by a repeat order of the same customer within 7 days."""
    near = total = 0
    for k in range(ctx.n_chunks):
        cu = simulate_customers(ctx, k)
        b = browse_sessions(ctx, rng_for(ctx.seed, STREAM_CLICKSTREAM, k), cu, np.ones(cu["n"], bool))
        scale = 10**11
        orders = np.sort((cu["order_cust"] * scale + cu["order_s"])[~cu["order_first"]])
        key = b["cust"] * scale + b["start_s"]
        i = np.minimum(np.searchsorted(orders, key), max(len(orders) - 1, 0))
        nxt = orders[i]
        gap = np.where((nxt // scale == b["cust"]) & (nxt >= key), nxt - key, np.iinfo(np.int64).max)
        near += int((gap <= 7 * DAY).sum())
        total += len(key)
    return near / total, total


def test_browse_sessions_lead_orders():
    lead, n_lead = _browse_lead_share(make_ctx(n=10_000))
    flat, n_flat = _browse_lead_share(make_ctx(n=10_000, browse_lead_sessions=0.0))
    assert n_lead > 10_000 and n_flat > 5_000
    assert flat < 0.2, flat  # background browsing alone: few sessions just before an order
    assert lead > 2.5 * flat, (lead, flat)


def test_browsing_fades_after_dropout_instead_of_stopping():
    ctx = make_ctx(n=10_000)
    end_s = ctx.n_days * DAY
    delays, gone, quiet_alive = [], [0, 0], [0, 0]
    for k in range(ctx.n_chunks):
        cu = simulate_customers(ctx, k)
        b = browse_sessions(ctx, rng_for(ctx.seed, STREAM_CLICKSTREAM, k), cu, np.ones(cu["n"], bool))
        last = cu["signup_s"].copy()
        np.maximum.at(last, cu["order_cust"], cu["order_s"])
        dead = ~cu["never"] & cu["died_in_window"] & (last < end_s - 400 * DAY)
        after = dead[b["cust"]] & (b["start_s"] > last[b["cust"]])
        delays.append((b["start_s"] - last[b["cust"]])[after] / DAY)
        # in the last 90 days: dead customers hardly browse, alive customers without a purchase do
        recent = np.bincount(b["cust"][b["start_s"] >= end_s - 90 * DAY], minlength=cu["n"]) > 0
        quiet = ~cu["never"] & ~cu["died_in_window"] & (last < end_s - 180 * DAY)
        gone[0] += int(recent[dead].sum())
        gone[1] += int(dead.sum())
        quiet_alive[0] += int(recent[quiet].sum())
        quiet_alive[1] += int(quiet.sum())
    d = np.concatenate(delays)
    assert len(d) > 500
    assert abs(d.mean() - P.browse_fade_days) < 0.15 * P.browse_fade_days, d.mean()
    assert (d > 60).mean() > 0.05, "no hard stop 60 days after the last purchase"
    # (a BG/NBD customer who is alive but has not bought for half a year still browses now and then)
    assert gone[0] / gone[1] < 0.01, gone
    assert quiet_alive[0] / quiet_alive[1] > max(0.08, 10 * gone[0] / gone[1]), (quiet_alive, gone)


def test_sessions_leading_an_order_abandon_more_carts():
    rng = rng_for(1, 0)
    n = 100_000
    lead = np.arange(n) < n // 2
    c = _browse_counts(rng, P, n, np.where(lead, P.lead_cart_abandon_share, P.cart_abandon_share))
    carts = c[:, 4] > 0
    assert carts[lead].mean() > 2 * carts[~lead].mean()
    assert (c[:, 5] <= c[:, 4]).all()


def test_landing_clickstream_carries_the_lead_signal(sample):
    """In the written files: a customer's non-purchase sessions cluster in the week before their purchases."""
    purchases: dict[str, list[str]] = {}
    sessions: dict[str, tuple[str, str]] = {}
    kinds: dict[str, set[str]] = {}
    for _, line in sample["events"]:
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        sid, cid, ts = e.get("session_id"), e.get("customer_id"), e.get("event_ts")
        if not isinstance(sid, str) or not cid or not isinstance(ts, str) or len(ts) != 24:
            continue
        kinds.setdefault(sid, set()).add(e.get("event_type"))
        sessions.setdefault(sid, (cid, ts))
        if e.get("event_type") == "purchase":
            purchases.setdefault(cid, []).append(ts)
    to_s = np.vectorize(lambda t: dt.datetime.fromisoformat(t[:19]).timestamp())
    bought = {c: np.sort(to_s(v)) for c, v in purchases.items()}
    near, total = 0, 0
    for sid, (cid, ts) in sessions.items():
        if "purchase" in kinds[sid] or cid not in bought:
            continue
        t = to_s(ts)
        nxt = bought[cid][bought[cid] > t]
        total += 1
        near += bool(len(nxt)) and nxt[0] - t <= 7 * DAY
    assert total > 1000
    assert near / total > 0.3, (near, total)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"honeymoon_factor": -0.5}, "honeymoon_factor must be >= 0"),
        ({"honeymoon_days": 0.0}, "honeymoon_days must be > 0"),
        ({"holiday_cohort_start_doy": 400}, "holiday_cohort_start_doy must be an integer from 1 to 366"),
        ({"holiday_cohort_frequency": 0.0}, "holiday_cohort_frequency must be > 0"),
        ({"browse_lead_sessions": float("nan")}, "browse_lead_sessions must be >= 0"),
        ({"browse_fade_days": -1.0}, "browse_fade_days must be > 0"),
        ({"lead_cart_abandon_share": 1.5}, "lead_cart_abandon_share must be from 0 to 1"),
    ],
)
def test_process_parameters_are_validated(change, needle):
    with pytest.raises(ValueError, match=needle):
        dataclasses.replace(P, **change)
