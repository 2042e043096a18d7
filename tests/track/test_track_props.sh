#!/usr/bin/env bash
# Runs test_track_props against two redis-servers on free loopback ports
# (tracker A on one, tracker B on the other).
#   test_track_props.sh BIN [SEED [CONVERSATIONS [split|same]]]
# Without arguments (ctest): the default workload in its own batches per
# tracker, then a smaller one in the same batches with the clock free.
set -euo pipefail
bin=$1
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
work=$(mktemp -d /tmp/sc-track-props.XXXXXX)
mkdir -p "$work/a" "$work/b"
# stack.sh keeps one redis-server (the last started): the first one's pid
# is kept here and stopped on exit as well.
pid_a=
cleanup() {
  if [ -n "$pid_a" ]; then
    kill -TERM "$pid_a" 2>/dev/null || true
    wait "$pid_a" 2>/dev/null || true
  fi
  sc_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
sc_start_redis "$work/a"
url_a=$SC_REDIS_URL pid_a=$SC_REDIS_PID
sc_start_redis "$work/b"
url_b=$SC_REDIS_URL
if [ $# -gt 0 ]; then
  timeout "${TRACK_PROPS_TIMEOUT:-120}" "$bin" "$url_a" "$url_b" "$@"
else
  timeout 60 "$bin" "$url_a" "$url_b"
  timeout 60 "$bin" "$url_a" "$url_b" 20261121 1500 same
  # a timer late released, then an earlier reply making its post a hit:
  # the late must not come again (seed 529 has one)
  timeout 60 "$bin" "$url_a" "$url_b" 529 3000
fi
