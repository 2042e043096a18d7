#!/usr/bin/env bash
# alert end to end: devbroker + redis-server + socialcare-alert + a real
# webhook receiver (webhook_server.py) on loopback. Enriched and SlaEvent
# records come from alert_feed. Checks the care.alerts records, the webhook
# requests (ids, signatures, JSON and Slack bodies), a 400 target parked on
# care.alerts.webhook.dlq, dead letters for records that are not Avro, and
# that nothing is lost when the receiver is down for a while (worker running)
# or when the worker is stopped while deliveries are still failing.
set -euo pipefail
ALERT=$1 FEED=$2 SC_DEVBROKER=$3 CTL=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up alert-it 3
fail() {
  echo "FAIL: $*"
  echo "--- alert log"; tail -40 "$work/alert.log" 2>/dev/null || true
  echo "--- requests"; tail -20 "$work/requests.jsonl" 2>/dev/null || true
  exit 1
}

export SC_TEST_SECRET=t0p-s3cret
port=$(sc_free_port)
start_server() {
  sc_start_webhook "$work" "$port" "$SC_TEST_SECRET" || fail "webhook server did not start"
  SERVER_PID=$SC_HOOK_PID
  PIDS+=("$SERVER_PID")
}
stop_server() { kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

cat >"$work/alert.yaml" <<EOF
brands:
  - id: telko
    name: Telko
    keywords: ["telko"]
  - id: bankowo
    name: Bankowo
    keywords: ["bankowo"]
alert:
  tick_ms: 50
  shutdown_wait: 1s
  influencer:
    min_followers: 10000
  spike:
    window: 15m
    min_count: 10
  outbox:
    scan_interval: 1s
    grace: 3s
  targets:
    - id: ops-json
      url: http://127.0.0.1:$port/ok/json
      format: json
      secret_env: SC_TEST_SECRET
      backoff: 100ms
      backoff_max: 500ms
      max_attempts: 1000
      max_age: 10m
    - id: ops-slack
      url: http://127.0.0.1:$port/ok/slack
      format: slack
      secret_env: SC_TEST_SECRET
      kinds: [crisis_post, spike]
      backoff: 100ms
      backoff_max: 500ms
      max_attempts: 1000
    - id: broken
      url: http://127.0.0.1:$port/bad/x
      secret: other-secret
      kinds: [sla_breach]
EOF

start_alert() {
  "$ALERT" -c "$work/alert.yaml" -o kafka.session.timeout.ms=6000 \
    -o metrics.port="$mport" -o metrics.bind=127.0.0.1 >>"$work/alert.log" 2>&1 &
  ALERT_PID=$!
  PIDS+=("$ALERT_PID")
}
stop_alert() {
  kill -TERM "$ALERT_PID"
  local rc=0
  for i in $(seq 1 300); do kill -0 "$ALERT_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$ALERT_PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "alert exited with $rc after SIGTERM"
}

"$ALERT" -c "$work/alert.yaml" --check-config >/dev/null || fail "check-config"
! "$ALERT" -c "$work/alert.yaml" --print-config | grep -q "$SC_TEST_SECRET" ||
  fail "--print-config shows a secret"

mport=$(sc_free_port)
start_server
start_alert

count() { sc_count "$1"; }
wait_count() { # topic want timeout_s
  local deadline=$((SECONDS + $3)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(count "$1"); [ "$n" -ge "$2" ] && return 0; sleep 0.5
  done
  fail "$1 has $n records, want $2"
}
requests() { # path alert-id-prefix -> number of 200 answers
  python3 - "$work/requests.jsonl" "$1" "$2" <<'PY'
import json, sys
n = 0
try:
    for l in open(sys.argv[1]):
        r = json.loads(l)
        if r["path"] == sys.argv[2] and r["alert_id"].startswith(sys.argv[3]) and r["status"] == 200:
            n += 1
except FileNotFoundError:
    pass
print(n)
PY
}
wait_requests() { # path prefix want timeout_s
  local deadline=$((SECONDS + $4)) n=0
  while [ $SECONDS -lt $deadline ]; do
    n=$(requests "$1" "$2"); [ "$n" -ge "$3" ] && return 0; sleep 0.3
  done
  fail "$1: $n delivered requests for $2*, want $3"
}

# ---- 1. a storm, a crisis post, an influencer, an SLA breach, garbage ----------
# 40 minutes ago, on a minute: posts older than the spike window + baseline
# days, or from the future, are bounded by the worker's clock.
T=$((($(date +%s) / 60 - 40) * 60000))
{
  for i in $(seq 1 12); do
    echo "E telko e-storm-$i $((T + i * 1000)) negative 0 100 internet my internet is down again"
  done
  echo "E telko e-crisis-1 $((T + 20 * 60000)) negative 0.9 300 - food poisoning after your menu, two of us in hospital"
  echo "E bankowo e-infl-1 $((T + 60000)) negative 0 20000 app your app lost my transfer"
  echo "E bankowo e-calm-1 $((T + 61000)) positive 0 90000 app love the new app"
  echo "S telko e-sla-1 $((T - 3600000)) $((T - 600000))"
  # The same breach again (a second track copy): one alert, one request each.
  echo "S telko e-sla-1 $((T - 3600000)) $((T - 600000))"
  echo "E nobody e-unknown-1 $((T + 60000)) negative 0.9 10 - not a configured brand"
  echo "X not avro at all"
} | "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log" || fail "feed"

wait_count care.alerts 5 60
wait_count care.alerts.webhook.dlq 1 60
wait_count social.posts.enriched.dlq 2 30
wait_requests /ok/json "" 5 30
wait_requests /ok/slack "" 2 30
sleep 1
[ "$(count care.alerts)" -eq 5 ] || fail "want exactly 5 alerts, got $(count care.alerts)"
"$CTL" consume -b "$SC_BOOTSTRAP" -t care.alerts -n 5 --timeout 10 >"$work/alerts.jsonl"
"$CTL" consume -b "$SC_BOOTSTRAP" -t care.alerts.webhook.dlq -n 1 --timeout 10 >"$work/parked.jsonl"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.enriched.dlq -n 2 --timeout 10 >"$work/dlq.jsonl"
python3 - "$work" "$T" <<'PY' || fail "records or requests"
import json, sys
work, T = sys.argv[1], int(sys.argv[2])
def opt(v):
    return list(v.values())[0] if isinstance(v, dict) else v
alerts = {}
for l in open(work + "/alerts.jsonl"):
    r = json.loads(l)
    assert r["schema"] == "Alert", r
    v = r["value"]
    assert r["key"] == v["brand"], r
    alerts[v["alert_id"]] = v
ws = T - 14 * 60000  # storm evaluated at minute T: window [T-14m, T+1m)
want = {
    "spike:telko:%d" % ws: ("spike", "critical"),
    "spike_resolved:telko:%d" % ws: ("spike_resolved", "info"),
    "crisis_post:e-crisis-1": ("crisis_post", "critical"),
    "influencer_negative:e-infl-1": ("influencer_negative", "warning"),
    "sla_breach:e-sla-1": ("sla_breach", "warning"),
}
assert set(alerts) == set(want), sorted(alerts)
for k, (kind, sev) in want.items():
    assert alerts[k]["kind"] == kind and alerts[k]["severity"] == sev, alerts[k]
s = alerts["spike:telko:%d" % ws]
assert s["count"] == 12 and opt(s["window_start"]) == ws and len(s["post_event_ids"]) == 10, s
c = alerts["crisis_post:e-crisis-1"]
assert c["post_event_ids"] == ["e-crisis-1"] and "food poisoning" in c["summary"], c
assert opt(c["url"]) == "https://x.com/u/status/e-crisis-1", c

reqs = [json.loads(l) for l in open(work + "/requests.jsonl")]
ok = [r for r in reqs if r["status"] == 200]
assert all(r["sig_ok"] for r in ok), [r for r in ok if not r["sig_ok"]]
js = [r["alert_id"] for r in ok if r["path"] == "/ok/json"]
assert sorted(js) == sorted(want), js  # each once: the duplicate breach was not sent
for r in ok:
    if r["path"] == "/ok/json":
        b = r["body"]
        assert b["id"] == r["alert_id"] and b["kind"] == alerts[b["id"]]["kind"], b
sl = [r for r in ok if r["path"] == "/ok/slack"]
assert {r["alert_id"] for r in sl} == {"spike:telko:%d" % ws, "crisis_post:e-crisis-1"}, sl
for r in sl:
    assert r["body"]["text"] and r["body"]["blocks"][0]["type"] == "header", r["body"]
bad = [r for r in reqs if r["path"] == "/bad/x"]
assert len(bad) == 1 and bad[0]["alert_id"] == "sla_breach:e-sla-1", bad
assert not bad[0]["sig_ok"]  # signed with the broken target's own secret

p = [json.loads(l) for l in open(work + "/parked.jsonl")]
h = p[0]["headers"]
assert h["sc-webhook-target"] == "broken" and h["sc-park-reason"] == "http_4xx", h
assert h["sc-attempts"] == "1" and h["sc-alert-id"] == "sla_breach:e-sla-1", h
assert json.loads(p[0]["value"])["id"] == "sla_breach:e-sla-1"
d = [json.loads(l) for l in open(work + "/dlq.jsonl")]
assert sorted(x["headers"]["sc-error-reason"] for x in d) == ["bad_avro", "unknown_brand"], d
print("alerts: 5 records, 7 signed deliveries, 1 parked (http_4xx), 2 dead letters")
PY
curl -sf "http://127.0.0.1:$mport/metrics" >"$work/metrics.txt" || fail "metrics"
for m in 'socialcare_alerts_total{worker="alert",kind="spike",severity="critical"} 1' \
         'socialcare_webhook_deliveries_total{worker="alert",target="ops-json"} 5' \
         'socialcare_webhook_parked_total{worker="alert",target="broken"} 1' \
         'socialcare_webhook_failures_total{worker="alert",target="broken",reason="4xx"} 1' \
         'socialcare_webhook_pending{worker="alert",target="ops-slack"} 0' \
         'socialcare_alert_duplicates_total{worker="alert"} 1'; do
  grep -qF "$m" "$work/metrics.txt" || { grep socialcare_ "$work/metrics.txt" | grep -v "^#" | head -40; fail "metric: $m"; }
done
echo "metrics: alert and webhook series as expected"
# The unconfigured brand was dead-lettered, never counted into Redis.
[ -z "$(redis-cli -p "$SC_REDIS_PORT" --scan --pattern 'sc:{nobody}:*')" ] ||
  fail "keys written for an unconfigured brand"
grep -q 'socialcare_dlq_messages_total{.*reason="unknown_brand".*} 1' "$work/metrics.txt" ||
  { grep dlq_messages "$work/metrics.txt"; fail "unknown_brand dead letter not counted"; }

# ---- 2. receiver down for a while, worker running: nothing lost ----------------
stop_server
echo "E telko e-crisis-2 $((T + 21 * 60000)) neutral 0.8 10 - data leak: I can see other customers' invoices" |
  "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log"
wait_count care.alerts 6 30
sleep 2
[ "$(requests /ok/json crisis_post:e-crisis-2)" -eq 0 ] || fail "delivered while down?"
start_server
wait_requests /ok/json crisis_post:e-crisis-2 1 30
wait_requests /ok/slack crisis_post:e-crisis-2 1 30
echo "receiver down, then back: crisis_post:e-crisis-2 delivered to both targets"

# ---- 3. worker stopped while the receiver is down: the input is kept ----------
stop_server
echo "E telko e-crisis-3 $((T + 22 * 60000)) neutral 0.8 10 - safety: your charger caught fire" |
  "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log"
wait_count care.alerts 7 30
sleep 1
stop_alert
grep -q "webhook deliveries unfinished at shutdown" "$work/alert.log" ||
  fail "shutdown did not report the unfinished deliveries"
start_server
start_alert
wait_requests /ok/json crisis_post:e-crisis-3 1 60
wait_requests /ok/slack crisis_post:e-crisis-3 1 30
echo "worker restarted: crisis_post:e-crisis-3 consumed again and delivered"

# ---- 4. the outbox: a spike alert left there (a crash after the storm state
# moved on) is emitted again after the grace period, then removed.
redis-cli -p "$SC_REDIS_PORT" hset 'sc:{bankowo}:alert:outbox' 'spike:bankowo:1763632800000' \
  "$(printf '1\tbankowo\t\t1763632800000\t1763632800000\t1763633700000\t11\t0.5\t0.7\te-a\037e-b')" >/dev/null
wait_requests /ok/json spike:bankowo:1763632800000 1 30
wait_requests /ok/slack spike:bankowo:1763632800000 1 30
for i in $(seq 1 50); do
  [ "$(redis-cli -p "$SC_REDIS_PORT" hlen 'sc:{bankowo}:alert:outbox')" -eq 0 ] && break; sleep 0.2
done
[ "$(redis-cli -p "$SC_REDIS_PORT" hlen 'sc:{bankowo}:alert:outbox')" -eq 0 ] ||
  fail "outbox entry not removed after delivery"
python3 - "$work/requests.jsonl" <<'PY' || fail "outbox alert body"
import json, sys
b = [json.loads(l)["body"] for l in open(sys.argv[1]) if '"spike:bankowo:' in l and '/ok/json' in l][0]
assert b["count"] == 11 and b["post_event_ids"] == ["e-a", "e-b"] and b["brand"] == "bankowo", b
PY
echo "outbox: a stranded spike alert was emitted again, delivered and removed"

# ---- 5. Redis down: the batch is held (nothing produced), then goes through -----
n_before=$(count care.alerts)
sc_stop_redis
echo "E bankowo e-crisis-5 $((T + 30 * 60000)) negative 0.95 10 - the branch was robbed, is my money safe" |
  "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log"
sleep 3
[ "$(count care.alerts)" -eq "$n_before" ] || fail "alert produced while Redis was down"
grep -q "deferred" "$work/alert.log" || fail "no deferred batch while Redis was down"
sc_restart_redis
wait_count care.alerts $((n_before + 1)) 60
wait_requests /ok/json crisis_post:e-crisis-5 1 30
echo "redis down: batch held, then alert produced and delivered once Redis was back"

# ---- 6. a breach retracted (track's recovered event): sla_recovered goes to
# the targets of sla_breach, once, with the same id scheme.
{
  echo "R telko e-sla-1 $((T - 3600000)) $((T - 600000))"
  echo "R telko e-sla-1 $((T - 3600000)) $((T - 600000))"
} | "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log"
wait_requests /ok/json sla_recovered:e-sla-1 1 30
# The broken target (kinds: [sla_breach]) refuses it too: parked.
# Read the whole dead-letter topic, not its first records: a park left over
# from the restart above may already be the second one there.
wait_count care.alerts.webhook.dlq 2 30
parked=0
for i in 1 2 3; do
  # Not piped into grep -q: with pipefail, consume writing the records after
  # the match would die of SIGPIPE and turn a found record into a miss.
  "$CTL" consume -b "$SC_BOOTSTRAP" -t care.alerts.webhook.dlq -n 1000 --timeout 8 \
    >"$work/dlq.jsonl"
  if grep -q '"sc-alert-id": *"sla_recovered:e-sla-1"' "$work/dlq.jsonl"; then
    parked=1
    break
  fi
done
[ "$parked" = 1 ] || fail "sla_recovered not sent to the broken target ($(wc -l <"$work/dlq.jsonl") records on care.alerts.webhook.dlq)"
sleep 1
[ "$(requests /ok/json sla_recovered:e-sla-1)" -eq 1 ] || fail "sla_recovered sent twice"
[ "$(requests /ok/slack sla_recovered:e-sla-1)" -eq 0 ] ||
  fail "sla_recovered sent to a target without sla_breach"
echo "sla_recovered:e-sla-1 delivered once to the targets of sla_breach"

# Everything settled: offsets stored, the outbox empty, nothing sent twice
# after a clean stop and start.
sleep 2
stop_alert
n_alerts=$(count care.alerts)
n_json=$(requests /ok/json "")
start_alert
sleep 5
[ "$(count care.alerts)" -eq "$n_alerts" ] || fail "alerts produced again after a clean restart"
[ "$(requests /ok/json "")" -eq "$n_json" ] || fail "webhooks sent again after a clean restart"
[ "$(redis-cli -p "$SC_REDIS_PORT" hlen 'sc:{telko}:alert:outbox')" -eq 0 ] ||
  fail "outbox not emptied"
stop_alert
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/alert.log" ||
  fail "sanitizer report in the alert log"
echo "alert integration: PASS"
