#!/usr/bin/env bash
# Runs test_redis against a redis-server this script starts, stops and
# restarts on a free loopback port.
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
work=$(mktemp -d /tmp/sc-redis-test.XXXXXX)
trap 'sc_cleanup; rm -rf "$work"' EXIT
sc_start_redis "$work"
redis-cli -p "$SC_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$SC_REDIS_PID" 2>/dev/null || true
start="redis-server --port $SC_REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --dir $work --daemonize yes --pidfile $work/redis.pid --loglevel warning && for i in \$(seq 50); do redis-cli -p $SC_REDIS_PORT ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1"
stop="redis-cli -p $SC_REDIS_PORT shutdown nosave >/dev/null 2>&1; for i in \$(seq 50); do redis-cli -p $SC_REDIS_PORT ping >/dev/null 2>&1 || exit 0; sleep 0.1; done; exit 1"
bash -c "$start"
SC_REDIS_PID=
set +e
"$bin" "$SC_REDIS_URL" "$stop" "$start"
rc=$?
redis-cli -p "$SC_REDIS_PORT" shutdown nosave >/dev/null 2>&1
exit $rc
