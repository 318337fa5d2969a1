#!/usr/bin/env bash
# End-to-end tests of the clconv binary: every subcommand, every exit code, --check, --help texts, atomic output,
# and round trips through .npy files written and read by NumPy (skipped, and said so, when NumPy is missing).
# usage: tests/cli_test.sh path/to/clconv
set -uo pipefail
clconv=$(realpath "$1")
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*"
}
# expect CODE TEXT -- command...: exit status CODE, and TEXT (if not empty) in stdout+stderr
expect() {
  local code=$1 text=$2
  shift 3
  local out
  out=$("$@" 2>&1)
  local rc=$?
  if [ "$rc" -ne "$code" ]; then
    bad "$* -> exit $rc, want $code: $out"
  elif [ -n "$text" ] && ! grep -qF -- "$text" <<<"$out"; then
    bad "$* -> output lacks \"$text\": $out"
  else
    ok
  fi
}

source "$here/find_numpy.sh"

# ---- usage, help ------------------------------------------------------------------------------------------------
expect 0 "usage: clconv <command>" -- "$clconv" --help
expect 2 "usage: clconv <command>" -- "$clconv"
expect 2 "clconv: frobnicate: unknown command" -- "$clconv" frobnicate
for flag in input weights bias output stride pad pad-before pad-after dilation groups mode activation pool window \
  pool-stride pool-pad count-pad ceil cpu check device residual residual-scale dtype; do
  expect 0 "--$flag" -- "$clconv" conv --help
done
for flag in kind input output window stride pad pad-before pad-after count-pad ceil cpu check device dtype; do
  expect 0 "--$flag" -- "$clconv" pool --help
done
for flag in kind input output cpu check device dtype; do expect 0 "--$flag" -- "$clconv" act --help; done
for flag in op dims count seed device dtype; do expect 0 "--$flag" -- "$clconv" validate --help; done
expect 0 "index" -- "$clconv" devices --help

# ---- devices --------------------------------------------------------------------------------------------------
if ! "$clconv" devices >devices.txt 2>&1; then
  echo "no OpenCL device: device tests skipped ($(cat devices.txt))"
  echo "$pass passed, $fail failed, device tests skipped"
  [ "$fail" -eq 0 ]
  exit
fi
grep -q "^0 " devices.txt && ok || bad "devices lists no index 0: $(cat devices.txt)"

# ---- inputs ---------------------------------------------------------------------------------------------------
if [ -n "$PY" ]; then
  "$PY" - <<'EOF'
import numpy as np
r = np.random.default_rng(7)
np.save("x.npy", r.standard_normal((2, 3, 9, 8)).astype(np.float32))
np.save("w.npy", r.standard_normal((4, 3, 3, 2)).astype(np.float32))
np.save("b.npy", r.standard_normal((4,)).astype(np.float32))
np.save("w64.npy", r.standard_normal((4, 3, 3, 2)))                      # float64: rounded, with a note
np.save("x_be.npy", r.standard_normal((2, 3, 9, 8)).astype(">f4"))     # big-endian
np.save("x_i32.npy", r.integers(-5, 5, (2, 3, 9, 8)).astype(np.int32))
np.save("x1d.npy", r.standard_normal((1, 2, 30)).astype(np.float32))
np.save("w1d.npy", r.standard_normal((3, 2, 4)).astype(np.float32))
np.save("x3d.npy", r.standard_normal((1, 2, 5, 6, 7)).astype(np.float32))
np.save("w3d.npy", r.standard_normal((2, 1, 3, 3, 3)).astype(np.float32))  # groups 2
np.save("fortran.npy", np.asfortranarray(r.standard_normal((2, 3, 4, 4)).astype(np.float32)))
np.save("w_bad.npy", r.standard_normal((4, 2, 3, 3)).astype(np.float32))   # 2 channels per group, input has 3
np.save("z.npy", r.standard_normal((2, 4, 7, 7)).astype(np.float32))       # residual of x (*) w
EOF
  [ -f x.npy ] && ok || bad "numpy could not write the inputs"
else
  echo "NumPy not found: the .npy round trips are skipped"
  # the binary can still be driven with files it writes itself: a conv on the CLI's own output
fi

if [ -n "$PY" ]; then
  # ---- conv, layer, pool, act: device vs CPU (--check), and against NumPy's own arithmetic -------------------
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --output y.npy --check
  expect 0 "" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --output y_flip.npy --mode conv \
    --stride 2,1 --pad-before 1,0 --pad-after 0,2 --dilation 1,2 --activation leaky_relu:0.1
  expect 0 "" -- "$clconv" conv --input x.npy --weights w.npy --output y_same.npy --pad same --cpu
  expect 0 "passed" -- "$clconv" conv --input x1d.npy --weights w1d.npy --output y1d.npy --stride 3 --check
  expect 0 "passed" -- "$clconv" conv --input x3d.npy --weights w3d.npy --output y3d.npy --groups 2 --pad 1 --check
  expect 0 "passed" -- "$clconv" conv --input x3d.npy --weights w3d.npy --output y3g.npy --groups 2 --pad 1 \
    --algorithm gemm --mode conv --check
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --output layer.npy \
    --activation relu --pool max --window 2 --check
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --output layer_avg.npy --activation tanh \
    --pool avg --window 3,2 --pool-stride 2 --pool-pad 1 --count-pad --ceil --check
  expect 0 "passed" -- "$clconv" pool --kind max --input x.npy --output pmax.npy --window 3 --stride 2 --pad 1 --check
  expect 0 "passed" -- "$clconv" pool --kind avg --input x.npy --output pavg.npy --window 2,3 --pad-before 1,0 \
    --pad-after 0,2 --count-pad --ceil --check
  expect 0 "passed" -- "$clconv" act --kind elu:0.5 --input x.npy --output act.npy --check
  expect 0 "passed" -- "$clconv" act --kind clip:-0.5,0.5 --input x.npy --output clip.npy --check
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --residual z.npy --output yz.npy \
    --residual-scale -0.5 --activation relu --check
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --residual z.npy --output layer_z.npy \
    --pool max --window 2 --check
  expect 0 "" -- "$clconv" conv --input x.npy --weights w.npy --residual z.npy --output yz_cpu.npy --cpu
  # float16: every op 1-D to 3-D with --check, and --cpu; the outputs are float16 and equal NumPy's float64
  # arithmetic on the float16-rounded inputs, rounded once to float16 (within the tolerance's two roundings)
  expect 0 "passed" -- "$clconv" conv --input x1d.npy --weights w1d.npy --output h1d.npy --stride 2 --pad 1 \
    --dtype float16 --check
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --residual z.npy --output h2d.npy \
    --activation relu --dtype float16 --check
  expect 0 "" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --residual z.npy --output h2d_cpu.npy \
    --activation relu --dtype float16 --cpu
  expect 0 "passed" -- "$clconv" conv --input x3d.npy --weights w3d.npy --output h3d.npy --groups 2 --pad 1 \
    --dtype float16 --check
  expect 0 "passed" -- "$clconv" conv --input x.npy --weights w.npy --bias b.npy --output hlayer.npy \
    --activation relu --pool max --window 2 --dtype float16 --check
  expect 0 "passed" -- "$clconv" pool --kind avg --input x3d.npy --output hpool.npy --window 2 --dtype float16 --check
  expect 0 "passed" -- "$clconv" act --kind tanh --input x.npy --output hact.npy --dtype float16 --check
  expect 0 "" -- "$clconv" act --kind tanh --input x.npy --output hact_cpu.npy --dtype float16 --cpu
  expect 2 "--dtype \"bfloat16\": float32 or float16" -- "$clconv" act --kind relu --input x.npy --output o.npy \
    --dtype bfloat16
  "$PY" - <<'EOF' && ok || bad "float16 results differ from NumPy"
import numpy as np
h = lambda a: a.astype(np.float16).astype(np.float64)
x, w, b, z = (h(np.load(f)) for f in ("x.npy", "w.npy", "b.npy", "z.npy"))
y = np.zeros((2, 4, 7, 7))
for i in range(3):
    for j in range(2):
        y += np.einsum("nchw,kc->nkhw", x[:, :, i:i + 7, j:j + 7], w[:, :, i, j])
ref = np.maximum(y + b[None, :, None, None] + z, 0).astype(np.float16)
for f in ("h2d.npy", "h2d_cpu.npy"):
    got = np.load(f)
    assert got.dtype == np.float16 and got.shape == ref.shape, (f, got.dtype, got.shape)
    err = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    assert (err <= 2.0 ** -10 * np.abs(ref.astype(np.float64)) + 1e-6).all(), (f, err.max())
t = np.tanh(x).astype(np.float16)
for f in ("hact.npy", "hact_cpu.npy"):
    got = np.load(f)
    assert got.dtype == np.float16 and np.abs(got.astype(np.float64) - t.astype(np.float64)).max() <= 2.0 ** -10, f
EOF
  expect 2 "residual z.npy has shape (2, 4, 7, 7); the convolution's output is (2, 4, 4, 7)" -- "$clconv" conv \
    --input x.npy --weights w.npy --residual z.npy --output bad.npy --stride 2,1
  expect 2 "--residual-scale needs --residual" -- "$clconv" conv --input x.npy --weights w.npy --output bad.npy \
    --residual-scale 2
  expect 2 "not a finite number" -- "$clconv" conv --input x.npy --weights w.npy --residual z.npy --output bad.npy \
    --residual-scale abc
  [ ! -f bad.npy ] && ok || bad "a refused residual must write no output"
  expect 0 "rounded to float32" -- "$clconv" conv --input x.npy --weights w64.npy --output y64.npy
  expect 0 "" -- "$clconv" conv --input x_be.npy --weights w.npy --output ybe.npy
  expect 0 "" -- "$clconv" act --kind relu --input x_i32.npy --output ri.npy
  expect 0 "" -- "$clconv" conv --input=x.npy --weights=w.npy --output=y_eq.npy # --flag=value form
  "$PY" - <<'EOF' && ok || bad "results differ from NumPy"
import numpy as np
def xcorr(x, w, s=(1, 1), pb=(0, 0), pa=(0, 0), d=(1, 1), groups=1):
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pb[0], pa[0]), (pb[1], pa[1])))
    N, C, H, W = x.shape; K, Cg, kh, kw = w.shape
    oh = (H - d[0] * (kh - 1) - 1) // s[0] + 1; ow = (W - d[1] * (kw - 1) - 1) // s[1] + 1
    y = np.zeros((N, K, oh, ow))
    for k in range(K):
        g = k // (K // groups)
        for i in range(oh):
            for j in range(ow):
                patch = x[:, g * Cg:(g + 1) * Cg, i * s[0]:i * s[0] + d[0] * kh:d[0], j * s[1]:j * s[1] + d[1] * kw:d[1]]
                y[:, k, i, j] = (patch * w[k]).sum(axis=(1, 2, 3))
    return y
x, w, b = np.load("x.npy"), np.load("w.npy"), np.load("b.npy")
def close(got, want, name):
    assert got.dtype == np.float32 and got.shape == want.shape, (name, got.dtype, got.shape, want.shape)
    err = np.abs(got - want).max()
    assert err < 1e-4, (name, err)
close(np.load("y.npy"), xcorr(x, w) + b[None, :, None, None], "xcorr")
z = np.load("z.npy").astype(np.float64)
close(np.load("yz.npy"), np.maximum(xcorr(x, w) + b[None, :, None, None] - 0.5 * z, 0), "residual, relu")
close(np.load("yz_cpu.npy"), xcorr(x, w) + z, "residual on the CPU")
close(np.load("layer_z.npy"), (xcorr(x, w) + z)[:, :, :6, :6].reshape(2, 4, 3, 2, 3, 2).max(axis=(3, 5)),
      "layer with residual")
y = xcorr(x, w[:, :, ::-1, ::-1], s=(2, 1), pb=(1, 0), pa=(0, 2), d=(1, 2)) + b[None, :, None, None]
close(np.load("y_flip.npy"), np.where(y < 0, 0.1 * y, y), "conv mode, stride, pad, dilation, leaky_relu")
close(np.load("y_same.npy"), xcorr(x, w, pb=(1, 0), pa=(1, 1)), "same padding")
r = np.maximum(xcorr(x, w) + b[None, :, None, None], 0)
close(np.load("layer.npy"), r[:, :, :6, :6].reshape(2, 4, 3, 2, 3, 2).max(axis=(3, 5)), "layer")
xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
pm = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max() for j in range(4)] for i in range(5)]
                for c in range(3)] for n in range(2)])
close(np.load("pmax.npy"), pm, "max pool")
close(np.load("act.npy"), np.where(x < 0, 0.5 * np.expm1(x.astype(np.float64)), x), "elu")
close(np.load("clip.npy"), np.clip(x, -0.5, 0.5), "clip")
close(np.load("ri.npy"), np.maximum(np.load("x_i32.npy"), 0).astype(np.float64), "int32 input")
close(np.load("ybe.npy"), xcorr(np.load("x_be.npy").astype(np.float32), w), "big-endian input")
assert np.load("y_eq.npy").shape == (2, 4, 7, 7)
EOF

  # ---- exit 1: a device result over tolerance (a build option that compiles in relu where none was asked) ------
  expect 1 "FAILED" -- env CLCONV_BUILD_OPTIONS=-DACT=1 "$clconv" conv --input x.npy --weights w.npy --output y1.npy --check
  [ -f y1.npy ] && ok || bad "--check failure must still write the device result"

  # ---- exit 2: usage ------------------------------------------------------------------------------------------
  expect 2 "unknown option \"--strid\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --strid 2
  expect 2 "--stride \"0\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --stride 0
  expect 2 "--dilation \"0,1\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --dilation 0,1
  expect 2 "--pad \"-1\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --pad -1
  expect 2 "3 values for 2 spatial axes" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --stride 1,1,1
  expect 2 "weights expect 2 input channels per group, input has 3" -- \
    "$clconv" conv --input x.npy --weights w_bad.npy --output o.npy
  expect 2 "input has rank 3 but weights have rank 4" -- "$clconv" conv --input x1d.npy --weights w.npy --output o.npy
  expect 2 "bias must have shape (3,)" -- "$clconv" conv --input x1d.npy --weights w1d.npy --bias b.npy --output o.npy
  expect 2 "exceeds padded input" -- "$clconv" conv --input x1d.npy --weights w1d.npy --output o.npy --dilation 20
  expect 2 "--input is required" -- "$clconv" conv --weights w.npy --output o.npy
  expect 2 "need --pool" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --window 2
  expect 2 "--mode \"flip\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --mode flip
  expect 2 "--algorithm \"fft\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --algorithm fft
  expect 2 "unknown activation \"mish\"" -- "$clconv" conv --input x.npy --weights w.npy --output o.npy --activation mish
  expect 2 "--cpu and --check" -- "$clconv" act --kind relu --input x.npy --output o.npy --cpu --check
  expect 2 "--kind \"mean\"" -- "$clconv" pool --kind mean --input x.npy --output o.npy --window 2
  expect 2 "must be < window" -- "$clconv" pool --kind max --input x.npy --output o.npy --window 2 --pad 2
  expect 2 "--pad excludes" -- "$clconv" pool --kind max --input x.npy --output o.npy --window 2 --pad 1 --pad-after 1
  expect 2 "--op \"gemm\"" -- "$clconv" validate --op gemm
  expect 2 "--count \"0\"" -- "$clconv" validate --count 0
  [ ! -e o.npy ] && ok || bad "a usage error wrote an output"

  # ---- exit 3: input/output ----------------------------------------------------------------------------------
  expect 3 "missing.npy: cannot open" -- "$clconv" act --kind relu --input missing.npy --output o.npy
  printf 'not an npy file at all' >garbage.npy
  expect 3 "garbage.npy: not a .npy file (bad magic)" -- "$clconv" act --kind relu --input garbage.npy --output o.npy
  head -c 200 x.npy >truncated.npy # the whole header, part of the data
  expect 3 "truncated data" -- "$clconv" act --kind relu --input truncated.npy --output o.npy
  expect 3 "fortran_order is True" -- "$clconv" act --kind relu --input fortran.npy --output o.npy
  expect 3 "/nonexistent-dir/o.npy" -- "$clconv" act --kind relu --input x.npy --output /nonexistent-dir/o.npy
  mkdir -p blocked.npy/inner # an output path that cannot be replaced: the old content stays, no temp file left
  expect 3 "blocked.npy: rename failed" -- "$clconv" act --kind relu --input x.npy --output blocked.npy
  [ -z "$(ls | grep '\.tmp\.')" ] && ok || bad "temporary file left behind: $(ls)"

  # ---- exit 4: device ----------------------------------------------------------------------------------------
  expect 4 "no-such-device" -- "$clconv" act --kind relu --input x.npy --output o.npy --device no-such-device
  expect 4 "no-such-device" -- env CLCONV_DEVICE=no-such-device "$clconv" validate --count 1
  expect 4 "ACT must be 0.." -- env CLCONV_BUILD_OPTIONS=-DACT=99 "$clconv" act --kind relu --input x.npy --output o.npy
  expect 0 "" -- "$clconv" act --kind relu --input x.npy --output o.npy --device 0
  [ -f o.npy ] && ok || bad "--device 0 wrote no output"
fi

# ---- validate ---------------------------------------------------------------------------------------------------
# (the command, with every activation; the tests' sweeps are the coverage, and each new shape and activation here
# is a kernel for PoCL to compile)
expect 0 "8 passed, 0 failed" -- "$clconv" validate --op conv --dims 2 --count 8 --seed 5
expect 0 "20 passed, 0 failed" -- "$clconv" validate --op all --dims all --count 5
expect 0 "1 passed, 0 failed" -- "$clconv" validate --op layer --dims 3 --count 1 --seed 77
expect 0 "8 passed, 0 failed" -- "$clconv" validate --op all --dims 2 --dtype float16 --count 2 --seed 3
expect 0 "4 passed, 0 failed" -- "$clconv" validate --op all --dims 1 --dtype bfloat16 --count 1 --seed 9
expect 2 "--dtype \"half\": float32, float16 or bfloat16" -- "$clconv" validate --dtype half

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
