#!/usr/bin/env bash
# Fuzzes the .npy parser with libFuzzer for a bounded time: scripts/fuzz.sh [SECONDS] (default 60).
# Needs clang and libclang-rt-14-dev (scripts/install-deps.sh --test); says so and exits 0 without them.
# Seeds: tests/corpus/npy (committed). New inputs go to build/fuzz/corpus, crashes to build/fuzz/ (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus"
if ! command -v clang >/dev/null ||
  ! clang -fsanitize=fuzzer -x c -o /dev/null - <<<'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' 2>/dev/null; then
  echo "fuzz: clang with libFuzzer not available, skipped"
  exit 0
fi
clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc/cli \
  tests/fuzz_npy.c src/cli/npy.c -o "$out/fuzz_npy"
"$out/fuzz_npy" -max_total_time="$seconds" -max_len=4096 -artifact_prefix="$out/" -print_final_stats=1 \
  "$out/corpus" tests/corpus/npy 2>"$out/fuzz.log" || {
  tail -n 40 "$out/fuzz.log"
  echo "fuzz: crash found, input saved under $out/"
  exit 1
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz.log"
echo "fuzz: $seconds s, no crash"
