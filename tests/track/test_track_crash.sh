#!/usr/bin/env bash
# The tracker under failures, against a devbroker and a real redis-server:
#  3. many conversations, SIGKILL of the worker mid-stream, restart -> the
#     counters of an uninterrupted run (computed independently: expect_gen.py);
#  4. Redis stopped and started again mid-stream (its data kept: AOF) -> the
#     worker holds, retries with backoff, resumes, and nothing is lost.
set -euo pipefail
TRACK=$1 SC_DEVBROKER=$2 CTL=$3 FEED=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/track
. "$src/tests/lib/stack.sh"
sc_stack_up track-crash 3
fail() {
  echo "FAIL: $*"
  echo "--- track log"; tail -30 "$work/track.log" 2>/dev/null || true
  exit 1
}

BASE=$(date -u -d 2026-11-21T00:00:00Z +%s)000
NOW=$((BASE - 86400000)) # before every due: no timer breach, pending stays pending
N=6000

start_track() { # redis-url
  SC_FAKE_NOW_MS=$NOW SOCIALCARE_REDIS_URL=$1 "$TRACK" -c "$here/track.yaml" \
    -o kafka.session.timeout.ms=6000 -o track.batch_size=100 \
    -o track.retry_backoff_max_ms=1000 >>"$work/track.log" 2>&1 &
  TRACK_PID=$!
  PIDS+=("$TRACK_PID")
}
stats() { # redis-url
  "$CTL" stats -c "$here/track.yaml" --redis "$1" --brand gen --from 2026-11-21 \
    --to 2026-11-21 --json
}
received() { stats "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["brands"][0]["total"]["received"])'; }
wait_counter() { # url min timeout: the UTC day's received counter, polled
  # straight from Redis (fast enough to land a kill while batches are applied)
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(redis-cli -u "$1" hget 'sc:{gen}:d:u:2026-11-21' 'x|care|received' 2>/dev/null)
    n=${n:-0}
    [ "$n" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.02
  done
  fail "received $n, want >= $2"
}
wait_expected() { # url timeout
  local deadline=$((SECONDS + $2)) why=
  while [ $SECONDS -lt $deadline ]; do
    stats "$1" >"$work/stats.json" 2>/dev/null &&
      why=$(python3 "$here/expect_gen.py" "$N" "$work/stats.json") && return 0
    sleep 1
  done
  fail "figures differ from an uninterrupted run: $why"
}

# ---- 3. SIGKILL mid-stream ------------------------------------------------------
# The first half of the stream, the kill while it is being tracked, the
# second half while the worker is down (a fast worker could otherwise track
# the whole stream before the kill).
start_track "$SC_REDIS_URL"
"$FEED" "$SC_BOOTSTRAP" --gen $((N / 2)) "$BASE" &
FEED_PID=$!
wait_counter "$SC_REDIS_URL" 600 120
kill -9 "$TRACK_PID"
wait "$TRACK_PID" 2>/dev/null || true
at_kill=$(received "$SC_REDIS_URL")
echo "SIGKILL with $at_kill of $N posts tracked"
[ "$at_kill" -lt "$N" ] || fail "the worker finished before the kill: not mid-stream"
wait "$FEED_PID"
"$FEED" "$SC_BOOTSTRAP" --gen $((N - N / 2)) "$BASE" $((N / 2)) || fail "track_feed"
start_track "$SC_REDIS_URL"
wait_expected "$SC_REDIS_URL" 180
echo "SIGKILL + restart: counters identical to an uninterrupted run"
kill -TERM "$TRACK_PID"
wait "$TRACK_PID" || fail "track exit code after SIGTERM"

# ---- 4. Redis restarted mid-stream, data kept ----------------------------------------
# A second redis-server with AOF (fsync always), stopped and started on the
# same port and dir: the outage as the worker sees it, data intact.
R2_DIR=$work/r2
mkdir -p "$R2_DIR"
R2_PORT=$(sc_free_port)
R2_URL=redis://127.0.0.1:$R2_PORT
r2_up() {
  redis-server --port "$R2_PORT" --bind 127.0.0.1 --save '' --appendonly yes \
    --appendfsync always --dir "$R2_DIR" --daemonize no --loglevel warning \
    >>"$R2_DIR/redis.log" 2>&1 &
  R2_PID=$!
  PIDS+=("$R2_PID")
  local i
  for i in $(seq 1 100); do
    redis-cli -p "$R2_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "redis with AOF did not start"
}
r2_down() {
  kill -TERM "$R2_PID"
  wait "$R2_PID" 2>/dev/null || true
}
r2_up
# A new consumer group on the same topics: everything again, into the new Redis.
start_track_group() {
  SC_FAKE_NOW_MS=$NOW SOCIALCARE_REDIS_URL=$R2_URL "$TRACK" -c "$here/track.yaml" \
    -o kafka.session.timeout.ms=6000 -o track.batch_size=100 -o track.group_id=track-r2 \
    -o track.retry_backoff_max_ms=1000 >>"$work/track.log" 2>&1 &
  TRACK_PID=$!
  PIDS+=("$TRACK_PID")
}
: >"$work/track.log"
start_track_group
wait_counter "$R2_URL" 600 120
at_stop=$(received "$R2_URL")
r2_down
echo "redis stopped with $at_stop of $N posts tracked"
sleep 3
r2_up
wait_expected "$R2_URL" 180
grep -Eq "not applied|SLA scan" "$work/track.log" || fail "the outage never reached the worker"
echo "redis restart: batches held and retried, counters identical"
kill -TERM "$TRACK_PID"
wait "$TRACK_PID" || fail "track exit code after SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/track.log" ||
  fail "sanitizer report in the track log"
r2_down
echo "track crash: PASS"
