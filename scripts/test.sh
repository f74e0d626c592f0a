#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, then type-check, lint (Biome, ruff), the GitHub
# workflows (actionlint), the TypeScript tests (vitest, with cdk-nag over every stack) and the Python tests (pytest).
# Runs on the project's Node.js (22+; scripts/setup.sh installs it into .tools/node where the system one is older).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export PATH="$root/.tools/node/bin:$PATH"
echo "== Node.js $(node --version)"
echo "== type-check (tsc)"
npx tsc --noEmit -p tsconfig.json
echo "== lint (biome, ruff)"
npx biome check .
.venv/bin/python -m ruff check glue-scripts sagemaker datagen local/py scripts bench
.venv/bin/python -m ruff format --check glue-scripts sagemaker datagen local/py scripts bench
echo "== GitHub workflows (actionlint)"
if [ ! -x .tools/bin/actionlint ]; then
  echo "test: actionlint is missing (.tools/bin/actionlint): install Go 1.25+ (https://go.dev/dl) and run 'npm run setup'." >&2
  exit 1
fi
.tools/bin/actionlint
echo "== contracts in sync"
npx tsx scripts/export-contracts.ts --check
echo "== TypeScript tests (vitest)"
npx vitest run
echo "== Python tests (pytest)"
bash scripts/pytest.sh
