"""Clickstream events: the event schema, correlation with purchases, every malformed kind."""

import json
import re
from collections import Counter

from datagen.params import MALFORMED_KINDS
from datagen.reference import load_reference

REF = load_reference()
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MAX_BYTES = 16 * 1024
BY_TYPE = {
    "session_start": {},
    "page_view": {"page": str},
    "product_view": {"sku": str},
    "search": {"query": str},
    "add_to_cart": {"sku": str, "quantity": int},
    "checkout": {"cart_value": (int, float), "currency": str},
    "purchase": {"order_id": str, "revenue": (int, float), "currency": str},
}


def classify(line: str) -> str:
    """'valid' or the malformed kind, checking the content of the ingestion validator's schema."""
    if len(line.encode()) > MAX_BYTES:
        return "oversized"
    try:
        e = json.loads(line)
    except json.JSONDecodeError:
        return "invalid_json"
    if "event_id" not in e or "session_id" not in e:
        return "missing_id"
    if not isinstance(e["session_id"], str) or not isinstance(e["event_id"], str):
        return "wrong_type"
    if e.get("event_type") not in REF.event_types:
        return "unknown_event_type"
    if not TS.match(str(e.get("event_ts"))):
        return "bad_timestamp"
    assert e["schema_version"] == 1
    assert UUID.match(e["event_id"]) and 1 <= len(e["session_id"]) <= 64
    assert e["customer_id"] is None or isinstance(e["customer_id"], str)
    assert isinstance(e["anonymous_id"], str) and e["anonymous_id"]
    assert e["device"] in ("desktop", "mobile", "tablet")
    assert e["country"] in REF.countries
    for key, typ in BY_TYPE[e["event_type"]].items():
        assert isinstance(e[key], typ) and not isinstance(e[key], bool), (key, e)
    if e["event_type"] == "add_to_cart":
        assert e["quantity"] >= 1
    if e["event_type"] in ("checkout", "purchase"):
        assert e["currency"] in REF.fx_to_base
        assert e.get("cart_value", e.get("revenue")) >= 0
    return "valid"


def test_every_malformed_kind_appears_and_reconciles(sample):
    kinds = Counter(classify(line) for _, line in sample["events"])
    ev = sample["manifest"]["counts"]["clickstream"]
    assert ev["events"] == len(sample["events"])
    assert kinds["valid"] == ev["events_valid"]
    for kind in MALFORMED_KINDS:
        assert kinds[kind] > 0, kind
        assert kinds[kind] == ev["malformed"][kind], kind
    rate = sample["manifest"]["mess_rates"]["malformed_event"]
    assert abs(ev["malformed"]["invalid_json"] / ev["events"] - rate) < 0.5 * rate


def test_events_in_day_files_and_time_order(sample):
    for path, line in sample["events"][:20000]:
        if classify(line) == "valid":
            e = json.loads(line)
            day = path.parent.name.removeprefix("dt=")
            assert e["event_ts"][:10] == day or day == sample["manifest"]["period"]["start"]


def test_purchases_match_invoices(sample):
    invoices: dict[str, float] = {}
    customer_of: dict[str, str] = {}
    seen, noisy = set(), set()  # invoices with an exact duplicate row or an outlier row
    for _, r in sample["tx_rows"]:
        if not r[0].startswith("C") and int(r[4]) > 0:
            invoices[r[0]] = invoices.get(r[0], 0.0) + int(r[4]) * float(r[5])
            customer_of[r[0]] = r[1]
            if tuple(r) in seen or int(r[4]) >= 200:
                noisy.add(r[0])
            seen.add(tuple(r))
    purchases = [json.loads(line) for _, line in sample["events"] if classify(line) == "valid"]
    purchases = [e for e in purchases if e["event_type"] == "purchase"]
    assert len(purchases) > 0.9 * len(invoices) * sample["manifest"]["arguments"]["clickstream_share"]
    matched = 0
    for e in purchases:
        assert e["order_id"] in invoices
        assert (e["customer_id"] or "") == customer_of[e["order_id"]]
        # revenue = the invoice total, except where the landing data carry a duplicate or an outlier
        ok = abs(invoices[e["order_id"]] - e["revenue"]) < 0.011
        assert ok or e["order_id"] in noisy, e
        matched += ok
    assert matched > 0.95 * len(purchases)
    sessions = Counter(
        json.loads(line)["session_id"] for _, line in sample["events"] if classify(line) == "valid"
    )
    assert len(sessions) > len(purchases), "browse sessions besides purchase sessions"


def test_valid_events_by_type_reconcile(sample):
    valid = [json.loads(line) for _, line in sample["events"] if classify(line) == "valid"]
    assert dict(Counter(e["event_type"] for e in valid)) == {
        k: v for k, v in sample["manifest"]["counts"]["clickstream"]["events_by_type"].items() if v
    }
