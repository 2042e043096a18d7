#!/usr/bin/env bash
# The pipeline (ingest -> classify -> route -> track) on a real 3-node Kafka
# cluster (KRaft, topics with replication factor 3, min.insync.replicas 2; the
# workers' producers are idempotent, so acks=all) and a real Redis, fed while
# it runs:
#   failover   SIGKILL one broker mid-stream, bring it back: every post
#              arrives, the day counters are exact, no worker restarted.
#   scaleout   two copies of every worker in their groups (cooperative-sticky);
#              mid-stream a third copy of each joins, later one copy of each
#              leaves (SIGTERM): every post arrives once per event id, the
#              counters are exact (not double-counted).
# Prints the figures it checked.
#   test_cluster.sh failover|scaleout INGEST CLASSIFY ROUTE TRACK CTL
set -euo pipefail
MODE=$1 INGEST=$2 CLASSIFY=$3 ROUTE=$4 TRACK=$5 CTL=$6
src=$(cd "$(dirname "$0")/../.." && pwd)
export SC_TEST_BROKER=kafka SC_TEST_KAFKA_NODES=3 SC_CTL=$CTL
. "$src/tests/lib/stack.sh"
sc_stack_up "kafka-$MODE" 6
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml SOCIALCARE_LOG_LEVEL=info
N=${SC_CLUSTER_POSTS:-6000}
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $(basename "$f")"; grep -v ' info ' "$f" | tail -15; done
  exit 1
}

declare -A WPID
start_worker() { # name copy
  local exe
  case $1 in ingest) exe=$INGEST ;; classify) exe=$CLASSIFY ;; route) exe=$ROUTE ;; track) exe=$TRACK ;; esac
  "$exe" -o kafka.session.timeout.ms=10000 -o kafka.heartbeat.interval.ms=1000 \
    -o kafka.partition.assignment.strategy=cooperative-sticky \
    >>"$work/$1.$2.log" 2>&1 &
  WPID[$1.$2]=$!
  PIDS+=($!)
}
stop_worker() { # name copy: SIGTERM, the copy leaves its group cleanly
  local p=${WPID[$1.$2]} i
  kill -TERM "$p"
  for i in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && fail "$1 copy $2 did not stop within 30 s"
  wait "$p" || fail "$1 copy $2 exited with $? after SIGTERM"
  unset "WPID[$1.$2]"
}
WORKERS="ingest classify route track"
copies=1
[ "$MODE" = scaleout ] && copies=2
for w in $WORKERS; do for c in $(seq 1 $copies); do start_worker "$w" "$c"; done; done

# N customer posts (4 brands of config/socialcare.yaml), today, fed in chunks.
python3 - "$work/posts.txt" "$N" <<'PY'
import json, sys, datetime
texts = ["Trzeci dzień bez internetu, @telko_pl to skandal, zmieniam operatora!",
         "Is the @burgerhub on Main St open late tonight? Starving",
         "@bankowo zablokowaliście mi kartę bez powodu, nikt nie odbiera infolinii",
         "My car broke down on the A4, does @autofix_pl do roadside help?"]
brands = ["telko", "burgerhub", "bankowo", "autofix"]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        k = i % 4
        at = (now - datetime.timedelta(seconds=i % 600)).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write("%s|%s\n" % (brands[k], json.dumps({
            "platform": "x", "brand": brands[k], "post_id": "c%d" % i,
            "author": {"id": "u%d" % (i % 997), "handle": "user%d" % (i % 997)},
            "text": "%s #%d" % (texts[k], i), "created_at": at}, ensure_ascii=False)))
PY
split -l 200 "$work/posts.txt" "$work/chunk."
(for f in "$work"/chunk.*; do
   # (bounded: a feeder orphaned by a failing test gives up within a minute)
   kcat -P -b "$SC_BOOTSTRAP" -X enable.idempotence=true -X message.timeout.ms=60000 \
     -t social.posts.raw -K '|' -l "$f"
   sleep "${SC_CLUSTER_FEED_PAUSE:-1}"
 done) &
FEEDER=$!
PIDS+=("$FEEDER")

wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(sc_count "$1")
    [ "$n" -ge "$2" ] && return 0
    sleep 0.5
  done
  fail "$1 has $n records after $3 s, want >= $2"
}
received() { # the day counters summed over brands (Redis, via socialcarectl stats)
  local d
  d=$(date -u +%F)
  "$CTL" stats --redis "$SC_REDIS_URL" --from "$d" --to "$d" --tz utc --json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(b["total"]["received"] for b in json.load(sys.stdin)["brands"]))' ||
    echo 0
}
wait_received() { # want timeout_s
  local deadline=$((SECONDS + $2)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(received)
    [ "$n" -ge "$1" ] && return 0
    sleep 1
  done
  fail "track counted $n posts after $2 s, want $1"
}

t0=$SECONDS
wait_count care.routed $((N / 5)) 120
case $MODE in
failover)
  # The node that leads most of care.routed's partitions goes, mid-stream.
  victim=$(kcat -L -b "$SC_BOOTSTRAP" -t care.routed | sed -n 's/.*leader \([0-9]*\),.*/\1/p' |
           sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
  at=$(sc_count care.routed)
  sc_kafka_kill "$victim"
  echo "failover: SIGKILL broker $victim with $at of $N posts on care.routed"
  sleep 12 # down for longer than a session timeout: leaders move, the ISR shrinks
  during=$(sc_count care.routed)
  sc_kafka_restart "$victim" || fail "broker $victim did not come back"
  echo "failover: broker $victim back after 12 s; $during posts on care.routed meanwhile"
  ;;
scaleout)
  for w in $WORKERS; do start_worker "$w" 3; done
  echo "scaleout: a third copy of every worker joined with $(sc_count care.routed) of $N on care.routed"
  wait_count care.routed $((N / 2)) 120
  for w in $WORKERS; do stop_worker "$w" 1; done
  echo "scaleout: copy 1 of every worker left with $(sc_count care.routed) of $N on care.routed"
  ;;
esac
wait "$FEEDER"
wait_received "$N" 240
t1=$SECONDS
sleep 3 # anything counted twice would show now

for k in "${!WPID[@]}"; do
  if ! kill -0 "${WPID[$k]}" 2>/dev/null; then
    rc=0
    wait "${WPID[$k]}" || rc=$?
    echo "--- $k.log (exit $rc)"; tail -25 "$work/$k.log"
    fail "worker $k died (no restart is allowed)"
  fi
done
got=$(received)
[ "$got" -eq "$N" ] || fail "track counted $got posts, want exactly $N"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts --timeout 5 >"$work/posts.jsonl"
"$CTL" consume -b "$SC_BOOTSTRAP" -t care.routed --timeout 5 >"$work/routed.jsonl"
python3 - "$work/posts.jsonl" "$work/routed.jsonl" "$N" "$MODE" "$((t1 - t0))" <<'PY'
import json, sys, collections
n, mode = int(sys.argv[3]), sys.argv[4]
def event_id(v):  # Post, or Routed -> Enriched -> Post
    while "event_id" not in v:
        v = v.get("enriched") or v["post"]
    return v["event_id"]
def ids(path):
    return collections.Counter(event_id(json.loads(l)["value"]) for l in open(path))
posts, routed = ids(sys.argv[1]), ids(sys.argv[2])
want = {"x:c%d" % i for i in range(n)}
for name, got in (("social.posts", posts), ("care.routed", routed)):
    lost = want - set(got)
    assert not lost, "%s lost %d posts, e.g. %s" % (name, len(lost), sorted(lost)[:5])
    assert set(got) == want, "%s has unknown ids" % name
print("%s: %d posts, 0 lost; social.posts %d records (%d re-sent, same event id), "
      "care.routed %d records (%d re-sent); track counted %d, exact; %s s to drain"
      % (mode, n, sum(posts.values()), sum(posts.values()) - n, sum(routed.values()),
         sum(routed.values()) - n, n, sys.argv[5]))
PY
if [ "$MODE" = scaleout ]; then
  # The joining copies got work, and the copies that stayed took over the
  # leaving copy's partitions (cooperative: incremental assignments).
  for w in $WORKERS; do
    grep -q "assigned" "$work/$w.3.log" || fail "$w copy 3 was never assigned a partition"
    [ "$(grep -c "assigned" "$work/$w.2.log")" -gt 0 ] || fail "$w copy 2 has no assignment"
  done
  echo "scaleout: every joining copy was assigned partitions; $(cat "$work"/*.2.log "$work"/*.3.log | grep -c revoked) partitions revoked from the copies that stayed"
else
  # The restarted broker is back in every partition's ISR.
  deadline=$((SECONDS + 60))
  until ! kcat -L -b "$SC_BOOTSTRAP" -t care.routed | grep -q 'isrs: [0-9]*,[0-9]*$' &&
        ! kcat -L -b "$SC_BOOTSTRAP" -t care.routed | grep -Eq 'isrs: [0-9]+$'; do
    [ $SECONDS -lt $deadline ] || fail "broker $victim did not rejoin the ISR of care.routed"
    sleep 1
  done
  echo "failover: broker $victim back in the ISR of every care.routed partition"
fi
for k in "${!WPID[@]}"; do
  ! grep -Eq "AddressSanitizer|runtime error|fatal kafka error" "$work/$k.log" ||
    fail "error report in $k.log"
done
echo "cluster $MODE: PASS"
