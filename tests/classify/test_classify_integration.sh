#!/usr/bin/env bash
# classify end to end: ingest -> classify through a real broker (+ Redis for
# ingest). Checks the Enriched records of the bundled samples, dead letters
# for records that are not Avro Posts, SIGHUP reload of the data files and of
# the model (a broken file keeps the running set; classifier_version names
# the model in use), and a clean SIGTERM.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 SC_DEVBROKER=$3 CTL=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up classify-it 3
fail() { echo "FAIL: $*"; echo "--- classify log"; tail -30 "$work/classify.log"; exit 1; }

export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
cp -r "$src/services/classify/data" "$work/data"
cp "$src/services/classify/models/sc-lin-1.model" "$work/sc.model"
shipped=$(echo x | "$CTL" classify --model "$work/sc.model" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["classifier_version"])')

"$INGEST" -o kafka.session.timeout.ms=6000 >"$work/ingest.log" 2>&1 &
PIDS+=($!)
"$CLASSIFY" -o kafka.session.timeout.ms=6000 -o classify.data_dir="$work/data" \
  -o classify.model="$work/sc.model" >"$work/classify.log" 2>&1 &
CLASSIFY_PID=$!
PIDS+=("$CLASSIFY_PID")

count() { sc_count "$1"; }
wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(count "$1"); [ "$n" -ge "$2" ] && return 0; sleep 0.5
  done
  fail "$1 has $n records, want $2"
}

# ---- 1. the samples -----------------------------------------------------------
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
wait_count social.posts.enriched 24 60
sleep 1
[ "$(count social.posts.enriched)" -eq 24 ] || fail "want exactly 24 enriched records"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.enriched -n 24 --timeout 10 >"$work/enriched.jsonl"
python3 - "$work/enriched.jsonl" "$shipped" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 24 and all(r["schema"] == "Enriched" for r in recs)
by = {}
for r in recs:
    v = r["value"]
    assert r["key"] == v["post"]["brand"]
    assert v["classifier_version"] == sys.argv[2], v["classifier_version"]
    assert v["language"] in ("pl", "en", "und")
    assert -1 <= v["sentiment"]["score"] <= 1
    assert v["priority"] in ("urgent", "high", "normal", "low")
    by[v["post"]["text"][:30]] = v
def get(prefix):
    for k, v in by.items():
        if k.startswith(prefix[:30]):
            return v
    raise AssertionError("no record for " + prefix)
def intents(v):
    return {i["name"] for i in v["intents"]}
v = get("@telko_pl nie dziala mi internet od rana")
assert v["language"] == "pl" and v["sentiment"]["label"] == "negative", v
assert "complaint" in intents(v) and v["needs_reply"] and "internet" in v["topics"], v
v = get("Trzeci dzień bez światłowodu")
assert {"complaint", "churn_risk"} <= intents(v), v
v = get("Great job @telko_pl, third outage")
assert v["sentiment"]["label"] == "negative" and "praise" not in intents(v), v
v = get("Ktoś właśnie wypłacił mi 2000 zł")
assert "crisis" in intents(v) and v["priority"] == "urgent", v
v = get("Szukam kredytu hipotecznego")
assert "purchase_intent" in intents(v) and "loans" in v["topics"], v
v = get("Dzięki @telko_pl za szybką wymianę")
assert v["sentiment"]["label"] == "positive" and not v["needs_reply"], v
v = get("Love the new @bankowo app update")
assert v["language"] == "en" and v["sentiment"]["label"] == "positive", v
brand = [r["value"] for r in recs if r["value"]["post"]["is_brand"]]
assert brand and not any(b["needs_reply"] for b in brand), "brand replies never need a reply"
print("samples: 24 enriched records, labels as expected")
PY

# ---- 2. not an Avro Post: dead letters, the worker goes on ----------------------
printf 'not avro at all\n' | kcat -P -b "$SC_BOOTSTRAP" -t social.posts -p 0
printf '\x00\x00\x00\x00\x07garbage\n' | kcat -P -b "$SC_BOOTSTRAP" -t social.posts -p 1
wait_count social.posts.dlq 2 30
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.dlq -n 2 --timeout 10 >"$work/dlq.jsonl"
python3 - "$work/dlq.jsonl" <<'PY'
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
assert len(d) == 2 and all(x["headers"]["sc-error-reason"] == "bad_avro" for x in d), d
assert all(x["headers"]["sc-worker"] == "classify" for x in d)
print("dead letters: 2 x bad_avro")
PY

# ---- 3. SIGHUP reloads the data files; a broken file keeps the running set -------
printf 'zorglub\t-3.5\n' >>"$work/data/sentiment.en.tsv"
kill -HUP "$CLASSIFY_PID"
sleep 1
post='{"platform":"x","brand":"telko","post_id":"hup1","author":{"id":"1"},"text":"the zorglub thing again","created_at":"2026-11-21T10:00:00Z"}'
echo "$post" | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw
wait_count social.posts.enriched 25 30
# The whole topic, not its first 25 records (a replayed record may be among
# them), read again until the post is there.
hup=
for i in 1 2 3; do
  hup=$("$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.enriched -n 1000 --timeout 8 |
    grep '"post_id": *"hup1"' || true)
  [ -n "$hup" ] && break
done
echo "$hup" | grep -q '"label": *"negative"' || fail "reloaded lexicon not used: ${hup:-no record of hup1}"
printf 'broken line without a tab\n' >>"$work/data/sentiment.en.tsv"
kill -HUP "$CLASSIFY_PID"
sleep 1
kill -0 "$CLASSIFY_PID" 2>/dev/null || fail "a broken data file killed the worker"
grep -q "sentiment.en.tsv" "$work/classify.log" || fail "the broken file was not reported"
echo "${post/hup1/hup2}" | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw
wait_count social.posts.enriched 26 30
echo "reload: new lexicon used; broken file rejected, running set kept"

# ---- 3b. SIGHUP reloads the model; a damaged model keeps the running one ------------
sed -i '$d' "$work/data/sentiment.en.tsv" # the data files are good again
python3 - "$work/toy.tsv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(300):
        k = i % 3
        w = [["awful", "broken"], ["tomorrow", "meeting"], ["great", "lovely"]][k][i % 2]
        f.write("en\t%s\t-\tthe %s thing is %s today\n" % (["negative", "neutral", "positive"][k], w, w))
PY
"$CTL" train --folds 0 --bits 12 -o "$work/toy.model" "tsv:$work/toy.tsv" >/dev/null
toy=$(echo x | "$CTL" classify --model "$work/toy.model" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["classifier_version"])')
[ "$toy" != "$shipped" ] || fail "toy model has the shipped version"
version_of() { # post_id -> classifier_version of its enriched record
  "$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.enriched --timeout 5 |
    python3 -c 'import json,sys
for l in sys.stdin:
    v = json.loads(l)["value"]
    if v["post"]["post_id"] == sys.argv[1]: print(v["classifier_version"])' "$1"
}
cp "$work/toy.model" "$work/sc.model"
kill -HUP "$CLASSIFY_PID"
sleep 1
echo "${post/hup1/hup3}" | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw
wait_count social.posts.enriched 27 30
[ "$(version_of hup3)" = "$toy" ] || fail "reloaded model not used: $(version_of hup3), want $toy"
head -c 2000 "$work/toy.model" >"$work/sc.model"
kill -HUP "$CLASSIFY_PID"
sleep 1
kill -0 "$CLASSIFY_PID" 2>/dev/null || fail "a damaged model killed the worker"
grep -q "sc.model" "$work/classify.log" || fail "the damaged model was not reported"
echo "${post/hup1/hup4}" | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw
wait_count social.posts.enriched 28 30
[ "$(version_of hup4)" = "$toy" ] || fail "damaged model replaced the running one"
echo "reload: new model used ($toy); damaged model rejected, running model kept"

# ---- 4. clean shutdown -----------------------------------------------------------
kill -TERM "$CLASSIFY_PID"
rc=0
for i in $(seq 1 300); do kill -0 "$CLASSIFY_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CLASSIFY_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "classify exited with $rc after SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/classify.log" ||
  fail "sanitizer report in the classify log"
echo "classify integration: PASS"
