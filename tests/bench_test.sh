#!/usr/bin/env bash
# clconv-bench end to end: a tiny suite with JSON, CSV, --compare and (when gnuplot is installed) --plot; the JSON
# is parsed back; usage errors. No timing assertions: figures on a shared machine are not test material.
# usage: tests/bench_test.sh path/to/clconv-bench
set -uo pipefail
bench=$(realpath "$1")
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
# no --case: the whole built-in suite runs
expect 0 "relu" "$bench" --min-time 0 --min-reps 1 --no-validate --json all.json
check python3 -c '
import json
cases = json.load(open("all.json"))["cases"]
# 15 cases, the 11 conv ones once per algorithm, the layer fused and as three ops
assert len(cases) == 15 + 2 * 11 + 1 and all(c["status"] == "skipped" for c in cases), [c["case"] for c in cases]
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
else
  expect 2 "built without oneDNN" "$bench" --peer onednn
fi
if command -v gnuplot >/dev/null; then
  expect 0 "" "$bench" --suite tiny.suite --min-time 0 --min-reps 1 --plot run.png
  check test -s run.png
else
  expect 2 "gnuplot" "$bench" --suite tiny.suite --plot run.png
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
