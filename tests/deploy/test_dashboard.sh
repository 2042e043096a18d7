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
# The live check must fail when the workers export nothing.
if $CHECK live "$src" ingest,classify,route,track,alert /dev/null >/dev/null 2>&1; then
  echo "FAIL: check_dashboard.py live accepts an empty exposition"; exit 1
fi

sc_stack_up ops-dashboard 3
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
# alert creates its webhook series per configured target: give it one, a real
# HTTP receiver on loopback, in a copy of the deployment file.
if [ -x "$BUILD/services/alert/socialcare-alert" ]; then
  HOOK_PORT=$(sc_free_port)
  python3 - "$HOOK_PORT" >"$work/hook.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  PIDS+=($!)
  PY=$(head -1 "$(command -v docker-compose 2>/dev/null || echo /dev/null)" | sed -n 's/^#!//p')
  { [ -n "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null; } || PY=python3
  "$PY" - "$SOCIALCARE_CONFIG" "$work/socialcare.yaml" "$HOOK_PORT" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
alert = cfg.get("alert") or {}
alert["targets"] = [{"id": "dashboard-hook", "format": "json",
                     "url": f"http://127.0.0.1:{sys.argv[3]}/hook"}]
cfg["alert"] = alert
yaml.safe_dump(cfg, open(sys.argv[2], "w", encoding="utf-8"), sort_keys=False,
               allow_unicode=True)
PY
  export SOCIALCARE_CONFIG=$work/socialcare.yaml
fi
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

# ---- a real Prometheus (Debian's prometheus) scrapes the live workers on
# loopback, one job per worker as in deploy/prometheus/prometheus.yml, with the
# deployment's alert rules; then every dashboard query must return series.
command -v prometheus >/dev/null || fail "prometheus missing (scripts/deps.sh --test)"
PROM_PORT=$(sc_free_port)
{
  printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
  printf 'rule_files:\n  - %s\n' "$src/deploy/prometheus/alerts.yml"
  printf 'scrape_configs:\n'
  for w in "${!PORT[@]}"; do
    printf '  - job_name: %s\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$w" "${PORT[$w]}"
  done
} >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$work/prometheus.log" 2>&1 &
PIDS+=($!)
PROM=http://127.0.0.1:$PROM_PORT
deadline=$((SECONDS + 60))
until curl -sf --max-time 2 "$PROM/-/ready" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { tail -20 "$work/prometheus.log"; fail "prometheus not ready within 60 s"; }
  sleep 0.5
done
# Feed a second round so rates over the last minute are not all zero-width.
sleep 5
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
sleep 8
python3 - "$PROM" "$src/deploy/grafana/dashboards/socialcare.json" "$built" <<'PY'
import json, sys, time, urllib.parse, urllib.request
prom, dash, built = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
def query(q):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    r = json.load(urllib.request.urlopen(url, timeout=10))
    assert r["status"] == "success", (q, r)
    return r["data"]["result"]
up = {s["metric"]["job"]: s["value"][1] for s in query("up")}
assert all(up.get(w) == "1" for w in built), "targets not all up: %s" % up
rules = json.load(urllib.request.urlopen(prom + "/api/v1/rules", timeout=10))["data"]["groups"]
loaded = [r for g in rules for r in g["rules"]]
assert loaded and all(r["health"] == "ok" for r in loaded), [(r["name"], r.get("lastError")) for r in loaded if r["health"] != "ok"]
d = json.load(open(dash))
def panels(p):
    for x in p.get("panels", []):
        yield x
        yield from panels(x)
exprs = sorted({t["expr"] for p in panels(d) for t in p.get("targets", []) if t.get("expr")})
empty = []
for e in exprs:
    q = e.replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$brand", ".*")
    if not query(q):
        empty.append(e)
print("prometheus: %d targets up, %d rules loaded (health ok), %d of %d dashboard queries return series"
      % (len(up), len(loaded), len(exprs) - len(empty), len(exprs)))
for e in empty:
    print("  no series: %s" % e)
sys.exit(1 if empty else 0)
PY
echo "dashboard: PASS"
