/* Networks for clconv-bench --net: a description per network (grammar: bench/nets/README.md), parsed into one bench
 * case per layer with every shape derived from the layer's source. */
#ifndef CLCONV_BENCH_NET_H
#define CLCONV_BENCH_NET_H

#include "case.h"

#include <stdbool.h>

typedef struct bench_net_layer {
  bench_case c;   /* complete: n = the batch, c= and in= from the source; c.name is the layer's name */
  size_t src;     /* the tensor it reads: 0 the network's input, i + 1 layer i's output */
  size_t add;     /* the residual's tensor, or 0 for none (the input is never a residual) */
  bool bn;        /* a batch norm folded into the weights and bias */
  bool in_place;  /* the output goes into add's tensor: nothing after this layer reads it */
  uint32_t out[CLCONV_MAX_DIMS], nd; /* the output's dims, N C spatial, and their number */
} bench_net_layer;

typedef struct bench_net {
  char name[64];
  uint32_t in[CLCONV_MAX_DIMS], nd; /* the input's dims, N C spatial */
  bench_net_layer *layers;
  size_t n;
} bench_net;

/* Parses a description for the given batch (>= 1). 0, or -1 with err ("line L: ..."); *net is freed on failure. */
int bench_net_parse(const char *name, const char *text, uint32_t batch, bench_net *net, char *err, size_t cap);
/* A built-in network by name, or a description file when spec names one (holds '/' or ends in ".net"). */
int bench_net_load(const char *spec, uint32_t batch, bench_net *net, char *err, size_t cap);
void bench_net_free(bench_net *net);

/* The dims of tensor t (0: the input, i + 1: layer i's output) and their number. */
const uint32_t *bench_net_dims(const bench_net *net, size_t t, uint32_t *nd);

/* The built-in networks (bench/nets/NAME.net, embedded at build time): name and text, in pairs. */
extern const char *const bench_nets[];
extern const unsigned long bench_nets_count; /* pairs */

#endif
