"""Job runtime: argument parsing and the SparkSession, the same in AWS Glue and locally.

In Glue (awsglue importable) arguments come from `awsglue.utils.getResolvedOptions`, the session
from a GlueContext, and the Glue Job object is initialised and committed. Locally an argparse
fallback accepts the same `--key value` arguments and a plain local SparkSession is built. Keys
come back with dashes turned into underscores, as getResolvedOptions returns them
(`--landing-uri` -> `landing_uri`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

SPARK_MASTER_ENV = "CLV_SPARK_MASTER"
SPARK_DRIVER_MEMORY_ENV = "CLV_SPARK_DRIVER_MEMORY"
SPARK_JAVA_OPTIONS_ENV = "CLV_SPARK_JAVA_OPTIONS"
# A job of the local runtime is one short-lived JVM on a shared two-core machine: the C2 JIT compiler and
# G1's concurrent threads cost more CPU than they give back (about 30 % of a features job's CPU time).
LOCAL_JAVA_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def in_glue() -> bool:
    return importlib.util.find_spec("awsglue") is not None


def parse_job_args(
    argv: Sequence[str],
    required: Sequence[str],
    optional: Mapping[str, str | None],
    *,
    use_glue: bool | None = None,
) -> dict[str, Any]:
    """Parse `--key value` job arguments. `argv` includes the program name, like sys.argv.

    `required` and `optional` use the argument names as Glue passes them (e.g. "landing-uri");
    optional ones get their default when absent. Unknown arguments (Glue adds its own, e.g.
    --TempDir) are ignored.
    """
    names = ["JOB_NAME", *required]
    glue = in_glue() if use_glue is None else use_glue
    if glue:
        from awsglue.utils import getResolvedOptions

        present = [name for name in optional if f"--{name}" in argv]
        parsed = dict(getResolvedOptions(list(argv), names + present))
    else:
        parser = argparse.ArgumentParser(prog=argv[0] if argv else "job", allow_abbrev=False)
        for name in names:
            parser.add_argument(f"--{name}", required=True)
        for name in optional:
            parser.add_argument(f"--{name}", required=False, default=None)
        known, _unknown = parser.parse_known_args(list(argv[1:]))
        parsed = vars(known)
    out: dict[str, Any] = {}
    for name in names:
        key = name.replace("-", "_")
        out[key] = parsed[key]
    for name, default in optional.items():
        key = name.replace("-", "_")
        value = parsed.get(key)
        out[key] = default if value is None or value == "" else value
    for key in ("JOB_RUN_ID",):
        if key in parsed and parsed[key]:
            out[key] = parsed[key]
    return out


@dataclass
class JobContext:
    spark: SparkSession
    glue_job: Any | None  # awsglue.job.Job when running in Glue

    def commit(self) -> None:
        if self.glue_job is not None:
            self.glue_job.commit()


def local_spark_conf(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The local SparkSession's settings (Glue ignores them: it builds its own session). Each one is measured
    in docs/benchmarks.md ("Glue jobs in local mode")."""
    environ = os.environ if env is None else env
    return {
        "spark.driver.memory": environ.get(SPARK_DRIVER_MEMORY_ENV, "2g"),
        "spark.driver.extraJavaOptions": environ.get(SPARK_JAVA_OPTIONS_ENV, LOCAL_JAVA_OPTIONS),
        "spark.ui.enabled": "false",
        # The console progress bar only fills the job logs the local runtime keeps.
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
        # List folders on the driver: above 32 paths (a backfill reads one dt= folder per day)
        # Spark lists them with a distributed job, one task per folder, slow in local mode.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
        # Landing days are many small gzip files: at the default 4 MiB "open cost" per file Spark splits a
        # backfill's read into ~60 tasks of ~30 files; at 128 KiB a few tasks read them, with far less task
        # scheduling and deserialization on two cores (each gzip file is still read whole by one task).
        "spark.sql.files.openCostInBytes": str(128 * 1024),
    }


def start_job(app_name: str, args: Mapping[str, Any]) -> JobContext:
    """The SparkSession of a run: from a GlueContext in Glue, else local. Session time zone UTC."""
    if in_glue():
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        job = Job(glue_context)
        job.init(args.get("JOB_NAME") or app_name, dict(args))
    else:
        # Python workers must use this interpreter (the venv with pandas/pyarrow), not whatever
        # `python3` is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName(app_name).master(os.environ.get(SPARK_MASTER_ENV, "local[*]"))
        for key, value in local_spark_conf().items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
        job = None
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return JobContext(spark=spark, glue_job=job)


def check_uri_usable(uri: str) -> str:
    """Outside Glue, an s3:// URI that the local mapping did not resolve cannot be opened: say so plainly."""
    if uri.startswith("s3://") and not in_glue():
        raise ValueError(
            f"{uri}: s3:// URIs need AWS Glue, or CLV_LOCAL_ROOT set so they map to a local folder "
            "(s3://bucket/key -> $CLV_LOCAL_ROOT/bucket/key)"
        )
    return uri


def parse_date(value: str, name: str = "--date") -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def run_id_from(args: Mapping[str, Any]) -> str:
    """--run-id when given, else Glue's JOB_RUN_ID, else local-<UTC timestamp>."""
    if args.get("run_id"):
        return str(args["run_id"])
    if args.get("JOB_RUN_ID"):
        return str(args["JOB_RUN_ID"])
    return "local-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
