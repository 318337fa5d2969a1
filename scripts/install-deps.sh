#!/usr/bin/env bash
# Installs the Debian packages clconv needs, only those missing, so a ready machine needs no network.
# Root runs apt-get directly, anyone else through sudo.
#   scripts/install-deps.sh          build and run the library and the CLI
#   scripts/install-deps.sh --bench  also clconv-bench's extras: oneDNN (--peer onednn), gnuplot (--plot)
#   scripts/install-deps.sh --test   all of the above and the test tools: cmocka, NumPy (CLI round trips),
#                                    clang + libFuzzer, Oclgrind (GPU semantics without a GPU)
set -euo pipefail
pkgs=(cmake gcc make pkg-config ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd libclblast-dev)
case "${1:-}" in
--bench) pkgs+=(libdnnl-dev gnuplot-nox) ;;
--test) pkgs+=(libdnnl-dev gnuplot-nox libcmocka-dev python3-numpy clang libclang-rt-14-dev oclgrind) ;;
"") ;;
*)
  echo "usage: $0 [--bench | --test]" >&2
  exit 2
  ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
