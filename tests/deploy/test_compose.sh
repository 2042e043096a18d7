#!/usr/bin/env bash
# Validates docker-compose.yml and checks it still runs every worker that the
# build produces, from the image built by the Dockerfile.
set -euo pipefail
root=$1
cd "$root"
command -v docker-compose >/dev/null || { echo "FAIL: docker-compose not installed (scripts/deps.sh --test)"; exit 1; }
out=$(docker-compose -f docker-compose.yml config)
for svc in kafka redis; do
  grep -q "^  $svc:" <<<"$out" || { echo "FAIL: service $svc missing"; exit 1; }
done
grep -q "KAFKA_PROCESS_ROLES: broker,controller" <<<"$out" || { echo "FAIL: kafka is not KRaft"; exit 1; }
for dir in services/*/; do
  w=$(basename "$dir")
  case $w in devbroker|ctl) continue ;; esac
  grep -q "add_executable(socialcare-$w" "$dir/CMakeLists.txt" || continue # no worker binary yet
  grep -q "^  $w:" <<<"$out" || { echo "FAIL: worker $w has no service in docker-compose.yml"; exit 1; }
  grep -q "socialcare-$w" <<<"$out" || { echo "FAIL: service $w does not run socialcare-$w"; exit 1; }
done
[ -f Dockerfile ] || { echo "FAIL: no Dockerfile"; exit 1; }
echo "ok: docker-compose.yml valid"
