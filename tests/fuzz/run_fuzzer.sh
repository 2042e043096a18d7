#!/usr/bin/env bash
# Runs one libFuzzer binary for a bounded time under ASan + UBSan:
#   run_fuzzer.sh BINARY WORKDIR SEED_DIR [libFuzzer flags...]
# WORKDIR gets the scratch corpus (new inputs) and any crash-*/leak-*/
# timeout-*/oom-* artifact. Exit status: libFuzzer's (non-zero on a finding).
# Used by the ctests fuzz_<target> and by scripts/fuzz.sh.
set -euo pipefail
bin=$1 work=$2 seeds=$3
shift 3
mkdir -p "$work/corpus"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -timeout: one input taking 10 s is a hang; -rss_limit_mb / -malloc_limit_mb:
# an input making the parser allocate 1 GiB is a finding too.
exec "$bin" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" \
  "$@" "$work/corpus" "$seeds"
