/* Peers: the same case run by another library in the same process (bench/peer_onednn.c, built when oneDNN is found
 * at configure time; CLCONV_BENCH_ONEDNN is then defined). */
#ifndef CLCONV_BENCH_PEER_H
#define CLCONV_BENCH_PEER_H

#include "case.h"

/* A peer's prepared case: its variants, timed one call at a time so that the bench can interleave them with its
 * own calls (this machine's speed drifts over seconds; ratios from alternating rounds share the drift). */
typedef struct bench_peer bench_peer;
enum {
  BENCH_PEER_BEST, /* oneDNN's preferred layouts, weights reordered once, only the primitives timed */
  BENCH_PEER_NCHW, /* plain NCHW in and out, the reorders timed */
  BENCH_PEER_VARIANTS
};

/* x, w, b, z: the case's host data in clconv's layouts (w, b, z may be NULL where the op has none; z: the
 * residual, oneDNN's sum post-op, which adds it to what dst holds: dst starts as z and then holds the last result).
 * The peer runs the case's element type (16-bit tensors hold the same values). Builds every variant and runs each
 * twice untimed. 0 (err: "", or a note when oneDNN runs one of its unoptimised reference implementations), or -1
 * with err (oneDNN may have no implementation for a 16-bit type on this CPU). */
int bench_peer_onednn_open(const bench_case *c, const float *x, const float *w, const float *b, const float *z,
                           bench_peer **out, char *err, size_t cap);
/* One call of a variant, synchronous: its wall time in seconds. 0, or -1 with err. */
int bench_peer_call(bench_peer *p, int variant, double *seconds, char *err, size_t cap);
void bench_peer_close(bench_peer *p); /* NULL is fine */

/* A network run by oneDNN's primitives: each layer's convolution (sum and eltwise post-ops for the residual and the
 * activation) and pooling, in the layouts oneDNN picks (format any), tensors passed from layer to layer in those
 * layouts; a reorder where a primitive wants another layout is timed with its layer. The residual is summed in
 * place where clconv does it in place, else copied into the destination first (timed). x: the input, w[i] and b[i]
 * layer i's weights and bias in clconv's layouts (NULL where none). Runs twice untimed. 0, or -1 with err. */
typedef struct bench_peer_net bench_peer_net;
struct bench_net;
int bench_peer_onednn_net_open(const struct bench_net *net, const float *x, float *const *w, float *const *b,
                               bench_peer_net **out, char *err, size_t cap);
/* One forward, synchronous: its wall time and each layer's (layer_s: net->n of them). 0, or -1 with err. */
int bench_peer_net_call(bench_peer_net *p, double *seconds, double *layer_s, char *err, size_t cap);
void bench_peer_net_close(bench_peer_net *p); /* NULL is fine */

/* After a slice of the peer's calls, before a slice of ours: the peer's threads released. oneDNN on OpenMP leaves
 * them spinning after its last call (libgomp's default wait policy: GOMP_SPINCOUNT, 300000 pause loops, some
 * milliseconds), on the cores the next slice of ours then runs on: resnet50's first layers measured up to 1.8x
 * their time (docs/PERFORMANCE.md, "Networks"). Released here (omp_pause_resource_all), they start again at the
 * peer's next call, as PoCL's workers wake at ours. */
void bench_peer_onednn_rest(void);

/* Medians in seconds, 0 when not run. */
typedef struct bench_peer_result {
  double best_s, nchw_s;
  char err[256];
} bench_peer_result;

#endif
