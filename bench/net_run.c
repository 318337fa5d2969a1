/* clconv-bench --net: one network's forward, timed and validated (net_run.h).
 *
 * Host data: the input uniform in [-1, 1); weights He-uniform (bound sqrt(6 / fan-in), which keeps the scale of the
 * activations through a deep ReLU network); a batch norm's gamma, beta, mean and variance drawn and folded into the
 * weights and bias with clconv_fold_batch_norm; other biases in [-0.1, 0.1).
 * Device: one tensor per layer output (an in-place residual layer writes into its residual's tensor); the forward
 * enqueues every layer and waits once. */
#define _POSIX_C_SOURCE 200809L
#include "net_run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"
#include "timing.h"

static bool has_weights(const bench_net_layer *l) { return l->c.op == BENCH_CONV || l->c.op == BENCH_LAYER; }

/* ---- host data ------------------------------------------------------------------------------------------------ */
typedef struct host {
  float *x, **w, **b; /* w[i], b[i]: NULL where layer i has none */
  size_t xc;
} host;

static void host_free(host *h, size_t n) {
  for (size_t i = 0; h->w && i < n; i++) {
    free(h->w[i]);
    free(h->b[i]);
  }
  free(h->w);
  free(h->b);
  free(h->x);
}

static int host_make(const bench_net *net, uint64_t seed, host *h, char *err, size_t cap) {
  memset(h, 0, sizeof *h);
  h->xc = bench_count(net->in, net->nd);
  h->x = malloc(h->xc * sizeof *h->x);
  h->w = calloc(net->n, sizeof *h->w);
  h->b = calloc(net->n, sizeof *h->b);
  if (!h->x || !h->w || !h->b)
    return bench_fail(err, cap, "%s: out of host memory", net->name);
  for (size_t j = 0; j < h->xc; j++)
    h->x[j] = bench_random(&seed);
  for (size_t i = 0; i < net->n; i++) {
    const bench_net_layer *l = &net->layers[i];
    if (!has_weights(l))
      continue;
    const clconv_conv_desc *d = &l->c.layer.conv;
    uint32_t xs[CLCONV_MAX_DIMS], ws[CLCONV_MAX_DIMS], ys[CLCONV_MAX_DIMS];
    clconv_conv_shapes(d, xs, ws, ys);
    size_t wc = bench_count(ws, d->ndim + 2), k = ws[0], fan_in = wc / k;
    float *w = h->w[i] = malloc(wc * sizeof *w), *b = h->b[i] = calloc(k, sizeof *b);
    float *bn = l->bn ? malloc(4 * k * sizeof *bn) : NULL;
    if (!w || !b || (l->bn && !bn)) {
      free(bn);
      return bench_fail(err, cap, "%s: out of host memory", net->name);
    }
    const float bound = (float)sqrt(6.0 / (double)fan_in);
    for (size_t j = 0; j < wc; j++)
      w[j] = bound * bench_random(&seed);
    for (size_t j = 0; j < k && d->has_bias && !l->bn; j++)
      b[j] = 0.1f * bench_random(&seed);
    if (bn) { /* gamma, beta, mean, var */
      for (size_t j = 0; j < k; j++) {
        bn[j] = 1.0f + 0.25f * bench_random(&seed);
        bn[k + j] = 0.1f * bench_random(&seed);
        bn[2 * k + j] = 0.1f * bench_random(&seed);
        bn[3 * k + j] = 1.0f + 0.5f * bench_random(&seed);
      }
      clconv_status s = clconv_fold_batch_norm(d, w, b, bn, bn + k, bn + 2 * k, bn + 3 * k, 1e-5f);
      free(bn);
      if (s != CLCONV_OK)
        return bench_fail(err, cap, "%s: %s: %s", net->name, l->c.name, clconv_last_error(NULL));
    }
  }
  return 0;
}

/* ---- one instance on a context --------------------------------------------------------------------------------- */
typedef struct inst {
  clconv_context *ctx;
  clconv_tensor **t, **w, **b; /* t: n + 1 tensors, t[0] the input; w, b: n */
  bool *owned;                 /* t[i] is destroyed here (an in-place layer's output aliases its residual) */
  clconv_conv **conv;
  clconv_layer **layer;
  clconv_pool **pool;
  clconv_act **act;
} inst;

static void inst_close(inst *in, size_t n) {
  for (size_t i = 0; in->conv && i < n; i++) {
    clconv_conv_destroy(in->conv[i]);
    clconv_layer_destroy(in->layer[i]);
    clconv_pool_destroy(in->pool[i]);
    clconv_act_destroy(in->act[i]);
    clconv_tensor_destroy(in->w[i]);
    clconv_tensor_destroy(in->b[i]);
  }
  for (size_t i = 0; in->t && i <= n; i++)
    if (in->owned[i])
      clconv_tensor_destroy(in->t[i]);
  free(in->t);
  free(in->w);
  free(in->b);
  free(in->owned);
  free(in->conv);
  free(in->layer);
  free(in->pool);
  free(in->act);
  clconv_context_destroy(in->ctx);
  memset(in, 0, sizeof *in);
}

/* The context, the tensors and the uploaded weights: everything but the ops. */
static clconv_status inst_open(const bench_net *net, const host *h, const char *device, inst *in) {
  memset(in, 0, sizeof *in);
  size_t n = net->n;
  in->t = calloc(n + 1, sizeof *in->t);
  in->owned = calloc(n + 1, sizeof *in->owned);
  in->w = calloc(n, sizeof *in->w);
  in->b = calloc(n, sizeof *in->b);
  in->conv = calloc(n, sizeof *in->conv);
  in->layer = calloc(n, sizeof *in->layer);
  in->pool = calloc(n, sizeof *in->pool);
  in->act = calloc(n, sizeof *in->act);
  if (!in->t || !in->owned || !in->w || !in->b || !in->conv || !in->layer || !in->pool || !in->act)
    return CLCONV_ERR_OUT_OF_MEMORY;
  clconv_context_options co = {.device = device};
  clconv_status s = clconv_context_create(&co, &in->ctx);
  if (s == CLCONV_OK && (s = clconv_tensor_create(in->ctx, CLCONV_F32, net->nd, net->in, &in->t[0])) == CLCONV_OK)
    s = clconv_tensor_write(in->t[0], h->x, h->xc);
  in->owned[0] = s == CLCONV_OK;
  for (size_t i = 0; s == CLCONV_OK && i < n; i++) {
    const bench_net_layer *l = &net->layers[i];
    in->owned[i + 1] = !l->in_place;
    if (l->in_place)
      in->t[i + 1] = in->t[l->add];
    else
      s = clconv_tensor_create(in->ctx, CLCONV_F32, l->nd, l->out, &in->t[i + 1]);
    if (s != CLCONV_OK || !has_weights(l))
      continue;
    uint32_t xs[CLCONV_MAX_DIMS], ws[CLCONV_MAX_DIMS], ys[CLCONV_MAX_DIMS];
    clconv_conv_shapes(&l->c.layer.conv, xs, ws, ys);
    if ((s = clconv_tensor_create(in->ctx, CLCONV_F32, l->nd, ws, &in->w[i])) == CLCONV_OK)
      s = clconv_tensor_write(in->w[i], h->w[i], bench_count(ws, l->nd));
    if (s == CLCONV_OK && l->c.layer.conv.has_bias &&
        (s = clconv_tensor_create(in->ctx, CLCONV_F32, 1, ws, &in->b[i])) == CLCONV_OK)
      s = clconv_tensor_write(in->b[i], h->b[i], ws[0]);
  }
  return s;
}

/* Every layer's op, weights set (packed) once as an inference program would. */
static clconv_status inst_create_ops(const bench_net *net, inst *in) {
  clconv_status s = CLCONV_OK;
  for (size_t i = 0; s == CLCONV_OK && i < net->n; i++) {
    const bench_case *c = &net->layers[i].c;
    if (c->op == BENCH_CONV && (s = clconv_conv_create(in->ctx, &c->layer.conv, &in->conv[i])) == CLCONV_OK)
      s = clconv_conv_set_weights(in->conv[i], in->w[i], in->b[i]);
    else if (c->op == BENCH_LAYER && (s = clconv_layer_create(in->ctx, &c->layer, &in->layer[i])) == CLCONV_OK)
      s = clconv_layer_set_weights(in->layer[i], in->w[i], in->b[i]);
    else if (c->op == BENCH_POOL)
      s = clconv_pool_create(in->ctx, &c->layer.pool, &in->pool[i]);
    else if (c->op == BENCH_ACT)
      s = clconv_act_create(in->ctx, &c->act, &in->act[i]);
  }
  return s;
}

static clconv_status run_layer(const bench_net *net, inst *in, size_t i) {
  const bench_net_layer *l = &net->layers[i];
  clconv_tensor *x = in->t[l->src], *z = l->add ? in->t[l->add] : NULL, *y = in->t[i + 1];
  switch (l->c.op) {
  case BENCH_CONV:
    return clconv_conv_run(in->conv[i], x, NULL, NULL, z, y);
  case BENCH_LAYER:
    return clconv_layer_run(in->layer[i], x, NULL, NULL, z, y);
  case BENCH_POOL:
    return clconv_pool_run(in->pool[i], x, y);
  default:
    return clconv_act_run(in->act[i], x, y);
  }
}

/* One forward: every layer enqueued, then one wait. With layer_s, a marker between layers gives each layer's device
 * time (layer_s[i] < 0 where the driver gives no profiling data); the markers cost wall time, so wall times come
 * from forwards without them. A marked forward is held behind a user event until every layer is enqueued: on a CPU
 * device the enqueueing thread shares the cores with the kernels already enqueued, which charged the host's work
 * for the whole forward to its first layers (resnet50's first 1.6-2.4 ms of device time, 1.0-1.7 held). That
 * cost is the forward's, in its wall time. */
static clconv_status forward(const bench_net *net, inst *in, double *wall, double *layer_s) {
  cl_command_queue q = clconv_context_queue(in->ctx);
  size_t n = net->n;
  cl_event *ev = layer_s ? calloc(n + 1, sizeof *ev) : NULL;
  if (layer_s && !ev)
    return CLCONV_ERR_OUT_OF_MEMORY;
  double t0 = bench_now_s();
  cl_event gate = NULL;
  cl_int err = CL_SUCCESS;
  if (ev) {
    cl_context cl;
    cl_device_id dev;
    if (clconv_context_get_cl(in->ctx, &cl, &dev) == CLCONV_OK)
      gate = clCreateUserEvent(cl, NULL); /* none: the forward runs unheld */
    err = clEnqueueMarkerWithWaitList(q, gate ? 1 : 0, gate ? &gate : NULL, &ev[0]);
  }
  clconv_status s = CLCONV_OK;
  for (size_t i = 0; s == CLCONV_OK && i < n; i++) {
    s = run_layer(net, in, i);
    if (ev && err == CL_SUCCESS)
      err = clEnqueueMarkerWithWaitList(q, 0, NULL, &ev[i + 1]);
  }
  if (gate) { /* released whatever happened above, so that the queue drains */
    cl_int e = clSetUserEventStatus(gate, CL_COMPLETE);
    err = err == CL_SUCCESS ? e : err;
    clReleaseEvent(gate);
  }
  if (s == CLCONV_OK)
    s = clconv_context_finish(in->ctx);
  *wall = bench_now_s() - t0;
  for (size_t i = 0; ev && i < n; i++) {
    cl_ulong a = 0, b = 0;
    cl_int e = err;
    if (e == CL_SUCCESS)
      e = clGetEventProfilingInfo(ev[i], CL_PROFILING_COMMAND_END, sizeof a, &a, NULL);
    if (e == CL_SUCCESS)
      e = clGetEventProfilingInfo(ev[i + 1], CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
    layer_s[i] = e == CL_SUCCESS && b >= a ? (double)(b - a) * 1e-9 : -1.0;
  }
  for (size_t i = 0; ev && i <= n; i++)
    if (ev[i])
      clReleaseEvent(ev[i]);
  free(ev);
  return s;
}

/* ---- validation ----------------------------------------------------------------------------------------------- */
/* Each layer once more, one at a time: its device input, residual and output read back and the first image checked
 * against the CPU reference given that input (so that errors do not accumulate from layer to layer). */
static int validate(const bench_net *net, const host *h, inst *in, bench_net_result *r, char *err, size_t cap) {
  int rc = 0;
  for (size_t i = 0; !rc && i < net->n; i++) {
    const bench_net_layer *l = &net->layers[i];
    uint32_t snd;
    const uint32_t *sd = bench_net_dims(net, l->src, &snd);
    size_t xc = bench_count(sd, snd), yc = bench_count(l->out, l->nd),
           zc = l->add ? clconv_tensor_count(in->t[l->add]) : 0;
    size_t y1 = yc / l->out[0];
    float *x = malloc(xc * sizeof *x), *y = malloc(yc * sizeof *y), *z = malloc((zc + 1) * sizeof *z),
          *ref = malloc(y1 * sizeof *ref), *mag = malloc(y1 * sizeof *mag);
    clconv_status s = !x || !y || !z || !ref || !mag ? CLCONV_ERR_OUT_OF_MEMORY : CLCONV_OK;
    if (s == CLCONV_OK)
      s = clconv_tensor_read(in->t[l->src], x, xc);
    if (s == CLCONV_OK && l->add)
      s = clconv_tensor_read(in->t[l->add], z, zc);
    if (s == CLCONV_OK)
      s = run_layer(net, in, i);
    if (s == CLCONV_OK)
      s = clconv_tensor_read(in->t[i + 1], y, yc);
    bench_case one = l->c; /* the first image */
    if (l->c.op == BENCH_POOL)
      one.layer.pool.batch = 1;
    else if (l->c.op == BENCH_ACT)
      one.act_dims[0] = 1;
    else
      one.layer.conv.batch = 1;
    clconv_tolerance tol;
    if (s == CLCONV_OK)
      s = bench_case_reference(&one, x, h->w[i], l->c.layer.conv.has_bias ? h->b[i] : NULL, l->add ? z : NULL, ref, mag,
                               &tol);
    clconv_compare_result cmp;
    if (s == CLCONV_OK)
      s = clconv_compare(y, ref, mag, y1, &tol, &cmp);
    if (s != CLCONV_OK) {
      rc = bench_fail(err, cap, "%s: %s: validation: %s: %s", net->name, l->c.name, clconv_status_string(s),
                      s == CLCONV_ERR_OUT_OF_MEMORY ? "host memory" : clconv_last_error(in->ctx));
    } else {
      r->layers[i].status = cmp.mismatches ? "FAIL" : "ok";
      r->layers[i].max_abs = cmp.max_abs_err;
      r->layers[i].mismatches = cmp.mismatches;
      if (cmp.mismatches)
        r->status = "FAIL";
    }
    free(x);
    free(y);
    free(z);
    free(ref);
    free(mag);
  }
  return rc;
}

/* ---- the run -------------------------------------------------------------------------------------------------- */
/* The first forward on a new context: op creation (compilation, or binaries from the caches) and one forward. */
static clconv_status first_forward(const bench_net *net, const host *h, const char *device, inst *in, double *s_out) {
  clconv_status s = inst_open(net, h, device, in);
  double t0 = bench_now_s(), wall;
  if (s == CLCONV_OK)
    s = inst_create_ops(net, in);
  if (s == CLCONV_OK)
    s = forward(net, in, &wall, NULL);
  *s_out = bench_now_s() - t0;
  return s;
}

typedef struct samples {
  double *v;
  size_t n, cap;
} samples;

static int push(samples *s, double v) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    double *p = realloc(s->v, cap * sizeof *p);
    if (!p)
      return -1;
    s->v = p;
    s->cap = cap;
  }
  s->v[s->n++] = v;
  return 0;
}

static double median(samples *s) {
  qsort(s->v, s->n, sizeof *s->v, bench_cmp_double);
  return s->n ? s->v[s->n / 2] : 0.0;
}

void bench_net_result_free(bench_net_result *r) {
  free(r->layers);
  r->layers = NULL;
}

int bench_net_run(const bench_net *net, const bench_net_options *o, bench_net_result *r, char *err, size_t cap) {
  memset(r, 0, sizeof *r);
  size_t n = net->n;
  r->layers = calloc(n, sizeof *r->layers);
  samples ours = {0}, theirs = {0};
  samples *lay = calloc(2 * n, sizeof *lay); /* per layer: ours (device), then the peer's (wall) */
  double *ls = calloc(2 * n, sizeof *ls);
  host h = {0};
  inst cold = {0}, warm = {0};
  bench_peer_net *pp = NULL;
  int rc = !r->layers || !lay || !ls ? bench_fail(err, cap, "%s: out of host memory", net->name) : 0;
  if (!rc)
    rc = host_make(net, o->seed, &h, err, cap);
  for (size_t i = 0; !rc && i < n; i++) {
    r->flop += bench_case_flop(&net->layers[i].c);
    r->layers[i].status = "skipped";
  }
  r->status = "skipped";
  clconv_status s = CLCONV_OK;
  if (!rc) {
    if ((s = first_forward(net, &h, o->device, &cold, &r->cold_s)) != CLCONV_OK)
      rc = bench_fail(err, cap, "%s: first forward: %s: %s", net->name, clconv_status_string(s),
                      clconv_last_error(cold.ctx));
    inst_close(&cold, n);
  }
  if (!rc && (s = first_forward(net, &h, o->device, &warm, &r->warm_first_s)) != CLCONV_OK)
    rc = bench_fail(err, cap, "%s: first forward: %s: %s", net->name, clconv_status_string(s),
                    clconv_last_error(warm.ctx));
  for (size_t i = 0; !rc && s == CLCONV_OK && i < n; i++) {
    const char *k = warm.conv[i]    ? clconv_conv_kernel(warm.conv[i])
                    : warm.layer[i] ? clconv_layer_kernel(warm.layer[i])
                    : warm.pool[i]  ? "pool"
                                    : "act";
    snprintf(r->layers[i].kernel, sizeof r->layers[i].kernel, "%s", k);
  }
#ifdef CLCONV_BENCH_ONEDNN
  if (!rc && s == CLCONV_OK && o->peer && bench_peer_onednn_net_open(net, h.x, h.w, h.b, &pp, err, cap))
    rc = -1;
#endif
  /* rounds as the cases' (clconv_bench.c): ours, then the peer's, each in a slice of min_time / 8, so that what one
   * side leaves behind (oneDNN's OpenMP threads spin for milliseconds after its last call; the caches) costs only
   * the first forward of the other's slice; ours in pairs, a marked forward (per layer; it goes first, so that it
   * takes that cost where a slice holds one pair) and an unmarked one (wall) */
  const double slice = o->min_time / 8.0;
  double ours_spent = 0.0, theirs_spent = 0.0, wall, pw;
  while (!rc && s == CLCONV_OK &&
         !(ours.n >= (size_t)o->min_reps && ours_spent >= o->min_time &&
           (!pp || (theirs.n >= (size_t)o->min_reps && theirs_spent >= o->min_time)))) {
    bool oom = false;
    double t0 = bench_now_s();
    do {
      if ((s = forward(net, &warm, &pw, ls)) != CLCONV_OK || (s = forward(net, &warm, &wall, NULL)) != CLCONV_OK)
        break;
      ours_spent += wall;
      oom = push(&ours, wall) != 0;
      for (size_t i = 0; !oom && i < n; i++)
        oom = ls[i] >= 0.0 && push(&lay[i], ls[i]) != 0;
    } while (!oom && bench_now_s() - t0 < slice);
    t0 = bench_now_s();
    if (pp && !oom && s == CLCONV_OK)
      do {
        if (bench_peer_net_call(pp, &pw, ls + n, err, cap)) {
          rc = -1;
          break;
        }
        theirs_spent += pw;
        oom = push(&theirs, pw) != 0;
        for (size_t i = 0; !oom && i < n; i++)
          oom = push(&lay[n + i], ls[n + i]) != 0;
      } while (!oom && bench_now_s() - t0 < slice);
#ifdef CLCONV_BENCH_ONEDNN
    if (pp)
      bench_peer_onednn_rest();
#endif
    if (oom)
      rc = bench_fail(err, cap, "%s: out of host memory", net->name);
  }
  if (!rc && s != CLCONV_OK)
    rc = bench_fail(err, cap, "%s: %s: %s", net->name, clconv_status_string(s), clconv_last_error(warm.ctx));
  if (!rc) {
    r->reps = (int)ours.n;
    r->median_s = median(&ours);
    r->min_s = ours.v[0];
    r->spread = (ours.v[(3 * ours.n) / 4] - ours.v[ours.n / 4]) / r->median_s;
    r->onednn_s = median(&theirs);
    for (size_t i = 0; i < n; i++) {
      r->layers[i].median_s = lay[i].n ? median(&lay[i]) : -1.0;
      r->layers[i].onednn_s = median(&lay[n + i]);
    }
  }
  if (!rc && o->validate) {
    r->status = "ok";
    rc = validate(net, &h, &warm, r, err, cap);
  }
#ifdef CLCONV_BENCH_ONEDNN
  bench_peer_net_close(pp);
#endif
  inst_close(&warm, n);
  host_free(&h, n);
  for (size_t i = 0; lay && i < 2 * n; i++)
    free(lay[i].v);
  free(lay);
  free(ls);
  free(ours.v);
  free(theirs.v);
  if (rc)
    bench_net_result_free(r);
  return rc;
}
