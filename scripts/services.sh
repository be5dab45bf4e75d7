#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1, starting (or installing) them where missing.
# Skipped for a service whose URL is given and points elsewhere.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  log "installing $*"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

local_url() { [ -z "${1:-}" ] || [[ "$1" == *"127.0.0.1"* ]] || [[ "$1" == *"localhost"* ]]; }

if local_url "${DATABASE_URL:-}" && ! pg_up; then
  command -v pg_ctlcluster >/dev/null || install_packages postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL did not start"; exit 1; }
  # Local development uses trust auth for the postgres user over TCP, as on the CI machines.
  if ! psql -h 127.0.0.1 -U postgres -c 'select 1' -q >/dev/null 2>&1; then
    hba=$(ls /etc/postgresql/"$version"/main/pg_hba.conf)
    as_root sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+/\1trust/' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi

if local_url "${REDIS_URL:-}" && ! redis_up; then
  command -v redis-server >/dev/null || install_packages redis-server
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --maxmemory-policy noeviction >/dev/null
  for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
  redis_up || { log "Redis did not start"; exit 1; }
fi

# BullMQ must never lose keys to eviction.
if local_url "${REDIS_URL:-}"; then
  redis-cli -h 127.0.0.1 -p 6379 config set maxmemory-policy noeviction >/dev/null 2>&1 || true
fi
