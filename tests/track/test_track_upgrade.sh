#!/usr/bin/env bash
# Upgrade from the release that kept a day's FRT values in sorted sets
# (f:/bf: keys, score = seconds): a Redis holding today's keys in that layout.
#  - track writes to them: each is converted to the hash layout when first
#    met (members kept, seconds -> ms, TTL kept) and the write goes through:
#    no WRONGTYPE poison loop, every record tracked;
#  - the readers (socialcarectl stats, the business gauges) read either
#    layout: medians over old and new values together, exact.
set -euo pipefail
TRACK=$1 SC_DEVBROKER=$2 CTL=$3 FEED=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/track
. "$src/tests/lib/stack.sh"
sc_stack_up track-upgrade 3
fail() {
  echo "FAIL: $*"
  echo "--- track log"; tail -40 "$work/track.log" 2>/dev/null || true
  exit 1
}
rc() { redis-cli -p "$SC_REDIS_PORT" "$@"; }

NOW=$(date -u -d 2026-11-20T12:00:00Z +%s)000
MPORT=$(sc_free_port)
DAY=2026-11-20

# ---- the old layout, written before the upgrade -------------------------------
# telko (Europe/Warsaw), the 20th in both day families: three replied posts.
for fam in u l; do
  rc zadd "sc:{telko}:f:$fam:$DAY" 100.5 'x|care|x:o1' 7200 'x|care|x:o2' 3000 'x|care|x:o3' >/dev/null
  rc zadd "sc:{telko}:bf:$fam:$DAY" 50 'x|care|x:o1' >/dev/null
  rc hset "sc:{telko}:d:$fam:$DAY" 'x|care|received' 3 'x|care|needs_reply' 3 \
    'x|care|replied' 3 'x|care|frt_sum_ms' 10300500 >/dev/null
  rc expire "sc:{telko}:f:$fam:$DAY" 2592000 >/dev/null
done
# A day track does not write again (the 19th) and a brand without new posts
# (gen, UTC): read in the old layout as they are.
rc zadd "sc:{telko}:f:l:2026-11-19" 60 'x|care|x:q1' 120.25 'x|care|x:q2' 30 'x|care|x:q3' >/dev/null
rc zadd "sc:{telko}:bf:l:2026-11-19" 10 'x|care|x:q1' >/dev/null
rc hset "sc:{telko}:d:l:2026-11-19" 'x|care|received' 3 'x|care|replied' 3 >/dev/null
rc zadd "sc:{gen}:f:l:$DAY" 42.5 'x|care|x:g1' 10 'x|care|x:g2' >/dev/null
rc hset "sc:{gen}:d:l:$DAY" 'x|care|received' 2 'x|care|replied' 2 >/dev/null
rc sadd sc:brands telko gen >/dev/null

SC_FAKE_NOW_MS=$NOW "$TRACK" -c "$here/track.yaml" -o kafka.session.timeout.ms=6000 \
  -o metrics.port="$MPORT" -o metrics.bind=127.0.0.1 >>"$work/track.log" 2>&1 &
TRACK_PID=$!
PIDS+=("$TRACK_PID")

stats() { "$CTL" stats -c "$here/track.yaml" --redis "$SC_REDIS_URL" --brand "$1" \
  --from "$2" --to "$2" --json "${@:3}"; }
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
total() { stats "$1" "$2" "${@:4}" | json_get "'%g' % d['brands'][0]['total']['$3']"; }
metric() {
  curl -s "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
    awk -v k="$1" 'index($0, k) == 1 { print $2; f = 1 } END { if (!f) print 0 }' | head -1
}
wait_until() { # timeout_s description command...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  fail "timed out waiting for: $what"
}
is() { [ "$($1 "${@:2:$#-2}")" = "${@: -1}" ]; }

# Phase A of the scripted set: 8 inbound posts on the local 20th, FRTs
# p1 600, p6 900, p7 180, p7b 1800 (test_track_stack.sh).
"$FEED" "$SC_BOOTSTRAP" "$here/conv_a.tsv"
wait_until 60 "phase A tracked on the old keys (3 + 8 posts)" is total telko $DAY received 11
wait_until 30 "4 new replies" is total telko $DAY replied 7
! grep -q WRONGTYPE "$work/track.log" || fail "WRONGTYPE in the track log"
for fam in u l; do
  for k in f bf; do
    [ "$(rc type "sc:{telko}:$k:$fam:$DAY")" = hash ] || fail "$k:$fam not converted"
  done
  [ "$(rc hget "sc:{telko}:f:$fam:$DAY" 'x|care|x:o1')" = 100500 ] || fail "o1 in f:$fam (ms)"
  [ "$(rc hget "sc:{telko}:bf:$fam:$DAY" 'x|care|x:o1')" = 50000 ] || fail "o1 in bf:$fam (ms)"
  [ "$(rc hlen "sc:{telko}:f:$fam:$DAY")" = 7 ] || fail "f:$fam: 3 old + 4 new values"
  [ "$(rc ttl "sc:{telko}:f:$fam:$DAY")" -gt 0 ] || fail "f:$fam lost its TTL"
done
# FRT 100.5 180 600 900 1800 3000 7200 -> median 900; mean 13780.5 / 7.
# Business (office calendar: p6 0, p7 0, p7b 1200; o1 50): 0 0 50 600 1200
# 3000 7200 -> median 600.
real_calendar=0
[ -f "$src/common/sc_calendar.h" ] && real_calendar=1
bus=900
[ "$real_calendar" = 1 ] && bus=600
wait_until 30 "business FRTs of phase A" is total telko $DAY frt_business_median_s "$bus"
stats telko $DAY >"$work/l.json"
stats telko $DAY --tz utc >"$work/u.json"
python3 - "$work/l.json" "$work/u.json" "$bus" <<'PY'
import json, sys
for f in sys.argv[1:3]:
    t = json.load(open(f))["brands"][0]["total"]
    assert t["frt_median_s"] == 900, (f, t)
    assert abs(t["frt_avg_s"] - 13780.5 / 7) < 1e-3, (f, t)
    assert t["frt_business_median_s"] == float(sys.argv[3]), (f, t)
print("migrated day: medians over old and new values (FRT 900 s, business %s s)" % sys.argv[3])
PY
# The old layout read as it is: the 19th, gen's today (gauge).
[ "$(rc type "sc:{telko}:f:l:2026-11-19")" = zset ] || fail "a reader converted a key"
[ "$(total telko 2026-11-19 frt_median_s)" = 60 ] || fail "19th: FRT median $(total telko 2026-11-19 frt_median_s)"
[ "$(total telko 2026-11-19 frt_business_median_s)" = 30 ] || fail "19th: business median"
wait_until 30 "gauge frt median of gen (old layout) = 26.25" is metric \
  'socialcare_brand_frt_median_seconds{worker="track",brand="gen"}' 26.25
wait_until 30 "gauge frt median of telko = 900" is metric \
  'socialcare_brand_frt_median_seconds{worker="track",brand="telko"}' 900
echo "old layout read: 19th FRT median 60 s, business 30 s; gauges gen 26.25, telko 900"

# Not stalled: the next records go through too.
"$FEED" "$SC_BOOTSTRAP" "$here/conv_b.tsv"
wait_until 30 "p2 tracked" is total telko $DAY received 12
kill -TERM "$TRACK_PID"
for i in $(seq 1 300); do kill -0 "$TRACK_PID" 2>/dev/null || break; sleep 0.1; done
wait "$TRACK_PID" || fail "track exited with $?"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/track.log" ||
  fail "sanitizer report in the track log"
echo "track upgrade: PASS"
