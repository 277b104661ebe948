#!/usr/bin/env bash
# Local infrastructure for Portrait without Docker: Apache Kafka (KRaft, single
# combined broker+controller node, jars from Maven Central) and ClickHouse (the
# Debian package, 18.16), both run as plain processes with all state in .cache/.
#
#   bash scripts/infra.sh up       provision (first run downloads) and start, wait until ready
#   bash scripts/infra.sh down     stop what `up` started (pid files), TERM then KILL
#   bash scripts/infra.sh status   one line per component; exit 0 only if all answer
#   bash scripts/infra.sh env      KAFKA_BROKERS=... / CLICKHOUSE_URL=... lines for the apps
#   bash scripts/infra.sh fetch    only download the Kafka jars (e.g. to warm a CI cache)
#
# Environment:
#   KAFKA_BROKERS    if set (host:port[,host:port]), Kafka is external: not started, only checked
#   CLICKHOUSE_URL   if set (http://host:port), ClickHouse is external: not started, only checked
#   INFRA_KAFKA_PORT (9092), INFRA_KAFKA_CONTROLLER_PORT (9093),
#   INFRA_CH_HTTP_PORT (8123), INFRA_CH_TCP_PORT (9000)   local ports
#   KAFKA_HEAP_OPTS  (-Xms128m -Xmx512m)   broker heap
#   INFRA_START_TIMEOUT (120)  seconds to wait for a component to answer
#   INFRA_STOP_TIMEOUT  (30)   seconds between TERM and KILL on `down`
#
# Logging goes to stderr; `env` and `status` write their result to stdout.
set -Eeuo pipefail

KAFKA_VERSION="3.9.1"   # last 3.x: kafkajs 2.2.4 needs protocol versions Kafka 4.0 removed
SCALA_VERSION="2.13"
SLF4J_VERSION="1.7.36"  # the slf4j 1.7 line Kafka 3.9 is built against

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATES="$ROOT/scripts/infra"
CACHE="$ROOT/.cache"
M2_REPO="$CACHE/m2"

KAFKA_HOME="$CACHE/kafka"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_LOGS="$KAFKA_HOME/logs"
KAFKA_PID_FILE="$KAFKA_HOME/kafka.pid"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_MARKER="$KAFKA_LIBS/.complete-kafka-$KAFKA_VERSION"
KAFKA_PORT="${INFRA_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${INFRA_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"

CH_HOME="$CACHE/clickhouse"
CH_ETC="$CH_HOME/etc"
CH_CONFIG="$CH_ETC/config.xml"
CH_LOGS="$CH_HOME/logs"
CH_PID_FILE="$CH_HOME/clickhouse.pid"
CH_HTTP_PORT="${INFRA_CH_HTTP_PORT:-8123}"
CH_TCP_PORT="${INFRA_CH_TCP_PORT:-9000}"

START_TIMEOUT="${INFRA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${INFRA_STOP_TIMEOUT:-30}"

# ----------------------------------------------------------------------------- helpers

log()  { printf '[infra] %s\n' "$*" >&2; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }
die()  { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
# elapsed <start_ms> -> "12.3s"
elapsed() { local d=$(( $(now_ms) - $1 )); printf '%d.%ds' $((d / 1000)) $(((d % 1000) / 100)); }

# render <template> <output> KEY=VALUE...   replaces @KEY@ (plain text, no sed escaping issues)
render() {
  local tmpl="$1" out="$2" content kv key value
  shift 2
  content="$(<"$tmpl")"
  for kv in "$@"; do
    key="${kv%%=*}"; value="${kv#*=}"
    content="${content//@${key}@/${value}}"
  done
  if [[ "$content" =~ @[A-Z_]+@ ]]; then
    die "unreplaced placeholder ${BASH_REMATCH[0]} in $tmpl"
  fi
  printf '%s\n' "$content" >"$out.tmp.$$"
  mv -f "$out.tmp.$$" "$out"
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# read_pid <file> -> pid if the file holds the pid of a live process whose
# command line contains <marker> (our own config path), else nothing.
read_pid() {
  local file="$1" marker="$2" pid
  [[ -f "$file" ]] || return 0
  pid="$(tr -dc '0-9' <"$file")"
  if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
    echo "$pid"
  fi
}

# find_by_marker <marker>: pids of live processes whose argv contains <marker>
# (our generated config path, unique to this checkout). Used to adopt/stop a
# server whose pid file was lost; never matches by program name.
find_by_marker() {
  local marker="$1" p a
  local -a argv
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    [[ "$p" == "$$" || "$p" == "$BASHPID" ]] && continue
    argv=()
    mapfile -d '' -t argv 2>/dev/null <"/proc/$p/cmdline" || continue
    for a in "${argv[@]}"; do
      if [[ "$a" == "$marker" ]]; then
        echo "$p"
        break
      fi
    done
  done
  return 0
}

# tcp_open <host> <port>
# shellcheck disable=SC2016  # $1/$2 expand in the inner shell
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

tail_log() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    printf '[infra] ---- last lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2
    printf '[infra] ----\n' >&2
  done
}

# stop_pid <name> <pid>: TERM, wait up to STOP_TIMEOUT, then KILL.
stop_pid() {
  local name="$1" pid="$2" t0 waited=0
  t0="$(now_ms)"
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if (( waited >= STOP_TIMEOUT * 10 )); then
      warn "$name (pid $pid) still running ${STOP_TIMEOUT}s after TERM: sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_alive "$pid"; then
    die "$name (pid $pid) did not exit"
  fi
  log "$name stopped (pid $pid) in $(elapsed "$t0")"
}

# Hex helpers for the Kafka wire-protocol probes below.
hex_to_int() { echo $((16#$1)); }
hex_to_str() { local h="$1" s="" i; for ((i = 0; i < ${#h}; i += 2)); do s+="\\x${h:i:2}"; done; printf '%b' "$s"; }

# kafka_request <host> <port> <request-hex-without-size>: sends one request,
# prints the response (without its size prefix) as hex. Pure bash: no JVM, no client.
kafka_request() {
  # shellcheck disable=SC2016  # the script expands its own positional args
  timeout 5 bash -c '
    set -e
    exec 3<>"/dev/tcp/$1/$2"
    req="$3"
    len=$(( ${#req} / 2 ))
    hdr=$(printf "%08x" "$len")
    all="$hdr$req" esc=""
    for ((i = 0; i < ${#all}; i += 2)); do esc+="\\x${all:i:2}"; done
    printf "%b" "$esc" >&3
    size_hex=$(head -c 4 <&3 | od -An -v -tx1 | tr -d " \n")
    [ ${#size_hex} -eq 8 ] || exit 3
    head -c $((16#$size_hex)) <&3 | od -An -v -tx1 | tr -d " \n"
  ' _ "$1" "$2" "$3" 2>/dev/null
}

# kafka_answers <host> <port>: true if a Kafka broker answers ApiVersions v0
# (supported by every broker version) with error_code 0.
kafka_answers() {
  local resp
  # api_key=18 (ApiVersions) v0, correlation id 0x7fab0001, client id "infra-probe"
  resp="$(kafka_request "$1" "$2" "001200007fab0001000b696e6672612d70726f6265")" || return 1
  [[ "${resp:0:12}" == "7fab00010000" ]]
}

# kafka_metadata <host> <port>: prints "<broker-count> <first-broker-host>:<port>"
# from a Metadata v4 request (all topics, no auto-creation).
kafka_metadata() {
  local resp n off hl host port
  # api_key=3 (Metadata) v4, correlation id 0x7fab0002, client id "infra-probe",
  # topics = null (-1 => all), allow_auto_topic_creation = false
  resp="$(kafka_request "$1" "$2" "000300047fab0002000b696e6672612d70726f6265ffffffff00")" || return 1
  [[ "${resp:0:8}" == "7fab0002" ]] || return 1
  # correlation_id(4) throttle_time_ms(4) brokers: count(4) [node_id(4) host(str16) port(4) rack(nullable str16)]
  n="$(hex_to_int "${resp:16:8}")"
  (( n > 0 )) || { echo "0 -"; return 0; }
  off=$((24 + 8))
  hl="$(hex_to_int "${resp:off:4}")"; off=$((off + 4))
  host="$(hex_to_str "${resp:off:hl*2}")"; off=$((off + hl * 2))
  port="$(hex_to_int "${resp:off:8}")"
  echo "$n $host:$port"
}

# ----------------------------------------------------------------------------- prerequisites

# Each *_problem function prints what is missing (nothing if all is well).
java_problem() {
  command -v java >/dev/null 2>&1 || {
    echo "Java 17+ (no 'java' on PATH; e.g. apt-get install -y openjdk-17-jre-headless)"; return 0; }
  local v major
  v="$(java -version 2>&1 | awk -F '"' '/version/ {print $2; exit}')"
  major="${v%%.*}"
  [[ "$major" == "1" ]] && major="$(echo "$v" | cut -d. -f2)"
  if ! [[ "$major" =~ ^[0-9]+$ ]]; then
    echo "Java 17+ (cannot parse the output of 'java -version': ${v:-?})"
  elif (( major < 17 )); then
    echo "Java 17+ (found Java $v at $(command -v java))"
  fi
}

maven_problem() {
  command -v mvn >/dev/null 2>&1 ||
    echo "Maven ('mvn' not on PATH; needed once to download the Kafka $KAFKA_VERSION jars from Maven Central; e.g. apt-get install -y maven)"
}

curl_problem() {
  command -v curl >/dev/null 2>&1 || echo "curl (used to talk to ClickHouse over HTTP; e.g. apt-get install -y curl)"
}

# How to run apt-get: prints "root", "sudo", or a problem description (exit 1).
apt_access() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get (clickhouse-server is not installed and this is not a Debian/Ubuntu machine: install ClickHouse yourself or set CLICKHOUSE_URL)"
    return 1
  fi
  if [[ "$(id -u)" == "0" ]]; then echo root; return 0; fi
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then echo sudo; return 0; fi
  echo "root or passwordless sudo (clickhouse-server is not installed; run: sudo apt-get install -y clickhouse-server clickhouse-client)"
  return 1
}

require_base_tools() {
  local t
  for t in timeout od head tr setsid flock date; do
    command -v "$t" >/dev/null 2>&1 || die "missing prerequisite: '$t' (coreutils/util-linux)"
  done
}

# die listing every missing prerequisite at once
die_missing() {
  local m
  for m in "$@"; do printf '[infra] ERROR: missing prerequisite: %s\n' "$m" >&2; done
  exit 1
}

require_java()  { local p; p="$(java_problem)";  [[ -z "$p" ]] || die_missing "$p"; }
require_maven() { local p; p="$(maven_problem)"; [[ -z "$p" ]] || die_missing "$p"; }
require_curl()  { local p; p="$(curl_problem)";  [[ -z "$p" ]] || die_missing "$p"; }

# Check, before starting anything, everything `up` is going to need.
preflight_up() {
  local -a missing=()
  local p
  if ! kafka_external && [[ -z "$(kafka_pid)" ]] && ! kafka_answers 127.0.0.1 "$KAFKA_PORT"; then
    p="$(java_problem)"; [[ -n "$p" ]] && missing+=("$p")
    if [[ ! -f "$KAFKA_MARKER" ]]; then p="$(maven_problem)"; [[ -n "$p" ]] && missing+=("$p"); fi
  fi
  p="$(curl_problem)"; [[ -n "$p" ]] && missing+=("$p")
  if [[ -z "$p" ]] && ! ch_external && ! ch_server_bin >/dev/null && ! ch_answers "$(ch_local_url)"; then
    p="$(apt_access)" || missing+=("$p")
  fi
  (( ${#missing[@]} == 0 )) || die_missing "${missing[@]}"
}

# ----------------------------------------------------------------------------- Kafka

kafka_external() { [[ -n "${KAFKA_BROKERS:-}" ]]; }

# "host:port" entries of KAFKA_BROKERS (scheme prefixes like PLAINTEXT:// stripped)
kafka_external_brokers() {
  local b
  IFS=',' read -r -a _brokers <<<"$KAFKA_BROKERS"
  for b in "${_brokers[@]}"; do
    b="${b// /}"; b="${b#*://}"
    [[ -n "$b" ]] && echo "$b"
  done
}

kafka_pid() { read_pid "$KAFKA_PID_FILE" "$KAFKA_PROPS"; }

kafka_fetch() {
  if [[ -f "$KAFKA_MARKER" ]]; then
    return 0
  fi
  require_java
  require_maven
  local t0 mvn_log
  t0="$(now_ms)"
  mkdir -p "$KAFKA_HOME" "$M2_REPO"
  log "kafka: resolving org.apache.kafka:kafka_$SCALA_VERSION:$KAFKA_VERSION + kafka-tools with Maven into .cache/kafka/libs ..."
  render "$TEMPLATES/kafka/pom.xml.tmpl" "$KAFKA_HOME/pom.xml" \
    "KAFKA_VERSION=$KAFKA_VERSION" "SCALA_VERSION=$SCALA_VERSION" "SLF4J_VERSION=$SLF4J_VERSION"
  rm -rf "$KAFKA_LIBS.tmp"
  mvn_log="$KAFKA_HOME/mvn.log"
  local -a mvn_cmd=(mvn -B -f "$KAFKA_HOME/pom.xml" "-Dmaven.repo.local=$M2_REPO"
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies
    "-DoutputDirectory=$KAFKA_LIBS.tmp" -DincludeScope=runtime)
  # Offline first (works without network once .cache/m2 is populated), then online.
  if ! "${mvn_cmd[@]}" -o </dev/null >"$mvn_log" 2>&1; then
    rm -rf "$KAFKA_LIBS.tmp"
    if ! "${mvn_cmd[@]}" </dev/null >"$mvn_log" 2>&1; then
      tail_log "$mvn_log"
      die "kafka: Maven could not resolve Kafka $KAFKA_VERSION from Maven Central (full log: $mvn_log)"
    fi
  fi
  [[ -f "$KAFKA_LIBS.tmp/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" && -f "$KAFKA_LIBS.tmp/kafka-tools-$KAFKA_VERSION.jar" ]] ||
    die "kafka: Maven finished but the Kafka jars are missing in $KAFKA_LIBS.tmp (log: $mvn_log)"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_MARKER"
  log "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) ready in $(elapsed "$t0")"
}

kafka_configure() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  render "$TEMPLATES/kafka/server.properties.tmpl" "$KAFKA_PROPS" \
    "KAFKA_PORT=$KAFKA_PORT" "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" "KAFKA_DATA_DIR=$KAFKA_DATA"
  render "$TEMPLATES/kafka/log4j.properties.tmpl" "$KAFKA_HOME/log4j.properties" "KAFKA_LOG_DIR=$KAFKA_LOGS"
}

kafka_java() { # <heap> <log4j-config> <main-class> args...
  local heap="$1" log4j="$2"
  shift 2
  # shellcheck disable=SC2086
  java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$log4j" "-Dkafka.logs.dir=$KAFKA_LOGS" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_format() {
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    return 0
  fi
  local cluster_id t0
  t0="$(now_ms)"
  if [[ -s "$KAFKA_HOME/cluster.id" ]]; then
    cluster_id="$(<"$KAFKA_HOME/cluster.id")"
  else
    # A Kafka cluster id is a base64url-encoded (unpadded) random 16-byte UUID.
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    echo "$cluster_id" >"$KAFKA_HOME/cluster.id"
  fi
  log "kafka: formatting KRaft storage in .cache/kafka/data (cluster id $cluster_id)"
  if ! kafka_java "-Xmx256m" "$TEMPLATES/kafka/tools-log4j.properties" kafka.tools.StorageTool \
      format --ignore-formatted -t "$cluster_id" -c "$KAFKA_PROPS" </dev/null >"$KAFKA_LOGS/format.log" 2>&1 9>&-; then
    tail_log "$KAFKA_LOGS/format.log"
    die "kafka: storage format failed"
  fi
  log "kafka: storage formatted in $(elapsed "$t0")"
}

kafka_wait_ready() { # <pid-or-empty> <host> <port>
  local pid="$1" host="$2" port="$3" deadline
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  while :; do
    if kafka_answers "$host" "$port"; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      tail_log "$KAFKA_LOGS/kafka.out" "$KAFKA_LOGS/server.log"
      die "kafka: broker process $pid exited during startup (logs: $KAFKA_LOGS)"
    fi
    if (( $(date +%s) >= deadline )); then
      tail_log "$KAFKA_LOGS/kafka.out" "$KAFKA_LOGS/server.log"
      die "kafka: no answer on $host:$port after ${START_TIMEOUT}s (logs: $KAFKA_LOGS)"
    fi
    sleep 0.25
  done
}

kafka_report_metadata() { # <host> <port>
  local md
  if md="$(kafka_metadata "$1" "$2")"; then
    log "kafka: metadata OK from $1:$2: ${md%% *} broker(s), advertised ${md#* }"
  else
    warn "kafka: $1:$2 answers ApiVersions but the Metadata v4 probe failed"
  fi
}

kafka_up() {
  local t0 pid b ok=""
  t0="$(now_ms)"
  if kafka_external; then
    for b in $(kafka_external_brokers); do
      if kafka_answers "${b%:*}" "${b##*:}"; then ok="$b"; break; fi
    done
    [[ -n "$ok" ]] || die "kafka: KAFKA_BROKERS=$KAFKA_BROKERS is set but no broker answers there (not starting a local one)"
    log "kafka: external broker answers at $ok (KAFKA_BROKERS set; not starting a local broker)"
    kafka_report_metadata "${ok%:*}" "${ok##*:}"
    return 0
  fi

  pid="$(kafka_pid)"
  if [[ -z "$pid" ]]; then
    # pid file lost but a broker with our config still runs: adopt it
    pid="$(find_by_marker "$KAFKA_PROPS" | head -n 1)"
    if [[ -n "$pid" ]]; then
      warn "kafka: found our broker (pid $pid) without a pid file: adopting it"
      mkdir -p "$KAFKA_HOME"
      echo "$pid" >"$KAFKA_PID_FILE"
    fi
  fi
  if [[ -n "$pid" && ! -f "$KAFKA_DATA/meta.properties" ]]; then
    # e.g. `rm -rf .cache` while it ran: its files are gone, it cannot be trusted
    warn "kafka: our broker (pid $pid) runs but its data dir .cache/kafka/data is gone: restarting it"
    stop_pid kafka "$pid"
    pid=""
  fi
  if [[ -n "$pid" ]]; then
    local running_ports
    running_ports="$(cat "$KAFKA_HOME/running.ports" 2>/dev/null || true)"
    if [[ -n "$running_ports" && "$running_ports" != "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ]]; then
      die "kafka: our broker (pid $pid) already runs with ports ${running_ports/ /\/} (client/controller), not $KAFKA_PORT/$KAFKA_CONTROLLER_PORT: run 'infra.sh down' first to change ports"
    fi
    kafka_wait_ready "$pid" 127.0.0.1 "$KAFKA_PORT"
    log "kafka: already running (ours, pid $pid) on 127.0.0.1:$KAFKA_PORT, reusing it"
    return 0
  fi
  rm -f "$KAFKA_PID_FILE"

  if kafka_answers 127.0.0.1 "$KAFKA_PORT"; then
    log "kafka: a broker not started by infra.sh already answers on 127.0.0.1:$KAFKA_PORT: reusing it"
    kafka_report_metadata 127.0.0.1 "$KAFKA_PORT"
    return 0
  fi
  if tcp_open 127.0.0.1 "$KAFKA_PORT"; then
    die "kafka: port $KAFKA_PORT is taken by something that is not a Kafka broker (set INFRA_KAFKA_PORT to use another port)"
  fi
  if tcp_open 127.0.0.1 "$KAFKA_CONTROLLER_PORT"; then
    die "kafka: controller port $KAFKA_CONTROLLER_PORT is already in use (set INFRA_KAFKA_CONTROLLER_PORT to use another port)"
  fi

  require_java
  kafka_fetch
  kafka_configure
  kafka_format

  local t_start
  t_start="$(now_ms)"
  # setsid: own session, survives the calling shell/CI step; no inherited stdio or lock fd.
  # shellcheck disable=SC2086
  setsid java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Dlog4j.configuration=file:$KAFKA_HOME/log4j.properties" "-Dkafka.logs.dir=$KAFKA_LOGS" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
    </dev/null >>"$KAFKA_LOGS/kafka.out" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$KAFKA_PID_FILE"
  echo "$KAFKA_VERSION" >"$KAFKA_HOME/running.version"
  echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" >"$KAFKA_HOME/running.ports"
  log "kafka: started broker $KAFKA_VERSION (pid $pid), waiting for 127.0.0.1:$KAFKA_PORT ..."
  kafka_wait_ready "$pid" 127.0.0.1 "$KAFKA_PORT"
  log "kafka: ready on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT) after $(elapsed "$t_start") (total $(elapsed "$t0"))"
  kafka_report_metadata 127.0.0.1 "$KAFKA_PORT"
}

kafka_down() {
  local pid p
  pid="$(kafka_pid)"
  if [[ -z "$pid" ]]; then
    pid="$(find_by_marker "$KAFKA_PROPS" | head -n 1)"
    [[ -n "$pid" ]] && warn "kafka: our broker (pid $pid) had no pid file; stopping it anyway"
  fi
  if [[ -z "$pid" ]]; then
    [[ -f "$KAFKA_PID_FILE" ]] && log "kafka: stale pid file removed (process gone)"
    rm -f "$KAFKA_PID_FILE"
    if kafka_external; then
      log "kafka: external (KAFKA_BROKERS), nothing to stop"
    else
      log "kafka: not running (nothing started by infra.sh)"
    fi
    return 0
  fi
  log "kafka: stopping broker (pid $pid) ..."
  stop_pid kafka "$pid"
  rm -f "$KAFKA_PID_FILE"
  for p in $(find_by_marker "$KAFKA_PROPS"); do
    stop_pid "kafka (leftover)" "$p"
  done
}

kafka_status() { # prints one line; returns 0 if answering
  local pid b md
  if kafka_external; then
    for b in $(kafka_external_brokers); do
      if kafka_answers "${b%:*}" "${b##*:}"; then
        md="$(kafka_metadata "${b%:*}" "${b##*:}" || echo "? ?")"
        echo "kafka:      external  brokers=$KAFKA_BROKERS answering=$b brokers_in_cluster=${md%% *} version=unknown (external)"
        return 0
      fi
    done
    echo "kafka:      external  brokers=$KAFKA_BROKERS NOT ANSWERING"
    return 1
  fi
  pid="$(kafka_pid)"
  local note=""
  if [[ -z "$pid" ]]; then
    pid="$(find_by_marker "$KAFKA_PROPS" | head -n 1)"
    [[ -n "$pid" ]] && note=" (ours, pid file missing: 'up' adopts it, 'down' stops it)"
  fi
  if [[ -n "$pid" ]]; then
    if kafka_answers 127.0.0.1 "$KAFKA_PORT"; then
      echo "kafka:      running   pid=$pid version=$(cat "$KAFKA_HOME/running.version" 2>/dev/null || echo "$KAFKA_VERSION") port=$KAFKA_PORT controller_port=$KAFKA_CONTROLLER_PORT mode=KRaft data=.cache/kafka/data logs=.cache/kafka/logs$note"
      return 0
    fi
    echo "kafka:      starting  pid=$pid port=$KAFKA_PORT (process alive, not answering yet)"
    return 1
  fi
  if kafka_answers 127.0.0.1 "$KAFKA_PORT"; then
    echo "kafka:      running   external (not started by infra.sh) port=$KAFKA_PORT version=unknown"
    return 0
  fi
  echo "kafka:      stopped   port=$KAFKA_PORT version=$KAFKA_VERSION (jars $([[ -f "$KAFKA_MARKER" ]] && echo cached || echo "not downloaded"))"
  return 1
}

# ----------------------------------------------------------------------------- ClickHouse

ch_external() { [[ -n "${CLICKHOUSE_URL:-}" ]]; }
ch_local_url() { echo "http://127.0.0.1:$CH_HTTP_PORT"; }
ch_url() { if ch_external; then echo "${CLICKHOUSE_URL%/}"; else ch_local_url; fi; }

# ch_query <url> <sql>: POST the query, print the result
ch_query() { curl -sS --fail --max-time 5 --data-binary "$2" "$1/" 2>/dev/null; }
ch_answers() { [[ "$(ch_query "$1" 'SELECT 1' || true)" == "1" ]]; }

ch_pid() { read_pid "$CH_PID_FILE" "$CH_CONFIG"; }

# The server binary: on PATH, or in /usr/sbin where the Debian package puts it
# (not on a non-root user's PATH).
ch_server_bin() {
  local b
  for b in "$(command -v clickhouse-server 2>/dev/null || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if [[ -n "$b" && -x "$b" ]]; then echo "$b"; return 0; fi
  done
  return 1
}

ch_install() {
  if ch_server_bin >/dev/null; then
    return 0
  fi
  local t0 access sudo=()
  t0="$(now_ms)"
  access="$(apt_access)" || die_missing "$access"
  [[ "$access" == sudo ]] && sudo=(sudo -n)
  mkdir -p "$CH_LOGS"
  log "clickhouse: clickhouse-server not found, installing the Debian package (apt-get) ..."
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
         "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q clickhouse-server clickhouse-client; } \
       </dev/null >"$CH_LOGS/apt.log" 2>&1; then
    tail_log "$CH_LOGS/apt.log"
    die "clickhouse: apt-get install clickhouse-server clickhouse-client failed (log: $CH_LOGS/apt.log)"
  fi
  ch_server_bin >/dev/null || die "clickhouse: package installed but no clickhouse-server binary found"
  log "clickhouse: installed $(dpkg-query -W -f '${Version}' clickhouse-server 2>/dev/null || echo '?') in $(elapsed "$t0")"
}

ch_configure() {
  mkdir -p "$CH_ETC/config.d" "$CH_LOGS" "$CH_HOME/data" "$CH_HOME/tmp" "$CH_HOME/user_files" "$CH_HOME/format_schemas"
  render "$TEMPLATES/clickhouse/config.xml.tmpl" "$CH_CONFIG" \
    "CH_HOME=$CH_HOME" "CH_HTTP_PORT=$CH_HTTP_PORT" "CH_TCP_PORT=$CH_TCP_PORT"
  render "$TEMPLATES/clickhouse/users.xml.tmpl" "$CH_ETC/users.xml"
  rm -f "$CH_ETC"/config.d/*.xml
  cp "$TEMPLATES"/clickhouse/config.d/*.xml "$CH_ETC/config.d/"
}

ch_wait_ready() { # <pid-or-empty> <url>
  local pid="$1" url="$2" deadline
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  while :; do
    if ch_answers "$url"; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      tail_log "$CH_LOGS/stdout.log" "$CH_LOGS/clickhouse-server.err.log"
      die "clickhouse: server process $pid exited during startup (logs: $CH_LOGS)"
    fi
    if (( $(date +%s) >= deadline )); then
      tail_log "$CH_LOGS/stdout.log" "$CH_LOGS/clickhouse-server.err.log"
      die "clickhouse: no answer to SELECT 1 at $url after ${START_TIMEOUT}s (logs: $CH_LOGS)"
    fi
    sleep 0.1
  done
}

# Warn when an 18.x server (not configured by us) lacks the profile settings the app needs.
ch_check_profile() { # <url>
  local url="$1" v s
  v="$(ch_query "$url" 'SELECT version()' || echo '?')"
  if [[ "$v" == 18.* ]]; then
    s="$( { ch_query "$url" "SELECT name FROM system.settings WHERE name IN ('allow_experimental_low_cardinality_type','insert_sample_with_metadata') AND value = '1'" || true; } | wc -l)"
    if [[ "$s" != "2" ]]; then
      warn "clickhouse at $url is $v but its default profile lacks allow_experimental_low_cardinality_type=1 / insert_sample_with_metadata=1 (see docs/clickhouse-local.md)"
    fi
  fi
  echo "$v"
}

ch_up() {
  local t0 pid url v
  t0="$(now_ms)"
  require_curl
  if ch_external; then
    url="$(ch_url)"
    ch_answers "$url" || die "clickhouse: CLICKHOUSE_URL=$CLICKHOUSE_URL is set but SELECT 1 gets no answer there (not starting a local server)"
    v="$(ch_check_profile "$url")"
    log "clickhouse: external server $v answers at $url (CLICKHOUSE_URL set; not starting a local server)"
    return 0
  fi
  url="$(ch_local_url)"

  pid="$(ch_pid)"
  if [[ -z "$pid" ]]; then
    pid="$(find_by_marker "--config-file=$CH_CONFIG" | head -n 1)"
    if [[ -n "$pid" ]]; then
      warn "clickhouse: found our server (pid $pid) without a pid file: adopting it"
      mkdir -p "$CH_HOME"
      echo "$pid" >"$CH_PID_FILE"
    fi
  fi
  if [[ -n "$pid" && ! -d "$CH_HOME/data/metadata" ]]; then
    warn "clickhouse: our server (pid $pid) runs but its data dir .cache/clickhouse/data is gone: restarting it"
    stop_pid clickhouse "$pid"
    pid=""
  fi
  if [[ -n "$pid" ]]; then
    local running_ports
    running_ports="$(cat "$CH_HOME/running.ports" 2>/dev/null || true)"
    if [[ -n "$running_ports" && "$running_ports" != "$CH_HTTP_PORT $CH_TCP_PORT" ]]; then
      die "clickhouse: our server (pid $pid) already runs with ports ${running_ports/ /\/} (http/tcp), not $CH_HTTP_PORT/$CH_TCP_PORT: run 'infra.sh down' first to change ports"
    fi
    ch_wait_ready "$pid" "$url"
    log "clickhouse: already running (ours, pid $pid) at $url, reusing it"
    return 0
  fi
  rm -f "$CH_PID_FILE"

  if ch_answers "$url"; then
    v="$(ch_check_profile "$url")"
    log "clickhouse: a server not started by infra.sh ($v) already answers at $url: reusing it"
    return 0
  fi
  if tcp_open 127.0.0.1 "$CH_HTTP_PORT"; then
    die "clickhouse: port $CH_HTTP_PORT is taken by something that does not answer like ClickHouse (set INFRA_CH_HTTP_PORT to use another port)"
  fi
  if tcp_open 127.0.0.1 "$CH_TCP_PORT"; then
    die "clickhouse: native port $CH_TCP_PORT is already in use (set INFRA_CH_TCP_PORT to use another port)"
  fi

  if [[ -n "${CH_INSTALL_PID:-}" ]]; then
    wait "$CH_INSTALL_PID" || die "clickhouse: installation failed (see above)"
    CH_INSTALL_PID=""
  fi
  ch_install
  ch_configure
  local t_start
  t_start="$(now_ms)"
  # Plain foreground process in its own session (no --daemon); $! is the server itself.
  setsid "$(ch_server_bin)" "--config-file=$CH_CONFIG" </dev/null >>"$CH_LOGS/stdout.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$CH_PID_FILE"
  echo "$CH_HTTP_PORT $CH_TCP_PORT" >"$CH_HOME/running.ports"
  log "clickhouse: started server (pid $pid), waiting for SELECT 1 at $url ..."
  ch_wait_ready "$pid" "$url"
  v="$(ch_query "$url" 'SELECT version()' || echo '?')"
  log "clickhouse: $v ready at $url (native tcp 127.0.0.1:$CH_TCP_PORT) after $(elapsed "$t_start") (total $(elapsed "$t0"))"
}

ch_down() {
  local pid p
  pid="$(ch_pid)"
  if [[ -z "$pid" ]]; then
    pid="$(find_by_marker "--config-file=$CH_CONFIG" | head -n 1)"
    [[ -n "$pid" ]] && warn "clickhouse: our server (pid $pid) had no pid file; stopping it anyway"
  fi
  if [[ -z "$pid" ]]; then
    [[ -f "$CH_PID_FILE" ]] && log "clickhouse: stale pid file removed (process gone)"
    rm -f "$CH_PID_FILE"
    if ch_external; then
      log "clickhouse: external (CLICKHOUSE_URL), nothing to stop"
    else
      log "clickhouse: not running (nothing started by infra.sh)"
    fi
    return 0
  fi
  log "clickhouse: stopping server (pid $pid) ..."
  stop_pid clickhouse "$pid"
  rm -f "$CH_PID_FILE"
  for p in $(find_by_marker "--config-file=$CH_CONFIG"); do
    stop_pid "clickhouse (leftover)" "$p"
  done
}

ch_status() {
  local pid url v
  if ! command -v curl >/dev/null 2>&1; then
    echo "clickhouse: unknown   (curl missing)"
    return 1
  fi
  url="$(ch_url)"
  if ch_external; then
    if ch_answers "$url"; then
      v="$(ch_query "$url" 'SELECT version()' || echo '?')"
      echo "clickhouse: external  url=$url version=$v"
      return 0
    fi
    echo "clickhouse: external  url=$url NOT ANSWERING"
    return 1
  fi
  pid="$(ch_pid)"
  local note=""
  if [[ -z "$pid" ]]; then
    pid="$(find_by_marker "--config-file=$CH_CONFIG" | head -n 1)"
    [[ -n "$pid" ]] && note=" (ours, pid file missing: 'up' adopts it, 'down' stops it)"
  fi
  if ch_answers "$url"; then
    v="$(ch_query "$url" 'SELECT version()' || echo '?')"
    if [[ -n "$pid" ]]; then
      echo "clickhouse: running   pid=$pid version=$v http_port=$CH_HTTP_PORT tcp_port=$CH_TCP_PORT data=.cache/clickhouse/data logs=.cache/clickhouse/logs$note"
    else
      echo "clickhouse: running   external (not started by infra.sh) http_port=$CH_HTTP_PORT version=$v"
    fi
    return 0
  fi
  if [[ -n "$pid" ]]; then
    echo "clickhouse: starting  pid=$pid http_port=$CH_HTTP_PORT (process alive, not answering yet)"
    return 1
  fi
  echo "clickhouse: stopped   http_port=$CH_HTTP_PORT tcp_port=$CH_TCP_PORT ($(ch_server_bin >/dev/null && echo "clickhouse-server installed" || echo "clickhouse-server not installed"))"
  return 1
}

# ----------------------------------------------------------------------------- commands

with_lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/infra.lock"
  if ! flock -w 300 9; then
    die "another 'infra.sh' is running (lock $CACHE/infra.lock held for 300 s)"
  fi
}

cmd_up() {
  local t0
  t0="$(now_ms)"
  require_base_tools
  with_lock
  preflight_up
  # Cold start: install the ClickHouse package while Maven downloads the Kafka jars.
  CH_INSTALL_PID=""
  # never leave apt/dpkg running (or kill it half-way) if Kafka fails first
  trap 'if [[ -n "${CH_INSTALL_PID:-}" ]]; then wait "$CH_INSTALL_PID" 2>/dev/null || true; fi' EXIT
  if ! ch_external && ! ch_server_bin >/dev/null && ! tcp_open 127.0.0.1 "$CH_HTTP_PORT"; then
    ( ch_install ) 9>&- &
    CH_INSTALL_PID=$!
  fi
  kafka_up
  ch_up
  log "up: done in $(elapsed "$t0")"
  cmd_env >&2
}

cmd_down() {
  local t0
  t0="$(now_ms)"
  with_lock
  # Both stop in parallel (each waits for its own process to exit).
  local rc=0 kpid cpid
  kafka_down 9>&- & kpid=$!
  ch_down 9>&- & cpid=$!
  wait "$kpid" || rc=1
  wait "$cpid" || rc=1
  log "down: done in $(elapsed "$t0")"
  return $rc
}

cmd_status() {
  local rc=0
  kafka_status || rc=3
  ch_status || rc=3
  return $rc
}

cmd_env() {
  if kafka_external; then echo "KAFKA_BROKERS=$KAFKA_BROKERS"; else echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"; fi
  echo "CLICKHOUSE_URL=$(ch_url)"
}

usage() {
  sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
}

# When our servers run, default to the ports they were started with
# (so status/env/down agree with an `up` that used INFRA_* port overrides).
use_running_ports() {
  local a b
  if [[ -z "${INFRA_KAFKA_PORT:-}${INFRA_KAFKA_CONTROLLER_PORT:-}" && -s "$KAFKA_HOME/running.ports" && -n "$(kafka_pid)" ]]; then
    read -r a b <"$KAFKA_HOME/running.ports" && [[ -n "$a" && -n "$b" ]] && KAFKA_PORT="$a" KAFKA_CONTROLLER_PORT="$b"
  fi
  if [[ -z "${INFRA_CH_HTTP_PORT:-}${INFRA_CH_TCP_PORT:-}" && -s "$CH_HOME/running.ports" && -n "$(ch_pid)" ]]; then
    read -r a b <"$CH_HOME/running.ports" && [[ -n "$a" && -n "$b" ]] && CH_HTTP_PORT="$a" CH_TCP_PORT="$b"
  fi
  return 0
}

main() {
  local cmd="${1:-}"
  use_running_ports
  case "$cmd" in
    up)     cmd_up ;;
    down)   cmd_down ;;
    status) cmd_status ;;
    env)    cmd_env ;;
    fetch)  require_base_tools; with_lock; kafka_fetch ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
