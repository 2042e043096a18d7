#!/usr/bin/env bash
# SIGHUP applies an edited alert.targets: start with target A, raise an alert
# (A is still retrying it at the reload, and receives it after), rewrite the file to target B only, SIGHUP, raise another
# alert: B receives it and A does not. Then a broken file + SIGHUP is
# rejected with the file's line number, and B keeps receiving alerts.
set -euo pipefail
ALERT=$1 FEED=$2 SC_DEVBROKER=$3
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up alert-reload 1
fail() {
  echo "FAIL: $*"
  echo "--- alert log"; tail -40 "$work/alert.log" 2>/dev/null || true
  echo "--- requests"; tail -20 "$work/requests.jsonl" 2>/dev/null || true
  exit 1
}
port=$(sc_free_port)
sc_start_webhook "$work" "$port" s || fail "webhook server did not start"
PIDS+=("$SC_HOOK_PID")

config() { # target id, url path
  cat >"$work/alert.yaml" <<YAML
brands:
  - id: telko
    name: Telko
    keywords: ["telko"]
alert:
  tick_ms: 50
  shutdown_wait: 1s
  spike:
    enabled: false
  targets:
    - id: $1
      url: http://127.0.0.1:$port/$2
      secret: s
      backoff: 500ms
      backoff_max: 2s
      max_attempts: 1000
YAML
}
mport=$(sc_free_port)
metrics() { curl -sf "http://127.0.0.1:$mport/metrics" || true; }
wait_for() { # description timeout_s command...
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  while [ $SECONDS -lt $deadline ]; do "$@" && return 0; sleep 0.3; done
  fail "$what"
}
requests() { # path alert-id -> number of 200 answers
  python3 - "$work/requests.jsonl" "$1" "$2" <<'PY'
import json, sys
n = 0
try:
    for l in open(sys.argv[1]):
        r = json.loads(l)
        if r["path"] == sys.argv[2] and r["alert_id"] == sys.argv[3] and r["status"] == 200:
            n += 1
except FileNotFoundError:
    pass
print(n)
PY
}
got() { [ "$(requests "$1" "$2")" -ge 1 ]; }
metric_is() { metrics | grep -Fq "$1 $2"; }
raise() { # event id
  echo "E telko $1 $(($(date +%s) * 1000)) negative 0.9 10 - fire at telko" |
    "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log" || fail "feed"
}

# A fails the first 8 attempts of an alert: its delivery of e-r1 is still
# being retried when the reload removes A, and must still be delivered.
config ops-a 'flaky/a?fail=8'
"$ALERT" -c "$work/alert.yaml" -o kafka.session.timeout.ms=6000 \
  -o metrics.port="$mport" -o metrics.bind=127.0.0.1 >>"$work/alert.log" 2>&1 &
ALERT_PID=$!
PIDS+=("$ALERT_PID")

tried() { grep -q '"alert_id": *"crisis_post:e-r1"' "$work/requests.jsonl" 2>/dev/null; }
raise e-r1
wait_for "target A was not tried" 60 tried
[ "$(requests /flaky/a crisis_post:e-r1)" -eq 0 ] || fail "A answered 200 too early"

config ops-b ok/b
kill -HUP "$ALERT_PID"
wait_for "reload not done" 30 grep -q "reload done" "$work/alert.log"
wait_for "the delivery queued for removed target A was lost" 60 \
  got /flaky/a crisis_post:e-r1
wait_for "A's delivery not counted" 30 \
  metric_is 'socialcare_webhook_deliveries_total{worker="alert",target="ops-a"}' 1
metric_is 'socialcare_webhook_parked_total{worker="alert",target="ops-a"}' 0 ||
  fail "A's delivery was parked"
wait_for "no series for the new target" 30 \
  metric_is 'socialcare_webhook_deliveries_total{worker="alert",target="ops-b"}' 0
raise e-r2
wait_for "target B did not receive the alert raised after the reload" 60 \
  got /ok/b crisis_post:e-r2
[ "$(requests /flaky/a crisis_post:e-r2)" -eq 0 ] || fail "removed target A got e-r2"
[ "$(requests /ok/b crisis_post:e-r1)" -eq 0 ] || fail "B got the alert from before"

# Broken target (no url) on a known line: rejected, B still delivers.
config ops-b ok/b
cat >>"$work/alert.yaml" <<YAML
    - id: nourl
      secret: s
YAML
kill -HUP "$ALERT_PID"
wait_for "broken file not rejected" 30 grep -q "reload rejected" "$work/alert.log"
line=$(grep -n "id: nourl" "$work/alert.yaml" | cut -d: -f1)
grep "reload rejected" "$work/alert.log" | grep -q "alert.yaml:$line: alert.targets" ||
  fail "the rejection does not name the line: $(grep 'reload rejected' "$work/alert.log")"
wait_for "rejected reload not counted" 30 \
  metric_is 'socialcare_config_reloads_total{worker="alert",result="rejected"}' 1
raise e-r3
wait_for "B stopped receiving after the rejected reload" 60 got /ok/b crisis_post:e-r3
[ "$(requests /flaky/a crisis_post:e-r3)" -eq 0 ] || fail "A got e-r3"

kill -TERM "$ALERT_PID"
rc=0
for i in $(seq 1 300); do kill -0 "$ALERT_PID" 2>/dev/null || break; sleep 0.1; done
wait "$ALERT_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "alert exited with $rc after SIGTERM"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/alert.log" ||
  fail "sanitizer report in the alert log"
echo "alert reload: targets swapped on SIGHUP, broken file rejected: PASS"
