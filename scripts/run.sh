#!/usr/bin/env bash
# `npm start`: API and worker together; SIGTERM/SIGINT drain both, and either dying stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
node dist/apps/api/apps/api/src/main.js &
api=$!
node dist/apps/worker/apps/worker/src/main.js &
worker=$!
stop() { kill -TERM "$api" "$worker" 2>/dev/null; wait "$api" "$worker"; exit 0; }
trap stop TERM INT
wait -n "$api" "$worker"
status=$?
kill -TERM "$api" "$worker" 2>/dev/null
wait
exit "$status"
