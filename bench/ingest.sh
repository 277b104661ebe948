#!/usr/bin/env bash
# npm run bench:ingest — builds a private copy of the code (.cache/ingest-bench/dist) so that a
# concurrent `npm run build` rewriting the shared dist/ cannot break a run halfway, then runs
# bench/ingest.ts from it. Options: see bench/ingest.ts (BENCH_* variables).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/ingest-bench
mkdir -p "$out"
# tsc exits non-zero on type errors elsewhere in the tree but still emits; the alias step decides.
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$out/dist" --tsBuildInfoFile "$out/.tsbuildinfo" || true
node_modules/.bin/tsc-alias -p tsconfig.build.json --outDir "$out/dist"
test -f "$out/dist/apps/ingestor/src/main.js" && test -f "$out/dist/bench/ingest.js"
KAFKAJS_NO_PARTITIONER_WARNING=1 exec node "$out/dist/bench/ingest.js" "$@"
