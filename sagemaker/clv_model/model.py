"""The CLV model: two XGBoost heads (12-month revenue, churn probability), a CLV score and tiers, the
baselines fitted beside it, and the artefacts written to / read from the model directory."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xgboost as xgb

from . import btyd
from . import metrics as M
from .baselines import fit_baselines, predict_baselines
from .hyperparameters import Hyperparameters
from .spec import CHURN_LABEL, REVENUE_LABEL, FeatureSpec

META_FILE = "clv_model.json"
REVENUE_FILE = "revenue.json"
CHURN_FILE = "churn.json"
FORMAT_VERSION = 1

# Contract columns the BG/NBD + Gamma-Gamma model reads (see the feature contract's descriptions).
BTYD_COLUMNS = {
    "frequency": "repeat_frequency",
    "recency": "btyd_recency_days",
    "T": "tenure_days",
    "monetary": "monetary_avg_day",
}
TIERS = ("Low", "Medium", "High")
# how a row's reasons were computed: exact TreeSHAP, Saabas path attribution (approx_contribs), none
REASONS_METHODS = ("tree_shap", "saabas", "none")


class ModelError(ValueError):
    """The model cannot be trained or loaded as asked."""


def btyd_available(spec: FeatureSpec) -> bool:
    return all(c in spec.model_inputs for c in BTYD_COLUMNS.values())


def _btyd_inputs(frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    x = frame[BTYD_COLUMNS["frequency"]].to_numpy(float)
    t_x = frame[BTYD_COLUMNS["recency"]].to_numpy(float)
    age = frame[BTYD_COLUMNS["T"]].to_numpy(float)
    m = frame[BTYD_COLUMNS["monetary"]].to_numpy(float)
    # the contract measures recency/T in whole days from purchase days; guard against t_x > T from rounding
    t_x = np.minimum(np.clip(t_x, 0, None), np.clip(age, 0, None))
    return np.clip(x, 0, None), t_x, np.clip(age, 0, None), m


def fit_btyd_on(frame: pd.DataFrame) -> btyd.BtydModel:
    x, t_x, age, m = _btyd_inputs(frame)
    return btyd.fit_btyd(x, t_x, age, m)


def btyd_predict(model: btyd.BtydModel, frame: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    x, t_x, age, m = _btyd_inputs(frame)
    n = btyd.bgnbd_expected_purchases(model.bgnbd, x, t_x, age, horizon_days)
    spend = btyd.gamma_gamma_expected_spend(model.gamma_gamma, x, m)
    # per-30-day rates keep the tree inputs comparable across horizons; the revenue total is the offset
    return pd.DataFrame(
        {
            "btyd_purchase_rate_30d": n / horizon_days * 30,
            "btyd_p_alive": btyd.bgnbd_p_alive(model.bgnbd, x, t_x, age),
            "btyd_expected_spend": spend,
            "btyd_revenue_rate_30d": n * spend / horizon_days * 30,
            "btyd_expected_revenue": n * spend,
        },
        index=frame.index,
    )


def derived_features(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Tenure-aware rates from contract columns (comparable across snapshots with different history
    lengths)."""
    out = pd.DataFrame(index=frame.index)
    cols = set(spec.model_inputs)
    if {"frequency_days", "tenure_days"} <= cols:
        out["rate_purchase_days_per_30d"] = frame["frequency_days"] / frame["tenure_days"].clip(lower=1) * 30
    if {"monetary_total_net", "tenure_days"} <= cols:
        out["rate_spend_per_30d"] = frame["monetary_total_net"] / frame["tenure_days"].clip(lower=1) * 30
    if {"recency_days", "interpurchase_mean_days"} <= cols:
        out["recency_over_gap"] = frame["recency_days"] / frame["interpurchase_mean_days"].where(
            frame["interpurchase_mean_days"] > 0
        )
    return out


@dataclass
class CLVModel:
    spec: FeatureSpec
    hyperparameters: Hyperparameters
    revenue_booster: xgb.Booster
    churn_booster: xgb.Booster
    input_columns: list[str]
    categories: dict[str, list[str]]
    btyd_model: btyd.BtydModel | None
    score_quantiles: list[float]
    tier_boundaries: dict[str, float]
    churn_threshold: float
    baselines: dict[str, Any]
    lineage: dict[str, Any] = field(default_factory=dict)
    training_metrics: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""

    # ---------------------------------------------------------------- features
    def design_matrix(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Model inputs for accepted rows: contract inputs, derived rates, BTYD outputs."""
        return build_design(
            rows, self.spec, self.categories, self.btyd_model, self.hyperparameters.horizon_days
        )

    def _dmatrix(self, X: pd.DataFrame) -> xgb.DMatrix:
        return _dmatrix(X, self.input_columns, self.hyperparameters)

    def design_array(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """The design matrix as float32 in input-column order (categories as their codes, unknown or missing
        as NaN: what xgboost makes of the pandas categorical frame) and the revenue head's base margin."""
        # filled column by column: no intermediate DataFrame (its block copies cost more than the maths)
        n = len(rows)
        cols = np.empty((len(self.input_columns), n), dtype=np.float32)  # one contiguous row per column
        where = {c: j for j, c in enumerate(self.input_columns)}
        for col in self.spec.numeric_inputs:
            cols[where[col]] = rows[col].to_numpy(float, na_value=np.nan)
        for col in self.spec.categorical_inputs:
            cols[where[col]] = _category_codes(rows[col], self.categories.get(col, []))
        extra = [derived_features(rows, self.spec)]
        if self.btyd_model is not None:
            extra.append(btyd_predict(self.btyd_model, rows, self.hyperparameters.horizon_days))
        for frame in extra:
            for col in frame.columns:
                cols[where[col]] = frame[col].to_numpy(float)
        margin = _offset(extra[-1], self.hyperparameters) if self.btyd_model is not None else None
        return np.ascontiguousarray(cols.T), margin

    # ---------------------------------------------------------------- predictions
    def predict(
        self,
        rows: pd.DataFrame,
        *,
        with_reasons: int = 0,
        exact_tiers: tuple[str, ...] | frozenset[str] = TIERS,
        other_reasons: str = "saabas",
        exact_rows: np.ndarray | None = None,
        device: str = "cpu",
    ) -> pd.DataFrame:
        """Both heads (trees up to each head's early-stopping best iteration), score and tier; with
        `with_reasons` = k, the top-k reasons of the revenue head (contributions in its margin units) and
        `reasons_method` per row: exact TreeSHAP (`tree_shap`) for the tiers in `exact_tiers` and the rows
        flagged in `exact_rows`, `other_reasons` (`saabas`: XGBoost's approx_contribs, Saabas' path
        attribution; or `none`) for the rest. `device`: `cpu`, `cuda` or `auto` for the reasons (GPU TreeSHAP
        when a GPU is visible, the CPU otherwise)."""
        if other_reasons not in ("saabas", "none"):
            raise ValueError(f"other_reasons: expected saabas or none, got {other_reasons!r}")
        arr, margin = self.design_array(rows)
        revenue = self.revenue_booster.inplace_predict(
            arr, iteration_range=_range(self.revenue_booster), base_margin=margin
        )
        churn = self.churn_booster.inplace_predict(arr, iteration_range=_range(self.churn_booster))
        out = pd.DataFrame(
            {
                "predicted_revenue_12m": revenue.astype(float),
                "churn_probability": churn.astype(float),
            },
            index=rows.index,
        )
        out["clv_score"] = self.score(out["predicted_revenue_12m"].to_numpy())
        tiers = self.tier(out["predicted_revenue_12m"].to_numpy())
        out["tier"] = tiers
        if with_reasons:
            exact = pd.Series(tiers).isin(list(exact_tiers)).to_numpy()
            if exact_rows is not None:
                exact |= np.asarray(exact_rows, dtype=bool)
            other = REASONS_METHODS.index(other_reasons)
            methods = pd.Categorical.from_codes(np.where(exact, 0, other), categories=list(REASONS_METHODS))
            reasons = self.reasons(arr, margin, methods, with_reasons, device=device)
            for col in reasons.columns:
                out[col] = reasons[col].array
        return out

    def contributions(
        self, arr: np.ndarray, margin: np.ndarray | None, method: str, *, device: str = "cpu"
    ) -> np.ndarray:
        """Per-feature contributions to the revenue head's margin (last column: bias), trees up to the
        best iteration. tree_shap: exact TreeSHAP (pred_contribs); saabas: approx_contribs."""
        if method not in ("tree_shap", "saabas"):
            raise ValueError(f"method: expected tree_shap or saabas, got {method!r}")
        booster = self.revenue_booster
        dm = xgb.DMatrix(
            arr,
            base_margin=margin,
            feature_names=booster.feature_names,
            feature_types=booster.feature_types,
            enable_categorical=True,
            missing=np.nan,
        )
        use_gpu = resolve_device(device) == "cuda"
        if use_gpu:
            booster = booster.copy()
            booster.set_param({"device": "cuda"})
        return booster.predict(
            dm,
            pred_contribs=True,
            approx_contribs=method == "saabas",
            iteration_range=_range(self.revenue_booster),
        )

    def reasons(
        self,
        arr: np.ndarray,
        margin: np.ndarray | None,
        methods: np.ndarray,
        k: int,
        *,
        device: str = "cpu",
    ) -> pd.DataFrame:
        """Top-k reasons per row by |contribution|, computed with each row's method (tree_shap, saabas or
        none: no reasons, contributions NaN). Features and methods come back as pandas categoricals."""
        n = len(arr)
        if isinstance(methods, pd.Categorical) and list(methods.categories) == list(REASONS_METHODS):
            cat = methods
        else:
            values = np.asarray(methods, dtype=object)
            cat = pd.Categorical(values, categories=list(REASONS_METHODS))
            unknown = sorted({str(v) for v in pd.unique(values[cat.codes < 0])})
            if unknown:
                raise ValueError(f"reasons method: expected one of {REASONS_METHODS}, got {unknown}")
        codes = np.full((n, k), -1, dtype=np.int32)
        contribs = np.full((n, k), np.nan)
        for method in ("tree_shap", "saabas"):
            idx = np.flatnonzero(cat.codes == REASONS_METHODS.index(method))
            if not len(idx):
                continue
            c = self.contributions(arr[idx], None if margin is None else margin[idx], method, device=device)[
                :, :-1
            ]
            order = np.argsort(-np.abs(c), axis=1, kind="stable")[:, :k]
            codes[idx] = order
            contribs[idx] = np.take_along_axis(c, order, axis=1)
        out = {}
        for j in range(k):
            out[f"reason_{j + 1}_feature"] = pd.Categorical.from_codes(
                codes[:, j], categories=self.input_columns
            )
            out[f"reason_{j + 1}_contribution"] = contribs[:, j].astype(float)
        out["reasons_method"] = cat
        return pd.DataFrame(out)

    def score(self, revenue: np.ndarray) -> np.ndarray:
        """CLV score 0..100: percentile of the predicted revenue among the training snapshot's predictions."""
        q = np.asarray(self.score_quantiles)
        grid = np.linspace(0, 100, len(q))
        # ties in the quantile grid (e.g. many zero predictions): np.interp takes the right-most equal point
        return np.round(np.interp(revenue, q, grid), 2)

    def tier(self, revenue: np.ndarray) -> np.ndarray:
        lo, hi = self.tier_boundaries["medium"], self.tier_boundaries["high"]
        return np.where(revenue >= hi, "High", np.where(revenue >= lo, "Medium", "Low"))

    def shap_importance(self, rows: pd.DataFrame) -> list[dict[str, float]]:
        """Global importance: mean |SHAP| per input over the given rows (revenue head, margin units)."""
        dm = self._dmatrix(self.design_matrix(rows))
        contribs = self.revenue_booster.predict(
            dm, pred_contribs=True, iteration_range=_range(self.revenue_booster)
        )
        mean_abs = np.abs(contribs[:, :-1]).mean(axis=0)
        order = np.argsort(-mean_abs)
        return [{"feature": self.input_columns[i], "mean_abs_shap": float(mean_abs[i])} for i in order]

    def baseline_predictions(self, rows: pd.DataFrame) -> dict[str, np.ndarray]:
        out = predict_baselines(self.baselines, rows, self.hyperparameters.horizon_days)
        if self.btyd_model is not None:
            out["bgnbd_gg"] = btyd_predict(self.btyd_model, rows, self.hyperparameters.horizon_days)[
                "btyd_expected_revenue"
            ].to_numpy()
        return out

    # ---------------------------------------------------------------- persistence
    def save(self, model_dir: str | Path) -> Path:
        d = Path(model_dir)
        d.mkdir(parents=True, exist_ok=True)
        self.revenue_booster.save_model(d / REVENUE_FILE)
        self.churn_booster.save_model(d / CHURN_FILE)
        if not self.model_version:
            h = hashlib.sha256()
            for name in (REVENUE_FILE, CHURN_FILE):
                h.update((d / name).read_bytes())
            self.model_version = "clv-" + h.hexdigest()[:12]
        meta = {
            "format_version": FORMAT_VERSION,
            "model_version": self.model_version,
            "schema_hash": self.spec.schema_hash,
            "feature_spec": self.spec.to_dict(),
            "input_columns": self.input_columns,
            "categories": self.categories,
            "hyperparameters": self.hyperparameters.to_dict(),
            "btyd": self.btyd_model.to_dict() if self.btyd_model else None,
            "score_quantiles": self.score_quantiles,
            "tier_boundaries": self.tier_boundaries,
            "churn_threshold": self.churn_threshold,
            "baselines": self.baselines,
            "lineage": self.lineage,
            "training_metrics": self.training_metrics,
            "files": {"revenue": REVENUE_FILE, "churn": CHURN_FILE},
        }
        (d / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=_json_default))
        (d / "feature_list.json").write_text(json.dumps(self.input_columns, indent=2))
        return d

    @classmethod
    def load(cls, model_dir: str | Path) -> CLVModel:
        from .hyperparameters import parse_hyperparameters  # noqa: PLC0415
        from .spec import FeatureSpec  # noqa: PLC0415

        d = Path(model_dir)
        meta_path = d / META_FILE
        if not meta_path.is_file():
            raise ModelError(f"{meta_path} not found: not a CLV model directory")
        meta = json.loads(meta_path.read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{meta_path}: format_version {meta.get('format_version')} != {FORMAT_VERSION}")
        rev = xgb.Booster()
        rev.load_model(d / meta["files"]["revenue"])
        churn = xgb.Booster()
        churn.load_model(d / meta["files"]["churn"])
        return cls(
            spec=FeatureSpec.from_dict(meta["feature_spec"]),
            hyperparameters=parse_hyperparameters(meta["hyperparameters"]),
            revenue_booster=rev,
            churn_booster=churn,
            input_columns=list(meta["input_columns"]),
            categories={k: list(v) for k, v in meta["categories"].items()},
            btyd_model=btyd.BtydModel.from_dict(meta["btyd"]) if meta.get("btyd") else None,
            score_quantiles=list(meta["score_quantiles"]),
            tier_boundaries=dict(meta["tier_boundaries"]),
            churn_threshold=float(meta["churn_threshold"]),
            baselines=meta["baselines"],
            lineage=meta.get("lineage", {}),
            training_metrics=meta.get("training_metrics", {}),
            model_version=meta["model_version"],
        )


_DEVICE_CACHE: dict[str, str] = {}


def resolve_device(requested: str) -> str:
    """`cpu`, or `cuda` when asked for (`cuda` or `auto`) and xgboost can use a visible GPU; otherwise the
    CPU (a clean fallback: same results, slower)."""
    if requested not in ("cpu", "cuda", "auto"):
        raise ValueError(f"device: expected cpu, cuda or auto, got {requested!r}")
    if requested == "cpu":
        return "cpu"
    if "cuda" not in _DEVICE_CACHE:
        _DEVICE_CACHE["cuda"] = "cuda" if _cuda_works() else "cpu"
    return _DEVICE_CACHE["cuda"]


def _cuda_works() -> bool:
    import warnings  # noqa: PLC0415

    if not xgb.build_info().get("USE_CUDA"):
        return False
    X = np.arange(8, dtype=np.float32).reshape(4, 2)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # xgboost warns, and runs on the CPU, when no GPU is visible
            b = xgb.train({"device": "cuda", "max_depth": 1}, xgb.DMatrix(X, label=X[:, 0]), 1)
            b.predict(xgb.DMatrix(X), pred_contribs=True)
    except xgb.core.XGBoostError:
        return False
    return not any("GPU" in str(w.message) or "CUDA" in str(w.message) for w in caught)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _range(booster: xgb.Booster) -> tuple[int, int]:
    """Trees up to the early-stopping best iteration."""
    try:
        best = int(booster.attr("best_iteration")) if booster.attr("best_iteration") is not None else None
    except ValueError:
        best = None
    return (0, best + 1) if best is not None else (0, 0)


def _offset(X: pd.DataFrame, hp: Hyperparameters) -> np.ndarray | None:
    """Revenue-head offset: the BG/NBD + Gamma-Gamma expectation in the objective's margin units."""
    if not hp.btyd_offset or "btyd_expected_revenue" not in X.columns:
        return None
    base = X["btyd_expected_revenue"].to_numpy(float)
    if hp.objective == "reg:tweedie":
        return np.log(np.clip(base, 1.0, None))
    return base


def _dmatrix(
    X: pd.DataFrame, columns: list[str], hp: Hyperparameters, label=None, *, offset: bool = True
) -> xgb.DMatrix:
    dm = xgb.DMatrix(X[columns], label=label, enable_categorical=True, missing=np.nan)
    margin = _offset(X, hp) if offset else None
    if margin is not None:
        dm.set_base_margin(margin)
    return dm


def _category_codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Codes of the training categories as xgboost sees them (float; NaN for missing or unknown)."""
    arrow = getattr(values.array, "_pa_array", None)
    if arrow is not None and pa.types.is_string(arrow.type):
        codes = pc.index_in(arrow, value_set=pa.array(categories, type=pa.string()))
        return codes.to_numpy().astype(float)  # nulls (missing, unknown) come back as NaN
    codes = pd.Categorical(values.to_numpy(object, na_value=None), categories=categories).codes.astype(float)
    codes[codes < 0] = np.nan
    return codes


def build_design(
    rows: pd.DataFrame,
    spec: FeatureSpec,
    categories: dict[str, list[str]],
    btyd_model: btyd.BtydModel | None,
    horizon_days: float,
    *,
    categorical_codes: bool = False,
) -> pd.DataFrame:
    """Model inputs; categorical inputs as pandas categoricals, or (categorical_codes) as the float codes
    xgboost sees (NaN for missing or unknown)."""
    cols: dict[str, Any] = {}
    for col in spec.numeric_inputs:
        cols[col] = rows[col].to_numpy(float, na_value=np.nan)
    for col in spec.categorical_inputs:
        if categorical_codes:
            cols[col] = _category_codes(rows[col], categories.get(col, []))
        else:
            cols[col] = pd.Categorical(
                rows[col].to_numpy(object, na_value=None), categories=categories.get(col, [])
            )
    X = pd.DataFrame(cols, index=rows.index)
    X = pd.concat([X, derived_features(rows, spec)], axis=1)
    if btyd_model is not None:
        b = btyd_predict(btyd_model, rows, horizon_days)
        X = pd.concat([X, b], axis=1)
    return X


# ==================================================================== training
@dataclass
class TrainResult:
    model: CLVModel
    metrics: dict[str, Any]


def fit_categories(rows: pd.DataFrame, spec: FeatureSpec, min_count: int = 1) -> dict[str, list[str]]:
    cats = {}
    for col in spec.categorical_inputs:
        counts = rows[col].dropna().astype(str).value_counts()
        cats[col] = sorted(counts[counts >= min_count].index.tolist())
    return cats


def _unique_strings(frames: list[pd.DataFrame], col: str) -> list[str]:
    vals: set[str] = set()
    for f in frames:
        if f is not None and col in f.columns:
            vals.update(str(v) for v in f[col].dropna().unique())
    return sorted(vals)


def revenue_target(rows: pd.DataFrame) -> np.ndarray:
    """Revenue label floored at 0 (the contract floors it; this guards other sources)."""
    return np.clip(rows[REVENUE_LABEL].to_numpy(float), 0, None)


def _train(
    params: dict, d_tr: xgb.DMatrix, d_va: xgb.DMatrix, rounds: int, hp: Hyperparameters
) -> xgb.Booster:
    """xgb.train with the validation set watched and early stopping as the hyperparameters say."""
    return xgb.train(
        params,
        d_tr,
        num_boost_round=rounds,
        evals=[(d_tr, "train"), (d_va, "validation")],
        early_stopping_rounds=hp.early_stopping_rounds or None,
        verbose_eval=False,
    )


def train(
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    spec: FeatureSpec,
    hp: Hyperparameters,
    *,
    calibration_rows: pd.DataFrame | None = None,
    lineage: dict[str, Any] | None = None,
    log=print,
) -> TrainResult:
    """Train both heads on accepted rows (frames.check_rows with require_labels=True).

    calibration_rows: the latest feature snapshot available at training time (no labels needed), on which the
    BG/NBD + Gamma-Gamma model is fitted; defaults to the training rows of the latest training cutoff."""
    if len(train_rows) == 0 or len(validation_rows) == 0:
        raise ModelError(
            f"training needs rows in both sets (train={len(train_rows)}, validation={len(validation_rows)})"
        )
    _check_temporal(train_rows, validation_rows)
    categories = fit_categories(train_rows, spec)

    btyd_model = None
    if hp.btyd_features and btyd_available(spec):
        cal = calibration_rows if calibration_rows is not None else _latest_snapshot(train_rows)
        btyd_model = fit_btyd_on(cal)
        log(f"btyd: fitted on {len(cal)} customers: {json.dumps(btyd_model.to_dict())}")

    # train/validation labels cover label_horizon_days; predictions cover horizon_days (the offset carries it)
    label_horizon = hp.label_horizon_days or hp.horizon_days
    X_tr = build_design(train_rows, spec, categories, btyd_model, label_horizon)
    X_va = build_design(validation_rows, spec, categories, btyd_model, label_horizon)
    input_columns = list(X_tr.columns)
    y_tr, y_va = revenue_target(train_rows), revenue_target(validation_rows)
    c_tr = train_rows[CHURN_LABEL].to_numpy(float)
    c_va = validation_rows[CHURN_LABEL].to_numpy(float)

    d_tr = _dmatrix(X_tr, input_columns, hp, y_tr)
    d_va = _dmatrix(X_va, input_columns, hp, y_va)
    params = hp.xgb_params() | {"objective": hp.objective}
    if hp.objective == "reg:tweedie":
        params["tweedie_variance_power"] = hp.tweedie_variance_power
        params["eval_metric"] = [f"tweedie-nloglik@{hp.tweedie_variance_power}"]
    else:
        params["eval_metric"] = ["rmse"]
    revenue_booster = _train(params, d_tr, d_va, hp.num_round, hp)

    d_tr = _dmatrix(X_tr, input_columns, hp, c_tr, offset=False)
    d_va = _dmatrix(X_va, input_columns, hp, c_va, offset=False)
    churn_params = hp.xgb_params() | {
        "objective": "binary:logistic",
        "eval_metric": ["logloss"],
        "min_child_weight": hp.churn_min_child_weight,
    }
    churn_booster = _train(churn_params, d_tr, d_va, hp.churn_num_round, hp)

    pred_tr = revenue_booster.predict(
        _dmatrix(X_tr, input_columns, hp), iteration_range=_range(revenue_booster)
    )
    pred_va = revenue_booster.predict(
        _dmatrix(X_va, input_columns, hp), iteration_range=_range(revenue_booster)
    )
    p_tr = churn_booster.predict(d_tr, iteration_range=_range(churn_booster))
    p_va = churn_booster.predict(d_va, iteration_range=_range(churn_booster))

    # tiers and score grid fitted on the training snapshot's predictions, over the prediction horizon
    pred_tr_h = revenue_booster.predict(
        _dmatrix(build_design(train_rows, spec, categories, btyd_model, hp.horizon_days), input_columns, hp),
        iteration_range=_range(revenue_booster),
    )
    score_quantiles = np.quantile(pred_tr_h, np.linspace(0, 1, 101)).astype(float).tolist()
    tiers = {
        "medium": float(np.quantile(pred_tr_h, hp.tier_medium_quantile)),
        "high": float(np.quantile(pred_tr_h, hp.tier_high_quantile)),
        "medium_quantile": hp.tier_medium_quantile,
        "high_quantile": hp.tier_high_quantile,
    }
    churn_threshold = M.best_f1_threshold(c_va, p_va)

    baselines = fit_baselines(train_rows, y_tr, label_horizon)

    metrics: dict[str, Any] = {
        "revenue": {
            "best_iteration": _range(revenue_booster)[1],
            "train": M.regression_metrics(y_tr, pred_tr),
            "validation": M.regression_metrics(y_va, pred_va),
        },
        "churn": {
            "best_iteration": _range(churn_booster)[1],
            "train": M.classification_metrics(c_tr, p_tr, churn_threshold),
            "validation": M.classification_metrics(c_va, p_va, churn_threshold),
        },
        "rows": {"train": int(len(train_rows)), "validation": int(len(validation_rows))},
    }
    lineage = dict(lineage or {})
    lineage.update(
        {
            "schema_hash": spec.schema_hash,
            "train_cutoffs": _unique_strings([train_rows], "cutoff_date"),
            "validation_cutoffs": _unique_strings([validation_rows], "cutoff_date"),
            "calibration_cutoffs": _unique_strings([calibration_rows], "cutoff_date")
            if calibration_rows is not None
            else _unique_strings([_latest_snapshot(train_rows)], "cutoff_date"),
            "snapshot_ids": _unique_strings([train_rows, validation_rows, calibration_rows], "snapshot_id"),
            "horizon_days": hp.horizon_days,
            "label_horizon_days": label_horizon,
        }
    )
    model = CLVModel(
        spec=spec,
        hyperparameters=hp,
        revenue_booster=revenue_booster,
        churn_booster=churn_booster,
        input_columns=input_columns,
        categories=categories,
        btyd_model=btyd_model,
        score_quantiles=score_quantiles,
        tier_boundaries=tiers,
        churn_threshold=churn_threshold,
        baselines=baselines,
        lineage=lineage,
        training_metrics=metrics,
        model_version=hp.model_version,
    )
    return TrainResult(model=model, metrics=metrics)


def _latest_snapshot(rows: pd.DataFrame) -> pd.DataFrame:
    if "cutoff_date" not in rows.columns or rows["cutoff_date"].isna().all():
        return rows
    latest = rows["cutoff_date"].dropna().max()
    return rows[rows["cutoff_date"] == latest]


def _check_temporal(train_rows: pd.DataFrame, validation_rows: pd.DataFrame) -> None:
    """Validation must come from a later cutoff than every training snapshot (never a random split)."""
    if "cutoff_date" not in train_rows.columns or "cutoff_date" not in validation_rows.columns:
        return
    tr = train_rows["cutoff_date"].dropna()
    va = validation_rows["cutoff_date"].dropna()
    if len(tr) and len(va) and va.min() <= tr.max():
        raise ModelError(
            f"validation cutoff {va.min()} is not later than the latest training cutoff {tr.max()}: "
            "the validation channel must be a later snapshot"
        )


def metric_lines(metrics: dict[str, Any]) -> list[str]:
    """Lines for SageMaker metric definitions, e.g. `validation:rmse=123.4;`."""
    lines = []
    for split in ("train", "validation"):
        r = metrics["revenue"][split]
        c = metrics["churn"][split]
        parts = [
            f"{split}:rmse={r['rmse']:.6f};",
            f"{split}:mae={r['mae']:.6f};",
            f"{split}:gini={r['gini_normalized']:.6f};",
            f"{split}:spearman={r['spearman']:.6f};",
            f"{split}:top_decile_capture={r['top_decile_capture']:.6f};",
            f"{split}:churn_auc={c['auc']:.6f};",
        ]
        lines.append(" ".join(parts))
    return lines
