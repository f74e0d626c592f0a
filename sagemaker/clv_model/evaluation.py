"""Evaluation of a trained CLV model on a held-out later snapshot: metrics, baselines, slices, SHAP, lineage,
the champion (the Production model, when there is one) on the same snapshot, fairness (disparate-impact
ratios by slice), and the model card (Markdown)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from . import metrics as M
from .model import CLVModel, revenue_target
from .spec import CHURN_LABEL

SLICE_COLUMNS = ("country", "acquisition_channel")
NO_CHAMPION = "no Production model: first model"


def evaluate(
    model: CLVModel,
    test_rows: pd.DataFrame,
    *,
    rejected: pd.DataFrame | None = None,
    rows_in: int | None = None,
    extra_lineage: dict[str, Any] | None = None,
    min_slice_customers: int = 30,
    champion: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """test_rows: accepted rows (frames.check_rows with labels) of a snapshot later than training's.
    champion: the champion section (evaluate_champion / champion_error); None = no Production model."""
    pred, y, p, churn_true, churn_prob = _predictions(
        model, test_rows, "evaluation needs at least one accepted test row"
    )

    table = M.decile_table(y, p)
    revenue = M.regression_metrics(y, p) | {
        "decile_table": table,
        "lorenz": M.lorenz_points(y, p),
        "mean_actual": float(y.mean()),
        "mean_predicted": float(p.mean()),
    }
    churn = M.classification_metrics(churn_true, churn_prob, model.churn_threshold)

    # Each baseline carries its Lorenz points and decile table (computed exactly as the model's) so that a
    # report can draw the model's gain curve and calibration against the baselines from evaluation.json alone.
    baselines = {}
    for name, b in model.baseline_predictions(test_rows).items():
        baselines[name] = M.regression_metrics(y, b) | {
            "decile_table": M.decile_table(y, b),
            "lorenz": M.lorenz_points(y, b),
        }

    frame = test_rows.assign(_y=y, _p=p, _churn=churn_true, _prob=churn_prob)
    slices = {}
    for col in SLICE_COLUMNS:
        if col in frame.columns:
            slices[col] = M.slice_metrics(
                frame,
                col,
                y_true="_y",
                y_pred="_p",
                churn_true="_churn",
                churn_prob="_prob",
                churn_threshold=model.churn_threshold,
                min_customers=min_slice_customers,
            )

    tiers = pred["tier"].value_counts().reindex(["Low", "Medium", "High"], fill_value=0)
    checks = {}
    if "bgnbd_gg" in baselines:
        checks["beats_bgnbd_gg_rmse"] = revenue["rmse"] < baselines["bgnbd_gg"]["rmse"]
        checks["beats_bgnbd_gg_gini"] = revenue["gini_normalized"] > baselines["bgnbd_gg"]["gini_normalized"]
    if "heuristic" in baselines:
        checks["heuristic_rmse_reduction"] = 1 - revenue["rmse"] / baselines["heuristic"]["rmse"]
    lineage = dict(model.lineage)
    lineage.update(
        {
            "model_version": model.model_version,
            "schema_hash": model.spec.schema_hash,
            "hyperparameters": model.hyperparameters.to_dict(),
            "test_cutoffs": sorted(test_rows["cutoff_date"].dropna().unique().tolist())
            if "cutoff_date" in test_rows
            else [],
            "test_snapshot_ids": sorted(test_rows["snapshot_id"].dropna().unique().tolist())
            if "snapshot_id" in test_rows
            else [],
        }
    )
    lineage.update(extra_lineage or {})
    n_rej = 0 if rejected is None else int(len(rejected))
    return _clean(
        {
            "model_version": model.model_version,
            "evaluated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "rows": {
                "in": int(rows_in if rows_in is not None else len(test_rows) + n_rej),
                "evaluated": int(len(test_rows)),
                "rejected": n_rej,
                "rejected_reasons": {} if rejected is None else rejected["reason"].value_counts().to_dict(),
            },
            "revenue": revenue,
            "churn": churn,
            "tiers": {k: int(v) for k, v in tiers.items()} | {"boundaries": model.tier_boundaries},
            "baselines": baselines,
            "checks": checks,
            "slices": slices,
            "fairness": _fairness(slices, min_slice_customers),
            "champion": champion if champion is not None else {"present": False, "reason": NO_CHAMPION},
            "shap_importance": model.shap_importance(test_rows)[:20],
            "lineage": lineage,
        }
    )


def _fairness(slices: dict[str, Any], min_slice_customers: int) -> dict[str, Any]:
    """Disparate-impact ratio of mean predicted value per slice column (None with fewer than two eligible
    slices); the model gate recomputes it from the per-slice means with its own thresholds."""
    return {
        "metric": "mean predicted revenue, lowest / highest slice",
        "min_slice_customers": min_slice_customers,
        "by": {
            col: (s.get("disparate_impact") or {})
            | {"eligible_slices": sum(e["customers"] >= min_slice_customers for e in s["slices"].values())}
            for col, s in slices.items()
        },
    }


def _predictions(
    model: CLVModel, test_rows: pd.DataFrame, empty_message: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One model's prediction frame, actual and predicted revenue, churn labels and churn probabilities on the
    test rows (which must be of a later snapshot than the model's training ones)."""
    if len(test_rows) == 0:
        raise ValueError(empty_message)
    _check_later(model, test_rows)
    y = revenue_target(test_rows)
    pred = model.predict(test_rows)
    churn_true = test_rows[CHURN_LABEL].to_numpy(float)
    return pred, y, pred["predicted_revenue_12m"].to_numpy(), churn_true, pred["churn_probability"].to_numpy()


def evaluate_champion(
    champion: CLVModel,
    test_rows: pd.DataFrame,
    *,
    rows_in: int,
    min_slice_customers: int = 30,
    package: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The champion's metrics on the same test snapshot (its own accepted rows of it): the section the model
    gate compares the challenger against."""
    _, y, p, churn_true, churn_prob = _predictions(
        champion, test_rows, "the champion accepted none of the test rows"
    )
    revenue = {k: v for k, v in M.regression_metrics(y, p).items() if not isinstance(v, list | dict)}
    frame = test_rows.assign(_y=y, _p=p)
    slices = {
        col: M.slice_metrics(frame, col, y_true="_y", y_pred="_p", min_customers=min_slice_customers)
        for col in SLICE_COLUMNS
        if col in frame.columns
    }
    return _clean(
        {
            "present": True,
            "model_version": champion.model_version,
            "package": package or {},
            "rows": {"in": int(rows_in), "evaluated": int(len(test_rows))},
            "revenue": revenue | {"mean_predicted": float(p.mean())},
            "churn": M.classification_metrics(churn_true, churn_prob, champion.churn_threshold),
            "fairness": _fairness(slices, min_slice_customers),
            "schema_hash": champion.spec.schema_hash,
            "train_cutoffs": champion.lineage.get("train_cutoffs", []),
        }
    )


def champion_error(message: str, package: dict[str, Any] | None = None) -> dict[str, Any]:
    """The champion section when a Production model exists but could not be evaluated (the gate fails)."""
    return {"present": True, "error": message, "package": package or {}}


def _check_later(model: CLVModel, test_rows: pd.DataFrame) -> None:
    if "cutoff_date" not in test_rows.columns:
        return
    seen = model.lineage.get("train_cutoffs", []) + model.lineage.get("validation_cutoffs", [])
    test = test_rows["cutoff_date"].dropna()
    if seen and len(test) and test.min() <= max(seen):
        raise ValueError(
            f"test cutoff {test.min()} is not later than the model's training/validation cutoffs "
            f"(latest {max(seen)})"
        )


def _clean(o: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.{digits}f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _champion_card(report: dict[str, Any]) -> list[str]:
    c = report.get("champion") or {"present": False, "reason": NO_CHAMPION}
    out = ["## Champion (the Production model) on the same test snapshot", ""]
    if not c.get("present"):
        return [*out, f"Not compared: {c.get('reason', NO_CHAMPION)}.", ""]
    if c.get("error"):
        return [*out, f"The champion could not be evaluated: {c['error']}", ""]
    r, cr = report["revenue"], c["revenue"]
    out += [
        f"Champion {c.get('model_version')} ({c['rows']['evaluated']} rows evaluated).",
        "",
        "| model | RMSE | MAE | normalized Gini | top-decile capture | churn AUC |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| challenger {report['model_version']} | {_fmt(r['rmse'])} | {_fmt(r['mae'])} | "
        f"{_fmt(r['gini_normalized'])} | {_fmt(r['top_decile_capture'])} | {_fmt(report['churn']['auc'])} |",
        f"| champion {c.get('model_version')} | {_fmt(cr['rmse'])} | {_fmt(cr['mae'])} | "
        f"{_fmt(cr['gini_normalized'])} | {_fmt(cr['top_decile_capture'])} | {_fmt(c['churn']['auc'])} |",
        "",
    ]
    return out


def model_card(report: dict[str, Any]) -> str:
    r, c, lin = report["revenue"], report["churn"], report["lineage"]
    hp = lin.get("hyperparameters", {})
    out = [
        f"# Model card: CLV model {report['model_version']}",
        "",
        "Two XGBoost heads on the customer feature contract: next-period revenue "
        f"({hp.get('objective')}, horizon {lin.get('horizon_days')} days) and churn probability "
        "(binary:logistic); "
        "a CLV score (percentile of the training snapshot's predictions) and Low/Medium/High tiers.",
        "",
        "## Data and lineage",
        "",
        "| item | value |",
        "| --- | --- |",
        f"| code commit | `{lin.get('code_commit', 'unknown')}` |",
        f"| feature schema hash | `{lin.get('schema_hash')}` |",
        f"| training cutoffs | {', '.join(lin.get('train_cutoffs', []))} |",
        f"| validation cutoffs | {', '.join(lin.get('validation_cutoffs', []))} |",
        f"| calibration (BG/NBD) cutoffs | {', '.join(lin.get('calibration_cutoffs', []))} |",
        f"| test cutoffs | {', '.join(lin.get('test_cutoffs', []))} |",
        f"| label horizon (train) / prediction horizon | {lin.get('label_horizon_days')} / "
        f"{lin.get('horizon_days')} days |",
        f"| snapshot ids | {', '.join(lin.get('snapshot_ids', []) + lin.get('test_snapshot_ids', []))} |",
        f"| test rows (in / evaluated / rejected) | {report['rows']['in']} / {report['rows']['evaluated']} / "
        f"{report['rows']['rejected']} |",
        "",
        "Hyperparameters: " + ", ".join(f"`{k}={v}`" for k, v in sorted(hp.items())),
        "",
        "## Revenue head vs baselines (test snapshot)",
        "",
        "| model | RMSE | MAE | normalized Gini | Spearman | top-decile capture | decile MAPE |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = [("clv_xgb", r)] + list(report["baselines"].items())
    for name, m in rows:
        out.append(
            f"| {name} | {_fmt(m['rmse'])} | {_fmt(m['mae'])} | {_fmt(m['gini_normalized'])} | "
            f"{_fmt(m['spearman'])} | {_fmt(m['top_decile_capture'])} | {_fmt(m['decile_mape'])} |"
        )
    out += ["", "Checks: " + ", ".join(f"{k}: {_fmt(v)}" for k, v in report["checks"].items()), ""]
    out += [
        "### Calibration by decile of prediction (1 = highest)",
        "",
        "| decile | customers | mean predicted | mean actual |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for d in r["decile_table"]:
        out.append(
            f"| {d['decile']} | {d['customers']} | {_fmt(d['mean_predicted'], 2)} | "
            f"{_fmt(d['mean_actual'], 2)} |"
        )
    out += [
        "",
        "### Lorenz (cumulative gain) curve",
        "",
        "| customer share | revenue share |",
        "| ---: | ---: |",
    ]
    for p in r["lorenz"][::2]:
        out.append(f"| {p['customer_share']:.2f} | {p['value_share']:.3f} |")
    out += [
        "",
        "## Churn head",
        "",
        f"AUC {_fmt(c['auc'])}; at threshold {_fmt(c['threshold'])}: precision {_fmt(c['precision'])}, "
        f"recall {_fmt(c['recall'])} (churn rate {_fmt(c['positive_rate'])}).",
        "",
        "## Tiers",
        "",
        f"Low {report['tiers']['Low']}, Medium {report['tiers']['Medium']}, High {report['tiers']['High']}; "
        "boundaries (fitted on the training snapshot): "
        f"Medium from {_fmt(report['tiers']['boundaries']['medium'], 2)}, "
        f"High from {_fmt(report['tiers']['boundaries']['high'], 2)}.",
        "",
        "## Slices",
        "",
    ]
    for col, s in report["slices"].items():
        di = s.get("disparate_impact")
        di_text = (
            "disparate-impact ratio (mean predicted, lowest / highest slice with >= "
            f"{s['min_customers']} customers): "
            f"{_fmt(di['ratio'])} ({di['lowest_slice']} / {di['highest_slice']})"
            if di
            else "disparate-impact ratio: n/a (fewer than two slices large enough)"
        )
        out += [
            f"### {col}",
            "",
            di_text,
            "",
            "| slice | customers | mean predicted | mean actual | RMSE | Gini | churn AUC |",
        ]
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, e in sorted(s["slices"].items(), key=lambda kv: -kv[1]["customers"])[:15]:
            auc = (e.get("churn") or {}).get("auc")
            out.append(
                f"| {name} | {e['customers']} | {_fmt(e['mean_predicted'], 2)} | "
                f"{_fmt(e['mean_actual'], 2)} | "
                f"{_fmt(e.get('rmse'))} | {_fmt(e.get('gini_normalized'))} | {_fmt(auc)} |"
            )
        out.append("")
    out += _champion_card(report)
    out += [
        "## Global SHAP importance (revenue head, mean |contribution| in margin units)",
        "",
        "| feature | mean abs SHAP |",
        "| --- | ---: |",
    ]
    for s in report["shap_importance"][:15]:
        out.append(f"| {s['feature']} | {s['mean_abs_shap']:.4f} |")
    out += [
        "",
        "## Limits",
        "",
        "- Metrics come from one later snapshot; RMSE is dominated by the largest customers.",
        "- SHAP reasons are contributions to the revenue head's margin (log scale for Tweedie) on top of the "
        "BG/NBD + Gamma-Gamma offset when it is used.",
        "",
    ]
    return "\n".join(out)
