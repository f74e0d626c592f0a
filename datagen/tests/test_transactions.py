"""Transactional landing files: layout, the documented mess rates, reconciliation with the manifest."""

import re
from collections import Counter

from datagen.reference import load_reference
from datagen.tests.conftest import read_csv_gz

REF = load_reference()
TS = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
PRICE = re.compile(r"^\d+\.\d{2}$")
FINAL_CRM = "landing/customers/dt=2024-01-01/customers.csv.gz"  # the extract dated the period end
COLUMNS = ["invoice_id", "customer_id", "invoice_ts", "sku", "quantity", "unit_price", "currency", "country",
           "channel", "email", "name"]  # fmt: skip


def _close(actual: float, expected: float, rel: float) -> bool:
    return abs(actual - expected) <= rel * expected


def test_layout_and_values(sample):
    for path, (header, rows) in sample["tx_files"].items():
        assert header == COLUMNS, path
        date = path.parent.name.removeprefix("dt=")
        assert path.name in (f"transactions_{date}.csv.gz", f"transactions_{date}_late.csv.gz")
        for r in rows:
            assert len(r) == len(COLUMNS), (path, r)
            assert TS.match(r[2]), r
            assert r[2][:10] <= date, "rows are never delivered before they happen"
            if not path.name.endswith("_late.csv.gz"):
                assert r[2][:10] == date
            int(r[4])
            assert PRICE.match(r[5]), r
            assert r[6] in REF.fx_to_base
            assert r[7] in REF.countries
            assert r[8] in REF.channels


def test_manifest_reconciles_with_files(sample):
    m = sample["manifest"]
    tx = m["counts"]["transactions"]
    files = {f["path"]: f for f in m["files"]}
    for path, (_, rows) in sample["tx_files"].items():
        rel = path.relative_to(sample["out"]).as_posix()
        assert files[rel]["rows"] == len(rows)
        assert files[rel]["bytes"] == path.stat().st_size
    assert tx["rows"] == len(sample["tx_rows"]) == tx["rows_on_time"] + tx["rows_late"]
    assert tx["rows"] == sum(tx["rows_by_currency"].values())
    late_rows = sum(
        len(rows) for p, (_, rows) in sample["tx_files"].items() if p.name.endswith("_late.csv.gz")
    )
    assert late_rows == tx["rows_late"] > 0
    customers = files[FINAL_CRM]["rows"]
    assert customers == m["counts"]["customers"] == 2000


def test_cancellations_returns_and_rates(sample):
    rows = [r for _, r in sample["tx_rows"]]
    tx = sample["manifest"]["counts"]["transactions"]
    rates = sample["manifest"]["mess_rates"]
    cancel = [r for r in rows if r[0].startswith("C")]
    assert cancel and all(int(r[4]) < 0 for r in cancel)
    assert len(cancel) == tx["cancellation_rows"]
    orders = {r[0] for r in rows if not r[0].startswith("C") and int(r[4]) > 0}
    cancelled = {r[0][1:] for r in cancel}
    assert cancelled <= orders, "every cancellation refers to an order"
    assert _close(len(cancelled) / len(orders), rates["cancellation"], 0.35)
    returns = [r for r in rows if not r[0].startswith("C") and int(r[4]) < 0]
    assert len(returns) == tx["return_rows"] > 0
    assert _close(tx["return_invoices"] / len(orders), rates["return"] * (1 - rates["cancellation"]), 0.35)


def test_missing_customer_duplicates_outliers_late(sample):
    rows = [r for _, r in sample["tx_rows"]]
    tx = sample["manifest"]["counts"]["transactions"]
    rates = sample["manifest"]["mess_rates"]
    missing = [r for r in rows if r[1] == ""]
    assert len(missing) == tx["missing_customer_rows"]
    invoices = {r[0] for r in rows}
    guest_invoices = {r[0] for r in missing}
    orders = {r[0] for r in rows if not r[0].startswith("C") and int(r[4]) > 0}
    assert _close(len(guest_invoices) / len(orders), rates["missing_customer"], 0.2)
    # exact duplicate lines are exactly the injected ones (a product drawn twice for an order is one
    # line), so the ingest job's duplicate count reconciles with the manifest
    counts = Counter(tuple(r) for r in rows)
    extra = sum(c - 1 for c in counts.values())
    assert extra == tx["duplicate_rows"] > 0
    assert _close(tx["duplicate_rows"] / len(rows), rates["duplicate"], 0.4)
    outliers = [r for r in rows if abs(int(r[4])) >= 200]
    assert len(outliers) >= tx["outlier_rows"] > 0
    assert _close(tx["late_invoices"] / len(invoices), rates["late"], 0.4)


def test_currencies_gift_cards_and_non_product(sample):
    rows = [r for _, r in sample["tx_rows"]]
    by_cur = Counter(r[6] for r in rows)
    assert set(by_cur) == set(REF.fx_to_base), "every currency of the reference data appears"
    # a product's price in EUR/USD is its GBP price converted with fx_to_base
    gbp = {r[3]: float(r[5]) for r in rows if r[6] == REF.base_currency}
    for r in rows:
        if r[6] != REF.base_currency and r[3] in gbp:
            assert abs(float(r[5]) * REF.fx_to_base[r[6]] - gbp[r[3]]) <= 0.01, r
    gift = [r for r in rows if r[3].startswith(REF.gift_card_sku_prefix)]
    assert gift and sample["manifest"]["counts"]["transactions"]["gift_card_rows"] == len(gift)
    assert min(float(r[5]) for r in gift) >= 40, "gift cards are large single purchases"
    non_product = [r for r in rows if r[3] in REF.non_product_skus]
    assert len(non_product) == sample["manifest"]["counts"]["transactions"]["non_product_rows"] > 0
    products = {
        r[3]
        for r in rows
        if r[3] not in REF.non_product_skus and not r[3].startswith(REF.gift_card_sku_prefix)
    }
    assert all(re.fullmatch(r"\d{5}[A-Z]?", s) for s in products)


def test_customers_extract(sample):
    header, rows = read_csv_gz(sample["out"] / FINAL_CRM)
    assert header == ["customer_id", "signup_date", "country", "acquisition_channel", "loyalty_status",
                      "email", "name", "address"]  # fmt: skip
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)) == 2000
    assert all("2023-01-01" <= r[1] <= "2023-12-31" for r in rows)
    assert {r[2] for r in rows} <= set(REF.countries)
    assert {r[3] for r in rows} <= set(REF.channels)
    assert {r[4] for r in rows} == set(REF.loyalty_statuses)
    assert all("@example." in r[5] and r[6] and r[7] for r in rows)
    crm = {r[0]: r for r in rows}
    for _, t in sample["tx_rows"]:
        if t[1]:
            c = crm[t[1]]
            assert (t[7], t[8], t[9], t[10]) == (c[2], c[3], c[5], c[6])
            assert t[2][:10] >= c[1], "no purchase before signup"
    m = sample["manifest"]
    loyalty = m["counts"]["customers_by_loyalty"]
    assert loyalty == dict(Counter(r[4] for r in rows))
    # extracts every 6 months (the default) and one at the period end, which holds every customer
    assert [(e["dt"], e["path"]) for e in m["crm_extracts"]] == [
        ("2023-07-01", "landing/customers/dt=2023-07-01/customers.csv.gz"),
        ("2024-01-01", FINAL_CRM),
    ]
    assert m["crm_extracts"][-1]["customers_by_loyalty"] == loyalty
