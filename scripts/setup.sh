#!/usr/bin/env bash
# The one set-up for a fresh machine (and a quick no-op on a ready one):
#   1. npm dependencies      npm ci, when node_modules is missing or older than package-lock.json
#   2. build                 npm run build, when dist/ is older than the sources
#   3. Docker Engine         scripts/ensure-docker.sh
#   4. base images           scripts/base-images.sh
#
#   scripts/setup.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$here/lib/common.sh"
cd "$root"
started=$(now_s)

# --- 0. Node -------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "Node.js 20 or later is needed (https://nodejs.org); none is on PATH"
command -v npm >/dev/null 2>&1 || die "npm is needed; node is at $(command -v node) but npm is not on PATH"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js 20 or later is needed; $(command -v node) is $(node --version)"

# --- 1. Dependencies -----------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: its age is the install's age.
installed=node_modules/.package-lock.json
if [ -f package-lock.json ]; then
  if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ]; then
    log "npm ci (node_modules is missing or older than package-lock.json)"
    npm ci --no-audit --no-fund >&2
  else
    log "node_modules matches package-lock.json; nothing to install"
  fi
elif [ ! -f "$installed" ] || [ package.json -nt "$installed" ]; then
  log "npm install (no package-lock.json; node_modules is missing or older than package.json)"
  npm install --no-audit --no-fund >&2
else
  log "node_modules is newer than package.json; nothing to install"
fi

# npm may hold back install scripts of dependencies (allow-scripts policy). None that we use
# needs one today — esbuild finds its binary through an optional dependency — so check that
# instead of trusting it; should that change, approve the package in package.json
# ("allowScripts") with `npm approve-scripts <pkg>`, never with a blanket override.
if ! node -e "import('esbuild').then((e) => e.transform('let a: number = 1', { loader: 'ts' }))" >/dev/null 2>&1; then
  die "esbuild does not run; if npm blocked its install script ('npm warn install-scripts'), run 'npm approve-scripts esbuild' and then this script again"
fi

# --- 2. Build ------------------------------------------------------------------------------
stamp=dist/.setup-build-stamp
build_reason=""
if [ ! -f "$stamp" ]; then
  build_reason="no build yet"
else
  for out in examples/shop/*/src/index.ts; do
    out="${out%/src/index.ts}/dist/index.js"
    [ -f "$out" ] || build_reason="$out is missing"
  done
  for f in package.json package-lock.json tsconfig.json scripts/build-cli.mjs scripts/build-shop.mjs; do
    if [ -f "$f" ] && [ "$f" -nt "$stamp" ]; then build_reason="$f changed"; fi
  done
  # Directories count too: deleting a file changes its directory.
  newer="$(find src examples/shop \( -name dist -o -name node_modules \) -prune -o -newer "$stamp" -print 2>/dev/null | head -n 1)"
  if [ -n "$newer" ]; then build_reason="$newer changed"; fi
fi
if [ -n "$build_reason" ]; then
  log "npm run build ($build_reason)"
  npm run build >&2 || die "npm run build failed"
  mkdir -p dist
  touch "$stamp"
else
  log "dist/ is newer than the sources; nothing to build"
fi

# --- 3, 4. Docker and the base images ------------------------------------------------------
"$here/ensure-docker.sh"
"$here/base-images.sh"

log "ready in $(fmt_duration $(($(now_s) - started)))"
