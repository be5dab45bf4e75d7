#!/usr/bin/env bash
# Makes sure a local 3-master Redis Cluster (no replicas, nothing persisted) answers on 127.0.0.1
# and prints its nodes as REDIS_CLUSTER_NODES wants them (host:port,host:port,host:port).
# Idempotent: a running healthy cluster on those ports is reused; nodes of ours that are up but
# not a healthy cluster are shut down and started afresh. Ports: REDIS_CLUSTER_PORTS
# (default "7001 7002 7003"); node files under REDIS_CLUSTER_DIR (default a /tmp directory).
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-7001 7002 7003})
DIR=${REDIS_CLUSTER_DIR:-${TMPDIR:-/tmp}/ledgerline-redis-cluster}

log() { printf '[redis-cluster] %s\n' "$*" >&2; }
cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null; }
up() { cli "$1" ping | grep -q PONG; }
cluster_ok() {
  local info
  info=$(cli "$1" cluster info) || return 1
  grep -q 'cluster_state:ok' <<<"$info" && grep -q "cluster_known_nodes:${#PORTS[@]}" <<<"$info"
}
healthy() { for p in "${PORTS[@]}"; do up "$p" && cluster_ok "$p" || return 1; done; }
nodes() { local IFS=,; printf '%s\n' "${PORTS[*]/#/127.0.0.1:}"; }

if healthy; then
  log "reusing the cluster on ${PORTS[*]}"
  nodes
  exit 0
fi

command -v redis-server >/dev/null || { log "redis-server is not installed"; exit 1; }
for p in "${PORTS[@]}"; do
  if up "$p"; then
    # Only a cluster-enabled node is ours to restart; anything else on the port is left alone.
    cli "$p" cluster info | grep -q '^cluster_state:' || { log "port $p is taken by a non-cluster Redis"; exit 1; }
    log "restarting the unhealthy node on $p"
    cli "$p" shutdown nosave >/dev/null || true
    for _ in $(seq 1 20); do up "$p" || break; sleep 0.2; done
  fi
done

for p in "${PORTS[@]}"; do
  rm -rf "$DIR/$p" && mkdir -p "$DIR/$p"
  redis-server --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" --dir "$DIR/$p" \
    --port "$p" --bind 127.0.0.1 --save "" --appendonly no --maxmemory-policy noeviction \
    --cluster-node-timeout 5000 --logfile "$DIR/$p/redis.log" --daemonize yes >/dev/null
done
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 50); do up "$p" && break; sleep 0.1; done
  up "$p" || { log "node $p did not start (see $DIR/$p/redis.log)"; exit 1; }
done

log "creating the cluster on ${PORTS[*]}"
redis-cli --cluster create "${PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 1 100); do healthy && break; sleep 0.2; done
healthy || { log "cluster_state did not become ok"; exit 1; }
nodes
