#!/usr/bin/env bash
# The workers with a real Schema Registry (Apicurio Registry, scripts/
# registry.sh: the Confluent-compatible API, in-memory storage) on a broker
# (devbroker, or real Kafka with SC_TEST_BROKER=kafka) and redis-server. The
# workers read a copy of schemas/ whose ids.map says 901.., so a frame id
# the registry gave (a fresh registry numbers from 1) cannot be a local one:
#  1. the registry is down when ingest starts: ingest retries (each attempt
#     logged), is not ready, produces nothing with local ids; the registry
#     comes up on that address and ingest goes on with the registry's id;
#  2. classify decodes those Posts (the registry's id, looked up by id) and
#     writes Enriched with its own registry id; 0 dead letters; both ids are
#     the ones the registry holds for the topics' subjects; the records read
#     back through the registry (socialcarectl consume --registry) decode;
#  3. a registry that never comes up: the worker gives up after
#     schema_registry.wait_ms and exits non-zero, having written nothing.
set -euo pipefail
INGEST=$1 CLASSIFY=$2 SC_DEVBROKER=$3 CTL=$4
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
. "$src/scripts/registry.sh"
sc_registry_fetch
sc_stack_up registry-stack 3
trap 'sc_registry_stop; _sc_kill_pids; sc_cleanup; rm -rf "$work"' EXIT
cp -r "$src/schemas" "$work/schemas"
sed -i 's/^\(socialcare\.[A-Za-z]*  *\)\([0-9]\)$/\190\2/' "$work/schemas/ids.map"
grep -q '^socialcare.Post *901$' "$work/schemas/ids.map" || { echo "ids.map not rewritten"; exit 1; }
export SOCIALCARE_SCHEMAS_DIR=$work/schemas
export SOCIALCARE_CONFIG=$src/config/socialcare.yaml
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log "$work"/registry/*.log; do echo "--- $(basename "$f")"; tail -15 "$f"; done
  exit 1
}
REG_PORT=$(sc_free_port)
export SOCIALCARE_SCHEMA_REGISTRY_URL=http://127.0.0.1:$REG_PORT/apis/ccompat/v7
MP=$(sc_free_port)

# ---- 1. registry down at start ------------------------------------------------
"$INGEST" -o kafka.session.timeout.ms=6000 -o metrics.port="$MP" -o metrics.bind=127.0.0.1 \
  -o schema_registry.wait_ms=60000 >"$work/ingest.log" 2>&1 &
IPID=$!
PIDS+=("$IPID")
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$src/samples/sample-posts.jsonl"
sleep 4
kill -0 "$IPID" 2>/dev/null || fail "ingest exited while the registry was down"
grep -q "retrying in" "$work/ingest.log" || fail "no retry reported in the ingest log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$MP/readyz" || true)
[ "$code" != 200 ] || fail "ingest /readyz is 200 while it waits for the registry"
[ "$(sc_count social.posts)" -eq 0 ] || fail "ingest wrote records before the registry answered"
echo "registry down: ingest retries ($(grep -c 'retrying in' "$work/ingest.log") attempts logged), /readyz $code, nothing written"
mkdir -p "$work/registry"
SC_REGISTRY_NOWAIT=1 sc_registry_start "$work/registry" "$REG_PORT"
deadline=$((SECONDS + 120))
until [ "$(sc_count social.posts)" -ge 24 ]; do
  [ $SECONDS -lt $deadline ] || fail "ingest did not go on once the registry was up"
  sleep 0.5
done
grep -q "after [0-9]* attempts" "$work/ingest.log" || fail "the late registration is not logged"

# ---- 2. classify reads the registry's ids --------------------------------------
"$CLASSIFY" -o kafka.session.timeout.ms=6000 >"$work/classify.log" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + 60))
until [ "$(sc_count social.posts.enriched)" -ge 24 ]; do
  [ $SECONDS -lt $deadline ] || fail "classify wrote $(sc_count social.posts.enriched) of 24 (dlq: $(sc_count social.posts.dlq))"
  sleep 0.5
done
sleep 2
[ "$(sc_count social.posts.dlq)" -eq 0 ] || fail "classify dead-lettered registry-framed posts"
# The frames carry the registry's ids (those of the subjects), not ids.map's (901..).
post_id=$(kcat -C -b "$SC_BOOTSTRAP" -t social.posts -o beginning -c 1 -e -q -f '%s' 2>/dev/null |
          python3 -c 'import sys; b = sys.stdin.buffer.read(); print(b[0], int.from_bytes(b[1:5], "big"))')
enr_id=$(kcat -C -b "$SC_BOOTSTRAP" -t social.posts.enriched -o beginning -c 1 -e -q -f '%s' 2>/dev/null |
          python3 -c 'import sys; b = sys.stdin.buffer.read(); print(b[0], int.from_bytes(b[1:5], "big"))')
reg_id() { curl -fsS "$SOCIALCARE_SCHEMA_REGISTRY_URL/subjects/$1/versions/latest" |
           python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
want_post=$(reg_id social.posts-value) || fail "the registry has no social.posts-value"
want_enr=$(reg_id social.posts.enriched-value) || fail "the registry has no social.posts.enriched-value"
[ "$post_id" = "0 $want_post" ] || fail "Post frame '$post_id', the registry's id is $want_post"
[ "$enr_id" = "0 $want_enr" ] || fail "Enriched frame '$enr_id', the registry's id is $want_enr"
[ "$want_post" -lt 900 ] && [ "$want_enr" -lt 900 ] && [ "$want_post" != "$want_enr" ] ||
  fail "registry ids $want_post, $want_enr"
curl -fsS "$SOCIALCARE_SCHEMA_REGISTRY_URL/schemas/ids/${post_id#* }" | grep -q '"schema"' ||
  fail "the registry has no schema ${post_id#* }"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts.enriched -n 24 --timeout 10 \
  --registry "$SOCIALCARE_SCHEMA_REGISTRY_URL" >"$work/enriched.jsonl"
python3 - "$work/enriched.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 24, len(recs)
assert all(r.get("schema") == "Enriched" for r in recs), [r.get("value") for r in recs[:1]]
assert all(r["value"]["post"]["event_id"] for r in recs)
print("registry ids: 24 Enriched records decoded through the registry")
PY
echo "ids: Post frame ${post_id#* }, Enriched frame ${enr_id#* } (from the registry); 0 dead letters"

# ---- 3. a registry that never comes up ----------------------------------------------
DEAD=$(sc_free_port)
rc=0
timeout 60 "$CLASSIFY" -o kafka.session.timeout.ms=6000 -o classify.group_id=registry-never \
  -o schema_registry.url="http://127.0.0.1:$DEAD" -o schema_registry.wait_ms=2000 \
  >"$work/classify-never.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "classify without a registry exited with $rc"
grep -q "gave up after" "$work/classify-never.log" || fail "the give-up is not reported"
echo "registry never up: classify exits $rc after schema_registry.wait_ms, reported"
echo "registry stack: PASS"
