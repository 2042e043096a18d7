# A real Redis Cluster on loopback for tests: 3 masters + 3 replicas of
# Debian's redis-server in cluster mode, owned by the calling script. Source
# it, then:
#   sc_start_redis_cluster DIR   -> SC_CLUSTER_PORTS (6 ports), SC_CLUSTER_URL
#                                   (redis+cluster://127.0.0.1:p1,...), waits
#                                   for cluster_state:ok on every node
#   sc_cluster_cli PORT ARGS...  redis-cli on one node
#   sc_cluster_master_of KEY     -> the port of the master owning KEY's slot
#   sc_cluster_pid PORT          -> the pid of the node on PORT
#   sc_cluster_wait_ok [timeout_s] every live node says cluster_state:ok and
#                                   every slot has a live master
#   sc_stop_redis_cluster        stops every node (also in sc_cleanup traps:
#                                   call it from the caller's EXIT trap)
# cluster-node-timeout is 1 s so a killed master's replica is promoted within
# a few seconds. Every wait is bounded.

SC_CLUSTER_PORTS=()
declare -A SC_CLUSTER_PID=()
SC_CLUSTER_DIR=

# Ports whose cluster bus port (port + 10000) is free too.
_sc_cluster_ports() { # n
  python3 - "$1" <<'PY'
import random, socket, sys
n, out = int(sys.argv[1]), []
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
while len(out) < n:
    p = random.randint(20000, 30000)
    if p not in out and free(p) and free(p + 10000):
        out.append(p)
print(" ".join(map(str, out)))
PY
}

sc_cluster_cli() { # port args...
  local p=$1
  shift
  redis-cli -h 127.0.0.1 -p "$p" "$@"
}

sc_cluster_pid() { echo "${SC_CLUSTER_PID[$1]}"; }

_sc_cluster_node_up() { # port
  local p=$1 d=$SC_CLUSTER_DIR/node-$1
  mkdir -p "$d"
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$d/nodes.conf" --cluster-node-timeout 1000 \
    --save '' --appendonly no --dir "$d" --daemonize no --loglevel warning \
    >>"$d/redis.log" 2>&1 &
  SC_CLUSTER_PID[$p]=$!
}

sc_cluster_wait_ok() { # [timeout_s]
  local deadline=$((SECONDS + ${1:-30})) p ok
  while [ $SECONDS -lt $deadline ]; do
    ok=1
    for p in "${SC_CLUSTER_PORTS[@]}"; do
      kill -0 "${SC_CLUSTER_PID[$p]}" 2>/dev/null || continue
      sc_cluster_cli "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || { ok=0; break; }
    done
    # Every slot range's master answers (not a dead node still in the map).
    if [ $ok = 1 ]; then
      for p in $(sc_cluster_cli "${SC_CLUSTER_PORTS[0]}" cluster nodes 2>/dev/null |
                 awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 8 { split($2, a, "[:@]"); print a[2] }'); do
        sc_cluster_cli "$p" ping >/dev/null 2>&1 || { ok=0; break; }
      done
    fi
    [ $ok = 1 ] && return 0
    sleep 0.2
  done
  echo "redis cluster: not ok within ${1:-30} s" >&2
  for p in "${SC_CLUSTER_PORTS[@]}"; do sc_cluster_cli "$p" cluster info 2>&1 | head -1 >&2; done
  return 1
}

sc_start_redis_cluster() { # dir
  SC_CLUSTER_DIR=$1
  read -r -a SC_CLUSTER_PORTS <<<"$(_sc_cluster_ports 6)"
  local p i addrs=() ok
  for p in "${SC_CLUSTER_PORTS[@]}"; do
    _sc_cluster_node_up "$p"
    addrs+=("127.0.0.1:$p")
  done
  for p in "${SC_CLUSTER_PORTS[@]}"; do
    ok=0
    for i in $(seq 1 100); do
      sc_cluster_cli "$p" ping >/dev/null 2>&1 && { ok=1; break; }
      sleep 0.1
    done
    [ $ok = 1 ] || { echo "redis cluster: node $p did not start" >&2; cat "$SC_CLUSTER_DIR/node-$p/redis.log" >&2; return 1; }
  done
  timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
    >"$SC_CLUSTER_DIR/create.log" 2>&1 || { cat "$SC_CLUSTER_DIR/create.log" >&2; return 1; }
  sc_cluster_wait_ok 30
  # Replicas must have synced before a failover test can promote one.
  local deadline=$((SECONDS + 30)) synced
  while [ $SECONDS -lt $deadline ]; do
    synced=0
    for p in "${SC_CLUSTER_PORTS[@]}"; do
      sc_cluster_cli "$p" info replication 2>/dev/null | grep -q '^master_link_status:up' &&
        synced=$((synced + 1))
    done
    [ $synced -ge 3 ] && break
    sleep 0.2
  done
  [ "$synced" -ge 3 ] || { echo "redis cluster: replicas not in sync" >&2; return 1; }
  SC_CLUSTER_URL=redis+cluster://$(IFS=,; echo "${addrs[*]:0:3}")
  export SC_CLUSTER_URL
}

sc_cluster_master_of() { # key [asked port]
  local slot
  slot=$(sc_cluster_cli "${2:-${SC_CLUSTER_PORTS[0]}}" cluster keyslot "$1")
  sc_cluster_cli "${2:-${SC_CLUSTER_PORTS[0]}}" cluster nodes | awk -v s="$slot" '
    $3 ~ /master/ && $3 !~ /fail/ {
      for (i = 9; i <= NF; i++) {
        if ($i ~ /^\[/) continue
        n = split($i, r, "-"); a = r[1]; b = n > 1 ? r[2] : r[1]
        if (s + 0 >= a + 0 && s + 0 <= b + 0) { split($2, h, "[:@]"); print h[2]; exit }
      }
    }'
}

sc_stop_redis_cluster() {
  local p
  for p in "${!SC_CLUSTER_PID[@]}"; do
    kill -9 "${SC_CLUSTER_PID[$p]}" 2>/dev/null || true
    wait "${SC_CLUSTER_PID[$p]}" 2>/dev/null || true
  done
  SC_CLUSTER_PID=()
}
