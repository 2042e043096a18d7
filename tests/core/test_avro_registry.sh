#!/usr/bin/env bash
# The codec against a real HTTP Schema Registry on loopback.
set -euo pipefail
test_bin=$1
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
python3 "$(dirname "$0")/fake_registry.py" "$dir/port" 60 &
pid=$!
for _ in $(seq 100); do [ -f "$dir/port" ] && break; sleep 0.05; done
[ -f "$dir/port" ] || { echo "registry did not start"; exit 1; }
SC_REGISTRY_URL="http://127.0.0.1:$(cat "$dir/port")" "$test_bin"
# ids come from the registry (>= 100), not ids.map
out=$(curl -s "http://127.0.0.1:$(cat "$dir/port")/schemas/ids/100")
echo "$out" | grep -q '"schema"' || { echo "registry has no schema 100: $out"; exit 1; }
echo "registry test passed"
