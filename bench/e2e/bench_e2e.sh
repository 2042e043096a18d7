#!/usr/bin/env bash
# End to end through the real broker: N raw posts are put on social.posts.raw
# first, then the pipeline is started and timed until the last worker's output
# topic holds them all. Prints posts/s for the pipeline that exists.
#   bench/e2e/bench_e2e.sh [--kafka] BUILD_DIR [posts]
#   --kafka   on a real Apache Kafka broker (one KRaft node, scripts/kafka.sh)
#             instead of the devbroker; the broker's own CPU is printed too
set -euo pipefail
if [ "${1:-}" = --kafka ]; then
  export SC_TEST_BROKER=kafka
  shift
fi
bin=$(cd "${1:?usage: bench_e2e.sh [--kafka] BUILD_DIR [posts]}" && pwd)
N=${2:-20000}  # the local broker keeps ~5 MiB per partition (Routed records are
               # the largest, ~650 bytes): stay well under
src=$(cd "$(dirname "$0")/../.." && pwd)
find_bin() { find "$bin/services" -type f -name "$1" -perm -u+x | head -1; }
export SC_DEVBROKER=$(find_bin socialcare-devbroker)
. "$src/tests/lib/stack.sh"
sc_stack_up bench-e2e 3

export SOCIALCARE_CONFIG=$src/config/socialcare.yaml SOCIALCARE_LOG_LEVEL=warn

python3 - "$work/posts.txt" "$N" <<'PY'
import json, sys
texts = ["Trzeci dzień bez internetu, @telko_pl to skandal, zmieniam operatora!",
         "Dzięki @telko_pl za szybką wymianę routera, działa super 👍",
         "Is the @burgerhub on Main St open late tonight? Starving 🍔",
         "@bankowo zablokowaliście mi kartę bez powodu, nikt nie odbiera infolinii",
         "My car broke down on the A4, does @autofix_pl do roadside help?"]
brands = ["telko", "telko", "burgerhub", "bankowo", "autofix"]
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        k = i % len(texts)
        f.write("%s|%s\n" % (brands[k], json.dumps({
            "platform": "x", "brand": brands[k], "post_id": "b%d" % i,
            "author": {"id": "u%d" % (i % 5000), "handle": "user%d" % (i % 5000),
                       "followers": i % 10000},
            "text": texts[k], "lang": "pl", "created_at": "2026-11-20T10:00:00Z"},
            ensure_ascii=False)))
PY
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -K '|' -l "$work/posts.txt"

count() { sc_count "$1"; }
# consumed COUNT of a worker's input topic, from its /metrics
consumed() { # port topic
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v t="topic=\"$2\"" '/^socialcare_messages_in_total\{/ && index($0, t) { s += $NF } END { print s + 0 }'
}
last=social.posts
declare -A port
for w in ingest classify route track alert; do
  exe=$(find_bin "socialcare-$w")
  [ -n "$exe" ] || continue
  port[$w]=$(sc_free_port)
  "$exe" -o kafka.session.timeout.ms=6000 -o metrics.bind=127.0.0.1 -o metrics.port="${port[$w]}" \
    >"$work/$w.log" 2>&1 &
  PIDS+=($!)
  case $w in ingest) last=social.posts ;; classify) last=social.posts.enriched ;; route) last=care.routed ;; esac
done
# Done when the last per-post topic holds every post and the consumers at the
# end of the pipeline (track, alert) have consumed them all.
drained() {
  [ "$(count "$last")" -ge "$N" ] || return 1
  [ -z "${port[track]:-}" ] || [ "$(consumed "${port[track]}" care.routed)" -ge "$N" ] || return 1
  [ -z "${port[alert]:-}" ] || [ "$(consumed "${port[alert]}" social.posts.enriched)" -ge "$N" ] || return 1
}
t0=$(date +%s.%N)
deadline=$((SECONDS + 300))
until drained; do
  [ $SECONDS -lt $deadline ] || { echo "bench_e2e: timed out; $(count "$last") of $N on $last"; exit 1; }
  sleep 0.2
done
t1=$(date +%s.%N)
cpu_ticks=0 per_worker=""
for p in "${PIDS[@]}"; do
  t=$(awk '{print $14 + $15}' "/proc/$p/stat")
  cpu_ticks=$((cpu_ticks + t))
done
# CPU per process, by name, and redis-server's (the Lua scripts run there);
# on real Kafka the broker's JVM too.
for p in "${PIDS[@]}" "$SC_REDIS_PID" ${SC_KAFKA_PIDS[@]+"${SC_KAFKA_PIDS[@]}"}; do
  name=$(tr '\0' ' ' <"/proc/$p/cmdline" | awk '{print $1}' | xargs basename)
  [ "$name" = java ] && name=kafka-broker
  per_worker+="$name=$(awk '{print $14 + $15}' "/proc/$p/stat") "
done
# Redis commands per post (those the scripts run included), by command: the
# claims of ingest and alert, alert's spike state and track's calls.
redis-cli -u "$SC_REDIS_URL" info commandstats | tr -d '\r' >"$work/cmdstats.txt"
python3 - "$work/cmdstats.txt" "$N" <<'PY'
import re, sys
n = int(sys.argv[2])
c = {}
for l in open(sys.argv[1]):
    m = re.match(r"cmdstat_([^:]+):calls=(\d+)", l)
    if m and m.group(1) not in ("info", "ping", "client|setname", "script|load", "flushall"):
        c[m.group(1)] = int(m.group(2))
print("e2e redis commands per post: %.2f in total (%s)" % (sum(c.values()) / n, ", ".join(
    "%s %.2f" % (k, v / n) for k, v in sorted(c.items(), key=lambda kv: -kv[1]))))
PY
# The steady rate comes from the output records' own produce timestamps
# (first to last), so the consumer-group join (~3 s on the local broker) and
# this script's polling do not count as pipeline time.
kcat -C -b "$SC_BOOTSTRAP" -t "$last" -o beginning -e -q -f '%T\n' >"$work/ts.txt" 2>/dev/null
python3 - "$work/ts.txt" "$N" "$t0" "$t1" "raw -> $last (${SC_TEST_BROKER:-devbroker})" "$cpu_ticks" "$(getconf CLK_TCK)" "${!port[*]}" "$per_worker" <<'PY'
import sys
ts = [int(l) for l in open(sys.argv[1]) if l.strip()]
n, wall = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
span = max(max(ts) - min(ts), 1) / 1000.0
print("e2e %s: %d posts, %.0f posts/s (first to last output record: %.2f s); "
      "%.2f s wall incl. startup and group join" % (sys.argv[5], n, n / span, span, wall))
cpu = int(sys.argv[6]) / int(sys.argv[7])
print("e2e CPU of the workers %s (user+sys, incl. startup): %.2f s, %.1f us/post" % (sys.argv[8], cpu, cpu * 1e6 / n))
hz = int(sys.argv[7])
print("e2e CPU per process, us/post: " + ", ".join(
    "%s %.1f" % (kv.split("=")[0].replace("socialcare-", ""), int(kv.split("=")[1]) / hz * 1e6 / n)
    for kv in sys.argv[9].split()))
PY
