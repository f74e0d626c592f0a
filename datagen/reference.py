"""Shared vocabularies (contracts/reference-data.json), read at run time and checked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REFERENCE_PATH = Path(__file__).resolve().parent.parent / "contracts" / "reference-data.json"

# Characters that would need quoting or escaping in a CSV field or a JSON string.
_FORBIDDEN = set(',"\\\n\r')


@dataclass(frozen=True)
class Reference:
    base_currency: str
    fx_to_base: dict[str, float]
    countries: tuple[str, ...]
    channels: tuple[str, ...]
    drift_channels: tuple[str, ...]
    loyalty_statuses: tuple[str, ...]
    event_types: tuple[str, ...]
    gift_card_sku_prefix: str
    non_product_skus: tuple[str, ...]
    country_currency: dict[str, str]


def _strings(data: dict, key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{path}: '{key}' must be a non-empty list of non-empty strings")
    for v in value:
        if _FORBIDDEN & set(v):
            raise ValueError(f"{path}: '{key}' value {v!r} contains a comma, quote, backslash or newline")
    if len(set(value)) != len(value):
        raise ValueError(f"{path}: '{key}' has duplicate values")
    return tuple(value)


def load_reference(path: Path = REFERENCE_PATH) -> Reference:
    """Read and validate the reference data; errors name the file and the key."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"reference data not found at {path}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc})") from exc
    base = data.get("base_currency")
    fx = data.get("fx_to_base")
    if (
        not isinstance(fx, dict)
        or not fx
        or not all(isinstance(k, str) and isinstance(v, int | float) and v > 0 for k, v in fx.items())
    ):
        raise ValueError(f"{path}: 'fx_to_base' must map currency codes to positive numbers")
    if not isinstance(base, str) or fx.get(base) != 1:
        raise ValueError(f"{path}: 'base_currency' must be a currency in fx_to_base with rate 1")
    prefix = data.get("gift_card_sku_prefix")
    if not isinstance(prefix, str) or not prefix or _FORBIDDEN & set(prefix):
        raise ValueError(f"{path}: 'gift_card_sku_prefix' must be a plain non-empty string")
    countries = _strings(data, "countries", path)
    cc = data.get("country_currency")
    if not isinstance(cc, dict) or not all(k in countries and v in fx for k, v in cc.items()):
        raise ValueError(f"{path}: 'country_currency' must map known countries to currencies in fx_to_base")
    return Reference(
        base_currency=base,
        fx_to_base={k: float(v) for k, v in fx.items()},
        countries=countries,
        channels=_strings(data, "channels", path),
        drift_channels=_strings(data, "drift_channels", path),
        loyalty_statuses=_strings(data, "loyalty_statuses", path),
        event_types=_strings(data, "clickstream_event_types", path),
        gift_card_sku_prefix=prefix,
        non_product_skus=_strings(data, "non_product_skus", path),
        country_currency=dict(cc),
    )
