/* The clock the library times with (the tuner, the gemm algorithm's SGEMM timing). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "internal.h"

#include <time.h>

double clconv__now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
