#!/usr/bin/env bash
# route end to end: ingest -> classify -> route through a real broker (+ Redis
# for ingest), with the shipped config/socialcare.yaml. Checks, per sample
# post (by event id), the queue topic, team, priority, rule and the exact
# due_at (expected values written by hand from the calendars/teams/rules in
# the config, not computed by route's code), plus a DST and a holiday case;
# spam only on care.routed (drop_spam); the brand's own posts not routed;
# dead letters; the metrics; --check-config on a broken rules file; SIGTERM.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 ROUTE=$3 SC_DEVBROKER=$4 CTL=$5 FEED=$6
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up route-it 3
fail() { echo "FAIL: $*"; echo "--- route log"; tail -30 "$work/route.log"; exit 1; }

export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
mport=$(sc_free_port)
"$INGEST" -o kafka.session.timeout.ms=6000 -o ingest.max_future_s=31536000 >"$work/ingest.log" 2>&1 &
PIDS+=($!)
"$CLASSIFY" -o kafka.session.timeout.ms=6000 >"$work/classify.log" 2>&1 &
PIDS+=($!)
"$ROUTE" -o kafka.session.timeout.ms=6000 -o metrics.bind=127.0.0.1 \
  -o metrics.port="$mport" >"$work/route.log" 2>&1 &
ROUTE_PID=$!
PIDS+=("$ROUTE_PID")

wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(sc_count "$1"); [ "$n" -ge "$2" ] && return 0; sleep 0.5
  done
  fail "$1 has $n records, want $2"
}

# ---- 1. the samples + a DST and a holiday post ------------------------------------
# (the holiday post lies in the future of this run: ingest accepts a year ahead)
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
text='@telko_pl nie dziala mi internet od rana, router miga na czerwono. Ile mam jeszcze czekac?!'
for p in "dst-1 2026-03-28T13:50:00Z" "hol-1 2026-12-23T18:50:00Z"; do
  set -- $p
  printf '{"platform":"x","brand":"telko","post_id":"%s","author":{"id":"77","handle":"kasia_wro","followers":250},"text":"%s","created_at":"%s","lang":"pl"}\n' \
    "$1" "$text" "$2"
done | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw
# 24 distinct valid samples, 6 of them the brands' own: 18 + 2 routed.
wait_count care.routed 20 90
sleep 2
[ "$(sc_count care.routed)" -eq 20 ] || fail "want exactly 20 records on care.routed"
for t in care.routed care.queue.care care.queue.sales care.queue.pr care.queue.community; do
  "$CTL" consume -b "$SC_BOOTSTRAP" -t "$t" -n "$(sc_count "$t")" --timeout 10 >"$work/$t.jsonl"
done
python3 - "$work" <<'PY' || fail "routed records"
import json, sys, datetime
work = sys.argv[1]
def ms(iso):
    return int(datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
def u(x):  # Avro JSON unions: {"long": 1} / {"string": "x"} / null
    return list(x.values())[0] if isinstance(x, dict) else x
# Written by hand from config/socialcare.yaml: office_pl = mon-fri 08-20,
# sat 09-15 Europe/Warsaw (CET = UTC+1 in November/December, CEST = UTC+2
# from 2026-03-29), holidays incl. 12-24/25/26; pr is 24/7. care: urgent 15m
# high 30m normal 1h low 4h; sales: normal 2h; pr: urgent 15m high 30m.
# event id: (queue, team, priority, rule, due_at UTC or None)
want = {
 # Thu 14:20 local + 2h business
 "x:tw-bk-1": ("sales", "sales", "normal", "purchase", "2026-11-19T15:20:00Z"),
 # Thu 15:02 local + 30m
 "x:tw-bk-2": ("care", "care", "high", "care", "2026-11-19T14:32:00Z"),
 # crisis, 24/7 + 15m
 "facebook:fb-88001": ("pr", "pr", "urgent", "crisis", "2026-11-19T08:16:00Z"),
 # praise: no reply needed -> no SLA. The model reads a complaint in it
 # too (p 0.67: "love", "payments" are complaint words in the support sets),
 # but the post is surely positive (p 0.88) and the rules see nothing wrong
 # in it, so the complaint is withheld (MODEL.md "Decision points")
 "x:tw-bk-4": ("community", "community", "low", "praise", None),
 # Thu 12:45 local + 2h
 "forum:fr-77": ("sales", "sales", "normal", "purchase", "2026-11-19T13:45:00Z"),
 # hungry, asking where the nearest restaurant is: purchase intent (the
 # trained classifier; the rules missed it). Wed 2025-11-19 13:40 local + 2h
 "instagram:17900000000000011": ("sales", "sales", "normal", "purchase", "2025-11-19T14:40:00Z"),
 # crisis, 24/7: 08:13:20 + 15m
 "facebook:555000111_9001": ("pr", "pr", "urgent", "crisis", "2025-11-19T08:28:20Z"),
 "review:rv-3001": ("community", "community", "low", "praise", None),
 # Wed 20:05 local (closed) -> Thu 08:00 local + 30m
 "review:rv-3002": ("care", "care", "high", "care", "2026-11-19T07:30:00Z"),
 # Thu 08:12 local + 30m
 "x:1861000000000000001": ("care", "care", "high", "care", "2026-11-19T07:42:00Z"),
 # 15,400 followers, negative: pr 24/7 high 30m
 "x:1861000000000000003": ("pr", "pr", "high", "influencer-negative", "2026-11-19T09:35:00Z"),
 # "Great job @telko_pl, third outage this week 🙄": the model reads the
 # irony as negative (the rules read it neutral): high. Thu 13:15 local + 30m
 "x:1861000000000000006": ("care", "care", "high", "care", "2026-11-19T12:45:00Z"),
 # Thu 19:10 local + 30m
 "x:1861000000000000103": ("care", "care", "high", "care", "2026-11-19T18:40:00Z"),
 # spam: dropped, only on care.routed
 "x:1861000000000000104": (None, "care", "low", "spam", None),
 # negative (the trained classifier reads an order that never came as
 # negative; the rules read it as neutral): high. Thu 19:55 local: 5m, then
 # Fri 08:00 local + 25m
 "x:tw-tk-9": ("care", "care", "high", "care", "2026-11-20T07:25:00Z"),
 "x:1861000000000000004": ("community", "community", "low", "praise", None),
 # "do you have a roaming package for the UK?": asking for an offer is a
 # purchase intent (GUIDELINES.md; sc-lin-1+2dbccb75 reads it, the earlier
 # weights did not): sales normal 2h. Thu 12:00 local + 2h
 "x:1861000000000000005": ("sales", "sales", "normal", "purchase", "2026-11-19T13:00:00Z"),
 # Thu 18:30 local: 1h30 that day, then Fri 08:00 local + 30m
 # negative (car broke down) and a purchase intent: sales high 1h. Thu 18:30
 # local + 1h
 "x:1861000000000000101": ("sales", "sales", "high", "purchase", "2026-11-19T18:30:00Z"),
 # DST: Sat 2026-03-28 14:50 CET: 10m to 15:00, Sunday closed (clocks go
 # forward), Mon 08:00 CEST = 06:00Z + 20m
 "x:dst-1": ("care", "care", "high", "care", "2026-03-30T06:20:00Z"),
 # holiday: Wed 2026-12-23 19:50 CET: 10m, 24/25/26 holidays, 27 Sunday,
 # Mon 12-28 08:00 CET = 07:00Z + 20m
 "x:hol-1": ("care", "care", "high", "care", "2026-12-28T07:20:00Z"),
}
sla = {("care", "urgent"): 900, ("care", "high"): 1800, ("care", "normal"): 3600,
       ("care", "low"): 14400, ("sales", "normal"): 7200, ("pr", "urgent"): 900,
       ("pr", "high"): 1800, ("sales", "high"): 3600, ("community", "normal"): 14400}
cal = {"care": "office_pl", "sales": "office_pl", "pr": "always", "community": "office_pl"}
def load(t):
    return [json.loads(l) for l in open(f"{work}/{t}.jsonl")]
routed = load("care.routed")
by = {}
for r in routed:
    assert r["schema"] == "Routed", r
    v = r["value"]
    eid = v["enriched"]["post"]["event_id"]
    assert eid not in by, "duplicate " + eid
    assert r["key"] == v["enriched"]["post"]["brand"], r
    assert not v["enriched"]["post"]["is_brand"], "brand's own post routed: " + eid
    by[eid] = v
assert set(by) == set(want), (sorted(set(by) - set(want)), sorted(set(want) - set(by)))
queues = {}
for q in ("care", "sales", "pr", "community"):
    for r in load("care.queue." + q):
        assert r["key"] == r["value"]["enriched"]["post"]["brand"]
        queues.setdefault(r["value"]["enriched"]["post"]["event_id"], []).append(q)
wrong = [(eid, (by[eid]["team"], by[eid]["priority"], by[eid]["rule_id"]), (t, p, r))
         for eid, (q, t, p, r, d) in sorted(want.items())
         if (by[eid]["team"], by[eid]["priority"], by[eid]["rule_id"]) != (t, p, r)]
assert not wrong, "got / want: " + repr(wrong)
for eid, (queue, team, prio, rule, due) in sorted(want.items()):
    v = by[eid]
    assert queues.get(eid, [None]) == [queue], (eid, queues.get(eid))
    if queue is None:
        assert v["decision"] == "drop_spam" and "spam" in v["tags"], (eid, v)
        assert not v["needs_reply"] and u(v["due_at"]) is None
        continue
    assert v["decision"] == "queue", (eid, v["decision"])
    if due is None:
        assert u(v["due_at"]) is None and u(v["sla_target_s"]) is None, (eid, v)
        assert not v["needs_reply"]
    else:
        assert u(v["due_at"]) == ms(due), (eid, u(v["due_at"]), ms(due))
        assert u(v["sla_target_s"]) == sla[(team, prio)], eid
        assert u(v["calendar"]) == cal[team] and u(v["sla_policy"]) == f"{team}/{prio}", eid
        assert v["needs_reply"], eid
    assert v["routed_at"] > 1700000000000
assert by["facebook:fb-88001"]["tags"] == ["crisis"]
assert by["x:1861000000000000003"]["tags"] == ["influencer"]
assert by["x:tw-bk-1"]["tags"] == ["lead"]
# the embedded Enriched is the classify output, untouched
e = by["x:1861000000000000001"]["enriched"]
assert e["language"] == "pl" and "internet" in e["topics"] and e["post"]["author"]["followers"] == 250
print("routed: 20 posts, queues, rules and due_at as expected; spam dropped")
PY

# ---- 2. metrics ---------------------------------------------------------------------
curl -fsS "http://127.0.0.1:$mport/metrics" >"$work/metrics.txt"
m() { grep -E "^$1\{[^}]*$2[^}]*\} " "$work/metrics.txt" | awk '{print $2}' | head -1; }
[ "$(m socialcare_route_ignored_total 'reason="own_post"')" = 6 ] || fail "own_post count"
[ "$(m socialcare_route_posts_total 'team="care",decision="queue"')" = 8 ] || fail "care count"
[ "$(m socialcare_route_posts_total 'team="care",decision="drop_spam"')" = 1 ] || fail "spam count"
[ "$(m socialcare_route_rule_matches_total 'rule="purchase"')" = 5 ] || fail "rule count"
[ "$(m socialcare_route_rule_matches_total 'rule="telko-churn"')" = 0 ] || fail "series at 0"
[ "$(m socialcare_route_rule_matches_total 'rule="default"')" = 0 ] || fail "default at 0"
[ "$(m socialcare_route_posts_total 'team="sales",decision="drop_spam"')" = 0 ] || fail "0 series"
echo "metrics: own posts, teams, rules as expected"

# ---- 3. not an Avro Enriched: dead letters, the worker goes on -----------------------
printf 'not avro\n' | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.enriched -p 0
printf '\x00\x00\x00\x00\x01garbage\n' | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.enriched -p 1
# A well-formed Enriched whose created_at no post can have (before 1970).
echo "E telko x:ancient -5000 negative 0 10 - stara skarga" | "$FEED" "$SC_BOOTSTRAP" "$src/schemas"
wait_count social.posts.enriched.dlq 3 30
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.enriched.dlq -n 3 --timeout 10 >"$work/dlq.jsonl"
python3 - "$work/dlq.jsonl" <<'PY' || fail "dead letters"
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
reasons = sorted(x["headers"]["sc-error-reason"] for x in d)
assert reasons == ["bad_avro", "bad_avro", "bad_timestamp"], reasons
assert all(x["headers"]["sc-worker"] == "route" for x in d)
print("dead letters: 2 x bad_avro, 1 x bad_timestamp")
PY
kill -0 "$ROUTE_PID" || fail "route died on bad input"

# ---- 4. --check-config with a broken rules file ----------------------------------------
python3 - "$SOCIALCARE_CONFIG" "$work/bad.yaml" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = lines.index("    - id: purchase")
lines[i + 2] = "      then: {team: marketing, tags: [lead]}"
open(sys.argv[2], "w").write("\n".join(lines))
print(i + 3, file=open(sys.argv[2] + ".line", "w"))
PY
line=$(cat "$work/bad.yaml.line")
rc=0
"$ROUTE" -c "$work/bad.yaml" --check-config >"$work/check.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "--check-config on a broken file exited $rc"
grep -q "bad.yaml:$line: rule 'purchase': unknown team 'marketing'" "$work/check.out" ||
  fail "check-config message: $(cat "$work/check.out")"
"$ROUTE" -c "$SOCIALCARE_CONFIG" --check-config >/dev/null || fail "shipped config rejected"
echo "check-config: broken rules file rejected at line $line"

# ---- 5. clean shutdown ---------------------------------------------------------------------
kill -TERM "$ROUTE_PID"
rc=0
for i in $(seq 1 300); do kill -0 "$ROUTE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$ROUTE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "route exited with $rc after SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/route.log" ||
  fail "sanitizer report in the route log"
echo "route integration: PASS"
