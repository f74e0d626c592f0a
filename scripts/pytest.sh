#!/usr/bin/env bash
# pytest over glue-scripts/, sagemaker/, datagen/ and local/py (config in pyproject.toml).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure-java.sh
exec bash scripts/py.sh -m pytest "$@"
