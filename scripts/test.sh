#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, then type-check, lint (Biome, ruff),
# the TypeScript tests (vitest) and the Python tests (pytest).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
echo "== type-check (tsc)"
npx tsc --noEmit -p tsconfig.json
echo "== lint (biome, ruff)"
npx biome check .
.venv/bin/python -m ruff check glue-scripts sagemaker datagen local/py scripts
.venv/bin/python -m ruff format --check glue-scripts sagemaker datagen local/py scripts
echo "== contracts in sync"
npx tsx scripts/export-contracts.ts --check
echo "== TypeScript tests (vitest)"
npx vitest run
echo "== Python tests (pytest)"
bash scripts/pytest.sh
