"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie & Lee 2005b) with closed-form
likelihoods, fitted by maximum likelihood with scipy. See docs/decisions/0021-bgnbd-baseline.md for why these
are written here rather than taken from a library.

Inputs per customer, all in days and measured at a cutoff:
- frequency: number of repeat purchase occasions (distinct purchase days after the first);
- recency: days between the first and the last purchase occasion (0 when frequency is 0);
- T: days between the first purchase occasion and the cutoff (the customer's age);
- monetary: mean value of the purchase occasions (Gamma-Gamma uses customers with frequency >= 1 and
  monetary > 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, special


def _check_rfm(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    age = np.asarray(T, dtype=float)
    if not (x.shape == t_x.shape == age.shape):
        raise ValueError(f"frequency/recency/T shapes differ: {x.shape}, {t_x.shape}, {age.shape}")
    for name, arr in (("frequency", x), ("recency", t_x), ("T", age)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"BG/NBD input {name} has non-finite values")
        if np.any(arr < 0):
            raise ValueError(f"BG/NBD input {name} has negative values")
    if np.any(t_x > age + 1e-9):
        raise ValueError("BG/NBD input recency exceeds T for some customers")
    return x, t_x, age


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def bgnbd_log_likelihood(params: BgNbdParams, frequency, recency, T) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model (equation 6 of Fader, Hardie & Lee 2005)."""
    x, t_x, age = _check_rfm(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + age)
    with np.errstate(invalid="ignore", divide="ignore"):
        a3 = np.where(
            x > 0,
            special.betaln(a + 1, np.maximum(b + x - 1, 1e-12))
            - special.betaln(a, b)
            - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + np.logaddexp(a2, a3)


def fit_bgnbd(frequency, recency, T, *, penalizer: float = 0.0) -> BgNbdParams:
    """Maximum-likelihood BG/NBD fit over log-parameters; `penalizer` adds an L2 penalty on the parameters."""
    x, t_x, age = _check_rfm(frequency, recency, T)
    if x.size == 0:
        raise ValueError("BG/NBD fit needs at least one customer")
    scale = max(float(np.max(age)), 1.0)

    def neg_ll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        p = BgNbdParams(r, alpha * scale, a, b)
        ll = bgnbd_log_likelihood(p, x, t_x, age).sum()
        penalty = penalizer * float(np.sum(np.exp(log_params) ** 2))
        value = -ll / x.size + penalty
        return float(value) if np.isfinite(value) else 1e12

    start = np.log(np.array([0.5, 0.2, 0.8, 2.5]))
    best = None
    for method in ("L-BFGS-B", "Nelder-Mead"):
        res = optimize.minimize(neg_ll, start, method=method, options={"maxiter": 5000})
        if best is None or res.fun < best.fun:
            best = res
        start = best.x
    r, alpha, a, b = np.exp(best.x)
    return BgNbdParams(float(r), float(alpha * scale), float(a), float(b))


def bgnbd_p_alive(params: BgNbdParams, frequency, recency, T) -> np.ndarray:
    """P(customer still active at T | x, t_x, T) (equation 11)."""
    x, t_x, age = _check_rfm(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        log_ratio = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-12))
            + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
        )
    return np.where(x > 0, special.expit(-log_ratio), 1.0)


def bgnbd_expected_purchases(params: BgNbdParams, frequency, recency, T, horizon_days: float) -> np.ndarray:
    """E[number of purchase occasions in (T, T + horizon] | x, t_x, T] (equation 10)."""
    x, t_x, age = _check_rfm(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = float(horizon_days)
    if t <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    if a <= 1:
        # The closed form needs a > 1; fall back to the expectation ignoring dropout for a <= 1 (rare).
        return (r + x) / (alpha + age) * t * bgnbd_p_alive(params, x, t_x, age)
    z = t / (alpha + age + t)
    # Euler's transformation keeps 2F1 well-conditioned for frequent customers:
    # ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z).
    hyp = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    first = (a + b + x - 1) / (a - 1)
    second = 1 - np.power(1 - z, a - 1) * hyp
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        log_ratio = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-12))
            + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
        )
    denom = 1 + np.where(x > 0, np.exp(np.minimum(log_ratio, 700.0)), 0.0)
    out = first * second / denom
    return np.clip(np.nan_to_num(out, nan=0.0, posinf=0.0), 0.0, None)


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @property
    def population_mean(self) -> float:
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("nan")


def fit_gamma_gamma(frequency, monetary, *, penalizer: float = 0.0) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on customers with a repeat occasion and positive spend."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if x.size < 3:
        raise ValueError(f"Gamma-Gamma fit needs >= 3 repeat customers with positive spend, got {x.size}")
    m_scale = float(np.median(m))

    def neg_ll(log_params: np.ndarray) -> float:
        p, q, v = np.exp(log_params)
        v = v * m_scale
        ll = (
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(x * m + v)
        )
        value = -ll.sum() / x.size + penalizer * float(np.sum(np.exp(log_params) ** 2))
        return float(value) if np.isfinite(value) else 1e12

    start = np.log(np.array([1.0, 2.0, 1.0]))
    best = None
    for method in ("L-BFGS-B", "Nelder-Mead"):
        res = optimize.minimize(neg_ll, start, method=method, options={"maxiter": 5000})
        if best is None or res.fun < best.fun:
            best = res
        start = best.x
    p, q, v = np.exp(best.x)
    return GammaGammaParams(float(p), float(q), float(v * m_scale))


def gamma_gamma_expected_spend(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """E[spend per occasion | x, m] (equation 5 of Fader, Hardie & Lee 2005b); population mean when x = 0."""
    x = np.asarray(frequency, dtype=float)
    m = np.nan_to_num(np.asarray(monetary, dtype=float), nan=0.0)
    p, q, v = params.p, params.q, params.v
    if q <= 1:
        raise ValueError(f"Gamma-Gamma q must exceed 1 for a finite mean, got {q}")
    m = np.clip(m, 0.0, None)
    cond = (p * (v + x * m)) / (p * x + q - 1)
    return np.where(x > 0, cond, params.population_mean)


@dataclass(frozen=True)
class BtydModel:
    """A fitted BG/NBD + Gamma-Gamma pair."""

    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {"bgnbd": self.bgnbd.to_dict(), "gamma_gamma": self.gamma_gamma.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> BtydModel:
        return cls(BgNbdParams(**data["bgnbd"]), GammaGammaParams(**data["gamma_gamma"]))

    def expected_revenue(self, frequency, recency, T, monetary, horizon_days: float) -> np.ndarray:
        n = bgnbd_expected_purchases(self.bgnbd, frequency, recency, T, horizon_days)
        return n * gamma_gamma_expected_spend(self.gamma_gamma, frequency, monetary)


def fit_btyd(frequency, recency, T, monetary, *, penalizer: float = 0.001) -> BtydModel:
    return BtydModel(
        fit_bgnbd(frequency, recency, T, penalizer=penalizer),
        fit_gamma_gamma(frequency, monetary, penalizer=penalizer),
    )
