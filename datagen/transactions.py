"""Transactional landing rows and the dated CRM extracts of one chunk, with the documented mess."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.formats import fixed, int_str, join, strings, ts_seconds
from datagen.pii import make_pii
from datagen.process import (
    DAY,
    STREAM_LINES,
    STREAM_MESS,
    STREAM_PII,
    Context,
    cancel_and_return,
    make_lines,
    rng_for,
)

CUSTOMER_ID_BASE = 10_000_000
TRANSACTION_COLUMNS = (
    "invoice_id", "customer_id", "invoice_ts", "sku", "quantity", "unit_price",
    "currency", "country", "channel", "email", "name",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "customer_id", "signup_date", "country", "acquisition_channel", "loyalty_status", "email", "name",
    "address",
)  # fmt: skip


def _date_parts(ctx: Context, day: np.ndarray) -> np.ndarray:
    d = np.datetime64(ctx.start, "D") + day
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return (y % 100) * 10_000 + mo * 100 + dd


def _guests(ctx: Context, rng: np.random.Generator, n_orders: int) -> dict:
    p = ctx.p
    g = rng.poisson(ctx.mess.missing_customer / (1 - ctx.mess.missing_customer) * n_orders)
    day = np.minimum(np.searchsorted(ctx.signup_cdf, rng.random(g), side="right"), ctx.n_days - 1)
    hour = np.minimum(np.searchsorted(ctx.hour_cdf, rng.random(g), side="right"), 23)
    country = rng.choice(len(ctx.countries), p=ctx.country_w, size=g)
    local = rng.random(g) < p.local_currency_share
    return {
        "n": g,
        "order_s": day * DAY + hour * 3600 + rng.integers(0, 3600, g),
        "country": country,
        "channel": rng.choice(len(ctx.channels) - 1, p=ctx.channel_w, size=g),
        "currency": np.where(local, ctx.country_currency[country], ctx.base_currency),
        "basket": rng.gamma(p.basket_shape, p.basket_mean / p.basket_shape, g),
        "qty": rng.gamma(p.quantity_shape, p.quantity_mean / p.quantity_shape, g),
        "gift": np.zeros(g, bool),
    }


def build_chunk(ctx: Context, chunk: int, cust: dict) -> dict:
    """Rows of one chunk: formatted CSV lines with their delivery slot and sort key, counts,
    the CRM lines of every extract date, and the period orders (for the clickstream)."""
    E, S, p, m, cat = ctx.n_days, ctx.scenario_day, ctx.p, ctx.mess, ctx.catalogue
    n = cust["n"]
    rng_l, rng_m = rng_for(ctx.seed, STREAM_LINES, chunk), rng_for(ctx.seed, STREAM_MESS, chunk)
    rng_pii = rng_for(ctx.seed, STREAM_PII, chunk)

    sel = cust["order_s"] // DAY < E
    o_cust, o_s, o_first = cust["order_cust"][sel], cust["order_s"][sel], cust["order_first"][sel]
    guests = _guests(ctx, rng_m, len(o_cust))
    G = guests["n"]
    attrs = {
        k: np.concatenate([cust[k], guests[k]])
        for k in ("country", "channel", "currency", "basket", "qty", "gift")
    }
    o_cust = np.concatenate([o_cust, n + np.arange(G)])
    o_s = np.concatenate([o_s, guests["order_s"]])
    o_first = np.concatenate([o_first, np.zeros(G, bool)])
    # order by time so that invoice numbers increase with time
    order = np.lexsort((o_cust, o_s))
    o_cust, o_s, o_first = o_cust[order], o_s[order], o_first[order]
    n_o = len(o_cust)
    o_day = o_s // DAY
    lines = make_lines(ctx, rng_l, attrs, o_cust, o_day, o_first)
    cr = cancel_and_return(ctx, rng_l, o_s, lines)

    # invoice numbers: YYMMDD + chunk (3 digits) + sequence within the day and chunk (5 digits)
    ret_orders = np.flatnonzero(cr["returned"])
    ret_s = cr["return_s"][ret_orders]
    ret_keep = ret_s // DAY < E
    ret_orders, ret_s, ret_line = ret_orders[ret_keep], ret_s[ret_keep], cr["ret_line"][ret_keep]
    inv_s = np.concatenate([o_s, ret_s])
    inv_day = inv_s // DAY
    srt = np.lexsort((np.arange(len(inv_s)), inv_s))
    first_of_day = np.searchsorted(inv_day[srt], inv_day[srt], side="left")
    seq = np.empty(len(inv_s), np.int64)
    seq[srt] = np.arange(len(inv_s)) - first_of_day
    if len(seq) and seq.max() >= 100_000:
        raise RuntimeError(f"chunk {chunk}: more than 99,999 invoices on one day")
    inv_num = _date_parts(ctx, inv_day) * 100_000_000 + chunk * 100_000 + seq
    inv_id = pc.utf8_lpad(int_str(inv_num), 14, "0")

    # rows: order lines, cancellation lines, return lines
    li_o = lines["order"]
    canc_line = np.flatnonzero(cr["cancelled"][li_o] & (cr["cancel_s"][li_o] // DAY < E))
    row_line = np.concatenate([np.arange(len(li_o)), canc_line, ret_line])
    kind_row = np.concatenate(
        [np.zeros(len(li_o)), np.ones(len(canc_line)), np.full(len(ret_line), 2)]
    ).astype(np.int8)
    row_order = li_o[row_line]
    row_s = np.concatenate([o_s[li_o], cr["cancel_s"][li_o[canc_line]], ret_s])
    row_inv = np.concatenate([li_o, li_o[canc_line], n_o + np.arange(len(ret_line))])  # invoice index
    inv_key = np.where(kind_row == 1, len(inv_s) + row_inv, row_inv)  # cancellations are their own invoice
    sign = np.where(kind_row == 0, 1, -1)
    qty = lines["quantity"][row_line] * sign
    sku = lines["sku"][row_line]
    line_kind = lines["kind"][row_line]
    rc = o_cust[row_order]
    cur = attrs["currency"][rc]
    price_cents = np.round(cat.price_pennies[sku] / ctx.fx[cur]).astype(np.int64)

    # mess: outliers, late invoices, pipeline bug, duplicates
    n_rows = len(row_line)
    outlier = (kind_row == 0) & (line_kind == 0) & (rng_m.random(n_rows) < m.outlier)
    qty = np.where(outlier, qty * rng_m.integers(200, 2001, n_rows), qty)
    n_inv = 2 * len(inv_s)
    lag = np.where(rng_m.random(n_inv) < m.late, rng_m.integers(1, 6, n_inv), 0)
    row_day = row_s // DAY
    deliver = row_day + lag[inv_key]
    late = (lag[inv_key] > 0) & (deliver < E)
    deliver = np.where(late, deliver, row_day)
    alt_sku = np.zeros(n_rows, bool)
    null_country = np.zeros(n_rows, bool)
    u_sku, u_null = rng_m.random(n_rows), rng_m.random(n_rows)
    if ctx.scenario == "pipeline-bug":
        bug = deliver >= S
        alt_sku = bug & (line_kind == 0) & (u_sku < p.pipeline_bug_sku_share)
        null_country = bug & (u_null < p.pipeline_bug_null_share)
    dup = rng_m.random(n_rows) < m.duplicate
    rep = 1 + dup.astype(np.int64)

    # format
    pii = make_pii(rng_pii, CUSTOMER_ID_BASE + cust["g0"] + np.arange(n))
    gpii = make_pii(rng_pii, np.arange(G))
    cid = int_str(CUSTOMER_ID_BASE + cust["g0"] + np.arange(n))
    cid_all = pa.concat_arrays([cid, pa.array([None] * G, pa.string())])
    email_all = pa.concat_arrays([pii["email"], gpii["email"]])
    name_all = pa.concat_arrays([pii["name"], gpii["name"]])
    rc_a = pa.array(rc)
    inv_txt = inv_id.take(pa.array(row_inv))
    inv_txt = pc.if_else(pa.array(kind_row == 1), join([pa.scalar("C"), inv_txt]), inv_txt)
    sku_txt = pc.if_else(pa.array(alt_sku), strings(cat.alt_codes, sku), strings(cat.skus, sku))
    country_txt = strings(ctx.countries, attrs["country"][rc])
    country_txt = pc.if_else(pa.array(null_country), pa.scalar(None, pa.string()), country_txt)
    text = join(
        [
            inv_txt,
            cid_all.take(rc_a),
            ts_seconds(ctx.start_epoch_s + row_s),
            sku_txt,
            int_str(qty),
            fixed(price_cents, 2),
            strings(ctx.currencies, cur),
            country_txt,
            strings(ctx.channels, attrs["channel"][rc]),
            email_all.take(rc_a),
            name_all.take(rc_a),
        ],
        ",",
    )
    text = join([text, pa.scalar("\n")])
    idx = np.repeat(np.arange(n_rows), rep)
    slot = (deliver * 2 + late)[idx]
    key = row_s[idx]
    text = text.take(pa.array(idx))

    is_gift = line_kind == 1
    counts = {
        "rows": int(len(idx)),
        "rows_on_time": int(rep[~late].sum()),
        "rows_late": int(rep[late].sum()),
        "invoices": int(len(np.unique(inv_key))),
        "orders": int(n_o),
        "cancellation_invoices": int(len(np.unique(row_inv[kind_row == 1]))),
        "cancellation_rows": int(rep[kind_row == 1].sum()),
        "return_invoices": int(len(ret_line)),
        "return_rows": int(rep[kind_row == 2].sum()),
        "missing_customer_invoices": int(len(np.unique(inv_key[rc >= n]))),
        "missing_customer_rows": int(rep[rc >= n].sum()),
        "duplicate_rows": int(dup.sum()),
        "outlier_rows": int(rep[outlier].sum()),
        "gift_card_rows": int(rep[is_gift].sum()),
        "gift_card_purchases": int(((kind_row == 0) & is_gift).sum()),
        "non_product_rows": int(rep[line_kind == 2].sum()),
        "late_invoices": int(len(np.unique(inv_key[late]))),
        "pipeline_bug_alphanumeric_sku_rows": int(rep[alt_sku].sum()),
        "pipeline_bug_null_country_rows": int(rep[null_country].sum()),
        "rows_by_currency": {c: int(rep[cur == i].sum()) for i, c in enumerate(ctx.currencies)},
    }

    # CRM extracts, one per date D of ctx.crm_days (as day index): the customers who signed up before D, with
    # the loyalty status of their orders before D 00:00 UTC; the last one (D = the period end) sees them all.
    # purchases[i, k]: orders of customer i before extract k's date; crm_cust[k]: its customers, in order
    K = len(ctx.crm_days)
    own = o_cust < n
    seen_from = np.searchsorted(ctx.crm_days, o_day[own], side="right")  # first extract that sees the order
    purchases = np.bincount(o_cust[own] * K + seen_from, minlength=n * K).reshape(n, K).cumsum(axis=1)
    loyalty = np.searchsorted(np.asarray(p.loyalty_thresholds), purchases, side="right")
    crm_cust = [np.flatnonzero(cust["signup_day"] < d) for d in ctx.crm_days]
    crm_loyalty = [loyalty[c, k] for k, c in enumerate(crm_cust)]
    signup_date = pc.cast(
        pa.array((ctx.start_epoch_s // DAY + cust["signup_day"]).astype(np.int32), pa.date32()), pa.string()
    )
    head = join(
        [cid, signup_date, strings(ctx.countries, cust["country"]), strings(ctx.channels, cust["channel"])],
        ",",
    )
    tail = join([pii["email"], pii["name"], pii["address"]], ",")
    rc_crm = pa.array(np.concatenate(crm_cust))
    status = strings(ctx.ref.loyalty_statuses, np.concatenate(crm_loyalty))
    crm = join([head.take(rc_crm), ",", status, ",", tail.take(rc_crm), "\n"])
    n_status = len(ctx.ref.loyalty_statuses)
    o_rev_cents = np.bincount(
        li_o,
        weights=np.round(cat.price_pennies[lines["sku"]] / ctx.fx[attrs["currency"][o_cust[li_o]]])
        * lines["quantity"],
        minlength=n_o,
    )
    return {
        "tx_text": text,
        "tx_slot": slot,
        "tx_key": key,
        "counts": counts,
        "crm_text": crm,  # the extracts one after the other, in date order
        "crm_rows": np.array([len(c) for c in crm_cust], dtype=np.int64),
        "crm_loyalty_counts": np.stack([np.bincount(lo, minlength=n_status) for lo in crm_loyalty]),
        "orders": {
            "cust": o_cust,
            "s": o_s,
            "inv_id": inv_id.slice(0, n_o),
            "revenue_cents": o_rev_cents.astype(np.int64),
            "currency": attrs["currency"][o_cust],
            "country": attrs["country"][o_cust],
            "n_customers": n,
            "customer_ids": cid,
        },
        "lines": {"order": li_o, "sku": lines["sku"], "quantity": lines["quantity"], "kind": lines["kind"]},
    }
