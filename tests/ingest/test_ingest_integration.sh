#!/usr/bin/env bash
# ingest end to end against a real broker (devbroker) and a real Redis:
#  1. the bundled samples: every valid post arrives exactly once as Avro on
#     social.posts, every malformed line is on social.posts.raw.dlq with its
#     reason, the duplicate is not forwarded;
#  2. the samples fed again at new offsets: nothing new is forwarded;
#  3. SIGKILL mid-stream, restart: no post lost; a post sent twice carries the
#     same event id; true duplicates (same post id, later offset) never pass.
set -euo pipefail
INGEST=$1 SC_DEVBROKER=$2 CTL=$3
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up ingest-it 3


start_ingest() {
  "$INGEST" -c "$src/config/socialcare.yaml" -o kafka.session.timeout.ms=6000 \
     -o kafka.heartbeat.interval.ms=500 -o ingest.batch_size=100 >>"$work/ingest.log" 2>&1 &
  INGEST_PID=$!
  PIDS+=("$INGEST_PID")
}

count() { sc_count "$1"; }

wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(count "$1")
    [ "$n" -ge "$2" ] && { echo "$n"; return 0; }
    sleep 0.5
  done
  echo "$n"; return 1
}

fail() { echo "FAIL: $*"; echo "--- ingest log"; tail -50 "$work/ingest.log"; exit 1; }

# ---- 1. samples ------------------------------------------------------------
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
start_ingest
n=$(wait_count social.posts 24 60) || fail "social.posts has $n records, want 24"
d=$(wait_count social.posts.raw.dlq 7 30) || fail "dlq has $d records, want 7"
sleep 2 # anything extra would show up now
[ "$(count social.posts)" -eq 24 ] || fail "social.posts has $(count social.posts), want exactly 24"
[ "$(count social.posts.raw.dlq)" -eq 7 ] || fail "dlq has $(count social.posts.raw.dlq), want exactly 7"

"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts -n 24 --timeout 10 >"$work/posts.jsonl"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.raw.dlq -n 7 --timeout 10 >"$work/dlq.jsonl"
python3 - "$work/posts.jsonl" "$work/dlq.jsonl" <<'PY'
import json, sys, collections
posts = [json.loads(l) for l in open(sys.argv[1])]
assert len(posts) == 24, len(posts)
ids = [p["value"]["event_id"] for p in posts]
assert all(p.get("schema") == "Post" for p in posts), "not all Avro Post"
assert len(set(ids)) == 24, collections.Counter(ids).most_common(3)
assert all(p["key"] == p["value"]["brand"] for p in posts), "key must be the brand"
brand = [p for p in posts if p["value"]["is_brand"]]
assert len(brand) == 6, len(brand)
assert all(p["value"]["parent_id"] for p in brand), "brand replies keep their parent"
by_id = {p["value"]["event_id"]: p["value"] for p in posts}
assert by_id["x:1861000000000000003"]["author"]["followers"] == 15400
assert by_id["review:rv-3001"]["rating"] == {"int": 5} or by_id["review:rv-3001"]["rating"] == 5
dlq = [json.loads(l) for l in open(sys.argv[2])]
reasons = collections.Counter(d["headers"]["sc-error-reason"] for d in dlq)
want = {"bad_json": 2, "unknown_platform": 1, "missing_field": 1, "unknown_brand": 1,
        "bad_timestamp": 1, "invalid_utf8": 1}
assert reasons == want, reasons
for d in dlq:
    h = d["headers"]
    assert h["sc-worker"] == "ingest" and h["sc-source-topic"] == "social.posts.raw"
    assert h["sc-error-detail"] and h["sc-source-offset"].isdigit(), h
print("samples: 24 posts, 6 brand replies, 7 dead letters", dict(reasons))
PY

# ---- 2. the same samples again: duplicates, not forwarded ---------------------
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
d=$(wait_count social.posts.raw.dlq 14 30) || fail "dlq has $d, want 14 after the re-feed"
sleep 2
[ "$(count social.posts)" -eq 24 ] || fail "re-fed samples were forwarded: $(count social.posts)"
echo "re-feed: 0 forwarded, 7 more dead letters"

# ---- 3. SIGKILL mid-stream --------------------------------------------------
N=20000
python3 - "$work/stream.txt" $N <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        post = {"platform": "x", "brand": "telko", "post_id": "s%d" % i,
                "author": {"id": "u%d" % (i % 97), "handle": "user%d" % (i % 97)},
                "text": "nie działa internet od rana, zgłoszenie %d" % i,
                "created_at": "2026-11-20T10:%02d:%02dZ" % (i // 60 % 60, i % 60)}
        f.write("k%d|%s\n" % (i % 11, json.dumps(post, ensure_ascii=False)))
        if i % 200 == 199:  # a true duplicate: same post id, later offset, same key
            j = i - 100
            dup = dict(post, post_id="s%d" % j, text="DUPLICATE COPY")
            f.write("k%d|%s\n" % (j % 11, json.dumps(dup, ensure_ascii=False)))
PY
# Fed in chunks while ingest runs, so the kill lands with input still
# arriving and work in flight, not after the stream is done.
split -l 500 "$work/stream.txt" "$work/chunk."
(for f in "$work"/chunk.*; do
   kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -K '|' -l "$f"; sleep 0.2
 done) &
FEEDER=$!
PIDS+=("$FEEDER")
n=$(wait_count social.posts $((24 + 1000)) 60) || fail "stream did not start: $n"
kill -9 "$INGEST_PID"
[ "$n" -lt $((24 + N)) ] || fail "ingest finished the stream before the kill ($n records)"
echo "killed ingest mid-stream with $n of $((24 + N)) records on social.posts"
wait "$FEEDER"
start_ingest
n=$(wait_count social.posts $((24 + N)) 120) || fail "after restart only $n records"
sleep 3
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts --timeout 5 >"$work/all.jsonl"
python3 - "$work/all.jsonl" $N <<'PY'
import json, sys, collections
n = int(sys.argv[2])
recs = [json.loads(l)["value"] for l in open(sys.argv[1])]
ids = collections.Counter(r["event_id"] for r in recs)
stream = {e for e in ids if e.startswith("x:s")}
missing = [i for i in range(n) if "x:s%d" % i not in stream]
assert not missing, "lost %d posts, e.g. %s" % (len(missing), missing[:5])
dups = [r for r in recs if r["text"] == "DUPLICATE COPY"]
assert not dups, "true duplicates forwarded: %d" % len(dups)
resent = sum(c - 1 for c in ids.values())
print("crash: %d records, %d distinct, %d re-sent with the same event id, 0 lost, 0 true duplicates"
      % (len(recs), len(ids), resent))
PY
grep -q "dead-lettered" "$work/ingest.log" || fail "no dead-letter log lines"

# ---- 4. clean shutdown: SIGTERM drains, commits and exits 0 (and, in the
# sanitizer build, without a leak or UB report) --------------------------------
kill -TERM "$INGEST_PID"
rc=0
for i in $(seq 1 300); do kill -0 "$INGEST_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$INGEST_PID" 2>/dev/null && fail "ingest did not stop within 30 s of SIGTERM"
wait "$INGEST_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "ingest exited with $rc after SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/ingest.log" ||
  fail "sanitizer report in the ingest log"
echo "shutdown: exit 0 after SIGTERM"
echo "ingest integration: PASS"
