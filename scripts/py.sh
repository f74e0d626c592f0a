#!/usr/bin/env bash
# Runs the project's Python (.venv), creating the environment first when needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$root/.venv/bin/python" ] || bash "$root/scripts/setup-python.sh" >&2
exec "$root/.venv/bin/python" "$@"
