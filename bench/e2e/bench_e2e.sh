#!/usr/bin/env bash
# End to end through the real broker and redis-server, sustained: every worker
# is started and warmed up (1000 posts through all five, groups joined), then
# N posts are produced to social.posts.raw while the pipeline runs, and each
# stage is timed from that first input to the poll at which it had processed
# all of them (track: its Redis writes for the last post; alert: its last
# input, care.sla included). Prints posts/s per stage and for the pipeline,
# CPU per post per process (steady state: start-up and warm-up excluded) and
# Redis commands per post by command (INFO commandstats, zeroed after the
# warm-up). Bounded in time, loopback only.
#   bench/e2e/bench_e2e.sh [--kafka] [--split-redis] BUILD_DIR [posts [partitions]]
#   --kafka        on a real Apache Kafka broker (one KRaft node, scripts/kafka.sh)
#                  instead of the devbroker; the broker's own CPU is printed too
#   --split-redis  one redis-server per worker that uses Redis (ingest, track,
#                  alert), so commands and redis-server CPU per post are split
#                  by worker (their keys never overlap)
#   posts          200000 by default; partitions of every topic: 32. The
#                  devbroker keeps ~5 MiB per partition: the raw input (~330
#                  bytes a post) is spread over all partitions, the later
#                  topics are keyed by brand (4 here), so a consumer more than
#                  ~8000 records behind on a brand's partition loses records
#                  (the bench then says so and fails)
set -euo pipefail
split=0
while :; do
  case ${1:-} in
    --kafka) export SC_TEST_BROKER=kafka; shift ;;
    --split-redis) split=1; shift ;;
    *) break ;;
  esac
done
bin=$(cd "${1:?usage: bench_e2e.sh [--kafka] [--split-redis] BUILD_DIR [posts [partitions]]}" && pwd)
N=${2:-200000}
P=${3:-32}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
find_bin() { find "$bin/services" -type f -name "$1" -perm -u+x | head -1; }
export SC_DEVBROKER=$(find_bin socialcare-devbroker)
. "$src/tests/lib/stack.sh"
sc_stack_up bench-e2e "$P"
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml SOCIALCARE_LOG_LEVEL=warn

# redis-servers: the stack's one, or one per Redis-using worker.
declare -A rport rpid
rport[all]=$SC_REDIS_PORT rpid[all]=$SC_REDIS_PID
if [ $split = 1 ]; then
  unset 'rport[all]' 'rpid[all]'
  for w in ingest track alert; do
    rport[$w]=$(sc_free_port)
    mkdir -p "$work/redis-$w"
    redis-server --port "${rport[$w]}" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$work/redis-$w" --daemonize no --loglevel warning >"$work/redis-$w.log" 2>&1 &
    rpid[$w]=$!
    PIDS+=($!)
    for i in $(seq 1 100); do
      redis-cli -p "${rport[$w]}" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
fi

# The devbroker answers a fetch that finds nothing new only after the
# consumer's whole fetch.wait.max.ms (librdkafka's mock Fetch handler does not
# cut the wait short when data arrives; Kafka does): with librdkafka's 500 ms
# every stage that has caught up idles up to half a second, and the run
# measures that wait instead of the workers. Real Kafka keeps the default.
fetch_opts=()
[ "${SC_TEST_BROKER:-devbroker}" = devbroker ] && fetch_opts=(-o kafka.consumer.fetch.wait.max.ms=50)

conf=$work/conf.json
{
  printf '{"posts": %d, "warmup": 1000, "partitions": %d, "timeout": 300, "hz": %d,\n' \
    "$N" "$P" "$(getconf CLK_TCK)"
  printf ' "work": "%s", "bootstrap": "%s", "broker": "%s",\n' "$work" "$SC_BOOTSTRAP" \
    "${SC_TEST_BROKER:-devbroker}"
  printf ' "redis": {'
  sep=
  for k in "${!rport[@]}"; do
    printf '%s"%s": {"port": %d, "pid": %d}' "$sep" "$k" "${rport[$k]}" "${rpid[$k]}"
    sep=", "
  done
  printf '},\n "others": {'
  sep=
  [ -n "${SC_BROKER_PID:-}" ] && printf '"devbroker": %d' "$SC_BROKER_PID" && sep=", "
  for p in ${SC_KAFKA_PIDS[@]+"${SC_KAFKA_PIDS[@]}"}; do
    printf '%s"kafka-broker%s": %d' "$sep" "${sep:+-$p}" "$p"
    sep=", "
  done
  printf '},\n "workers": {'
  sep=
  for w in ingest classify route track alert; do
    exe=$(find_bin "socialcare-$w")
    [ -n "$exe" ] || continue
    port=$(sc_free_port)
    url=$SC_REDIS_URL
    [ $split = 1 ] && [ -n "${rport[$w]:-}" ] && url=redis://127.0.0.1:${rport[$w]}
    SOCIALCARE_REDIS_URL=$url "$exe" -o kafka.session.timeout.ms=6000 "${fetch_opts[@]}" \
      -o metrics.bind=127.0.0.1 -o metrics.port="$port" >"$work/$w.log" 2>&1 &
    PIDS+=($!)
    printf '%s"%s": {"port": %d, "pid": %d}' "$sep" "$w" "$port" "$!"
    sep=", "
  done
  printf '}}\n'
} >"$conf"
python3 "$here/bench_e2e.py" "$conf" || {
  rc=$?
  for w in ingest classify route track alert; do
    [ -s "$work/$w.log" ] && { echo "--- $w.log (tail)"; tail -5 "$work/$w.log"; }
  done
  exit $rc
}
