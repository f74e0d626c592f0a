"""Orchestration: chunks of customers -> spill files -> one gzip file per day; manifest and truth.

Phase 1 (parallel over chunks): each chunk of CHUNK_CUSTOMERS customers is simulated and its lines
formatted; the lines are sorted by (delivery slot, time) and spilled to one binary file per chunk and
kind ([keys][line offsets][text]); only the line index where each slot starts comes back. Phase 2
(parallel over days): each day's file is assembled from that day's slice of every chunk's spill file
(read with pread, no memory mapping), merged by time, gzip-compressed and written; each dated CRM
extract is concatenated from its byte range of every chunk's CRM spill file the same way.
Memory is bounded by one chunk (phase 1) and one day (phase 2), not by --customers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from datagen.clickstream import build_events
from datagen.formats import (
    CODEC,
    GZIP_LEVEL,
    GZIP_LEVEL_EVENTS,
    GzipStream,
    fixed,
    gzip_bytes,
    int_str,
    join,
    text_bytes,
)
from datagen.params import CHUNK_CUSTOMERS, Process
from datagen.process import Context, ground_truth, simulate_customers
from datagen.transactions import CUSTOMER_COLUMNS, CUSTOMER_ID_BASE, TRANSACTION_COLUMNS, build_chunk

FORMAT_VERSION = 2  # 2: dated CRM extracts landing/customers/dt=YYYY-MM-DD/customers.csv.gz
# Rough uncompressed bytes per customer (two years), used to refuse runs that would fill the disk.
EST_TX_BYTES = 1_500
EST_EV_BYTES = 17_000
EST_CRM_BYTES = 130  # one CRM row; the first extract is part of EST_TX_BYTES
EST_GZIP_RATIO = 0.2
TRUTH_COLUMNS = (
    "customer_id", "expected_revenue", "probability_alive", "expected_purchases",
    "realized_revenue", "realized_purchases",
)  # fmt: skip
OWNED = ("landing/transactions", "landing/customers", "landing/clickstream", "truth", "manifest.json")

_CTX: Context | None = None
_SPILL: Path | None = None
_OPEN: dict = {}


@dataclass(frozen=True)
class Options:
    customers: int
    start: dt.date
    months: int
    seed: int
    out: Path
    out_uri: str
    scenario: str
    scenario_start: dt.date
    truth_horizon_days: int
    clickstream_share: float
    workers: int
    crm_extract_months: int = Process.crm_extract_months


def estimate_bytes(customers: int, months: int, share: float, crm_extracts: int = 1) -> tuple[int, int]:
    """(spill bytes, output bytes) a run needs at most, roughly."""
    raw = customers * (EST_TX_BYTES + EST_EV_BYTES * share) * max(months, 1) / 24
    raw += customers * EST_CRM_BYTES * (crm_extracts - 1)
    return int(raw * 1.1), int(raw * EST_GZIP_RATIO)


def _spill(
    kind: str, chunk: int, text: pa.Array, slot: np.ndarray, key: np.ndarray, n_slots: int
) -> np.ndarray:
    """Write one chunk's lines sorted by (slot, key) as [keys int64][line offsets int64][text]."""
    order = np.lexsort((np.arange(len(slot)), key, slot))
    lines = text.take(pa.array(order))
    del text
    wide = pa.types.is_large_string(lines.type)
    offs = np.frombuffer(lines.buffers()[1], dtype=np.int64 if wide else np.int32, count=len(lines) + 1)
    offs = offs[lines.offset :].astype(np.int64)
    lo, hi = int(offs[0]), int(offs[-1])
    with open(_SPILL / f"{kind}_{chunk:05d}.bin", "wb") as f:
        f.write(np.ascontiguousarray(key[order], dtype=np.int64).tobytes())
        f.write((offs - lo).tobytes())
        f.write(memoryview(lines.buffers()[2])[lo:hi])
    return np.searchsorted(slot[order], np.arange(n_slots + 1), side="left")


def _phase1(chunk: int) -> dict:
    ctx = _CTX
    cust = simulate_customers(ctx, chunk)
    tx = build_chunk(ctx, chunk, cust)
    crm, crm_offsets = tx.pop("crm_text"), [0]
    with open(_SPILL / f"crm_{chunk:05d}.csv", "wb") as f:
        for lo, rows in zip(np.cumsum(tx["crm_rows"]) - tx["crm_rows"], tx["crm_rows"], strict=True):
            crm_offsets.append(crm_offsets[-1] + f.write(text_bytes(crm.slice(int(lo), int(rows)))))
    del crm
    tx_offsets = _spill("tx", chunk, tx.pop("tx_text"), tx["tx_slot"], tx["tx_key"], 2 * ctx.n_days)
    ev = build_events(ctx, chunk, cust, tx)
    out = {
        "tx_offsets": tx_offsets,
        "ev_offsets": _spill("ev", chunk, ev.pop("ev_text"), ev["ev_slot"], ev["ev_key"], ctx.n_days),
        "tx_counts": tx["counts"],
        "ev_counts": ev["counts"],
        "crm_offsets": np.array(crm_offsets, dtype=np.int64),  # byte range of each extract in the spill
        "crm_rows": tx["crm_rows"],
        "crm_loyalty": tx["crm_loyalty_counts"],
        "customers": cust["n"],
        "buyers": int((~cust["never"]).sum()),
        "drift_channel_customers": int((cust["channel"] == ctx.drift_channel).sum()),
    }
    if ctx.truth_horizon_days:
        t = ground_truth(ctx, chunk, cust)
        text = join(
            [
                int_str(CUSTOMER_ID_BASE + cust["g0"] + np.arange(cust["n"])),
                fixed(np.round(t["expected_revenue"] * 100), 2),
                fixed(np.round(t["p_alive"] * 1e6), 6),
                fixed(np.round(t["expected_purchases"] * 1e4), 4),
                fixed(np.round(t["realized_revenue"] * 100), 2),
                int_str(t["realized_purchases"]),
            ],
            ",",
        )
        (_SPILL / f"truth_{chunk:05d}.csv").write_bytes(text_bytes(join([text, pa.scalar("\n")])))
        out["truth"] = {
            k: float(np.sum(t[k])) for k in ("expected_revenue", "expected_purchases", "realized_revenue")
        }
        out["truth"]["realized_purchases"] = int(np.sum(t["realized_purchases"]))
    return out


def _fd(kind: str, chunk: int) -> int:
    name = f"{kind}_{chunk:05d}"
    if name not in _OPEN:
        _OPEN[name] = os.open(_SPILL / f"{name}.bin", os.O_RDONLY)
    return _OPEN[name]


def _close_all() -> None:
    for fd in _OPEN.values():
        os.close(fd)
    _OPEN.clear()


def _merge(kind: str, offsets: list[np.ndarray], slot: int) -> tuple[bytes, int]:
    """The slot's lines from every chunk's spill file (read with pread, no mmap), merged by key."""
    keys, arrays = [], []
    for c, off in enumerate(offsets):
        lo, hi = int(off[slot]), int(off[slot + 1])
        if hi == lo:
            continue
        n_lines, fd = int(off[-1]), _fd(kind, c)
        keys.append(np.frombuffer(os.pread(fd, 8 * (hi - lo), 8 * lo), dtype=np.int64))
        lo_hi = np.frombuffer(os.pread(fd, 8 * (hi - lo + 1), 8 * (n_lines + lo)), dtype=np.int64)
        base = 8 * (2 * n_lines + 1)
        data = os.pread(fd, int(lo_hi[-1] - lo_hi[0]), base + int(lo_hi[0]))
        arrays.append(
            pa.Array.from_buffers(
                pa.large_string(), hi - lo, [None, pa.py_buffer(lo_hi - lo_hi[0]), pa.py_buffer(data)]
            )
        )
    if not keys:
        return b"", 0
    order = np.argsort(np.concatenate(keys), kind="stable")
    merged = pa.concat_arrays(arrays).take(pa.array(order))
    return text_bytes(merged), len(order)


def _write(path: Path, data: bytes, rows: int, root: Path, level: int = GZIP_LEVEL) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = gzip_bytes(data, level)
    path.write_bytes(blob)
    return {"path": path.relative_to(root).as_posix(), "rows": rows, "bytes": len(blob),
            "sha256": hashlib.sha256(blob).hexdigest()}  # fmt: skip


def _phase2(args: tuple) -> list[dict]:
    day, tx_off, ev_off, root = args
    ctx = _CTX
    date = (ctx.start + dt.timedelta(days=day)).isoformat()
    files = []
    header = (",".join(TRANSACTION_COLUMNS) + "\n").encode()
    tdir = root / "landing" / "transactions" / f"dt={date}"
    for late in (0, 1):
        data, rows = _merge("tx", tx_off, 2 * day + late)
        if late and not rows:
            continue
        name = f"transactions_{date}{'_late' if late else ''}.csv.gz"
        files.append(_write(tdir / name, header + data, rows, root))
    data, rows = _merge("ev", ev_off, day)
    ev_path = root / "landing" / "clickstream" / f"dt={date}" / f"events_{date}.jsonl.gz"
    files.append(_write(ev_path, data, rows, root, GZIP_LEVEL_EVENTS))
    return files


def _sum(dicts: list[dict]) -> dict:
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = _sum([out.get(k, {}), v]) if isinstance(v, dict) else out.get(k, 0) + v
    return out


def _concat(
    root: Path, rel: str, header: str, prefix: str, n_chunks: int, ranges: list[np.ndarray] | None = None
) -> dict:
    """One gzip file from every chunk's spill file (`ranges`: only bytes ranges[c][0]..ranges[c][1] of
    chunk c's), streamed: one chunk's text in memory at a time."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    g = GzipStream(path)
    g.write(header.encode())
    rows = 0
    for c in range(n_chunks):
        spill = _SPILL / f"{prefix}_{c:05d}.csv"
        if ranges is None:
            data = spill.read_bytes()
        else:
            lo, hi = int(ranges[c][0]), int(ranges[c][1])
            fd = os.open(spill, os.O_RDONLY)
            try:
                data = os.pread(fd, hi - lo, lo)
            finally:
                os.close(fd)
        rows += data.count(b"\n")
        g.write(data)
    g.close()
    blob = path.read_bytes()
    return {"path": rel, "rows": rows, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


def crm_path(date: dt.date) -> str:
    return f"landing/customers/dt={date.isoformat()}/customers.csv.gz"


def _crm_extract(args: tuple) -> dict:
    """The CRM extract k: its byte range of every chunk's CRM spill file, concatenated."""
    k, crm_off, root = args
    ranges = [off[k : k + 2] for off in crm_off]
    header = ",".join(CUSTOMER_COLUMNS) + "\n"
    return _concat(root, crm_path(_CTX.crm_dates[k]), header, "crm", _CTX.n_chunks, ranges)


def run(opts: Options, ctx: Context) -> dict:
    """Generate everything. Returns {"manifest": the manifest (also written to <out>/manifest.json),
    "runtime": seconds per phase and output bytes (not in the manifest: not deterministic)}."""
    global _CTX, _SPILL
    t_start = time.perf_counter()
    root = opts.out
    root.mkdir(parents=True, exist_ok=True)
    spill_need, out_need = estimate_bytes(
        opts.customers, opts.months, opts.clickstream_share, len(ctx.crm_dates)
    )
    free = shutil.disk_usage(root).free
    if spill_need + out_need > 0.9 * free:
        raise RuntimeError(
            f"--customers {opts.customers}: the run needs about {(spill_need + out_need) / 2**30:.1f} GiB "
            f"(temporary spill + output) but only {free / 2**30:.1f} GiB is free under {root}"
        )
    for rel in OWNED:
        target = root / rel
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    spill = root / ".datagen-spill"
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir()
    _CTX, _SPILL = ctx, spill
    _close_all()
    mp_ctx = mp.get_context("fork")
    try:
        workers = max(1, opts.workers)
        chunks = range(ctx.n_chunks)
        if workers == 1:
            parts = [_phase1(c) for c in chunks]
        else:
            with mp_ctx.Pool(workers) as pool:
                parts = pool.map(_phase1, chunks, chunksize=1)
        t_phase1 = time.perf_counter() - t_start
        tx_off = [pp["tx_offsets"] for pp in parts]
        ev_off = [pp["ev_offsets"] for pp in parts]
        jobs = [(d, tx_off, ev_off, root) for d in range(ctx.n_days)]
        crm_off = [pp["crm_offsets"] for pp in parts]
        crm_jobs = [(k, crm_off, root) for k in range(len(ctx.crm_dates))]
        if workers == 1:
            day_files = [_phase2(j) for j in jobs]
            crm_files = [_crm_extract(j) for j in crm_jobs]
        else:
            with mp_ctx.Pool(workers) as pool:
                day_files = pool.map(_phase2, jobs, chunksize=4)
                crm_files = pool.map(_crm_extract, crm_jobs, chunksize=1)
        _close_all()
        files = [f for fs in day_files for f in fs] + crm_files
        if ctx.truth_horizon_days:
            files.append(
                _concat(
                    root,
                    "truth/expected_revenue.csv.gz",
                    ",".join(TRUTH_COLUMNS) + "\n",
                    "truth",
                    ctx.n_chunks,
                )
            )
    finally:
        _close_all()
        shutil.rmtree(spill, ignore_errors=True)
    files.sort(key=lambda f: f["path"])
    manifest = build_manifest(opts, ctx, parts, files)
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    (root / "manifest.json").write_text(text, encoding="utf-8")
    manifest_runtime = {
        "seconds": time.perf_counter() - t_start,
        "seconds_phase1": t_phase1,
        "output_bytes": sum(f["bytes"] for f in files) + len(text.encode()),
    }
    manifest_runtime["seconds_phase2"] = manifest_runtime["seconds"] - t_phase1
    return {"manifest": manifest, "runtime": manifest_runtime}


def build_manifest(opts: Options, ctx: Context, parts: list[dict], files: list[dict]) -> dict:
    tx = _sum([pp["tx_counts"] for pp in parts])
    ev = _sum([pp["ev_counts"] for pp in parts])
    crm_rows = np.sum([pp["crm_rows"] for pp in parts], axis=0)
    crm_loyalty = np.sum([pp["crm_loyalty"] for pp in parts], axis=0)  # (extract, status)

    def by_loyalty(k: int) -> dict:
        return {s: int(v) for s, v in zip(ctx.ref.loyalty_statuses, crm_loyalty[k], strict=True)}

    crm_extracts = [
        {
            "dt": d.isoformat(),
            "path": crm_path(d),
            "rows": int(crm_rows[k]),
            "customers_by_loyalty": by_loyalty(k),
        }
        for k, d in enumerate(ctx.crm_dates)
    ]
    counts = {
        "customers": int(sum(pp["customers"] for pp in parts)),
        "customers_with_purchases": int(sum(pp["buyers"] for pp in parts)),
        "customers_by_loyalty": by_loyalty(-1),  # the last extract, dated the period end
        "drift_channel_customers": int(sum(pp["drift_channel_customers"] for pp in parts)),
        "transactions": tx,
        "clickstream": ev,
        "files": {
            "transactions": sum(1 for f in files if f["path"].startswith("landing/transactions/")),
            "transactions_late": sum(1 for f in files if f["path"].endswith("_late.csv.gz")),
            "clickstream": sum(1 for f in files if f["path"].startswith("landing/clickstream/")),
            "customers": sum(1 for f in files if f["path"].startswith("landing/customers/")),
        },
    }
    if ctx.truth_horizon_days:
        counts["truth"] = {
            k: (round(v, 2) if isinstance(v, float) else v)
            for k, v in _sum([pp["truth"] for pp in parts]).items()
        }
    return {
        "generator": "datagen",
        "format_version": FORMAT_VERSION,
        "seed": opts.seed,
        "arguments": {
            "customers": opts.customers,
            "start": opts.start.isoformat(),
            "months": opts.months,
            "seed": opts.seed,
            "scenario": opts.scenario,
            "scenario_start": opts.scenario_start.isoformat(),
            "truth_horizon_days": opts.truth_horizon_days or None,
            "clickstream_share": opts.clickstream_share,
            "crm_extract_months": opts.crm_extract_months,
        },
        "period": {"start": ctx.start.isoformat(), "end_exclusive": ctx.end.isoformat(), "days": ctx.n_days},
        "chunk_customers": CHUNK_CUSTOMERS,
        "customer_id_range": [CUSTOMER_ID_BASE, CUSTOMER_ID_BASE + opts.customers - 1],
        "process": ctx.p.as_dict(),
        "effects": {"country": ctx.country_effects, "channel": ctx.channel_effects},
        "catalogue": {
            "products": ctx.catalogue.n_products,
            "mean_product_price_gbp": round(ctx.catalogue.mean_product_price, 4),
        },
        "mess_rates": ctx.mess.as_dict(),
        "compression": {"codec": CODEC, "level": GZIP_LEVEL, "level_clickstream": GZIP_LEVEL_EVENTS},
        "counts": counts,
        "crm_extracts": crm_extracts,
        "files": files,
    }
