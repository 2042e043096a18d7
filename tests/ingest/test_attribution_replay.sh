#!/usr/bin/env bash
# Brand attribution through the whole pipeline (devbroker, redis-server,
# ingest -> classify -> route -> track): a generated multi-brand conversation
# set (tests/ingest/attr_gen.py: brands answering each other's customers,
# posts naming several brands, replies to brand A's post that start with
# "@A" and name B or name only B, follow-ups naming nobody, keywords with
# Polish inflection, X replies to a brand account) whose brands are never
# named by the input. Checks, per brand, received, needs_reply, replied,
# reply rate and FRT (median, average) from `socialcarectl stats --json`
# against the generator's own figures, and prints them. Then a second ingest
# (own group, own output topic) with ingest.multi_brand=all: one record per
# brand named, each with its own event id. In between, the same inputs at new
# offsets: counted as duplicates, the figures do not move.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 ROUTE=$3 TRACK=$4 SC_DEVBROKER=$5 CTL=$6
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/ingest
. "$src/tests/lib/stack.sh"
sc_stack_up attr-replay 3
cfg=$here/attr.yaml
fail() {
  echo "FAIL: $*"
  for w in ingest classify route track ingest_all; do
    echo "--- $w log"; tail -20 "$work/$w.log" 2>/dev/null || true
  done
  exit 1
}

# Two days ago (UTC): far enough for nothing to be in the future, and the
# team has no SLA target, so the timer decides nothing.
DAY=$(date -u -d '2 days ago' +%Y-%m-%d)
python3 "$here/attr_gen.py" "$DAY" "$work" 13
INPUTS=$(wc -l <"$work/raw.jsonl")
# One partition: a conversation reaches ingest in order (README "Brand
# attribution": a reply ingested before its parent cannot use its record).
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -p 0 -l "$work/raw.jsonl"

start() { # name exe args...
  local name=$1 exe=$2
  shift 2
  "$exe" -c "$cfg" -o kafka.consumer.session.timeout.ms=6000 "$@" >>"$work/$name.log" 2>&1 &
  PIDS+=($!)
}
IPORT=$(sc_free_port)
start ingest "$INGEST" -o metrics.bind=127.0.0.1 -o metrics.port="$IPORT"
start classify "$CLASSIFY"
start route "$ROUTE"
start track "$TRACK"
start ingest_all "$INGEST" -o ingest.multi_brand=all -o ingest.group_id=attr-all \
  -o ingest.output_topic=social.posts.all

stats() { "$CTL" stats -c "$cfg" --redis "$SC_REDIS_URL" --from "$DAY" --to "$DAY" --tz utc --json; }
# Done when track has counted every inbound post and every brand reply that
# answers one (the figures stop changing once they all match).
check() { # quiet?
  stats >"$work/stats.json" 2>/dev/null || return 1
  python3 - "$work/stats.json" "$work/expected.json" "$1" <<'PY'
import json, sys
got = {b["brand"]: b["total"] for b in json.load(open(sys.argv[1]))["brands"]}
want = json.load(open(sys.argv[2]))["brands"]
bad = []
for b, w in want.items():
    g = got.get(b, {})
    for k, v in w.items():
        # stats prints seconds with 3 decimals
        if not isinstance(g.get(k), (int, float)) or abs(g[k] - v) > 1e-3:
            bad.append("%s.%s = %s, want %s" % (b, k, g.get(k), v))
if bad and sys.argv[3] != "quiet":
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}
deadline=$((SECONDS + 120))
until check quiet; do
  [ $SECONDS -lt $deadline ] || { check loud || true; fail "stats never matched the generator"; }
  sleep 1
done
dlq=$(sc_count social.posts.raw.dlq)
[ "$dlq" = 0 ] || fail "$dlq raw inputs dead-lettered"

echo "attribution replay: $INPUTS raw inputs, brands never named by the input; stats == generator:"
python3 - "$work/stats.json" <<'PY'
import json, sys
print("  %-8s %8s %11s %7s %10s %14s %11s" % ("brand", "received", "needs_reply", "replied",
                                             "reply_rate", "frt_median_s", "frt_avg_s"))
for b in sorted(json.load(open(sys.argv[1]))["brands"], key=lambda b: b["brand"]):
    t = b["total"]
    print("  %-8s %8d %11d %7d %10.4f %14.1f %11.1f" % (
        b["brand"], t["received"], t["needs_reply"], t["replied"], t["reply_rate"],
        t["frt_median_s"], t["frt_avg_s"]))
PY

# ---- the same inputs again at new offsets: true duplicates, nothing changes -----------
cp "$work/stats.json" "$work/stats1.json"
dups() {
  curl -s "http://127.0.0.1:$IPORT/metrics" 2>/dev/null |
    awk '/^socialcare_ingest_duplicates_total\{/ { s += $NF } END { print s + 0 }'
}
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -p 0 -l "$work/raw.jsonl"
deadline=$((SECONDS + 60))
until [ "$(dups)" -ge "$INPUTS" ]; do
  [ $SECONDS -lt $deadline ] || fail "duplicates: $(dups) of $INPUTS"
  sleep 0.5
done
sleep 2
stats >"$work/stats2.json"
cmp -s "$work/stats1.json" "$work/stats2.json" || fail "the replay changed the figures"
echo "replay at new offsets: $(dups) duplicates counted, none forwarded, identical stats"
echo "ingest decided the brands (both passes) by: $(curl -s "http://127.0.0.1:$IPORT/metrics" |
  sed -n 's/^socialcare_ingest_attributed_total{.*by="\([a-z]*\)"} \(.*\)$/\1 \2/p' | paste -sd, -)"

# ---- multi_brand all: one copy per brand named --------------------------------------
want_all=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["copies"].values()))' "$work/expected.json")
deadline=$((SECONDS + 60))
until [ "$(sc_count social.posts.all)" -ge "$want_all" ]; do
  [ $SECONDS -lt $deadline ] || fail "social.posts.all: $(sc_count social.posts.all) of $want_all"
  sleep 0.5
done
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.all --timeout 5 >"$work/all.jsonl"
python3 - "$work/all.jsonl" "$work/expected.json" <<'PY'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want = json.load(open(sys.argv[2]))["copies"]
per = collections.Counter(r["key"] for r in recs)
assert dict(per) == want, (dict(per), want)
ids = [r["value"]["event_id"] for r in recs]
assert len(ids) == len(set(ids)), "event ids repeat"
for r in recs:
    v = r["value"]
    assert v["brand"] == r["key"], r
    base = "x:" + v["post_id"]
    assert v["event_id"] in (base, base + ":" + v["brand"]), v["event_id"]
copies = sum(1 for r in recs if r["value"]["event_id"].count(":") == 2)
print("multi_brand all: %d records (%d extra copies), per brand %s; event ids unique"
      % (len(recs), copies, dict(sorted(per.items()))))
PY

for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work"/*.log ||
  fail "sanitizer report in a worker log"
echo "attribution replay: PASS"
