#!/usr/bin/env bash
# Fuzzes every parser with libFuzzer for a bounded time each: scripts/fuzz.sh [SECONDS] (default 60 per target).
#   npy        the CLI's .npy reader (src/cli/npy.c)
#   bench_case clconv-bench's case descriptors (bench/case.c), with a format/parse round trip
#   desc       the C API's descriptor checks and helpers (validate, output size, shapes, same padding, ...)
# Needs clang and libclang-rt-14-dev (scripts/install-deps.sh --test); says so and exits 0 without them.
# Seeds: tests/corpus/<target> (committed). New inputs go to build/fuzz/<target>/, crashes to build/fuzz/ (exit 1);
# a crash input becomes a regression test by adding it to tests/corpus/<target>/, which every run replays first.
# The long run (documented in docs/RELIABILITY.md): scripts/fuzz.sh 3600.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build/fuzz
mkdir -p "$out"
if ! command -v clang >/dev/null ||
  ! clang -fsanitize=fuzzer -x c -o /dev/null - <<<'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' 2>/dev/null; then
  echo "fuzz: clang with libFuzzer not available, skipped"
  exit 0
fi
flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -Isrc)
# the library's sources, instrumented too: the descriptor checks are what the last two targets fuzz
kernels=(kernels/*.cl) # every kernel source, as the library embeds them
cmake "-DOUT=$out/kernels.c" "-DSOURCES=$(IFS=';'; echo "${kernels[*]}")" -P cmake/embed_kernels.cmake
lib=(src/*.c "$out/kernels.c" -lOpenCL -lclblast -lm)
clang "${flags[@]}" -Isrc/cli tests/fuzz_npy.c src/cli/npy.c -o "$out/fuzz_npy"
clang "${flags[@]}" -Ibench tests/fuzz_bench_case.c bench/case.c "${lib[@]}" -o "$out/fuzz_bench_case"
clang "${flags[@]}" tests/fuzz_desc.c "${lib[@]}" -o "$out/fuzz_desc"
status=0
for target in npy bench_case desc; do
  mkdir -p "$out/$target"
  if "$out/fuzz_$target" -max_total_time="$seconds" -max_len=4096 -artifact_prefix="$out/$target-" \
    -print_final_stats=1 "$out/$target" "tests/corpus/$target" 2>"$out/$target.log"; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log")
    echo "fuzz $target: $seconds s, $runs inputs, no crash"
  else
    tail -n 40 "$out/$target.log"
    echo "fuzz $target: crash found, input saved under $out/$target-*"
    status=1
  fi
done
exit $status
