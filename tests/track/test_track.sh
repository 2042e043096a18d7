#!/usr/bin/env bash
# Runs test_track against a redis-server on a free loopback port.
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
work=$(mktemp -d /tmp/sc-track-unit.XXXXXX)
trap 'sc_cleanup; rm -rf "$work"' EXIT
sc_start_redis "$work"
timeout 60 "$bin" "$SC_REDIS_URL" c
timeout 60 "$bin" "$SC_REDIS_URL" lua
