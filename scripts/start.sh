#!/usr/bin/env bash
# One command to run Ledgerline on this machine: dependencies, services, build, migrations,
# a first tenant (its admin key printed once), then API + worker in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

# Two roles: migrations run as the schema owner, the API and worker as ledgerline_app, which
# gets only SELECT and INSERT on the append-only audit tables (so it cannot disable their
# triggers or rewrite rows). The migrate step creates that login role when it is missing;
# authentication settings (pg_hba) are left as they are. A DATABASE_URL given from outside is
# used as it is (with MIGRATION_DATABASE_URL, if given, for migrations).
if [ -z "${DATABASE_URL:-}" ]; then
  export MIGRATION_DATABASE_URL="${MIGRATION_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ledgerline}"
  export DATABASE_URL="postgres://ledgerline_app@127.0.0.1:5432/ledgerline"
fi
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

bash scripts/services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/apps/api/apps/api/src/main.js ] && [ "${REBUILD:-0}" = 0 ] || npm run build
npm run -s migrate -- --create-runtime-role
npm run -s cli -- tenant bootstrap --name default
exec bash scripts/run.sh
