#!/usr/bin/env bash
# The codec against a real Schema Registry on loopback: Apicurio Registry
# (scripts/registry.sh, its Confluent-compatible API, in-memory storage).
# The registry is seeded first, so its ids differ from schemas/ids.map's: the
# id the codec frames with must be the one the registry gives for the subject.
set -euo pipefail
test_bin=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/scripts/registry.sh"
dir=$(mktemp -d)
trap 'sc_registry_stop; rm -rf "$dir"' EXIT
sc_registry_start "$dir" || { echo "registry did not start"; exit 1; }
sc_registry_seed 10
out=$(SC_REGISTRY_URL=$SC_REGISTRY_URL "$test_bin")
echo "$out"
id=$(echo "$out" | sed -n 's/^registry id social.posts-value \([0-9]*\)$/\1/p')
[ -n "$id" ] || { echo "the codec printed no registry id"; exit 1; }
want=$(curl -fsS "$SC_REGISTRY_URL/subjects/social.posts-value/versions/latest" |
       python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
[ "$id" = "$want" ] || { echo "codec id $id, the registry says $want"; exit 1; }
[ "$id" -gt 10 ] || { echo "id $id is not past the seeded ones"; exit 1; }
curl -fsS "$SC_REGISTRY_URL/schemas/ids/$id" | grep -q 'socialcare' ||
  { echo "the registry's schema $id is not the Post"; exit 1; }
echo "registry test passed (Post id $id from Apicurio Registry $SC_REGISTRY_VERSION)"
