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
#include "net.h"
#include "timing.h"

#include <dnnl.h>
#include <dnnl_debug.h>
#if defined(CLCONV_BENCH_OPENMP) && DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct prim {
  dnnl_primitive_t p;
  int n_args;
  dnnl_exec_arg_t args[4];
  size_t layer; /* a network's layer the step belongs to */
} prim;

typedef struct plan {
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  dnnl_memory_t *mems;
  prim *steps;
  size_t n_mems, n_steps, cap_mems, cap_steps;
  size_t layer;          /* the layer the next steps belong to */
  dnnl_data_type_t type; /* the case's element type: every tensor's (host data arrives as float values of it) */
  char ref_impl[64];     /* the first step that runs one of oneDNN's reference implementations, "" if none */
} plan;

/* Room for one more element in *arr (n used of *cap), 0 or -1. */
static int grow(void **arr, size_t n, size_t *cap, size_t size) {
  if (n < *cap)
    return 0;
  size_t c = *cap ? 2 * *cap : 16;
  void *p = realloc(*arr, c * size);
  if (!p)
    return -1;
  *arr = p;
  *cap = c;
  return 0;
}

#define TRY(call)                                                                                                      \
  do {                                                                                                                 \
    dnnl_status_t st_ = (call);                                                                                        \
    if (st_ != dnnl_success) {                                                                                         \
      snprintf(err, cap, "oneDNN: %s: %s", #call, dnnl_status2str(st_));                                               \
      goto fail;                                                                                                       \
    }                                                                                                                  \
  } while (0)

static dnnl_memory_t new_mem(plan *pl, const dnnl_memory_desc_t *md, const float *init, size_t count) {
  dnnl_memory_t m = NULL;
  if (grow((void **)&pl->mems, pl->n_mems, &pl->cap_mems, sizeof *pl->mems) ||
      dnnl_memory_create(&m, md, pl->eng, DNNL_MEMORY_ALLOCATE) != dnnl_success)
    return NULL;
  pl->mems[pl->n_mems++] = m;
  void *h = NULL;
  if (!init || dnnl_memory_get_data_handle(m, &h) != dnnl_success)
    return m;
  if (md->data_type == dnnl_f16) /* the values are of the type: exact */
    clconv_f32_to_f16(init, h, count);
  else if (md->data_type == dnnl_bf16)
    clconv_f32_to_bf16(init, h, count);
  else
    memcpy(h, init, count * sizeof(float));
  return m;
}

static dnnl_status_t add_step(plan *pl, const_dnnl_primitive_desc_t pd, int n_args, const dnnl_exec_arg_t *args) {
  if (grow((void **)&pl->steps, pl->n_steps, &pl->cap_steps, sizeof *pl->steps))
    return dnnl_out_of_memory;
  prim *s = &pl->steps[pl->n_steps];
  dnnl_status_t st = dnnl_primitive_create(&s->p, pd);
  if (st != dnnl_success)
    return st;
  const char *impl = NULL; /* "ref:any", "ref_int8:any", ...: the unoptimised fallbacks */
  if (!pl->ref_impl[0] && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
      !strncmp(impl, "ref", 3))
    snprintf(pl->ref_impl, sizeof pl->ref_impl, "%s", impl);
  s->layer = pl->layer;
  s->n_args = n_args;
  memcpy(s->args, args, (size_t)n_args * sizeof *args);
  pl->n_steps++;
  return dnnl_success;
}

/* The step of pd on args, once its output memory exists (have_out), then pd released either way. 0 or -1 with err. */
static int add_step_release(plan *pl, dnnl_primitive_desc_t pd, bool have_out, int n_args,
                            const dnnl_exec_arg_t *args, char *err, size_t cap) {
  dnnl_status_t st = have_out ? add_step(pl, pd, n_args, args) : dnnl_out_of_memory;
  dnnl_primitive_desc_destroy(pd);
  if (st == dnnl_success)
    return 0;
  snprintf(err, cap, "oneDNN: %s", have_out ? "creating a primitive failed" : "memory allocation failed");
  return -1;
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
  for (size_t i = 0; i < pl->n_steps; i++)
    dnnl_primitive_destroy(pl->steps[i].p);
  for (size_t i = 0; i < pl->n_mems; i++)
    dnnl_memory_destroy(pl->mems[i]);
  free(pl->steps);
  free(pl->mems);
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
/* An eltwise case: one primitive on plain layouts. */
static int build_act(plan *pl, const bench_case *c, const float *x, char *err, size_t cap) {
  dnnl_primitive_desc_t elt_pd = NULL;
  dnnl_memory_desc_t md;
  dnnl_dims_t d;
  int nd = (int)c->act_ndim;
  dims_of(c->act_dims, nd, d);
  size_t count = 1;
  for (int i = 0; i < nd; i++)
    count *= c->act_dims[i];
  static const dnnl_format_tag_t tags[] = {dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde};
  TRY(dnnl_memory_desc_init_by_tag(&md, nd, d, pl->type, tags[nd - 1]));
  dnnl_alg_kind_t alg = dnnl_eltwise_linear;
  float alpha = 1.0f, beta = 0.0f;
  eltwise_of(&c->act, &alg, &alpha, &beta);
  if (c->act.kind == CLCONV_ACT_IDENTITY)
    alpha = 1.0f;
  dnnl_eltwise_desc_t ed;
  TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, &md, alpha, beta));
  TRY(dnnl_primitive_desc_create(&elt_pd, &ed, NULL, pl->eng, NULL));
  dnnl_memory_t src = new_mem(pl, &md, x, count), dst = new_mem(pl, &md, NULL, 0);
  if (!src || !dst) {
    snprintf(err, cap, "oneDNN: memory allocation failed");
    goto fail;
  }
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
  TRY(add_step(pl, elt_pd, 2, args));
  dnnl_primitive_desc_destroy(elt_pd);
  return 0;
fail:
  if (elt_pd)
    dnnl_primitive_desc_destroy(elt_pd);
  return -1;
}

/* What the stages of a conv, pool or layer plan pass along: the shapes, the user's input, the memory holding the
 * latest output and its descriptor (which points into a primitive descriptor kept here until the plan is built). */
typedef struct chain {
  int nd;
  uint32_t xs[5], ws[5], ys[5];
  dnnl_dims_t xd, yd;
  dnnl_memory_t ux, cur;
  const dnnl_memory_desc_t *cur_md;
  dnnl_primitive_desc_t conv_pd;
} chain;

static void chain_free(chain *ch) {
  if (ch->conv_pd)
    dnnl_primitive_desc_destroy(ch->conv_pd);
}

/* The shapes and the user's input in NCHW. */
static int chain_input(plan *pl, const bench_case *c, const float *x, chain *ch, char *err, size_t cap) {
  if (c->op == BENCH_POOL) {
    clconv_pool_shapes(&c->layer.pool, ch->xs, ch->ys);
    ch->nd = (int)c->layer.pool.ndim + 2;
  } else {
    clconv_conv_shapes(&c->layer.conv, ch->xs, ch->ws, ch->ys);
    ch->nd = (int)c->layer.conv.ndim + 2;
  }
  size_t xcount = 1;
  for (int i = 0; i < ch->nd; i++)
    xcount *= ch->xs[i];
  dims_of(ch->xs, ch->nd, ch->xd);
  dims_of(ch->ys, ch->nd, ch->yd);
  dnnl_memory_desc_t user_x;
  TRY(dnnl_memory_desc_init_by_tag(&user_x, ch->nd, ch->xd, pl->type, plain_tag(ch->nd)));
  ch->ux = new_mem(pl, &user_x, x, xcount);
  if (ch->ux)
    return 0;
  snprintf(err, cap, "oneDNN: memory allocation failed");
fail:
  return -1;
}

/* The convolution's primitive descriptor in the layouts oneDNN picks (format any), with the residual (a sum, which
 * adds what dst holds) and the activation as post-ops: dst = act(conv + scale * dst). */
static int conv_pd(plan *pl, const clconv_conv_desc *d, bool sum, dnnl_primitive_desc_t *pd, char *err, size_t cap) {
  uint32_t xs[5], ws[5], ys[5];
  clconv_conv_shapes(d, xs, ws, ys);
  const int nd = (int)d->ndim + 2, sp = (int)d->ndim;
  uint32_t g = d->groups ? d->groups : 1;
  dnnl_dims_t xd, yd, wd, bd = {(dnnl_dim_t)d->out_channels}, strides, dil, pl_, pr;
  dims_of(xs, nd, xd);
  dims_of(ys, nd, yd);
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
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_memory_desc_t x_any, y_any, w_any, b_md;
  TRY(dnnl_memory_desc_init_by_tag(&x_any, nd, xd, pl->type, dnnl_format_tag_any));
  TRY(dnnl_memory_desc_init_by_tag(&y_any, nd, yd, pl->type, dnnl_format_tag_any));
  TRY(dnnl_memory_desc_init_by_tag(&w_any, wnd, wd, pl->type, dnnl_format_tag_any));
  TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, bd, pl->type, dnnl_a));
  dnnl_convolution_desc_t cd;
  TRY(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &x_any, &w_any,
                                                 d->has_bias ? &b_md : NULL, &y_any, strides, dil, pl_, pr));
  dnnl_alg_kind_t alg;
  float alpha, beta;
  const bool act = eltwise_of(&d->activation, &alg, &alpha, &beta);
  if (sum || act)
    TRY(dnnl_post_ops_create(&po));
  if (sum)
    TRY(dnnl_post_ops_append_sum(po, d->residual_scale != 0.0f ? d->residual_scale : 1.0f));
  if (act)
    TRY(dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, beta));
  if (po) {
    TRY(dnnl_primitive_attr_create(&attr));
    TRY(dnnl_primitive_attr_set_post_ops(attr, po));
  }
  TRY(dnnl_primitive_desc_create(pd, &cd, attr, pl->eng, NULL));
  dnnl_post_ops_destroy(po);
  dnnl_primitive_attr_destroy(attr);
  return 0;
fail:
  if (po)
    dnnl_post_ops_destroy(po);
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  return -1;
}

/* The weights in the convolution's layout (reordered once, outside any timing) and the bias. */
static int conv_weights(plan *pl, const clconv_conv_desc *d, const_dnnl_primitive_desc_t pd, const float *w,
                        const float *b, dnnl_memory_t *wm, dnnl_memory_t *bm, char *err, size_t cap) {
  const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_desc_t user_w, b_md;
  static const dnnl_format_tag_t wtags[] = {dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef};
  dnnl_dims_t bd = {(dnnl_dim_t)d->out_channels};
  size_t wcount = 1;
  for (int i = 0; i < want->ndims; i++)
    wcount *= (size_t)want->dims[i];
  TRY(dnnl_memory_desc_init_by_tag(&user_w, want->ndims, want->dims, pl->type, wtags[want->ndims - 3]));
  TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, bd, pl->type, dnnl_a));
  dnnl_memory_t uw = new_mem(pl, &user_w, w, wcount);
  *wm = new_mem(pl, want, NULL, 0);
  *bm = d->has_bias ? new_mem(pl, &b_md, b, d->out_channels) : NULL;
  if (!uw || !*wm || (d->has_bias && !*bm)) {
    snprintf(err, cap, "oneDNN: memory allocation failed");
    return -1;
  }
  TRY(reorder(pl, uw, *wm, false));
  return 0;
fail:
  return -1;
}

/* The convolution of a conv or layer case with the activation as a post-op, in oneDNN's chosen layouts; the input
 * reordered in the timed steps for the NCHW form (best: already in its layout). */
static int build_conv(plan *pl, const bench_case *c, const float *w, const float *b, const float *z, bool best,
                      chain *ch, char *err, size_t cap) {
  const clconv_conv_desc *d = &c->layer.conv;
  const int nd = ch->nd;
  dnnl_memory_t wm, bm;
  if (conv_pd(pl, d, z != NULL, &ch->conv_pd, err, cap) || conv_weights(pl, d, ch->conv_pd, w, b, &wm, &bm, err, cap))
    return -1;
  dnnl_memory_t src = new_mem(pl, dnnl_primitive_desc_query_md(ch->conv_pd, dnnl_query_src_md, 0), NULL, 0);
  ch->cur_md = dnnl_primitive_desc_query_md(ch->conv_pd, dnnl_query_dst_md, 0);
  ch->cur = new_mem(pl, ch->cur_md, NULL, 0);
  if (!src || !ch->cur) {
    snprintf(err, cap, "oneDNN: memory allocation failed");
    goto fail;
  }
  if (z) { /* the residual into dst, once */
    dnnl_memory_desc_t z_md;
    size_t zcount = 1;
    for (int i = 0; i < nd; i++)
      zcount *= (size_t)ch->yd[i];
    TRY(dnnl_memory_desc_init_by_tag(&z_md, nd, ch->yd, pl->type, plain_tag(nd)));
    dnnl_memory_t zm = new_mem(pl, &z_md, z, zcount);
    if (!zm) {
      snprintf(err, cap, "oneDNN: memory allocation failed");
      goto fail;
    }
    TRY(reorder(pl, zm, ch->cur, false));
  }
  TRY(reorder(pl, ch->ux, src, !best));
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ch->cur}, {DNNL_ARG_BIAS, bm}};
  TRY(add_step(pl, ch->conv_pd, d->has_bias ? 4 : 3, args));
  return 0;
fail:
  return -1;
}

/* A pooling step on src (in whatever layout it has), its output in dst_tag (any: oneDNN's pick). p: with ndim, batch,
 * channels and in_size set. Ceil mode: oneDNN derives the output from the right padding, so the padding makes the
 * size clconv computes. */
static int pool_step(plan *pl, const clconv_pool_desc *p, dnnl_memory_t src, dnnl_format_tag_t dst_tag,
                     dnnl_memory_t *out, char *err, size_t cap) {
  uint32_t pin[5], pout[5];
  clconv_pool_shapes(p, pin, pout);
  const int nd = (int)p->ndim + 2;
  dnnl_dims_t strides, kernel, dil, pl_, pr, od;
  dims_of(pout, nd, od);
  for (int i = 0; i < (int)p->ndim; i++) {
    uint32_t win = p->global ? pin[2 + i] : p->window[i], s = p->stride[i] ? p->stride[i] : win;
    strides[i] = s;
    kernel[i] = win;
    dil[i] = 0;
    pl_[i] = p->pad_before[i];
    pr[i] = (dnnl_dim_t)(pout[2 + i] - 1) * s + win - pin[2 + i] - p->pad_before[i];
  }
  const dnnl_memory_desc_t *src_md;
  dnnl_memory_desc_t dst_md;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_memory_get_memory_desc(src, &src_md);
  TRY(dnnl_memory_desc_init_by_tag(&dst_md, nd, od, pl->type, dst_tag));
  dnnl_alg_kind_t alg = p->kind == CLCONV_POOL_MAX ? dnnl_pooling_max
                        : p->count_include_pad     ? dnnl_pooling_avg_include_padding
                                                   : dnnl_pooling_avg_exclude_padding;
  dnnl_pooling_v2_desc_t desc;
  TRY(dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, alg, src_md, &dst_md, strides, kernel, dil, pl_,
                                        pr));
  TRY(dnnl_primitive_desc_create(&pd, &desc, NULL, pl->eng, NULL));
  const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0),
                           *wsmd = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0);
  dnnl_memory_t ws_mem = wsmd && wsmd->ndims > 0 ? new_mem(pl, wsmd, NULL, 0) : NULL;
  *out = new_mem(pl, dmd, NULL, 0);
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, *out}, {DNNL_ARG_WORKSPACE, ws_mem}};
  return add_step_release(pl, pd, *out != NULL, ws_mem ? 3 : 2, args, err, cap);
fail:
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  return -1;
}

/* A layer's pooling: its descriptor with the convolution's output as input. */
static clconv_pool_desc layer_pool(const clconv_layer_desc *l) {
  uint32_t xs[5], ws[5], ys[5];
  clconv_conv_shapes(&l->conv, xs, ws, ys);
  clconv_pool_desc p = l->pool;
  p.ndim = l->conv.ndim;
  p.batch = ys[0];
  p.channels = ys[1];
  memcpy(p.in_size, ys + 2, p.ndim * sizeof *ys);
  return p;
}

/* The pooling of a pool case (its input in the blocked layout for best, else plain) or after a layer's convolution. */
static int build_pool(plan *pl, const bench_case *c, bool best, chain *ch, char *err, size_t cap) {
  const int nd = ch->nd;
  clconv_pool_desc p = c->op == BENCH_LAYER ? layer_pool(&c->layer) : c->layer.pool;
  if (c->op == BENCH_POOL) {
    dnnl_memory_desc_t pool_src;
    TRY(dnnl_memory_desc_init_by_tag(&pool_src, nd, ch->xd, pl->type, best ? blocked_tag(nd) : plain_tag(nd)));
    ch->cur = new_mem(pl, &pool_src, NULL, 0);
    if (!ch->cur) {
      snprintf(err, cap, "oneDNN: memory allocation failed");
      goto fail;
    }
    TRY(reorder(pl, ch->ux, ch->cur, false)); /* pooling takes plain layouts too: no timed reorder in nchw */
  }
  if (pool_step(pl, &p, ch->cur, c->op == BENCH_POOL && !best ? plain_tag(nd) : dnnl_format_tag_any, &ch->cur, err,
                cap))
    return -1;
  dnnl_memory_get_memory_desc(ch->cur, &ch->cur_md);
  return 0;
fail:
  return -1;
}

/* The NCHW form: the output reordered back to NCHW for the user, timed. */
static int build_output(plan *pl, const bench_case *c, chain *ch, char *err, size_t cap) {
  uint32_t yo[5], xs[5], ws[5];
  if (c->op == BENCH_LAYER)
    clconv_layer_shapes(&c->layer, xs, ws, yo);
  else
    memcpy(yo, ch->ys, sizeof yo);
  dims_of(yo, ch->nd, ch->yd);
  dnnl_memory_desc_t user_y;
  TRY(dnnl_memory_desc_init_by_tag(&user_y, ch->nd, ch->yd, pl->type, plain_tag(ch->nd)));
  dnnl_memory_t uy = new_mem(pl, &user_y, NULL, 0);
  if (!uy) {
    snprintf(err, cap, "oneDNN: memory allocation failed");
    goto fail;
  }
  TRY(reorder(pl, ch->cur, uy, true));
  return 0;
fail:
  return -1;
}

static int build(plan *pl, const bench_case *c, const float *x, const float *w, const float *b, const float *z,
                 bool best, char *err, size_t cap) {
  static const dnnl_data_type_t types[CLCONV_DTYPE_COUNT] = {dnnl_f32, dnnl_f16, dnnl_bf16};
  pl->type = types[c->dtype];
  TRY(dnnl_engine_create(&pl->eng, dnnl_cpu, 0));
  TRY(dnnl_stream_create(&pl->stream, pl->eng, dnnl_stream_default_flags));
  if (c->op == BENCH_ACT)
    return build_act(pl, c, x, err, cap);
  chain ch = {0};
  int rc = chain_input(pl, c, x, &ch, err, cap);
  if (!rc && c->op != BENCH_POOL)
    rc = build_conv(pl, c, w, b, z, best, &ch, err, cap);
  if (!rc && (c->op == BENCH_POOL || c->op == BENCH_LAYER))
    rc = build_pool(pl, c, best, &ch, err, cap);
  if (!rc && !best && c->op != BENCH_POOL)
    rc = build_output(pl, c, &ch, err, cap);
  chain_free(&ch);
  return rc;
fail:
  return -1;
}

/* One execution of every step of a plan, in seconds. */
static int run_plan(plan *pl, double *seconds, char *err, size_t cap) {
  double t0 = bench_now_s();
  for (size_t i = 0; i < pl->n_steps; i++)
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

int bench_peer_onednn_open(const bench_case *c, const float *x, const float *w, const float *b, const float *z,
                           bench_peer **out, char *err, size_t cap) {
  *out = NULL;
  bench_peer *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, cap, "out of host memory");
    return -1;
  }
  for (int v = 0; v < BENCH_PEER_VARIANTS; v++) {
    double dt;
    /* two untimed calls: the first ones pay for lazy initialisation */
    if (build(&p->plans[v], c, x, w, b, z, v == BENCH_PEER_BEST, err, cap) || run_plan(&p->plans[v], &dt, err, cap) ||
        run_plan(&p->plans[v], &dt, err, cap)) {
      bench_peer_close(p);
      return -1;
    }
  }
  const char *ref = p->plans[BENCH_PEER_BEST].ref_impl;
  if (ref[0])
    snprintf(err, cap, "oneDNN has no optimised %s implementation of this case here; it runs '%s'",
             clconv_dtype_name(c->dtype), ref);
  else if (cap)
    err[0] = '\0';
  *out = p;
  return 0;
}

int bench_peer_call(bench_peer *p, int variant, double *seconds, char *err, size_t cap) {
  return run_plan(&p->plans[variant], seconds, err, cap);
}

void bench_peer_onednn_rest(void) {
#if defined(CLCONV_BENCH_OPENMP) && DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  omp_pause_resource_all(omp_pause_soft); /* refused (nonzero) inside a parallel region: never the case here */
#endif
}

void bench_peer_close(bench_peer *p) {
  if (!p)
    return;
  for (int v = 0; v < BENCH_PEER_VARIANTS; v++)
    free_plan(&p->plans[v]);
  free(p);
}

/* ---- networks ------------------------------------------------------------------------------------------------- */
struct bench_peer_net {
  plan pl;
  size_t n; /* layers */
};

static bool same_md(dnnl_memory_t a, const dnnl_memory_desc_t *b) {
  const dnnl_memory_desc_t *m;
  dnnl_memory_get_memory_desc(a, &m);
  return dnnl_memory_desc_equal(m, b) != 0;
}

/* mem itself when it has the layout want, else a new memory that a timed reorder fills from it. */
static dnnl_memory_t in_layout(plan *pl, dnnl_memory_t mem, const dnnl_memory_desc_t *want) {
  if (same_md(mem, want))
    return mem;
  dnnl_memory_t m = new_mem(pl, want, NULL, 0);
  return m && reorder(pl, mem, m, true) == dnnl_success ? m : NULL;
}

/* A conv or layer's steps: the convolution reading t[src] (reordered if it wants another layout), summing t[add] in
 * place or into a copy, then a layer's pooling. *out: the layer's output. */
static int net_conv(plan *pl, const bench_net_layer *l, dnnl_memory_t *t, const float *w, const float *b,
                    dnnl_memory_t *out, char *err, size_t cap) {
  const clconv_conv_desc *d = &l->c.layer.conv;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_memory_t wm, bm;
  if (conv_pd(pl, d, l->add != 0, &pd, err, cap) || conv_weights(pl, d, pd, w, b, &wm, &bm, err, cap))
    goto fail;
  const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  dnnl_memory_t src = in_layout(pl, t[l->src], dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)), dst;
  if (l->in_place && same_md(t[l->add], dst_md))
    dst = t[l->add];
  else if ((dst = new_mem(pl, dst_md, NULL, 0)) && l->add && reorder(pl, t[l->add], dst, true) != dnnl_success)
    dst = NULL;
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dst}, {DNNL_ARG_BIAS, bm}};
  *out = dst;
  if (add_step_release(pl, pd, src && dst, d->has_bias ? 4 : 3, args, err, cap))
    return -1;
  if (l->c.op != BENCH_LAYER)
    return 0;
  clconv_pool_desc p = layer_pool(&l->c.layer);
  return pool_step(pl, &p, dst, dnnl_format_tag_any, out, err, cap);
fail:
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  return -1;
}

/* An activation on its own: eltwise in the source's layout. */
static int net_act(plan *pl, const bench_net_layer *l, dnnl_memory_t src, dnnl_memory_t *out, char *err, size_t cap) {
  const dnnl_memory_desc_t *md;
  dnnl_memory_get_memory_desc(src, &md);
  dnnl_alg_kind_t alg = dnnl_eltwise_linear;
  float alpha = 1.0f, beta = 0.0f;
  eltwise_of(&l->c.act, &alg, &alpha, &beta);
  dnnl_primitive_desc_t pd = NULL;
  dnnl_eltwise_desc_t ed;
  TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, md, alpha, beta));
  TRY(dnnl_primitive_desc_create(&pd, &ed, NULL, pl->eng, NULL));
  *out = new_mem(pl, md, NULL, 0);
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, *out}};
  return add_step_release(pl, pd, *out != NULL, 2, args, err, cap);
fail:
  if (pd)
    dnnl_primitive_desc_destroy(pd);
  return -1;
}

int bench_peer_onednn_net_open(const bench_net *net, const float *x, float *const *w, float *const *b,
                               bench_peer_net **out, char *err, size_t cap) {
  *out = NULL;
  bench_peer_net *p = calloc(1, sizeof *p);
  dnnl_memory_t *t = calloc(net->n + 1, sizeof *t);
  if (!p || !t) {
    free(p);
    free(t);
    snprintf(err, cap, "out of host memory");
    return -1;
  }
  p->n = net->n;
  plan *pl = &p->pl;
  pl->type = dnnl_f32;
  TRY(dnnl_engine_create(&pl->eng, dnnl_cpu, 0));
  TRY(dnnl_stream_create(&pl->stream, pl->eng, dnnl_stream_default_flags));
  dnnl_dims_t xd;
  dnnl_memory_desc_t x_md;
  dims_of(net->in, (int)net->nd, xd);
  TRY(dnnl_memory_desc_init_by_tag(&x_md, (int)net->nd, xd, pl->type, plain_tag((int)net->nd)));
  size_t xcount = 1;
  for (uint32_t i = 0; i < net->nd; i++)
    xcount *= net->in[i];
  if (!(t[0] = new_mem(pl, &x_md, x, xcount))) {
    snprintf(err, cap, "oneDNN: memory allocation failed");
    goto fail;
  }
  for (size_t i = 0; i < net->n; i++) {
    const bench_net_layer *l = &net->layers[i];
    pl->layer = i;
    int rc;
    if (l->c.op == BENCH_CONV || l->c.op == BENCH_LAYER)
      rc = net_conv(pl, l, t, w[i], b[i], &t[i + 1], err, cap);
    else if (l->c.op == BENCH_POOL)
      rc = pool_step(pl, &l->c.layer.pool, t[l->src], dnnl_format_tag_any, &t[i + 1], err, cap);
    else
      rc = net_act(pl, l, t[l->src], &t[i + 1], err, cap);
    if (rc)
      goto fail;
  }
  free(t);
  t = NULL;
  double dt;
  if (run_plan(pl, &dt, err, cap) || run_plan(pl, &dt, err, cap))
    goto fail;
  *out = p;
  return 0;
fail:
  free(t);
  bench_peer_net_close(p);
  return -1;
}

int bench_peer_net_call(bench_peer_net *p, double *seconds, double *layer_s, char *err, size_t cap) {
  plan *pl = &p->pl;
  for (size_t i = 0; i < p->n; i++)
    layer_s[i] = 0.0;
  double t0 = bench_now_s(), t = t0;
  for (size_t i = 0; i < pl->n_steps; i++) {
    const prim *s = &pl->steps[i];
    TRY(dnnl_primitive_execute(s->p, pl->stream, s->n_args, s->args));
    if (i + 1 == pl->n_steps || pl->steps[i + 1].layer != s->layer) { /* the layer's last step */
      TRY(dnnl_stream_wait(pl->stream));
      double now = bench_now_s();
      layer_s[s->layer] = now - t;
      t = now;
    }
  }
  *seconds = t - t0;
  return 0;
fail:
  return -1;
}

void bench_peer_net_close(bench_peer_net *p) {
  if (!p)
    return;
  free_plan(&p->pl);
  free(p);
}
