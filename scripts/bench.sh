#!/usr/bin/env bash
# The main job: install missing packages, build Release, run clconv-bench on the default device (CLCONV_DEVICE
# picks another). Arguments go to clconv-bench (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCLCONV_BUILD_TESTS=OFF
cmake --build build/release -j "$(nproc)"
# Compiled kernels are cached in the build tree, not in the user's home.
POCL_CACHE_DIR="$PWD/build/pocl-cache" exec build/release/bench/clconv-bench "$@"
