"""Benchmark of the generator: python -m datagen.bench --customers N [--months 24] [--out DIR].

Prints and writes <out>/bench-generate.json: rows per second (transactions and events), wall time,
peak memory (ru_maxrss of this process and of its worker processes) and the output size. The
generated data go to <out>/bench-data and are removed afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sys
from pathlib import Path

from datagen.cli import ArgError, make_context, parse_options
from datagen.generate import run

TARGET_SECONDS = 180
TARGET_MEMORY_MIB = 2048


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished worker processes."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m datagen.bench")
    ap.add_argument("--customers", default="100000")
    ap.add_argument("--months", default="24")
    ap.add_argument("--out", default=".clv-local/bench")
    ap.add_argument("--seed", default="42")
    ap.add_argument("--start", default="2023-01-01")
    ap.add_argument("--clickstream-share")
    ap.add_argument("--workers")
    ap.add_argument("--keep", action="store_true", help="keep the generated data under <out>/bench-data")
    a = ap.parse_args(argv)
    out = Path(a.out)
    data = out / "bench-data"
    gen_args = ["--customers", a.customers, "--start", a.start, "--months", a.months, "--seed", a.seed,
                "--out", str(data)]  # fmt: skip
    if a.clickstream_share is not None:
        gen_args += ["--clickstream-share", a.clickstream_share]
    if a.workers is not None:
        gen_args += ["--workers", a.workers]
    try:
        opts = parse_options(gen_args)
        ctx = make_context(opts)
    except (ArgError, ValueError) as exc:
        print(f"datagen.bench: error: {exc}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    cpu_before = _cpu_seconds()
    result = run(opts, ctx)
    cpu = _cpu_seconds() - cpu_before
    load_after = os.getloadavg()
    rt, counts = result["runtime"], result["manifest"]["counts"]
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows, events = counts["transactions"]["rows"], counts["clickstream"]["events"]
    secs = rt["seconds"]
    peak = max(self_kib, child_kib) / 1024
    report = {
        "benchmark": "generate",
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customers": opts.customers,
        "months": opts.months,
        "clickstream_share": opts.clickstream_share,
        "workers": opts.workers,
        "seconds": round(secs, 2),
        "seconds_simulate": round(rt["seconds_phase1"], 2),
        "seconds_assemble_compress": round(rt["seconds_phase2"], 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_seconds_per_worker": round(cpu / opts.workers, 2),
        "transaction_rows": rows,
        "events": events,
        "customers_rows": counts["customers"],
        "transaction_rows_per_second": round(rows / secs),
        "events_per_second": round(events / secs),
        "rows_per_second_total": round((rows + events + counts["customers"]) / secs),
        "peak_memory_mib_self": round(self_kib / 1024, 1),
        "peak_memory_mib_children": round(child_kib / 1024, 1),
        "peak_memory_mib": round(peak, 1),
        "output_bytes": rt["output_bytes"],
        "output_mib": round(rt["output_bytes"] / 2**20, 1),
        "cpu_count": os.cpu_count(),
        "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "python": platform.python_version(),
        "target": {"seconds": TARGET_SECONDS, "peak_memory_mib": TARGET_MEMORY_MIB, "customers": 1_000_000},
        "within_target": secs < TARGET_SECONDS and peak < TARGET_MEMORY_MIB,
    }
    if not a.keep:
        shutil.rmtree(data, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench-generate.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"generate: {opts.customers:,} customers, {opts.months} months, "
        f"clickstream share {opts.clickstream_share}: "
        f"{secs:.1f} s (CPU {cpu:.0f} s, {cpu / opts.workers:.0f} s per worker); "
        f"{rows:,} transaction rows ({report['transaction_rows_per_second']:,}/s), "
        f"{events:,} events ({report['events_per_second']:,}/s); peak memory {peak:.0f} MiB "
        f"(self {self_kib / 1024:.0f}, workers {child_kib / 1024:.0f}); output {report['output_mib']:,} MiB"
        + ("" if a.keep else " (removed)")
    )
    print(f"wrote {out / 'bench-generate.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
