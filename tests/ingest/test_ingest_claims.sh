#!/usr/bin/env bash
# ingest's claims in Redis (README "Records in Redis"), on a real redis-server
# and the devbroker:
#  1. a post whose brand the input names costs one Redis command (SET NX GET,
#     no script) and leaves one string record "<brand>=<origin>";
#  2. records of the previous layout (hashes: b, c:<brand>) still count: a post
#     claimed there by another origin is a duplicate, a reply takes its brand
#     from a parent recorded that way; the post's hash is rewritten as a
#     string record with its TTL kept;
#  3. the same post named for another brand at a new offset is claimed for
#     that brand too (forwarded once per brand), then is a duplicate for both.
set -euo pipefail
INGEST=$1 SC_DEVBROKER=$2 CTL=$3
export SC_DEVBROKER
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/lib/stack.sh"
sc_stack_up ingest-claims 1
rc() { redis-cli -p "$SC_REDIS_PORT" "$@"; }
fail() { echo "FAIL: $*"; echo "--- ingest log"; tail -30 "$work/ingest.log"; exit 1; }
port=$(sc_free_port)
"$INGEST" -c "$src/config/socialcare.yaml" -o kafka.session.timeout.ms=6000 \
  -o metrics.bind=127.0.0.1 -o metrics.port="$port" >>"$work/ingest.log" 2>&1 &
PIDS+=($!)

post() { # id brand|"" [parent]
  python3 -c 'import json, sys
d = {"platform": "x", "post_id": sys.argv[1], "author": {"id": "u1", "handle": "user1"},
     "text": "dzięki, czekam na odpowiedź", "lang": "pl",
     "created_at": "2026-11-20T10:00:00Z"}
if sys.argv[2]: d["brand"] = sys.argv[2]
if len(sys.argv) > 3: d["parent_id"] = sys.argv[3]
print(json.dumps(d, ensure_ascii=False))' "$@"
}
wait_posts() { # want
  local deadline=$((SECONDS + 60))
  until [ "$(sc_count social.posts)" -ge "$1" ]; do
    [ $SECONDS -lt $deadline ] || fail "social.posts has $(sc_count social.posts), want $1"
    sleep 0.3
  done
}
dups() {
  curl -fsS "http://127.0.0.1:$port/metrics" |
    awk '/^socialcare_ingest_duplicates_total\{/ { s += $NF } END { print s + 0 }'
}
calls() { rc info commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p"; }

# ---- 1. one command per post -------------------------------------------------
for i in $(seq 0 99); do post "p$i" telko; done >"$work/p1.jsonl"
rc config resetstat >/dev/null
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$work/p1.jsonl"
wait_posts 100
[ "$(calls set)" = 100 ] || fail "SET calls: $(calls set), want 100 (one per post)"
[ -z "$(calls evalsha)" ] || fail "the script ran $(calls evalsha) times for named posts"
[ "$(rc get 'sc:conv:{x:p7}:p7')" = "telko=social.posts.raw/0/7/0" ] ||
  fail "record of p7: $(rc get 'sc:conv:{x:p7}:p7')"
echo "named posts: 100 forwarded with 100 SET NX GET, no script"

# ---- 2. records of the previous layout ---------------------------------------
rc hset 'sc:conv:{x:old1}:old1' b telko c:telko social.posts.raw/0/999/0 >/dev/null
rc hset 'sc:conv:{x:par1}:par1' b bankowo c:bankowo social.posts.raw/0/998/0 >/dev/null
rc expire 'sc:conv:{x:old1}:old1' 5000 >/dev/null
# ---- 3. one post named for two brands (offsets 102..105) ---------------------
{
  post old1 telko        # 100: held by another origin: a duplicate
  post r1 "" par1        # 101: its parent's brand, from the hash
  post m1 telko          # 102: claimed for telko
  post m1 burgerhub      # 103: claimed for burgerhub too
  post m1 telko          # 104: duplicate
  post m1 burgerhub      # 105: duplicate
} >"$work/p2.jsonl"
kcat -P -b "$SC_BOOTSTRAP" -t social.posts.raw -l "$work/p2.jsonl"
wait_posts 103
deadline=$((SECONDS + 30))
until [ "$(dups)" -ge 3 ]; do
  [ $SECONDS -lt $deadline ] || fail "duplicates counted: $(dups), want 3"
  sleep 0.3
done
sleep 1 # anything extra would show up now
[ "$(sc_count social.posts)" = 103 ] || fail "social.posts has $(sc_count social.posts), want 103"
"$CTL" consume -b "$SC_BOOTSTRAP" -t social.posts -n 103 --timeout 10 >"$work/posts.jsonl"
python3 - "$work/posts.jsonl" <<'PY' || fail "forwarded posts"
import json, sys
got = sorted((r["value"]["post_id"], r["value"]["brand"]) for r in map(json.loads, open(sys.argv[1]))
             if not r["value"]["post_id"].startswith("p"))
assert got == [("m1", "burgerhub"), ("m1", "telko"), ("r1", "bankowo")], got
PY
[ "$(rc type 'sc:conv:{x:old1}:old1')" = string ] || fail "old1 not rewritten"
[ "$(rc get 'sc:conv:{x:old1}:old1')" = "telko=social.posts.raw/0/999/0" ] ||
  fail "old1: $(rc get 'sc:conv:{x:old1}:old1')"
ttl=$(rc ttl 'sc:conv:{x:old1}:old1')
[ "$ttl" -gt 4900 ] && [ "$ttl" -le 5000 ] || fail "old1 ttl $ttl, want its own (5000)"
[ "$(rc get 'sc:conv:{x:par1}:r1')" = "bankowo=social.posts.raw/0/101/0" ] ||
  fail "r1: $(rc get 'sc:conv:{x:par1}:r1')"
# (the brand named last comes first, as field b did before)
[ "$(rc get 'sc:conv:{x:m1}:m1')" = \
  "burgerhub=social.posts.raw/0/103/0 telko=social.posts.raw/0/102/0" ] ||
  fail "m1: $(rc get 'sc:conv:{x:m1}:m1')"
[ "$(rc ttl 'sc:conv:{x:m1}:m1')" -gt 600000 ] || fail "m1 lost its ttl"
echo "previous layout honoured (1 duplicate, 1 reply attributed, record rewritten, ttl kept);" \
  "a post named for two brands: 2 copies, 2 duplicates"
