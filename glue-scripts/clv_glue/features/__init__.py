"""Customer features for CLV: the feature contract, the point-in-time builder and the offline-store writer."""

from clv_glue.features.build import (
    LabelWindowNotObservedError,
    build_features,
    event_time_for,
    infer_observed_until,
    snapshot_id_for,
)
from clv_glue.features.contract import (
    FEATURE_COLUMNS,
    LABELS,
    MODEL_INPUTS,
    SCHEMA_HASH,
)
from clv_glue.features.silver import read_silver

__all__ = [
    "FEATURE_COLUMNS",
    "LABELS",
    "MODEL_INPUTS",
    "SCHEMA_HASH",
    "LabelWindowNotObservedError",
    "build_features",
    "event_time_for",
    "infer_observed_until",
    "read_silver",
    "snapshot_id_for",
]
