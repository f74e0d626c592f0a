"""AWS Glue job `sessionize_clickstream` (Glue 5.0: Spark 3.5.4, Python 3.11) - thin entry.

Turns a day of raw clickstream JSON lines into silver sessions (30-minute inactivity rule), quarantines
bad lines and writes a reconciliation record; with --date-from, every delivery in [date-from, date]
in one run (a backfill). Arguments and rules: docs/glue-jobs.md. Locally:
  .venv/bin/python glue-scripts/jobs/sessionize_clickstream.py --JOB_NAME sessionize_clickstream \
      --date 2024-03-01 --landing-uri s3://raw/landing --silver-uri s3://curated/silver \
      --quarantine-uri s3://raw/quarantine --reports-uri s3://artifacts/reports
  (with CLV_LOCAL_ROOT set, s3://bucket/key maps to $CLV_LOCAL_ROOT/bucket/key)
"""

from __future__ import annotations

import json
import sys

from clv_glue.common.paths import resolve_uri
from clv_glue.common.runtime import check_uri_usable, parse_date, parse_job_args, run_id_from, start_job
from clv_glue.sessionize.job import SessionizeOptions, run_sessionize

REQUIRED = ("date", "landing-uri", "silver-uri", "quarantine-uri", "reports-uri")
OPTIONAL = {"session-gap-minutes": "30", "run-id": None, "contracts-dir": None, "date-from": None}
URI_KEYS = ("landing_uri", "silver_uri", "quarantine_uri", "reports_uri")


def main(argv: list[str]) -> dict:
    args = parse_job_args(argv, REQUIRED, OPTIONAL)
    uris = {k: check_uri_usable(resolve_uri(args[k])) for k in URI_KEYS}
    try:
        gap = float(args["session_gap_minutes"])
    except ValueError:
        raise ValueError(f"--session-gap-minutes: not a number ({args['session_gap_minutes']!r})") from None
    opts = SessionizeOptions(
        date=parse_date(args["date"]),
        run_id=run_id_from(args),
        gap_minutes=gap,
        contracts_dir=args["contracts_dir"],
        date_from=parse_date(args["date_from"], "--date-from") if args["date_from"] else None,
        **uris,
    )
    ctx = start_job("sessionize_clickstream", args)
    record = run_sessionize(ctx.spark, opts)
    ctx.commit()
    keys = (
        "date",
        "run_id",
        "landed_events",
        "valid_events",
        "quarantined_events",
        "duplicates_removed",
        "sessions",
    )
    if opts.date_from:
        keys = (*keys, "date_from", "days")
    print(json.dumps({k: record[k] for k in (*keys, "report_uri")}))
    return record


if __name__ == "__main__":
    main(sys.argv)
