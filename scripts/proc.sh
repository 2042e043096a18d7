# Process helpers shared by scripts/kafka.sh, scripts/registry.sh and
# tests/lib/stack.sh. Source it. Nothing here fails: callers may run under
# set -e inside an EXIT trap.
#   sc_free_port                 -> a free TCP port on 127.0.0.1
#   sc_stop_pids TICKS PID...    SIGTERM, up to TICKS x 0.1 s for all to exit,
#                                then SIGKILL and reap (children of this shell)

sc_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

sc_stop_pids() { # ticks pid...
  local ticks=$1 p i alive
  shift
  for p in "$@"; do [ -z "$p" ] || kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 1 "$ticks"); do
    alive=0
    for p in "$@"; do
      if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then alive=1; fi
    done
    [ $alive -eq 1 ] || break
    sleep 0.1
  done
  for p in "$@"; do [ -z "$p" ] || kill -9 "$p" 2>/dev/null || true; done
  for p in "$@"; do [ -z "$p" ] || wait "$p" 2>/dev/null || true; done
  return 0
}
