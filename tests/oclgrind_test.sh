#!/usr/bin/env bash
# GPU semantics without a GPU: the library under Oclgrind, an OpenCL 1.2 simulator that reports itself as a GPU
# and checks every memory access (out of bounds, uninitialised local reads through --check-api's argument checks),
# barrier divergence and, with --data-races, races within and between work-groups. Runs:
#   1. gpu_semantics (every op family and kernel kind, tests/gpu_semantics.c) with work-groups up to 1024 and up to
#      256 work-items, and with 1 KiB of local memory (too little for the local kernel's tile: the fallback runs);
#   2. `clconv conv --algorithm gemm --check` (CLBlast's kernels too), which must exit 0;
#   3. `clconv validate` on random configurations of every op, 1-D to 3-D.
# Every run is made with --log; the test fails on any mismatch, any nonzero exit and any non-empty log.
# Usage: oclgrind_test.sh OCLGRIND GPU_SEMANTICS CLCONV
set -euo pipefail
oclgrind=$1
semantics=$(realpath "$2")
clconv=$(realpath "$3")
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Oclgrind's device is a GPU: the profile follows it unless the caller's environment says otherwise
unset CLCONV_DEVICE_CLASS CLCONV_VECTOR_WIDTH CLCONV_DEVICE
export CLCONV_BUILD_OPTIONS=-Werror
failed=0

# run NAME OCLGRIND_OPTIONS... -- COMMAND...: one run under Oclgrind with its own log
run() {
  local name=$1
  shift
  local opts=()
  while [ "$1" != "--" ]; do
    opts+=("$1")
    shift
  done
  shift
  local log="$work/$name.log" out="$work/$name.out" rc=0
  "$oclgrind" --data-races --check-api "${opts[@]}" --log "$log" "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
    echo "FAIL $name (exit $rc)"
    tail -n 40 "$out"
    [ -s "$log" ] && head -n 60 "$log"
    failed=1
  else
    echo "ok   $name: $(tail -n 1 "$out")"
  fi
}

run semantics-wg1024 --max-wgsize 1024 -- "$semantics"
run semantics-wg256 --max-wgsize 256 -- "$semantics"
run semantics-local1k --local-mem-size 1024 -- "$semantics" --small-local

# the gemm path end to end through the CLI, checked against the reference, exiting cleanly
cd "$work"
source "$here/find_numpy.sh"
if [ -z "$PY" ]; then
  echo "FAIL gemm-cli: python3-numpy is needed to write the input arrays"
  failed=1
else
  "$PY" - <<'EOF'
import numpy as np
rng = np.random.default_rng(7)
np.save("x.npy", rng.standard_normal((2, 4, 9, 11)).astype(np.float32))
np.save("w.npy", rng.standard_normal((6, 2, 3, 3)).astype(np.float32))
np.save("b.npy", rng.standard_normal(6).astype(np.float32))
EOF
  run gemm-cli -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --output y.npy --groups 2 --stride 2,1 \
    --pad 1 --activation relu --algorithm gemm --check
fi

# random configurations of every op (seeded: the same ones every run)
run validate -- "$clconv" validate --op all --dims all --count 25 --seed 11

exit "$failed"
