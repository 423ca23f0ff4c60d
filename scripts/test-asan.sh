#!/usr/bin/env bash
# npm run test:asan: the addon built with AddressSanitizer + UndefinedBehaviorSanitizer (g++'s, which comes
# with the compiler), then the whole test suite and the fuzzer against it. Any ASan report aborts the process
# that made it and any UBSan report halts it, so a report fails its test; a final grep over the output catches
# one that a child process printed without failing the test.
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js compile --out build-asan --CDSOCKFD_SANITIZE=ON >/dev/null
asan="$(g++ -print-file-name=libasan.so)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Node itself is not instrumented: its allocations pass through ASan's allocator too, and it frees some
# memory with a mismatched operator, and keeps some to the end on purpose, so those two checks stay off.
export LD_PRELOAD="$asan"
# malloc_context_size: each allocation and free records its stack (30 frames by default) and ASan intercepts
# every one of Node's, not only the addon's: 8 frames still reach the addon's own frame from malloc. Measured
# on a slow machine (2026-12-02): CI's ASan suite took 301 s with 8 frames against 319 s with 30; the fuzzer,
# 20000 calls, 17.0 s with 4 frames against 21.5 s with 30. The stack of the bad access itself, the one a
# report is about, is whole either way.
export ASAN_OPTIONS="detect_leaks=0:alloc_dealloc_mismatch=0:abort_on_error=1:print_summary=1:malloc_context_size=8"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export SOCKFD_BINDING="build-asan/Release/sockfd.node"
status=0
npx vitest run "$@" 2>&1 | tee "$log" || status=$?
# The fuzzer, compiled by npm run build:fuzz (test:asan runs it first).
fuzz=dist-fuzz/scripts/fuzz/main.js
if [ "$status" -eq 0 ] && [ ! -f "$fuzz" ]; then
  echo "test:asan: $fuzz is not built (npm run build:fuzz)" >&2
  status=1
fi
# FUZZ_CALLS: calls per seed (100000 unless set; CI sets fewer, to stay within its time). The run's time limit is
# raised from the fuzzer's 120 s: under ASan a seed of 100000 calls took 103 s on a slow machine (2026-12-02),
# and two at once, one per core, ran past it. A hang still fails at once: no progress for 15 s is one.
calls="${FUZZ_CALLS:-100000}"
if [ "$status" -eq 0 ]; then
  for seed in 1 2; do
    node "$fuzz" --seed "$seed" --calls "$calls" --time-limit-ms 600000 2>&1 | tee -a "$log" || status=$?
  done
fi
if grep -qE "ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$log"; then
  echo "test:asan: sanitizer reports found" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "test:asan: no sanitizer reports"
exit "$status"
