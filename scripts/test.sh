#!/usr/bin/env bash
# The test suite, from scratch: installs dependencies if missing, builds, runs
# every test (ctest), then builds again with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs every test again, then builds the
# libFuzzer targets with clang and fuzzes each for SC_FUZZ_SECONDS (20).
#   ./scripts/test.sh            all three
#   SC_SKIP_SANITIZE=1 ./scripts/test.sh   only the normal build
#   SC_SKIP_FUZZ=1 ./scripts/test.sh       no fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh --test

run_suite() { # name cmake-args...
  local dir="$root/build/$1"; shift
  rm -rf "$dir"
  cmake -S "$root" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j"$jobs")
}

echo "== release build + tests"
run_suite release -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ -z "${SC_SKIP_SANITIZE:-}" ]; then
  echo "== ASan + UBSan build + tests"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
  run_suite asan -DCMAKE_BUILD_TYPE=Debug -DSC_SANITIZE=ON
fi
if [ -z "${SC_SKIP_FUZZ:-}" ] && [ -z "${SC_SKIP_SANITIZE:-}" ]; then
  # Only the fuzzers are built there, and only their ctests (label fuzz) run:
  # each fuzzes for a bounded time; any crash, leak, UB, hang or OOM fails.
  echo "== libFuzzer targets (clang, ASan + UBSan), ${SC_FUZZ_SECONDS:-20} s each"
  dir="$root/build/fuzz"
  rm -rf "$dir"
  CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DSC_FUZZ=ON \
    -DSC_FUZZ_SECONDS="${SC_FUZZ_SECONDS:-20}" >/dev/null
  cmake --build "$dir" -j"$jobs" --target fuzzers
  (cd "$dir" && ctest --output-on-failure -L fuzz -j"$jobs")
fi
echo "== all tests passed"
