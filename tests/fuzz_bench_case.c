/* libFuzzer target for clconv-bench's case descriptors (bench/case.c): any string must parse or fail with a
 * message, never crash; a parsed case must format to a descriptor that parses back to the same case, and its FLOP
 * and byte counts must be finite and positive. Built and run by scripts/fuzz.sh. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 2048)
    return 0;
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  bench_case c, back;
  char err[256] = "", fmt[1024], fmt2[1024], cli[1024];
  if (bench_case_parse(text, &c, err, sizeof err) == 0) {
    bench_case_format(&c, fmt, sizeof fmt);
    if (bench_case_parse(fmt, &back, err, sizeof err) != 0)
      __builtin_trap(); /* the canonical form must parse */
    bench_case_format(&back, fmt2, sizeof fmt2);
    if (strcmp(fmt, fmt2))
      __builtin_trap(); /* and be a fixed point */
    bench_case_cli(&c, cli, sizeof cli);
    double flop = bench_case_flop(&c), bytes = bench_case_bytes(&c);
    if (!(isfinite(flop) && flop >= 0.0 && isfinite(bytes) && bytes > 0.0))
      __builtin_trap();
  } else if (!err[0] || !memchr(err, '\0', sizeof err)) {
    __builtin_trap(); /* a failure always says why */
  }
  free(text);
  return 0;
}
