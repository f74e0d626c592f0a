"""Benchmarks of the Glue jobs in local mode: python -m clv_glue.bench features --customers N [options].

`features` (npm run bench -- features --customers N):
  1. generate a shop with datagen (N customers, --months of data from START, fixed --seed) into
     <work-dir>/data, or reuse it when its manifest.json holds the same arguments;
  2. run the Glue jobs' own code on the whole landing zone: the ingest_transactions job's range run
     (clv_glue.ingest.job.run_ingest with date_from = the first delivery day, a backfill), its
     customers range run (dataset customers: every dated CRM extract), and the sessionize_clickstream
     job's range run (clv_glue.sessionize.job.run_sessionize with date_from), into <work-dir>/lake;
  3. run the features job (clv_glue.features.job.run) for --cutoff with labels, writing the snapshot
     to the local offline store.
For each stage: wall time, input and output rows, rows per second (input rows / wall time), peak
resident memory of this process and its children (the Spark JVM and any Python workers; /proc VmRSS
sampled every 0.5 s) and the load average. Counts come from the jobs' reconciliation records and are
checked against the generator's manifest and each other (landed = silver + quarantined + duplicates
removed; events in sessions = valid events; feature rows = eligible customers = rows in the offline
store). Prints a table and writes <work-dir>/bench-features.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import shutil
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

START = dt.date(2023, 1, 1)
DEFAULT_MONTHS = 24
DEFAULT_SEED = 42
MIN_MONTHS = 13  # the default cutoff (end - 12 months) must leave at least one month of history
MAX_MONTHS = 120
MAX_CUSTOMERS = 10_000_000
DEFAULT_DRIVER_MEMORY = "8g"
SAMPLE_SECONDS = 0.5
# The PII salt of benchmark runs (synthetic data; not a secret).
BENCH_SALT = b"clv-bench-salt-synthetic-data-only"
FEATURE_GROUP = "clv-bench-customer-features"
OUTLIER_PERCENTILE = 0.999
LABEL_HORIZON_DAYS = 365  # max(revenue 365, churn 183): the label window the cutoff must leave observed
REPORT_NAME = "bench-features.json"
PARTIAL_REPORT_NAME = "bench-features.partial.json"
LISTING_THRESHOLD_KEY = "spark.sql.sources.parallelPartitionDiscovery.threshold"
LISTING_THRESHOLD = 100_000
_MEMORY = re.compile(r"^[1-9][0-9]{0,5}[mMgG]$")


class ArgError(ValueError):
    """A benchmark argument is invalid (the message names it)."""


@dataclass(frozen=True)
class FeaturesBenchOptions:
    customers: int
    months: int
    seed: int
    work_dir: Path
    cutoff: dt.date
    driver_memory: str
    shuffle_partitions: int

    @property
    def end(self) -> dt.date:
        """Exclusive end of the generated period."""
        return add_months(START, self.months)

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def lake_dir(self) -> Path:
        return self.work_dir / "lake"


def add_months(d: dt.date, months: int) -> dt.date:
    from datagen.process import add_months as datagen_add_months

    return datagen_add_months(d, months)


def _int(name: str, raw: str, lo: int, hi: int) -> int:
    try:
        value = int(raw.replace("_", ""))
    except (AttributeError, ValueError):
        raise ArgError(f"{name} must be an integer from {lo:,} to {hi:,} (got {raw!r})") from None
    if not lo <= value <= hi:
        raise ArgError(f"{name} must be an integer from {lo:,} to {hi:,} (got {value:,})")
    return value


def default_shuffle_partitions(customers: int) -> int:
    """About 20k customers (~180k transaction lines, ~1M events) per shuffle partition, 8 to 200.
    Adaptive query execution coalesces small partitions further."""
    return max(8, min(200, math.ceil(customers / 20_000)))


def parse_features_args(argv: Sequence[str]) -> FeaturesBenchOptions:
    """Validate the `features` arguments; raises ArgError naming the bad argument (argparse exits 2 on
    a missing or unknown argument)."""
    ap = argparse.ArgumentParser(prog="npm run bench -- features", allow_abbrev=False)
    ap.add_argument("--customers", required=True, help=f"number of customers, 1 to {MAX_CUSTOMERS:,}")
    ap.add_argument("--months", default=str(DEFAULT_MONTHS), help=f"months of data from {START} (default 24)")
    ap.add_argument("--seed", default=str(DEFAULT_SEED), help="generator seed (default 42)")
    ap.add_argument("--work-dir", help="default .clv-local/bench/features-<N>")
    ap.add_argument("--cutoff", help="feature cutoff YYYY-MM-DD (default: end of data minus 12 months)")
    ap.add_argument("--spark-driver-memory", default=DEFAULT_DRIVER_MEMORY, help="e.g. 8g (default)")
    ap.add_argument("--shuffle-partitions", help="spark.sql.shuffle.partitions (default: sized to N)")
    a = ap.parse_args(list(argv))
    customers = _int("--customers", a.customers, 1, MAX_CUSTOMERS)
    months = _int("--months", a.months, MIN_MONTHS, MAX_MONTHS)
    seed = _int("--seed", a.seed, 0, 2**63 - 1)
    end = add_months(START, months)
    if a.cutoff is None:
        cutoff = add_months(end, -12)
    else:
        try:
            if len(a.cutoff) != 10:
                raise ValueError
            cutoff = dt.date.fromisoformat(a.cutoff)
        except ValueError:
            raise ArgError(f"--cutoff must be a date YYYY-MM-DD (got {a.cutoff!r})") from None
    latest = end - dt.timedelta(days=LABEL_HORIZON_DAYS)
    if not START < cutoff <= latest:
        raise ArgError(
            f"--cutoff must be after {START} (the first day of data) and at most {latest} "
            f"(the {LABEL_HORIZON_DAYS}-day label window must end by {end}); got {cutoff}"
        )
    if not _MEMORY.match(a.spark_driver_memory):
        raise ArgError(
            f"--spark-driver-memory must be a size such as 8g or 4096m (got {a.spark_driver_memory!r})"
        )
    shuffle = (
        default_shuffle_partitions(customers)
        if a.shuffle_partitions is None
        else _int("--shuffle-partitions", a.shuffle_partitions, 1, 10_000)
    )
    work_dir = Path(a.work_dir) if a.work_dir else Path(".clv-local/bench") / f"features-{customers}"
    if a.work_dir is not None and not a.work_dir.strip():
        raise ArgError("--work-dir must not be empty")
    if work_dir.exists() and not work_dir.is_dir():
        raise ArgError(f"--work-dir {work_dir} exists and is not a folder")
    return FeaturesBenchOptions(
        customers=customers,
        months=months,
        seed=seed,
        work_dir=work_dir,
        cutoff=cutoff,
        driver_memory=a.spark_driver_memory.lower(),
        shuffle_partitions=shuffle,
    )


# ---------------------------------------------------------------------------------------------- memory


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # Field 4 (ppid) follows the command name, which is in parentheses and may contain spaces.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _memory(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) in bytes. RssAnon leaves out file-backed pages (mapped jars, memory-mapped
    shuffle and cache blocks), which the kernel can drop; VmRSS counts them."""
    rss = anon = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) * 1024
    except OSError:
        return 0, 0
    return rss, anon  # a kernel thread or a zombie has neither


def _is_jvm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            exe = f.read().split(b"\0", 1)[0]
    except OSError:
        return False
    return exe.endswith(b"/java") or exe == b"java"


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (from /proc/*/stat)."""
    children: dict[int, list[int]] = defaultdict(list)
    for name in os.listdir("/proc"):
        if name.isdigit():
            parent = _ppid(int(name))
            if parent is not None:
                children[parent].append(int(name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


MEMORY_KEYS = ("rss", "anon", "jvm_rss", "jvm_anon", "python_rss")


def tree_memory(root: int) -> dict[str, int]:
    """Resident memory (bytes) of `root` and its descendants (the Spark JVM is a child of the Python
    driver): rss and anon over the whole tree, the JVM's part, and the Python processes' part (the
    driver, PySpark workers, generator workers; forked workers share pages, which VmRSS counts in each)."""
    out = dict.fromkeys(MEMORY_KEYS, 0)
    for pid in process_tree(root):
        rss, anon = _memory(pid)
        out["rss"] += rss
        out["anon"] += anon
        if _is_jvm(pid):
            out["jvm_rss"] += rss
            out["jvm_anon"] += anon
        else:
            out["python_rss"] += rss
    return out


class RssSampler:
    """Samples the process tree's memory every `interval` seconds in a daemon thread; keeps the overall
    peaks and the peaks since the last `reset_stage()` (each figure's own maximum)."""

    def __init__(self, root: int | None = None, interval: float = SAMPLE_SECONDS) -> None:
        self.root = os.getpid() if root is None else root
        self.interval = interval
        self.peaks = dict.fromkeys(MEMORY_KEYS, 0)
        self.stage_peaks = dict.fromkeys(MEMORY_KEYS, 0)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    @property
    def peak(self) -> int:
        return self.peaks["rss"]

    def sample(self) -> dict[str, int]:
        mem = tree_memory(self.root)
        with self._lock:
            for k, v in mem.items():
                self.peaks[k] = max(self.peaks[k], v)
                self.stage_peaks[k] = max(self.stage_peaks[k], v)
        return mem

    def reset_stage(self) -> None:
        with self._lock:
            self.stage_peaks = dict.fromkeys(MEMORY_KEYS, 0)
        self.sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def ru_maxrss_bytes() -> dict[str, int]:
    """Peak RSS (getrusage, kB on Linux) of this process and of its largest waited-for child; a child
    still running (the Spark JVM until the session stops) is not in RUSAGE_CHILDREN yet."""
    return {
        "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }


# ---------------------------------------------------------------------------------------------- stages


@dataclass
class StageResult:
    name: str
    seconds: float = 0.0
    input_rows: int = 0
    output_rows: int = 0
    peak_rss_bytes: int = 0
    peak_memory_bytes: dict[str, int] = field(default_factory=dict)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.input_rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows_per_second"] = round(self.rows_per_second, 1)
        out["seconds"] = round(self.seconds, 3)
        out["peak_rss_mib"] = round(self.peak_rss_bytes / 2**20, 1)
        out["peak_memory_mib"] = {k: round(v / 2**20, 1) for k, v in self.peak_memory_bytes.items()}
        del out["peak_memory_bytes"]
        return out


@contextmanager
def measure(
    name: str,
    sampler: RssSampler,
    results: list[StageResult],
    on_done: Callable[[StageResult], None] | None = None,
) -> Iterator[StageResult]:
    """Times the block and records its peak RSS and load; appends the result, then calls `on_done`."""
    stage = StageResult(name=name, load_before=os.getloadavg())
    sampler.reset_stage()
    t0 = time.perf_counter()
    yield stage
    stage.seconds = time.perf_counter() - t0
    sampler.sample()
    stage.peak_memory_bytes = dict(sampler.stage_peaks)
    stage.peak_rss_bytes = stage.peak_memory_bytes["rss"]
    stage.load_after = os.getloadavg()
    results.append(stage)
    if on_done is not None:
        on_done(stage)


# ---------------------------------------------------------------------------------------------- dataset


def generator_arguments(opts: FeaturesBenchOptions) -> list[str]:
    return [
        "--customers", str(opts.customers), "--start", START.isoformat(), "--months", str(opts.months),
        "--seed", str(opts.seed), "--out", str(opts.data_dir),
    ]  # fmt: skip


def reusable_manifest(opts: FeaturesBenchOptions) -> dict[str, Any] | None:
    """The manifest of an earlier generation with the same arguments, when all its files are there.

    The generator deletes manifest.json before it writes anything and writes it last, so a manifest
    means a finished run."""
    from datagen.generate import FORMAT_VERSION
    from datagen.params import Process

    path = opts.data_dir / "manifest.json"
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    expected = {
        "customers": opts.customers,
        "start": START.isoformat(),
        "months": opts.months,
        "seed": opts.seed,
        "scenario": "none",
        "truth_horizon_days": None,
        "clickstream_share": Process().default_clickstream_share,
    }
    args = manifest.get("arguments", {})
    if manifest.get("format_version") != FORMAT_VERSION or any(args.get(k) != v for k, v in expected.items()):
        return None
    if not all((opts.data_dir / f["path"]).is_file() for f in manifest.get("files", [])):
        return None
    return manifest


def ensure_dataset(opts: FeaturesBenchOptions, *, log=print) -> tuple[dict[str, Any], bool]:
    """(manifest, reused): reuse <work-dir>/data when its manifest matches, else generate it."""
    manifest = reusable_manifest(opts)
    if manifest is not None:
        log(f"bench features: reusing the generated data in {opts.data_dir} (same arguments in its manifest)")
        return manifest, True
    from datagen.cli import make_context, parse_options
    from datagen.generate import run

    gen_opts = parse_options(generator_arguments(opts))
    log(
        f"bench features: generating {opts.customers:,} customers x {opts.months} months into {opts.data_dir}"
    )
    result = run(gen_opts, make_context(gen_opts))
    return result["manifest"], False


def landed_rows(manifest: dict[str, Any], prefix: str) -> int:
    return sum(f["rows"] for f in manifest["files"] if f["path"].startswith(prefix))


# ---------------------------------------------------------------------------------------------- pipeline


def spark_settings(opts: FeaturesBenchOptions) -> dict[str, str]:
    return {
        "spark.master": "local[*]",
        "spark.driver.memory": opts.driver_memory,
        "spark.sql.shuffle.partitions": str(opts.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # List the ~730 dt= folders of a table on the driver: above this many paths Spark lists them
        # with a distributed job (one task per folder), which costs minutes in local mode.
        LISTING_THRESHOLD_KEY: str(LISTING_THRESHOLD),
        "spark.local.dir": str((opts.work_dir / "spark-local").resolve()),
    }


def start_spark(opts: FeaturesBenchOptions):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(f"clv-bench-features-{opts.customers}")
    for key, value in spark_settings(opts).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _uri(path: Path) -> str:
    return path.resolve().as_uri()


_DELIVERY_DAY = re.compile(r"/dt=([0-9]{4}-[0-9]{2}-[0-9]{2})/")


def delivery_range(manifest: dict[str, Any], prefix: str) -> tuple[dt.date, dt.date]:
    """First and last delivery day (dt= folder) of the manifest's files under `prefix`."""
    days = sorted(
        m.group(1)
        for f in manifest["files"]
        if f["path"].startswith(prefix) and (m := _DELIVERY_DAY.search(f["path"]))
    )
    if not days:
        raise ValueError(f"the generator manifest lists no {prefix}dt=<day>/ file")
    return dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])


def job_locations(opts: FeaturesBenchOptions) -> dict[str, str]:
    """The roots the Glue jobs take: the generated landing zone and the benchmark's lake."""
    return {
        "landing_uri": _uri(opts.data_dir / "landing"),
        "silver_uri": _uri(opts.lake_dir / "silver"),
        "quarantine_uri": _uri(opts.lake_dir / "quarantine"),
        "reports_uri": _uri(opts.lake_dir / "reports"),
    }


def day_records(opts: FeaturesBenchOptions, job: str, run_id: str, days: int) -> list[dict[str, Any]]:
    """The per-delivery-day reconciliation records a range run wrote
    (<lake>/reports/reconciliation/<job>/dt=<day>/<run_id>.json); `days` is the count its total lists."""
    folder = opts.lake_dir / "reports" / "reconciliation" / job
    paths = sorted(folder.glob(f"dt=*/{run_id}.json"))
    if len(paths) != days:
        raise RuntimeError(
            f"{job}: {len(paths)} per-day records {folder}/dt=*/{run_id}.json, "
            f"the run's total lists {days} days"
        )
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _sum_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(sorted(total.items()))


def ingest_transactions_stage(
    spark, opts, run_id: str, manifest: dict[str, Any], stage: StageResult
) -> dt.date:
    """The ingest_transactions job's range run (a backfill) over every delivery day of the data;
    returns its last day. Counts: the run's total record and its per-day records."""
    from clv_glue.ingest.job import IngestOptions, run_ingest

    first, last = delivery_range(manifest, "landing/transactions/")
    total = run_ingest(
        spark,
        IngestOptions(
            date=last,
            date_from=first,
            **job_locations(opts),
            run_id=run_id,
            salt=BENCH_SALT,
            outlier_percentile=OUTLIER_PERCENTILE,
        ),
    )
    days = day_records(opts, "ingest_transactions", run_id, total["days"])
    caps = [r["outlier_cap_gbp"] for r in days if r["outlier_cap_gbp"] is not None]
    stage.input_rows, stage.output_rows = total["landed_rows"], total["silver_rows"]
    stage.detail = {
        **{
            k: total[k]
            for k in (
                "date_from", "date", "days", "days_missing", "landed_rows", "silver_rows",
                "quarantined_rows", "duplicates_removed",
            )
        },
        "quarantined_by_reason": _sum_counts(r["quarantined_by_reason"] for r in days),
        **{k: sum(r[k] for r in days) for k in ("cancellation_rows", "return_rows", "outliers_capped")},
        "outlier_cap_gbp_min_max": [min(caps), max(caps)] if caps else None,
        "amount_gbp": round(sum(r["amount_gbp"] for r in days), 2),
        "source_files": sum(len(r["source_files"]) for r in days),
        "silver_days": len({d for r in days for d in r["silver_rows_by_dt"]}),
        "report_uri": total["report_uri"],
    }  # fmt: skip
    return last


def ingest_customers_stage(spark, opts, run_id: str, manifest: dict[str, Any], stage: StageResult) -> None:
    """The ingest_transactions job's customers range run (--dataset customers --date-from) over every
    dated CRM extract of the data. Counts: the run's total record and its per-extract records."""
    from clv_glue.ingest.job import IngestOptions, run_ingest

    first, last = delivery_range(manifest, "landing/customers/")
    total = run_ingest(
        spark,
        IngestOptions(
            date=last,
            date_from=first,
            dataset="customers",
            **job_locations(opts),
            run_id=run_id,
            salt=BENCH_SALT,
        ),
    )
    extracts = day_records(opts, "ingest_customers", run_id, total["days"])
    stage.input_rows, stage.output_rows = total["landed_rows"], total["silver_rows"]
    stage.detail = {
        **{
            k: total[k]
            for k in (
                "extract_dates", "landed_rows", "silver_rows", "quarantined_rows", "duplicates_removed",
                "report_uri",
            )
        },
        "quarantined_by_reason": _sum_counts(r["quarantined_by_reason"] for r in extracts),
    }  # fmt: skip


def sessionize_stage(spark, opts, run_id: str, manifest: dict[str, Any], stage: StageResult) -> None:
    """The sessionize_clickstream job's range run over every clickstream delivery day. Counts: the
    run's total record; quarantine reasons and events in sessions summed over its per-day records."""
    from clv_glue.sessionize.job import SessionizeOptions, run_sessionize

    first, last = delivery_range(manifest, "landing/clickstream/")
    total = run_sessionize(
        spark, SessionizeOptions(date=last, date_from=first, **job_locations(opts), run_id=run_id)
    )
    days = day_records(opts, "sessionize_clickstream", run_id, total["days"])
    stage.input_rows, stage.output_rows = total["landed_events"], total["sessions"]
    stage.detail = {
        **{
            k: total[k]
            for k in (
                "date_from", "date", "days", "days_missing", "landed_events", "valid_events",
                "quarantined_events", "duplicates_removed", "sessions",
            )
        },
        "quarantined_by_reason": _sum_counts(r["quarantined_by_reason"] for r in days),
        "events_in_sessions": sum(r["events_in_sessions"] for r in days),
        "report_uri": total["report_uri"],
    }  # fmt: skip


def features_stage(spark, opts, run_id: str, stage: StageResult, silver_rows: int) -> dict[str, Any]:
    """The features job itself (read silver, build, count, write the offline store, register)."""
    from clv_glue.features import job

    args = job.parse_args(
        [
            "--cutoff", opts.cutoff.isoformat(),
            "--silver-uri", _uri(opts.lake_dir / "silver"),
            "--offline-store-uri", _uri(opts.lake_dir / "features" / "offline-store"),
            "--feature-group-name", FEATURE_GROUP,
            "--snapshots-uri", _uri(opts.lake_dir / "features" / "snapshots"),
            "--with-labels", "true",
            "--observed-until", opts.end.isoformat(),
            "--run-id", run_id,
            "--store", "local",
        ]
    )  # fmt: skip
    record = job.run(spark, args)
    stage.input_rows, stage.output_rows = silver_rows, record.row_count
    stage.detail = {
        "cutoff": opts.cutoff.isoformat(),
        "observed_until": record.observed_until,
        "customers_as_of": record.customers_as_of,
        "snapshot_id": record.snapshot_id,
        "offline_store_data_uri": record.offline_store_data_uri,
        "input": "silver transactions + customers + sessions (the job prunes dt < cutoff + 365 days)",
    }
    return asdict(record)


def eligible_customers(spark, opts) -> int:
    """Customers with a product purchase before the cutoff, counted independently of build_features:
    known customer, invoice_ts < cutoff, not a non-product line, not a cancellation, quantity > 0."""
    from pyspark.sql import functions as F  # noqa: N812

    tx = spark.read.parquet(_uri(opts.lake_dir / "silver" / "transactions"))
    cutoff_ts = dt.datetime.combine(opts.cutoff, dt.time())
    eligible = tx.where(
        F.col("customer_id").isNotNull()
        & (F.trim("customer_id") != "")
        & (F.col("invoice_ts") < F.lit(cutoff_ts))
        & ~F.col("is_non_product")
        & ~F.col("is_cancellation")
        & (F.col("quantity") > 0)
    )
    return int(eligible.select("customer_id").distinct().count())


def offline_store_rows(spark, data_uri: str) -> int:
    return int(spark.read.option("recursiveFileLookup", "true").parquet(data_uri).count())


def _check(name: str, left_label: str, left: int, right_label: str, right: int) -> dict[str, Any]:
    return {"check": name, "left": f"{left_label} = {left:,}", "right": f"{right_label} = {right:,}",
            "ok": left == right}  # fmt: skip


def reconcile(
    manifest: dict[str, Any], stages: dict[str, StageResult], feature_rows: int, eligible: int, stored: int
) -> list[dict[str, Any]]:
    tx, cu, ev = (
        stages["ingest_transactions"].detail,
        stages["ingest_customers"].detail,
        stages["sessionize"].detail,
    )
    return [
        _check("transactions landed = manifest rows", "landed", tx["landed_rows"], "manifest",
               landed_rows(manifest, "landing/transactions/")),
        _check("transactions landed = silver + quarantined + duplicates", "landed", tx["landed_rows"],
               f"{tx['silver_rows']:,} + {tx['quarantined_rows']:,} + {tx['duplicates_removed']:,}",
               tx["silver_rows"] + tx["quarantined_rows"] + tx["duplicates_removed"]),
        _check("customers landed = manifest rows", "landed", cu["landed_rows"], "manifest",
               landed_rows(manifest, "landing/customers/")),
        _check("customers landed = silver + quarantined + duplicates", "landed", cu["landed_rows"],
               f"{cu['silver_rows']:,} + {cu['quarantined_rows']:,} + {cu['duplicates_removed']:,}",
               cu["silver_rows"] + cu["quarantined_rows"] + cu["duplicates_removed"]),
        _check("events landed = manifest rows", "landed", ev["landed_events"], "manifest",
               landed_rows(manifest, "landing/clickstream/")),
        _check("events landed = valid + quarantined + duplicates", "landed", ev["landed_events"],
               f"{ev['valid_events']:,} + {ev['quarantined_events']:,} + {ev['duplicates_removed']:,}",
               ev["valid_events"] + ev["quarantined_events"] + ev["duplicates_removed"]),
        _check("events in sessions = valid events", "in sessions", ev["events_in_sessions"], "valid",
               ev["valid_events"]),
        _check("feature rows = eligible customers", "feature rows", feature_rows, "eligible", eligible),
        _check("offline store rows = feature rows", "stored", stored, "feature rows", feature_rows),
    ]  # fmt: skip


def run_pipeline(spark, opts: FeaturesBenchOptions, manifest: dict[str, Any], sampler: RssSampler,
                 results: list[StageResult], on_stage=None) -> dict[str, Any]:  # fmt: skip
    """Stages 2 and 3 on an existing dataset; appends their StageResults; returns the reconciliation."""
    shutil.rmtree(opts.lake_dir, ignore_errors=True)  # reruns start from an empty lake
    listing = spark.conf.get(LISTING_THRESHOLD_KEY)
    spark.conf.set(LISTING_THRESHOLD_KEY, str(LISTING_THRESHOLD))  # also on a session given by the caller
    try:
        return _run_stages(spark, opts, manifest, sampler, results, on_stage)
    finally:
        spark.conf.set(LISTING_THRESHOLD_KEY, listing)


def _run_stages(spark, opts: FeaturesBenchOptions, manifest: dict[str, Any], sampler: RssSampler,
                results: list[StageResult], on_stage=None) -> dict[str, Any]:  # fmt: skip
    run_id = f"bench-features-{opts.customers}"
    with measure("ingest_transactions", sampler, results, on_stage) as stage:
        ingest_transactions_stage(spark, opts, run_id, manifest, stage)
    with measure("ingest_customers", sampler, results, on_stage) as stage:
        ingest_customers_stage(spark, opts, run_id, manifest, stage)
    with measure("sessionize", sampler, results, on_stage) as stage:
        sessionize_stage(spark, opts, run_id, manifest, stage)
    by_name = {s.name: s for s in results}
    silver_rows = sum(
        by_name[n].output_rows for n in ("ingest_transactions", "ingest_customers", "sessionize")
    )
    with measure("features", sampler, results, on_stage) as stage:
        snapshot = features_stage(spark, opts, run_id, stage, silver_rows)
    eligible = eligible_customers(spark, opts)
    stored = offline_store_rows(spark, snapshot["offline_store_data_uri"])
    checks = reconcile(manifest, by_name, snapshot["row_count"], eligible, stored)
    return {
        "checks": checks,
        "eligible_customers": eligible,
        "offline_store_rows": stored,
        "snapshot": snapshot,
    }


def run_features_benchmark(
    opts: FeaturesBenchOptions, *, spark=None, argv: Sequence[str] = (), log=print
) -> dict[str, Any]:
    """The whole benchmark; returns (and writes to <work-dir>/bench-features.json) the report.

    With `spark` None a local session is started with spark_settings(opts) (after generation, so the
    generator's forked workers do not copy a JVM gateway) and stopped at the end. After each stage the
    figures so far go to <work-dir>/bench-features.partial.json (removed when the run completes), so an
    interrupted run still leaves its finished stages."""
    opts.work_dir.mkdir(parents=True, exist_ok=True)
    results: list[StageResult] = []
    context: dict[str, Any] = {"argv": list(argv), "conf": {}, "spark": None, "reused": None}
    partial = opts.work_dir / PARTIAL_REPORT_NAME
    t0 = time.perf_counter()

    def on_stage(stage: StageResult) -> None:
        log(f"bench features: {stage_line(stage)}")
        report = _report(opts, context, results, time.perf_counter() - t0, sampler, None)
        partial.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")

    with RssSampler() as sampler:
        with measure("generate", sampler, results, on_stage) as stage:
            manifest, context["reused"] = ensure_dataset(opts, log=log)
            counts = manifest["counts"]
            stage.input_rows = counts["customers"]
            stage.output_rows = landed_rows(manifest, "landing/")
            stage.detail = {
                "reused": context["reused"],
                "transactions_rows": counts["transactions"]["rows"],
                "events": counts["clickstream"]["events"],
                "customers": counts["customers"],
                "output_bytes": sum(f["bytes"] for f in manifest["files"]),
            }
        own_spark = spark is None
        if own_spark:
            spark = start_spark(opts)
        try:
            context["conf"] = dict(spark.sparkContext.getConf().getAll())
            context["spark"] = spark.version
            reconciliation = run_pipeline(spark, opts, manifest, sampler, results, on_stage)
        finally:
            if own_spark:
                spark.stop()
        total_seconds = time.perf_counter() - t0
    report = _report(opts, context, results, total_seconds, sampler, reconciliation)
    (opts.work_dir / REPORT_NAME).write_text(
        json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8"
    )
    partial.unlink(missing_ok=True)
    return report


def _report(
    opts: FeaturesBenchOptions,
    context: dict[str, Any],
    results: list[StageResult],
    seconds: float,
    sampler: RssSampler,
    reconciliation: dict[str, Any] | None,
) -> dict[str, Any]:
    conf = context["conf"]
    keys = (*spark_settings(opts), "spark.default.parallelism")
    argv = context["argv"]
    return {
        "benchmark": "features",
        "complete": reconciliation is not None,
        "command": ("npm run bench -- features " + " ".join(argv)) if argv else None,
        "arguments": {
            "customers": opts.customers, "months": opts.months, "seed": opts.seed, "start": START.isoformat(),
            "end_exclusive": opts.end.isoformat(), "cutoff": opts.cutoff.isoformat(),
            "work_dir": str(opts.work_dir),
        },
        "machine": {
            "cpus": os.cpu_count(), "memory_total_gib": round(_mem_total_bytes() / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(), "spark": context["spark"],
        },
        "spark_config": {k: conf[k] for k in keys if k in conf},
        "dataset": {"path": str(opts.data_dir), "reused": context["reused"]},
        "stages": [s.as_dict() for s in results],
        "total_seconds": round(seconds, 3),
        "peak_rss_mib": round(sampler.peak / 2**20, 1),
        "peak_memory_mib": {k: round(v / 2**20, 1) for k, v in sampler.peaks.items()},
        "ru_maxrss_mib": {k: round(v / 2**20, 1) for k, v in ru_maxrss_bytes().items()},
        "reconciliation": reconciliation,
        "reconciled": reconciliation is not None and all(c["ok"] for c in reconciliation["checks"]),
    }  # fmt: skip


def stage_line(stage: StageResult) -> str:
    return (
        f"{stage.name} {stage.seconds:.1f} s, {stage.input_rows:,} rows in, {stage.output_rows:,} out, "
        f"{stage.rows_per_second:,.0f} rows/s, peak RSS {stage.peak_rss_bytes / 2**20:,.0f} MiB "
        f"(anonymous {stage.peak_memory_bytes.get('anon', 0) / 2**20:,.0f}, "
        f"JVM {stage.peak_memory_bytes.get('jvm_rss', 0) / 2**20:,.0f}), "
        f"load {stage.load_before[0]:.1f}->{stage.load_after[0]:.1f}"
    )


def _mem_total_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def format_report(report: dict[str, Any]) -> str:
    head = (
        "stage", "wall s", "input rows", "output rows", "rows/s",
        "peak RSS MiB", "anon MiB", "JVM MiB", "load 1m before→after",
    )  # fmt: skip
    rows = [
        (
            s["name"] + (" (reused)" if s["name"] == "generate" and s["detail"].get("reused") else ""),
            f"{s['seconds']:.1f}",
            f"{s['input_rows']:,}",
            f"{s['output_rows']:,}",
            "-" if s["detail"].get("reused") else f"{s['rows_per_second']:,.0f}",
            f"{s['peak_rss_mib']:,.0f}",
            f"{s['peak_memory_mib'].get('anon', 0):,.0f}",
            f"{s['peak_memory_mib'].get('jvm_rss', 0):,.0f}",
            f"{s['load_before'][0]:.1f}→{s['load_after'][0]:.1f}",
        )
        for s in report["stages"]
    ]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    a = report["arguments"]
    out = [
        f"features benchmark: {a['customers']:,} customers, {a['start']} to {a['end_exclusive']} "
        f"(exclusive), seed {a['seed']}, cutoff {a['cutoff']}",
        "spark: " + ", ".join(f"{k}={v}" for k, v in report["spark_config"].items()),
        "",
        line(head),
        line(["-" * w for w in widths]),
        *[line(r) for r in rows],
        "",
        f"total {report['total_seconds']:.1f} s; peak RSS (this process + Spark JVM + children) "
        f"{report['peak_rss_mib']:,.0f} MiB (anonymous {report['peak_memory_mib']['anon']:,.0f} MiB: RSS "
        "without file-backed pages such as memory-mapped shuffle blocks; JVM alone "
        f"{report['peak_memory_mib']['jvm_rss']:,.0f} MiB);",
        f"ru_maxrss self {report['ru_maxrss_mib']['self']:,.0f} MiB, "
        f"largest finished child {report['ru_maxrss_mib']['children']:,.0f} MiB",
        "",
        "reconciliation:",
        *[
            f"  [{'ok' if c['ok'] else 'MISMATCH'}] {c['check']}: {c['left']} vs {c['right']}"
            for c in report["reconciliation"]["checks"]
        ],
    ]
    return "\n".join(out)


USAGE = (
    "usage: python -m clv_glue.bench features --customers N [--months 24] [--seed 42] [--work-dir DIR]\n"
    "       [--cutoff YYYY-MM-DD] [--spark-driver-memory 8g] [--shuffle-partitions P]"
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "features":
        print(USAGE, file=sys.stderr)
        return 2
    try:
        opts = parse_features_args(argv[1:])
    except ArgError as exc:
        print(f"bench features: error: {exc}", file=sys.stderr)
        return 2
    report = run_features_benchmark(opts, argv=argv[1:], log=lambda msg: print(msg, flush=True))
    print(format_report(report))
    print(f"\nwrote {opts.work_dir / REPORT_NAME}")
    return 0 if report["reconciled"] else 1


if __name__ == "__main__":
    sys.exit(main())
