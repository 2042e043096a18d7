#!/usr/bin/env bash
# Poison inputs cannot stop or fool a worker (issue 11), on a real devbroker
# and redis-server:
#  1. limits that cannot hold together are refused at start, with the keys;
#  2. ingest: 1,000,100 bytes of bad JSON and a 1,048,577-byte message are
#     dead-lettered as a bounded prefix (sc-truncated, sc-original-size,
#     sc-original-sha256) and every valid post behind them arrives;
#  3. a dead letter the broker refuses for good (MSG_SIZE_TOO_LARGE injected
#     by the devbroker) is counted (socialcare_dlq_failed_total), logged with
#     its coordinates and its offset stored: a restart does not read it again;
#  4. empty ids are missing_field dead letters in classify, route, track and
#     alert (and track writes no post state for them).
set -euo pipefail
SC_DEVBROKER=$1 CTL=$2 FEED=$3 INGEST=$4 CLASSIFY=$5 ROUTE=$6 TRACK=$7 ALERT=$8
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up faults-poison 3
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -15 "$f"; done
  exit 1
}
count() { sc_count "$1"; }
wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(count "$1"); [ "$n" -ge "$2" ] && return 0; sleep 0.5
  done
  fail "$1 has $n records, want $2"
}
metric() { # port name-and-labels-regex
  curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v re="$2" '$0 ~ "^"re { s += $NF } END { print s + 0 }'
}
start() { # worker exe port [extra -o...]
  local w=$1 exe=$2 port=$3; shift 3
  "$exe" -o kafka.session.timeout.ms=6000 -o kafka.heartbeat.interval.ms=500 \
    -o metrics.bind=127.0.0.1 -o metrics.port="$port" "$@" >>"$work/$w.log" 2>&1 &
  PIDS+=($!)
  eval "${w}_PID=$!"
}

# ---- 1. inconsistent limits ---------------------------------------------------
if "$INGEST" -o ingest.max_message_bytes=1048576 --check-config >"$work/check.txt" 2>&1; then
  fail "ingest.max_message_bytes=1048576 with messages.max_bytes=1000000 was accepted"
fi
grep -q 'ingest.max_message_bytes=1048576 does not fit a dead letter: messages.max_bytes=1000000' \
  "$work/check.txt" || fail "unclear refusal: $(cat "$work/check.txt")"
"$INGEST" -o messages.max_bytes=1100000 -o ingest.max_message_bytes=1048576 --check-config \
  >/dev/null || fail "a consistent pair was refused"
rc=0; timeout 30 "$INGEST" -o messages.max_bytes=1000000 -o kafka.message.max.bytes=2000000 \
  >"$work/contra.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'contradicts messages.max_bytes=1000000' "$work/contra.txt" ||
  fail "kafka.message.max.bytes contradicting messages.max_bytes: rc $rc, $(tail -2 "$work/contra.txt")"
echo "limits: inconsistent settings refused at start, with the keys named"

# ---- 2. oversized poison, valid posts behind it ----------------------------------
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
def post(i):
    return json.dumps({"platform": "x", "brand": "telko", "post_id": "pv%d" % i,
                       "author": {"id": "a%d" % i}, "text": "telko brak zasięgu %d" % i,
                       "created_at": "2026-11-20T10:00:00Z"})
for part, rng in (("v1", range(0, 5)), ("v2", range(5, 10)), ("v3", range(10, 15))):
    open("%s/%s.jsonl" % (w, part), "w").write("".join(post(i) + "\n" for i in rng))
bad = b'{"platform":"x","text":"' + b"a" * (1000100 - 24)   # never closed
assert len(bad) == 1000100
open(w + "/bad_json.bin", "wb").write(bad)
head = b'{"platform":"x","brand":"telko","post_id":"big","author":{"id":"1"},"text":"'
tail = b'","created_at":"2026-11-20T10:00:00Z"}'
big = head + b"b" * (1048577 - len(head) - len(tail)) + tail
assert len(big) == 1048577
open(w + "/too_large.bin", "wb").write(big)
PY
# one key: one partition, in order; kcat may send what a real Kafka accepts
P=(-b "$SC_BOOTSTRAP" -t social.posts.raw -k telko -X message.max.bytes=2000000)
kcat -P "${P[@]}" -l "$work/v1.jsonl"
kcat -P "${P[@]}" "$work/bad_json.bin"
kcat -P "${P[@]}" -l "$work/v2.jsonl"
kcat -P "${P[@]}" "$work/too_large.bin"
kcat -P "${P[@]}" -l "$work/v3.jsonl"
ip=$(sc_free_port)
start ingest "$INGEST" "$ip"
wait_count social.posts 15 60
wait_count social.posts.raw.dlq 2 30
kill -0 "$ingest_PID" 2>/dev/null || fail "ingest died"
kcat -C -b "$SC_BOOTSTRAP" -t social.posts.raw.dlq -o beginning -e -q -J >"$work/dlq.json" 2>/dev/null
python3 - "$work" <<'PY'
import hashlib, json, sys
w = sys.argv[1]
recs = [json.loads(l) for l in open(w + "/dlq.json") if l.strip()]
assert len(recs) == 2, len(recs)
for r, name in zip(recs, ("bad_json.bin", "too_large.bin")):
    h = dict(zip(r["headers"][::2], r["headers"][1::2]))
    orig = open(w + "/" + name, "rb").read()
    val = r["payload"].encode()
    assert h["sc-error-reason"] == "too_large", h
    assert h["sc-truncated"] == "true", h
    assert int(h["sc-original-size"]) == len(orig), (h["sc-original-size"], len(orig))
    assert h["sc-original-sha256"] == hashlib.sha256(orig).hexdigest(), h
    assert len(val) < 1000000 and orig.startswith(val) and len(val) > 900000, len(val)
    assert h["sc-source-topic"] == "social.posts.raw" and h["sc-worker"] == "ingest"
    print("poison %s: %d bytes -> dead letter of %d bytes (too_large, truncated, sha256 ok)"
          % (name, len(orig), len(val)))
PY
n=$(count social.posts); [ "$n" -eq 15 ] || fail "social.posts has $n, want 15"
echo "oversized poison: 2 dead letters, 15 of 15 valid posts behind them forwarded"

# ---- 3. the dead-letter topic refuses for good ------------------------------------
kill -TERM "$ingest_PID"; wait "$ingest_PID" 2>/dev/null || true
echo '{"platform":' | kcat -P "${P[@]}"
sc_broker_ctl "produce_errors 1 10"
start ingest "$INGEST" "$ip"
deadline=$((SECONDS + 60))
until [ "$(metric "$ip" 'socialcare_dlq_failed_total\{[^}]*reason="bad_json",error="MSG_SIZE_TOO_LARGE"')" = 1 ]; do
  [ $SECONDS -lt $deadline ] || fail "no socialcare_dlq_failed_total for the refused dead letter"
  sleep 0.5
done
grep -q 'dead letter of social.posts.raw \[[0-9]*\] @[0-9]* (bad_json) refused for good, input skipped' \
  "$work/ingest.log" || fail "the refusal is not logged with its coordinates"
kcat -P "${P[@]}" -l "$work/v1.jsonl" # same ids: duplicates, not forwarded
printf '%s\n' '{"platform":"x","brand":"telko","post_id":"after","author":{"id":"1"},"text":"telko","created_at":"2026-11-20T10:00:00Z"}' |
  kcat -P "${P[@]}"
wait_count social.posts 16 60
kill -TERM "$ingest_PID"; wait "$ingest_PID" 2>/dev/null || true
refusals=$(grep -c 'refused for good' "$work/ingest.log")
start ingest "$INGEST" "$ip"
sleep 8 # joined and idle: a poison read again would be refused again by now
kill -0 "$ingest_PID" 2>/dev/null || fail "ingest died after the refusal"
[ "$(grep -c 'refused for good' "$work/ingest.log")" = "$refusals" ] || fail "refused input read again"
[ "$(count social.posts.raw.dlq)" -eq 2 ] || fail "the given-up input was dead-lettered after the restart"
echo "refused dead letter: counted (dlq_failed_total 1), logged with coordinates, offset stored"
kill -TERM "$ingest_PID"; wait "$ingest_PID" 2>/dev/null || true

# ---- 4. empty ids in the Avro workers ---------------------------------------------
cp=$(sc_free_port) rp=$(sc_free_port) tp=$(sc_free_port) ap=$(sc_free_port)
start classify "$CLASSIFY" "$cp"
start route "$ROUTE" "$rp"
start track "$TRACK" "$tp"
start alert "$ALERT" "$ap"
printf '%s\n' \
  're telko x r1 - - 2026-11-20T10:05:00Z' \
  're telko x "" - - 2026-11-20T10:06:00Z' \
  're "" x r2 - - 2026-11-20T10:06:00Z' \
  'in telko x "" - - 2026-11-20T10:00:00Z 1 care 2026-11-20T11:00:00Z normal 24x7' \
  'in "" x p9 - - 2026-11-20T10:00:00Z 1 care 2026-11-20T11:00:00Z normal 24x7' \
  >"$work/avro.tsv"
"$FEED" "$SC_BOOTSTRAP" "$work/avro.tsv" >/dev/null
# an Enriched record with an empty event id, from a real one: the first
# field of Enriched is the Post, whose first field is event_id
wait_count social.posts.enriched 1 60
kcat -C -b "$SC_BOOTSTRAP" -t social.posts.enriched -o beginning -c 1 -e -q -f '%s' >"$work/enr.bin" 2>/dev/null
python3 - "$work/enr.bin" "$work/enr_empty.bin" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
n, shift, i = 0, 0, 5
while True:
    c = b[i]; n |= (c & 0x7f) << shift; i += 1; shift += 7
    if not c & 0x80: break
ln = (n >> 1) ^ -(n & 1)
open(sys.argv[2], "wb").write(b[:5] + b"\x00" + b[i + ln:])
PY
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.enriched -k telko "$work/enr_empty.bin"
wait_count social.posts.dlq 4 60          # classify 2, track 2 (the Post topic)
wait_count care.routed.dlq 2 60           # track: the Routed ones
wait_count social.posts.enriched.dlq 2 60 # route and alert
sleep 2
for t in social.posts.dlq care.routed.dlq social.posts.enriched.dlq; do
  kcat -C -b "$SC_BOOTSTRAP" -t "$t" -o beginning -e -q -f '%t %h\n' 2>/dev/null
done >"$work/avro_dlq.txt"
python3 - "$work/avro_dlq.txt" <<'PY'
import collections, re, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    topic = line.split(" ", 1)[0]
    reason = re.search(r"sc-error-reason=([a-z_]+)", line).group(1)
    worker = re.search(r"sc-worker=([a-z]+)", line).group(1)
    c[(topic, worker, reason)] += 1
want = {("social.posts.dlq", "classify", "missing_field"): 2,
        ("social.posts.dlq", "track", "missing_field"): 2,
        ("care.routed.dlq", "track", "missing_field"): 2,
        ("social.posts.enriched.dlq", "route", "missing_field"): 1,
        ("social.posts.enriched.dlq", "alert", "missing_field"): 1}
assert dict(c) == want, dict(c)
print("empty ids: missing_field dead letters", {"%s/%s" % (k[1], k[0]): v for k, v in c.items()})
PY
keys=$(redis-cli -p "$SC_REDIS_PORT" --scan --pattern 'sc:{telko}:p:x:' | wc -l)
[ "$keys" -eq 0 ] || fail "track wrote a post state for an empty post id"
for w in classify route track alert; do
  eval "kill -0 \$${w}_PID" 2>/dev/null || fail "$w died"
done
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work"/*.log ||
  fail "sanitizer report in a worker log"
echo "faults poison: PASS"
