#!/usr/bin/env bash
# The whole pipeline (ingest -> classify -> route -> track, and alert) on a
# real Redis Cluster (3 masters + 3 replicas, tests/lib/redis_cluster.sh)
# against the same pipeline on one redis-server, same input, time pinned:
#  A. one node: chunks 1+2, stats; chunk 3, stats (the reference);
#  B. cluster: chunk 1; chunk 2 fed while the slot of {telko} is migrated to
#     another master key by key (SETSLOT IMPORTING/MIGRATING + MIGRATE: the
#     workers meet ASK, TRYAGAIN and MOVED), telko's pending set and outbox
#     last (its second half goes through while they are the only keys left on
#     the old master) -> `socialcarectl stats` equals A exactly, the business
#     gauges read from the cluster;
#  C. chunk 3 fed while telko's master is SIGKILLed and its replica promoted
#     -> no counter above the reference (no double count); what is lost
#     (acknowledged writes not yet replicated) is measured and printed.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 ROUTE=$3 TRACK=$4 ALERT=$5 SC_DEVBROKER=$6 CTL=$7
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
. "$src/tests/lib/redis_cluster.sh"
work=$(mktemp -d /tmp/sc-cluster-stack.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; sc_cleanup; sc_stop_redis_cluster; rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  for w in ingest classify route track alert; do
    echo "$w: in $(metric_sum $w socialcare_messages_in_total) out $(metric_sum $w socialcare_messages_out_total) dlq $(metric_sum $w socialcare_dlq_messages_total)"
  done
  for f in ingest track alert; do echo "--- $f log"; tail -15 "$work/$f.log" 2>/dev/null || true; done
  exit 1
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

export SOCIALCARE_CONFIG=$src/config/socialcare.yaml SOCIALCARE_LOG_LEVEL=warn
export SC_FAKE_NOW_MS=$(date -u -d 2026-11-20T12:00:00Z +%s)000
N=600 # customer posts per chunk; about half get a brand reply
python3 - "$work" "$N" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
random.seed(16)
brands = [("telko", "telko_pl", "telko_pomoc", "@telko_pl internet nie działa, router miga"),
          ("bankowo", "bankowo", "bankowo_help", "@bankowo zablokowana karta, pomocy"),
          ("burgerhub", "burgerhub", "burgerhub", "@burgerhub is the Main St place open late?"),
          ("autofix", "autofix_pl", "autofix_pl", "@autofix_pl my car broke down on the A4")]
def rec(pid, author, uid, text, at, conv, reply_to, tag):
    d = {"id": pid, "text": text, "author_id": uid, "created_at": at,
         "conversation_id": conv, "lang": "pl"}
    if reply_to:
        d["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
    return json.dumps({"data": d, "includes": {"users": [{"id": uid, "username": author,
        "name": author, "verified": False, "public_metrics": {"followers_count": 100}}]},
        "matching_rules": [{"id": "1", "tag": tag}]}, ensure_ascii=False)
k = 0
for c in range(3):
    out = []
    for i in range(n):
        b, _, acct, text = brands[k % 4]
        pid = "19%016d" % k
        t = 8 * 3600 + (k * 7) % 10000
        at = "2026-11-20T%02d:%02d:%02d.000Z" % (t // 3600, t // 60 % 60, t % 60)
        out.append(rec(pid, "user%d" % (k % 500), str(1000 + k % 500), text + " #%d" % k,
                       at, pid, None, b))
        if random.random() < 0.5:
            t2 = t + 60 * random.randint(1, 90)
            at2 = "2026-11-20T%02d:%02d:%02d.000Z" % (t2 // 3600, t2 // 60 % 60, t2 % 60)
            out.append(rec("29%016d" % k, acct, "9%03d" % (k % 4), "@user%d sprawdzamy" % (k % 500),
                           at2, pid, pid, b))
        k += 1
    if c == 0:
        # Unanswered telko posts due after the pinned now: telko's pending
        # set exists for the whole run (the migration moves it last).
        for j in range(3):
            out.append(rec("39%016d" % j, "late%d" % j, str(3000 + j), brands[0][3] + " late %d" % j,
                           "2026-11-20T11:5%d:00.000Z" % (5 + j), "39%016d" % j, None, "telko"))
    with open("%s/chunk%d.jsonl" % (work, c + 1), "w") as f:
        f.write("\n".join(out) + "\n")
PY
lines() { cat "$@" | wc -l; }

declare -A port
start_workers() { # label
  local w exe
  for w in ingest classify route track alert; do
    case $w in ingest) exe=$INGEST ;; classify) exe=$CLASSIFY ;; route) exe=$ROUTE ;;
               track) exe=$TRACK ;; alert) exe=$ALERT ;; esac
    port[$w]=$(sc_free_port)
    extra=()
    [ $w = track ] && extra=(-o track.gauge_interval=1s)
    "$exe" -o kafka.session.timeout.ms=6000 -o metrics.bind=127.0.0.1 -o metrics.port="${port[$w]}" \
      "${extra[@]}" >>"$work/$w.log" 2>&1 &
    PIDS+=($!)
    port[$w.pid]=$!
  done
}
stop_workers() {
  local w rc
  for w in ingest classify route track alert; do kill -TERM "${port[$w.pid]}" 2>/dev/null || true; done
  for w in ingest classify route track alert; do
    rc=0
    wait "${port[$w.pid]}" || rc=$?
    [ "$rc" -eq 0 ] || fail "$w exited with $rc after SIGTERM"
  done
}
metric_sum() { # worker name [label filter]
  curl -fsS "http://127.0.0.1:${port[$1]}/metrics" 2>/dev/null |
    awk -v n="$2" -v f="${3:-}" 'index($0, n) == 1 && index($0, f) { s += $NF } END { print s + 0 }'
}
# Every record fed is in, and every worker consumed all that its upstream
# workers produced on the topics it reads (then the stats must stop moving).
consumed() { # n
  local w urls=()
  for w in ingest classify route track alert; do
    kill -0 "${port[$w.pid]}" 2>/dev/null || fail "$w is not running"
    urls+=("http://127.0.0.1:${port[$w]}/metrics")
  done
  python3 - "$1" "${urls[@]}" <<'PY'
import re, sys, urllib.request
n, ins, outs = int(sys.argv[1]), [], {}
for u in sys.argv[2:]:
    txt = urllib.request.urlopen(u, timeout=5).read().decode()
    mine = {}
    for m in re.finditer(r'^socialcare_messages_(in|out)_total\{([^}]*)\} (\S+)$', txt, re.M):
        t = re.search(r'topic="([^"]*)"', m.group(2)).group(1)
        if m.group(1) == "in":
            mine[t] = mine.get(t, 0) + float(m.group(3))
        else:
            outs[t] = outs.get(t, 0) + float(m.group(3))
    ins.append(mine)
if ins[0].get("social.posts.raw", 0) < n:
    sys.exit(1)
for mine in ins[1:]:
    for t, v in mine.items():
        if v < outs.get(t, 0):
            sys.exit(1)
PY
}
stats() { # url out
  "$CTL" stats -c "$SOCIALCARE_CONFIG" --redis "$1" --from 2026-11-20 --to 2026-11-20 --json >"$2"
}
settle() { # url out n
  wait_until 120 "all $3 records through the pipeline" consumed "$3"
  local prev=
  stats "$1" "$2.prev"
  for _ in $(seq 1 30); do
    sleep 1
    stats "$1" "$2"
    cmp -s "$2" "$2.prev" && return 0
    mv "$2" "$2.prev"
  done
  fail "stats still moving"
}
feed() { kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$1"; }
# A chunk in 8 slices 0.4 s apart, so the workers run during what the caller
# does meanwhile.
feed_slowly() { # file
  split -n l/8 "$1" "$work/slice."
  for f in "$work"/slice.*; do feed "$f"; rm -f "$f"; sleep 0.4; done
}

# ---- A. one redis-server: the reference ------------------------------------------
t0=$SECONDS
sc_start_broker "$work" 3
sc_start_redis "$work"
export SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS=$SC_BOOTSTRAP SOCIALCARE_REDIS_URL=$SC_REDIS_URL
start_workers
feed "$work/chunk1.jsonl"
feed "$work/chunk2.jsonl"
settle "$SC_REDIS_URL" "$work/a2.json" "$(lines "$work"/chunk[12].jsonl)"
feed "$work/chunk3.jsonl"
settle "$SC_REDIS_URL" "$work/a3.json" "$(lines "$work"/chunk[123].jsonl)"
stop_workers
sc_cleanup
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print("reference (one node):", ", ".join("%s received %d replied %d" % (b["brand"], b["total"]["received"], b["total"]["replied"]) for b in d["brands"]))' "$work/a3.json"
echo "A took $((SECONDS - t0)) s"

# ---- B. the cluster, a slot migrated during the run ------------------------------
t0=$SECONDS
sc_start_redis_cluster "$work/cluster"
sc_start_broker "$work" 3
export SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS=$SC_BOOTSTRAP SOCIALCARE_REDIS_URL=$SC_CLUSTER_URL
: >"$work/ingest.log"; : >"$work/track.log"; : >"$work/alert.log"
start_workers
feed "$work/chunk1.jsonl"
wait_until 60 "chunk 1 through the pipeline" consumed "$(lines "$work/chunk1.jsonl")"

P0=${SC_CLUSTER_PORTS[0]}
slot=$(sc_cluster_cli "$P0" cluster keyslot '{telko}')
from=$(sc_cluster_master_of '{telko}')
to=
for p in $(sc_cluster_cli "$P0" cluster nodes | awk '$3 ~ /master/ { split($2, a, "[:@]"); print a[2] }'); do
  [ "$p" != "$from" ] && { to=$p; break; }
done
[ -n "$from" ] && [ -n "$to" ] || fail "no masters to migrate between"
masters=$(sc_cluster_cli "$P0" cluster nodes | awk '$3 ~ /master/ { split($2, a, "[:@]"); print a[2] }')
# The keys track's scripts route by (telko's pending set, outbox) move LAST,
# after the post records and day hashes: meanwhile the brand's state is split
# between the nodes and no track script may run on either (ASK/TRYAGAIN: the
# batch is held until the slot has moved).
last=" sc:{telko}:pending sc:{telko}:outbox "
migrate_keys() { # rest|last: 10 keys at a time, slowly, while the workers write
  local keys batch k out
  for _ in $(seq 1 2000); do
    mapfile -t keys < <(sc_cluster_cli "$from" cluster getkeysinslot "$slot" 100000)
    batch=()
    for k in "${keys[@]}"; do
      [ -n "$k" ] || continue
      [ "$1" = last ] || case $last in *" $k "*) continue ;; esac
      batch+=("$k")
      [ ${#batch[@]} -lt 10 ] || break
    done
    [ ${#batch[@]} -gt 0 ] || return 0
    out=$(sc_cluster_cli "$from" migrate 127.0.0.1 "$to" "" 0 5000 KEYS "${batch[@]}")
    [ "$out" = OK ] || { echo "MIGRATE: $out"; return 1; }
    sleep 0.02
  done
}
fid=$(sc_cluster_cli "$from" cluster myid)
tid=$(sc_cluster_cli "$to" cluster myid)
[ "$(sc_cluster_cli "$from" exists 'sc:{telko}:pending')" = 1 ] ||
  fail "telko has no pending set after chunk 1: nothing to migrate last"
echo "migrating slot $slot ({telko}) from :$from to :$to while chunk 2 is fed, its pending set and outbox last"
held0=$(metric_sum track socialcare_redis_errors_total)
tm=$SECONDS
split -n l/2 "$work/chunk2.jsonl" "$work/half."
sc_cluster_cli "$to" cluster setslot "$slot" importing "$fid" >/dev/null
sc_cluster_cli "$from" cluster setslot "$slot" migrating "$tid" >/dev/null
migrate_keys rest >"$work/migrate.log" 2>&1 &
MIG=$!
feed_slowly "$work/half.aa"
wait "$MIG" || fail "migration failed: $(cat "$work/migrate.log")"
# Every other key is on $to now: the second half goes through the workers
# while telko's pending set and outbox are still on $from.
feed_slowly "$work/half.ab"
sleep 2
migrate_keys last >>"$work/migrate.log" 2>&1 || fail "migration failed: $(cat "$work/migrate.log")"
for p in $masters; do sc_cluster_cli "$p" cluster setslot "$slot" node "$tid" >/dev/null; done
echo "migrated in $((SECONDS - tm)) s; track batches held meanwhile: $(($(metric_sum track socialcare_redis_errors_total) - held0))"
[ "$(sc_cluster_master_of '{telko}')" = "$to" ] || fail "slot not migrated"
settle "$SC_CLUSTER_URL" "$work/b2.json" "$(lines "$work"/chunk[12].jsonl)"
cmp "$work/a2.json" "$work/b2.json" || {
  diff <(python3 -m json.tool "$work/a2.json") <(python3 -m json.tool "$work/b2.json") | head -20
  fail "cluster stats differ from one node after the migration"
}
red=0 per=
for w in ingest track alert; do
  n=$(metric_sum $w socialcare_redis_redirects_total)
  red=$((red + n)) per+="$w $n "
done
[ "$red" -gt 0 ] || fail "no MOVED/ASK followed during the migration"
# The business gauges (track reads them from the cluster): today is the pinned 20th.
want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print([b for b in d["brands"] if b["brand"] == "telko"][0]["total"]["received"])' "$work/b2.json")
gauge_is() { [ "$(metric_sum track 'socialcare_brand_received{' 'brand="telko"')" = "$1" ]; }
wait_until 30 "gauge socialcare_brand_received{brand=telko} = $want" gauge_is "$want"
echo "migration: stats equal to one node, $red redirections followed ($per), gauge received = $want"
echo "B took $((SECONDS - t0)) s"

# ---- C. telko's master killed, its replica promoted ------------------------------
t0=$SECONDS
victim=$(sc_cluster_master_of '{telko}')
errs0=$(metric_sum track socialcare_redis_errors_total)
feed_slowly "$work/chunk3.jsonl" &
FEEDER=$!
sleep 1.2
kill -9 "$(sc_cluster_pid "$victim")"
echo "SIGKILL to :$victim (master of {telko}) while chunk 3 is fed"
wait "$FEEDER"
live=$P0
[ "$live" != "$victim" ] || live=${SC_CLUSTER_PORTS[1]}
promoted() {
  local m
  m=$(sc_cluster_master_of '{telko}' "$live")
  [ -n "$m" ] && [ "$m" != "$victim" ] &&
    sc_cluster_cli "$live" cluster info | grep -q '^cluster_state:ok'
}
wait_until 60 "a replica promoted" promoted
echo "promoted: :$(sc_cluster_master_of '{telko}' "$live") after $((SECONDS - t0)) s"
settle "$SC_CLUSTER_URL" "$work/c3.json" "$(lines "$work"/chunk[123].jsonl)"
[ "$(metric_sum track socialcare_redis_errors_total)" -gt "$errs0" ] ||
  fail "track saw no Redis error: the kill did not hit a batch"
python3 - "$work/a3.json" "$work/c3.json" <<'PY'
import json, sys
a = {b["brand"]: b["total"] for b in json.load(open(sys.argv[1]))["brands"]}
c = {b["brand"]: b["total"] for b in json.load(open(sys.argv[2]))["brands"]}
keys = ["received", "needs_reply", "replied", "sla_hit", "sla_missed", "late", "pending"]
lost, over = [], []
for b in a:
    for k in keys:
        d = a[b][k] - c[b][k]
        if d > 0:
            lost.append("%s %s -%d" % (b, k, d))
        if d < 0:
            over.append("%s %s +%d" % (b, k, -d))
# pending/sla_missed can rise when a reply is what got lost; everything
# counted per event must not exceed the reference.
bad = [o for o in over if o.split()[1] in ("received", "needs_reply", "replied", "sla_hit", "late")]
assert not bad, "double counted after the failover: %s" % bad
tot = sum(a[b]["received"] + a[b]["replied"] for b in a)
what = "nothing lost" if not lost and not over else "lost " + ", ".join(lost) + (
    "; shifted " + ", ".join(over) if over else "")
print("failover: %s (reference: %d received + replied)" % (what, tot))
PY
echo "C took $((SECONDS - t0)) s"
stop_workers
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work"/*.log ||
  fail "sanitizer report in a worker log"
echo "cluster stack: PASS"
