#!/usr/bin/env bash
# A real Apache Kafka (KRaft) on loopback for the tests, the demo and
# bench_e2e: the jars pinned by deploy/kafka/pom.xml, collected once with
# Maven into a cache outside the build, run as one combined broker+controller
# or as a 3-node cluster (one cluster id, static voters). Source it, or run it:
#   scripts/kafka.sh fetch                 collect the jars (Maven Central)
#   scripts/kafka.sh start DIR [NODES]     start NODES (1 or 3) under DIR, wait
#                                          until a metadata request succeeds,
#                                          bootstrap address in DIR/bootstrap.txt
#   scripts/kafka.sh stop DIR              stop every node started under DIR
# Sourced, it gives sc_kafka_fetch, sc_kafka_start DIR [NODES] (-> SC_BOOTSTRAP,
# SC_KAFKA_PIDS), sc_kafka_kill NODE / sc_kafka_restart NODE (failover tests)
# and sc_kafka_stop. Every wait is bounded.
# Environment: SC_KAFKA_CACHE (~/.cache/socialcare), SC_KAFKA_HEAP (-Xmx256m).

_sc_kafka_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SC_KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' \
  "$_sc_kafka_src/deploy/kafka/pom.xml")
SC_KAFKA_HOME=${SC_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/socialcare}/kafka-$SC_KAFKA_VERSION
SC_KAFKA_PIDS=()
SC_KAFKA_DIR=
SC_KAFKA_NODES=0

sc_kafka_fetch() {
  [ -f "$SC_KAFKA_HOME/.complete" ] && return 0
  command -v mvn >/dev/null && command -v java >/dev/null ||
    { echo "kafka: needs mvn and java (scripts/deps.sh --kafka)" >&2; return 1; }
  echo "kafka: collecting Apache Kafka $SC_KAFKA_VERSION into $SC_KAFKA_HOME" >&2
  rm -rf "$SC_KAFKA_HOME.tmp"
  mkdir -p "$SC_KAFKA_HOME.tmp"
  (cd "$_sc_kafka_src/deploy/kafka" &&
     mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
       -DoutputDirectory="$SC_KAFKA_HOME.tmp/libs") >&2 || return 1
  rm -rf "$SC_KAFKA_HOME"
  mv "$SC_KAFKA_HOME.tmp" "$SC_KAFKA_HOME"
  touch "$SC_KAFKA_HOME/.complete"
}

_sc_kafka_java() { # log-config main args...   (SC_KAFKA_EXEC=1: exec, in a subshell)
  local log=$1; shift
  ${SC_KAFKA_EXEC:+exec} java -Xms64m "${SC_KAFKA_HEAP:--Xmx256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$log" \
    -cp "$SC_KAFKA_HOME/libs/*" "$@"
}

. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

# One node's server.properties: every node is broker and controller, RF and
# min.insync.replicas follow the cluster size (3 nodes: RF 3, min ISR 2).
_sc_kafka_props() { # id dir bport cport voters nodes
  local rf=1 isr=1
  [ "$6" -ge 3 ] && { rf=3; isr=2; }
  cat <<EOF
process.roles=broker,controller
node.id=$1
controller.quorum.voters=$5
listeners=PLAINTEXT://127.0.0.1:$3,CONTROLLER://127.0.0.1:$4
advertised.listeners=PLAINTEXT://127.0.0.1:$3
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$2/data
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.segment.bytes=16777216
log.retention.check.interval.ms=60000
unclean.leader.election.enable=false
EOF
}

_sc_kafka_up() { # node
  local n=$1 d=$SC_KAFKA_DIR/node$1 pid owner=${SC_KAFKA_OWNER-$$}
  # exec: $! is the JVM itself, not a subshell waiting for it
  (SC_KAFKA_EXEC=1 _sc_kafka_java "$SC_KAFKA_DIR/log4j2.properties" kafka.Kafka \
     "$d/server.properties") >>"$d/kafka.log" 2>&1 &
  pid=$!
  SC_KAFKA_PIDS[$n]=$pid
  # A test killed from outside (ctest's timeout) runs no trap: the node goes
  # with the shell that started it instead of outliving it.
  if [ -n "$owner" ]; then
    # (only while that PID is still this broker: PIDs get reused)
    (while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
     grep -qa kafka.Kafka "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid") \
      </dev/null >/dev/null 2>&1 &
  fi
}

# Ready when a metadata request through librdkafka (kcat) lists every node.
_sc_kafka_wait() { # want_brokers timeout_s
  local deadline=$((SECONDS + $2)) n
  while [ $SECONDS -lt $deadline ]; do
    n=$(kcat -L -b "$SC_BOOTSTRAP" -m 3 2>/dev/null | sed -n 's/^ *\([0-9]*\) brokers:.*/\1/p')
    [ -n "$n" ] && [ "$n" -ge "$1" ] && return 0
    for p in "${SC_KAFKA_PIDS[@]}"; do
      kill -0 "$p" 2>/dev/null || { echo "kafka: a node exited" >&2; tail -30 "$SC_KAFKA_DIR"/node*/kafka.log >&2; return 1; }
    done
    sleep 0.5
  done
  echo "kafka: not ready after $2 s ($n of $1 brokers)" >&2
  tail -30 "$SC_KAFKA_DIR"/node*/kafka.log >&2
  return 1
}

sc_kafka_start() { # dir [nodes]
  SC_KAFKA_DIR=$1 SC_KAFKA_NODES=${2:-1}
  sc_kafka_fetch || return 1
  local i voters="" boot="" id
  local -a bports cports
  for i in $(seq 1 "$SC_KAFKA_NODES"); do
    bports[$i]=$(sc_free_port)
    cports[$i]=$(sc_free_port)
    voters+="${voters:+,}$i@127.0.0.1:${cports[$i]}"
    boot+="${boot:+,}127.0.0.1:${bports[$i]}"
  done
  cat >"$SC_KAFKA_DIR/log4j2.properties" <<'EOF'
status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = info
EOF
  id=$(_sc_kafka_java "$SC_KAFKA_DIR/log4j2.properties" kafka.tools.StorageTool random-uuid) ||
    return 1
  for i in $(seq 1 "$SC_KAFKA_NODES"); do
    mkdir -p "$SC_KAFKA_DIR/node$i"
    _sc_kafka_props "$i" "$SC_KAFKA_DIR/node$i" "${bports[$i]}" "${cports[$i]}" "$voters" \
      "$SC_KAFKA_NODES" >"$SC_KAFKA_DIR/node$i/server.properties"
    _sc_kafka_java "$SC_KAFKA_DIR/log4j2.properties" kafka.tools.StorageTool format \
      -t "$id" -c "$SC_KAFKA_DIR/node$i/server.properties" --ignore-formatted \
      >"$SC_KAFKA_DIR/node$i/format.log" 2>&1 ||
      { cat "$SC_KAFKA_DIR/node$i/format.log" >&2; return 1; }
  done
  SC_BOOTSTRAP=$boot
  export SC_BOOTSTRAP
  for i in $(seq 1 "$SC_KAFKA_NODES"); do _sc_kafka_up "$i"; done
  _sc_kafka_wait "$SC_KAFKA_NODES" 120 || { sc_kafka_stop; return 1; }
  echo "$SC_BOOTSTRAP" >"$SC_KAFKA_DIR/bootstrap.txt"
  printf '%s\n' "${SC_KAFKA_PIDS[@]}" >"$SC_KAFKA_DIR/kafka.pids"
}

# Failover: SIGKILL one node (no clean shutdown, no leader hand-over).
sc_kafka_kill() { # node
  local p=${SC_KAFKA_PIDS[$1]:-}
  [ -n "$p" ] || return 0
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  SC_KAFKA_PIDS[$1]=
}

sc_kafka_restart() { # node
  sc_kafka_kill "$1"
  _sc_kafka_up "$1"
  printf '%s\n' "${SC_KAFKA_PIDS[@]}" >"$SC_KAFKA_DIR/kafka.pids"
  _sc_kafka_wait "$SC_KAFKA_NODES" 120
}

# Clean stop (SIGTERM: controlled shutdown), SIGKILL after 30 s.
sc_kafka_stop() {
  sc_stop_pids 300 "${SC_KAFKA_PIDS[@]}"
  SC_KAFKA_PIDS=()
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    fetch) sc_kafka_fetch ;;
    start)
      dir=$(mkdir -p "${2:?usage: kafka.sh start DIR [NODES]}" && cd "$2" && pwd)
      # Detached: the nodes outlive this script until `kafka.sh stop DIR`.
      SC_KAFKA_OWNER=""
      sc_kafka_start "$dir" "${3:-1}"
      echo "$SC_BOOTSTRAP"
      ;;
    stop)
      dir=${2:?usage: kafka.sh stop DIR}
      [ -f "$dir/kafka.pids" ] || exit 0
      mapfile -t SC_KAFKA_PIDS < <(grep . "$dir/kafka.pids")
      sc_stop_pids 300 "${SC_KAFKA_PIDS[@]}"
      rm -f "$dir/kafka.pids"
      ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
fi
