"""Scenarios (drift-channel, drift-spend, pipeline-bug), argument validation and the URI resolver."""

import re
from pathlib import Path

import pytest
from clv_local.storage import REPO_ROOT
from clv_local.storage import resolve as resolve_uri

from datagen.cli import main
from datagen.reference import load_reference
from datagen.tests.conftest import generate, read_csv_gz

REF = load_reference()
START = "2023-07-01"


def _rows(out: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for f in sorted((out / "landing" / "transactions").glob("dt=*/*.csv.gz")):
        rows += [(f.parent.name[3:], r) for r in read_csv_gz(f)[1]]
    return rows


def test_drift_channel(tmp_path):
    generate(tmp_path, "--scenario", "drift-channel", "--scenario-start", START)
    _, customers = read_csv_gz(tmp_path / "landing" / "customers" / "dt=2024-01-01" / "customers.csv.gz")
    drift = REF.drift_channels[0]
    before = [c for c in customers if c[1] < START]
    after = [c for c in customers if c[1] >= START]
    assert not [c for c in before if c[3] == drift]
    share = sum(c[3] == drift for c in after) / len(after)
    assert 0.25 < share < 0.45
    assert any(r[8] == drift for _, r in _rows(tmp_path))


def _order_value(rows, after: bool) -> float:
    per_invoice: dict[str, float] = {}
    for day, r in rows:
        q = int(r[4])
        if (day >= START) == after and 0 < q < 200 and r[1] and r[3] not in REF.non_product_skus:
            per_invoice[r[0]] = per_invoice.get(r[0], 0.0) + q * float(r[5]) * REF.fx_to_base[r[6]]
    return sum(per_invoice.values()) / len(per_invoice)


def test_drift_spend(tmp_path):
    generate(tmp_path / "base")
    generate(tmp_path / "drift", "--scenario", "drift-spend", "--scenario-start", START)
    base, drift = _rows(tmp_path / "base"), _rows(tmp_path / "drift")
    ratio_base = _order_value(base, True) / _order_value(base, False)
    ratio_drift = _order_value(drift, True) / _order_value(drift, False)
    assert ratio_drift > 1.3 * ratio_base


def test_pipeline_bug(tmp_path):
    result = generate(tmp_path, "--scenario", "pipeline-bug", "--scenario-start", START)
    rows = _rows(tmp_path)
    good_sku = re.compile(r"^\d{5}[A-Z]?$")
    odd = [(d, r) for d, r in rows if not good_sku.match(r[3]) and r[3] not in REF.non_product_skus
           and not r[3].startswith(REF.gift_card_sku_prefix)]  # fmt: skip
    empty_country = [(d, r) for d, r in rows if r[7] == ""]
    assert odd and all(d >= START for d, _ in odd)
    assert empty_country and all(d >= START for d, _ in empty_country)
    tx = result["manifest"]["counts"]["transactions"]
    assert tx["pipeline_bug_alphanumeric_sku_rows"] == len(odd)
    assert tx["pipeline_bug_null_country_rows"] == len(empty_country)
    after = sum(1 for d, _ in rows if d >= START)
    assert 0.1 < len(empty_country) / after < 0.3


GOOD = ["generate", "--customers", "10", "--start", "2023-01-01", "--months", "1", "--seed", "1"]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"--customers": "0"}, "--customers must be an integer from 1 to"),
        ({"--customers": "ten"}, "--customers must be an integer"),
        ({"--start": "2023-13-01"}, "--start must be a date YYYY-MM-DD"),
        ({"--months": "0"}, "--months must be an integer from 1 to 120"),
        ({"--seed": "-1"}, "--seed must be an integer from 0"),
        ({"--scenario": "chaos"}, "--scenario must be one of none, drift-channel, drift-spend, pipeline-bug"),
        ({"--scenario-start": "2024-06-01"}, "--scenario-start must be a date from 2023-01-01 to 2023-01-31"),
        ({"--truth-horizon-days": "0"}, "--truth-horizon-days must be an integer from 1 to 730"),
        ({"--clickstream-share": "1.5"}, "--clickstream-share must be a number from 0 to 1"),
        ({"--crm-extract-months": "0"}, "--crm-extract-months must be an integer from 1 to 120"),
        ({"--crm-extract-months": "six"}, "--crm-extract-months must be an integer"),
        ({"--out": "gs://bucket/x"}, "--out: unsupported URI scheme"),
        ({"--out": "s3:///x"}, "--out: s3 URI 's3:///x' has an invalid bucket name"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(tmp_path, capsys, change, needle):
    args = dict(zip(GOOD[1::2], GOOD[2::2], strict=True))
    args["--out"] = str(tmp_path / "o")
    args.update(change)
    argv = ["generate"] + [x for kv in args.items() for x in kv]
    assert main(argv) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_writes_to_the_local_object_store(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLV_LOCAL_ROOT", str(tmp_path / "store"))
    assert (
        main([*GOOD, "--out", "s3://raw-bucket/synthetic", "--clickstream-share", "0.5", "--workers", "1"])
        == 0
    )
    assert (tmp_path / "store" / "raw-bucket" / "synthetic" / "manifest.json").exists()
    out = capsys.readouterr().out
    assert "customers: 10" in out and "transactions:" in out and "clickstream:" in out


def test_resolve_uri(tmp_path, monkeypatch):
    monkeypatch.setenv("CLV_LOCAL_ROOT", str(tmp_path))
    assert resolve_uri("s3://bkt/k/x") == tmp_path / "bkt" / "k" / "x"
    assert resolve_uri("s3://bkt") == tmp_path / "bkt"
    assert resolve_uri("relative/dir") == Path("relative/dir")
    monkeypatch.delenv("CLV_LOCAL_ROOT")
    assert resolve_uri("s3://bkt/k") == REPO_ROOT / ".clv-local" / "bkt" / "k"


def test_refuses_a_run_that_would_fill_the_disk(tmp_path, monkeypatch, capsys):
    import shutil

    from datagen import generate as gen

    real = shutil.disk_usage
    monkeypatch.setattr(gen.shutil, "disk_usage", lambda p: real(p)._replace(free=10 * 2**20))
    assert main([*GOOD[:2], "1000000", *GOOD[3:], "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "--customers 1000000: the run needs about" in err and "GiB is free" in err
    assert not (tmp_path / "o" / "landing").exists()
