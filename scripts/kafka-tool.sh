#!/usr/bin/env bash
# Run Apache Kafka's own CLI tools from the jars scripts/infra.sh caches in
# .cache/kafka/libs (downloaded on first use). No Kafka distribution needed.
#
#   bash scripts/kafka-tool.sh <alias|fully.qualified.ClassName> [args...]
#
# Aliases (the class is picked from what the cached Kafka version ships):
#   topics            TopicCommand              e.g. topics --list
#   producer-perf     ProducerPerformance       e.g. producer-perf --topic t --num-records 1000 --record-size 100 --throughput -1
#   consumer-perf     ConsumerPerformance       e.g. consumer-perf --topic t --messages 1000
#   consumer-groups   ConsumerGroupCommand      e.g. consumer-groups --describe --all-groups
#   console-producer  ConsoleProducer
#   console-consumer  ConsoleConsumer           e.g. console-consumer --topic t --from-beginning --max-messages 5
#   get-offsets       GetOffsetShell            e.g. get-offsets --topic t
#   api-versions      BrokerApiVersionsCommand
#   configs           ConfigCommand
#   delete-records    DeleteRecordsCommand
#   metadata-quorum   MetadataQuorumCommand     e.g. metadata-quorum describe --status
#   cluster           ClusterTool               e.g. cluster cluster-id
#
# When no --bootstrap-server / --bootstrap-controller (or, for producer-perf, no
# bootstrap.servers) is given, the local broker is used: $KAFKA_BROKERS if set,
# else 127.0.0.1:${INFRA_KAFKA_PORT:-9092}.
# KAFKA_TOOL_HEAP_OPTS (default -Xmx256m) sets the tool's heap.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIBS="$ROOT/.cache/kafka/libs"
LOG4J="$ROOT/scripts/infra/kafka/tools-log4j.properties"
BOOTSTRAP="${KAFKA_BROKERS:-127.0.0.1:${INFRA_KAFKA_PORT:-9092}}"

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
command -v java >/dev/null 2>&1 || { echo "[kafka-tool] ERROR: missing prerequisite: Java 17+ (no 'java' on PATH)" >&2; exit 1; }

# Jars: reuse the cache, or let infra.sh download them (same pinned version).
if ! compgen -G "$LIBS/.complete-kafka-*" >/dev/null; then
  echo "[kafka-tool] Kafka jars not cached yet: running 'scripts/infra.sh fetch' ..." >&2
  bash "$ROOT/scripts/infra.sh" fetch
fi

# Index of the classes shipped by the broker and tools jars (built once per download).
INDEX="$LIBS/.class-index"
if [[ ! -s "$INDEX" ]]; then
  {
    for jar in "$LIBS"/kafka_*.jar "$LIBS"/kafka-tools-[0-9]*.jar; do
      if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$jar"
      elif command -v jar >/dev/null 2>&1; then jar tf "$jar"
      fi
    done
  } 2>/dev/null | sed -n 's|\.class$||p' | tr '/' '.' >"$INDEX.tmp" || true
  mv -f "$INDEX.tmp" "$INDEX"
fi

# first_class <candidate>...: the first class the cached jars contain
# (if the index could not be built, the first candidate).
first_class() {
  local c
  if [[ -s "$INDEX" ]]; then
    for c in "$@"; do
      if grep -qxF -- "$c" "$INDEX"; then echo "$c"; return 0; fi
    done
    echo "[kafka-tool] ERROR: none of these classes exist in the cached Kafka jars: $*" >&2
    return 1
  fi
  echo "$1"
}

alias_name="$1"
shift
inject=prepend   # where --bootstrap-server goes when missing: prepend | append | none | producer
case "$alias_name" in
  topics)           cls="$(first_class org.apache.kafka.tools.TopicCommand kafka.admin.TopicCommand)" ;;
  producer-perf)    cls="$(first_class org.apache.kafka.tools.ProducerPerformance)"; inject=producer ;;
  consumer-perf)    cls="$(first_class org.apache.kafka.tools.ConsumerPerformance kafka.tools.ConsumerPerformance)" ;;
  consumer-groups)  cls="$(first_class org.apache.kafka.tools.consumer.group.ConsumerGroupCommand kafka.admin.ConsumerGroupCommand)" ;;
  console-producer) cls="$(first_class org.apache.kafka.tools.ConsoleProducer kafka.tools.ConsoleProducer)" ;;
  console-consumer) cls="$(first_class org.apache.kafka.tools.consumer.ConsoleConsumer kafka.tools.ConsoleConsumer)" ;;
  get-offsets)      cls="$(first_class org.apache.kafka.tools.GetOffsetShell kafka.tools.GetOffsetShell)" ;;
  api-versions)     cls="$(first_class org.apache.kafka.tools.BrokerApiVersionsCommand kafka.admin.BrokerApiVersionsCommand)" ;;
  configs)          cls="$(first_class org.apache.kafka.tools.ConfigCommand kafka.admin.ConfigCommand)" ;;
  delete-records)   cls="$(first_class org.apache.kafka.tools.DeleteRecordsCommand kafka.admin.DeleteRecordsCommand)" ;;
  metadata-quorum)  cls="$(first_class org.apache.kafka.tools.MetadataQuorumCommand)" ;;
  cluster)          cls="$(first_class org.apache.kafka.tools.ClusterTool)"; inject=append ;;
  *.*)              cls="$alias_name"; inject=none ;;
  *) echo "[kafka-tool] ERROR: unknown tool '$alias_name' (see --help for aliases, or pass a fully qualified class name)" >&2; exit 2 ;;
esac

args=("$@")
has_arg() { local a; for a in "${args[@]}"; do [[ "$a" == "$1" || "$a" == "$1="* ]] && return 0; done; return 1; }
wants_help() { has_arg --help || has_arg -h || has_arg --version; }

if ! wants_help; then
  case "$inject" in
    prepend|append)
      if ! has_arg --bootstrap-server && ! has_arg --bootstrap-controller && ! has_arg --broker-list; then
        if [[ "$inject" == prepend ]]; then args=(--bootstrap-server "$BOOTSTRAP" "${args[@]}")
        else args+=(--bootstrap-server "$BOOTSTRAP"); fi
      fi ;;
    producer)
      if ! printf '%s\n' "${args[@]}" | grep -q '^bootstrap\.servers=' && ! has_arg --producer.config; then
        if has_arg --producer-props; then
          # --producer-props takes several values: add ours right after it
          new=()
          for a in "${args[@]}"; do
            new+=("$a")
            [[ "$a" == "--producer-props" ]] && new+=("bootstrap.servers=$BOOTSTRAP")
          done
          args=("${new[@]}")
        else
          args+=(--producer-props "bootstrap.servers=$BOOTSTRAP")
        fi
      fi ;;
  esac
fi

# shellcheck disable=SC2086
exec java ${KAFKA_TOOL_HEAP_OPTS:--Xmx256m} \
  -Djava.awt.headless=true "-Dlog4j.configuration=file:$LOG4J" \
  -cp "$LIBS/*" "$cls" "${args[@]}"
