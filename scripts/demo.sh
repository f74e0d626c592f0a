#!/usr/bin/env bash
# The main job (`npm run demo`): the local end-to-end demo, offline, on one machine.
#
#   1. generate a synthetic shop (transactions with their mess, CRM extract, clickstream)      -> s3://clv-local-raw/landing
#   2. the data pipeline (state-machines/data-pipeline.asl.json) on the local runtime: ingest (backfill of every
#      delivery day), quality gate, sessionize, three labelled feature snapshots in the offline store
#   3. the training pipeline (state-machines/training-pipeline.asl.json): Athena training/validation/test sets on
#      DuckDB, SageMaker training and evaluation entry points, model gate, model registry, SNS
#   4. the model benchmark on the generated transactions: the CLV model against its baselines, ending with the
#      metrics table
#
# Idempotent: each run starts from an empty local root ($CLV_LOCAL_ROOT, default .clv-local/demo).
# Size: CLV_DEMO_CUSTOMERS (default 1000).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

export CLV_LOCAL_ROOT="${CLV_LOCAL_ROOT:-$root/.clv-local/demo}"
customers="${CLV_DEMO_CUSTOMERS:-1000}"
case "$customers" in
  '' | *[!0-9]*) echo "demo: CLV_DEMO_CUSTOMERS must be a positive integer, got '$customers'" >&2; exit 2 ;;
esac
rm -rf "$CLV_LOCAL_ROOT"
out="$CLV_LOCAL_ROOT/_demo"
mkdir -p "$out"
# In-process Lambda handlers log JSON to stdout: keep the demo's output to the progress lines and warnings.
export POWERTOOLS_LOG_LEVEL="${POWERTOOLS_LOG_LEVEL:-WARN}" POWERTOOLS_METRICS_DISABLED="${POWERTOOLS_METRICS_DISABLED:-true}"
clv() { npx tsx local/cli/clv.ts "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
started=$SECONDS

# Three years of history: snapshots at 2023-01-01, 2023-07-01 and 2024-01-01 all have a fully observed
# 12-month label window (data end 2024-12-31).
step "1/4 generate a shop of $customers customers, 2022-01-01 .. 2024-12-31"
clv generate --customers "$customers" --start 2022-01-01 --months 36 --seed 42 \
  --out s3://clv-local-raw --truth-horizon-days 365

step "2/4 data pipeline: ingest every delivery day, quality gate, sessionize, feature snapshots"
clv run data-pipeline --name demo-data-pipeline --output "$out/data-pipeline.json" --input '{
  "date": "2024-12-31", "backfill_from": "2022-01-01", "customers": true,
  "feature_snapshots": [
    {"cutoff": "2023-01-01", "with_labels": "true"},
    {"cutoff": "2023-07-01", "with_labels": "true"},
    {"cutoff": "2024-01-01", "with_labels": "true"}
  ]}'

step "3/4 training pipeline: training set -> train -> evaluate -> gate -> register"
clv run training-pipeline --name demo-training-pipeline --output "$out/training-pipeline.json" --input '{
  "training_cutoff": "2023-01-01", "validation_cutoff": "2023-07-01", "test_cutoff": "2024-01-01"}'

step "4/4 model benchmark on the generated transactions (cutoff 2024-07-01, 183-day horizon)"
npx tsx bench/bench.ts model --input "$CLV_LOCAL_ROOT/clv-local-raw" --preset generic \
  --cutoff 2024-07-01 --horizon-days 183 --out "$out/model-bench"

step "done in $((SECONDS - started)) s"
bash scripts/py.sh scripts/demo_summary.py "$CLV_LOCAL_ROOT"
