#!/usr/bin/env bash
# Fuzzes every target of tests/fuzz (or the ones named) for longer than CI
# does, one after the other, and prints per target what libFuzzer printed
# ("Done N runs in S second(s)"), the CPU time it used and whether it found
# anything. New inputs accumulate in build/fuzz/long/<target>/corpus across
# runs; a finding is saved there as crash-*/leak-*/timeout-*/oom-* (see
# docs/DEVELOPING.md, "Fuzzing", for turning it into a corpus entry).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 60 s, every target
# Exit status 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
dir="$root/build/fuzz"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2

command -v clang >/dev/null || scripts/deps.sh --test
if [ ! -f "$dir/CMakeCache.txt" ]; then
  CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DSC_FUZZ=ON >/dev/null
fi
cmake --build "$dir" -j"$jobs" --target fuzzers >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    t=${f#tests/fuzz/fuzz_}
    t=${t%.c}
    [ "$t" = replay ] || targets+=("$t")
  done
fi

dict_of() {
  case $1 in
    json | ingest | registry) echo "-dict=$root/tests/fuzz/json.dict" ;;
    yaml | config) echo "-dict=$root/tests/fuzz/yaml.dict" ;;
  esac
}

failed=0
printf '%-10s %s\n' target result
for t in "${targets[@]}"; do
  work="$dir/long/$t"
  log="$work/fuzz.log"
  mkdir -p "$work"
  # the subshell's `times` gives the CPU time of the fuzzer (user + system)
  set +e
  (
    tests/fuzz/run_fuzzer.sh "$dir/tests/fuzz/fuzz_$t" "$work" "tests/fuzz/corpus/$t" \
      -max_total_time="$secs" $(dict_of "$t") >"$log" 2>&1
    rc=$?
    times >"$work/cpu"
    exit $rc
  )
  rc=$?
  set -e
  cpu=$(tail -1 "$work/cpu" | awk '{
    n = split($1 " " $2, f, " "); s = 0
    for (i = 1; i <= n; i++) { split(f[i], p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
    printf "%.1f", s }')
  done_line=$(grep -E '^Done [0-9]+ runs in' "$log" | tail -1)
  if [ $rc -eq 0 ] && [ -n "$done_line" ]; then
    printf '%-10s %s; CPU time %s s; no finding\n' "$t" "$done_line" "$cpu"
  else
    failed=1
    printf '%-10s FINDING (exit %d, CPU time %s s): %s\n' "$t" "$rc" "$cpu" \
      "$(grep -E 'SUMMARY|check failed|ERROR: libFuzzer' "$log" | head -2 | tr '\n' ' ')"
    printf '%-10s log %s; artifacts: %s\n' "" "$log" \
      "$(ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | tr '\n' ' ')"
  fi
done
exit $failed
