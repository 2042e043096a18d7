#!/usr/bin/env bash
# The Grafana dashboard and the Prometheus alert rules against live workers:
# the deployment files are valid and consistent (check_dashboard.py static:
# JSON, unique panel ids, targets with expr, datasource uid from the
# provisioning file, prometheus jobs = compose services), then every worker the
# build has runs on a devbroker + redis-server with a metrics port, the sample
# posts flow through, and every socialcare_* family a panel or rule queries
# must be exported by at least one worker. A family owned by a worker whose
# binary is not built (route, track, alert on a branch without them) is SKIP.
set -euo pipefail
BUILD=$1 SC_DEVBROKER=$2
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="python3 $src/tests/deploy/check_dashboard.py"
. "$src/tests/lib/stack.sh"

out=$($CHECK static "$src") || { echo "$out"; exit 1; }

sc_stack_up ops-dashboard 3
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
declare -A PORT
built=
fail() {
  echo "FAIL: $*"
  for w in "${!PORT[@]}"; do echo "--- $w log"; tail -15 "$work/$w.log"; done
  exit 1
}
for w in ingest classify route track alert; do
  bin=$BUILD/services/$w/socialcare-$w
  [ -x "$bin" ] || { echo "note: $w not built"; continue; }
  PORT[$w]=$(sc_free_port)
  built=$built${built:+,}$w
  "$bin" -o kafka.session.timeout.ms=6000 -o metrics.port="${PORT[$w]}" \
    -o metrics.bind=127.0.0.1 >"$work/$w.log" 2>&1 &
  PIDS+=($!)
done
[ -n "${PORT[ingest]:-}" ] && [ -n "${PORT[classify]:-}" ] || fail "ingest and classify must be built"

for w in "${!PORT[@]}"; do
  deadline=$((SECONDS + 60))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${PORT[$w]}/healthz")" = 200 ]; do
    [ $SECONDS -lt $deadline ] || fail "$w: /healthz not 200 within 60 s"
    sleep 0.5
  done
done

kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
scrape_all() {
  local w
  for w in "${!PORT[@]}"; do
    curl -sf --max-time 5 "http://127.0.0.1:${PORT[$w]}/metrics" >"$work/$w.prom" ||
      fail "$w: scrape failed"
  done
}
# Poll until the samples went through and every queried family is there
# (downstream workers create some series only on their first input).
deadline=$((SECONDS + 120))
while :; do
  scrape_all
  n=$(python3 "$src/tests/ops/expo.py" sum "$work/classify.prom" socialcare_messages_out_total)
  if [ "$n" = 24 ] && $CHECK live "$src" "$built" "$work"/*.prom >/dev/null 2>&1; then break; fi
  [ $SECONDS -lt $deadline ] || { $CHECK live "$src" "$built" "$work"/*.prom || true; fail "see above (classify out: $n)"; }
  sleep 2
done
$CHECK live "$src" "$built" "$work"/*.prom
