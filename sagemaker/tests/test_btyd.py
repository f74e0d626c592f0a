"""BG/NBD + Gamma-Gamma: recovers simulated parameters and matches the closed forms."""

import numpy as np
import pytest
from clv_model import btyd


def simulate_bgnbd(n, r, alpha, a, b, T, seed=0):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            t_x[i] = t
            if rng.uniform() < p[i]:
                break
    return x, t_x, np.full(n, float(T))


def test_bgnbd_recovers_parameters():
    x, t_x, T = simulate_bgnbd(3000, r=0.8, alpha=20.0, a=1.5, b=4.0, T=200, seed=1)
    fit = btyd.fit_bgnbd(x, t_x, T)
    assert fit.r == pytest.approx(0.8, rel=0.25)
    assert fit.alpha == pytest.approx(20.0, rel=0.3)
    assert fit.a / (fit.a + fit.b) == pytest.approx(1.5 / 5.5, rel=0.35)


def test_expected_purchases_of_new_customer_matches_unconditional_form():
    # for x = 0, t_x = 0, T -> 0 the conditional expectation equals E[X(t)] of a new customer:
    # (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
    from scipy import special

    p = btyd.BgNbdParams(r=0.5, alpha=10.0, a=2.0, b=3.0)
    t = 50.0
    expected = (
        (p.a + p.b - 1)
        / (p.a - 1)
        * (1 - (p.alpha / (p.alpha + t)) ** p.r * special.hyp2f1(p.r, p.b, p.a + p.b - 1, t / (p.alpha + t)))
    )
    got = btyd.bgnbd_expected_purchases(p, [0.0], [0.0], [1e-9], t)[0]
    assert got == pytest.approx(expected, rel=1e-6)


def test_p_alive_and_monotonic_expectation():
    p = btyd.BgNbdParams(r=0.5, alpha=10.0, a=0.8, b=2.5)
    assert btyd.bgnbd_p_alive(p, [0.0], [0.0], [100.0])[0] == 1.0
    # same frequency, more recent last purchase -> more likely alive and more expected purchases
    recent = btyd.bgnbd_p_alive(p, [5.0], [95.0], [100.0])[0]
    stale = btyd.bgnbd_p_alive(p, [5.0], [20.0], [100.0])[0]
    assert recent > stale
    e = btyd.bgnbd_expected_purchases(p, [5.0, 5.0], [95.0, 20.0], [100.0, 100.0], 90)
    assert e[0] > e[1] >= 0


def test_gamma_gamma_shrinks_towards_population_mean():
    rng = np.random.default_rng(3)
    n = 2000
    x = rng.integers(1, 10, n).astype(float)
    nu = rng.gamma(3.0, 1 / 60.0, n)  # q=3, gamma=60
    m = np.array([rng.gamma(2.0 * xi, 1 / (nu_i * xi)) for xi, nu_i in zip(x, nu, strict=False)])  # p=2
    fit = btyd.fit_gamma_gamma(x, m)
    assert fit.p == pytest.approx(2.0, rel=0.3)
    pop = fit.population_mean
    spend = btyd.gamma_gamma_expected_spend(fit, [1.0, 50.0, 0.0], [10 * pop, 10 * pop, 0.0])
    assert pop < spend[0] < spend[1] < 10 * pop  # more repeat purchases -> closer to own mean
    assert spend[2] == pytest.approx(pop)


def test_bad_rfm_inputs():
    with pytest.raises(ValueError, match="recency exceeds T"):
        btyd.bgnbd_p_alive(btyd.BgNbdParams(1, 1, 1, 1), [1.0], [10.0], [5.0])
    with pytest.raises(ValueError, match="negative"):
        btyd.fit_bgnbd([-1.0], [0.0], [1.0])
