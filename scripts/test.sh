#!/usr/bin/env bash
# The whole test suite: services, dependencies, build, unit tests, then e2e and fault tests
# against real PostgreSQL and Redis (each suite makes its own database and queue prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build
npx jest --config jest.config.js --silent --coverage
node test/tools/coverage-by-lib.js
npx jest --config test/jest-medium.config.js --runInBand
npx jest --config test/jest-e2e.config.js --runInBand
