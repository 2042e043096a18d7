# Local stack for tests and the demo: a devbroker and a redis-server on free
# loopback ports, owned by the calling script. Source it, then:
#   sc_start_broker DIR [partitions]  -> SC_BOOTSTRAP      (needs $SC_DEVBROKER)
#     SC_TEST_BROKER=kafka: a real Apache Kafka (scripts/kafka.sh, KRaft) with
#     SC_TEST_KAFKA_NODES nodes (1, or 3: RF 3, min.insync.replicas 2) instead,
#     every topic created up front by deploy/kafka/create-topics.sh as the
#     compose stack's kafka-init does (auto-create is off). Needs socialcarectl:
#     $SC_CTL, else found beside $SC_DEVBROKER in the build.
#   sc_start_redis DIR                -> SC_REDIS_PORT, SC_REDIS_URL
#   sc_stop_redis / sc_restart_redis / sc_stop_broker
#   sc_broker_ctl CMD...              devbroker fault control: down | up |
#                                     "produce_errors N CODE" (waits for it)
#   SC_REDIS_AOF=1                    redis with appendonly yes: a restart keeps
#                                     the data (sc_restart_redis = crash + recover)
#   sc_start_webhook DIR PORT SECRET  -> SC_HOOK_PID  (tests/alert/webhook_server.py;
#                                       requests logged to DIR/requests.jsonl)
#   sc_cleanup                        stops whatever is still running
# Every wait is bounded so a broken stack fails the test instead of hanging.

SC_BROKER_PID=
SC_REDIS_PID=
SC_REDIS_DIR=

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/proc.sh"

sc_start_broker() { # dir [partitions]
  if [ "${SC_TEST_BROKER:-devbroker}" = kafka ]; then
    _sc_start_kafka "$@"
    return
  fi
  local dir=$1 parts=${2:-3} file=$1/bootstrap.txt i
  [ -x "${SC_DEVBROKER:-}" ] || { echo "stack: SC_DEVBROKER not set or not executable" >&2; return 1; }
  rm -f "$file"
  SC_BROKER_CONTROL=$dir/broker.control
  rm -f "$SC_BROKER_CONTROL"
  "$SC_DEVBROKER" --partitions "$parts" --bootstrap-file "$file" \
    --control "$SC_BROKER_CONTROL" >"$dir/devbroker.log" 2>&1 &
  SC_BROKER_PID=$!
  for i in $(seq 1 100); do
    [ -s "$file" ] && break
    kill -0 "$SC_BROKER_PID" 2>/dev/null || { cat "$dir/devbroker.log" >&2; return 1; }
    sleep 0.1
  done
  [ -s "$file" ] || { echo "stack: devbroker did not start" >&2; return 1; }
  SC_BOOTSTRAP=$(cat "$file")
  export SC_BOOTSTRAP
}

_sc_start_kafka() { # dir [partitions]
  local src
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  . "$src/scripts/kafka.sh"
  if [ -z "${SC_CTL:-}" ] && [ -n "${SC_DEVBROKER:-}" ]; then
    SC_CTL=$(dirname "$SC_DEVBROKER")/../ctl/socialcarectl
  fi
  [ -x "${SC_CTL:-}" ] || { echo "stack: SC_CTL (socialcarectl) not found" >&2; return 1; }
  export SC_CTL
  mkdir -p "$1/kafka"
  sc_kafka_start "$1/kafka" "${SC_TEST_KAFKA_NODES:-1}" || return 1
  local rf=1
  [ "${SC_TEST_KAFKA_NODES:-1}" -ge 3 ] && rf=3
  BOOTSTRAP=$SC_BOOTSTRAP PARTITIONS=${2:-3} REPLICATION=$rf \
    KAFKA_TOPICS="$src/tests/lib/kafka_topics.sh" \
    bash "$src/deploy/kafka/create-topics.sh" >"$1/kafka/topics.log" 2>&1 ||
    { cat "$1/kafka/topics.log" >&2; return 1; }
  cp "$1/kafka/bootstrap.txt" "$1/bootstrap.txt"
}

sc_broker_ctl() { # command lines...
  local i
  printf '%s\n' "$@" >"$SC_BROKER_CONTROL.tmp"
  mv "$SC_BROKER_CONTROL.tmp" "$SC_BROKER_CONTROL"
  for i in $(seq 1 100); do
    [ -e "$SC_BROKER_CONTROL" ] || return 0
    sleep 0.1
  done
  echo "stack: devbroker did not take the control command" >&2
  return 1
}

sc_stop_broker() {
  if [ "${SC_TEST_BROKER:-devbroker}" = kafka ]; then
    declare -F sc_kafka_stop >/dev/null && sc_kafka_stop
    return 0
  fi
  if [ -n "$SC_BROKER_PID" ]; then
    kill -TERM "$SC_BROKER_PID" 2>/dev/null || true
    wait "$SC_BROKER_PID" 2>/dev/null || true
    SC_BROKER_PID=
  fi
}

_sc_redis_up() {
  local aof=no
  [ "${SC_REDIS_AOF:-0}" = 1 ] && aof=yes
  redis-server --port "$SC_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly "$aof" \
    --appendfsync always \
    --dir "$SC_REDIS_DIR" --daemonize no --loglevel warning \
    >>"$SC_REDIS_DIR/redis.log" 2>&1 &
  SC_REDIS_PID=$!
  local i
  for i in $(seq 1 100); do
    redis-cli -p "$SC_REDIS_PORT" ping >/dev/null 2>&1 && return 0
    kill -0 "$SC_REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "stack: redis-server did not start" >&2
  cat "$SC_REDIS_DIR/redis.log" >&2
  return 1
}

sc_start_redis() { # dir
  SC_REDIS_DIR=$1
  SC_REDIS_PORT=$(sc_free_port)
  SC_REDIS_URL=redis://127.0.0.1:$SC_REDIS_PORT
  export SC_REDIS_PORT SC_REDIS_URL
  _sc_redis_up
}

sc_stop_redis() {
  if [ -n "$SC_REDIS_PID" ]; then
    kill -TERM "$SC_REDIS_PID" 2>/dev/null || true
    wait "$SC_REDIS_PID" 2>/dev/null || true
    SC_REDIS_PID=
  fi
}

# Same port, empty data (with SC_REDIS_AOF=1: the data the AOF kept): an
# outage as the workers see it.
sc_restart_redis() {
  sc_stop_redis
  _sc_redis_up
}

# A real webhook receiver on loopback that checks signatures (see
# tests/alert/webhook_server.py). The caller owns SC_HOOK_PID (kill it to take
# the target down; start again on the same PORT to bring it back).
sc_start_webhook() { # dir port secret
  local dir=$1 i
  rm -f "$dir/hook.port"
  python3 "$(dirname "${BASH_SOURCE[0]}")/../alert/webhook_server.py" --port "$2" \
    --port-file "$dir/hook.port" --log "$dir/requests.jsonl" --secret "$3" \
    >>"$dir/webhook.log" 2>&1 &
  SC_HOOK_PID=$!
  for i in $(seq 1 100); do
    [ -s "$dir/hook.port" ] && return 0
    kill -0 "$SC_HOOK_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "stack: webhook receiver did not start" >&2
  cat "$dir/webhook.log" >&2
  return 1
}

sc_cleanup() {
  sc_stop_broker
  sc_stop_redis
}

# SIGKILL what is left of PIDS: only this shell's jobs still running, since a
# PID that exited long ago (a worker killed mid-test) may by now belong to a
# process of another test (PIDs wrap quickly with kcat polled in loops).
_sc_kill_pids() {
  local live p
  jobs >/dev/null 2>&1 || true
  live=" $(jobs -pr 2>/dev/null | tr '\n' ' ') "
  for p in "${PIDS[@]}"; do
    case $live in *" $p "*) kill -9 "$p" 2>/dev/null || true ;; esac
  done
}

# The usual prologue of a stack test: a work dir, PIDS (killed on exit), a
# devbroker and a redis-server, and the environment every worker reads.
#   sc_stack_up NAME [partitions]   -> work, PIDS, SC_BOOTSTRAP, SC_REDIS_URL
sc_stack_up() {
  work=$(mktemp -d "/tmp/sc-$1.XXXXXX")
  PIDS=()
  trap '_sc_kill_pids; sc_cleanup; rm -rf "$work"' EXIT
  sc_start_broker "$work" "${2:-3}"
  sc_start_redis "$work"
  export SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS=$SC_BOOTSTRAP SOCIALCARE_REDIS_URL=$SC_REDIS_URL
}

# Records on a topic (offsets only, payload-agnostic). On real Kafka from the
# partitions' watermarks (no transactions, so one offset is one record): a
# consume to EOF chases a topic that is being written and may not return
# until the writer stops.
sc_count() {
  if [ "${SC_TEST_BROKER:-devbroker}" = kafka ]; then
    local n p q=() lo hi
    # (no partitions yet, e.g. metadata not propagated: 0, not an error)
    n=$(kcat -L -b "$SC_BOOTSTRAP" -t "$1" 2>/dev/null | grep -c '^ *partition [0-9]' || true)
    [ "$n" -gt 0 ] || { echo 0; return; }
    for p in $(seq 0 $((n - 1))); do q+=(-t "$1:$p:-1"); done
    hi=$(kcat -Q -b "$SC_BOOTSTRAP" "${q[@]}" 2>/dev/null | awk '{s += $NF} END {print s + 0}')
    q=()
    for p in $(seq 0 $((n - 1))); do q+=(-t "$1:$p:-2"); done
    lo=$(kcat -Q -b "$SC_BOOTSTRAP" "${q[@]}" 2>/dev/null | awk '{s += $NF} END {print s + 0}')
    echo $((hi - lo))
    return
  fi
  kcat -C -b "$SC_BOOTSTRAP" -t "$1" -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l
}
