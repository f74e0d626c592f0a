import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from datagen.cli import make_context, parse_options
from datagen.generate import run

BASE_ARGS = ["--customers", "2000", "--start", "2023-01-01", "--months", "12", "--seed", "11"]


def generate(out: Path, *extra: str) -> dict:
    opts = parse_options([*BASE_ARGS, "--out", str(out), "--workers", "1", *extra])
    return run(opts, make_context(opts))


def read_csv_gz(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def read_lines_gz(path: Path) -> list[str]:
    with gzip.open(path, "rb") as f:
        return io.TextIOWrapper(f, encoding="utf-8", newline="\n").read().splitlines()


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> dict:
    """One generated sample (2,000 customers, 12 months, ground truth over 365 days)."""
    out = tmp_path_factory.mktemp("datagen-sample")
    result = generate(out, "--truth-horizon-days", "365")
    manifest = json.loads((out / "manifest.json").read_text())
    tx_rows, tx_files = [], {}
    for f in sorted((out / "landing" / "transactions").glob("dt=*/*.csv.gz")):
        header, rows = read_csv_gz(f)
        tx_files[f] = (header, rows)
        tx_rows += [(f, r) for r in rows]
    events = []
    for f in sorted((out / "landing" / "clickstream").glob("dt=*/*.jsonl.gz")):
        events += [(f, line) for line in read_lines_gz(f)]
    return {
        "out": out,
        "result": result,
        "manifest": manifest,
        "tx_files": tx_files,
        "tx_rows": tx_rows,
        "events": events,
    }
