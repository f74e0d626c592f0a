#!/usr/bin/env bash
# Installs everything the project needs on a fresh clone: npm packages (from package-lock.json) and the Python
# environment (.venv, with Java for Spark). Idempotent: does nothing when both are already in place.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20.11 or newer is required (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

stamp="node_modules/.clv-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

bash scripts/setup-python.sh
