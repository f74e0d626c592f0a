"""The generating process: every parameter in one place (documented in docs/data-generator.md)."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

# Customers per chunk. Part of the algorithm (child seeds are derived per chunk), so it is a constant:
# changing it changes the output. Memory per worker grows with it, not with --customers.
CHUNK_CUSTOMERS = 5_000


@dataclass(frozen=True)
class Process:
    # --- acquisition -------------------------------------------------------------------------
    signup_growth: float = 1.0  # signup density grows linearly to (1 + growth) x at the period end
    never_buyer_share: float = 0.12  # CRM customers who never purchase
    home_country_share: float = 0.62  # first country of the reference list; others decay geometrically
    country_decay: float = 0.7
    channel_decay: float = 0.72  # channel k gets weight channel_decay**k
    # --- purchase frequency and dropout (BG/NBD with gamma/beta heterogeneity) ---------------
    lambda_shape: float = 0.75  # r: purchase rate per (seasonally adjusted) day ~ Gamma(r, 1/alpha)
    lambda_rate: float = 0.75 * 365 / 4.5  # alpha: mean rate 4.5 purchases a year while alive
    dropout_a: float = 2.0  # p ~ Beta(a, b): probability to drop out after each repeat purchase
    dropout_b: float = 6.0
    # --- how the shop departs from BG/NBD (docs/data-generator.md); the neutral value recovers it ---
    # Acquisition honeymoon: the purchase rate is lambda x (1 + h exp(-u / tau)), u the (seasonally
    # adjusted) days since signup: new customers buy more often, then settle (non-stationary; Netzer,
    # Lattin & Srinivasan 2008). Neutral: honeymoon_factor = 0.
    honeymoon_factor: float = 1.5  # h: the rate right after signup is (1 + h) x the settled rate
    honeymoon_days: float = 45.0  # tau: e-folding time of the honeymoon, in seasonally adjusted days
    # Holiday cohorts: customers who sign up in the Nov-Dec peak (from holiday_cohort_start_doy to the
    # end of the year) buy less often and drop out sooner (Lewis 2006). Neutral: 1.0 and 1.0.
    holiday_cohort_start_doy: int = 305  # day of year (1 = 1 January): 1 November (31 October in leap years)
    holiday_cohort_frequency: float = 0.7  # purchase rate x 0.7
    holiday_cohort_dropout_odds: float = 1.8  # dropout odds x 1.8
    # --- spend (basket size and quantities, customer-level gamma heterogeneity) -----------------
    basket_shape: float = 2.0  # extra lines per order ~ Poisson(beta_i), beta_i ~ Gamma(shape, mean/shape)
    basket_mean: float = 2.0
    quantity_shape: float = 1.5  # extra units per line ~ Poisson(theta_i), theta_i ~ Gamma(shape, mean/shape)
    quantity_mean: float = 1.6
    effect_sigma: float = 0.25  # country/channel multipliers ~ LogNormal(0, sigma), fixed per name
    # --- catalogue ------------------------------------------------------------------------------
    n_skus: int = 2000
    sku_suffix_share: float = 0.2  # share of SKUs with a letter suffix (e.g. 85123A)
    price_log_mean: float = float(np.log(2.5))  # GBP unit price ~ LogNormal(mu, sigma), min 0.10
    price_log_sigma: float = 0.9
    popularity_exponent: float = 1.1  # Zipf-like: weight of rank k ~ 1 / (k + 10) ** exponent
    postage_share_abroad: float = 0.6  # orders outside the home country with a postage line
    postage_price: float = 18.0
    other_non_product_share: float = 0.003  # orders with another non-product line (fees, manual, ...)
    # --- gift cards -----------------------------------------------------------------------------
    gift_card_share: float = 0.015  # buyers whose first purchase is one large gift card
    gift_card_values: tuple[int, ...] = (50, 100, 150, 250, 500)
    gift_card_lambda_factor: float = 0.4  # lower repeat rate ...
    gift_card_dropout_a: float = 6.0  # ... and p ~ Beta(6, 2): most never come back
    gift_card_dropout_b: float = 2.0
    # --- currency -------------------------------------------------------------------------------
    local_currency_share: float = 0.8  # customers in a non-base-currency country who pay in it
    # --- seasonality ----------------------------------------------------------------------------
    weekly: tuple[float, ...] = (1.05, 1.08, 1.06, 1.12, 0.95, 0.78, 0.96)  # Mon..Sun
    peak_day_of_year: float = 335.0  # Nov-Dec peak centred on 1 December
    peak_width_days: float = 24.0
    peak_height: float = 1.1  # intensity x (1 + height) at the peak
    summer_dip: float = 0.15  # intensity x (1 - dip) in mid-July
    hour_weights: tuple[float, ...] = (
        0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 1.0, 1.3, 1.5, 1.6,
        1.6, 1.5, 1.4, 1.4, 1.3, 1.3, 1.4, 1.6, 1.7, 1.5, 1.0, 0.5,
    )  # fmt: skip
    # --- CRM ------------------------------------------------------------------------------------
    loyalty_thresholds: tuple[int, ...] = (3, 8)  # purchases before the extract date: level 1, 2, ...
    crm_extract_months: int = 6  # dated CRM extracts every N months, and one at the end
    # --- clickstream ----------------------------------------------------------------------------
    # Browse (non-purchase) sessions of tracked customers: a background process while the customer is
    # alive, fading after dropout, plus sessions that lead each order (Moe & Fader 2004).
    browse_sessions_per_purchase: float = 0.75  # background sessions per expected purchase while alive
    browse_sessions_base: float = 0.5  # ... plus this many per tracked customer
    browse_fade_days: float = 30.0  # after dropout, browsing fades: rate x exp(-days / fade)
    browse_lead_sessions: float = 0.8  # sessions in the days before each repeat order (Poisson mean);
    browse_lead_days: float = 3.0  # ... each Exponential(mean 3 days) before the order. Neutral: 0
    lead_cart_abandon_share: float = 0.35  # sessions leading an order end with an abandoned cart
    anonymous_session_share: float = 0.25  # sessions of anonymous visitors, relative to customer sessions
    device_weights: tuple[float, ...] = (0.35, 0.55, 0.10)  # desktop, mobile, tablet
    device_loyalty: float = 0.8  # sessions on the customer's usual device
    search_share: float = 0.5  # purchase sessions with a search
    cart_abandon_share: float = 0.15  # browse sessions with an add_to_cart
    checkout_abandon_share: float = 0.05  # browse sessions that reach checkout
    default_clickstream_share: float = 1.0
    # --- scenarios ------------------------------------------------------------------------------
    drift_channel_share: float = 0.35  # new signups from the drift channel after the scenario start
    drift_channel_lambda: float = 1.3  # drift-channel customers: more frequent at first ...
    drift_channel_dropout_odds: float = 2.5  # ... but drop out much sooner ...
    drift_channel_spend: float = 0.6  # ... and buy fewer units
    drift_channel_home_share: float = 0.85  # ... mostly in the home country
    drift_spend_quantity: float = 1.8  # drift-spend: theta_i x 1.8 after the scenario start ...
    drift_spend_basket: float = 1.3  # ... and beta_i x 1.3
    pipeline_bug_sku_share: float = 0.35  # pipeline-bug: rows with an alphanumeric product id ...
    pipeline_bug_null_share: float = 0.2  # ... and rows with an empty country

    def __post_init__(self) -> None:
        m = self.crm_extract_months
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ValueError(f"Process.crm_extract_months must be a positive integer (got {m!r})")
        d = self.holiday_cohort_start_doy
        if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 366:
            raise ValueError(f"Process.holiday_cohort_start_doy must be an integer from 1 to 366 (got {d!r})")
        for name in ("honeymoon_factor", "browse_lead_sessions", "browse_sessions_per_purchase",
                     "browse_sessions_base"):  # fmt: skip
            if not getattr(self, name) >= 0:
                raise ValueError(f"Process.{name} must be >= 0 (got {getattr(self, name)!r})")
        for name in ("honeymoon_days", "holiday_cohort_frequency", "holiday_cohort_dropout_odds",
                     "browse_fade_days", "browse_lead_days", "cart_abandon_share"):  # fmt: skip
            if not getattr(self, name) > 0:
                raise ValueError(f"Process.{name} must be > 0 (got {getattr(self, name)!r})")
        if not 0 <= self.lead_cart_abandon_share <= 1:
            raise ValueError(
                f"Process.lead_cart_abandon_share must be from 0 to 1 (got {self.lead_cart_abandon_share!r})"
            )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MessRates:
    """Rates of each mess class (see docs/data-generator.md for the unit of each)."""

    cancellation: float = 0.02  # of orders: cancelled in full (C + invoice id, negative quantities)
    return_: float = 0.04  # of non-cancelled orders: one line returned 3-30 days later, new invoice id
    missing_customer: float = 0.08  # of invoices: guest orders with an empty customer_id
    duplicate: float = 0.004  # of rows: written twice (exact duplicate, same file)
    outlier: float = 0.0002  # of product rows: quantity x 200..2000 (extreme monetary outlier)
    late: float = 0.012  # of invoices: delivered 1-5 days late in a _late file
    malformed_event: float = 0.0005  # of events, for each malformed kind
    oversized_event: float = 0.0001  # of events: padded beyond the 16 KiB limit

    def as_dict(self) -> dict:
        return {("return" if k == "return_" else k): v for k, v in asdict(self).items()}


MALFORMED_KINDS = (
    "invalid_json",
    "missing_id",
    "bad_timestamp",
    "wrong_type",
    "unknown_event_type",
    "oversized",
)


def name_effects(kind: str, names: tuple[str, ...], sigma: float) -> dict[str, dict[str, float]]:
    """Fixed multipliers per country or channel name: frequency, dropout odds and spend.

    Derived from the name alone (CRC-32 seeds a generator), so they do not depend on --seed and
    stay the same when the vocabulary grows.
    """
    out = {}
    for name in names:
        rng = np.random.default_rng(zlib.crc32(f"{kind}:{name}".encode()))
        f, d, s = np.exp(rng.normal(0.0, sigma, size=3))
        out[name] = {
            "frequency": round(float(f), 4),
            "dropout_odds": round(float(d), 4),
            "spend": round(float(s), 4),
        }
    return out


def position_weights(n: int, first_share: float | None, decay: float) -> np.ndarray:
    """Category weights by position in a vocabulary: geometric decay, optional fixed first share."""
    w = decay ** np.arange(n, dtype=float)
    if first_share is None or n == 1:
        return w / w.sum()
    rest = w[1:] / w[1:].sum() * (1 - first_share)
    return np.concatenate([[first_share], rest])
