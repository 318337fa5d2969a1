/* Max and average pooling: descriptor checks, helpers, op objects. */
#include "internal.h"

clconv_status clconv__pool_check(clconv_context *ctx, const char *call, const clconv_pool_desc *d,
                                 clconv__pool_geom *g) {
  CLCONV__CHECK(ctx, d, CLCONV_ERR_INVALID_ARGUMENT, "%s: desc is NULL", call);
  memset(g, 0, sizeof *g);
  CLCONV__CHECK(ctx, d->ndim >= 1 && d->ndim <= 3, CLCONV_ERR_INVALID_ARGUMENT, "%s: ndim = %u, must be 1..3", call,
                d->ndim);
  CLCONV__CHECK(ctx, d->channels >= 1 && d->channels <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: channels = %u, must be 1..%u", call, d->channels, CLCONV__MAX_FIELD);
  CLCONV__CHECK(ctx, d->batch <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: batch = %u exceeds %u (a negative value cast to unsigned?)", call, d->batch, CLCONV__MAX_FIELD);
  CLCONV__CHECK(ctx, d->kind == CLCONV_POOL_MAX || d->kind == CLCONV_POOL_AVG, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: kind = %d, must be 0 (max) or 1 (average)", call, (int)d->kind);
  g->ndim = d->ndim;
  g->avg = d->kind == CLCONV_POOL_AVG;
  g->n = d->batch ? d->batch : 1;
  g->c = d->channels;
  CLCONV__TRY(clconv__unused_axes(ctx, call, "in_size", d->in_size, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "window", d->window, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "stride", d->stride, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "pad_before", d->pad_before, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "pad_after", d->pad_after, d->ndim));
  for (uint32_t a = 0; a < 3; a++)
    g->in[a] = g->win[a] = g->stride[a] = g->out[a] = 1;
  for (uint32_t i = 0; i < d->ndim; i++) {
    uint32_t a = 3 - d->ndim + i;
    CLCONV__TRY(clconv__axis_field(ctx, call, "in_size", i, d->in_size[i], 0, &g->in[a]));
    if (d->global) {
      CLCONV__CHECK(
          ctx, !d->window[i] && !d->stride[i] && !d->pad_before[i] && !d->pad_after[i], CLCONV_ERR_INVALID_ARGUMENT,
          "%s: global pooling takes its window from in_size: window, stride and pads of axis %u must be 0", call, i);
      g->win[a] = g->in[a];
      continue;
    }
    CLCONV__TRY(clconv__axis_field(ctx, call, "window", i, d->window[i], 0, &g->win[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "stride", i, d->stride[i], g->win[a], &g->stride[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "pad_before", i, d->pad_before[i], CLCONV__ZERO_OK, &g->pad[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "pad_after", i, d->pad_after[i], CLCONV__ZERO_OK, &g->pad_after[a]));
    /* A pad as wide as the window would allow windows of padding only: max of nothing, average over zero. */
    CLCONV__CHECK(ctx, g->pad[a] < g->win[a] && g->pad_after[a] < g->win[a], CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: axis %u: pad_before = %u, pad_after = %u, each must be < window = %u", call, i, g->pad[a],
                  g->pad_after[a], g->win[a]);
    int64_t padded = (int64_t)g->in[a] + g->pad[a] + g->pad_after[a];
    CLCONV__CHECK(ctx, g->win[a] <= padded, CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: axis %u: window %u exceeds padded input %lld (in_size %u + pad %u + %u)", call, i, g->win[a],
                  (long long)padded, g->in[a], g->pad[a], g->pad_after[a]);
    int64_t span = padded - g->win[a], s = g->stride[a];
    int64_t out = (d->ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* PyTorch's rule: in ceil mode the last window must start inside the input or the left padding. */
    if (d->ceil_mode && (out - 1) * s >= (int64_t)g->in[a] + g->pad[a])
      out--;
    g->out[a] = (uint32_t)out;
    g->padded_max = padded > g->padded_max ? padded : g->padded_max;
  }
  uint32_t src[5], dst[5];
  src[0] = dst[0] = g->n;
  src[1] = dst[1] = g->c;
  for (uint32_t i = 0; i < d->ndim; i++) {
    src[2 + i] = g->in[3 - d->ndim + i];
    dst[2 + i] = g->out[3 - d->ndim + i];
  }
  if (!clconv__count(src, d->ndim + 2, &g->src_count) || !clconv__count(dst, d->ndim + 2, &g->dst_count) ||
      g->src_count > SIZE_MAX / sizeof(float))
    return clconv__fail(ctx, CLCONV_ERR_SIZE_OVERFLOW, "%s: tensor byte counts overflow size_t", call);
  return CLCONV_OK;
}

clconv_status clconv_pool_validate(const clconv_pool_desc *d) {
  clconv__pool_geom g;
  return clconv__pool_check(NULL, "pool_validate", d, &g);
}

clconv_status clconv_pool_output_size(const clconv_pool_desc *d, uint32_t out_size[3]) {
  clconv__pool_geom g;
  CLCONV__CHECK(NULL, out_size, CLCONV_ERR_INVALID_ARGUMENT, "pool_output_size: out_size is NULL");
  CLCONV__TRY(clconv__pool_check(NULL, "pool_output_size", d, &g));
  for (uint32_t i = 0; i < 3; i++)
    out_size[i] = i < g.ndim ? g.out[3 - g.ndim + i] : 0;
  return CLCONV_OK;
}

clconv_status clconv_pool_shapes(const clconv_pool_desc *d, uint32_t src[5], uint32_t dst[5]) {
  clconv__pool_geom g;
  CLCONV__CHECK(NULL, src && dst, CLCONV_ERR_INVALID_ARGUMENT, "pool_shapes: an output array is NULL");
  CLCONV__TRY(clconv__pool_check(NULL, "pool_shapes", d, &g));
  src[0] = dst[0] = g.n;
  src[1] = dst[1] = g.c;
  for (uint32_t i = 0; i < 3; i++) {
    src[2 + i] = i < g.ndim ? g.in[3 - g.ndim + i] : 0;
    dst[2 + i] = i < g.ndim ? g.out[3 - g.ndim + i] : 0;
  }
  return CLCONV_OK;
}

clconv_status clconv_pool_tolerance(const clconv_pool_desc *d, clconv_tolerance *tol) {
  clconv__pool_geom g;
  CLCONV__CHECK(NULL, tol, CLCONV_ERR_INVALID_ARGUMENT, "pool_tolerance: tol is NULL");
  CLCONV__TRY(clconv__pool_check(NULL, "pool_tolerance", d, &g));
  tol->reduction_len = d->kind == CLCONV_POOL_AVG ? (uint64_t)g.win[0] * g.win[1] * g.win[2] : 0;
  tol->lipschitz = 1.0;
  tol->rel_factor = 4.0;
  return CLCONV_OK;
}

/* ---- op objects ------------------------------------------------------------------------------------------- */
struct clconv_pool {
  clconv_context *ctx;
  clconv_pool_desc desc;
  clconv__pool_geom g;
  clconv__kernel kernel;
};

clconv_status clconv_pool_create(clconv_context *ctx, const clconv_pool_desc *desc, clconv_pool **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "pool_create: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "pool_create: out is NULL");
  *out = NULL;
  clconv__pool_geom g;
  CLCONV__TRY(clconv__pool_check(ctx, "pool_create", desc, &g));
  size_t most = g.src_count > g.dst_count ? g.src_count : g.dst_count;
  CLCONV__CHECK(ctx, most <= CLCONV__MAX_KERNEL_ELEMS && g.padded_max <= (int64_t)CLCONV__MAX_KERNEL_ELEMS,
                CLCONV_ERR_UNSUPPORTED,
                "pool_create: largest tensor %zu elements, largest padded extent %lld; the kernels index with "
                "32-bit ints (max %zu)",
                most, (long long)g.padded_max, CLCONV__MAX_KERNEL_ELEMS);
  clconv_pool *op = clconv__calloc(1, sizeof *op);
  if (!op)
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "pool_create: out of host memory");
  op->ctx = ctx;
  op->desc = *desc;
  op->g = g;
  /* the usual windows along W as compile-time constants (kernels/pool.cl); few programs: a window of 2 or 3 at
   * stride 1 or 2 */
  char options[80];
  int n = snprintf(options, sizeof options, "-DNDIM=%u -DPOOL_AVG=%d", g.ndim, desc->kind == CLCONV_POOL_AVG);
  if ((g.win[2] == 2 || g.win[2] == 3) && g.stride[2] <= 2)
    snprintf(options + n, sizeof options - (size_t)n, " -DPOOL_KW=%u -DPOOL_SW=%u", g.win[2], g.stride[2]);
  clconv_status s = clconv__kernel_create(ctx, CLCONV__FAMILY_POOL, options, "clconv_pool", &op->kernel);
  if (s != CLCONV_OK) {
    clconv__free(op);
    return s;
  }
  *out = op;
  return CLCONV_OK;
}

void clconv_pool_destroy(clconv_pool *op) {
  if (!op)
    return;
  clconv__kernel_release(&op->kernel);
  clconv__free(op);
}

#define CLCONV__POOL_CPU_ROWS 4 /* output rows per work-item on CPUs (docs/PERFORMANCE.md) */

/* The launch itself, for pool_run and the layer (which pools its own intermediate tensor). */
clconv_status clconv__pool_launch(clconv_pool *op, const char *call, cl_mem src, cl_mem dst) {
  const clconv__pool_geom *g = &op->g;
  cl_int4 isz = clconv__int4(g->in), osz = clconv__int4(g->out), win = clconv__int4(g->win),
          str = clconv__int4(g->stride), pad = clconv__int4(g->pad), pad_after = clconv__int4(g->pad_after);
  /* output rows per work-item: on a CPU, several spread the per-work-item setup; a GPU wants the work-items */
  cl_int cip = op->desc.count_include_pad ? 1 : 0, rows = clconv__is_gpu(&op->ctx->prof) ? 1 : CLCONV__POOL_CPU_ROWS;
  const clconv__arg args[] = {
      {sizeof(cl_mem), &src}, {sizeof(cl_mem), &dst}, {sizeof isz, &isz}, {sizeof osz, &osz},
      {sizeof win, &win},     {sizeof str, &str},     {sizeof pad, &pad}, {sizeof pad_after, &pad_after},
      {sizeof cip, &cip},     {sizeof rows, &rows},
  };
  /* PW = 16 outputs along W per work-item (kernels/pool.cl) */
  const size_t tiles = ((size_t)g->out[2] + 15) / 16,
               range[3] = {tiles, (size_t)g->out[0] * (((size_t)g->out[1] + (size_t)rows - 1) / (size_t)rows),
                           (size_t)g->n * g->c};
  size_t local[3];
  clconv__row_local(&op->ctx->prof, range[0], range[1], local);
  return clconv__kernel_launch(op->ctx, call, &op->kernel, args, sizeof args / sizeof args[0], 3, range, local);
}

clconv_status clconv_pool_run(clconv_pool *op, clconv_tensor *src, clconv_tensor *dst) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "pool_run: op is NULL");
  uint32_t ss[5], ds[5];
  clconv_pool_shapes(&op->desc, ss, ds);
  CLCONV__TRY(clconv__tensor_expect(op->ctx, "pool_run", "src", src, op->g.ndim + 2, ss));
  CLCONV__TRY(clconv__tensor_expect(op->ctx, "pool_run", "dst", dst, op->g.ndim + 2, ds));
  CLCONV__CHECK(op->ctx, dst->mem != src->mem, CLCONV_ERR_INVALID_ARGUMENT,
                "pool_run: dst aliases src; pooling cannot run in place");
  return clconv__pool_launch(op, "pool_run", src->mem, dst->mem);
}

CLCONV__PLAN_OPS(plan_ops, clconv_pool, clconv_pool_create, clconv_pool_destroy);

clconv_status clconv_pool_forward(clconv_context *ctx, const clconv_pool_desc *desc, clconv_tensor *src,
                                  clconv_tensor *dst) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "pool_forward: ctx is NULL");
  CLCONV__CHECK(ctx, desc, CLCONV_ERR_INVALID_ARGUMENT, "pool_forward: desc is NULL");
  clconv__plan_key key = {0};
  clconv__key_pool(&key, desc);
  void *op;
  CLCONV__TRY(clconv__plan_op(ctx, &plan_ops, &key, desc, &op));
  return clconv_pool_run(op, src, dst);
}
