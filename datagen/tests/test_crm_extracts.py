"""Dated CRM extracts: dates, point-in-time content (no future purchases, no later signups), stable PII,
reconciliation with the manifest."""

import datetime as dt
import gzip
import hashlib
import json
from bisect import bisect_right
from collections import Counter

import numpy as np
import pytest

from datagen.cli import make_context, parse_options
from datagen.formats import text_bytes
from datagen.generate import run
from datagen.params import Process
from datagen.process import DAY, crm_extract_dates, simulate_customers
from datagen.reference import load_reference
from datagen.tests.conftest import generate, read_csv_gz
from datagen.transactions import CUSTOMER_COLUMNS, CUSTOMER_ID_BASE, build_chunk

REF = load_reference()
SHOP_ARGS = ["--customers", "2000", "--start", "2023-01-01", "--months", "7", "--seed", "5",
             "--crm-extract-months", "2", "--workers", "1"]  # fmt: skip
SHOP_DATES = ["2023-03-01", "2023-05-01", "2023-07-01", "2023-08-01"]  # every 2 months, then the end


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> dict:
    """A small shop (2,000 customers, 7 months) with an extract every 2 months: 7 is not a multiple of 2."""
    out = tmp_path_factory.mktemp("datagen-crm")
    opts = parse_options([*SHOP_ARGS, "--out", str(out)])
    run(opts, make_context(opts))
    extracts = {
        f.parent.name.removeprefix("dt="): read_csv_gz(f)
        for f in sorted((out / "landing" / "customers").glob("*/*"))
    }
    tx = [
        r for f in sorted((out / "landing" / "transactions").glob("dt=*/*.csv.gz")) for r in read_csv_gz(f)[1]
    ]
    return {
        "out": out,
        "manifest": json.loads((out / "manifest.json").read_text()),
        "extracts": extracts,
        "tx": tx,
    }


@pytest.mark.parametrize(
    ("start", "months", "every", "expected"),
    [
        (
            "2022-01-01",
            36,
            6,
            ["2022-07-01", "2023-01-01", "2023-07-01", "2024-01-01", "2024-07-01", "2025-01-01"],
        ),
        ("2023-01-01", 7, 2, SHOP_DATES),  # not a multiple: the last regular extract, then the end
        ("2023-01-01", 12, 12, ["2024-01-01"]),  # the end is a multiple: listed once
        ("2023-01-01", 1, 6, ["2023-02-01"]),  # period shorter than the cadence: only the end
        ("2023-03-15", 8, 3, ["2023-06-15", "2023-09-15", "2023-11-15"]),
        # months from the start (day clamped), not from the previous extract: 03-31, not 03-28
        ("2023-01-31", 4, 1, ["2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31"]),
    ],
)
def test_extract_dates(start, months, every, expected):
    s = dt.date.fromisoformat(start)
    end = dt.date.fromisoformat(expected[-1])
    assert [d.isoformat() for d in crm_extract_dates(s, end, every)] == expected
    opts = parse_options(["--customers", "10", "--start", start, "--months", str(months), "--seed", "1",
                          "--out", "unused", "--crm-extract-months", str(every)])  # fmt: skip
    ctx = make_context(opts)
    assert [d.isoformat() for d in ctx.crm_dates] == expected and ctx.end == end
    assert ctx.crm_days.tolist() == [(dt.date.fromisoformat(d) - s).days for d in expected]


@pytest.mark.parametrize("bad", [0, -6, 1.5, "6", True, None])
def test_process_rejects_a_bad_extract_cadence(bad):
    with pytest.raises(ValueError, match=r"Process\.crm_extract_months must be a positive integer"):
        Process(crm_extract_months=bad)


def test_files_and_manifest_reconcile(shop):
    m, out = shop["manifest"], shop["out"]
    assert m["format_version"] == 2 and m["arguments"]["crm_extract_months"] == 2
    assert m["process"]["crm_extract_months"] == 2
    assert list(shop["extracts"]) == [e["dt"] for e in m["crm_extracts"]] == SHOP_DATES
    files = {f["path"]: f for f in m["files"]}
    on_disk = sorted(
        p.relative_to(out).as_posix() for p in (out / "landing" / "customers").rglob("*") if p.is_file()
    )
    assert on_disk == [e["path"] for e in m["crm_extracts"]] == sorted(f for f in files if "/customers/" in f)
    assert m["counts"]["files"]["customers"] == len(SHOP_DATES)
    lines = 0
    for e in m["crm_extracts"]:
        assert e["path"] == f"landing/customers/dt={e['dt']}/customers.csv.gz"
        header, rows = shop["extracts"][e["dt"]]
        assert header == list(CUSTOMER_COLUMNS)
        assert e["rows"] == files[e["path"]]["rows"] == len(rows)
        assert e["customers_by_loyalty"] == {s: sum(r[4] == s for r in rows) for s in REF.loyalty_statuses}
        blob = (out / e["path"]).read_bytes()
        assert files[e["path"]]["bytes"] == len(blob)
        assert files[e["path"]]["sha256"] == hashlib.sha256(blob).hexdigest()
        lines += gzip.decompress(blob).count(b"\n") - 1  # without the header
    assert sum(e["rows"] for e in m["crm_extracts"]) == lines
    assert [e["rows"] for e in m["crm_extracts"]] == sorted(e["rows"] for e in m["crm_extracts"])
    assert m["crm_extracts"][-1]["rows"] == m["counts"]["customers"] == 2000
    assert m["counts"]["customers_by_loyalty"] == m["crm_extracts"][-1]["customers_by_loyalty"]


def test_each_extract_is_the_crm_state_at_its_date(shop):
    """Recomputed from the transaction files: an order is an invoice without the C prefix with positive
    quantities (returns are negative, under their own invoice id); its invoice_ts is the order time."""
    thresholds = shop["manifest"]["process"]["loyalty_thresholds"]
    orders = {
        (r[0], r[1], r[2][:10]) for r in shop["tx"] if r[1] and not r[0].startswith("C") and int(r[4]) > 0
    }
    signup = {r[0]: r[1] for r in shop["extracts"][SHOP_DATES[-1]][1]}
    status = {}
    for d in SHOP_DATES:
        rows = shop["extracts"][d][1]
        assert all(r[1] < d for r in rows), "nobody who signs up on or after D is in the extract dated D"
        assert [r[0] for r in rows] == sorted(c for c, s in signup.items() if s < d), "everyone else is"
        purchases = Counter(c for _, c, day in orders if day < d)
        expected = [REF.loyalty_statuses[bisect_right(thresholds, purchases[r[0]])] for r in rows]
        assert [r[4] for r in rows] == expected, d
        status[d] = {r[0]: r[4] for r in rows}
    # the final extract is what the single extract used to be: every customer, all purchases of the period
    assert len(status[SHOP_DATES[-1]]) == 2000
    # not vacuous: loyalty grows over time, so earlier extracts differ from the final one
    first, last = status[SHOP_DATES[0]], status[SHOP_DATES[-1]]
    assert sum(first[c] != last[c] for c in first) > 10
    assert 0 < len(first) < len(status[SHOP_DATES[1]]) < len(last)


def test_customer_attributes_and_pii_are_the_same_in_every_extract(shop):
    final = {r[0]: r for r in shop["extracts"][SHOP_DATES[-1]][1]}
    for d in SHOP_DATES[:-1]:
        for r in shop["extracts"][d][1]:
            f = final[r[0]]
            assert r[:4] + r[5:] == f[:4] + f[5:], (d, r[0])
    assert len({r[5] for r in final.values()}) == 2000, "e-mail addresses stay unique"


def test_build_chunk_extracts_against_the_order_arrays(tmp_path):
    """At the array level, for a start on the 31st (clamped extract dates) and monthly extracts: the last
    extract is the old single extract (loyalty from all orders of the period); each earlier one counts
    only the orders before its date."""
    opts = parse_options(["--customers", "3000", "--start", "2023-01-31", "--months", "5", "--seed", "3",
                          "--crm-extract-months", "1", "--out", str(tmp_path)])  # fmt: skip
    ctx = make_context(opts)
    assert len(ctx.crm_days) == 5
    cust = simulate_customers(ctx, 0)
    tx = build_chunk(ctx, 0, cust)
    n, thresholds = cust["n"], np.asarray(ctx.p.loyalty_thresholds)
    o_cust, o_day = tx["orders"]["cust"], tx["orders"]["s"] // DAY
    mine = o_cust < n
    lines = [x.split(",") for x in text_bytes(tx["crm_text"]).decode().splitlines()]
    rows = tx["crm_rows"]
    assert rows.sum() == len(lines) and rows[-1] == n
    old = np.searchsorted(thresholds, np.bincount(o_cust[mine], minlength=n), side="right")
    assert [r[4] for r in lines[-n:]] == [REF.loyalty_statuses[i] for i in old]
    assert [r[0] for r in lines[-n:]] == [str(CUSTOMER_ID_BASE + i) for i in range(n)]
    lo = 0
    for k, d in enumerate(ctx.crm_days):
        ext, lo = lines[lo : lo + rows[k]], lo + rows[k]
        who = np.flatnonzero(cust["signup_day"] < d)
        assert [r[0] for r in ext] == [str(CUSTOMER_ID_BASE + i) for i in who]
        level = np.searchsorted(
            thresholds, np.bincount(o_cust[mine & (o_day < d)], minlength=n), side="right"
        )
        assert [r[4] for r in ext] == [REF.loyalty_statuses[i] for i in level[who]]
        assert tx["crm_loyalty_counts"][k].tolist() == np.bincount(level[who], minlength=3).tolist()


def _digest(root) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_cadence_changes_nothing_but_the_extracts(tmp_path):
    generate(tmp_path / "a", "--months", "2")
    generate(tmp_path / "b", "--months", "2", "--crm-extract-months", "1")
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    crm = "landing/customers/"
    assert {k: v for k, v in da.items() if not k.startswith(crm) and k != "manifest.json"} == {
        k: v for k, v in db.items() if not k.startswith(crm) and k != "manifest.json"
    }
    final = crm + "dt=2023-03-01/customers.csv.gz"
    assert [k for k in da if k.startswith(crm)] == [final]
    assert [k for k in db if k.startswith(crm)] == [crm + "dt=2023-02-01/customers.csv.gz", final]
    assert da[final] == db[final]
