"""Comparison step of the shadow pipeline (SageMaker processing job, network isolation).

Reads the Batch Transform outputs of the champion and the challenger over the same scoring set (``*.out``,
text/csv as ``serving.output_fn`` writes it) and writes ``comparison.json`` for the shadow gate Lambda,
which decides (lambdas/shadow-gate/core.ts); the predictions never leave this job. Per model, over its
scored rows of ``--column`` (default ``predicted_revenue_12m``): n, mean, std, min, max and the counts the
degenerate checks need (NaN, negative, zero, distinct values). Over the customers both scored: the Spearman
rank correlation and the top-decile overlap (the share of the champion's top 10% by the column that is also
in the challenger's top 10%).

Exit status 0 whenever both outputs could be read (a degenerate challenger is the gate's to reject); 1 when an
output is missing or unreadable.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clv_model.publish import PublishError, read_transform_output

DEFAULT_COLUMN = "predicted_revenue_12m"
TOP_SHARE = 0.10


def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def prediction_stats(values: pd.Series) -> dict[str, Any]:
    """The statistics of one model's predictions (NaN counted, not dropped, except from the moments)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    n = int(len(v))
    return {
        "n": n,
        "mean": _finite_or_none(float(finite.mean())) if len(finite) else None,
        "std": _finite_or_none(float(finite.std(ddof=0))) if len(finite) else None,
        "min": _finite_or_none(float(finite.min())) if len(finite) else None,
        "max": _finite_or_none(float(finite.max())) if len(finite) else None,
        "n_nan": int(np.isnan(v).sum()),
        "n_negative": int((finite < 0).sum()),
        "n_zero": int((finite == 0).sum()),
        "n_distinct": int(len(np.unique(finite))),
    }


def top_decile_overlap(
    champion: np.ndarray, challenger: np.ndarray, share: float = TOP_SHARE
) -> float | None:
    """Share of the champion's top ``share`` (by value, ties broken by position) also in the challenger's."""
    n = len(champion)
    if n == 0:
        return None
    k = max(1, math.ceil(n * share))
    top_a = set(np.argsort(-champion, kind="stable")[:k].tolist())
    top_b = set(np.argsort(-challenger, kind="stable")[:k].tolist())
    return len(top_a & top_b) / k


def compare(champion: pd.DataFrame, challenger: pd.DataFrame, column: str = DEFAULT_COLUMN) -> dict[str, Any]:
    """The comparison report of two transform outputs (scored rows only)."""
    frames = {}
    for name, frame in (("champion", champion), ("challenger", challenger)):
        if column not in frame.columns:
            raise PublishError(f"{name} transform output has no column {column}")
        scored = frame[frame["status"].astype("string") == "scored"]
        frames[name] = scored[["customer_id", column]].assign(
            **{column: pd.to_numeric(scored[column], errors="coerce")}
        )
    joined = frames["champion"].merge(
        frames["challenger"], on="customer_id", suffixes=("_champion", "_challenger")
    )
    a = joined[f"{column}_champion"].to_numpy(dtype=float)
    b = joined[f"{column}_challenger"].to_numpy(dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    rho: float | None = None
    if len(a) >= 2 and len(np.unique(a)) > 1 and len(np.unique(b)) > 1:
        rho = _finite_or_none(float(stats.spearmanr(a, b).statistic))
    return {
        "column": column,
        "rows_joined": int(len(joined)),
        "rows_compared": int(len(a)),
        "champion": prediction_stats(frames["champion"][column]),
        "challenger": prediction_stats(frames["challenger"][column]),
        "rank_correlation": rho,
        "top_decile_overlap": top_decile_overlap(a, b),
        "top_share": TOP_SHARE,
    }


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="shadow_compare.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--champion", required=True, type=Path, help="champion transform output folder")
    p.add_argument("--challenger", required=True, type=Path, help="challenger transform output folder")
    p.add_argument("--report-dir", required=True, type=Path)
    p.add_argument("--column", default=DEFAULT_COLUMN)
    args = p.parse_args(list(argv))
    try:
        report = compare(
            read_transform_output(args.champion), read_transform_output(args.challenger), args.column
        )
    except PublishError as err:
        print(f"shadow compare failed: {err}", file=sys.stderr, flush=True)
        return 1
    args.report_dir.mkdir(parents=True, exist_ok=True)
    (args.report_dir / "comparison.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    c, h = report["champion"], report["challenger"]
    print(
        f"shadow compare: champion mean={c['mean']} n={c['n']}; challenger mean={h['mean']} n={h['n']} "
        f"nan={h['n_nan']} negative={h['n_negative']} distinct={h['n_distinct']}; "
        f"spearman={report['rank_correlation']} top-decile overlap={report['top_decile_overlap']}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
