"""AWS Glue job `ingest_transactions` (Glue 5.0: Spark 3.5.4, Python 3.11) - thin entry.

Reads a delivery day of transactional landing files (or, with --dataset customers, the customers
extract), writes silver, quarantine and a reconciliation record; with --date-from, every delivery
day in [date-from, date] in one run (a backfill). Arguments and rules:
docs/glue-jobs.md. Locally:
  .venv/bin/python glue-scripts/jobs/ingest_transactions.py --JOB_NAME ingest_transactions --date 2024-03-01 \
      --landing-uri s3://raw/landing --silver-uri s3://curated/silver --quarantine-uri s3://raw/quarantine \
      --reports-uri s3://artifacts/reports --pii-salt-secret local:<at least 16 bytes>
  (with CLV_LOCAL_ROOT set, s3://bucket/key maps to $CLV_LOCAL_ROOT/bucket/key)
"""

from __future__ import annotations

import json
import sys

from clv_glue.common.paths import resolve_uri
from clv_glue.common.pii import resolve_pii_salt
from clv_glue.common.runtime import check_uri_usable, parse_date, parse_job_args, run_id_from, start_job
from clv_glue.ingest.job import IngestOptions, run_ingest

REQUIRED = ("date", "landing-uri", "silver-uri", "quarantine-uri", "reports-uri")
OPTIONAL = {
    "dataset": "transactions",
    "layout": "generic",
    "pii-salt-secret": None,
    "outlier-percentile": "0.999",
    "reference-days": "30",
    "run-id": None,
    "contracts-dir": None,
    "date-from": None,
}
URI_KEYS = ("landing_uri", "silver_uri", "quarantine_uri", "reports_uri")
SUMMARY_KEYS = (
    "dataset",
    "date",
    "run_id",
    "landed_rows",
    "silver_rows",
    "quarantined_rows",
    "duplicates_removed",
)


def main(argv: list[str]) -> dict:
    args = parse_job_args(argv, REQUIRED, OPTIONAL)
    uris = {k: check_uri_usable(resolve_uri(args[k])) for k in URI_KEYS}
    try:
        percentile = float(args["outlier_percentile"])
        reference_days = int(args["reference_days"])
    except ValueError as exc:
        raise ValueError(f"--outlier-percentile / --reference-days: not a number ({exc})") from None
    opts = IngestOptions(
        date=parse_date(args["date"]),
        run_id=run_id_from(args),
        salt=resolve_pii_salt(args["pii_salt_secret"]),
        dataset=args["dataset"],
        layout=args["layout"],
        outlier_percentile=percentile,
        reference_days=reference_days,
        contracts_dir=args["contracts_dir"],
        date_from=parse_date(args["date_from"], "--date-from") if args["date_from"] else None,
        **uris,
    )
    ctx = start_job("ingest_transactions", args)
    record = run_ingest(ctx.spark, opts)
    ctx.commit()
    keys = (*SUMMARY_KEYS, "date_from", "days") if opts.date_from else SUMMARY_KEYS
    print(json.dumps({k: record.get(k) for k in (*keys, "report_uri")}))
    return record


if __name__ == "__main__":
    main(sys.argv)
