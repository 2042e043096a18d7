#!/usr/bin/env bash
# Runs test_cluster_client against a 3-master + 3-replica Redis Cluster this
# script starts and stops (tests/lib/redis_cluster.sh).
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/redis_cluster.sh"
work=$(mktemp -d /tmp/sc-cluster-client.XXXXXX)
trap 'sc_stop_redis_cluster; rm -rf "$work"' EXIT
sc_start_redis_cluster "$work"
"$bin" "$SC_CLUSTER_URL" "${SC_CLUSTER_PORTS[@]}"
