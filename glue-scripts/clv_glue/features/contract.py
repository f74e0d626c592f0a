"""The customer feature contract, read from the JSON exported from TypeScript.

Source: lib/contracts/feature-contract.ts. The JSON ships inside this package (feature_contract.json,
written by scripts/export-contracts.ts together with contracts/feature-contract.json). Its schema hash is
verified when this module loads: a hand-edited or truncated file fails here, before any job runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

CONTRACT_ENV = "CLV_FEATURE_CONTRACT"
_PACKAGE_FILE = "feature_contract.json"

FEATURE_TYPES = ("Integral", "Fractional", "String")
GROUPS = ("key", "meta", "rfm", "window", "pattern", "behaviour", "attribute", "label")
NULL_POLICIES = ("never", "when_undefined", "when_source_missing", "when_unlabelled")
# Spark SQL type names (DataType.simpleString()) per Feature Store type.
SPARK_TYPE = {"Integral": "bigint", "Fractional": "double", "String": "string"}


class ContractError(ValueError):
    """The feature contract JSON is malformed or its schema hash does not match its content."""


@dataclass(frozen=True)
class Feature:
    name: str
    type: str
    group: str
    description: str
    model_input: bool
    null_policy: str
    null_when: str | None
    window_days: int | None

    @property
    def spark_type(self) -> str:
        return SPARK_TYPE[self.type]


def canonical_json(value: Any) -> str:
    """Same canonical form as canonicalJson() in TypeScript: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_schema_hash(contract: dict[str, Any]) -> str:
    body = {k: v for k, v in contract.items() if k != "schema_hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def load_contract_document(path: str | None = None) -> dict[str, Any]:
    """Read the contract JSON (path, else $CLV_FEATURE_CONTRACT, else the package copy); verify its hash."""
    source = path or os.environ.get(CONTRACT_ENV)
    if source:
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
    else:
        source = f"clv_glue.features/{_PACKAGE_FILE}"
        text = resources.files(__package__).joinpath(_PACKAGE_FILE).read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"feature contract {source}: not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ContractError(f"feature contract {source}: expected an object with a 'features' list")
    declared = doc.get("schema_hash")
    actual = compute_schema_hash(doc)
    if declared != actual:
        raise ContractError(
            f"feature contract {source}: schema_hash {declared!r} does not match its content ({actual}); "
            "regenerate it with `npx tsx scripts/export-contracts.ts`"
        )
    return doc


def parse_features(doc: dict[str, Any]) -> tuple[Feature, ...]:
    out: list[Feature] = []
    for i, raw in enumerate(doc["features"]):
        try:
            feat = Feature(**raw)
        except TypeError as exc:
            raise ContractError(
                f"feature contract: features[{i}] has unexpected or missing keys: {exc}"
            ) from exc
        if (
            feat.type not in FEATURE_TYPES
            or feat.group not in GROUPS
            or feat.null_policy not in NULL_POLICIES
        ):
            raise ContractError(
                f"feature contract: features[{i}] ({feat.name}) has an unknown type/group/null_policy"
            )
        out.append(feat)
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise ContractError("feature contract: duplicate feature names")
    return tuple(out)


CONTRACT: dict[str, Any] = load_contract_document()
FEATURES: tuple[Feature, ...] = parse_features(CONTRACT)
FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
SCHEMA_HASH: str = CONTRACT["schema_hash"]
CONTRACT_VERSION: int = CONTRACT["version"]
RECORD_IDENTIFIER: str = CONTRACT["record_identifier"]
EVENT_TIME_FEATURE: str = CONTRACT["event_time_feature"]
WINDOWS_DAYS: tuple[int, ...] = tuple(CONTRACT["windows_days"])
REVENUE_HORIZON_DAYS: int = CONTRACT["label_horizons_days"]["revenue"]
CHURN_HORIZON_DAYS: int = CONTRACT["label_horizons_days"]["churn"]

#: Every column of a feature record, in contract order (key, meta, features, labels).
FEATURE_COLUMNS: tuple[str, ...] = tuple(f.name for f in FEATURES)
#: Columns the model trains on, in contract order.
MODEL_INPUTS: tuple[str, ...] = tuple(f.name for f in FEATURES if f.model_input)
#: Label columns.
LABELS: tuple[str, ...] = tuple(f.name for f in FEATURES if f.group == "label")
#: Model inputs of type String (categorical).
CATEGORICAL_INPUTS: tuple[str, ...] = tuple(f.name for f in FEATURES if f.model_input and f.type == "String")

for _required in (RECORD_IDENTIFIER, EVENT_TIME_FEATURE, "label_revenue_12m", "label_churn_6m"):
    if _required not in FEATURES_BY_NAME:
        raise ContractError(f"feature contract: required column {_required!r} is missing")


def spark_schema():
    """The Spark StructType of a feature record (all columns nullable, as Spark reports them)."""
    from pyspark.sql import types as T  # noqa: N812

    by_type = {"Integral": T.LongType(), "Fractional": T.DoubleType(), "String": T.StringType()}
    return T.StructType([T.StructField(f.name, by_type[f.type], True) for f in FEATURES])
