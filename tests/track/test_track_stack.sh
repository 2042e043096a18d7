#!/usr/bin/env bash
# The tracker end to end against a devbroker and a real redis-server:
#  1. a scripted conversation set (conv_[abc].tsv: a reply before its post,
#     replies to replies, several brand replies, a thread reply, a breach then
#     a late reply, a breach retracted by a reply written before due, an
#     orphan reply, a reply to a post that needed none) -> exact counters from
#     `socialcarectl stats --json` and the care.sla events (one breach each);
#  2. the same input replayed (new offsets) -> identical stats, no new events.
# Time is pinned (SC_FAKE_NOW_MS) so the timer's decisions are deterministic.
set -euo pipefail
TRACK=$1 SC_DEVBROKER=$2 CTL=$3 FEED=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/track
. "$src/tests/lib/stack.sh"
sc_stack_up track-stack 3
fail() {
  echo "FAIL: $*"
  echo "--- track log"; tail -40 "$work/track.log" 2>/dev/null || true
  exit 1
}

NOW=$(date -u -d 2026-11-20T12:00:00Z +%s)000
MPORT=$(sc_free_port)
start_track() { # fake-now
  SC_FAKE_NOW_MS=$1 "$TRACK" -c "$here/track.yaml" -o kafka.session.timeout.ms=6000 \
    -o metrics.port="$MPORT" -o metrics.bind=127.0.0.1 >>"$work/track.log" 2>&1 &
  TRACK_PID=$!
  PIDS+=("$TRACK_PID")
}
stop_track() {
  kill -TERM "$TRACK_PID"
  local rc=0 i
  for i in $(seq 1 300); do kill -0 "$TRACK_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$TRACK_PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "track exited with $rc after SIGTERM"
}
stats() { "$CTL" stats -c "$here/track.yaml" --redis "$SC_REDIS_URL" --brand telko \
  --from 2026-11-20 --to 2026-11-20 --json "$@"; }
metric() { # name{labels} -> value (0 when absent)
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
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
received_is() { [ "$(stats | json_get 'd["brands"][0]["total"]["received"]')" = "$1" ]; }
sla_events() { "$CTL" consume -b "$SC_BOOTSTRAP" -t care.sla --timeout 6 >"$work/sla.jsonl"; }
breaches_are() { # n
  sla_events
  [ "$(grep -c '"kind": *"breach"' "$work/sla.jsonl" || true)" -ge "$1" ]
}
dups_are() { [ "$(metric 'socialcare_track_events_total{worker="track",kind="duplicate"}')" = "$1" ]; }

start_track "$NOW"

# ---- 1. the scripted set -----------------------------------------------------
"$FEED" "$SC_BOOTSTRAP" "$here/conv_a.tsv"
wait_until 60 "phase A tracked (8 inbound posts on the local 20th)" received_is 8
# p2 only after r2 was held as an early reply.
wait_until 30 "r2 held early" sh -c "redis-cli -p $SC_REDIS_PORT zscore 'sc:{telko}:early' x:r2 | grep -q ."
"$FEED" "$SC_BOOTSTRAP" "$here/conv_b.tsv"
wait_until 30 "p2 tracked" received_is 9
# The timer (now pinned at 12:00) breaches p3 and p4 (due 11:00) once each.
wait_until 30 "two breach events" breaches_are 2
"$FEED" "$SC_BOOTSTRAP" "$here/conv_c.tsv"
wait_until 30 "the late reply" sh -c "'$CTL' consume -b '$SC_BOOTSTRAP' -t care.sla --timeout 6 | grep -q '\"kind\": *\"late\"'"
# Business gauges: "today" is the pinned 2026-11-20 (Warsaw).
gauge_is() { [ "$(metric "socialcare_brand_$1{worker=\"track\",brand=\"telko\"}")" = "$2" ]; }
wait_until 30 "gauge received = 9" gauge_is received 9
wait_until 30 "gauge replied = 7" gauge_is replied 7
gauge_is needs_reply 8 || fail "gauge needs_reply"
gauge_is reply_rate 0.875 || fail "gauge reply_rate: $(metric 'socialcare_brand_reply_rate{worker="track",brand="telko"}')"
gauge_is sla_missed 1 || fail "gauge sla_missed"
gauge_is pending 1 || fail "gauge pending"
gauge_is frt_median_seconds 1800 || fail "gauge frt median: $(metric 'socialcare_brand_frt_median_seconds{worker="track",brand="telko"}')"
# Each brand's gauges are refreshed on their own, so "gen" may come a refresh
# after telko's.
gen_is_zero() {
  curl -s "http://127.0.0.1:$MPORT/metrics" |
    grep -q '^socialcare_brand_received{worker="track",brand="gen"} 0$'
}
wait_until 30 "a configured brand without posts is exported as 0" gen_is_zero
echo "gauges: received 9, needs_reply 8, replied 7, rate 0.875, missed 1, pending 1, median 1800"
# Orphans: a restart 8 days later turns r9 (held since "now") into an orphan.
stop_track
start_track $((NOW + 8 * 86400000))
wait_until 30 "the orphan reply" sh -c \
  "redis-cli -p $SC_REDIS_PORT hget 'sc:{telko}:d:l:2026-11-20' 'x|-|orphan_replies' | grep -q 1"
stats >"$work/stats1.json"
"$CTL" stats -c "$here/track.yaml" --redis "$SC_REDIS_URL" --from 2026-11-20 --to 2026-11-20 \
  --by platform --json >"$work/by_platform.json"
"$CTL" stats -c "$here/track.yaml" --redis "$SC_REDIS_URL" --from 2026-11-20 --to 2026-11-20 \
  --by team --tz utc >"$work/table.txt"
cat "$work/table.txt"
real_calendar=0
[ -f "$src/common/sc_calendar.h" ] && real_calendar=1
python3 - "$work/stats1.json" "$work/by_platform.json" "$real_calendar" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["brands"][0]["total"]
want = dict(received=9, needs_reply=8, replied=7, sla_hit=5, sla_missed=1, late=1,
            pending=1, with_due=7, replied_no_need=1, extra_replies=1, orphan_replies=1)
for k, v in want.items():
    assert t[k] == v, (k, t[k], v, t)
assert abs(t["reply_rate"] - 7 / 8) < 1e-6, t
# FRT: 600 1800 5400 3000 900 180 1800 -> median 1800, mean 13680/7
assert abs(t["frt_median_s"] - 1800) < 1e-3, t
assert abs(t["frt_avg_s"] - 13680 / 7) < 1e-3, t
assert t["histogram"] == {"0-15m": 2, "15-60m": 4, "1-4h": 1, "4-8h": 0, "8-24h": 0,
                          "24h+": 0}, t
if sys.argv[3] == "1":
    # office (mon-fri 11:15-20:00 Warsaw = 10:15-19:00Z): p6 0, p7 0, p7b 1200;
    # always: p1 600, p2 1800, p3 5400, p4 3000 -> median 1200, mean 12000/7
    assert abs(t["frt_business_median_s"] - 1200) < 1e-3, t
    assert abs(t["frt_business_avg_s"] - 12000 / 7) < 1e-3, t
else:
    assert abs(t["frt_business_median_s"] - 1800) < 1e-3, t
b = json.load(open(sys.argv[2]))
tel = [x for x in b["brands"] if x["brand"] == "telko"][0]
by = {g["platform"]: g for g in tel["by_platform"]}
assert by["facebook"]["received"] == 2 and by["facebook"]["replied"] == 2, by
assert by["facebook"]["frt_median_s"] == (180 + 1800) / 2, by["facebook"]
assert by["x"]["received"] == 7 and by["x"]["replied"] == 5, by["x"]
print("stats: exact counters, FRT median/avg/histogram, business FRT, by platform")
PY
grep -q "telko" "$work/table.txt" || fail "no table"
# Day families: p10 (23:30 UTC on the 20th) is on the local 21st.
[ "$(stats --tz utc | json_get 'd["brands"][0]["total"]["received"]')" = 10 ] ||
  fail "UTC day 2026-11-20 should have 10 posts"
[ "$("$CTL" stats -c "$here/track.yaml" --redis "$SC_REDIS_URL" --brand telko --from 2026-11-21 \
  --to 2026-11-21 --json | json_get 'd["brands"][0]["total"]["received"]')" = 1 ] ||
  fail "local day 2026-11-21 should have p10"
echo "day families: UTC 20th 10 posts, local 20th 9 + local 21st 1"
sla_events
python3 - "$work/sla.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ids = {}
for e in ev:
    v = e["value"]
    assert e["schema"] == "SlaEvent" and e["key"] == "telko", e
    assert v["event_id"] == v["post_event_id"] + ":" + v["kind"], v
    ids[v["event_id"]] = v
kinds = sorted(ids)
want = sorted(["x:p1:hit", "x:p2:hit", "x:p3:breach", "x:p3:late", "x:p4:breach",
               "x:p4:hit", "x:p4:recovered", "facebook:p7:hit", "facebook:p7b:hit"])
assert kinds == want, kinds
breach = [e for e in ev if e["value"]["kind"] == "breach"]
assert len(breach) == 2, "one breach event per post: %d" % len(breach)
late = ids["x:p3:late"]
assert late["frt_s"] == {"long": 5400} or late["frt_s"] == 5400, late
assert ids["x:p3:breach"]["replied_at"] is None
print("care.sla: breach once for p3 and p4, late for p3, hits (p4's retracted miss)")
PY

# ---- 2. replay the same input: identical figures ------------------------------------
before_events=$(wc -l <"$work/sla.jsonl")
"$FEED" "$SC_BOOTSTRAP" "$here/conv_a.tsv"
"$FEED" "$SC_BOOTSTRAP" "$here/conv_b.tsv"
"$FEED" "$SC_BOOTSTRAP" "$here/conv_c.tsv"
# 10 inbound + 10 replies tracked (b6 is not a reply) -> 20 duplicates.
wait_until 60 "the replay consumed" dups_are 20
stats >"$work/stats2.json"
cmp "$work/stats1.json" "$work/stats2.json" || fail "replay changed the figures"
sla_events
python3 - "$work/sla.jsonl" <<'PY'
import json, sys
ids = {json.loads(l)["value"]["event_id"] for l in open(sys.argv[1])}
assert len(ids) == 9, ids  # 8 outcomes + the retraction of p4
PY
echo "replay: identical stats, same SLA event ids"

# ---- not a Routed/Post record: dead letter, the worker goes on -------------------------
printf 'not avro\n' | kcat -P -b "$SC_BOOTSTRAP" -t care.routed -p 0
wait_until 30 "a dead letter" sh -c "[ \$(kcat -C -b '$SC_BOOTSTRAP' -t care.routed.dlq -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l) -ge 1 ]"
"$CTL" consume -b "$SC_BOOTSTRAP" -t care.routed.dlq -n 1 --timeout 10 |
  grep -q '"sc-error-reason": *"bad_avro"' || fail "dead letter reason"
# Well-formed records track must not count: a brand the deployment file does
# not know (its keys would grow without bound), an instant no post can have.
printf 'in\tnobrand\tx\tq1\t-\t-\t2026-11-20T10:00:00Z\t1\tcare\t2026-11-20T11:00:00Z\tnormal\t-\n' >"$work/bad.tsv"
printf 'in\ttelko\tx\told1\t-\t-\t1960-01-01T10:00:00Z\t1\tcare\t-\tnormal\t-\n' >>"$work/bad.tsv"
"$FEED" "$SC_BOOTSTRAP" "$work/bad.tsv"
wait_until 30 "three dead letters" sh -c "[ \$(kcat -C -b '$SC_BOOTSTRAP' -t care.routed.dlq -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l) -ge 3 ]"
reasons=$("$CTL" consume -b "$SC_BOOTSTRAP" -t care.routed.dlq -n 3 --timeout 10 |
  grep -o '"sc-error-reason": *"[a-z_]*"' | sed 's/.*"\([a-z_]*\)"$/\1/' | sort | tr '\n' ' ')
[ "$reasons" = "bad_avro bad_timestamp unknown_brand " ] || fail "dead letter reasons: $reasons"
kill -0 "$TRACK_PID" || fail "a bad record stopped the worker"
echo "dead letters: bad_avro, unknown_brand, bad_timestamp; worker running"

stop_track
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/track.log" ||
  fail "sanitizer report in the track log"
echo "track stack: PASS"
