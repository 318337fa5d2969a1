#!/usr/bin/env bash
# Runs the device tests and the bench suite on whatever OpenCL device is the default (CLCONV_DEVICE picks another:
# an index or a name substring) and writes one JSON: the device line, the profile clconv assumes for it, each
# test's result and time, and the bench's own JSON.
#
#   scripts/gpu-check.sh [OUT.json]     build if needed (installing packages), then run; default build/gpu-check.json
#   scripts/gpu-check.sh --stage-only   build and stage only: build/gpu-check/{bin,lib}
#
# A machine with a GPU may reach no package registry: stage on a Debian machine with the packages (--stage-only),
# carry the folder build/gpu-check (bin/: the programs, lib/: libclconv, CLBlast, the ICD loader, cmocka and
# oneDNN, found through the programs' rpath $ORIGIN/../lib) with the working tree, and run this script there: it
# uses the staged programs as they are and needs only bash, python3 and the vendor's OpenCL driver (its ICD file
# in /etc/OpenCL/vendors).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stage="$root/build/gpu-check"
out="$root/build/gpu-check.json"
stage_only=false
case "${1:-}" in
--stage-only) stage_only=true ;;
-h | --help)
  sed -n '2,13p' "$0"
  exit 0
  ;;
"") ;;
*) out=$(realpath -m "$1") ;;
esac

if [ ! -x "$stage/bin/clconv" ]; then
  scripts/install-deps.sh --test
  cmake -S . -B build/gpu-check-build -DCMAKE_BUILD_TYPE=Release -DCMAKE_BUILD_RPATH='$ORIGIN/../lib' >/dev/null
  cmake --build build/gpu-check-build -j "$(nproc)" >/dev/null
  rm -rf "$stage"
  mkdir -p "$stage/bin" "$stage/lib"
  b=build/gpu-check-build
  cp "$b/clconv" "$b/bench/clconv-bench" "$b/tests/gpu_semantics" "$stage/bin/"
  for t in api conv pool act layer errors variants choice; do cp "$b/tests/test_$t" "$stage/bin/"; done
  cp -P "$b"/libclconv.so* "$stage/lib/"
  # the shared libraries a machine without these packages lacks, as the programs resolve them here
  for lib in $(ldd "$stage"/bin/* | awk '/(clblast|OpenCL|cmocka|dnnl|gomp)/ {print $3}' | sort -u); do
    cp -L "$lib" "$stage/lib/"
  done
fi
$stage_only && {
  echo "staged: $stage (carry it with the working tree; run scripts/gpu-check.sh there)"
  exit 0
}

bin="$stage/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export POCL_CACHE_DIR="$root/build/pocl-cache" CLCONV_CACHE_DIR="$work/cache"
"$bin/clconv" devices >"$work/devices.txt"
cat "$work/devices.txt"

# each test: name, status, seconds, the last lines of its output
: >"$work/tests.tsv"
run() {
  local name=$1 rc=0 t0 t1
  shift
  t0=$(date +%s%N)
  "$@" >"$work/$name.out" 2>&1 || rc=$?
  t1=$(date +%s%N)
  printf '%s\t%s\t%s\n' "$name" "$([ $rc -eq 0 ] && echo pass || echo "fail ($rc)")" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" >>"$work/tests.tsv"
  tail -n 1 "$work/tests.tsv"
}
for t in choice api errors conv pool act layer variants; do run "test_$t" "$bin/test_$t"; done
run gpu_semantics "$bin/gpu_semantics"
run validate "$bin/clconv" validate --count 50
run bench "$bin/clconv-bench" --json "$work/bench.json"

python3 - "$work" "$out" <<'EOF'
import json, sys, pathlib
work, out = pathlib.Path(sys.argv[1]), sys.argv[2]
lines = (work / "devices.txt").read_text().splitlines()
tests = []
for row in (work / "tests.tsv").read_text().splitlines():
    name, status, secs = row.split("\t")
    tail = (work / f"{name}.out").read_text(errors="replace").splitlines()[-3:]
    tests.append({"name": name, "status": status, "seconds": float(secs), "tail": tail})
bench = work / "bench.json"
doc = {"devices": lines, "tests": tests, "bench": json.loads(bench.read_text()) if bench.exists() else None}
pathlib.Path(out).write_text(json.dumps(doc, indent=1) + "\n")
print(f"wrote {out}: {sum(t['status'] == 'pass' for t in tests)} of {len(tests)} passed")
EOF
grep -q $'\tfail' "$work/tests.tsv" && exit 1
exit 0
