/* Peers: the same case run by another library in the same process (bench/peer_onednn.c, built when oneDNN is found
 * at configure time; CLCONV_BENCH_ONEDNN is then defined). */
#ifndef CLCONV_BENCH_PEER_H
#define CLCONV_BENCH_PEER_H

#include "case.h"

typedef struct bench_peer_result {
  double best_s; /* median: oneDNN's preferred layouts, weights reordered once, only the primitives timed */
  double nchw_s; /* median: plain NCHW in and out, the reorders timed */
  char err[256];
} bench_peer_result;

/* x, w, b: the case's host data in clconv's layouts (w, b may be NULL where the op has none). 0, or -1 with err. */
int bench_peer_onednn(const bench_case *c, const float *x, const float *w, const float *b, double min_time,
                      int min_reps, bench_peer_result *out);

#endif
