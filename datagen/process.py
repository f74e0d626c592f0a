"""The generating process: calendar and seasonality, catalogue, customers, orders, lines, ground truth.

All functions are vectorized over one chunk of customers and draw from generators seeded with
explicitly derived child seeds: SeedSequence(seed, spawn_key=(stream, chunk)).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from scipy.special import lambertw

from datagen.params import CHUNK_CUSTOMERS, MessRates, Process, name_effects
from datagen.params import position_weights as _position_weights
from datagen.reference import Reference

# Random streams (first element of the spawn key).
STREAM_CATALOGUE = 0
STREAM_CUSTOMERS = 1
STREAM_LINES = 2
STREAM_MESS = 3
STREAM_CLICKSTREAM = 4
STREAM_PII = 5
STREAM_TRUTH_LINES = 6

MAX_HORIZON_DAYS = 730  # purchases are always simulated this far past the period end
DAY = 86_400
EPOCH = dt.date(1970, 1, 1)

SCENARIOS = ("none", "drift-channel", "drift-spend", "pipeline-bug")


def rng_for(seed: int, stream: int, chunk: int = 0) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, chunk))))


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1) if d.day == 1 else _clamp_day(d.year + y, m + 1, d.day)


def crm_extract_dates(start: dt.date, end: dt.date, every_months: int) -> list[dt.date]:
    """Dates of the CRM extracts: start + k x every_months months (k >= 1) before the exclusive end, then
    the end itself. The extract dated D is the CRM's state at D 00:00 UTC."""
    dates = []
    k = 1
    while (d := add_months(start, k * every_months)) < end:
        dates.append(d)
        k += 1
    return [*dates, end]


def _clamp_day(y: int, m: int, day: int) -> dt.date:
    for dd in range(day, 27, -1):
        try:
            return dt.date(y, m, dd)
        except ValueError:
            continue
    return dt.date(y, m, min(day, 28))  # a day up to the 28th exists in every month


def seasonal_intensity(start: dt.date, n_days: int, p: Process) -> np.ndarray:
    """Daily purchase-intensity multiplier: weekly x yearly, scaled to mean 1 over a year."""
    days = np.arange(n_days)
    dates = np.datetime64(start) + days
    dow = (days + start.weekday()) % 7
    doy = (dates - dates.astype("datetime64[Y]")).astype(int) + 1
    weekly = np.asarray(p.weekly) / np.mean(p.weekly)
    return weekly[dow] * _yearly(doy, p) / _yearly(np.arange(1, 366), p).mean()


def _yearly(doy: np.ndarray, p: Process) -> np.ndarray:
    doy = np.asarray(doy, dtype=float)
    dist = np.minimum(np.abs(doy - p.peak_day_of_year), 365 - np.abs(doy - p.peak_day_of_year))
    summer = np.minimum(np.abs(doy - 196), 365 - np.abs(doy - 196))
    return (
        1
        + p.peak_height * np.exp(-0.5 * (dist / p.peak_width_days) ** 2)
        - p.summer_dip * np.exp(-0.5 * (summer / 30) ** 2)
    )


def cumulative_rate(lam: np.ndarray, x: np.ndarray, p: Process) -> np.ndarray:
    """Expected purchase arrivals in the first x operational days after signup (alive throughout):
    the integral of lam (1 + h exp(-u / tau)) du from 0 to x = lam (x + h tau (1 - exp(-x / tau)))."""
    x = np.maximum(x, 0.0)
    return lam * (x + p.honeymoon_factor * p.honeymoon_days * -np.expm1(-x / p.honeymoon_days))


def inverse_cumulative_rate(lam: np.ndarray, m: np.ndarray, p: Process) -> np.ndarray:
    """The x with cumulative_rate(lam, x) = m: with z = x / tau, z + h (1 - e^-z) = y := m / (lam tau),
    whose solution is z = a + W0(h e^-a), a = y - h (W0 the principal Lambert W branch)."""
    tau, h = p.honeymoon_days, p.honeymoon_factor
    a = m / (lam * tau) - h
    if h == 0:
        return a * tau
    return (a + lambertw(h * np.exp(-a)).real) * tau


def holiday_cohort(ctx: Context, day: np.ndarray) -> np.ndarray:
    """Whether a signup day (index into the period) falls in the Nov-Dec acquisition peak."""
    d = np.datetime64(ctx.start, "D") + np.asarray(day)
    doy = (d - d.astype("datetime64[Y]")).astype(np.int64) + 1
    return doy >= ctx.p.holiday_cohort_start_doy


@dataclass
class Catalogue:
    skus: list[str]  # products, then gift cards, then non-product SKUs
    alt_codes: list[str]  # same positions; products get an alphanumeric id (pipeline-bug scenario)
    price_pennies: np.ndarray  # GBP
    kind: np.ndarray  # 0 product, 1 gift card, 2 non-product
    n_products: int
    gift_first: int
    nonproduct_first: int
    popularity_cdf: np.ndarray
    mean_product_price: float  # GBP, popularity-weighted

    @property
    def postage(self) -> int:
        return self.nonproduct_first


def make_catalogue(seed: int, ref: Reference, p: Process) -> Catalogue:
    rng = rng_for(seed, STREAM_CATALOGUE)
    numbers = rng.choice(np.arange(10_000, 100_000), size=p.n_skus, replace=False)
    suffix = rng.random(p.n_skus) < p.sku_suffix_share
    letters = rng.integers(0, 26, size=p.n_skus)
    skus = [
        f"{n}{chr(65 + int(c))}" if s else str(n) for n, s, c in zip(numbers, suffix, letters, strict=True)
    ]
    alnum = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", dtype=np.uint8)
    codes = alnum[rng.integers(0, len(alnum), size=(p.n_skus, 8))]
    alt = ["P" + bytes(row).decode() for row in codes]
    price = np.maximum(
        10, np.round(rng.lognormal(p.price_log_mean, p.price_log_sigma, p.n_skus) * 100)
    ).astype(np.int64)
    ranks = rng.permutation(p.n_skus)
    w = 1.0 / (ranks + 10.0) ** p.popularity_exponent
    w /= w.sum()
    gift = [f"{ref.gift_card_sku_prefix}_{v:04d}" for v in p.gift_card_values]
    gift_price = np.array(p.gift_card_values, dtype=np.int64) * 100
    nonprod = list(ref.non_product_skus)
    np_price = np.round(rng.lognormal(np.log(8.0), 1.0, len(nonprod)) * 100).astype(np.int64)
    np_price[0] = round(p.postage_price * 100)
    return Catalogue(
        skus=skus + gift + nonprod,
        alt_codes=alt + gift + nonprod,
        price_pennies=np.concatenate([price, gift_price, np.maximum(np_price, 1)]),
        kind=np.concatenate([np.zeros(p.n_skus), np.ones(len(gift)), np.full(len(nonprod), 2)]).astype(
            np.int8
        ),
        n_products=p.n_skus,
        gift_first=p.n_skus,
        nonproduct_first=p.n_skus + len(gift),
        popularity_cdf=np.cumsum(w),
        mean_product_price=float((w * price).sum() / 100),
    )


@dataclass
class Context:
    """Everything a chunk needs; built once, shared by workers."""

    seed: int
    n_customers: int
    start: dt.date
    months: int
    scenario: str
    scenario_start: dt.date
    truth_horizon_days: int  # 0: no ground truth
    clickstream_share: float
    ref: Reference
    p: Process = field(default_factory=Process)
    mess: MessRates = field(default_factory=MessRates)

    def __post_init__(self) -> None:
        self.end = add_months(self.start, self.months)  # exclusive
        self.n_days = (self.end - self.start).days
        self.crm_dates = crm_extract_dates(self.start, self.end, self.p.crm_extract_months)
        self.crm_days = np.array([(d - self.start).days for d in self.crm_dates], dtype=np.int64)
        self.scenario_day = (self.scenario_start - self.start).days
        total = self.n_days + MAX_HORIZON_DAYS
        self.intensity = seasonal_intensity(self.start, total, self.p)
        self.op_time = np.concatenate([[0.0], np.cumsum(self.intensity)])  # at each day boundary
        growth = 1 + self.p.signup_growth * np.arange(self.n_days) / self.n_days
        w = growth * self.intensity[: self.n_days]
        self.signup_cdf = np.cumsum(w) / w.sum()
        hw = np.asarray(self.p.hour_weights, dtype=float)
        self.hour_cdf = np.cumsum(hw) / hw.sum()
        self.start_epoch_s = (self.start - EPOCH).days * DAY
        ref = self.ref
        self.countries = list(ref.countries)
        self.channels = list(ref.channels) + list(ref.drift_channels[:1])
        self.drift_channel = len(ref.channels)
        self.country_w = _position_weights(
            len(self.countries), self.p.home_country_share, self.p.country_decay
        )
        self.channel_w = _position_weights(len(ref.channels), None, self.p.channel_decay)
        ce = name_effects("country", ref.countries, self.p.effect_sigma)
        he = name_effects("channel", ref.channels, self.p.effect_sigma)
        he[ref.drift_channels[0]] = {
            "frequency": self.p.drift_channel_lambda,
            "dropout_odds": self.p.drift_channel_dropout_odds,
            "spend": self.p.drift_channel_spend,
        }
        self.country_effects, self.channel_effects = ce, he
        self.eff = {
            key: (
                np.array([ce[c][key] for c in self.countries]),
                np.array([he[c][key] for c in self.channels]),
            )
            for key in ("frequency", "dropout_odds", "spend")
        }
        self.currencies = list(ref.fx_to_base)
        self.base_currency = self.currencies.index(ref.base_currency)
        cc = ref.country_currency
        self.country_currency = np.array(
            [
                self.currencies.index(cc[c]) if cc.get(c) in ref.fx_to_base else self.base_currency
                for c in self.countries
            ]
        )
        self.fx = np.array([ref.fx_to_base[c] for c in self.currencies])
        self.catalogue = make_catalogue(self.seed, ref, self.p)
        self.n_chunks = -(-self.n_customers // CHUNK_CUSTOMERS)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        g0 = chunk * CHUNK_CUSTOMERS
        return g0, min(self.n_customers, g0 + CHUNK_CUSTOMERS)


def sample_second_of_day(rng: np.random.Generator, ctx: Context, n: int) -> np.ndarray:
    hour = np.searchsorted(ctx.hour_cdf, rng.random(n), side="right")
    return np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, size=n)


def simulate_customers(ctx: Context, chunk: int) -> dict:
    """Customers of one chunk: attributes, latent parameters and all purchase times.

    Purchases are simulated to MAX_HORIZON_DAYS past the period end, so the period's data do not
    depend on --truth-horizon-days.
    """
    p, rng = ctx.p, rng_for(ctx.seed, STREAM_CUSTOMERS, chunk)
    g0, g1 = ctx.chunk_range(chunk)
    n = g1 - g0
    day = np.minimum(np.searchsorted(ctx.signup_cdf, rng.random(n), side="right"), ctx.n_days - 1)
    signup_s = day * DAY + sample_second_of_day(rng, ctx, n)
    country = rng.choice(len(ctx.countries), p=ctx.country_w, size=n)
    channel = rng.choice(len(ctx.channels) - 1, p=ctx.channel_w, size=n)
    u_drift, u_home = rng.random(n), rng.random(n)
    other_country = rng.integers(1, max(2, len(ctx.countries)), size=n) % len(ctx.countries)
    if ctx.scenario == "drift-channel":
        drift = (day >= ctx.scenario_day) & (u_drift < p.drift_channel_share)
        channel = np.where(drift, ctx.drift_channel, channel)
        country = np.where(drift, np.where(u_home < p.drift_channel_home_share, 0, other_country), country)
    never = rng.random(n) < p.never_buyer_share
    gift = ~never & (rng.random(n) < p.gift_card_share)
    ef, ed, es = (ctx.eff[k] for k in ("frequency", "dropout_odds", "spend"))
    holiday = holiday_cohort(ctx, day)
    lam = rng.gamma(p.lambda_shape, 1 / p.lambda_rate, n) * ef[0][country] * ef[1][channel]
    lam = np.where(gift, lam * p.gift_card_lambda_factor, lam)
    lam = np.where(holiday, lam * p.holiday_cohort_frequency, lam)
    pd = np.where(
        gift, rng.beta(p.gift_card_dropout_a, p.gift_card_dropout_b, n), rng.beta(p.dropout_a, p.dropout_b, n)
    )
    odds = ed[0][country] * ed[1][channel] * np.where(holiday, p.holiday_cohort_dropout_odds, 1.0)
    pd = np.clip(pd * odds / (1 - pd + pd * odds), 1e-6, 1.0)
    basket = rng.gamma(p.basket_shape, p.basket_mean / p.basket_shape, n) * np.sqrt(es[0][country])
    qty = rng.gamma(p.quantity_shape, p.quantity_mean / p.quantity_shape, n) * es[0][country] * es[1][channel]
    local = rng.random(n) < p.local_currency_share
    currency = np.where(local, ctx.country_currency[country], ctx.base_currency)

    # BG/NBD in operational (seasonally adjusted) time with the honeymoon: arrivals form an inhomogeneous
    # Poisson process with cumulative intensity M(x) = cumulative_rate(lam, x), x the operational days
    # since signup. N arrivals in the window, death after K; the arrivals are the first min(N, K) of N
    # uniform order statistics on the M scale, mapped back to time through the inverse of M.
    day_frac = (signup_s - day * DAY) / DAY
    t0 = ctx.op_time[day] + ctx.intensity[day] * day_frac
    window = ctx.op_time[-1] - t0
    m_window = cumulative_rate(lam, window, p)
    n_arr = np.where(never, 0, rng.poisson(m_window))
    k_death = rng.geometric(pd)
    m = np.minimum(n_arr, k_death)
    died_in_window = k_death <= n_arr
    total = int(m.sum())
    owner = np.repeat(np.arange(n), m)
    cs = np.cumsum(rng.exponential(size=total))
    ends = np.cumsum(m)
    starts = ends - m
    prev = np.concatenate([[0.0], cs])[starts]
    spacing = cs - np.repeat(prev, m)
    last = np.where(m > 0, np.concatenate([[0.0], cs])[ends] - prev, 0.0)
    denom = last + rng.standard_gamma(n_arr - m + 1)
    u_op = t0[owner] + np.minimum(
        inverse_cumulative_rate(lam[owner], m_window[owner] * spacing / denom[owner], p), window[owner]
    )
    rep_day = np.clip(np.searchsorted(ctx.op_time, u_op, side="right") - 1, 0, len(ctx.intensity) - 1)
    rep_s = np.maximum(rep_day * DAY + sample_second_of_day(rng, ctx, total), signup_s[owner])
    buyers = np.flatnonzero(~never)
    return {
        "g0": g0,
        "n": n,
        "signup_day": day,
        "signup_s": signup_s,
        "holiday_cohort": holiday,
        "country": country,
        "channel": channel,
        "never": never,
        "gift": gift,
        "lam": lam,
        "p": pd,
        "basket": basket,
        "qty": qty,
        "currency": currency,
        "t0": t0,
        "died_in_window": died_in_window,
        # orders: first purchases (at signup) then repeats, each with customer, time, op time
        "order_cust": np.concatenate([buyers, owner]),
        "order_s": np.concatenate([signup_s[buyers], rep_s]),
        "order_op": np.concatenate([t0[buyers], u_op]),
        "order_first": np.concatenate([np.ones(len(buyers), bool), np.zeros(total, bool)]),
    }


def make_lines(
    ctx: Context, rng: np.random.Generator, cust: dict, order_cust, order_day, order_first
) -> dict:
    """Basket lines of the given orders: product lines, gift cards, postage and other fees."""
    p, cat = ctx.p, ctx.catalogue
    n_orders = len(order_cust)
    basket = cust["basket"][order_cust]
    qmean = cust["qty"][order_cust]
    if ctx.scenario == "drift-spend":
        after = order_day >= ctx.scenario_day
        basket = np.where(after, basket * p.drift_spend_basket, basket)
        qmean = np.where(after, qmean * p.drift_spend_quantity, qmean)
    gift_order = order_first & cust["gift"][order_cust]
    n_prod = np.where(gift_order, 0, 1 + rng.poisson(basket))
    abroad = cust["country"][order_cust] != 0
    postage = abroad & (rng.random(n_orders) < p.postage_share_abroad)
    other = rng.random(n_orders) < p.other_non_product_share
    other_sku = (
        cat.nonproduct_first + 1 + rng.integers(0, max(1, len(cat.skus) - cat.nonproduct_first - 1), n_orders)
    )
    counts = n_prod + gift_order + postage + other
    line_order = np.repeat(np.arange(n_orders), counts)
    pos = np.arange(len(line_order)) - np.repeat(np.cumsum(counts) - counts, counts)
    n_lines = len(line_order)
    np_o = n_prod[line_order]
    kind = np.select(
        [
            pos < np_o,
            (pos == np_o) & gift_order[line_order],
            pos < np_o + gift_order[line_order] + postage[line_order],
        ],
        [0, 1, 2],
        3,
    )
    prod_sku = np.minimum(
        np.searchsorted(cat.popularity_cdf, rng.random(n_lines), side="right"), cat.n_products - 1
    )
    gift_sku = cat.gift_first + rng.integers(0, cat.nonproduct_first - cat.gift_first, n_lines)
    sku = np.select(
        [kind == 0, kind == 1, kind == 2], [prod_sku, gift_sku, cat.postage], other_sku[line_order]
    )
    quantity = np.where(kind == 0, 1 + rng.poisson(qmean[line_order]), 1)
    quantity = np.where(kind == 2, 1 + (rng.random(n_lines) < 0.2), quantity)
    # A product drawn twice for one order is one line with the summed quantity, as an order system writes
    # it; two identical lines would otherwise be indistinguishable from the injected exact-duplicate rows.
    key = line_order.astype(np.int64) * (len(cat.skus) + 1) + sku
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    if len(first) < n_lines:
        keep = np.sort(first)
        quantity = np.bincount(group, weights=quantity).astype(np.int64)[group[keep]]
        line_order, sku, kind = line_order[keep], sku[keep], kind[keep]
    return {
        "order": line_order,
        "sku": sku,
        "quantity": quantity.astype(np.int64),
        "kind": np.minimum(kind, 2),
    }


def cancel_and_return(ctx: Context, rng: np.random.Generator, order_s, lines: dict) -> dict:
    """Which orders are cancelled (in full) and which have one product line returned, and when."""
    n_orders = len(order_s)
    m = ctx.mess
    cancelled = rng.random(n_orders) < m.cancellation
    cancel_s = order_s + rng.integers(600, 2 * DAY, n_orders)
    returned = ~cancelled & (rng.random(n_orders) < m.return_)
    return_s = order_s + rng.integers(3 * DAY, 30 * DAY, n_orders)
    # one product line per returning order, uniformly among its product lines
    prod = lines["kind"] == 0
    n_prod = np.bincount(lines["order"][prod], minlength=n_orders)
    returned &= n_prod > 0
    pick = (rng.random(n_orders) * np.maximum(n_prod, 1)).astype(np.int64)
    prod_idx = np.flatnonzero(prod)
    first_prod = np.concatenate([[0], np.cumsum(n_prod)])[:-1]
    ret_orders = np.flatnonzero(returned)
    ret_line = prod_idx[first_prod[ret_orders] + pick[ret_orders]]
    return {
        "cancelled": cancelled,
        "cancel_s": cancel_s,
        "returned": returned,
        "return_s": return_s,
        "ret_line": ret_line,
    }


def order_value_gbp(ctx: Context, lines: dict, n_orders: int) -> np.ndarray:
    """Gross product value (GBP, product lines only) per order."""
    prod = lines["kind"] == 0
    value = ctx.catalogue.price_pennies[lines["sku"]] * lines["quantity"] / 100
    return np.bincount(lines["order"][prod], weights=value[prod], minlength=n_orders)


def ground_truth(ctx: Context, chunk: int, cust: dict) -> dict:
    """Expected revenue over the horizon after the period end, given each customer's true parameters
    and observed history (not its latent alive/dead state), plus the realized values of the simulation."""
    p, m = ctx.p, ctx.mess
    n, E, H = cust["n"], ctx.n_days, ctx.truth_horizon_days
    end_op = ctx.op_time[E]
    h_op = ctx.op_time[E + H] - end_op
    oc, o_op, first = cust["order_cust"], cust["order_op"], cust["order_first"]
    in_period = o_op < end_op
    rep = in_period & ~first
    x = np.bincount(oc[rep], minlength=n)
    t_last = cust["t0"].copy()
    np.maximum.at(t_last, oc[rep], o_op[rep])
    lam, pd, t0 = cust["lam"], cust["p"], cust["t0"]
    # M(x) = cumulative_rate(lam, x): expected arrivals in the first x operational days after signup.
    # Alive after the last repeat purchase with probability 1 - p and no arrival since: M(T) - M(t_x).
    m_end = cumulative_rate(lam, end_op - t0, p)
    alive_w = (1 - pd) * np.exp(-(m_end - cumulative_rate(lam, t_last - t0, p)))
    p_alive = np.where(x > 0, alive_w / (alive_w + pd), 1.0)
    p_alive = np.where(cust["never"], 0.0, p_alive)
    # E[min(N, K)], N ~ Poisson(mu) arrivals in the horizon and K ~ Geometric(p): (1 - e^(-p mu)) / p
    mu = cumulative_rate(lam, end_op + h_op - t0, p) - m_end
    exp_purchases = p_alive * -np.expm1(-pd * mu) / pd
    basket, qty = cust["basket"], cust["qty"]
    if ctx.scenario == "drift-spend":
        basket, qty = basket * p.drift_spend_basket, qty * p.drift_spend_quantity
    per_order = ctx.catalogue.mean_product_price * (1 + qty) * (1 - m.cancellation) * (1 + basket - m.return_)
    # realized: the simulated purchases in the horizon, valued the same way (net of cancellations/returns)
    day = cust["order_s"] // DAY
    hz = (day >= E) & (day < E + H)
    rng = rng_for(ctx.seed, STREAM_TRUTH_LINES, chunk)
    h_cust = oc[hz]
    lines = make_lines(ctx, rng, cust, h_cust, day[hz], np.zeros(len(h_cust), bool))
    gross = order_value_gbp(ctx, lines, len(h_cust))
    cr = cancel_and_return(ctx, rng, cust["order_s"][hz], lines)
    ret_value = np.zeros(len(h_cust))
    rl = cr["ret_line"]
    ret_value[lines["order"][rl]] = (
        ctx.catalogue.price_pennies[lines["sku"][rl]] * lines["quantity"][rl] / 100
    )
    net = np.where(cr["cancelled"], 0.0, gross - ret_value)
    return {
        "p_alive": p_alive,
        "expected_purchases": exp_purchases,
        "expected_revenue": exp_purchases * per_order,
        "realized_purchases": np.bincount(h_cust, minlength=n),
        "realized_revenue": np.bincount(h_cust, weights=net, minlength=n),
    }
