#!/usr/bin/env bash
# Redis outage mid-stream: ingest holds its batch and retries (it must not
# forward unclaimed posts, nor drop them), reports not-ready, and once Redis
# is back (empty: its data is lost too) every post arrives.
set -euo pipefail
INGEST=$1 SC_DEVBROKER=$2
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up ingest-outage 3
fail() { echo "FAIL: $*"; echo "--- ingest log"; tail -30 "$work/ingest.log"; exit 1; }

port=$(sc_free_port)
"$INGEST" -c "$src/config/socialcare.yaml" -o kafka.session.timeout.ms=6000 \
  -o metrics.bind=127.0.0.1 -o metrics.port="$port" -o ingest.batch_size=50 \
  >"$work/ingest.log" 2>&1 &
INGEST_PID=$!
PIDS+=("$INGEST_PID")

count() { sc_count "$1"; }
feed() { # first last
  python3 - "$1" "$2" <<'PY' | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -K '|'
import json, sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print("telko|" + json.dumps({"platform": "facebook", "brand": "telko", "post_id": "o%d" % i,
          "author": {"id": "a%d" % i}, "text": "Brak zasięgu od rana #%d" % i,
          "created_at": "2026-11-21T08:00:00Z"}, ensure_ascii=False))
PY
}
wait_count() { # want timeout_s
  local deadline=$((SECONDS + $2)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(count social.posts); [ "$n" -ge "$1" ] && return 0; sleep 0.5
  done
  fail "social.posts has $n records, want $1"
}

feed 0 500
wait_count 500 60
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || fail "not ready while everything is up"

sc_stop_redis
feed 500 1000
sleep 4
n=$(count social.posts)
[ "$n" -eq 500 ] || fail "$((n - 500)) posts forwarded while Redis was down (dedup skipped)"
kill -0 "$INGEST_PID" 2>/dev/null || fail "ingest died during the Redis outage"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 503 ] || fail "/readyz answered $code during the outage, want 503"
echo "outage: ingest alive, holding 500 posts, /readyz 503"

sc_restart_redis
wait_count 1000 60
sleep 2
# Every post, by its event id inside the Avro bytes: none lost.
kcat -C -b "$SC_BOOTSTRAP" -t social.posts -o beginning -e -q -f '%s\n' 2>/dev/null |
  grep -aoE 'facebook:o[0-9]+' | sort -u >"$work/ids.txt"
[ "$(wc -l <"$work/ids.txt")" -eq 1000 ] || fail "$(wc -l <"$work/ids.txt") distinct posts, want 1000"
curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^socialcare_redis_(errors|reconnects)_total' >"$work/m.txt" || true
grep -Eq 'socialcare_redis_reconnects_total\{[^}]*\} [1-9]' "$work/m.txt" || fail "no reconnect counted: $(cat "$work/m.txt")"
echo "recovery: all 1000 posts forwarded after Redis came back; $(tr '\n' ' ' <"$work/m.txt")"
echo "ingest outage: PASS"
