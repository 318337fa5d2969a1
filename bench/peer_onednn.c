/* The oneDNN peer (built only when oneDNN is found at configure time): the same case on the CPU with oneDNN's C
 * API, in the same process, all cores.
 *  - best: primitives created with format_tag any; source and destination already in oneDNN's chosen layout and
 *    the weights reordered once, all outside the timing; only the primitive(s) are timed.
 *  - nchw: what a user with plain NCHW data pays: the reorders of source and destination into and out of the
 *    chosen layouts are timed with the primitive (the weights are still reordered once, as a model would).
 * conv: convolution with the activation as a post-op; layer: that, then pooling; pool: pooling (best: the 16-channel
 * blocked layout); act: eltwise (layout-free, so both figures are the same primitive). A convolution-mode case runs
 * as cross-correlation: flipping the weights costs nothing at run time. */
#define _POSIX_C_SOURCE 200809L
#include "peer.h"
#include "timing.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PRIMS 6

typedef struct prim {
  dnnl_primitive_t p;
  int n_args;
  dnnl_exec_arg_t args[4];
} prim;

typedef struct plan {
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  dnnl_memory_t mems[16];
  int n_mems;
  prim steps[MAX_PRIMS];
  int n_steps;
} plan;

#define TRY(call)                                                                                                      \
  do {                                                                                                                 \
    dnnl_status_t st_ = (call);                                                                                        \
    if (st_ != dnnl_success) {                                                                                         \
      snprintf(err, cap, "oneDNN: %s: status %d", #call, (int)st_);                                                    \
      goto fail;                                                                                                       \
    }                                                                                                                  \
  } while (0)

static dnnl_memory_t new_mem(plan *pl, const dnnl_memory_desc_t *md, const float *init, size_t count) {
  dnnl_memory_t m = NULL;
  if (pl->n_mems == 16 || dnnl_memory_create(&m, md, pl->eng, DNNL_MEMORY_ALLOCATE) != dnnl_success)
    return NULL;
  pl->mems[pl->n_mems++] = m;
  void *h = NULL;
  if (init && dnnl_memory_get_data_handle(m, &h) == dnnl_success)
    memcpy(h, init, count * sizeof(float));
  return m;
}

static dnnl_status_t add_step(plan *pl, const_dnnl_primitive_desc_t pd, int n_args, const dnnl_exec_arg_t *args) {
  prim *s = &pl->steps[pl->n_steps];
  dnnl_status_t st = dnnl_primitive_create(&s->p, pd);
  if (st != dnnl_success)
    return st;
  s->n_args = n_args;
  memcpy(s->args, args, (size_t)n_args * sizeof *args);
  pl->n_steps++;
  return dnnl_success;
}

/* Reorder from -> to, run now (once) or added as a timed step. */
static dnnl_status_t reorder(plan *pl, dnnl_memory_t from, dnnl_memory_t to, bool timed) {
  const dnnl_memory_desc_t *a, *b;
  dnnl_memory_get_memory_desc(from, &a);
  dnnl_memory_get_memory_desc(to, &b);
  dnnl_primitive_desc_t pd;
  dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, a, pl->eng, b, pl->eng, NULL);
  if (st != dnnl_success)
    return st;
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  if (timed) {
    st = add_step(pl, pd, 2, args);
  } else {
    dnnl_primitive_t p;
    st = dnnl_primitive_create(&p, pd);
    if (st == dnnl_success)
      st = dnnl_primitive_execute(p, pl->stream, 2, args);
    if (st == dnnl_success)
      st = dnnl_stream_wait(pl->stream);
    if (p)
      dnnl_primitive_destroy(p);
  }
  dnnl_primitive_desc_destroy(pd);
  return st;
}

static void free_plan(plan *pl) {
  for (int i = 0; i < pl->n_steps; i++)
    dnnl_primitive_destroy(pl->steps[i].p);
  for (int i = 0; i < pl->n_mems; i++)
    dnnl_memory_destroy(pl->mems[i]);
  if (pl->stream)
    dnnl_stream_destroy(pl->stream);
  if (pl->eng)
    dnnl_engine_destroy(pl->eng);
  memset(pl, 0, sizeof *pl);
}

static dnnl_format_tag_t plain_tag(int nd) { return nd == 3 ? dnnl_ncw : nd == 4 ? dnnl_nchw : dnnl_ncdhw; }
static dnnl_format_tag_t blocked_tag(int nd) { return nd == 3 ? dnnl_nCw16c : nd == 4 ? dnnl_nChw16c : dnnl_nCdhw16c; }

/* The activation as a oneDNN eltwise algorithm (the header's table); false for identity, which adds no post-op. */
static bool eltwise_of(const clconv_activation *act, dnnl_alg_kind_t *alg, float *alpha, float *beta) {
  static const float dflt[CLCONV_ACT_COUNT] = {
#define CLCONV_X(NAME, value, name, params, d, ...) [value] = d,
      CLCONV_ACT_MAP(CLCONV_X)
#undef CLCONV_X
  };
  const float a = act->alpha != 0.0f ? act->alpha : dflt[act->kind], b = act->beta;
  switch (act->kind) {
#define CLCONV_X(NAME, value, name, params, d, lips, c, ref, dev, dnnl_alg, dnnl_a, dnnl_b)                            \
  case CLCONV_ACT_##NAME:                                                                                              \
    *alg = dnnl_eltwise_##dnnl_alg;                                                                                    \
    *alpha = dnnl_a;                                                                                                   \
    *beta = dnnl_b;                                                                                                    \
    break;
    CLCONV_ACT_MAP(CLCONV_X)
#undef CLCONV_X
  }
  (void)a;
  (void)b;
  return act->kind != CLCONV_ACT_IDENTITY;
}

static void dims_of(const uint32_t *v, int n, dnnl_dims_t out) {
  for (int i = 0; i < n; i++)
    out[i] = (dnnl_dim_t)v[i];
}

/* Builds the plan for one case; best: any layouts with everything reordered up front, else NCHW in and out. */
static int build(plan *pl, const bench_case *c, const float *x, const float *w, const float *b, bool best, char *err,
                 size_t cap) {
  dnnl_primitive_desc_t conv_pd = NULL, pool_pd = NULL, elt_pd = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  TRY(dnnl_engine_create(&pl->eng, dnnl_cpu, 0));
  TRY(dnnl_stream_create(&pl->stream, pl->eng, dnnl_stream_default_flags));
  uint32_t xs[5], ws[5], ys[5];
  int nd;
  if (c->op == BENCH_ACT) {
    dnnl_memory_desc_t md;
    dnnl_dims_t d;
    nd = (int)c->act_ndim;
    dims_of(c->act_dims, nd, d);
    size_t count = 1;
    for (int i = 0; i < nd; i++)
      count *= c->act_dims[i];
    static const dnnl_format_tag_t tags[] = {dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde};
    TRY(dnnl_memory_desc_init_by_tag(&md, nd, d, dnnl_f32, tags[nd - 1]));
    dnnl_alg_kind_t alg = dnnl_eltwise_linear;
    float alpha = 1.0f, beta = 0.0f;
    eltwise_of(&c->act, &alg, &alpha, &beta);
    if (c->act.kind == CLCONV_ACT_IDENTITY)
      alpha = 1.0f;
    dnnl_eltwise_desc_t ed;
    TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, &md, alpha, beta));
    TRY(dnnl_primitive_desc_create(&elt_pd, &ed, NULL, pl->eng, NULL));
    dnnl_memory_t src = new_mem(pl, &md, x, count), dst = new_mem(pl, &md, NULL, 0);
    if (!src || !dst)
      goto oom;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
    TRY(add_step(pl, elt_pd, 2, args));
    dnnl_primitive_desc_destroy(elt_pd);
    return 0;
  }

  if (c->op == BENCH_POOL) {
    const clconv_pool_desc *p = &c->layer.pool;
    clconv_pool_shapes(p, xs, ys);
    nd = (int)p->ndim + 2;
  } else {
    const clconv_conv_desc *d = &c->layer.conv;
    clconv_conv_shapes(d, xs, ws, ys);
    nd = (int)d->ndim + 2;
  }
  size_t xcount = 1;
  for (int i = 0; i < nd; i++)
    xcount *= xs[i];
  dnnl_dims_t xd, yd;
  dims_of(xs, nd, xd);
  dims_of(ys, nd, yd);
  dnnl_memory_desc_t user_x, user_y, x_any, y_any;
  TRY(dnnl_memory_desc_init_by_tag(&user_x, nd, xd, dnnl_f32, plain_tag(nd)));
  dnnl_memory_t ux = new_mem(pl, &user_x, x, xcount), src = NULL, cur = NULL;
  if (!ux)
    goto oom;
  const dnnl_memory_desc_t *cur_md = NULL;

  if (c->op != BENCH_POOL) {
    const clconv_conv_desc *d = &c->layer.conv;
    uint32_t g = d->groups ? d->groups : 1;
    int sp = (int)d->ndim;
    dnnl_dims_t wd, bd = {(dnnl_dim_t)d->out_channels}, strides, dil, pl_, pr;
    int wnd = nd;
    if (g > 1) { /* grouped weights: (G, K/G, C/G, spatial...) */
      wd[0] = g;
      wd[1] = (dnnl_dim_t)(ws[0] / g);
      for (int i = 1; i < nd; i++)
        wd[i + 1] = ws[i];
      wnd = nd + 1;
    } else {
      dims_of(ws, nd, wd);
    }
    for (int i = 0; i < sp; i++) {
      strides[i] = d->stride[i] ? d->stride[i] : 1;
      dil[i] = (d->dilation[i] ? d->dilation[i] : 1) - 1; /* oneDNN counts dilation from 0 */
      pl_[i] = d->pad_before[i];
      pr[i] = d->pad_after[i];
    }
    dnnl_memory_desc_t w_any, b_md, user_w;
    TRY(dnnl_memory_desc_init_by_tag(&x_any, nd, xd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&y_any, nd, yd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&w_any, wnd, wd, dnnl_f32, dnnl_format_tag_any));
    static const dnnl_format_tag_t wtags[] = {dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef};
    TRY(dnnl_memory_desc_init_by_tag(&user_w, wnd, wd, dnnl_f32, wtags[wnd - 3]));
    TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_a));
    dnnl_convolution_desc_t cd;
    TRY(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &x_any, &w_any,
                                                   d->has_bias ? &b_md : NULL, &y_any, strides, dil, pl_, pr));
    dnnl_alg_kind_t alg;
    float alpha, beta;
    if (eltwise_of(&d->activation, &alg, &alpha, &beta)) {
      TRY(dnnl_post_ops_create(&po));
      TRY(dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, beta));
      TRY(dnnl_primitive_attr_create(&attr));
      TRY(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    TRY(dnnl_primitive_desc_create(&conv_pd, &cd, attr, pl->eng, NULL));
    src = new_mem(pl, dnnl_primitive_desc_query_md(conv_pd, dnnl_query_src_md, 0), NULL, 0);
    size_t wcount = 1;
    for (int i = 0; i < nd; i++)
      wcount *= ws[i];
    dnnl_memory_t uw = new_mem(pl, &user_w, w, wcount),
                  wm = new_mem(pl, dnnl_primitive_desc_query_md(conv_pd, dnnl_query_weights_md, 0), NULL, 0),
                  bm = d->has_bias ? new_mem(pl, &b_md, b, d->out_channels) : NULL;
    cur = new_mem(pl, dnnl_primitive_desc_query_md(conv_pd, dnnl_query_dst_md, 0), NULL, 0);
    if (!src || !uw || !wm || !cur || (d->has_bias && !bm))
      goto oom;
    TRY(reorder(pl, uw, wm, false)); /* weights: once, outside the timing, in both variants */
    TRY(reorder(pl, ux, src, !best));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, cur}, {DNNL_ARG_BIAS, bm}};
    TRY(add_step(pl, conv_pd, d->has_bias ? 4 : 3, args));
    cur_md = dnnl_primitive_desc_query_md(conv_pd, dnnl_query_dst_md, 0);
  }

  if (c->op == BENCH_POOL || c->op == BENCH_LAYER) {
    const clconv_pool_desc *p = &c->layer.pool;
    clconv_pool_desc eff;
    uint32_t pin[5], pout[5];
    if (c->op == BENCH_LAYER) {
      clconv_layer_shapes(&c->layer, xs, ws, pout);
      eff = *p;
      eff.ndim = c->layer.conv.ndim;
      clconv_conv_shapes(&c->layer.conv, xs, ws, pin);
      for (uint32_t i = 0; i < eff.ndim; i++)
        eff.in_size[i] = pin[2 + i];
      p = &eff;
    } else {
      memcpy(pin, xs, sizeof pin);
      memcpy(pout, ys, sizeof pout);
    }
    int sp = (int)p->ndim;
    dnnl_dims_t strides, kernel, dil, pl_, pr, od;
    dims_of(pout, nd, od);
    for (int i = 0; i < sp; i++) {
      uint32_t win = p->global ? pin[2 + i] : p->window[i], s = p->stride[i] ? p->stride[i] : win;
      strides[i] = s;
      kernel[i] = win;
      dil[i] = 0;
      pl_[i] = p->pad_before[i];
      /* ceil mode: oneDNN derives the output from the right padding, so pad to the size clconv computes */
      pr[i] = (dnnl_dim_t)(pout[2 + i] - 1) * s + win - pin[2 + i] - p->pad_before[i];
    }
    dnnl_memory_desc_t pool_src, pool_dst;
    if (c->op == BENCH_POOL) {
      TRY(dnnl_memory_desc_init_by_tag(&pool_src, nd, xd, dnnl_f32, best ? blocked_tag(nd) : plain_tag(nd)));
      src = new_mem(pl, &pool_src, NULL, 0);
      if (!src)
        goto oom;
      TRY(reorder(pl, ux, src, false)); /* pooling takes plain layouts too: no timed reorder in nchw */
      cur = src;
    } else {
      pool_src = *cur_md;
    }
    TRY(dnnl_memory_desc_init_by_tag(&pool_dst, nd, od, dnnl_f32,
                                     c->op == BENCH_POOL && !best ? plain_tag(nd) : dnnl_format_tag_any));
    dnnl_alg_kind_t alg = p->kind == CLCONV_POOL_MAX ? dnnl_pooling_max
                          : p->count_include_pad     ? dnnl_pooling_avg_include_padding
                                                     : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t pd;
    TRY(dnnl_pooling_v2_forward_desc_init(&pd, dnnl_forward_inference, alg, &pool_src, &pool_dst, strides, kernel, dil,
                                          pl_, pr));
    TRY(dnnl_primitive_desc_create(&pool_pd, &pd, NULL, pl->eng, NULL));
    const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pool_pd, dnnl_query_dst_md, 0);
    dnnl_memory_t out = new_mem(pl, dmd, NULL, 0), ws_mem = NULL;
    const dnnl_memory_desc_t *wsmd = dnnl_primitive_desc_query_md(pool_pd, dnnl_query_workspace_md, 0);
    if (wsmd && wsmd->ndims > 0)
      ws_mem = new_mem(pl, wsmd, NULL, 0);
    if (!out)
      goto oom;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, out}, {DNNL_ARG_WORKSPACE, ws_mem}};
    TRY(add_step(pl, pool_pd, ws_mem ? 3 : 2, args));
    cur = out;
    cur_md = dmd;
  }
  if (!best && c->op != BENCH_POOL) { /* back to NCHW for the user, timed */
    uint32_t yo[5];
    if (c->op == BENCH_LAYER)
      clconv_layer_shapes(&c->layer, xs, ws, yo);
    else
      memcpy(yo, ys, sizeof yo);
    dims_of(yo, nd, yd);
    TRY(dnnl_memory_desc_init_by_tag(&user_y, nd, yd, dnnl_f32, plain_tag(nd)));
    dnnl_memory_t uy = new_mem(pl, &user_y, NULL, 0);
    if (!uy)
      goto oom;
    TRY(reorder(pl, cur, uy, true));
  }
  if (conv_pd)
    dnnl_primitive_desc_destroy(conv_pd);
  if (pool_pd)
    dnnl_primitive_desc_destroy(pool_pd);
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  if (po)
    dnnl_post_ops_destroy(po);
  return 0;
oom:
  snprintf(err, cap, "oneDNN: memory allocation failed");
fail:
  if (conv_pd)
    dnnl_primitive_desc_destroy(conv_pd);
  if (pool_pd)
    dnnl_primitive_desc_destroy(pool_pd);
  if (elt_pd)
    dnnl_primitive_desc_destroy(elt_pd);
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  if (po)
    dnnl_post_ops_destroy(po);
  return -1;
}

/* One execution of every step of a plan, in seconds. */
static int run_plan(plan *pl, double *seconds, char *err, size_t cap) {
  double t0 = bench_now_s();
  for (int i = 0; i < pl->n_steps; i++)
    TRY(dnnl_primitive_execute(pl->steps[i].p, pl->stream, pl->steps[i].n_args, pl->steps[i].args));
  TRY(dnnl_stream_wait(pl->stream));
  *seconds = bench_now_s() - t0;
  return 0;
fail:
  return -1;
}

struct bench_peer {
  plan plans[BENCH_PEER_VARIANTS];
};

int bench_peer_onednn_open(const bench_case *c, const float *x, const float *w, const float *b, bench_peer **out,
                           char *err, size_t cap) {
  *out = NULL;
  bench_peer *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, cap, "out of host memory");
    return -1;
  }
  for (int v = 0; v < BENCH_PEER_VARIANTS; v++) {
    double dt;
    /* two untimed calls: the first ones pay for lazy initialisation */
    if (build(&p->plans[v], c, x, w, b, v == BENCH_PEER_BEST, err, cap) || run_plan(&p->plans[v], &dt, err, cap) ||
        run_plan(&p->plans[v], &dt, err, cap)) {
      bench_peer_close(p);
      return -1;
    }
  }
  *out = p;
  return 0;
}

int bench_peer_call(bench_peer *p, int variant, double *seconds, char *err, size_t cap) {
  return run_plan(&p->plans[variant], seconds, err, cap);
}

void bench_peer_close(bench_peer *p) {
  if (!p)
    return;
  for (int v = 0; v < BENCH_PEER_VARIANTS; v++)
    free_plan(&p->plans[v]);
  free(p);
}
