#!/usr/bin/env bash
# The bad-input catalogue of the programs: one row per bad input (a CLI flag, a .npy file, a bench descriptor or
# option), each with the exit code and the message text it must give. No row may crash, leave an output file or a
# temporary behind. The C API's catalogue is the tables in tests/test_api.c and tests/test_errors.c.
# usage: tests/bad_inputs.sh path/to/clconv path/to/clconv-bench
set -uo pipefail
clconv=$(realpath "$1")
bench=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# .npy files written byte by byte (no NumPy needed): npy NAME DESCR SHAPE COUNT [VERSION]
npy() {
  python3 - "$@" <<'EOF'
import struct, sys
name, descr, shape, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
version = int(sys.argv[5]) if len(sys.argv) > 5 else 1
header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
pad = 64 - (10 + len(header) + 1) % 64
header = (header + " " * pad + "\n").encode()
size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
with open(name, "wb") as f:
    f.write(b"\x93NUMPY" + bytes([version, 0]) + size + header + struct.pack("<%df" % count, *([0.5] * count)))
EOF
}
npy x.npy '<f4' '(1, 2, 6, 6)' 72
npy w.npy '<f4' '(3, 2, 3, 3)' 54
npy b.npy '<f4' '(3,)' 3
npy x1d.npy '<f4' '(1, 2, 8)' 16
npy w2.npy '<f4' '(3, 4, 3, 3)' 108
npy b4.npy '<f4' '(4,)' 4
npy short.npy '<f4' '(1, 2, 6, 6)' 50
npy zero.npy '<f4' '(1, 0, 6, 6)' 0
npy complex.npy '<c8' '(2,)' 4
npy str.npy '<U3' '(2,)' 6
npy v9.npy '<f4' '(2,)' 2 9
npy rank6.npy '<f4' '(1, 1, 1, 1, 1, 1)' 1
printf 'not an npy file at all' >text.npy
printf '\x93NUMPY\x01\x00\xff\xff' >cut.npy
: >empty.npy
python3 -c "
import struct
h = b\"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\"
h += b' ' * (64 - (10 + len(h) + 1) % 64) + b'\n'
open('fortran.npy', 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h + b'\0' * 16)"
mkdir dir.npy empty-icd

# CODE|MESSAGE|ARGUMENTS (split at spaces); C = clconv, B = clconv-bench. Rows through `env` are faults of the
# environment: no OpenCL platform (an empty ICD directory), a cache directory that cannot exist (silent fallback).
rows=$(
  cat <<'EOS'
2|unknown command|C frobnicate
2|unknown option "--colour"|C conv --colour red
2|--input is required|C conv --weights w.npy --output y.npy
2|--weights is required|C conv --input x.npy --output y.npy
2|--output is required|C conv --input x.npy --weights w.npy
2|--stride given twice|C conv --input x.npy --weights w.npy --output y.npy --stride 1 --stride 2
2|--check takes no value|C conv --input x.npy --weights w.npy --output y.npy --check=yes
2|--stride needs a value|C conv --input x.npy --weights w.npy --output y.npy --stride
2|unexpected argument "extra"|C conv --input x.npy --weights w.npy --output y.npy extra
2|--stride "0"|C conv --input x.npy --weights w.npy --output y.npy --stride 0
2|--stride "-1"|C conv --input x.npy --weights w.npy --output y.npy --stride -1
2|--stride "1,2,3": 3 values for 2 spatial axes|C conv --input x.npy --weights w.npy --output y.npy --stride 1,2,3
2|--stride "2x"|C conv --input x.npy --weights w.npy --output y.npy --stride 2x
2|--stride "99999999999"|C conv --input x.npy --weights w.npy --output y.npy --stride 99999999999
2|--dilation "0"|C conv --input x.npy --weights w.npy --output y.npy --dilation 0
2|--pad excludes --pad-before|C conv --input x.npy --weights w.npy --output y.npy --pad 1 --pad-before 1
2|--groups "0"|C conv --input x.npy --weights w.npy --output y.npy --groups 0
2|--groups "two"|C conv --input x.npy --weights w.npy --output y.npy --groups two
2|weights expect 2 input channels per group, input has 2 channels in 2 group(s)|C conv --input x.npy --weights w.npy --output y.npy --groups 2
2|--mode "flip"|C conv --input x.npy --weights w.npy --output y.npy --mode flip
2|--algorithm "fft"|C conv --input x.npy --weights w.npy --output y.npy --algorithm fft
2|--activation: |C conv --input x.npy --weights w.npy --output y.npy --activation mish
2|--activation: |C conv --input x.npy --weights w.npy --output y.npy --activation clip:1,-1
2|--activation: |C conv --input x.npy --weights w.npy --output y.npy --activation leaky_relu:nan
2|need --pool|C conv --input x.npy --weights w.npy --output y.npy --window 2
2|--pool "median"|C conv --input x.npy --weights w.npy --output y.npy --pool median --window 2
2|--cpu and --check exclude each other|C conv --input x.npy --weights w.npy --output y.npy --cpu --check
2|bias must have shape (3,)|C conv --input x.npy --weights w.npy --bias b4.npy --output y.npy
2|input has rank 3 but weights have rank 4|C conv --input x1d.npy --weights w.npy --output y.npy
2|weights expect 4 input channels per group|C conv --input x.npy --weights w2.npy --output y.npy
2|exceeds padded input|C conv --input x.npy --weights w.npy --output y.npy --dilation 4
2|weights have rank 1|C conv --input x.npy --weights b.npy --output y.npy
2|every dimension must be 1..2147483647|C conv --input zero.npy --weights w.npy --output y.npy
3|No such file or directory|C conv --input missing.npy --weights w.npy --output y.npy
3|not a .npy file|C conv --input text.npy --weights w.npy --output y.npy
3|not a .npy file (bad magic)|C conv --input empty.npy --weights w.npy --output y.npy
3|runs past the end of the file|C conv --input cut.npy --weights w.npy --output y.npy
3|truncated data: shape needs 72 elements|C conv --input short.npy --weights w.npy --output y.npy
3|dtype|C conv --input complex.npy --weights w.npy --output y.npy
3|dtype|C conv --input str.npy --weights w.npy --output y.npy
3|version|C conv --input v9.npy --weights w.npy --output y.npy
3|fortran|C conv --input fortran.npy --weights w.npy --output y.npy
3|not a regular file|C conv --input dir.npy --weights w.npy --output y.npy
2|rank 6|C act --kind relu --input rank6.npy --output y.npy
3|cannot create a temporary file beside it|C conv --input x.npy --weights w.npy --output no-such-dir/y.npy
4|matches no device name|C conv --input x.npy --weights w.npy --output y.npy --device no-such-device
4|index out of range|C conv --input x.npy --weights w.npy --output y.npy --device 99
2|--kind is required|C pool --input x.npy --output y.npy --window 2
2|--kind "median"|C pool --kind median --input x.npy --output y.npy --window 2
2|--window is required|C pool --kind max --input x.npy --output y.npy
2|each must be < window = 2|C pool --kind max --input x.npy --output y.npy --window 2 --pad 2
2|--kind: |C act --kind mish --input x.npy --output y.npy
2|--op "gemm"|C validate --op gemm
2|--dims "4"|C validate --dims 4
2|--count "0"|C validate --count 0
2|unknown field "colour"|B --case conv:c=1,k=1,in=8,kernel=3,colour=red
2|the op must be conv, layer, pool or act|B --case gemm:c=1
2|field c given twice|B --case conv:c=1,c=2,k=1,in=8,kernel=3
2|conv cases need k=|B --case conv:c=1,in=8,kernel=3
2|stride=0|B --case conv:c=1,k=1,in=8,kernel=3,stride=0
2|3 values for 2 spatial axes|B --case conv:c=1,k=1,in=8x8,kernel=3x3x3
2|algo=fft: auto, direct or gemm|B --case conv:c=1,k=1,in=8,kernel=3,algo=fft
2|pool cases take no field algo|B --case pool:c=1,in=8,pool=max,window=2,algo=gemm
2|exceeds padded input|B --case conv:c=1,k=1,in=8,kernel=30
2|act=mish|B --case act:c=1,in=8,act=mish
2|--min-reps "0"|B --min-reps 0
2|--min-time "-1"|B --min-time -1
2|--tune-budget "0"|B --tune --tune-budget 0
2|--seed "-5"|B --seed -5
2|unknown option "--fast"|B --fast 1
2|--peer "mkl"|B --peer mkl
2|No such file or directory|B --suite missing.suite
4|no-such-device|B --device no-such-device --case act:c=1,in=4,act=relu
4|no OpenCL platform found|env OCL_ICD_VENDORS=./empty-icd C devices
4|no OpenCL platform found|env OCL_ICD_VENDORS=./empty-icd C act --kind relu --input x.npy --output y.npy
4|no OpenCL platform found|env OCL_ICD_VENDORS=./empty-icd B --case act:c=1,in=4,act=relu
2|CLCONV_DEVICE_CLASS = "fpga", must be cpu or gpu|env CLCONV_DEVICE_CLASS=fpga C act --kind relu --input x.npy --output y.npy
4|CLCONV_VECTOR_WIDTH = "3", must be 1, 2, 4, 8 or 16|env CLCONV_VECTOR_WIDTH=3 B --case act:c=1,in=4,act=relu
0|tuning: none (|env CLCONV_CACHE_DIR=./x.npy/sub B --case act:c=1,in=64,act=relu --min-time 0 --min-reps 1
EOS
)
pass=0
fail=0
while IFS='|' read -r code text cmd; do
  [ -z "$cmd" ] && continue
  read -r -a argv <<<"$cmd"
  for i in "${!argv[@]}"; do
    case ${argv[$i]} in
    C) argv[$i]=$clconv ;;
    B) argv[$i]=$bench ;;
    esac
  done
  rm -f y.npy
  out=$("${argv[@]}" 2>&1)
  rc=$?
  leftovers=$(find . -maxdepth 1 \( -name 'y.npy' -o -name '*.tmp*' \) | head -n 1)
  if [ "$rc" -ne "$code" ] || { [ -n "$text" ] && ! grep -qiF -- "$text" <<<"$out"; } || [ -n "$leftovers" ] ||
    [ "$rc" -gt 4 ]; then
    fail=$((fail + 1))
    echo "FAIL: $cmd -> exit $rc (want $code), want \"$text\", leftovers \"$leftovers\": $out"
  else
    pass=$((pass + 1))
  fi
done <<<"$rows"
echo "bad inputs: $((pass + fail)) rows, $pass as expected, $fail not"
[ "$fail" -eq 0 ]
