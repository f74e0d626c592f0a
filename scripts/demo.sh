#!/usr/bin/env bash
# The main job (`npm run demo -- [options]`): the whole MLOps loop on the local runtime, offline, on one machine.
# What it does, its options and its outputs: local/demo/demo.ts and `npm run demo -- --help`; README "Quick start".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
exec npx tsx local/demo/main.ts "$@"
