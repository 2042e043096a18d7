#!/usr/bin/env bash
# A webhook delivery that can be neither made (the target answers 4xx) nor
# parked (the park record is over the producer's message.max.bytes) must keep
# its input unstored: after a restart the input is consumed again and its
# alert emitted again (the dedup claim names this very input, so it is not a
# duplicate). Without that, the offset was stored and the alert lost.
set -euo pipefail
ALERT=$1 FEED=$2 SC_DEVBROKER=$3
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up alert-park 1
fail() {
  echo "FAIL: $*"
  echo "--- alert log"; tail -40 "$work/alert.log" 2>/dev/null || true
  exit 1
}
port=$(sc_free_port)
sc_start_webhook "$work" "$port" x || fail "webhook server did not start"
PIDS+=("$SC_HOOK_PID")

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
    - id: slack-bad
      url: http://127.0.0.1:$port/bad/x
      format: slack
      secret: x
YAML
mport=$(sc_free_port)
start_alert() {
  # 1000 bytes: the Avro Alert fits, the Slack body (the summary twice) does not.
  "$ALERT" -c "$work/alert.yaml" -o kafka.session.timeout.ms=6000 \
    -o kafka.producer.message.max.bytes=1000 \
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
wait_for() { # description timeout_s command...
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  while [ $SECONDS -lt $deadline ]; do "$@" && return 0; sleep 0.3; done
  fail "$what"
}
parks_failed() { [ "$(grep -c 'park of crisis_post:e-big-1 for slack-bad failed' "$work/alert.log")" -ge "$1" ]; }
alerts_at_least() { [ "$(sc_count care.alerts)" -ge "$1" ]; }

text=$(printf 'fire %.0s' $(seq 1 70))
start_alert
echo "E telko e-big-1 $(($(date +%s) * 1000)) negative 0.9 10 - $text" |
  "$FEED" "$SC_BOOTSTRAP" "$src/schemas" 2>>"$work/feed.log" || fail "feed"
wait_for "no alert" 60 alerts_at_least 1
wait_for "the park did not fail" 60 parks_failed 1
stop_alert
start_alert
wait_for "input not consumed again after the failed park" 60 alerts_at_least 2
wait_for "second park attempt" 60 parks_failed 2
stop_alert
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$work/alert.log" ||
  fail "sanitizer report in the alert log"
echo "alert park failure: input kept and consumed again: PASS"
