/* libFuzzer target for the .npy parser: any byte string must parse or fail cleanly, never crash, hang or leak.
 * Built and run by scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy_array a;
  char err[256];
  if (npy_parse(data, size, &a, err, sizeof err) == NPY_OK) {
    /* a successful parse must describe exactly the data it returned */
    size_t count = 1;
    for (uint32_t i = 0; i < a.ndim; i++)
      count *= (size_t)a.shape[i];
    if (count != a.count || (count && !a.data))
      __builtin_trap();
    volatile float sink = 0;
    for (size_t i = 0; i < a.count; i++)
      sink += a.data[i];
    npy_free(&a);
  } else if (a.data || !memchr(err, '\0', sizeof err) || !err[0]) {
    __builtin_trap(); /* a failure owns nothing and always says why */
  }
  return 0;
}
