/* Helpers shared by the bench's sources and its peers: the clock, ordering, the random data. */
#ifndef CLCONV_BENCH_TIMING_H
#define CLCONV_BENCH_TIMING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline double bench_now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* qsort comparator for doubles, ascending */
static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Elements of a tensor of dims v[0..n) */
static inline size_t bench_count(const uint32_t *v, uint32_t n) {
  size_t p = 1;
  for (uint32_t i = 0; i < n; i++)
    p *= v[i];
  return p;
}

/* splitmix64 -> [-1, 1) */
static inline float bench_random(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (float)((double)((z ^ (z >> 31)) >> 11) * 0x1p-52 - 1.0);
}

#endif
