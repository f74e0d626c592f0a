"""Clickstream events of one chunk as JSON lines, correlated with the chunk's purchases."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.formats import fixed, hex_ids, int_str, join, strings, ts_iso_ms
from datagen.params import MALFORMED_KINDS
from datagen.process import (
    DAY,
    STREAM_CLICKSTREAM,
    Context,
    cumulative_rate,
    inverse_cumulative_rate,
    rng_for,
    sample_second_of_day,
)

# Event types in the order they occur within a session (names from the event schema).
TYPES = ("session_start", "page_view", "search", "product_view", "add_to_cart", "checkout", "purchase")
DEVICES = ("desktop", "mobile", "tablet")
PAGES = ("/", "/new", "/sale", "/gifts", "/account", "/help", "/category/home", "/category/kitchen",
         "/category/garden", "/category/party", "/category/stationery", "/category/christmas")  # fmt: skip
QUERIES = ("candle", "mug", "lantern", "bag", "card", "cushion", "clock", "gift set", "tea light", "bunting",
           "vintage", "heart", "retrospot", "jumbo bag", "christmas", "paper chain")  # fmt: skip
UNKNOWN_TYPE = "add_to_wishlist"
BAD_TIMESTAMPS = ("2024-02-30T25:61:00Z", "not-a-timestamp", "1709296496", "01/03/2024 12:34")
OVERSIZE_PAD = 17 * 1024
MS = 1000


def _check_vocabulary(ctx: Context) -> None:
    missing = [t for t in TYPES if t not in ctx.ref.event_types]
    if missing or UNKNOWN_TYPE in ctx.ref.event_types:
        raise ValueError(
            f"clickstream_event_types in the reference data must contain {list(TYPES)} "
            f"and not {UNKNOWN_TYPE!r}; missing {missing}"
        )


def _browse_counts(rng: np.random.Generator, p, n: int, cart_share=None) -> np.ndarray:
    """(n, 7) event counts per session in TYPES order for browse sessions; cart_share (per session,
    default p.cart_abandon_share) is the chance of an abandoned cart, a third of which reach checkout."""
    cart_share = p.cart_abandon_share if cart_share is None else cart_share
    c = np.zeros((n, len(TYPES)), np.int64)
    c[:, 0] = 1
    c[:, 1] = rng.integers(1, 4, n)
    c[:, 2] = rng.random(n) < 0.4
    c[:, 3] = rng.integers(0, 4, n)
    cart = (c[:, 3] > 0) & (rng.random(n) < cart_share)
    c[:, 4] = cart
    c[:, 5] = cart & (rng.random(n) < p.checkout_abandon_share / p.cart_abandon_share)
    return c


def browse_sessions(ctx: Context, rng: np.random.Generator, cust: dict, tracked: np.ndarray) -> dict:
    """Browse (non-purchase) sessions of the chunk's tracked customers: customer, start second, and
    whether the session leads an order. Three parts (docs/data-generator.md, "How the shop departs from
    BG/NBD"):

    - background, while alive: a Poisson process on the operational clock at browse_sessions_per_purchase
      x the purchase rate (honeymoon included), plus browse_sessions_base sessions, placed like purchases;
    - fading after dropout (death = the last purchase of a customer who dies in the simulation window,
      signup for never-buyers): Poisson(browse_sessions_per_purchase x lambda x fade + base) sessions,
      each Exponential(mean browse_fade_days) after death;
    - leading each repeat order (also the orders after the period end, so the period's last weeks carry
      signal about the next purchase): Poisson(browse_lead_sessions), each Exponential(mean
      browse_lead_days) before the order, with more abandoned carts (lead_cart_abandon_share).
    Sessions outside [signup, period end) are dropped.
    """
    p, n = ctx.p, cust["n"]
    end_s = ctx.n_days * DAY
    signup_s, t0, lam = cust["signup_s"], cust["t0"], cust["lam"]
    oc, o_s = cust["order_cust"], cust["order_s"]
    last_s = signup_s.copy()
    np.maximum.at(last_s, oc, o_s)
    dead = cust["never"] | cust["died_in_window"]
    dead_in_period = dead & (last_s < end_s)
    # background while alive: up to death or the period end, on the operational clock
    alive_end_s = np.where(dead_in_period, last_s, end_s)
    ae_day = np.minimum(alive_end_s // DAY, ctx.n_days - 1)
    ae_op = ctx.op_time[ae_day] + ctx.intensity[ae_day] * (alive_end_s - ae_day * DAY) / DAY
    m_alive = cumulative_rate(lam, ae_op - t0, p)
    base_alive = np.where(dead_in_period, 0.0, p.browse_sessions_base)
    n_bg = rng.poisson(p.browse_sessions_per_purchase * m_alive + base_alive) * tracked
    bg_cust = np.repeat(np.arange(n), n_bg)
    x = inverse_cumulative_rate(lam[bg_cust], rng.random(len(bg_cust)) * m_alive[bg_cust], p)
    u_op = t0[bg_cust] + x
    bg_day = np.clip(np.searchsorted(ctx.op_time, u_op, side="right") - 1, 0, ctx.n_days - 1)
    bg_s = np.maximum(bg_day * DAY + sample_second_of_day(rng, ctx, len(bg_cust)), signup_s[bg_cust])
    bg_s = np.minimum(bg_s, alive_end_s[bg_cust])
    # fading after death
    fade_mean = p.browse_sessions_per_purchase * lam * p.browse_fade_days + p.browse_sessions_base
    n_fade = rng.poisson(np.where(dead_in_period, fade_mean, 0.0)) * tracked
    fd_cust = np.repeat(np.arange(n), n_fade)
    fd_s = last_s[fd_cust] + (rng.exponential(p.browse_fade_days, len(fd_cust)) * DAY).astype(np.int64)
    # leading repeat orders
    rep = np.flatnonzero(~cust["order_first"] & tracked[oc])
    n_lead = rng.poisson(p.browse_lead_sessions, len(rep))
    ld_order = np.repeat(rep, n_lead)
    ld_cust = oc[ld_order]
    ld_s = o_s[ld_order] - (rng.exponential(p.browse_lead_days, len(ld_order)) * DAY).astype(np.int64)
    b_cust = np.concatenate([bg_cust, fd_cust, ld_cust])
    b_start = np.concatenate([bg_s, fd_s, ld_s])
    lead = np.concatenate([np.zeros(len(bg_cust) + len(fd_cust), bool), np.ones(len(ld_cust), bool)])
    keep = (b_start >= signup_s[b_cust]) & (b_start < end_s)
    return {"cust": b_cust[keep], "start_s": b_start[keep], "lead": lead[keep]}


def build_events(ctx: Context, chunk: int, cust: dict, tx: dict) -> dict:
    _check_vocabulary(ctx)
    p, m, cat = ctx.p, ctx.mess, ctx.catalogue
    rng = rng_for(ctx.seed, STREAM_CLICKSTREAM, chunk)
    orders, lines = tx["orders"], tx["lines"]
    n = orders["n_customers"]
    n_all = n + int(max(orders["cust"].max(initial=-1) + 1 - n, 0))
    tracked = rng.random(n_all) < ctx.clickstream_share
    device_pref = rng.choice(len(DEVICES), p=np.asarray(p.device_weights) / sum(p.device_weights), size=n_all)
    anon_id = hex_ids(rng, n_all, 8)

    # A. purchase sessions: one per order of a tracked customer or guest
    po = np.flatnonzero(tracked[orders["cust"]])
    item = lines["kind"] < 2
    n_items = np.bincount(lines["order"][item], minlength=len(orders["s"]))
    first_line = np.concatenate([[0], np.cumsum(np.bincount(lines["order"], minlength=len(orders["s"])))])[
        :-1
    ]
    ca = np.zeros((len(po), len(TYPES)), np.int64)
    ca[:, 0] = 1
    ca[:, 1] = 1
    ca[:, 2] = rng.random(len(po)) < p.search_share
    ca[:, 3] = n_items[po]
    ca[:, 4] = n_items[po]
    ca[:, 5] = 1
    ca[:, 6] = 1
    # B. browse sessions of tracked customers: while alive, fading after dropout, leading orders
    oc = orders["cust"]
    browse = browse_sessions(ctx, rng, cust, tracked[:n])
    b_cust, b_start = browse["cust"], browse["start_s"]
    cb = _browse_counts(
        rng, p, len(b_cust), np.where(browse["lead"], p.lead_cart_abandon_share, p.cart_abandon_share)
    )
    # C. anonymous visitors
    n_anon = rng.poisson(p.anonymous_session_share * (len(po) + len(b_cust)))
    a_day = np.minimum(np.searchsorted(ctx.signup_cdf, rng.random(n_anon), side="right"), ctx.n_days - 1)
    a_start = (
        a_day * DAY + np.minimum(np.searchsorted(ctx.hour_cdf, rng.random(n_anon), side="right"), 23) * 3600
    )
    a_start = a_start + rng.integers(0, 3600, n_anon)
    cc = _browse_counts(rng, p, n_anon)

    counts = np.concatenate([ca, cb, cc])
    n_sess = len(counts)
    kind = np.concatenate([np.zeros(len(po)), np.ones(len(b_cust)), np.full(n_anon, 2)]).astype(np.int8)
    s_cust = np.concatenate([oc[po], b_cust, np.full(n_anon, -1)])
    flat = counts.ravel()
    ev_sess = np.repeat(np.repeat(np.arange(n_sess), len(TYPES)), flat)
    ev_type = np.repeat(np.tile(np.arange(len(TYPES)), n_sess), flat)
    n_ev = len(ev_type)
    grp_start = np.cumsum(flat) - flat
    ev_pos = np.arange(n_ev) - np.repeat(grp_start, flat)
    # times: gaps of ~40 s between events; purchase sessions end at the invoice time
    gaps = (rng.exponential(40.0, n_ev) * MS).astype(np.int64) + 1000
    sess_first = np.cumsum(counts.sum(1)) - counts.sum(1)
    gaps[sess_first] = 0
    cum = np.cumsum(gaps)
    offset = cum - np.repeat(cum[sess_first], counts.sum(1))
    total_off = offset[np.cumsum(counts.sum(1)) - 1] if n_ev else np.zeros(0, np.int64)
    s_start_ms = np.concatenate([orders["s"][po] * MS - total_off[: len(po)], b_start * MS, a_start * MS])
    s_start_ms = s_start_ms + np.where(kind == 0, 0, rng.integers(0, MS, n_sess))
    ev_ms = s_start_ms[ev_sess] + offset

    # per-session part of every line (fixed key order)
    dev = np.where(
        rng.random(n_sess) < p.device_loyalty, device_pref[np.maximum(s_cust, 0)], rng.integers(0, 3, n_sess)
    )
    a_country = rng.choice(len(ctx.countries), p=ctx.country_w, size=n_anon)
    s_country = np.concatenate([orders["country"][po], cust["country"][b_cust], a_country])
    sid = hex_ids(rng, n_sess, 16)
    anon_new = hex_ids(rng, n_anon, 8)
    s_anon = pa.concat_arrays([anon_id.take(pa.array(s_cust[: n_sess - n_anon])), anon_new])
    cids = pa.concat_arrays([orders["customer_ids"], pa.array([None] * (n_all - n), pa.string())])
    known = np.concatenate([s_cust[: n_sess - n_anon] < n, np.zeros(n_anon, bool)])
    cid_json = pc.if_else(
        pa.array(known),
        join([pa.scalar('"'), cids.take(pa.array(np.maximum(s_cust, 0))), pa.scalar('"')]),
        pa.scalar("null"),
    )
    sess_part = join(
        [
            pa.scalar('","session_id":"'),
            sid,
            pa.scalar('","customer_id":'),
            cid_json,
            pa.scalar(',"anonymous_id":"'),
            s_anon,
            pa.scalar('","device":"'),
            strings(DEVICES, dev),
            pa.scalar('","country":'),
            strings([json.dumps(c) for c in ctx.countries], s_country),
        ]
    )

    # type-specific fields: one array per type (events in order), then put in event order
    t = ev_type
    is_purchase_sess = kind[ev_sess] == 0
    line_of_ev = (
        first_line[po[np.minimum(ev_sess, max(len(po) - 1, 0))]] + ev_pos
        if len(po)
        else np.zeros(n_ev, np.int64)
    )
    ev_line = np.minimum(line_of_ev, max(len(lines["sku"]) - 1, 0))
    has_lines = len(lines["sku"]) > 0
    rand_sku = np.minimum(
        np.searchsorted(cat.popularity_cdf, rng.random(n_ev), side="right"), cat.n_products - 1
    )
    ev_sku = np.where(is_purchase_sess, lines["sku"][ev_line] if has_lines else 0, rand_sku)
    ev_qty = np.where(
        is_purchase_sess, lines["quantity"][ev_line] if has_lines else 1, rng.integers(1, 3, n_ev)
    )
    sku_json = [json.dumps(s) for s in cat.skus]
    cur_json = [json.dumps(c) for c in ctx.currencies]
    s_cur = np.concatenate(
        [orders["currency"][po], cust["currency"][b_cust], np.full(n_anon, ctx.base_currency)]
    )
    s_value = np.concatenate([orders["revenue_cents"][po], rng.integers(200, 20_000, n_sess - len(po))])
    sel = [t == i for i in range(len(TYPES))]
    k = [int(s.sum()) for s in sel]
    pv, se, vw, ad, co, pu = (np.flatnonzero(s) for s in sel[1:])
    page_idx = np.where(is_purchase_sess[pv] | (ev_pos[pv] == 0), 0, rng.integers(0, len(PAGES), k[1]))
    pieces = [
        pa.array(np.full(k[0], ""), pa.string()),
        join([pa.scalar(',"page":"'), strings(PAGES, page_idx), pa.scalar('"')]),
        join([pa.scalar(',"query":"'), strings(QUERIES, rng.integers(0, len(QUERIES), k[2])),
              pa.scalar('"')]),
        join([pa.scalar(',"sku":'), strings(sku_json, ev_sku[vw])]),
        join([pa.scalar(',"sku":'), strings(sku_json, ev_sku[ad]), pa.scalar(',"quantity":'),
              int_str(ev_qty[ad])]),
        join([pa.scalar(',"cart_value":'), fixed(s_value[ev_sess[co]], 2), pa.scalar(',"currency":'),
              strings(cur_json, s_cur[ev_sess[co]])]),
        join([pa.scalar(',"order_id":"'), orders["inv_id"].take(pa.array(po[ev_sess[pu]])),
              pa.scalar('","revenue":'), fixed(s_value[ev_sess[pu]], 2), pa.scalar(',"currency":'),
              strings(cur_json, s_cur[ev_sess[pu]])]),
    ]  # fmt: skip
    where = np.empty(n_ev, np.int64)
    where[np.argsort(t, kind="stable")] = np.arange(n_ev)
    extra = pa.concat_arrays([x.cast(pa.string()) for x in pieces]).take(pa.array(where))

    text = join(
        [
            pa.scalar('{"schema_version":1,"event_id":"'),
            hex_ids(rng, n_ev, 16, uuid=True),
            pa.scalar('","event_type":"'),
            strings(TYPES, t),
            pa.scalar('","event_ts":"'),
            ts_iso_ms(ctx.start_epoch_s * MS + ev_ms),
            sess_part.take(pa.array(ev_sess)),
            extra,
            pa.scalar("}\n"),
        ]
    )

    # malformed events: disjoint random subsets, one per kind, rewritten from the valid line
    u = rng.random(n_ev)
    rates = [m.malformed_event] * (len(MALFORMED_KINDS) - 1) + [m.oversized_event]
    edges = np.cumsum([0.0, *rates])
    bad_kind = np.searchsorted(edges, u, side="right") - 1  # index into MALFORMED_KINDS where < len
    bad_idx = np.flatnonzero(bad_kind < len(MALFORMED_KINDS))
    if len(bad_idx):
        broken = [
            _break(MALFORMED_KINDS[bad_kind[i]], line, rng)
            for i, line in zip(bad_idx, text.take(pa.array(bad_idx)).to_pylist(), strict=True)
        ]
        mask = np.zeros(n_ev, bool)
        mask[bad_idx] = True
        text = pc.replace_with_mask(text, pa.array(mask), pa.array(broken, pa.string()))
    malformed = {kname: int((bad_kind[bad_idx] == i).sum()) for i, kname in enumerate(MALFORMED_KINDS)}
    day = np.clip(ev_ms // (DAY * MS), 0, ctx.n_days - 1)
    return {
        "ev_text": text,
        "ev_slot": day,
        "ev_key": ev_ms,
        "counts": {
            "events": int(n_ev),
            "events_valid": int(n_ev - len(bad_idx)),
            "sessions": int(n_sess),
            "purchase_sessions": int(len(po)),
            "browse_sessions": int(len(b_cust)),
            "anonymous_sessions": int(n_anon),
            "tracked_customers": int(tracked[:n].sum()),
            "events_by_type": {ty: int(k[i] - (t[bad_idx] == i).sum()) for i, ty in enumerate(TYPES)},
            "malformed": malformed,
        },
    }


def _break(kind: str, line: str, rng: np.random.Generator) -> str:
    """Turn one valid event line into a malformed one of the given kind."""
    event = json.loads(line)
    if kind == "invalid_json":
        body = line.rstrip("\n")
        return body[: int(rng.integers(10, len(body) - 1))] + "\n"
    if kind == "missing_id":
        event.pop("event_id" if rng.random() < 0.5 else "session_id")
    elif kind == "bad_timestamp":
        event["event_ts"] = BAD_TIMESTAMPS[int(rng.integers(0, len(BAD_TIMESTAMPS)))]
    elif kind == "wrong_type":
        event["session_id"] = int(rng.integers(1, 10**9))
    elif kind == "unknown_event_type":
        event["event_type"] = UNKNOWN_TYPE
    elif kind == "oversized":
        event["debug"] = "x" * OVERSIZE_PAD
    return json.dumps(event, separators=(",", ":")) + "\n"
