"""Same seed and arguments give byte-identical output (independent of the number of workers)."""

import gzip
import hashlib

from datagen.tests.conftest import generate


def _digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_byte_identical_across_runs_and_workers(tmp_path, sample):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ("--months", "3", "--truth-horizon-days", "90", "--crm-extract-months", "1")
    generate(a, *args)
    from datagen.cli import make_context, parse_options
    from datagen.generate import run

    opts = parse_options(["--customers", "2000", "--start", "2023-01-01", "--months", "3", "--seed", "11",
                          "--out", str(b), "--workers", "2", "--truth-horizon-days", "90",
                          "--crm-extract-months", "1"])  # fmt: skip
    run(opts, make_context(opts))
    da, db = _digest(a), _digest(b)
    assert da == db and len(da) > 150
    assert [k for k in da if k.startswith("landing/customers/")] == [
        f"landing/customers/dt=2023-0{m}-01/customers.csv.gz" for m in (2, 3, 4)
    ]
    assert not (a / ".datagen-spill").exists()


def test_different_seed_differs(tmp_path):
    generate(tmp_path / "a", "--months", "1", "--seed", "12")
    generate(tmp_path / "b", "--months", "1", "--seed", "13")
    f = "landing/customers/dt=2023-02-01/customers.csv.gz"
    assert (tmp_path / "a" / f).read_bytes() != (tmp_path / "b" / f).read_bytes()


def test_gzip_header_has_no_mtime_or_name(sample):
    for path in list(sample["out"].rglob("*.gz"))[:50]:
        head = path.read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08"
        assert head[3] & 0x08 == 0, "no file name in the header"
        assert head[4:8] == b"\x00\x00\x00\x00", "mtime 0"
        with gzip.open(path) as f:
            f.read()


def test_truth_does_not_change_landing_data(tmp_path):
    generate(tmp_path / "a", "--months", "2")
    generate(tmp_path / "b", "--months", "2", "--truth-horizon-days", "30")
    da = {k: v for k, v in _digest(tmp_path / "a").items() if k.startswith("landing/")}
    db = {k: v for k, v in _digest(tmp_path / "b").items() if k.startswith("landing/")}
    assert da == db
