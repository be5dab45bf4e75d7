#!/bin/sh
# The image's entrypoint. Production needs LEDGERLINE_MASTER_KEY and LEDGERLINE_SIGNING_KEY:
# given in the environment (docker/.env, from `npm run cli -- keys generate`), they are used as
# they are. Otherwise, with LEDGERLINE_KEYS_FILE set (compose sets /keys/ledgerline.env on the
# `keys` volume), the first container to start generates them there once and every container
# reads them from it. Back that volume up: without the master key no secret can be opened.
set -eu
if [ -z "${LEDGERLINE_MASTER_KEY:-}" ] && [ -n "${LEDGERLINE_KEYS_FILE:-}" ]; then
  if [ ! -s "$LEDGERLINE_KEYS_FILE" ]; then
    umask 077
    node dist/apps/cli/apps/cli/src/main.js keys generate >"$LEDGERLINE_KEYS_FILE.$$"
    # Two containers starting at once: the first rename wins, the other's keys are dropped.
    ln "$LEDGERLINE_KEYS_FILE.$$" "$LEDGERLINE_KEYS_FILE" 2>/dev/null &&
      echo "generated LEDGERLINE_MASTER_KEY and LEDGERLINE_SIGNING_KEY in $LEDGERLINE_KEYS_FILE" >&2
    rm -f "$LEDGERLINE_KEYS_FILE.$$"
  fi
  set -a
  . "$LEDGERLINE_KEYS_FILE"
  set +a
fi
exec "$@"
