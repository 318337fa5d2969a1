/* The device's fp32 FMA throughput, copy bandwidth and the cost of a launch, measured by our own small kernels
 * (bench/peak.cl) in the same run as the cases, so every figure can be given as a fraction of what this device did
 * today, and a short call read against the floor no kernel goes below. */
#ifndef CLCONV_BENCH_PEAK_H
#define CLCONV_BENCH_PEAK_H

#include <clconv.h>

typedef struct bench_peak {
  double fma_gflops; /* best over the vector widths tried */
  int fma_width;     /* floats per work-item vector that reached it */
  double copy_gbps;  /* bytes read + written per second */
  double copy_mib;   /* buffer size used */
  double launch_wait_us;  /* one work-item doing nothing: enqueue to finish, waited on each time (median) */
  double launch_chain_us; /* the same enqueued 64 times back to back, then one wait: per launch (median) */
} bench_peak;

/* 0, or -1 with err set (an OpenCL call and its code). */
int bench_peak_measure(clconv_context *ctx, bench_peak *out, char *err, size_t err_cap);

#endif
