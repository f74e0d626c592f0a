"""The feature specification the model trains on, read from the feature contract at run time.

Sources, first that works:
1. an explicit path, or $CLV_FEATURE_CONTRACT (a copy of contracts/feature-contract.json);
2. the package clv_glue.features.contract (when the Glue package is importable: locally, and in the
   SageMaker source bundle when the lead ships it);
3. feature_contract.json next to this module (a copy the SageMaker source bundle can carry);
4. contracts/feature-contract.json of the repository this file lives in.

The schema hash is verified the same way the TypeScript exporter computes it (sha256 of the canonical JSON
without the hash). The model stores the resulting FeatureSpec, so scoring never depends on the contract file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONTRACT_ENV = "CLV_FEATURE_CONTRACT"
REVENUE_LABEL = "label_revenue_12m"
CHURN_LABEL = "label_churn_6m"


class SpecError(ValueError):
    """The feature contract cannot be read or lacks what the model needs."""


@dataclass(frozen=True)
class FeatureSpec:
    schema_hash: str
    contract_version: int
    record_identifier: str
    model_inputs: tuple[str, ...]
    categorical_inputs: tuple[str, ...]
    required_inputs: tuple[str, ...]  # inputs whose null_policy is "never"
    labels: tuple[str, ...]
    feature_columns: tuple[str, ...]

    @property
    def numeric_inputs(self) -> tuple[str, ...]:
        return tuple(c for c in self.model_inputs if c not in self.categorical_inputs)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        try:
            return cls(
                schema_hash=str(data["schema_hash"]),
                contract_version=int(data["contract_version"]),
                record_identifier=str(data["record_identifier"]),
                model_inputs=tuple(data["model_inputs"]),
                categorical_inputs=tuple(data["categorical_inputs"]),
                required_inputs=tuple(data["required_inputs"]),
                labels=tuple(data["labels"]),
                feature_columns=tuple(data["feature_columns"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError(f"stored feature spec is incomplete: {exc}") from exc


def _canonical_hash(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "schema_hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def spec_from_contract(doc: dict[str, Any], source: str = "feature contract") -> FeatureSpec:
    """Build a FeatureSpec from a contract document (the JSON exported from TypeScript)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise SpecError(f"{source}: expected an object with a 'features' list")
    declared = doc.get("schema_hash")
    if declared != _canonical_hash(doc):
        raise SpecError(f"{source}: schema_hash {declared!r} does not match the content")
    feats = doc["features"]
    try:
        names = [f["name"] for f in feats]
        inputs = [f for f in feats if f["model_input"]]
        spec = FeatureSpec(
            schema_hash=declared,
            contract_version=int(doc["version"]),
            record_identifier=str(doc["record_identifier"]),
            model_inputs=tuple(f["name"] for f in inputs),
            categorical_inputs=tuple(f["name"] for f in inputs if f["type"] == "String"),
            required_inputs=tuple(f["name"] for f in inputs if f["null_policy"] == "never"),
            labels=tuple(f["name"] for f in feats if f["group"] == "label"),
            feature_columns=tuple(names),
        )
    except (KeyError, TypeError) as exc:
        raise SpecError(f"{source}: a feature entry lacks a key: {exc}") from exc
    for label in (REVENUE_LABEL, CHURN_LABEL):
        if label not in spec.labels:
            raise SpecError(f"{source}: label column {label!r} is missing")
    if not spec.model_inputs:
        raise SpecError(f"{source}: no model inputs")
    return spec


def _repo_contract_path() -> Path:
    return Path(__file__).resolve().parents[2] / "contracts" / "feature-contract.json"


def load_spec(path: str | os.PathLike | None = None) -> FeatureSpec:
    """The current feature spec (see the module docstring for where it comes from)."""
    source = path or os.environ.get(CONTRACT_ENV)
    if not source:
        try:
            from clv_glue.features import contract as glue_contract  # noqa: PLC0415
        except ImportError:
            glue_contract = None
        if glue_contract is not None:
            return spec_from_contract(glue_contract.CONTRACT, "clv_glue.features.contract")
        bundled = Path(__file__).resolve().parent / "feature_contract.json"
        source = bundled if bundled.is_file() else _repo_contract_path()
    p = Path(source)
    if not p.is_file():
        raise SpecError(
            f"feature contract not found at {p}; "
            f"set ${CONTRACT_ENV} to a copy of contracts/feature-contract.json"
        )
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SpecError(f"feature contract {p}: not valid JSON: {exc}") from exc
    return spec_from_contract(doc, str(p))
