#!/usr/bin/env bash
# Event-time SLA breaches and the new Redis layout under kill and replay,
# against a devbroker and a real redis-server (wall clock, not pinned):
#  1. 20,000 conversations over 4 brands as the pipeline delivers them
#     (track_feed --gen-live: replies on social.posts usually before their
#     post on care.routed, created 30 h ago), the worker SIGKILLed mid-stream
#     and restarted (a replay at the same offsets) -> exact figures, every
#     missed post breached once, and 0 `breach` events for posts whose final
#     outcome is a hit (false breaches), 0 retractions;
#  2. the whole stream produced again (a replay at new offsets) -> identical
#     figures, no new SLA event ids.
# Prints the false-breach count; FALSE_BREACH_MODE=processing runs the same
# with processing-time breaches (watermark_idle 0s) and only reports.
set -euo pipefail
TRACK=$1 SC_DEVBROKER=$2 CTL=$3 FEED=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/track
. "$src/tests/lib/stack.sh"
sc_stack_up track-sla 6
fail() {
  echo "FAIL: $*"
  echo "--- track log"; tail -30 "$work/track.log" 2>/dev/null || true
  exit 1
}
N=${SLA_POSTS:-20000}
MODE=${FALSE_BREACH_MODE:-event}
BASE=$(( ($(date +%s) - 30 * 3600) * 1000 ))
idle=()
[ "$MODE" = processing ] && idle=(-o track.watermark_idle=0s)
MPORT=$(sc_free_port)
start_track() {
  "$TRACK" -c "$here/track_sla.yaml" -o kafka.session.timeout.ms=6000 \
    -o metrics.port="$MPORT" -o metrics.bind=127.0.0.1 \
    -o track.retry_backoff_max_ms=1000 "${idle[@]}" >>"$work/track.log" 2>&1 &
  TRACK_PID=$!
  PIDS+=("$TRACK_PID")
}
D0=$(date -u -d "@$((BASE / 1000))" +%F)
D1=$(date -u -d "@$((BASE / 1000 + 86400))" +%F)
stats() {
  "$CTL" stats -c "$here/track_sla.yaml" --redis "$SC_REDIS_URL" --from "$D0" --to "$D1" \
    --tz utc --json
}
received() { # all four brands, straight from Redis
  local n=0 b d v
  for b in live0 live1 live2 live3; do
    for d in "$D0" "$D1"; do
      v=$(redis-cli -u "$SC_REDIS_URL" hget "sc:{$b}:d:u:$d" 'x|care|received' 2>/dev/null)
      n=$((n + ${v:-0}))
    done
  done
  echo "$n"
}
check() { # stats.json -> exit 0 when the figures are those of gen_live's rules
  python3 - "$N" "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
s = json.load(open(sys.argv[2]))
want = dict(received=0, needs_reply=0, replied=0, sla_hit=0, sla_missed=0, late=0,
            pending=0, with_due=0, replied_no_need=0, extra_replies=0, orphan_replies=0)
for i in range(n):
    reps = ([(i % 5) * 1200000] if i % 7 != 6 else []) + ([5400000] if i % 11 == 0 else [])
    want["received"] += 1
    if i % 10 == 9:
        want["replied_no_need"] += len(reps)
        continue
    want["needs_reply"] += 1
    want["with_due"] += 1
    if reps:
        want["replied"] += 1
        want["extra_replies"] += len(reps) - 1
    if reps and min(reps) <= 3600000:
        want["sla_hit"] += 1
    else:
        want["sla_missed"] += 1
        want["late"] += bool(reps)
got = {}
for b in s["brands"]:
    for k in want:
        got[k] = got.get(k, 0) + b["total"][k]
bad = ["%s: got %s want %s" % (k, got[k], v) for k, v in want.items() if got[k] != v]
if bad:
    print("; ".join(bad))
    sys.exit(1)
PY
}
wait_final() { # timeout
  local deadline=$((SECONDS + $1)) why=
  while [ $SECONDS -lt $deadline ]; do
    stats >"$work/stats.json" 2>/dev/null && why=$(check "$work/stats.json") && return 0
    sleep 1
  done
  fail "figures: $why"
}
# The SLA events: distinct event ids, false breaches (a breach of a post whose
# final outcome is a hit), retractions, missed posts without a breach.
sla_report() {
  "$CTL" consume -b "$SC_BOOTSTRAP" -t care.sla --timeout 8 >"$work/sla.jsonl"
  python3 - "$N" "$work/sla.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
ids, breach, recovered = set(), set(), set()
for l in open(sys.argv[2]):
    v = json.loads(l)["value"]
    ids.add(v["event_id"])
    pid = v["post_id"]
    if v["kind"] == "breach":
        breach.add(pid)
    elif v["kind"] == "recovered":
        recovered.add(pid)
hit, missed = set(), set()
for i in range(n):
    if i % 10 == 9:
        continue
    reps = ([(i % 5) * 1200000] if i % 7 != 6 else []) + ([5400000] if i % 11 == 0 else [])
    (hit if reps and min(reps) <= 3600000 else missed).add("g%d" % i)
print("%d %d %d %d" % (len(ids), len(breach & hit), len(recovered), len(missed - breach)))
PY
}

start_track
"$FEED" "$SC_BOOTSTRAP" --gen-live "$N" "$BASE" 2>>"$work/feed.log" &
FEED_PID=$!
# SIGKILL while the stream is being tracked: the restart reads again from
# the last stored offsets (records applied but not committed are replayed).
deadline=$((SECONDS + 120))
until [ "$(received)" -ge $((N / 4)) ]; do
  [ $SECONDS -lt $deadline ] || fail "tracking did not start"
  sleep 0.05
done
kill -9 "$TRACK_PID"
wait "$TRACK_PID" 2>/dev/null || true
echo "killed at received=$(received)"
wait "$FEED_PID" || fail "track_feed"
start_track
wait_final 300
echo "after the kill: exact figures for $N conversations"
# Every unanswered post breaches once the stream has been idle (20 s).
deadline=$((SECONDS + 120))
while :; do
  read -r nids false rec unbreached < <(sla_report)
  [ "$unbreached" = 0 ] && break
  [ $SECONDS -lt $deadline ] || fail "$unbreached missed posts without a breach event"
  sleep 2
done
echo "false breaches: $false (breach events of posts that end as hits); recovered: $rec; SLA event ids: $nids ($MODE time)"
if [ "$MODE" = event ]; then
  [ "$false" = 0 ] || fail "$false false breach alerts"
  [ "$rec" = 0 ] || fail "$rec retractions"
fi
cp "$work/stats.json" "$work/stats1.json"

# ---- 2. the same stream at new offsets: nothing counted twice ----------------
# Every inbound post and reply of the replay is a duplicate.
R=$(python3 -c "n=$N; print(sum(1 for i in range(n) if i % 7 != 6) + sum(1 for i in range(n) if i % 11 == 0))")
dups() {
  curl -fsS "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
    awk '/^socialcare_track_events_total\{.*kind="duplicate"/ { print $NF }'
}
d0=$(dups)
"$FEED" "$SC_BOOTSTRAP" --gen-live "$N" "$BASE" 2>>"$work/feed.log"
deadline=$((SECONDS + 300))
until [ "$(dups)" -ge $((d0 + N + R)) ] 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the replay was not consumed: $(dups) duplicates, want >= $((d0 + N + R))"
  sleep 1
done
stats >"$work/stats2.json"
cmp "$work/stats1.json" "$work/stats2.json" || fail "the replay changed the figures"
read -r nids2 _ < <(sla_report)
[ "$nids2" = "$nids" ] || fail "the replay made new SLA event ids: $nids2, was $nids"
echo "replay at new offsets: identical figures, same $nids SLA event ids"
kill -TERM "$TRACK_PID"
wait "$TRACK_PID" 2>/dev/null || true
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/track.log" ||
  fail "sanitizer report in the track log"
echo "track sla: PASS"
