#!/usr/bin/env bash
# Quick start: sets up what is missing (npm packages, the build, the Docker Engine, base images),
# brings the example shop up healthy, and prints where to reach it.
#
#   bash scripts/shop.sh            (SHOP_PORT=9090 bash scripts/shop.sh for another port)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
node dist/bin/flotilla.cjs -f examples/shop/compose.yaml up --wait

port="${SHOP_PORT:-8080}"
cat >&2 <<MSG

The shop is up. Its gateway answers on http://127.0.0.1:$port
  curl -s -X POST http://127.0.0.1:$port/orders -H 'content-type: application/json' -d '{"sku":"widget","quantity":2}'
  node dist/bin/flotilla.cjs -f examples/shop/compose.yaml ps
  node dist/bin/flotilla.cjs -f examples/shop/compose.yaml down -v     # to remove it
MSG
