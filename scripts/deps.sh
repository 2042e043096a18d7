#!/usr/bin/env bash
# Installs what socialcare needs to build, test and run its local stack, from
# Debian's packages, only when something is missing. Needs root (or sudo).
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      librdkafka-dev libavro-dev libhiredis-dev libcurl4-openssl-dev libutf8proc-dev
      libmicrohttpd-dev libyaml-dev libssl-dev liblinear-dev
      redis-server redis-tools kcat tzdata curl python3 ca-certificates)
if [ "${1:-}" = "--test" ]; then
  # clang + its libFuzzer/sanitizer runtimes for the fuzz targets (tests/fuzz)
  PKGS+=(docker-compose clang libclang-rt-14-dev)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
