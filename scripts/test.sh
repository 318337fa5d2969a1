#!/usr/bin/env bash
# The test command: install missing packages; build with warnings as errors and run every test (the GPU-semantics
# stage under Oclgrind among them: tests/oclgrind_test.sh); install into a
# scratch prefix and build the examples against it through find_package and through pkg-config; fuzz the three
# parsers for 40 s each; build again with ASan+UBSan and run every test with LeakSanitizer on (suppressions:
# scripts/lsan.supp, the OpenCL platform's internals only); build again with ThreadSanitizer and run the threads
# test (no suppressions).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)
root=$PWD
cache="$root/build/pocl-cache" # compiled kernels, shared by both builds

cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Release -DCLCONV_WERROR=ON -DCLCONV_REQUIRE_OCLGRIND=ON \
  -DCLCONV_POCL_CACHE_DIR="$cache"
cmake --build build/test -j "$jobs"
(cd build/test && ctest -j "$jobs" --output-on-failure)

prefix="$root/build/install"
rm -rf "$prefix"
cmake --install build/test --prefix "$prefix"
export POCL_CACHE_DIR="$cache"
cmake -S examples -B build/example -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
cmake --build build/example
libdir="$(dirname "$(find "$prefix" -name 'libclconv.so' | head -n 1)")"
pcdir=$(dirname "$(find "$prefix" -name clconv.pc | head -n 1)")
for example in lenet_layer resnet_block; do
  LD_LIBRARY_PATH="$libdir" "build/example/$example"
  cc -std=c11 -Wall -Wextra -Werror "examples/$example.c" -o "build/example/${example}_pkgconfig" \
    $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs clconv)
  LD_LIBRARY_PATH="$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir clconv)" "build/example/${example}_pkgconfig"
done
unset POCL_CACHE_DIR

scripts/fuzz.sh 40

cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCLCONV_WERROR=ON -DCLCONV_SANITIZE=address,undefined \
  -DCLCONV_BUILD_BENCH=OFF -DCLCONV_POCL_CACHE_DIR="$cache"
cmake --build build/asan -j "$jobs"
(cd build/asan && LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp" ctest -j "$jobs" --output-on-failure)

cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DCLCONV_WERROR=ON -DCLCONV_SANITIZE=thread \
  -DCLCONV_BUILD_BENCH=OFF -DCLCONV_BUILD_CLI=OFF -DCLCONV_POCL_CACHE_DIR="$cache"
cmake --build build/tsan -j "$jobs" --target test_threads
(cd build/tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest -R '^threads$' --output-on-failure)
