"""Fixtures for the model tests: a tiny synthetic feature frame shaped by the feature contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from clv_model.spec import FeatureSpec, load_spec


@pytest.fixture(scope="session")
def spec() -> FeatureSpec:
    return load_spec()


def synthetic_snapshot(
    spec: FeatureSpec, cutoff: str, n: int, seed: int, *, with_labels: bool = True
) -> pd.DataFrame:
    """Customers with RFM-like features; revenue and churn labels depend on frequency, recency and spend."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(30, 400, n)
    freq = 1 + rng.poisson(tenure / 60)
    btyd_rec = np.minimum((rng.uniform(0, 1, n) * tenure).astype(int), tenure - 1)
    btyd_rec = np.where(freq == 1, 0, btyd_rec)
    recency = tenure - btyd_rec
    avg = rng.gamma(2.0, 40.0, n)
    net = freq * avg
    frame: dict[str, object] = {}
    for col in spec.model_inputs:
        if col in spec.categorical_inputs:
            frame[col] = (
                rng.choice(["United Kingdom", "Germany", "France"], n) if col == "country" else "unknown"
            )
        else:
            frame[col] = rng.gamma(1.0, 10.0, n)
    frame.update(
        {
            "recency_days": recency,
            "btyd_recency_days": btyd_rec,
            "frequency_days": freq,
            "repeat_frequency": freq - 1,
            "monetary_total_net": net,
            "monetary_avg_day": avg,
            "tenure_days": tenure,
        }
    )
    for col in ("sessions_90d", "avg_session_duration_s_90d", "interpurchase_var_days"):
        if col in frame:
            frame[col] = np.where(rng.uniform(size=n) < 0.3, np.nan, frame[col])
    df = pd.DataFrame(frame)
    df.insert(0, spec.record_identifier, [f"C{seed}-{i:05d}" for i in range(n)])
    df["cutoff_date"] = cutoff
    df["event_time"] = f"{cutoff}T00:00:00Z"
    df["snapshot_id"] = f"{cutoff.replace('-', '')}-l91-91-{spec.schema_hash[:12]}"
    if with_labels:
        rate = freq / tenure * np.exp(-recency / 120)
        active = rng.uniform(size=n) < np.clip(rate * 40, 0.05, 0.95)
        df["label_revenue_12m"] = np.where(active, rng.gamma(2.0, avg * (1 + rate * 30) / 2), 0.0)
        df["label_churn_6m"] = (~active).astype(int)
    else:
        df["label_revenue_12m"] = np.nan
        df["label_churn_6m"] = np.nan
    return df


@pytest.fixture(scope="session")
def snapshots(spec):
    cut = [dt.date(2024, 1, 1) + dt.timedelta(days=30 * k) for k in range(4)]
    return {
        "train": pd.concat(
            [
                synthetic_snapshot(spec, cut[0].isoformat(), 300, 1),
                synthetic_snapshot(spec, cut[1].isoformat(), 300, 2),
            ],
            ignore_index=True,
        ),
        "validation": synthetic_snapshot(spec, cut[2].isoformat(), 300, 3),
        "test": synthetic_snapshot(spec, cut[3].isoformat(), 300, 4),
    }
