#!/usr/bin/env bash
# One command to run Ledgerline on this machine: Node check, dependencies, services, build,
# migrations, a first tenant (its admin key printed once), then API + worker in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[start] %s\n' "$*" >&2; }

# Node >= 20.19 (the engines field): older Node (Debian 12's nodejs is 18) cannot run the build.
need_node() {
  log "Ledgerline needs Node.js >= 20.19 and npm; $1."
  log "Install Node 22 LTS, e.g. on Debian/Ubuntu:"
  log "  curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs"
  log "or with nvm: nvm install 22 && nvm use 22"
  log "or run everything in containers instead: docker compose -f docker/compose.yml up --build"
  exit 1
}
command -v node >/dev/null && command -v npm >/dev/null || need_node "node or npm is not installed"
node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);
' || need_node "this is Node $(node --version)"

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

# Stamps: what node_modules and dist/ were made from. A pull that changes the lockfile
# reinstalls; one that changes any source, config or the lockfile rebuilds.
mkdir -p .ledgerline
deps_stamp=.ledgerline/deps.sha256
build_stamp=dist/.source.sha256
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
source_hash() {
  find apps libs -type f \( -name '*.ts' -o -name '*.json' \) -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | cat - <(sha256sum package.json package-lock.json tsconfig.json nest-cli.json) |
    sha256sum | cut -d' ' -f1
}

if [ ! -d node_modules ] || [ "$(cat "$deps_stamp" 2>/dev/null)" != "$lock_hash" ]; then
  log "installing dependencies (package-lock.json changed or node_modules is missing)"
  npm ci --no-audit --no-fund
  echo "$lock_hash" >"$deps_stamp"
fi
sources=$(source_hash)
if [ "${REBUILD:-0}" != 0 ] || [ ! -f dist/apps/api/apps/api/src/main.js ] ||
  [ "$(cat "$build_stamp" 2>/dev/null)" != "$sources" ]; then
  log "building (the sources changed since the last build)"
  npm run -s build
  echo "$sources" >"$build_stamp"
fi

npm run -s migrate -- --create-runtime-role
npm run -s cli -- tenant bootstrap --name default
exec bash scripts/run.sh
