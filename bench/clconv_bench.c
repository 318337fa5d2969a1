/* clconv-bench: throughput of each op on one OpenCL device, as a fraction of the device's own FMA peak and copy
 * bandwidth measured in the same run, with every case validated against the CPU reference.
 *
 * Timing: per row, one cold call (op creation and program build included) and one warm-up; then the rows of a case
 * (a conv case's algorithms, a layer's fused and three-op forms) and the peer take turns in rounds until each has
 * both a minimum count and a minimum time. Wall time is the synchronous call (enqueue + clFinish); device
 * time is the span between profiling markers enqueued around the op (all of its kernels). Median, min, and the
 * spread as interquartile range / median.
 * Exit codes: 0 success, 1 a case failed validation, 2 usage, 3 output file error, 4 device or OpenCL error. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, fileno */
#include <clconv.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case.h"
#include "net_run.h"
#include "peak.h"
#include "peer.h"
#include "sweep.h"
#include "timing.h"

enum { EXIT_CHECK = 1, EXIT_USAGE = 2, EXIT_IO = 3, EXIT_DEVICE = 4 };

static int error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "clconv-bench: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return code;
}

/* ---- one case ------------------------------------------------------------------------------------------------- */
typedef struct result {
  bench_case c;
  char descriptor[512], cli[640];
  const char *algorithm; /* conv and layer: as asked (auto, direct or gemm); pool and act: direct */
  const char *chosen;    /* what the op ran: auto's choice */
  char kernel[32];       /* conv: clconv_conv_kernel; layer: clconv_layer_kernel */
  size_t first;          /* index of the case's first row: a conv case without algo= has one row per algorithm */
  bool three_ops;        /* layer: the second row, conv + activation + pooling as three ops */
  bool fastest;
  double median_s, min_s, spread, kernel_s, cold_s;
  int reps;
  double flop, bytes, rate, peak_fraction; /* rate: GFLOP/s for conv and layer, GB/s otherwise */
  const char *status;                      /* ok, FAIL (validation), skipped (no validation), error */
  double max_abs, max_rel;
  size_t mismatches;
  double vs_old;          /* old median / this median, 0 without --compare or no match */
  double f32_s;           /* a 16-bit case: the median of its float32 form, timed in the same rounds; else 0 */
  bench_peer_result peer; /* --peer onednn: medians, 0 when not run */
} result;

enum { MAX_ROWS = 3 }; /* rows of one case: a conv case without algo= runs direct, gemm and auto */
enum { MAX_SERIES = MAX_ROWS + 1 }; /* and a 16-bit case's float32 form */

typedef struct runner {
  clconv_context *ctx;
  const bench_case *c;
  bool three_ops;
  clconv_conv *conv;
  clconv_layer *layer;
  clconv_pool *pool;
  clconv_act *act;
  clconv_tensor *x, *w, *b, *z, *y, *mid; /* z: the residual; mid: the conv's output in the three-op layer */
} runner;

/* The layer as three ops, as a program without clconv_layer would run it: the convolution (weights set once, no
 * activation), the activation in place, the pooling. */
static clconv_status create_three_ops(runner *r) {
  clconv_conv_desc cd = r->c->layer.conv;
  cd.activation = (clconv_activation){0};
  clconv_pool_desc pd = r->c->layer.pool;
  uint32_t xs[5], ws[5], ms[5];
  clconv_status s = clconv_conv_shapes(&cd, xs, ws, ms);
  pd.ndim = cd.ndim;
  pd.batch = ms[0];
  pd.channels = ms[1];
  memcpy(pd.in_size, ms + 2, cd.ndim * sizeof *ms);
  if (s == CLCONV_OK)
    s = clconv_conv_create(r->ctx, &cd, &r->conv);
  if (s == CLCONV_OK)
    s = clconv_conv_set_weights(r->conv, r->w, r->b);
  if (s == CLCONV_OK)
    s = clconv_tensor_create(r->ctx, cd.dtype, cd.ndim + 2, ms, &r->mid);
  if (s == CLCONV_OK)
    s = clconv_act_create(r->ctx, &r->c->layer.conv.activation, &r->act);
  if (s == CLCONV_OK)
    s = clconv_pool_create(r->ctx, &pd, &r->pool);
  return s;
}

static clconv_status create_op(runner *r) {
  switch (r->c->op) {
  case BENCH_CONV: { /* as a host program doing inference would: weights set (packed) once */
    clconv_status s = clconv_conv_create(r->ctx, &r->c->layer.conv, &r->conv);
    return s == CLCONV_OK ? clconv_conv_set_weights(r->conv, r->w, r->b) : s;
  }
  case BENCH_LAYER: {
    if (r->three_ops)
      return create_three_ops(r);
    clconv_status s = clconv_layer_create(r->ctx, &r->c->layer, &r->layer);
    return s == CLCONV_OK ? clconv_layer_set_weights(r->layer, r->w, r->b) : s;
  }
  case BENCH_POOL:
    return clconv_pool_create(r->ctx, &r->c->layer.pool, &r->pool);
  default:
    return clconv_act_create(r->ctx, &r->c->act, &r->act);
  }
}

static clconv_status run_op(runner *r) {
  switch (r->c->op) {
  case BENCH_CONV:
    return clconv_conv_run(r->conv, r->x, NULL, NULL, r->z, r->y);
  case BENCH_LAYER: {
    if (!r->three_ops)
      return clconv_layer_run(r->layer, r->x, NULL, NULL, r->z, r->y);
    clconv_status s = clconv_conv_run(r->conv, r->x, NULL, NULL, r->z, r->mid);
    if (s == CLCONV_OK)
      s = clconv_act_run(r->act, r->mid, r->mid);
    return s == CLCONV_OK ? clconv_pool_run(r->pool, r->mid, r->y) : s;
  }
  case BENCH_POOL:
    return clconv_pool_run(r->pool, r->x, r->y);
  default:
    return clconv_act_run(r->act, r->x, r->y);
  }
}

/* One synchronous call: wall seconds, and with mark the device seconds between two markers around it (device < 0
 * without mark or when the markers give no profiling data). The markers cost PoCL 20-45 us of wall time per call,
 * so wall times come from unmarked calls. */
static clconv_status timed_call(runner *r, bool mark, double *wall, double *device) {
  cl_command_queue q = clconv_context_queue(r->ctx);
  cl_event e0 = NULL, e1 = NULL;
  double t0 = bench_now_s();
  cl_int err = mark ? clEnqueueMarkerWithWaitList(q, 0, NULL, &e0) : CL_INVALID_OPERATION;
  clconv_status s = run_op(r);
  if (err == CL_SUCCESS)
    err = clEnqueueMarkerWithWaitList(q, 0, NULL, &e1);
  if (s == CLCONV_OK)
    s = clconv_context_finish(r->ctx);
  *wall = bench_now_s() - t0;
  cl_ulong a = 0, b = 0;
  if (err == CL_SUCCESS)
    err = clGetEventProfilingInfo(e0, CL_PROFILING_COMMAND_END, sizeof a, &a, NULL);
  if (err == CL_SUCCESS)
    err = clGetEventProfilingInfo(e1, CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
  *device = err == CL_SUCCESS && b >= a ? (double)(b - a) * 1e-9 : -1.0;
  if (e0)
    clReleaseEvent(e0);
  if (e1)
    clReleaseEvent(e1);
  return s;
}

typedef struct options {
  double min_time;
  int min_reps;
  bool validate, peer;
  unsigned long long seed;
} options;

/* One timed series: wall and device seconds of each call (device < 0 where unknown). */
typedef struct series {
  double *t, *dev, spent;
  int n, cap;
} series;

static int series_add(series *s, double wall, double device) {
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 64;
    double *t = realloc(s->t, (size_t)cap * sizeof *t);
    if (t)
      s->t = t;
    double *d = t ? realloc(s->dev, (size_t)cap * sizeof *d) : NULL;
    if (d)
      s->dev = d;
    if (!t || !d)
      return -1;
    s->cap = cap;
  }
  s->t[s->n] = wall;
  s->dev[s->n++] = device;
  s->spent += wall;
  return 0;
}

/* A row's algorithm as asked, and auto's choice after a colon: "direct", "auto:direct". */
static const char *algo_label(const result *r, char *buf, size_t cap) {
  bool differs = strcmp(r->algorithm, r->chosen) != 0;
  snprintf(buf, cap, "%s%s%s", r->algorithm, differs ? ":" : "", differs ? r->chosen : "");
  return buf;
}

/* Runs one case's rows (a conv case's algorithms, or a layer's fused and three-op forms) on the same data: each
 * row's cold call and warm-up, then rounds of a slice of each row's calls and of each peer variant's, until every
 * series has its reps and time. The speed of this machine drifts over seconds; alternating keeps every ratio
 * within a case (row to row, row to peer) inside one drift. Returns 0, or an exit code for an error (reported). */
/* A case's host data: its tensors' shapes, the inputs drawn from the seed, and room for the device's output and
 * the reference. */
typedef struct case_data {
  uint32_t xs[5], ws[5], ys[5], zs[5], nd, k; /* k: output channels (the bias), 0 without weights; zs: residual */
  clconv_dtype dt;                             /* the case's element type: the host values are of it */
  bool has_w, has_b, has_z;
  size_t xc, wc, yc, zc;
  float *x, *w, *b, *z, *got, *ref, *mag;
} case_data;

static void case_data_free(case_data *d) {
  free(d->x);
  free(d->w);
  free(d->b);
  free(d->z);
  free(d->got);
  free(d->ref);
  free(d->mag);
}

static int case_data_make(const bench_case *c, uint64_t seed, case_data *d) {
  memset(d, 0, sizeof *d);
  clconv_status s = CLCONV_OK;
  if (c->op == BENCH_CONV)
    s = clconv_conv_shapes(&c->layer.conv, d->xs, d->ws, d->ys);
  else if (c->op == BENCH_LAYER)
    s = clconv_layer_shapes(&c->layer, d->xs, d->ws, d->ys);
  else if (c->op == BENCH_POOL)
    s = clconv_pool_shapes(&c->layer.pool, d->xs, d->ys);
  else {
    memcpy(d->xs, c->act_dims, sizeof d->xs);
    memcpy(d->ys, c->act_dims, sizeof d->ys);
  }
  if (s != CLCONV_OK)
    return error(EXIT_USAGE, "%s: %s", c->name, clconv_last_error(NULL));
  d->nd = c->op == BENCH_ACT ? c->act_ndim : (c->op == BENCH_POOL ? c->layer.pool.ndim : c->layer.conv.ndim) + 2;
  d->has_w = c->op == BENCH_CONV || c->op == BENCH_LAYER;
  d->has_b = d->has_w && c->layer.conv.has_bias;
  d->has_z = d->has_w && c->layer.conv.has_residual;
  uint32_t xs[5], ws[5];
  if (d->has_z) /* the convolution's output; its descriptor was checked above */
    clconv_conv_shapes(&c->layer.conv, xs, ws, d->zs);
  d->k = d->has_w ? d->ws[0] : 0;
  d->xc = bench_count(d->xs, d->nd);
  d->wc = d->has_w ? bench_count(d->ws, d->nd) : 0;
  d->yc = bench_count(d->ys, d->nd);
  d->zc = d->has_z ? bench_count(d->zs, d->nd) : 0;
  d->z = malloc((d->zc + 1) * sizeof *d->z);
  d->x = malloc(d->xc * sizeof *d->x);
  d->w = malloc((d->wc + 1) * sizeof *d->w);
  d->b = malloc((d->k + 1) * sizeof *d->b);
  d->got = malloc(d->yc * sizeof *d->got);
  d->ref = malloc(d->yc * sizeof *d->ref);
  d->mag = malloc(d->yc * sizeof *d->mag);
  if (!d->x || !d->w || !d->b || !d->z || !d->got || !d->ref || !d->mag)
    return error(EXIT_DEVICE, "%s: out of host memory", c->name);
  for (size_t j = 0; j < d->xc; j++)
    d->x[j] = bench_random(&seed);
  for (size_t j = 0; j < d->wc; j++)
    d->w[j] = bench_random(&seed);
  for (size_t j = 0; j < d->k; j++)
    d->b[j] = bench_random(&seed);
  for (size_t j = 0; j < d->zc; j++)
    d->z[j] = bench_random(&seed);
  d->dt = c->dtype;
  if (sweep_round(d->dt, d->x, d->xc) || sweep_round(d->dt, d->w, d->wc) || sweep_round(d->dt, d->b, d->k) ||
      sweep_round(d->dt, d->z, d->zc))
    return error(EXIT_DEVICE, "%s: out of host memory", c->name);
  return 0;
}

/* The inputs on the device, shared by the case's rows. */
static clconv_status upload(clconv_context *ctx, const case_data *d, clconv_tensor **tx, clconv_tensor **tw,
                            clconv_tensor **tb, clconv_tensor **tz) {
  clconv_status s = sweep_upload(ctx, d->dt, d->nd, d->xs, d->x, tx);
  if (s == CLCONV_OK && d->has_w)
    s = sweep_upload(ctx, d->dt, d->nd, d->ws, d->w, tw);
  if (s == CLCONV_OK && d->has_b)
    s = sweep_upload(ctx, d->dt, 1, &d->k, d->b, tb);
  if (s == CLCONV_OK && d->has_z)
    s = sweep_upload(ctx, d->dt, d->nd, d->zs, d->z, tz);
  return s;
}

/* Each row's op made (cold time: creation, compilation and a first call), named, and warmed up; *at: the row a
 * failure is in. */
static clconv_status prepare_rows(clconv_context *ctx, const case_data *d, result *rows, size_t nrows, runner *r,
                                  clconv_tensor *tx, clconv_tensor *tw, clconv_tensor *tb, clconv_tensor *tz,
                                  size_t *at) {
  clconv_status s = CLCONV_OK;
  double wall, device;
  for (*at = 0; s == CLCONV_OK && *at < nrows; (*at)++) {
    result *res = &rows[*at];
    runner *ri = &r[*at];
    *ri = (runner){.ctx = ctx, .c = &res->c, .three_ops = res->three_ops, .x = tx, .w = tw, .b = tb, .z = tz};
    s = clconv_tensor_create(ctx, d->dt, d->nd, d->ys, &ri->y);
    double t0 = bench_now_s();
    if (s == CLCONV_OK)
      s = create_op(ri);
    if (s == CLCONV_OK && ri->conv) {
      res->chosen = clconv_algo_name(clconv_conv_algorithm(ri->conv));
      snprintf(res->kernel, sizeof res->kernel, "%s", clconv_conv_kernel(ri->conv));
    } else if (s == CLCONV_OK && ri->layer) {
      snprintf(res->kernel, sizeof res->kernel, "%s", clconv_layer_kernel(ri->layer));
    }
    if (s == CLCONV_OK)
      s = timed_call(ri, false, &wall, &device);
    res->cold_s = bench_now_s() - t0;
    if (s == CLCONV_OK)
      s = timed_call(ri, true, &wall, &device); /* warm-up */
    if (s != CLCONV_OK)
      return s;
  }
  return s;
}

/* A 16-bit case's float32 form: its first row's op on float32 copies of the same inputs (exact: the values are of
 * the 16-bit type), created and warmed up like a row. Timed in the same rounds as the rows, so that the ratio of
 * the two types shares this machine's drift, which moves separate cases' figures by tens of percent. Not
 * validated here: the float32 case is the suite's own row. */
static clconv_status prepare_f32(clconv_context *ctx, const case_data *d, const result *row0, bench_case *fc,
                                 runner *rf) {
  *fc = row0->c;
  fc->dtype = fc->layer.conv.dtype = fc->layer.pool.dtype = CLCONV_F32;
  *rf = (runner){.ctx = ctx, .c = fc, .three_ops = row0->three_ops};
  case_data df = *d;
  df.dt = CLCONV_F32;
  double wall, device;
  clconv_status s = upload(ctx, &df, &rf->x, &rf->w, &rf->b, &rf->z);
  if (s == CLCONV_OK)
    s = clconv_tensor_create(ctx, CLCONV_F32, d->nd, d->ys, &rf->y);
  if (s == CLCONV_OK)
    s = create_op(rf);
  if (s == CLCONV_OK)
    s = timed_call(rf, false, &wall, &device);
  return s == CLCONV_OK ? timed_call(rf, true, &wall, &device) : s;
}

/* The timing rounds: each row and the peer's forms take turns in slices of min_time / 8 until every one has its
 * reps and time. Returns nonzero (an exit code, reported) on a host or peer failure; *s a device status, *at its
 * row. */
static int time_rounds(const options *o, const bench_case *c, size_t nrows, runner *r, bench_peer *pp, series *ours,
                       series *marked, series *theirs, char *peer_err, size_t peer_cap, clconv_status *s, size_t *at) {
  const double slice = o->min_time / 8.0;
  double wall, device;
  for (size_t round = 0;; round++) {
    bool enough = true;
    for (size_t j = 0; j < nrows; j++)
      enough = enough && ours[j].n >= o->min_reps && ours[j].spent + marked[j].spent >= o->min_time;
    for (int v = 0; pp && v < BENCH_PEER_VARIANTS; v++)
      enough = enough && theirs[v].n >= o->min_reps && theirs[v].spent >= o->min_time;
    if (*s != CLCONV_OK || enough)
      return 0;
    for (size_t turn = 0; turn < nrows && *s == CLCONV_OK; turn++) {
      *at = (round + turn) % nrows; /* each row in turn goes first, right after the peer */
      double t0 = bench_now_s();
      do { /* in pairs: an unmarked call for the wall time, a marked one for the device time */
        for (int m = 0; m < 2 && *s == CLCONV_OK; m++) {
          *s = timed_call(&r[*at], m == 1, &wall, &device);
          if (*s == CLCONV_OK && series_add(m ? &marked[*at] : &ours[*at], wall, device))
            return error(EXIT_DEVICE, "%s: out of host memory", c->name);
        }
      } while (*s == CLCONV_OK && bench_now_s() - t0 < slice);
    }
    for (int v = 0; *s == CLCONV_OK && pp && v < BENCH_PEER_VARIANTS; v++) {
      double t0 = bench_now_s();
      do {
        if (bench_peer_call(pp, v, &wall, peer_err, peer_cap))
          return error(EXIT_DEVICE, "%s: %s", c->name, peer_err);
        if (series_add(&theirs[v], wall, -1.0))
          return error(EXIT_DEVICE, "%s: out of host memory", c->name);
      } while (bench_now_s() - t0 < slice);
    }
#ifdef CLCONV_BENCH_ONEDNN
    if (pp)
      bench_peer_onednn_rest();
#endif
  }
}

/* A row's figures from its timings: median, min, spread, device time, rate and fraction of the in-run peak. */
static void summarize(result *res, series *ours, series *marked, const bench_peak *peak) {
  const bench_case *c = &res->c;
  res->reps = ours->n;
  double *times = ours->t, *dev = marked->dev;
  qsort(times, (size_t)res->reps, sizeof *times, bench_cmp_double);
  qsort(dev, (size_t)marked->n, sizeof *dev, bench_cmp_double);
  res->median_s = times[res->reps / 2];
  res->min_s = times[0];
  /* interquartile range over the median: robust to the odd preempted call on a shared machine */
  res->spread = (times[(3 * res->reps) / 4] - times[res->reps / 4]) / res->median_s;
  res->kernel_s = dev[0] < 0.0 ? -1.0 : dev[marked->n / 2];
  res->flop = bench_case_flop(c);
  res->bytes = bench_case_bytes(c);
  bool compute = c->op == BENCH_CONV || c->op == BENCH_LAYER;
  /* rates from device time where the driver gives it, else from wall time */
  double t = res->kernel_s > 0.0 ? res->kernel_s : res->median_s;
  res->rate = (compute ? res->flop : res->bytes) / t * 1e-9;
  double ceiling = compute ? peak->fma_gflops : peak->copy_gbps;
  res->peak_fraction = ceiling > 0.0 ? res->rate / ceiling : 0.0;
}

/* A row's output against the reference. */
static clconv_status check_row(result *res, clconv_tensor *y, case_data *d, const clconv_tolerance *tol) {
  clconv_compare_result cmp;
  clconv_status s = sweep_download(y, d->got);
  if (s == CLCONV_OK)
    s = clconv_compare(d->got, d->ref, d->mag, d->yc, tol, &cmp);
  if (s != CLCONV_OK)
    return s;
  res->max_abs = cmp.max_abs_err;
  res->max_rel = cmp.max_rel_err;
  res->mismatches = cmp.mismatches;
  res->status = cmp.mismatches ? "FAIL" : "ok";
  return CLCONV_OK;
}

static int run_case(clconv_context *ctx, const options *o, bool peer, uint64_t seed, const bench_peak *peak,
                    result *rows, size_t nrows) {
  const bench_case *c = &rows[0].c;
  case_data d;
  series ours[MAX_SERIES] = {{0}}, marked[MAX_SERIES] = {{0}}, theirs[BENCH_PEER_VARIANTS] = {{0}};
  runner r[MAX_SERIES] = {{0}}; /* the rows, then a 16-bit case's float32 form */
  bench_case f32_case;
  const size_t nseries = nrows + (c->dtype != CLCONV_F32);
  clconv_tensor *tx = NULL, *tw = NULL, *tb = NULL, *tz = NULL; /* shared by the rows */
  bench_peer *pp = NULL;
  size_t at = 0; /* the row being worked on, for the error report */
  int rc = case_data_make(c, seed, &d);
  clconv_status s = rc ? CLCONV_OK : upload(ctx, &d, &tx, &tw, &tb, &tz);
  if (!rc && s == CLCONV_OK)
    s = prepare_rows(ctx, &d, rows, nrows, r, tx, tw, tb, tz, &at);
  if (!rc && s == CLCONV_OK && nseries > nrows && (s = prepare_f32(ctx, &d, &rows[0], &f32_case, &r[nrows])))
    at = nrows;
#ifdef CLCONV_BENCH_ONEDNN
  char *note = rows[0].peer.err;
  if (!rc && s == CLCONV_OK && peer) {
    if (bench_peer_onednn_open(c, d.x, d.has_w ? d.w : NULL, d.has_b ? d.b : NULL, d.has_z ? d.z : NULL, &pp, note,
                               sizeof rows[0].peer.err)) {
      if (c->dtype == CLCONV_F32)
        rc = error(EXIT_DEVICE, "%s: %s", c->name, note);
      else /* oneDNN's 16-bit support depends on its version and the CPU: the row goes without a peer */
        fprintf(stderr, "clconv-bench: note: %s: no oneDNN peer in %s: %s\n", c->name, clconv_dtype_name(c->dtype),
                note);
    } else if (note[0]) {
      fprintf(stderr, "clconv-bench: note: %s: %s\n", c->name, note);
    }
  }
#else
  (void)peer;
#endif
  if (!rc)
    rc = time_rounds(o, c, nseries, r, pp, ours, marked, theirs, rows[0].peer.err, sizeof rows[0].peer.err, &s, &at);
  if (!rc && s != CLCONV_OK) {
    char algo[24];
    if (at >= nrows) /* the float32 form */
      snprintf(algo, sizeof algo, "float32 form");
    rc = error(s == CLCONV_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_DEVICE, "%s (%s): %s: %s", c->name,
               at < nrows ? algo_label(&rows[at], algo, sizeof algo) : algo, clconv_status_string(s),
               clconv_last_error(ctx));
    rows[at < nrows ? at : 0].status = "error";
  }
  if (!rc && nseries > nrows) {
    qsort(ours[nrows].t, (size_t)ours[nrows].n, sizeof *ours[nrows].t, bench_cmp_double);
    for (size_t i = 0; i < nrows; i++)
      rows[i].f32_s = ours[nrows].t[ours[nrows].n / 2];
  }
  for (int v = 0; !rc && pp && v < BENCH_PEER_VARIANTS; v++) {
    qsort(theirs[v].t, (size_t)theirs[v].n, sizeof *theirs[v].t, bench_cmp_double);
    *(v == BENCH_PEER_BEST ? &rows[0].peer.best_s : &rows[0].peer.nchw_s) = theirs[v].t[theirs[v].n / 2];
  }
  clconv_tolerance tol;
  if (!rc && o->validate &&
      bench_case_reference(c, d.x, d.w, d.has_b ? d.b : NULL, d.has_z ? d.z : NULL, d.ref, d.mag, &tol) != CLCONV_OK) {
    rc = error(EXIT_DEVICE, "%s: reference: %s", c->name, clconv_last_error(NULL));
    rows[0].status = "error";
  }
  for (size_t i = 0; !rc && i < nrows; i++) {
    rows[i].peer = rows[0].peer;
    summarize(&rows[i], &ours[i], &marked[i], peak);
    rows[i].status = "skipped";
    if (o->validate && check_row(&rows[i], r[i].y, &d, &tol) != CLCONV_OK) {
      rc = error(EXIT_DEVICE, "%s: %s", c->name, clconv_last_error(ctx));
      rows[i].status = "error";
    }
  }
  for (size_t j = 0; j < nseries; j++) {
    if (j == nrows) { /* the float32 form's own inputs */
      clconv_tensor_destroy(r[j].x);
      clconv_tensor_destroy(r[j].w);
      clconv_tensor_destroy(r[j].b);
      clconv_tensor_destroy(r[j].z);
    }
    clconv_conv_destroy(r[j].conv);
    clconv_layer_destroy(r[j].layer);
    clconv_pool_destroy(r[j].pool);
    clconv_act_destroy(r[j].act);
    clconv_tensor_destroy(r[j].y);
    clconv_tensor_destroy(r[j].mid);
    free(ours[j].t);
    free(ours[j].dev);
    free(marked[j].t);
    free(marked[j].dev);
  }
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(tz);
  for (int v = 0; v < BENCH_PEER_VARIANTS; v++) {
    free(theirs[v].t);
    free(theirs[v].dev);
  }
#ifdef CLCONV_BENCH_ONEDNN
  bench_peer_close(pp);
#endif
  case_data_free(&d);
  return rc;
}

/* ---- output ------------------------------------------------------------------------------------------------- */
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(f, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(f, "\\u%04x", ch);
    else
      fputc(ch, f);
  }
  fputc('"', f);
}

static bool is_compute(const result *r) { return r->c.op == BENCH_CONV || r->c.op == BENCH_LAYER; }

/* One case per line, so that --compare can read files back line by line. */
typedef struct net_row net_row;
static void write_json_nets(FILE *f, const net_row *nets, size_t nn);

static int write_json(const char *path, const clconv_device_info *info, const clconv_device_profile *prof,
                      const bench_peak *peak, const options *o, const result *res, size_t n, const net_row *nets,
                      size_t nn) {
  FILE *f = fopen(path, "w");
  if (!f)
    return error(EXIT_IO, "--json %s: %s", path, strerror(errno));
  fprintf(f,
          "{\n  \"tool\": \"clconv-bench\", \"version\": \"%s\",\n  \"device\": {\"name\": ", clconv_version_string());
  json_str(f, info->name);
  fprintf(f, ", \"platform\": ");
  json_str(f, info->platform);
  fprintf(f, ", \"version\": ");
  json_str(f, info->version);
  fprintf(f, ", \"compute_units\": %u, \"global_mem_bytes\": %llu},\n", info->compute_units,
          (unsigned long long)info->global_mem_bytes);
  fprintf(f,
          "  \"profile\": {\"class\": \"%s\", \"vector_width\": %u, \"max_work_group_size\": %zu, "
          "\"local_mem_bytes\": %llu},\n",
          prof->device_class == CLCONV_CLASS_GPU ? "gpu" : "cpu", prof->vector_width, prof->max_work_group_size,
          (unsigned long long)prof->local_mem_bytes);
  fprintf(f,
          "  \"peak\": {\"fma_gflops\": %.6g, \"fma_vector_width\": %d, \"copy_gbps\": %.6g, \"copy_mib\": %.6g, "
          "\"launch_wait_us\": %.6g, \"launch_chain_us\": %.6g},\n",
          peak->fma_gflops, peak->fma_width, peak->copy_gbps, peak->copy_mib, peak->launch_wait_us,
          peak->launch_chain_us);
  fprintf(f, "  \"seed\": %llu, \"min_time_s\": %g, \"min_reps\": %d, \"validate\": %s,\n", o->seed, o->min_time,
          o->min_reps, o->validate ? "true" : "false");
  fprintf(f, "  \"flop_formula\": \"2 * N * K * out_spatial * (C / groups) * kernel_volume\",\n  \"cases\": [\n");
  for (size_t i = 0; i < n; i++) {
    const result *r = &res[i];
    fprintf(f, "    {\"case\": ");
    json_str(f, r->c.name);
    fprintf(f, ", \"algorithm\": \"%s\", \"chosen\": \"%s\", \"kernel\": \"%s\", \"fastest\": %s, \"descriptor\": ",
            r->algorithm, r->chosen, r->kernel, r->fastest ? "true" : "false");
    json_str(f, r->descriptor);
    fprintf(f,
            ", \"median_ms\": %.6g, \"min_ms\": %.6g, \"spread_pct\": %.4g, \"device_ms\": %.6g, \"cold_ms\": %.6g, "
            "\"reps\": %d, \"flop\": %.6g, \"bytes\": %.6g, \"%s\": %.6g, \"peak_fraction\": %.6g, \"status\": \"%s\", "
            "\"max_abs_err\": %.6g, \"max_rel_err\": %.6g, \"mismatches\": %zu, \"onednn_ms\": %.6g, "
            "\"onednn_nchw_ms\": %.6g, \"f32_ms\": %.6g}%s\n",
            r->median_s * 1e3, r->min_s * 1e3, r->spread * 100.0, r->kernel_s * 1e3, r->cold_s * 1e3, r->reps, r->flop,
            r->bytes, is_compute(r) ? "gflops" : "gbps", r->rate, r->peak_fraction, r->status, r->max_abs, r->max_rel,
            r->mismatches, r->peer.best_s * 1e3, r->peer.nchw_s * 1e3, r->f32_s * 1e3, i + 1 < n ? "," : "");
  }
  fprintf(f, "  ],\n");
  write_json_nets(f, nets, nn);
  fprintf(f, "}\n");
  return fclose(f) == 0 ? 0 : error(EXIT_IO, "--json %s: %s", path, strerror(errno));
}

static int write_csv(const char *path, const clconv_device_info *info, const bench_peak *peak, const result *res,
                     size_t n) {
  FILE *f = fopen(path, "w");
  if (!f)
    return error(EXIT_IO, "--csv %s: %s", path, strerror(errno));
  fprintf(f, "case,algorithm,chosen,kernel,fastest,median_ms,min_ms,spread_pct,device_ms,cold_ms,reps,flop,bytes,rate,"
             "rate_unit,"
             "peak_fraction,status,max_abs_err,max_rel_err,mismatches,onednn_ms,onednn_nchw_ms,f32_ms,device,"
             "peak_fma_gflops,peak_copy_gbps,descriptor\n");
  for (size_t i = 0; i < n; i++) {
    const result *r = &res[i];
    fprintf(
        f,
        "%s,%s,%s,%s,%d,%.6g,%.6g,%.4g,%.6g,%.6g,%d,%.6g,%.6g,%.6g,%s,%.6g,%s,%.6g,%.6g,%zu,%.6g,%.6g,%.6g,\"%s\","
        "%.6g,%.6g,\"%s\"\n",
        r->c.name, r->algorithm, r->chosen, r->kernel, r->fastest, r->median_s * 1e3, r->min_s * 1e3, r->spread * 100.0,
        r->kernel_s * 1e3, r->cold_s * 1e3, r->reps, r->flop, r->bytes, r->rate, is_compute(r) ? "GFLOP/s" : "GB/s",
        r->peak_fraction, r->status, r->max_abs, r->max_rel, r->mismatches, r->peer.best_s * 1e3, r->peer.nchw_s * 1e3,
        r->f32_s * 1e3, info->name, peak->fma_gflops, peak->copy_gbps, r->descriptor);
  }
  return fclose(f) == 0 ? 0 : error(EXIT_IO, "--csv %s: %s", path, strerror(errno));
}

/* Reads "case", "algorithm" and "median_ms" from each case line of an earlier --json file. */
static int read_compare(const char *path, result *res, size_t n) {
  FILE *f = fopen(path, "r");
  if (!f)
    return error(EXIT_IO, "--compare %s: %s", path, strerror(errno));
  char line[4096];
  int matched = 0;
  while (fgets(line, sizeof line, f)) {
    char name[64], algo[32];
    const char *p = strstr(line, "{\"case\": \""), *a = strstr(line, "\"algorithm\": \""),
               *m = strstr(line, "\"median_ms\": ");
    if (!p || !a || !m || sscanf(p + 10, "%63[^\"]", name) != 1 || sscanf(a + 14, "%31[^\"]", algo) != 1)
      continue;
    double old = atof(m + 13);
    for (size_t i = 0; i < n; i++)
      if (!strcmp(res[i].c.name, name) && !strcmp(res[i].algorithm, algo) && old > 0.0 && res[i].median_s > 0.0) {
        res[i].vs_old = old / (res[i].median_s * 1e3);
        matched++;
      }
  }
  fclose(f);
  if (!matched)
    fprintf(stderr, "clconv-bench: --compare %s: no case of this run found there\n", path);
  return 0;
}

static int plot(const char *path, const result *res, size_t n) {
  char data[4096 + 16], script[4096 + 16];
  snprintf(data, sizeof data, "%s.dat", path);
  snprintf(script, sizeof script, "%s.gp", path);
  FILE *d = fopen(data, "w"), *g = d ? fopen(script, "w") : NULL;
  if (!g) {
    if (d)
      fclose(d);
    return error(EXIT_IO, "--plot %s: %s", path, strerror(errno));
  }
  for (size_t i = 0; i < n; i++)
    fprintf(d, "\"%s (%s)\" %.6g\n", res[i].c.name, res[i].algorithm, res[i].peak_fraction * 100.0);
  fprintf(g,
          "set terminal pngcairo noenhanced size 1100,650\nset output '%s'\nset style fill solid 0.8\n"
          "set boxwidth 0.7\nset bmargin 9\n"
          "set ylabel '%% of in-run peak'\n"
          "set yrange [0:*]\nset xtics rotate by -40\nset grid ytics\nunset key\n"
          "set title 'clconv-bench: %% of the in-run peak (FMA for conv and layer, copy bandwidth for pool and act)'\n"
          "plot '%s' using 0:2:xtic(1) with boxes\n",
          path, data);
  fclose(d);
  fclose(g);
  char cmd[8192 + 64];
  snprintf(cmd, sizeof cmd, "gnuplot '%s'", script);
  int rc = system(cmd);
  remove(data);
  remove(script);
  return rc == 0 ? 0 : error(EXIT_IO, "--plot %s: gnuplot failed (status %d)", path, rc);
}

/* ---- networks ------------------------------------------------------------------------------------------------ */
typedef struct net_row {
  bench_net net;
  bench_net_result r;
  bool done;
} net_row;

static void net_rows_free(net_row *rows, size_t n) {
  for (size_t i = 0; rows && i < n; i++) {
    bench_net_free(&rows[i].net);
    bench_net_result_free(&rows[i].r);
  }
  free(rows);
}

/* Parses --net's comma-separated list (each a built-in name or a .net file) for the batch. */
static int load_nets(const char *list, uint32_t batch, net_row **out, size_t *count) {
  size_t cap = 1;
  for (const char *p = list; *p; p++)
    cap += *p == ',';
  net_row *rows = calloc(cap, sizeof *rows);
  char spec[1024], err[512];
  if (!rows)
    return error(EXIT_DEVICE, "out of host memory");
  size_t n = 0;
  for (const char *p = list; n < cap;) {
    size_t len = strcspn(p, ",");
    if (len == 0 || len >= sizeof spec) {
      net_rows_free(rows, n);
      return error(EXIT_USAGE, "--net \"%s\": an empty or too long name", list);
    }
    memcpy(spec, p, len);
    spec[len] = '\0';
    if (bench_net_load(spec, batch, &rows[n].net, err, sizeof err)) {
      net_rows_free(rows, n);
      return error(EXIT_USAGE, "%s", err);
    }
    n++;
    if (!p[len])
      break;
    p += len + 1;
  }
  *out = rows;
  *count = n;
  return 0;
}

static double ratio(double theirs, double ours) { return theirs > 0.0 && ours > 0.0 ? theirs / ours : 0.0; }

/* One network's report: the forward, the first forwards, the per-layer table and the share per op. */
static void print_net(const net_row *nr, bool peer) {
  const bench_net *net = &nr->net;
  const bench_net_result *r = &nr->r;
  uint32_t batch = net->in[0];
  double layers_sum = 0.0, share_op[4] = {0}, peer_op[4] = {0};
  for (size_t i = 0; i < net->n; i++)
    layers_sum += r->layers[i].median_s > 0.0 ? r->layers[i].median_s : 0.0;
  printf("\n%s, batch %u: %zu layers, %.3f GFLOP per forward\n", net->name, batch, net->n, r->flop * 1e-9);
  printf("  forward: median %.3f ms (%.1f images/s), min %.3f ms, spread %.1f%%, %d reps", r->median_s * 1e3,
         batch / r->median_s, r->min_s * 1e3, r->spread * 100.0, r->reps);
  if (peer)
    printf("; oneDNN %.3f ms (%.2fx)", r->onednn_s * 1e3, ratio(r->onednn_s, r->median_s));
  printf("\n  first forward: cold %.0f ms (first context of the process: op creation, compilation or cached "
         "binaries, one forward), warm %.0f ms (a second context)\n",
         r->cold_s * 1e3, r->warm_first_s * 1e3);
  printf("  %-14s %-6s %-14s %10s %7s%s  %s\n", "layer", "op", "kernel", "device_ms", "share",
         peer ? "  onednn_ms vs_onednn" : "", "check (max abs err)");
  for (size_t i = 0; i < net->n; i++) {
    const bench_net_layer_result *lr = &r->layers[i];
    const bench_op op = net->layers[i].c.op;
    double share = layers_sum > 0.0 && lr->median_s > 0.0 ? lr->median_s / layers_sum : 0.0;
    share_op[op] += share;
    peer_op[op] += lr->onednn_s;
    char pr[40] = "", check[48];
    if (peer)
      snprintf(pr, sizeof pr, "  %9.3f %8.2fx", lr->onednn_s * 1e3, ratio(lr->onednn_s, lr->median_s));
    if (!strcmp(lr->status, "skipped"))
      snprintf(check, sizeof check, "skipped");
    else
      snprintf(check, sizeof check, "%s %.2e", lr->status, lr->max_abs);
    printf("  %-14s %-6s %-14s %10.3f %6.1f%%%s  %s\n", net->layers[i].c.name, bench_op_name(op), lr->kernel,
           lr->median_s * 1e3, share * 100.0, pr, check);
  }
  printf("  by op (share of the layers' device time%s):", peer ? "; vs oneDNN" : "");
  for (int op = 0; op < 4; op++)
    if (share_op[op] > 0.0) {
      printf(" %s %.1f%%", bench_op_name((bench_op)op), share_op[op] * 100.0);
      if (peer)
        printf(" (%.2fx)", ratio(peer_op[op], share_op[op] * layers_sum));
    }
  printf("\n  validation: %s (each layer's first image against the CPU reference given its device input)\n", r->status);
}

static void print_net_summary(const net_row *rows, size_t n, bool peer) {
  printf("\n%-14s %5s %10s %9s%s %8s %13s  %s\n", "net", "batch", "median_ms", "images/s",
         peer ? "  onednn_ms vs_onednn" : "", "cold_ms", "warm_first_ms", "status");
  for (size_t i = 0; i < n; i++) {
    const bench_net_result *r = &rows[i].r;
    char pr[40] = "";
    if (peer)
      snprintf(pr, sizeof pr, "  %9.3f %8.2fx", r->onednn_s * 1e3, ratio(r->onednn_s, r->median_s));
    printf("%-14s %5u %10.3f %9.1f%s %8.0f %13.0f  %s\n", rows[i].net.name, rows[i].net.in[0], r->median_s * 1e3,
           rows[i].net.in[0] / r->median_s, pr, r->cold_s * 1e3, r->warm_first_s * 1e3, r->status);
  }
  if (peer)
    printf("vs_onednn: oneDNN's median / clconv's (> 1: clconv is faster); oneDNN runs the same layers as primitives "
           "(sum and eltwise post-ops, pooling) in the layouts it picks\n");
}

/* Runs each network in turn (progress on stderr). Returns 0 or an exit code (reported). */
static int run_nets(const options *o, const char *device, net_row *rows, size_t n) {
  bench_net_options no = {.device = device,
                          .min_time = o->min_time,
                          .min_reps = o->min_reps,
                          .validate = o->validate,
                          .peer = o->peer,
                          .seed = o->seed};
  char err[1024];
  for (size_t i = 0; i < n; i++) {
    double t0 = bench_now_s();
    fprintf(stderr, "clconv-bench: [%zu/%zu] %s, batch %u...\n", i + 1, n, rows[i].net.name, rows[i].net.in[0]);
    if (bench_net_run(&rows[i].net, &no, &rows[i].r, err, sizeof err))
      return error(EXIT_DEVICE, "%s", err);
    rows[i].done = true;
    fprintf(stderr, "clconv-bench: %s: %.1f s\n", rows[i].net.name, bench_now_s() - t0);
    print_net(&rows[i], o->peer);
    fflush(stdout);
  }
  print_net_summary(rows, n, o->peer);
  return 0;
}

/* "nets": one object per network, its layers inside. */
static void write_json_nets(FILE *f, const net_row *nets, size_t nn) {
  fprintf(f, "  \"nets\": [\n");
  for (size_t i = 0; i < nn; i++) {
    const bench_net *net = &nets[i].net;
    const bench_net_result *r = &nets[i].r;
    fprintf(f, "    {\"net\": ");
    json_str(f, net->name);
    fprintf(f,
            ", \"batch\": %u, \"flop\": %.6g, \"median_ms\": %.6g, \"min_ms\": %.6g, \"spread_pct\": %.4g, "
            "\"reps\": %d, \"images_per_s\": %.6g, \"onednn_ms\": %.6g, \"cold_ms\": %.6g, \"warm_first_ms\": %.6g, "
            "\"status\": \"%s\",\n     \"layers\": [\n",
            net->in[0], r->flop, r->median_s * 1e3, r->min_s * 1e3, r->spread * 100.0, r->reps,
            net->in[0] / r->median_s, r->onednn_s * 1e3, r->cold_s * 1e3, r->warm_first_s * 1e3, r->status);
    for (size_t j = 0; j < net->n; j++) {
      const bench_net_layer_result *l = &r->layers[j];
      char desc[512];
      bench_case_format(&net->layers[j].c, desc, sizeof desc);
      fprintf(f, "      {\"name\": ");
      json_str(f, net->layers[j].c.name);
      fprintf(f, ", \"op\": \"%s\", \"kernel\": \"%s\", \"median_ms\": %.6g, \"onednn_ms\": %.6g, \"status\": \"%s\", "
                 "\"max_abs_err\": %.6g, \"mismatches\": %zu, \"descriptor\": ",
              bench_op_name(net->layers[j].c.op), l->kernel, l->median_s * 1e3, l->onednn_s * 1e3, l->status,
              l->max_abs, l->mismatches);
      json_str(f, desc);
      fprintf(f, "}%s\n", j + 1 < net->n ? "," : "");
    }
    fprintf(f, "     ]}%s\n", i + 1 < nn ? "," : "");
  }
  fprintf(f, "  ]\n");
}

/* ---- main ---------------------------------------------------------------------------------------------------- */
static void usage(FILE *f) {
  fprintf(f,
          "usage: clconv-bench [--case DESC]... [--suite FILE] [--net NAME[,NAME...] [--batch N]] [--list]\n"
          "                    [--device SPEC] [--min-time S] [--min-reps N]\n"
          "                    [--no-validate] [--seed S] [--json FILE] [--csv FILE] [--plot FILE.png]\n"
          "                    [--compare OLD.json] [--peer onednn] [--tune [--tune-budget S]]\n"
          "Times each case (the built-in suite unless --case or --suite) on one OpenCL device, reports GFLOP/s for\n"
          "conv and layer (2 * N * K * out_spatial * (C/groups) * kernel_volume FLOP) and GB/s for pool and act\n"
          "(every tensor read or written once), each as a fraction of the device's FMA peak or copy bandwidth\n"
          "measured in the same run, and validates each case against the CPU reference.\n"
          "  --case DESC      a case, e.g. 'conv:name=mine,n=8,c=32,k=64,in=56x56,kernel=3,stride=2,pad=1,act=relu'\n"
          "                   (grammar: see README; ops conv, layer, pool, act); repeatable\n"
          "  --suite FILE     one descriptor per line; '#' starts a comment\n"
          "  --net NAME[,NAME...]  instead of cases: whole networks (built in: resnet18, resnet50, vgg16,\n"
          "                   mobilenet_v2, lenet5, m5, r3d_18; or a FILE.net, grammar in bench/nets/README.md):\n"
          "                   the forward end to end and per layer, cold and warm first forward, every layer's\n"
          "                   first image validated against the CPU reference given its device input\n"
          "  --batch N        images per forward for --net (default 1)\n"
          "  --list           print the descriptors of the cases to run (the built-in suite, or --case's and\n"
          "                   --suite's), each in full, and exit\n"
          "  --device SPEC    device index or name substring; default CLCONV_DEVICE, else the first GPU, else the\n"
          "                   first device\n"
          "  --min-time S     time each case for at least S seconds (default 0.5)\n"
          "  --min-reps N     and at least N calls (default 5)\n"
          "  --no-validate    skip the CPU reference check (for huge shapes)\n"
          "  --seed S         input data seed (default 1)\n"
          "  --json FILE      every field as JSON; --csv FILE the same as CSV\n"
          "  --plot FILE.png  fraction of peak per case and algorithm (needs gnuplot)\n"
          "  --compare OLD.json  per-case ratio to an earlier --json run (old median / new median)\n"
          "  --peer onednn    also run each case with oneDNN on the CPU (when built with it): its best case\n"
          "                   (preferred layouts, weights reordered once) and plain NCHW with the reorders timed;\n"
          "                   ratios are oneDNN's median / ours (> 1: clconv is faster)\n"
          "  --tune           instead of timing: tune CLBlast's GEMM for the conv cases' shapes (each candidate\n"
          "                   validated), time direct against gemm per shape, and save both in the device's\n"
          "                   tuning file, which later runs load (gemm rows and auto's choice); minutes on a CPU\n"
          "  --tune-budget S  seconds for the GEMM parameter search (default 120)\n");
}

#define MAX_CASES 256

/* Adds the case's rows: a conv case without algo= once per algorithm (direct, gemm, then auto). */
static int add_case(result *res, size_t *n, const char *text, const char *where) {
  char err[256];
  bench_case c;
  if (bench_case_parse(text, &c, err, sizeof err))
    return error(EXIT_USAGE, "%s: %s", where, err);
  static const clconv_conv_algo every[] = {CLCONV_ALGO_DIRECT, CLCONV_ALGO_GEMM, CLCONV_ALGO_AUTO};
  const bool all = c.every_algo;
  size_t rows = all ? 3 : c.op == BENCH_LAYER ? 2 : 1, first = *n;
  if (*n + rows > MAX_CASES)
    return error(EXIT_USAGE, "more than %d cases (a conv case counts once per algorithm)", MAX_CASES);
  for (size_t i = 0; i < rows; i++) {
    result *r = &res[(*n)++];
    memset(r, 0, sizeof *r);
    r->c = c;
    r->first = first;
    if (all)
      r->c.layer.conv.algorithm = every[i];
    bool conv = c.op == BENCH_CONV || c.op == BENCH_LAYER;
    r->algorithm = r->chosen = conv ? clconv_algo_name(r->c.layer.conv.algorithm) : "direct";
    if (c.op == BENCH_LAYER) { /* the fused layer, then the same as three ops */
      r->three_ops = i == 1;
      r->algorithm = r->chosen = i == 1 ? "3 ops" : "fused";
    }
  }
  return 0;
}

static int load_suite(const char *path, result *res, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f)
    return error(EXIT_USAGE, "--suite %s: %s", path, strerror(errno));
  char line[1024], where[1100];
  int rc = 0;
  for (int ln = 1; !rc && fgets(line, sizeof line, f); ln++) {
    char *h = strchr(line, '#');
    if (h)
      *h = '\0';
    char *s = line, *e = line + strlen(line);
    while (*s == ' ' || *s == '\t')
      s++;
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
      *--e = '\0';
    if (!*s)
      continue;
    snprintf(where, sizeof where, "%s:%d", path, ln);
    rc = add_case(res, n, s, where);
  }
  fclose(f);
  if (!rc && *n == 0)
    rc = error(EXIT_USAGE, "--suite %s: no cases", path);
  return rc;
}

/* --tune: CLBlast GEMM parameters and auto's choice for the conv cases (each shape once), saved per device. */
static int run_tune(clconv_context *ctx, const result *res, size_t n, double budget, int reps) {
  clconv_conv_desc descs[MAX_CASES];
  const char *names[MAX_CASES];
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (res[i].c.op == BENCH_CONV && res[i].first == i) {
      descs[m] = res[i].c.layer.conv;
      descs[m].algorithm = CLCONV_ALGO_AUTO;
      names[m++] = res[i].c.name;
    }
  if (m == 0)
    return error(EXIT_USAGE, "--tune: no conv case to tune");
  clconv_tune_options to = {.budget_s = budget, .reps = (uint32_t)reps};
  clconv_tune_shape per[MAX_CASES];
  clconv_tune_report rep;
  fprintf(stderr, "clconv-bench: tuning %zu conv shapes (budget %.0f s for the parameter search)...\n", m,
          budget > 0.0 ? budget : 120.0);
  double t0 = bench_now_s();
  clconv_status s = clconv_tune(ctx, descs, m, &to, per, &rep);
  if (s != CLCONV_OK)
    return error(s == CLCONV_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_DEVICE, "--tune: %s: %s", clconv_status_string(s),
                 clconv_last_error(ctx));
  printf("clconv-bench --tune: %.0f s, %u CLBlast GEMM candidates tried, %u wrong (rejected); %s\n", bench_now_s() - t0,
         rep.candidates_tried, rep.candidates_wrong,
         rep.gemm_tuned ? "a tuned set is in use" : "no set beat CLBlast's defaults on every shape");
  printf("%u direct kernels tried, %u wrong (rejected)\n", rep.kernels_tried, rep.kernels_wrong);
  printf("tuning: %s\n(sgemm: CLBlast's share of gemm alone, without im2col and epilogue)\n\n"
         "%-16s %12s %12s %8s %12s %12s %8s %12s %12s %8s %-12s  %s\n",
         clconv_context_tuning(ctx), "case", "sgemm_untun", "sgemm_tuned", "speedup", "gemm_untuned", "gemm_tuned",
         "speedup", "direct", "direct_tuned", "speedup", "kernel", "auto");
  for (size_t i = 0; i < m; i++)
    printf("%-16s %9.3f ms %9.3f ms %7.2fx %9.3f ms %9.3f ms %7.2fx %9.3f ms %9.3f ms %7.2fx %-12s  %s\n", names[i],
           per[i].untuned_sgemm_ms, per[i].tuned_sgemm_ms, per[i].untuned_sgemm_ms / per[i].tuned_sgemm_ms,
           per[i].untuned_ms, per[i].tuned_ms, per[i].untuned_ms / per[i].tuned_ms, per[i].direct_ms,
           per[i].direct_tuned_ms, per[i].direct_ms / per[i].direct_tuned_ms, per[i].direct_kernel,
           clconv_algo_name(per[i].algo));
  return 0;
}

/* What the command line asks for. */
typedef struct args {
  options o;
  bool tune, list;
  double tune_budget;
  const char *device, *json, *csv, *png, *old, *suite, *nets;
  uint32_t batch; /* --net: 0 = 1 */
} args;

/* Parses the command line into *a and the --case descriptors into res; returns an exit code, or -1 when done
 * (--help, --list) with nothing to run. */
static int parse_args(int argc, char **argv, args *a, result *res, size_t *n) {
  options *o = &a->o;
  int rc;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end;
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      usage(stdout);
      return -1;
    } else if (!strcmp(arg, "--list")) {
      a->list = true;
      continue;
    } else if (!strcmp(arg, "--no-validate")) {
      o->validate = false;
      continue;
    } else if (!strcmp(arg, "--tune")) {
      a->tune = true;
      continue;
    } else if (!v) {
      return error(EXIT_USAGE, "unknown option or missing value: \"%s\" (see --help)", arg);
    } else if (!strcmp(arg, "--case")) {
      if ((rc = add_case(res, n, v, "--case")))
        return rc;
    } else if (!strcmp(arg, "--suite")) {
      a->suite = v;
    } else if (!strcmp(arg, "--net")) {
      a->nets = v;
    } else if (!strcmp(arg, "--batch")) {
      long b = strtol(v, &end, 10);
      if (*end || b < 1 || b > 65536)
        return error(EXIT_USAGE, "--batch \"%s\": an integer in 1..65536", v);
      a->batch = (uint32_t)b;
    } else if (!strcmp(arg, "--device")) {
      a->device = v;
    } else if (!strcmp(arg, "--json")) {
      a->json = v;
    } else if (!strcmp(arg, "--csv")) {
      a->csv = v;
    } else if (!strcmp(arg, "--plot")) {
      a->png = v;
    } else if (!strcmp(arg, "--peer")) {
      if (strcmp(v, "onednn"))
        return error(EXIT_USAGE, "--peer \"%s\": the only peer is onednn", v);
#ifndef CLCONV_BENCH_ONEDNN
      return error(EXIT_USAGE, "--peer onednn: built without oneDNN (install libdnnl-dev and configure again)");
#endif
      o->peer = true;
    } else if (!strcmp(arg, "--compare")) {
      a->old = v;
    } else if (!strcmp(arg, "--min-time")) {
      o->min_time = strtod(v, &end);
      if (*end || !(o->min_time >= 0.0) || o->min_time > 3600.0)
        return error(EXIT_USAGE, "--min-time \"%s\": seconds in 0..3600", v);
    } else if (!strcmp(arg, "--min-reps")) {
      long r = strtol(v, &end, 10);
      if (*end || r < 1 || r > 1000000)
        return error(EXIT_USAGE, "--min-reps \"%s\": an integer in 1..1000000", v);
      o->min_reps = (int)r;
    } else if (!strcmp(arg, "--tune-budget")) {
      a->tune_budget = strtod(v, &end);
      if (*end || !(a->tune_budget > 0.0) || a->tune_budget > 86400.0)
        return error(EXIT_USAGE, "--tune-budget \"%s\": seconds in (0, 86400]", v);
    } else if (!strcmp(arg, "--seed")) {
      o->seed = strtoull(v, &end, 0);
      if (*end || !*v || *v == '-')
        return error(EXIT_USAGE, "--seed \"%s\": a non-negative integer", v);
    } else {
      return error(EXIT_USAGE, "unknown option \"%s\" (see --help)", arg);
    }
    i++;
  }
  if (a->nets && (*n || a->suite || a->tune || a->old || a->csv || a->png || a->list))
    return error(EXIT_USAGE,
                 "--net runs networks only: no --case, --suite, --tune, --compare, --csv, --plot or --list");
  if (!a->nets && a->batch)
    return error(EXIT_USAGE, "--batch goes with --net (a case gives its batch as n=)");
  if (a->nets)
    return 0;
  if (a->suite && (rc = load_suite(a->suite, res, n)))
    return rc;
  if (*n == 0) /* no --case and no --suite: the built-in suite */
    for (size_t k = 0; k < bench_suite_count; k++)
      if ((rc = add_case(res, n, bench_suite[k], "built-in suite")))
        return rc;
  if (a->list) { /* each case once, in full: its last row (a conv case without algo= ends with auto's) */
    for (size_t i = 0; i < *n; i++)
      if (i + 1 == *n || res[i + 1].first != res[i].first) {
        char d[512];
        bench_case_format(&res[i].c, d, sizeof d);
        puts(d);
      }
    return -1;
  }
  if (a->png && system("command -v gnuplot >/dev/null 2>&1") != 0)
    return error(EXIT_USAGE, "--plot needs gnuplot, which is not installed (apt-get install gnuplot-nox)");
  return 0;
}

static void print_header(clconv_context *ctx, const clconv_device_info *info, const clconv_device_profile *prof,
                         const bench_peak *peak, const args *a) {
  printf("clconv-bench %s on %s (%s; %s; %u compute units)\n", clconv_version_string(), info->name, info->platform,
         info->version, info->compute_units);
  printf("in-run peak: %.1f GFLOP/s fp32 FMA (float%d), %.1f GB/s copy (%.0f MiB); an empty launch %.1f us waited "
         "on, %.1f us back to back\n",
         peak->fma_gflops, peak->fma_width, peak->copy_gbps, peak->copy_mib, peak->launch_wait_us,
         peak->launch_chain_us);
  printf("profile: %s, %u float lanes, %zu work-items per group at most, %llu KiB local memory "
         "(CLCONV_DEVICE_CLASS, CLCONV_VECTOR_WIDTH override)\n",
         prof->device_class == CLCONV_CLASS_GPU ? "gpu" : "cpu", prof->vector_width, prof->max_work_group_size,
         (unsigned long long)(prof->local_mem_bytes >> 10));
  printf("tuning: %s\n", clconv_context_tuning(ctx));
  printf("FLOP = 2*N*K*out_spatial*(C/groups)*kernel_volume (conv, layer); bytes = each tensor read or written "
         "once (pool, act); rates from device time\n");
#ifdef CLCONV_BENCH_ONEDNN
  const char *peer_line = a->o.peer ? "onednn (CPU, all cores, same process)" : "none (--peer onednn to add oneDNN)";
#else
  const char *peer_line = "none (built without oneDNN)";
#endif
  printf("algorithms: direct, gemm (im2col + CLBlast SGEMM), auto (its choice after the colon); peers: %s\n\n",
         peer_line);
  if (a->nets)
    return;
  printf("%-16s %-12s %-14s %10s %10s %8s %10s %9s %5s %12s %7s%s%s  %s\n", "case", "algo", "kernel", "median_ms",
         "device_ms", "spread%", "cold_ms", "min_ms", "reps", "rate", "%peak", a->old ? "  vs_old" : "",
         a->o.peer ? "  onednn_ms vs_onednn nchw_ms vs_nchw" : "", "check (max abs err)");
}

/* Runs every case (the rows of one case together), with progress on stderr; marks each case's fastest row. */
static int run_all(clconv_context *ctx, const options *o, const bench_peak *peak, result *res, size_t n) {
  bool tty = isatty(fileno(stderr));
  int rc = 0;
  for (size_t i = 0, rows; i < n; i += rows) {
    for (rows = 0; i + rows < n && res[i + rows].first == i; rows++) {
      bench_case row = res[i + rows].c;
      row.every_algo = false; /* each row's descriptor names its algorithm */
      bench_case_format(&row, res[i + rows].descriptor, sizeof res[i + rows].descriptor);
      bench_case_cli(&res[i + rows].c, res[i + rows].cli, sizeof res[i + rows].cli);
    }
    if (tty) { /* a progress bar on a terminal, one line per case otherwise */
      char bar[21];
      size_t filled = 20 * i / n;
      for (size_t b = 0; b < 20; b++)
        bar[b] = b < filled ? '#' : '.';
      bar[20] = '\0';
      fprintf(stderr, "\r[%s] %zu/%zu %-24s", bar, i + rows, n, res[i].c.name);
    }
    double t0 = bench_now_s();
    if ((rc = run_case(ctx, o, o->peer, o->seed + i, peak, &res[i], rows)))
      break;
    if (!tty)
      fprintf(stderr, "clconv-bench: [%zu/%zu] %s (%zu row%s): %.1f s\n", i + rows, n, res[i].c.name, rows,
              rows > 1 ? "s" : "", bench_now_s() - t0);
  }
  for (size_t i = 0; i < n && !rc; i++) { /* the fastest row of each case */
    size_t best = i;
    for (size_t j = res[i].first; j < n && res[j].first == res[i].first; j++)
      if (res[j].median_s < res[best].median_s)
        best = j;
    res[i].fastest = best == i;
  }
  if (tty)
    fprintf(stderr, "\r%60s\r", "");
  return rc;
}

/* The table, one row per case and algorithm with its reproducers; returns how many failed validation. */
static int print_rows(const result *res, size_t n, const args *a, clconv_context *ctx) {
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    const result *r = &res[i];
    char rate[32], check[48], vs[16] = "";
    snprintf(rate, sizeof rate, "%.2f %s", r->rate, is_compute(r) ? "GF/s" : "GB/s");
    if (!strcmp(r->status, "skipped"))
      snprintf(check, sizeof check, "skipped");
    else
      snprintf(check, sizeof check, "%s %.2e", r->status, r->max_abs);
    if (a->old && r->vs_old > 0.0)
      snprintf(vs, sizeof vs, "  %6.2fx", r->vs_old);
    else if (a->old)
      snprintf(vs, sizeof vs, "  %7s", "-");
    char peer[64] = "";
    if (a->o.peer && r->peer.best_s > 0.0)
      snprintf(peer, sizeof peer, "  %9.3f %8.2fx %7.3f %6.2fx", r->peer.best_s * 1e3, r->peer.best_s / r->median_s,
               r->peer.nchw_s * 1e3, r->peer.nchw_s / r->median_s);
    else if (a->o.peer) /* not run: no oneDNN implementation of the case's type (a note said so) */
      snprintf(peer, sizeof peer, "  %9s %9s %7s %7s", "-", "-", "-", "-");
    char algo[24];
    printf("%-16s %-12s %-14s %10.3f %10.3f %8.1f %10.1f %9.3f %5d %12s %6.1f%%%s%s%s  %s\n", r->c.name,
           algo_label(r, algo, sizeof algo), r->kernel[0] ? r->kernel : "-", r->median_s * 1e3, r->kernel_s * 1e3,
           r->spread * 100.0, r->cold_s * 1e3, r->min_s * 1e3, r->reps, rate, r->peak_fraction * 100.0,
           r->fastest ? "*" : " ", vs, peer, check);
    if (r->f32_s > 0.0)
      printf("    float32 form (same rounds): %.3f ms; vs_f32 %.2fx\n", r->f32_s * 1e3, r->f32_s / r->median_s);
    printf("    repro: clconv-bench --case '%s'\n    cli:   %s\n", r->descriptor, r->cli);
    failed += !strcmp(r->status, "FAIL");
  }
  if (n)
    printf("\n* fastest algorithm for the case. vs_old: old median / new median (> 1: faster now).%s\n"
           "vs_f32 (16-bit cases): the median of the case's first row in float32, timed in the same rounds, / this "
           "row's (> 1: the 16-bit row is faster).\n"
           "program binaries (cold_ms: a loaded one skips the compiler): %s\n",
           a->o.peer ? "\nvs_onednn, vs_nchw: oneDNN's median / clconv's (> 1: clconv is faster)." : "",
           clconv_context_binaries(ctx));
  return failed;
}

int main(int argc, char **argv) {
  static result res[MAX_CASES];
  size_t n = 0;
  args a = {.o = {.min_time = 0.5, .min_reps = 5, .validate = true, .seed = 1}};
  int rc = parse_args(argc, argv, &a, res, &n);
  if (rc)
    return rc < 0 ? 0 : rc;
  clconv_context *ctx;
  clconv_context_options copt = {.device = a.device, .ignore_tuning = a.tune};
  clconv_status s = clconv_context_create(&copt, &ctx);
  if (s != CLCONV_OK)
    return error(EXIT_DEVICE, "%s: %s", clconv_status_string(s), clconv_last_error(NULL));
  if (a.tune) {
    rc = run_tune(ctx, res, n, a.tune_budget, a.o.min_reps);
    clconv_context_destroy(ctx);
    return rc;
  }
  clconv_device_info info;
  clconv_device_profile prof;
  bench_peak peak;
  char err[256];
  if ((s = clconv_context_get_device_info(ctx, &info)) != CLCONV_OK ||
      (s = clconv_context_profile(ctx, &prof)) != CLCONV_OK) {
    rc = error(EXIT_DEVICE, "%s", clconv_last_error(ctx));
    clconv_context_destroy(ctx);
    return rc;
  }
  fprintf(stderr, "clconv-bench: measuring the device's peak...\n");
  if (bench_peak_measure(ctx, &peak, err, sizeof err)) {
    clconv_context_destroy(ctx);
    return error(EXIT_DEVICE, "%s", err);
  }
  net_row *nets = NULL;
  size_t nn = 0;
  if (a.nets && (rc = load_nets(a.nets, a.batch ? a.batch : 1, &nets, &nn))) {
    clconv_context_destroy(ctx);
    return rc;
  }
  print_header(ctx, &info, &prof, &peak, &a);
  rc = a.nets ? run_nets(&a.o, a.device, nets, nn) : run_all(ctx, &a.o, &peak, res, n);
  size_t done_n = rc ? 0 : n;
  if (!rc && a.old)
    rc = read_compare(a.old, res, done_n);
  int failed = print_rows(res, done_n, &a, ctx);
  clconv_context_destroy(ctx);
  if (!rc && a.json)
    rc = write_json(a.json, &info, &prof, &peak, &a.o, res, done_n, nets, nn);
  for (size_t i = 0; !rc && i < nn; i++)
    failed += !strcmp(nets[i].r.status, "FAIL");
  net_rows_free(nets, nn);
  if (!rc && a.csv)
    rc = write_csv(a.csv, &info, &peak, res, done_n);
  if (!rc && a.png)
    rc = plot(a.png, res, done_n);
  if (!rc && failed)
    rc = error(EXIT_CHECK, "%d %s failed validation", failed, a.nets ? "network(s)" : "case(s)");
  return rc;
}
