#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, type-checks (tests
# included), provisions the real local Kafka + ClickHouse (scripts/infra.sh), builds, and runs
# every jest tier (unit, integration, e2e) in one run so jest prints one summary. Exits non-zero
# on any failure. Servers this script started are stopped again at the end unless
# PORTRAIT_KEEP_INFRA=1.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi

# The interop tests decode our messages with Apache Avro's own Python library (Debian package).
if ! /usr/bin/python3 -c 'import avro' >/dev/null 2>&1; then
  echo "==> apt-get install python3-avro (independent Avro implementation for the interop tests)"
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q python3-avro >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q python3-avro >/dev/null; }) \
      || echo "warning: could not install python3-avro; the interop tests will say what is missing"
  fi
fi

echo "==> type check"
npx tsc -p tsconfig.json --noEmit

was_running=0
if bash scripts/infra.sh status >/dev/null 2>&1; then was_running=1; fi
echo "==> infrastructure"
bash scripts/infra.sh up
if [ "$was_running" = 0 ] && [ "${PORTRAIT_KEEP_INFRA:-0}" != 1 ]; then
  trap 'echo "==> stopping infrastructure started for the tests"; bash scripts/infra.sh down || true' EXIT
fi
eval "$(bash scripts/infra.sh env | sed 's/^/export /')"
export PORTRAIT_INFRA_READY=1

echo "==> build"
node scripts/build.js

# One test file at a time by default: the integration and e2e tiers start Kafka consumers and
# service processes, and on a 2-core machine two such files at once starve each other into
# timeouts. JEST_WORKERS=2 trades that robustness for speed on bigger machines.
echo "==> jest (unit, integration, e2e)"
mkdir -p .cache
results=.cache/jest-results.json
rm -f "$results"
set +e
npx jest --ci --maxWorkers=${JEST_WORKERS:-1} --json --outputFile="$results" "$@"
rc=$?
set -e
# One plain closing line that any CI reader understands, from jest's own result file.
if [ -f "$results" ]; then
  node -e 'const r=require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)' "$(pwd)/$results"
else
  echo "0 passed, 1 failed"
fi
echo "==> npm test finished in $(( $(date +%s) - started )) s (exit $rc)"
exit $rc
