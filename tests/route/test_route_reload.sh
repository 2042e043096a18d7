#!/usr/bin/env bash
# route SIGHUP reload under load: thousands of posts stream through ingest ->
# classify -> route while the deployment file is swapped for one that routes
# differently and SIGHUP is sent mid-stream; then a broken file + SIGHUP is
# rejected (log line with file:line) and the running rules are kept. Every
# input must reach care.routed at least once (counted by event id), and the
# posts sent after each reload must follow the rules in force.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 ROUTE=$3 SC_DEVBROKER=$4 CTL=$5
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up route-hup 3
fail() { echo "FAIL: $*"; echo "--- route log"; tail -30 "$work/route.log"; exit 1; }

export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
cfg=$work/route.yaml
cp "$SOCIALCARE_CONFIG" "$cfg"
# B: everything on x goes to community under rule v2-x; C: B with an unknown team.
python3 - "$SOCIALCARE_CONFIG" "$work" <<'PY'
import sys
text = open(sys.argv[1]).read()
head = text[:text.index("\nroute:\n")]
tail = text[text.index("# --- track"):]
b = head + """
route:
  default_team: community
  rules:
    - id: v2-x
      when: {platform: x}
      then: {team: community, tags: [v2]}

""" + tail
open(sys.argv[2] + "/b.yaml", "w").write(b)
c = b.replace("then: {team: community, tags: [v2]}", "then: {team: nosuchteam, tags: [v2]}")
open(sys.argv[2] + "/c.yaml", "w").write(c)
line = c[:c.index("nosuchteam")].count("\n") + 1
open(sys.argv[2] + "/c.line", "w").write(str(line))
PY

mport=$(sc_free_port)
"$INGEST" -o kafka.session.timeout.ms=6000 >"$work/ingest.log" 2>&1 &
PIDS+=($!)
"$CLASSIFY" -o kafka.session.timeout.ms=6000 >"$work/classify.log" 2>&1 &
PIDS+=($!)
"$ROUTE" -c "$cfg" -o kafka.session.timeout.ms=6000 -o metrics.bind=127.0.0.1 \
  -o metrics.port="$mport" -o route.batch_size=50 >"$work/route.log" 2>&1 &
ROUTE_PID=$!
PIDS+=("$ROUTE_PID")

gen() { # prefix count
  python3 - "$1" "$2" <<'PY'
import json, sys
texts = [("telko", "@telko_pl nie dziala mi internet od rana, router miga na czerwono. Ile mam jeszcze czekac?!"),
         ("bankowo", "Szukam kredytu hipotecznego, jakie macie oprocentowanie? @bankowo")]
for i in range(int(sys.argv[2])):
    brand, text = texts[i % 2]
    print(json.dumps({"platform": "x", "brand": brand, "post_id": f"{sys.argv[1]}-{i:05d}",
                      "author": {"id": str(1000 + i), "handle": f"user{i}", "followers": 120},
                      "text": text, "created_at": "2026-11-19T10:00:00Z", "lang": "pl"}))
PY
}
wait_log() { # pattern timeout_s
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    grep -q "$1" "$work/route.log" && return 0; sleep 0.2
  done
  fail "no '$1' in the route log"
}
wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(sc_count "$1"); [ "$n" -ge "$2" ] && return 0; sleep 0.5
  done
  fail "$1 has $n records, want $2"
}

# ---- 1. a stream of 3000 posts; SIGHUP with a new rule set mid-stream -------------------
gen p 3000 >"$work/p.jsonl"
(
  split -l 100 "$work/p.jsonl" "$work/chunk."
  for f in "$work"/chunk.*; do
    kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$f"
    sleep 0.3
  done
) &
FEED=$!
PIDS+=("$FEED")
wait_count care.routed 300 120
cp "$work/b.yaml" "$cfg.tmp" && mv "$cfg.tmp" "$cfg"
kill -HUP "$ROUTE_PID"
wait_log "route reloaded" 30
wait "$FEED"
gen q 1000 | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw

# ---- 2. a broken file + SIGHUP: rejected, the running rules stay -------------------------
cp "$work/c.yaml" "$cfg.tmp" && mv "$cfg.tmp" "$cfg"
kill -HUP "$ROUTE_PID"
wait_log "reload rejected" 30
line=$(cat "$work/c.line")
grep "reload rejected" "$work/route.log" | grep -q "route.yaml:$line: rule 'v2-x': unknown team 'nosuchteam'" ||
  fail "the rejection does not say where and why"
kill -0 "$ROUTE_PID" || fail "a broken config killed route"
gen r 500 | kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw

# ---- 3. nothing lost, rules in force ------------------------------------------------------
wait_count care.routed 4500 240
sleep 1
n=$(sc_count care.routed)
"$CTL" consume -b "$SC_BOOTSTRAP" -t care.routed -n "$n" --timeout 20 >"$work/routed.jsonl"
python3 - "$work/routed.jsonl" <<'PY' || fail "routed records after reload"
import json, sys
seen = {}
for l in open(sys.argv[1]):
    v = json.loads(l)["value"]
    eid = v["enriched"]["post"]["event_id"]
    seen.setdefault(eid, []).append((v["rule_id"], v["team"], v["tags"]))
want = {f"x:{p}-{i:05d}" for p, n in (("p", 3000), ("q", 1000), ("r", 500)) for i in range(n)}
missing = want - set(seen)
assert not missing, f"{len(missing)} lost, e.g. {sorted(missing)[:5]}"
old = {"care", "purchase"}
for eid, decisions in seen.items():
    for rule, team, tags in decisions:
        if eid.startswith(("x:q-", "x:r-")):
            assert (rule, team, tags) == ("v2-x", "community", ["v2"]), (eid, rule, team)
        else:
            assert rule in old | {"v2-x"}, (eid, rule)
p_old = sum(1 for e, d in seen.items() if e.startswith("x:p-") and d[0][0] in old)
p_new = sum(1 for e, d in seen.items() if e.startswith("x:p-") and d[0][0] == "v2-x")
dups = sum(len(d) - 1 for d in seen.values())
assert p_old >= 300, p_old
assert p_new > 0, "the reload did not land mid-stream"
print(f"all 4500 inputs routed ({dups} duplicates); stream: {p_old} old rules, "
      f"{p_new} new; after reload: new rules; after the broken file: kept")
PY
curl -fsS "http://127.0.0.1:$mport/metrics" >"$work/metrics.txt"
grep -Eq '^socialcare_config_reloads_total\{[^}]*result="ok"[^}]*\} 1$' "$work/metrics.txt" ||
  fail "reloads ok != 1"
grep -Eq '^socialcare_config_reloads_total\{[^}]*result="rejected"[^}]*\} 1$' "$work/metrics.txt" ||
  fail "reloads rejected != 1"
grep -Eq '^socialcare_route_rule_matches_total\{[^}]*rule="v2-x"[^}]*\} [1-9]' "$work/metrics.txt" ||
  fail "no counter for the reloaded rule"

kill -TERM "$ROUTE_PID"
rc=0
for i in $(seq 1 300); do kill -0 "$ROUTE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$ROUTE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "route exited with $rc after SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/route.log" ||
  fail "sanitizer report in the route log"
echo "route reload: PASS"
