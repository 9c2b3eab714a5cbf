#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up (npm packages, the build, the Docker Engine,
# the base images), then typecheck, lint, unit tests and integration tests against the real Engine.
#
#   npm test            (or: bash scripts/test.sh)
#
# Ends with one line `N passed, N failed` counting every test that ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

echo "==> typecheck and lint" >&2
npx tsc -p tsconfig.json --noEmit
npx tsc -p examples/shop --noEmit
npx eslint .

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
for project in unit integration; do
  echo "==> $project tests" >&2
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$results/$project.json" || status=$?
done

node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { failed += 1; continue; }
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results/unit.json" "$results/integration.json"
exit "$status"
