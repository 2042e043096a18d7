#!/usr/bin/env bash
# Runs bench_track against a redis-server started here on a free loopback
# port (no persistence), then stops it.  bench_track.sh BENCH_BIN [CONVERSATIONS]
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
work=$(mktemp -d /tmp/sc-bench-track.XXXXXX)
trap 'sc_cleanup; rm -rf "$work"' EXIT
sc_start_redis "$work"
"$bin" "$SC_REDIS_URL" "${2:-50000}" "${3:-c}"
