#!/usr/bin/env bash
# The whole test suite: services, dependencies, build, unit tests, then e2e and fault tests
# against real PostgreSQL and Redis (each suite makes its own database and queue prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
# Builds when dist/ is missing or older than the sources (the e2e global setup's own check), so a
# build made just before (as .ci/run does, ahead of lint) is not made a second time.
node -e "require('./test/support/global-setup.js')()"
# The browser suites drive Debian's Chromium (playwright-core never downloads a browser here).
command -v chromium >/dev/null || {
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  else sudo apt-get install -y -qq chromium >/dev/null; fi
}
npx jest --config jest.config.js --silent --coverage --maxWorkers=2
node test/tools/coverage-by-lib.js
npx jest --config test/jest-medium.config.js --runInBand
# The cluster suites (test/cluster.e2e-spec.ts, test/faults/cluster.fault-spec.ts) run on a local
# 3-master Redis Cluster, started here (or reused when it is already up and healthy).
TEST_REDIS_CLUSTER_NODES=$(bash scripts/redis-cluster.sh)
export TEST_REDIS_CLUSTER_NODES
# Suites have their own database, queue prefix and processes, so most run two at a time (a serial
# run leaves the two cores idle ~40 % of the time). Those that share the Redis Cluster, kill or
# flush what they run on, or time what they measure run one at a time afterwards.
ONE_AT_A_TIME='test/(faults/|cluster|console|people|approvals|webhooks-(retries|delivery))'
npx jest --config test/jest-e2e.config.js --maxWorkers=2 --testPathIgnorePatterns "$ONE_AT_A_TIME"
npx jest --config test/jest-e2e.config.js --runInBand --testPathPatterns "$ONE_AT_A_TIME"
