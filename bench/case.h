/* Benchmark cases: a compact text descriptor for any op and shape, the built-in suite, FLOP and byte counts. */
#ifndef CLCONV_BENCH_CASE_H
#define CLCONV_BENCH_CASE_H

#include <clconv.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum bench_op { BENCH_CONV, BENCH_LAYER, BENCH_POOL, BENCH_ACT } bench_op;

typedef struct bench_case {
  char name[64];
  bench_op op;
  clconv_layer_desc layer;                      /* conv: .conv; layer: both; pool: .pool */
  clconv_activation act;                        /* act */
  uint32_t act_dims[CLCONV_MAX_DIMS], act_ndim; /* act: the tensor shape */
  clconv_dtype dtype;                           /* every tensor's (the descriptors carry it too) */
  bool every_algo; /* a conv case without algo=: clconv-bench runs it once per algorithm (direct, gemm, auto) */
} bench_case;

/* Grammar (whitespace-free, fields in any order, each at most once):
 *   OP:FIELD=VALUE,FIELD=VALUE,...
 *   OP      conv | layer | pool | act
 *   name=   a label (default: the op)
 *   n= c= k= groups=              batch, input channels, output channels (conv/layer), groups
 *   in=     spatial input size, outermost first: 16000 | 56x56 | 8x56x56  (sets the number of spatial dims)
 *   kernel= stride= dil= pad= pad_before= pad_after=   conv per-axis: one value for every axis or AxB[xC]
 *   mode=xcorr|conv  bias=0|1  act=NAME[:ALPHA]  (conv/layer; act= also names an act case's function)
 *   algo=auto|direct|gemm  (conv/layer; default auto; clconv-bench runs a conv case without it once per algorithm)
 *   dtype=f32|f16|bf16     the tensors' element type (any op; default f32)
 *   pool=max|avg window= pool_stride= pool_pad= count_pad=0|1 ceil=0|1   (layer; for pool: kind= window= stride=
 *   pad= pad_before= pad_after= count_pad= ceil=)
 * Required: in=, and c= (k= and kernel= for conv/layer, window= for pool, act= for act). Defaults: n=1, groups=1,
 * stride 1 (pool: the window), dil 1, pad 0. An explicit 0 stride, dilation, window or size is an error. */
int bench_case_parse(const char *text, bench_case *out, char *err, size_t err_cap); /* 0 or -1 with err */
/* Writes the message into err (cap bytes) and returns -1: the bench's parsers report errors this way. */
int bench_fail(char *err, size_t cap, const char *fmt, ...);
const char *bench_op_name(bench_op op); /* "conv", "layer", "pool", "act" */
/* The canonical descriptor of c (parses back to the same case). */
void bench_case_format(const bench_case *c, char *buf, size_t cap);
/* The matching `clconv` CLI command line (inputs named X.npy, W.npy, B.npy). */
void bench_case_cli(const bench_case *c, char *buf, size_t cap);

/* Work and traffic: conv FLOP = 2 * N * K * out-spatial * C/groups * kernel-volume (the layer counts its conv);
 * bytes = every input and output tensor read or written once, at the element type's size. */
double bench_case_flop(const bench_case *c);
double bench_case_bytes(const bench_case *c);

/* The CPU reference of c on host data in clconv's layouts (w, b, z NULL where the case has none): its output in ref,
 * the magnitudes in mag (zeros for act) and the tolerance. */
clconv_status bench_case_reference(const bench_case *c, const float *x, const float *w, const float *b, const float *z,
                                   float *ref, float *mag, clconv_tolerance *tol);

extern const char *const bench_suite[]; /* descriptors of the built-in suite */
extern const size_t bench_suite_count;

#endif
