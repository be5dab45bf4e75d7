#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1, starting (or installing) them where missing.
# Skipped for a service whose URL is given and points elsewhere. Authentication settings
# (pg_hba.conf) are never changed, except behind LEDGERLINE_DEV_TRUST_LOCAL_PG=1 (see below).
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
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n1; }

# The URL migrations use: when it is local and carries no password, its user must be let in
# without one (as on CI machines, where PostgreSQL trusts postgres over TCP from 127.0.0.1).
pg_url="${MIGRATION_DATABASE_URL:-${DATABASE_URL:-}}"
pg_user=$(printf '%s' "$pg_url" | sed -nE 's#^[a-z]+://([^:@/]+)[:@].*#\1#p')
pg_user=${pg_user:-postgres}

pg_auth_error=''
pg_auth_ok() {
  pg_auth_error=$(psql -h 127.0.0.1 -p 5432 -U "$pg_user" -d postgres -w -qAt -c 'select 1' 2>&1 >/dev/null) && return 0
  pg_auth_error=$(printf '%s' "$pg_auth_error" | head -n1)
  return 1
}

# Development machines only, and only when asked: trust local TCP logins (127.0.0.1/32).
trust_local_pg() {
  local version hba
  version=$(pg_version)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  log "LEDGERLINE_DEV_TRUST_LOCAL_PG=1: setting 'host all all 127.0.0.1/32' to trust in $hba"
  log "(every local TCP login to this PostgreSQL then needs no password; a copy is kept as $hba.ledgerline-backup)"
  as_root cp -n "$hba" "$hba.ledgerline-backup"
  as_root sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+/\1trust/' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
}

explain_pg_auth() {
  local version
  version=$(pg_version)
  cat >&2 <<MSG
[services] PostgreSQL on 127.0.0.1:5432 asks user '$pg_user' for a password; nothing was changed.
[services] Either give URLs with credentials, e.g.
[services]   MIGRATION_DATABASE_URL=postgres://postgres:<password>@127.0.0.1:5432/ledgerline \\
[services]   DATABASE_URL=postgres://ledgerline_app:<password>@127.0.0.1:5432/ledgerline npm start
[services] or, on a development machine only, let local TCP logins in without a password:
[services]   sudo sed -i 's/^\\(host\\s\\+all\\s\\+all\\s\\+127.0.0.1\\/32\\s\\+\\)\\S\\+/\\1trust/' /etc/postgresql/${version:-<version>}/main/pg_hba.conf
[services]   sudo pg_ctlcluster ${version:-<version>} main reload
[services] (LEDGERLINE_DEV_TRUST_LOCAL_PG=1 npm start does exactly these two steps.)
MSG
}

if local_url "${DATABASE_URL:-}" && ! pg_up; then
  command -v pg_ctlcluster >/dev/null || install_packages postgresql
  version=$(pg_version)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL did not start"; exit 1; }
fi

if local_url "$pg_url" && [[ ! "$pg_url" =~ ://[^/@]*:[^/@]*@ ]] && command -v psql >/dev/null && ! pg_auth_ok; then
  if [[ "$pg_auth_error" != *password* ]]; then
    log "PostgreSQL on 127.0.0.1:5432 refuses user '$pg_user': $pg_auth_error"
    exit 1
  elif [ "${LEDGERLINE_DEV_TRUST_LOCAL_PG:-0}" = 1 ]; then
    trust_local_pg
    pg_auth_ok || { log "PostgreSQL still refuses '$pg_user' without a password"; exit 1; }
  else
    explain_pg_auth
    exit 1
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
