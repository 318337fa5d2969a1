/* clconv-bench --net: a whole network's forward on one device, timed end to end and per layer, each layer
 * validated against the CPU reference, with oneDNN running the same network in the same process (--peer onednn). */
#ifndef CLCONV_BENCH_NET_RUN_H
#define CLCONV_BENCH_NET_RUN_H

#include "net.h"

typedef struct bench_net_options {
  const char *device; /* as clconv_context_options.device */
  double min_time;    /* seconds of forwards at least, ours and the peer's each */
  int min_reps;       /* forwards at least, each */
  bool validate, peer;
  uint64_t seed;
} bench_net_options;

typedef struct bench_net_layer_result {
  char kernel[32];    /* what ran: clconv_conv_kernel, clconv_layer_kernel, "pool" or "act" */
  double median_s;    /* device time of the layer inside the forward (profiling markers around it) */
  double onednn_s;    /* the peer's median wall time for the layer, 0 without it */
  const char *status; /* ok, FAIL, skipped (--no-validate) */
  double max_abs;     /* worst absolute error against the reference */
  size_t mismatches;
} bench_net_layer_result;

typedef struct bench_net_result {
  double median_s, min_s, spread; /* the forward's wall time (enqueue every layer, then wait): median, min, IQR/median */
  double onednn_s;                /* the peer's forward, median; 0 without it */
  double cold_s;       /* the first forward in the process's first context: op creation and compilation included */
  double warm_first_s; /* the same in a second context: programs from the binary caches the first one filled */
  int reps;
  double flop; /* per forward */
  const char *status;             /* ok when every layer validated, FAIL, or skipped */
  bench_net_layer_result *layers; /* net->n of them; free with bench_net_result_free */
} bench_net_result;

/* Runs the network: cold and warm first forward, then the timing rounds (ours and the peer's forwards in turn),
 * then the validation pass. 0, or -1 with err (a device, host or peer failure). */
int bench_net_run(const bench_net *net, const bench_net_options *o, bench_net_result *r, char *err, size_t cap);
void bench_net_result_free(bench_net_result *r);

#endif
