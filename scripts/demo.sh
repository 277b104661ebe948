#!/usr/bin/env bash
# `npm run demo [-- --source <path> --format <canonical|jdata|taobao> [--labels <csv>] [--once]]`
# The main job on one machine: installs what is missing, provisions and starts Kafka + ClickHouse
# (or uses KAFKA_BROKERS / CLICKHOUSE_URL), builds, starts the four services, replays data (the
# built-in generator by default) and prints where to look. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi

was_running=0
if bash scripts/infra.sh status >/dev/null 2>&1; then was_running=1; fi
echo "==> infrastructure"
bash scripts/infra.sh up
cleanup() {
  if [ "$was_running" = 0 ]; then
    echo "==> stopping the Kafka and ClickHouse this demo started"
    bash scripts/infra.sh down || true
  fi
}
trap cleanup EXIT
eval "$(bash scripts/infra.sh env | sed 's/^/export /')"

echo "==> build"
node scripts/build.js

echo "==> services"
set +e
node dist/tools/demo.js "$@"
rc=$?
set -e
exit $rc
