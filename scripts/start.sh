#!/usr/bin/env bash
# One command to run Ledgerline on this machine: dependencies, services, build, migrations,
# a first tenant (its admin key printed once), then API + worker in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ledgerline}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

bash scripts/services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/apps/api/apps/api/src/main.js ] && [ "${REBUILD:-0}" = 0 ] || npm run build
npm run -s migrate
npm run -s cli -- tenant bootstrap --name default
exec bash scripts/run.sh
