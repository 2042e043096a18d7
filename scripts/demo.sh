#!/usr/bin/env bash
# The main job on the embedded local stack: installs what is missing, builds,
# starts the local broker + Redis + every worker, feeds the sample posts and
# shows what came out, then stops everything it started.
#   ./scripts/demo.sh [--kafka] [posts.jsonl]
#   --kafka   on a real Apache Kafka broker (KRaft, scripts/kafka.sh; JDK and
#             Maven installed, the jars fetched once) instead of the devbroker
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ "${1:-}" = --kafka ]; then
  export SC_TEST_BROKER=kafka
  shift
fi
samples=${1:-$root/samples/sample-posts.jsonl}

if [ "${SC_TEST_BROKER:-}" = kafka ]; then scripts/deps.sh --kafka; else scripts/deps.sh; fi
echo "== building"
cmake -S "$root" -B "$root/build/demo" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build/demo" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
bin=$root/build/demo
find_bin() { find "$bin/services" -type f -name "$1" -perm -u+x | head -1; }
export SC_DEVBROKER=$(find_bin socialcare-devbroker)
CTL=$(find_bin socialcarectl)
export SC_CTL=$CTL

. "$root/tests/lib/stack.sh"
work=$(mktemp -d /tmp/socialcare-demo.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  sc_cleanup
  rm -rf "$work"
}
trap cleanup EXIT

if [ "${SC_TEST_BROKER:-}" = kafka ]; then
  echo "== starting Apache Kafka (KRaft, one node) + redis-server on loopback; topics created"
else
  echo "== starting devbroker + redis-server on loopback"
fi
sc_start_broker "$work" 3
sc_start_redis "$work"
echo "   kafka $SC_BOOTSTRAP   redis $SC_REDIS_URL"
export SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS=$SC_BOOTSTRAP SOCIALCARE_REDIS_URL=$SC_REDIS_URL
# A webhook receiver on loopback for the alert worker (it verifies the
# HMAC signature of every request), and the deployment file with it as target.
hook_port=$(sc_free_port)
sc_start_webhook "$work" "$hook_port" demo-secret
PIDS+=("$SC_HOOK_PID")
python3 - "$root/config/socialcare.yaml" "$work/socialcare.yaml" "$hook_port" <<'PY'
import sys
src, dst, port = sys.argv[1:4]
text = open(src).read()
target = ("  targets:\n"
          "    - id: demo-receiver\n"
          "      url: http://127.0.0.1:%s/ok/demo\n"
          "      format: json\n"
          "      secret: demo-secret\n" % port)
assert "  targets: []\n" in text, "alert.targets not found in the deployment file"
open(dst, "w").write(text.replace("  targets: []\n", target, 1))
PY
export SOCIALCARE_CONFIG=$work/socialcare.yaml
echo "   webhook receiver http://127.0.0.1:$hook_port (signatures checked)"

# The devbroker answers an empty fetch only after the whole fetch.wait.max.ms
# (500 ms by default; Kafka answers when data arrives): shorter, so each stage
# picks up the next post at once (README, "The local broker").
fetch_opts=()
[ "${SC_TEST_BROKER:-}" = kafka ] || fetch_opts=(-o kafka.consumer.fetch.wait.max.ms=50)
workers=() ports=()
for w in ingest classify route track alert; do
  exe=$(find_bin "socialcare-$w")
  [ -n "$exe" ] || continue
  port=$(sc_free_port)
  "$exe" -o kafka.session.timeout.ms=6000 "${fetch_opts[@]}" -o metrics.bind=127.0.0.1 -o metrics.port="$port" \
    >"$work/$w.log" 2>&1 &
  PIDS+=($!)
  workers+=("$w")
  ports+=("$port")
done
echo "   workers: ${workers[*]}"

echo "== feeding $(wc -l <"$samples") raw messages from $(basename "$samples")"
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$samples"

count() { sc_count "$1"; }
topics=(social.posts.raw social.posts social.posts.enriched care.routed care.queue.care
        care.queue.sales care.queue.pr care.queue.community care.sla care.alerts
        social.posts.raw.dlq social.posts.dlq social.posts.enriched.dlq care.routed.dlq)
snapshot() { for t in "${topics[@]}"; do printf '%s=%s ' "$t" "$(count "$t")"; done; }

# The pipeline has drained when nothing moved for a few seconds.
prev="" stable=0 deadline=$((SECONDS + 90))
while [ $SECONDS -lt $deadline ] && [ $stable -lt 3 ]; do
  sleep 2
  now=$(snapshot)
  if [ "$now" = "$prev" ] && [ "$(count social.posts)" -gt 0 ]; then stable=$((stable + 1)); else stable=0; fi
  prev=$now
done

echo
echo "== records per topic"
for t in "${topics[@]}"; do printf '   %-28s %5d\n' "$t" "$(count "$t")"; done

last=social.posts
for t in social.posts.enriched care.routed; do [ "$(count "$t")" -gt 0 ] && last=$t; done
echo
echo "== a few decoded records from $last"
"$CTL" consume -b "$SC_BOOTSTRAP" -t "$last" -n 200 --timeout 5 | python3 "$root/scripts/show.py" records 6

echo
echo "== dead letters (social.posts.raw.dlq)"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.raw.dlq -n 50 --timeout 5 | python3 "$root/scripts/show.py" dlq

if [ "$(count care.alerts)" -gt 0 ]; then
  echo
  echo "== alerts"
  "$CTL" consume -b "$SC_BOOTSTRAP" -t care.alerts -n 50 --timeout 5 | python3 "$root/scripts/show.py" alerts
fi

if [ -s "$work/requests.jsonl" ]; then
  echo
  echo "== webhooks received by the loopback receiver"
  python3 - "$work/requests.jsonl" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = sum(1 for r in reqs if r.get("sig_ok"))
print("   %d requests, %d with a valid X-Socialcare-Signature" % (len(reqs), ok))
for r in reqs[:8]:
    b = r.get("body") or {}
    print("   %s %-9s %-9s %s" % (r.get("status"), b.get("severity", "?"), b.get("brand", "?"), r.get("alert_id")))
if len(reqs) > 8:
    print("   ... and %d more" % (len(reqs) - 8))
PY
fi

if "$CTL" stats --help >/dev/null 2>&1; then
  echo
  echo "== reply rate and first response (socialcarectl stats)"
  "$CTL" stats --redis "$SC_REDIS_URL" --from 2026-11-01 --to 2026-12-31 || true
fi

echo
echo
echo "== worker counters (GET /metrics)"
for i in "${!workers[@]}"; do
  curl -fsS "http://127.0.0.1:${ports[$i]}/metrics" 2>/dev/null |
    grep -E '^socialcare_(messages_(in|out)_total|dlq_messages_total|(ingest|classify|route|track|sla|alerts|webhook)_[a-z_]+_total)' | grep -v ' 0$' |
    sed "s/^/   /"
done

echo "== stopping (SIGTERM: workers finish in-flight work and commit)"
