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
export ASAN_OPTIONS="detect_leaks=0:alloc_dealloc_mismatch=0:abort_on_error=1:print_summary=1"
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
if [ "$status" -eq 0 ]; then
  for seed in 1 2; do
    node "$fuzz" --seed "$seed" --calls 100000 2>&1 | tee -a "$log" || status=$?
  done
fi
if grep -qE "ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$log"; then
  echo "test:asan: sanitizer reports found" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "test:asan: no sanitizer reports"
exit "$status"
