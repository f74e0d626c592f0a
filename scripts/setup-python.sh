#!/usr/bin/env bash
# Creates (or refreshes) the project's Python environment in .venv from requirements.txt.
# Idempotent: does nothing when .venv already matches requirements.txt.
# Python 3.11 is what AWS Glue 5.0 runs; Spark needs Java 17 (installed with apt-get when missing and possible).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/ensure-java.sh

find_python() {
  for cand in "${CLV_PYTHON:-}" python3.11 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1; then
      v="$("$cand" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null || true)"
      if [ "$v" = "3.11" ]; then command -v "$cand"; return 0; fi
    fi
  done
  return 1
}

py="$(find_python)" || {
  echo "setup-python: Python 3.11 (the version AWS Glue 5.0 runs) was not found." >&2
  echo "  Install it (for example 'apt-get install python3.11' or pyenv) or point CLV_PYTHON at it." >&2
  exit 1
}

stamp=".venv/.requirements.sha256"
want="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "setup-python: creating .venv with $py ($("$py" --version))"
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The project's own Python packages (glue-scripts/clv_glue, sagemaker/clv_model, datagen, local/py/clv_local)
# are put on the path with a .pth file: no build step, always the working tree's code.
site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n' "$root/glue-scripts" "$root/sagemaker" "$root" "$root/local/py" > "$site/clv-platform.pth"
echo "$want" > "$stamp"
echo "setup-python: ready ($(.venv/bin/python -c 'import pyspark, xgboost; print("pyspark", pyspark.__version__, "xgboost", xgboost.__version__)'))"
