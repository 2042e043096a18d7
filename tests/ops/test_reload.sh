#!/usr/bin/env bash
# SIGHUP applies the runtime's settings (issue 15), on a real devbroker and
# redis-server with socialcare-ingest:
#  1. 200 posts waiting at start with the default batch_size: they come in
#     batches of more than one (socialcare_batch_messages);
#  2. the file is changed to ingest.batch_size: 1 and SIGHUP sent: the next 100
#     posts are 100 batches of exactly one, and the log says "reload done";
#  3. a restart-only setting (ingest.group_id) changed: the reload names it;
#  4. 200 more reloads: the configs in memory stay at 2 (the startup one and the
#     running one: socialcare_config_versions), the resident size does not grow
#     (release build) and the worker exits 0 on SIGTERM (under ASan: no leak).
set -euo pipefail
INGEST=$1 SC_DEVBROKER=$2
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up ops-reload 1
fail() {
  echo "FAIL: $*"
  echo "--- ingest log"; tail -30 "$work/ingest.log"
  exit 1
}
conf() { # batch_size group_id -> $work/sc.yaml
  python3 - "$src/config/socialcare.yaml" "$work/sc.yaml" "$1" "$2" <<'PY'
import sys
src, dst, size, group = sys.argv[1:]
out = []
for line in open(src):
    out.append(line)
    if line.rstrip() == "ingest:":
        out.append("  batch_size: %s\n" % size)
        if group:
            out.append("  group_id: %s\n" % group)
open(dst + ".tmp", "w").writelines(out)
PY
  mv "$work/sc.yaml.tmp" "$work/sc.yaml"
}
posts() { # first count -> social.posts.raw
  python3 - "$1" "$2" >"$work/posts.jsonl" <<'PY'
import json, sys
a, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(a, a + n):
    print(json.dumps({"platform": "x", "brand": "telko", "post_id": "r%d" % i,
                      "author": {"id": "a%d" % i}, "text": "telko reload %d" % i,
                      "created_at": "2026-11-20T10:00:00Z"}))
PY
  kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -k telko -l "$work/posts.jsonl"
}
metric() { # name-and-labels-regex: sum of the matching series (0 before the port is up)
  { curl -fsS --max-time 5 "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true; } |
    awk -v re="$1" '$0 ~ "^"re { s += $NF } END { print s + 0 }'
}
wait_metric() { # regex want timeout_s
  local deadline=$((SECONDS + $3)) v=
  while [ $SECONDS -lt $deadline ]; do
    v=$(metric "$1"); [ "$v" = "$2" ] && return 0; sleep 0.05
  done
  fail "$1 is $v, want $2"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }

conf 500 ""
posts 0 200
PORT=$(sc_free_port)
"$INGEST" -c "$work/sc.yaml" -o kafka.session.timeout.ms=6000 -o metrics.bind=127.0.0.1 \
  -o metrics.port="$PORT" >"$work/ingest.log" 2>&1 &
PID=$!
PIDS+=($PID)

# ---- 1. batches of more than one -------------------------------------------------
wait_metric 'socialcare_processing_seconds_count' 200 90
b1=$(metric 'socialcare_batch_messages_count')
s1=$(metric 'socialcare_batch_messages_sum')
[ "$s1" = 200 ] || fail "batch_messages_sum is $s1, want 200"
[ "$b1" -lt 200 ] || fail "200 waiting posts came in $b1 batches: no batching to change"
[ "$(metric 'socialcare_config_versions')" = 1 ] || fail "config versions at start: $(metric socialcare_config_versions)"
echo "batch_size 500: 200 posts in $b1 batches"

# ---- 2. SIGHUP to batch_size 1 ---------------------------------------------------
conf 1 ""
kill -HUP "$PID"
wait_metric 'socialcare_config_reloads_total.*result="ok"' 1 30
grep -q 'reload done (' "$work/ingest.log" || fail "no 'reload done'"
posts 200 100
wait_metric 'socialcare_processing_seconds_count' 300 90
b2=$(metric 'socialcare_batch_messages_count')
le1=$(metric 'socialcare_batch_messages_bucket.*le="1"')
[ $((b2 - b1)) = 100 ] || fail "after the reload 100 posts came in $((b2 - b1)) batches, want 100"
[ "$le1" = 100 ] || fail "batches of at most 1: $le1, want 100"
echo "batch_size 1 after SIGHUP: 100 posts in $((b2 - b1)) batches"

# ---- 3. a setting that needs a restart is named -------------------------------------
conf 1 reload-other-group
kill -HUP "$PID"
wait_metric 'socialcare_config_reloads_total.*result="ok"' 2 30
grep -q 'reload done; changed but only applied by a restart: ingest.group_id' "$work/ingest.log" ||
  fail "the reload did not name ingest.group_id: $(grep 'reload done' "$work/ingest.log" | tail -1)"
echo "restart-only change named: ingest.group_id"

# ---- 4. 200 reloads: nothing accumulates ---------------------------------------------
conf 1 ""
sanitized=0
if ldd "$INGEST" 2>/dev/null | grep -q libasan; then sanitized=1; fi
for i in $(seq 3 202); do
  kill -HUP "$PID"
  wait_metric 'socialcare_config_reloads_total.*result="ok"' "$i" 30
  [ "$i" = 22 ] && rss0=$(rss_kb)
done
rss1=$(rss_kb)
v=$(metric 'socialcare_config_versions')
[ "$v" = 2 ] || fail "after 202 reloads $v configs in memory, want 2"
echo "202 reloads: $v configs in memory, VmRSS ${rss0} kB after 22, ${rss1} kB after 202"
if [ "$sanitized" = 0 ] && [ $((rss1 - rss0)) -gt 4096 ]; then
  fail "VmRSS grew by $((rss1 - rss0)) kB over 180 reloads"
fi
posts 300 10
wait_metric 'socialcare_processing_seconds_count' 310 60
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
[ "$rc" = 0 ] || fail "ingest exited $rc after the reloads (a leak under ASan exits non-zero)"
echo "ops_reload: OK"
