"""Load and validate the shared contracts the jobs read: transaction layouts and reference data.

Files (read-only here): contracts/transactions-layouts.json and contracts/reference-data.json.
The directory is found, in order, from the `contracts_dir` argument (the jobs' `--contracts-dir`),
the CLV_CONTRACTS_DIR variable, the repository checkout this package lives in, and the working
directory (where Glue puts `--extra-files`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYOUTS_FILE = "transactions-layouts.json"
REFERENCE_FILE = "reference-data.json"
CONTRACTS_DIR_ENV = "CLV_CONTRACTS_DIR"

GENERIC_FIELDS = (
    "invoice_id",
    "customer_id",
    "invoice_ts",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "country",
    "channel",
    "email",
    "name",
)
REQUIRED_FIELDS = ("invoice_id", "customer_id", "invoice_ts", "sku", "quantity", "unit_price")
# The only timestamp pattern the layouts use; parsing is done with a strict shape check plus a cast (see
# ingest.transactions), so another pattern needs code, not just configuration.
SUPPORTED_TIMESTAMP_FORMATS = ("yyyy-MM-dd HH:mm:ss",)


class ContractError(ValueError):
    """A contract file is missing or does not have the expected shape."""


@dataclass(frozen=True)
class Layout:
    name: str
    columns: dict[str, str]  # generic field -> source column name
    timestamp_format: str
    timezone: str
    default_currency: str


@dataclass(frozen=True)
class ReferenceData:
    base_currency: str
    fx_to_base: dict[str, float]
    gift_card_sku_prefix: str
    non_product_skus: tuple[str, ...]
    clickstream_event_types: tuple[str, ...]


def _default_dirs() -> list[Path]:
    dirs = []
    env = os.environ.get(CONTRACTS_DIR_ENV, "").strip()
    if env:
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parents[3] / "contracts")
    dirs.append(Path.cwd() / "contracts")
    dirs.append(Path.cwd())
    return dirs


def _load_json(name: str, contracts_dir: str | os.PathLike[str] | None) -> dict[str, Any]:
    candidates = [Path(contracts_dir)] if contracts_dir else _default_dirs()
    for directory in candidates:
        path = directory / name
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ContractError(f"{path}: not valid JSON ({exc})") from exc
            if not isinstance(data, dict):
                raise ContractError(f"{path}: expected a JSON object at the top level")
            return data
    tried = ", ".join(str(d / name) for d in candidates)
    raise ContractError(f"contract file {name} not found (tried {tried})")


def parse_layouts(data: dict[str, Any], source: str = LAYOUTS_FILE) -> dict[str, Layout]:
    layouts: dict[str, Layout] = {}
    for name, body in data.items():
        if name.startswith("$"):
            continue
        where = f"{source}: layout {name!r}"
        if not isinstance(body, dict) or not isinstance(body.get("columns"), dict):
            raise ContractError(f"{where}: expected an object with a 'columns' object")
        columns = body["columns"]
        unknown = sorted(set(columns) - set(GENERIC_FIELDS))
        if unknown:
            raise ContractError(f"{where}: unknown generic fields {unknown}; allowed: {list(GENERIC_FIELDS)}")
        missing = [f for f in REQUIRED_FIELDS if f not in columns]
        if missing:
            raise ContractError(f"{where}: required fields not mapped: {missing}")
        bad = [f for f, c in columns.items() if not isinstance(c, str) or not c.strip()]
        if bad:
            raise ContractError(f"{where}: source column names must be non-empty strings (fields {bad})")
        sources = list(columns.values())
        if len(set(sources)) != len(sources):
            raise ContractError(f"{where}: a source column is mapped twice ({sources})")
        fmt = body.get("timestamp_format")
        if fmt not in SUPPORTED_TIMESTAMP_FORMATS:
            raise ContractError(
                f"{where}: timestamp_format {fmt!r} unsupported; supported: {SUPPORTED_TIMESTAMP_FORMATS}"
            )
        tz = body.get("timezone")
        currency = body.get("default_currency")
        if not isinstance(tz, str) or not tz:
            raise ContractError(f"{where}: 'timezone' must be an IANA zone name")
        if not isinstance(currency, str) or not currency:
            raise ContractError(f"{where}: 'default_currency' must be a currency code")
        layouts[name] = Layout(
            name=name, columns=dict(columns), timestamp_format=fmt, timezone=tz, default_currency=currency
        )
    if not layouts:
        raise ContractError(f"{source}: no layouts defined")
    return layouts


def parse_reference_data(data: dict[str, Any], source: str = REFERENCE_FILE) -> ReferenceData:
    fx = data.get("fx_to_base")
    if not isinstance(fx, dict) or not fx:
        raise ContractError(f"{source}: 'fx_to_base' must be a non-empty object of currency -> rate")
    for code, rate in fx.items():
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
            raise ContractError(f"{source}: fx_to_base[{code!r}] must be a positive number, got {rate!r}")
    base = data.get("base_currency")
    if base not in fx or fx[base] != 1:
        raise ContractError(f"{source}: base_currency {base!r} must be in fx_to_base with rate 1")
    prefix = data.get("gift_card_sku_prefix")
    if not isinstance(prefix, str) or not prefix:
        raise ContractError(f"{source}: 'gift_card_sku_prefix' must be a non-empty string")
    non_product = data.get("non_product_skus")
    if not isinstance(non_product, list) or not all(isinstance(s, str) and s for s in non_product):
        raise ContractError(f"{source}: 'non_product_skus' must be a list of non-empty strings")
    event_types = data.get("clickstream_event_types")
    if not isinstance(event_types, list) or not all(isinstance(s, str) and s for s in event_types):
        raise ContractError(f"{source}: 'clickstream_event_types' must be a list of non-empty strings")
    return ReferenceData(
        base_currency=base,
        fx_to_base={k.upper(): float(v) for k, v in fx.items()},
        gift_card_sku_prefix=prefix,
        non_product_skus=tuple(non_product),
        clickstream_event_types=tuple(event_types),
    )


def load_layouts(contracts_dir: str | os.PathLike[str] | None = None) -> dict[str, Layout]:
    return parse_layouts(_load_json(LAYOUTS_FILE, contracts_dir))


def load_layout(name: str, contracts_dir: str | os.PathLike[str] | None = None) -> Layout:
    layouts = load_layouts(contracts_dir)
    if name not in layouts:
        raise ContractError(f"unknown layout {name!r}; known layouts: {sorted(layouts)}")
    return layouts[name]


def load_reference_data(contracts_dir: str | os.PathLike[str] | None = None) -> ReferenceData:
    return parse_reference_data(_load_json(REFERENCE_FILE, contracts_dir))
