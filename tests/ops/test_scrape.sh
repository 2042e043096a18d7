#!/usr/bin/env bash
# The operations endpoint of real workers: ingest + classify on a devbroker and
# a redis-server, scraped with curl. Checks that the exposition passes a strict
# parser (expo.py), that the series dashboards and alert rules read exist from
# the start, that counters and the latency histogram move by exactly what the
# posts fed imply, that consumer lag is exported per partition, that /readyz
# follows a Redis outage (and its end) with no traffic, and that /healthz turns
# 503 with a reason once the broker is gone.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 SC_DEVBROKER=$3
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
EXPO="python3 $src/tests/ops/expo.py"
. "$src/tests/lib/stack.sh"
sc_stack_up ops-scrape 3
fail() {
  echo "FAIL: $*"
  for f in ingest classify; do echo "--- $f log"; tail -20 "$work/$f.log"; done
  exit 1
}

# ---- 0. the checker itself rejects what it must --------------------------------
bad() { # name text: the checker must reject text
  printf '%b' "$2" >"$work/bad.txt"
  if $EXPO check "$work/bad.txt" >/dev/null 2>&1; then fail "expo.py accepted $1"; fi
}
bad "a second TYPE" '# TYPE a counter\na 1\n# TYPE a counter\n'
bad "no +Inf bucket" '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'
bad "_count != +Inf" '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'
bad "bad label escape" '# TYPE a counter\na{x="\\q"} 1\n'
bad "split family" '# TYPE a counter\na{x="1"} 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n'
bad "duplicate series" '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'
printf '# HELP a x\n# TYPE a counter\na{x="q\\"\\\\"} 1\n' >"$work/good.txt"
$EXPO check "$work/good.txt" >/dev/null || fail "expo.py rejected a valid exposition"

# ---- 1. two workers with metrics ports ------------------------------------------
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
IP=$(sc_free_port) CP=$(sc_free_port)
"$INGEST" -o kafka.session.timeout.ms=6000 -o metrics.port="$IP" -o metrics.bind=127.0.0.1 \
  >"$work/ingest.log" 2>&1 &
PIDS+=($!)
"$CLASSIFY" -o kafka.session.timeout.ms=6000 -o metrics.port="$CP" -o metrics.bind=127.0.0.1 \
  >"$work/classify.log" 2>&1 &
PIDS+=($!)

code() { curl -s -o "$work/body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2" || true; }
wait_code() { # port path code timeout_s
  local deadline=$((SECONDS + $4)) c=
  while [ $SECONDS -lt $deadline ]; do
    c=$(code "$1" "$2"); [ "$c" = "$3" ] && return 0; sleep 0.5
  done
  fail "GET :$1$2 is $c ($(cat "$work/body" 2>/dev/null)), want $3 within $4 s"
}
scrape() { # port name -> $work/name.prom, strictly checked
  curl -sf --max-time 5 -D "$work/$2.hdr" "http://127.0.0.1:$1/metrics" >"$work/$2.prom" ||
    fail "scrape of $2 failed"
  grep -qi '^content-type: text/plain; version=0.0.4' "$work/$2.hdr" ||
    fail "$2: content type $(grep -i content-type "$work/$2.hdr")"
  $EXPO check "$work/$2.prom" >/dev/null || { $EXPO check "$work/$2.prom"; fail "$2: invalid exposition"; }
}
val() { $EXPO sum "$work/$1.prom" "${@:2}"; }
want() { # worker want name [k=v]...
  local got; got=$(val "$1" "${@:3}")
  [ "$got" = "$2" ] || fail "$1: ${*:3} is $got, want $2"
}
has() { # worker name [k=v]...: the series exists (any value)
  python3 - "$work/$1.prom" "${@:2}" <<'PY' || fail "$1: no series ${*:2}"
import sys
sys.path.insert(0, __import__("os").environ["SRC"] + "/tests/ops")
import expo
_, samples = expo.parse(open(sys.argv[1]).read())
want = dict(a.split("=", 1) for a in sys.argv[3:])
sys.exit(0 if any(n == sys.argv[2] and all(l.get(k) == v for k, v in want.items())
                  for n, l, _ in samples) else 1)
PY
}
export SRC=$src

wait_code "$IP" /healthz 200 60
wait_code "$CP" /healthz 200 60
wait_code "$IP" /readyz 200 60
[ "$(cat "$work/body")" = ok ] || fail "healthy body is '$(cat "$work/body")', want ok"
[ "$(code "$IP" /nope)" = 404 ] || fail "unknown path is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$IP/metrics")" = 405 ] ||
  fail "POST /metrics is not 405"

# ---- 2. before any post: the series exist at 0 ----------------------------------
scrape "$IP" ingest
scrape "$CP" classify
want ingest 0 socialcare_messages_in_total topic=social.posts.raw worker=ingest
want classify 0 socialcare_messages_in_total topic=social.posts worker=classify
want ingest 0 socialcare_dlq_messages_total reason=bad_json
want classify 0 socialcare_dlq_messages_total reason=bad_avro
for l in positive neutral negative; do want classify 0 socialcare_classify_sentiment_total label=$l; done
for w in ingest classify; do
  for m in socialcare_batch_retries_total socialcare_tick_retries_total socialcare_delivery_retries_total \
           socialcare_redis_errors_total socialcare_redis_reconnects_total socialcare_processing_seconds_count \
           socialcare_producer_queue_messages socialcare_inflight_messages; do
    want $w 0 $m
  done
  want $w 1 socialcare_up
done

# ---- 3. the samples: counters move by exactly what they imply --------------------
# 32 lines: 24 posts, 7 bad inputs (dead letters), 1 duplicate.
n=$(wc -l <"$src/samples/sample-posts.jsonl")
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
deadline=$((SECONDS + 90))
until scrape "$CP" classify && [ "$(val classify socialcare_messages_out_total topic=social.posts.enriched)" = 24 ]; do
  [ $SECONDS -lt $deadline ] || fail "classify produced $(val classify socialcare_messages_out_total) of 24"
  sleep 0.5
done
scrape "$IP" ingest
want ingest "$n" socialcare_messages_in_total topic=social.posts.raw
want ingest "$n" socialcare_processing_seconds_count
want ingest 24 socialcare_messages_out_total topic=social.posts
want ingest 7 socialcare_dlq_messages_total
want ingest 1 socialcare_ingest_duplicates_total
want classify 24 socialcare_messages_in_total topic=social.posts
want classify 24 socialcare_processing_seconds_count
want classify 24 socialcare_classify_sentiment_total
want classify 0 socialcare_dlq_messages_total
[ "$(val classify socialcare_classify_sentiment_total label=negative)" != 0 ] || fail "no negative post counted"
[ "$(val classify socialcare_classify_sentiment_total label=positive)" != 0 ] || fail "no positive post counted"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" \
  "$(val ingest socialcare_processing_seconds_sum)" || fail "processing_seconds_sum is 0"

# Lag per partition from librdkafka statistics (every 5 s with a metrics port),
# 0 once the auto-commit (5 s) caught up.
deadline=$((SECONDS + 60))
until scrape "$IP" ingest && [ "$(grep -c '^socialcare_consumer_lag{.*topic="social.posts.raw"' "$work/ingest.prom")" = 3 ] &&
      [ "$(val ingest socialcare_consumer_lag topic=social.posts.raw)" = 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "ingest lag: $(grep consumer_lag "$work/ingest.prom" || echo none)"
  sleep 1
done
for p in 0 1 2; do has ingest socialcare_consumer_lag topic=social.posts.raw partition=$p; done
deadline=$((SECONDS + 60))
until scrape "$CP" classify && grep -q '^socialcare_consumer_lag{.*topic="social.posts",partition="0"}' "$work/classify.prom"; do
  [ $SECONDS -lt $deadline ] || fail "classify exports no lag for social.posts [0]"
  sleep 1
done

# More input: five bad lines move in and the bad_json dead letters by five.
for i in 1 2 3 4 5; do echo "not json $i"; done | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw
deadline=$((SECONDS + 60))
until scrape "$IP" ingest && [ "$(val ingest socialcare_messages_in_total)" = $((n + 5)) ]; do
  [ $SECONDS -lt $deadline ] || fail "ingest in is $(val ingest socialcare_messages_in_total), want $((n + 5))"
  sleep 0.5
done
want ingest $((n + 5)) socialcare_processing_seconds_count
want ingest 12 socialcare_dlq_messages_total
want ingest 24 socialcare_messages_out_total
echo "ok: counters, histogram and lag follow the posts"

# ---- 4. Redis down, no traffic: /readyz 503, /healthz stays 200 -------------------
sc_stop_redis
wait_code "$IP" /readyz 503 60
grep -q redis "$work/body" || fail "readyz reason '$(cat "$work/body")' does not name redis"
[ "$(code "$IP" /healthz)" = 200 ] || fail "healthz must not depend on Redis"
[ "$(code "$CP" /readyz)" = 200 ] || fail "classify does not use Redis: it stays ready"
_sc_redis_up || fail "redis did not come back"
wait_code "$IP" /readyz 200 60
scrape "$IP" ingest
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1 else 1)" \
  "$(val ingest socialcare_redis_errors_total)" || fail "redis_errors_total did not move"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1 else 1)" \
  "$(val ingest socialcare_redis_reconnects_total)" || fail "redis_reconnects_total did not move"
echo "ok: /readyz follows Redis"

# ---- 5. broker gone: /healthz 503 with the reason ---------------------------------
sc_stop_broker
for p in "$IP" "$CP"; do
  wait_code "$p" /healthz 503 60
  grep -q kafka "$work/body" || fail "healthz reason '$(cat "$work/body")' does not name kafka"
  [ "$(code "$p" /readyz)" = 503 ] || fail "readyz is not 503 with the broker gone"
done
# Still down after a few statistics rounds (no flapping back to 200).
sleep 11
for p in "$IP" "$CP"; do
  [ "$(code "$p" /healthz)" = 503 ] || fail ":$p/healthz flapped back to 200 with the broker gone"
done
scrape "$IP" ingest
echo "ok: /healthz 503 with the broker down"
