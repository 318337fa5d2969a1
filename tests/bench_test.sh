#!/usr/bin/env bash
# clconv-bench end to end: a tiny suite with JSON, CSV, --compare and (when gnuplot is installed) --plot; networks
# (--net); the JSON is parsed back; usage errors. No timing assertions: figures on a shared machine are not test material.
# usage: tests/bench_test.sh path/to/clconv-bench
set -uo pipefail
bench=$(realpath "$1")
suites=$(realpath "$(dirname "$0")/../bench/suites")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0
fail=0
check() { if "$@"; then pass=$((pass + 1)); else
  fail=$((fail + 1))
  echo "FAIL: $*"
fi; }
expect() { # expect CODE TEXT command...
  local code=$1 text=$2 out rc
  shift 2
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$code" ] && grep -qF -- "$text" <<<"$out"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $* -> exit $rc (want $code), output: $out"
  fi
}

expect 0 "conv:name=lenet_c1" "$bench" --list
# --list with --suite: the file's cases, parsed, each once in full (the repository's suites stay valid)
expect 0 "pool:name=gap_7x7,n=1,c=1280,in=7x7,pool=avg,window=7x7" "$bench" --suite "$suites/other_nets.txt" --list
check test "$("$bench" --suite "$suites/other_nets.txt" --list | wc -l)" -eq "$(grep -c '^[a-z]' "$suites/other_nets.txt")"
expect 0 "conv:name=x,n=1,c=1,k=1" "$bench" --case conv:name=x,c=1,k=1,in=8,kernel=3 --list
expect 0 "--compare OLD.json" "$bench" --help
expect 2 "--case: unknown field \"colour\"" "$bench" --case conv:c=1,k=1,in=8,kernel=3,colour=red
expect 2 "algo=fast: auto, direct or gemm" "$bench" --case conv:c=1,k=1,in=8,kernel=3,algo=fast
expect 2 "--min-reps \"0\"" "$bench" --min-reps 0
expect 2 "unknown option \"--fast\"" "$bench" --fast 1
printf 'pool:name=p,c=2,in=9,pool=max,window=2\nbogus\n' >bad.suite
expect 2 "bad.suite:2:" "$bench" --suite bad.suite
expect 4 "no-such-device" "$bench" --device no-such-device --case act:c=1,in=4,act=relu

cat >tiny.suite <<'EOS'
# one of each op, small
conv:name=tiny_conv,n=2,c=3,k=4,in=12x10,kernel=3,stride=2,pad=1,bias=1,act=relu,residual=1
layer:name=tiny_layer,c=2,k=3,in=10,kernel=3,act=tanh,pool=avg,window=2,count_pad=1,residual=1
pool:name=tiny_pool,c=3,in=5x6x7,pool=max,window=2,ceil=1
act:name=tiny_act,c=2,in=100,act=sigmoid   # trailing comment
EOS
expect 0 "tiny_layer" "$bench" --suite tiny.suite --min-time 0 --min-reps 2 --json run.json --csv run.csv
expect 0 "vs_old" "$bench" --suite tiny.suite --min-time 0 --min-reps 2 --compare run.json --json run2.json
check python3 -c '
import json, csv
names = ["tiny_conv"] * 3 + ["tiny_layer"] * 2 + ["tiny_pool", "tiny_act"]
for name in ("run.json", "run2.json"):
    r = json.load(open(name))
    assert r["tool"] == "clconv-bench" and r["device"]["name"], r
    assert r["peak"]["fma_gflops"] > 0 and r["peak"]["copy_gbps"] > 0, r["peak"]
    assert r["peak"]["launch_wait_us"] > 0 and r["peak"]["launch_chain_us"] > 0, r["peak"]
    cases = r["cases"]
    assert [c["case"] for c in cases] == names, cases
    # a conv case without algo= runs once per algorithm; auto reports its choice
    assert [c["algorithm"] for c in cases[:3]] == ["direct", "gemm", "auto"], cases
    assert [c["chosen"] for c in cases[:2]] == ["direct", "gemm"] and cases[2]["chosen"] in ("direct", "gemm"), cases
    assert "algo=gemm" in cases[1]["descriptor"] and "algo=" not in cases[3]["descriptor"], cases
    assert sum(c["fastest"] for c in cases[:3]) == 1 and sum(c["fastest"] for c in cases[3:5]) == 1, cases
    assert all(c["fastest"] for c in cases[5:]), cases
    # a layer case runs fused and as three ops
    assert [c["algorithm"] for c in cases[3:5]] == ["fused", "3 ops"], cases
    for c in cases:
        assert c["status"] == "ok" and c["mismatches"] == 0, c
        assert c["median_ms"] > 0 and c["reps"] >= 2 and 0 < c["peak_fraction"], c
    assert cases[0]["flop"] == 2 * 2 * 4 * 6 * 5 * 3 * 9, cases[0]["flop"]
    assert cases[6]["bytes"] == 2 * 4 * 200 and cases[6]["gbps"] > 0, cases[6]
rows = list(csv.DictReader(open("run.csv")))
assert [r["case"] for r in rows] == names, rows
assert rows[0]["rate_unit"] == "GFLOP/s" and rows[5]["rate_unit"] == "GB/s" and rows[1]["chosen"] == "gemm", rows
'
# an explicit algo=auto runs that algorithm alone, and its descriptor says so
expect 0 "one_auto" "$bench" --case conv:name=one_auto,c=2,k=2,in=8,kernel=3,algo=auto --min-time 0 --min-reps 1 \
  --json one.json
check python3 -c '
import json
cases = json.load(open("one.json"))["cases"]
assert [c["algorithm"] for c in cases] == ["auto"] and "algo=auto" in cases[0]["descriptor"], cases
'
# no --case: the whole built-in suite runs
expect 0 "relu" "$bench" --min-time 0 --min-reps 1 --no-validate --json all.json
check python3 -c '
import json
cases = json.load(open("all.json"))["cases"]
# 27 cases, the 11 float32 conv ones once per algorithm, the layer fused and as three ops
assert len(cases) == 27 + 2 * 11 + 1 and all(c["status"] == "skipped" for c in cases), [c["case"] for c in cases]
'
# a 16-bit case times its float32 form in the same rounds (f32_ms, vs_f32); a float32 case has none
expect 0 "vs_f32" "$bench" --case act:name=h,c=2,in=9,act=relu,dtype=f16 --case act:name=s,c=2,in=9,act=relu \
  --case conv:name=b,c=2,k=3,in=6x6,kernel=3,dtype=bf16 --min-time 0 --min-reps 1 --json f32.json --csv f32.csv
check python3 -c '
import csv, json
cases = json.load(open("f32.json"))["cases"]
assert [c["case"] for c in cases] == ["h", "s", "b", "b", "b"], cases
assert all(c["status"] == "ok" for c in cases), cases
assert cases[0]["f32_ms"] > 0 and cases[1]["f32_ms"] == 0 and all(c["f32_ms"] > 0 for c in cases[2:]), cases
assert float(list(csv.DictReader(open("f32.csv")))[0]["f32_ms"]) > 0
'
# every case prints the command that reruns it alone, and that command works
repro=$("$bench" --case conv:name=r,c=2,k=2,in=6,kernel=3,algo=gemm --min-time 0 --min-reps 1 2>/dev/null |
  sed -n "s/^    repro: //p")
check grep -q "^clconv-bench --case 'conv:name=r,n=1,c=2,k=2.*,algo=gemm'$" <<<"$repro"
expect 0 "ok" bash -c "${repro/clconv-bench/$bench} --min-time 0 --min-reps 1"
# the oneDNN peer, when built with it: both figures present (no ratio is asserted)
if "$bench" --peer onednn --list >/dev/null 2>&1; then # exit 0 only when built with oneDNN
  expect 0 "vs_onednn" "$bench" --suite tiny.suite --min-time 0 --min-reps 1 --peer onednn --json peer.json
  check python3 -c '
import json
cases = json.load(open("peer.json"))["cases"]
assert all(c["onednn_ms"] > 0 and c["onednn_nchw_ms"] > 0 for c in cases), cases
'
  # 16-bit cases: oneDNN runs the same type where it has it on this CPU, else a note says so and the row has no peer
  "$bench" --case conv:name=h,c=2,k=3,in=6x6,kernel=3,algo=direct,dtype=f16 \
    --case pool:name=b,c=2,in=6x6,pool=max,window=2,dtype=bf16 --min-time 0 --min-reps 1 --peer onednn \
    --json peer16.json 2>peer16.err >/dev/null
  check python3 -c '
import json
cases = json.load(open("peer16.json"))["cases"]
notes = open("peer16.err").read()
assert len(cases) == 2 and all(c["status"] == "ok" for c in cases), cases
for c in cases:
    ran = c["onednn_ms"] > 0 and c["onednn_nchw_ms"] > 0
    noted = "note: %s: no oneDNN peer in" % c["case"] in notes
    assert ran != noted, (c, notes)
'
else
  expect 2 "built without oneDNN" "$bench" --peer onednn
fi
# networks: the built-in LeNet, and a file with every path (a residual read again later, so not in place; one in
# place; an activation op; a fused layer; 1-D); with the peer when built with it
cat >mini.net <<'EON'
input 3x40
a bn conv:k=4,kernel=3,pad=1,act=relu
b add=a conv:k=4,kernel=3,pad=1
c act:act=tanh
d from=a add=b bn conv:k=4,kernel=1,act=relu
e layer:k=2,kernel=3,act=relu,pool=max,window=2
f pool:pool=avg,window=19
EON
peer=()
if "$bench" --peer onednn --list >/dev/null 2>&1; then peer=(--peer onednn); fi
expect 0 "validation: ok" "$bench" --net lenet5,mini.net --batch 3 --min-time 0 --min-reps 2 "${peer[@]}" --json nets.json
check python3 -c '
import json, sys
r = json.load(open("nets.json"))
assert r["cases"] == [], r["cases"]
nets = r["nets"]
assert [n["net"] for n in nets] == ["lenet5", "mini"] and all(n["batch"] == 3 for n in nets), nets
for n in nets:
    assert n["status"] == "ok" and n["median_ms"] > 0 and n["cold_ms"] > 0 and n["warm_first_ms"] > 0, n
    assert n["images_per_s"] > 0 and n["reps"] >= 2, n
    assert all(l["status"] == "ok" and l["median_ms"] > 0 and l["kernel"] for l in n["layers"]), n["layers"]
    if len(sys.argv) > 1:
        assert n["onednn_ms"] > 0 and all(l["onednn_ms"] > 0 for l in n["layers"]), n
assert [l["name"] for l in nets[0]["layers"]] == ["c1s2", "c3s4", "c5", "f6", "out"], nets[0]["layers"]
assert [l["op"] for l in nets[1]["layers"]] == ["conv", "conv", "act", "conv", "layer", "pool"], nets[1]["layers"]
assert nets[0]["flop"] == 3 * 2 * (6*28*28*3*25 + 16*10*10*6*25 + 120*16*25 + 84*120 + 10*84), nets[0]["flop"]
' "${peer[@]}"
expect 2 "no such network (built in: lenet5, m5, mobilenet_v2, r3d_18, resnet18, resnet50, vgg16" "$bench" --net alexnet
expect 2 "--net runs networks only" "$bench" --net lenet5 --case act:c=1,in=4,act=relu
expect 2 "--batch goes with --net" "$bench" --batch 2
expect 2 "--batch \"0\"" "$bench" --net lenet5 --batch 0
printf 'input 3x8\na conv:k=2,kernel=1\nb add=a conv:k=3,kernel=1\n' >bad.net
expect 2 "bad: line 3: add=a: its output is 2x8, the convolution's 3x8" "$bench" --net bad.net
if command -v gnuplot >/dev/null; then
  expect 0 "" "$bench" --suite tiny.suite --min-time 0 --min-reps 1 --plot run.png
  check test -s run.png
else
  expect 2 "gnuplot" "$bench" --suite tiny.suite --plot run.png
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
