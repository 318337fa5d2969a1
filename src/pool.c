/* Max and average pooling: the op (its descriptor checks: desc.c). */
#include "internal.h"

/* ---- op objects ------------------------------------------------------------------------------------------- */
struct clconv_pool {
  clconv_context *ctx;
  clconv_pool_desc desc;
  clconv__pool_geom g;
  clconv__kernel kernel;
  clconv_dtype src_dt; /* the descriptor's, or float32 for a layer's intermediate */
  bool plane;          /* one window over each whole unpadded plane: clconv_pool_plane, a reduction */
  uint32_t rows;       /* else output rows per work-item (RT) */
};

#define CLCONV__POOL_CPU_ROWS 4 /* output rows per work-item on CPUs (docs/PERFORMANCE.md) */

static clconv_status create_op(clconv_context *ctx, const clconv_pool_desc *desc, bool mid, clconv_pool **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "pool_create: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "pool_create: out is NULL");
  *out = NULL;
  clconv__pool_geom g;
  CLCONV__TRY(clconv__pool_check(ctx, "pool_create", desc, &g));
  CLCONV__TRY(
      clconv__index_check(ctx, "pool_create", g.src_count > g.dst_count ? g.src_count : g.dst_count, g.padded_max));
  clconv_pool *op = clconv__calloc(1, sizeof *op);
  if (!op)
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "pool_create: out of host memory");
  op->ctx = ctx;
  op->desc = *desc;
  op->g = g;
  op->src_dt = mid ? CLCONV_F32 : g.dt;
  /* the usual square windows as compile-time constants (kernels/pool.cl): a window of 2 or 3 at stride 1 or 2, or
   * of 4 at stride 4, along H and W alike (W alone in 1-D): few programs */
  op->plane = true;
  for (int a = 0; a < 3; a++)
    op->plane = op->plane && g.win[a] == g.in[a] && !g.pad[a] && !g.pad_after[a];
  char options[112];
  int n = snprintf(options, sizeof options, "-DNDIM=%u -DPOOL_AVG=%d", op->plane ? 1 : g.ndim,
                   desc->kind == CLCONV_POOL_AVG);
  if (op->plane)
    snprintf(options + n, sizeof options - (size_t)n, " -DPOOL_PLANE");
  else {
    /* output rows per work-item: on a CPU, several share their input rows; a GPU wants the work-items */
    op->rows = clconv__is_gpu(&ctx->prof) || g.ndim == 1 ? 1 : CLCONV__POOL_CPU_ROWS;
    n += snprintf(options + n, sizeof options - (size_t)n, " -DRT=%u", op->rows);
    bool square = ((g.win[2] == 2 || g.win[2] == 3) && g.stride[2] <= 2) || (g.win[2] == 4 && g.stride[2] == 4);
    if (g.ndim >= 2)
      square = square && g.win[1] == g.win[2] && g.stride[1] == g.stride[2];
    if (square)
      snprintf(options + n, sizeof options - (size_t)n, " -DPOOL_K=%u -DPOOL_S=%u", g.win[2], g.stride[2]);
  }
  n = (int)strlen(options);
  clconv__dtype_options(op->src_dt, g.dt, options + n, sizeof options - (size_t)n);
  clconv_status s = clconv__kernel_create(ctx, CLCONV__FAMILY_POOL, options,
                                          op->plane ? "clconv_pool_plane" : "clconv_pool", &op->kernel);
  if (s != CLCONV_OK) {
    clconv__free(op);
    return s;
  }
  *out = op;
  return CLCONV_OK;
}

clconv_status clconv_pool_create(clconv_context *ctx, const clconv_pool_desc *desc, clconv_pool **out) {
  return create_op(ctx, desc, false, out);
}

clconv_status clconv__pool_create_mid(clconv_context *ctx, const clconv_pool_desc *desc, clconv_pool **out) {
  return create_op(ctx, desc, true, out);
}

void clconv_pool_destroy(clconv_pool *op) {
  if (!op)
    return;
  clconv__kernel_release(&op->kernel);
  clconv__free(op);
}

/* The launch itself, for pool_run and the layer (which pools its own intermediate tensor). */
clconv_status clconv__pool_launch(clconv_pool *op, const char *call, cl_mem src, cl_mem dst) {
  const clconv__pool_geom *g = &op->g;
  if (op->plane) { /* one work-item per plane, in work-groups of 64 (fewer where the device allows fewer) */
    cl_int plane = (cl_int)(g->in[0] * g->in[1] * g->in[2]), total = (cl_int)(g->n * g->c);
    const clconv__arg args[] = {
        {sizeof(cl_mem), &src}, {sizeof(cl_mem), &dst}, {sizeof plane, &plane}, {sizeof total, &total}};
    size_t local = op->kernel.local_size < 64 ? op->kernel.local_size : 64;
    size_t range = ((size_t)total + local - 1) / local * local;
    return clconv__kernel_launch(op->ctx, call, &op->kernel, args, 4, 1, &range, &local);
  }
  cl_int4 isz = clconv__int4(g->in), osz = clconv__int4(g->out), win = clconv__int4(g->win),
          str = clconv__int4(g->stride), pad = clconv__int4(g->pad), pad_after = clconv__int4(g->pad_after);
  cl_int cip = op->desc.count_include_pad ? 1 : 0;
  const clconv__arg args[] = {
      {sizeof(cl_mem), &src}, {sizeof(cl_mem), &dst}, {sizeof isz, &isz}, {sizeof osz, &osz},
      {sizeof win, &win},     {sizeof str, &str},     {sizeof pad, &pad}, {sizeof pad_after, &pad_after},
      {sizeof cip, &cip},
  };
  /* PW = 16 outputs along W per work-item (kernels/pool.cl) */
  size_t range[3] = {0, 0, (size_t)g->n * g->c}, local[3];
  clconv__row_range(&op->ctx->prof, ((size_t)g->out[2] + 15) / 16,
                    (size_t)g->out[0] * (((size_t)g->out[1] + op->rows - 1) / op->rows), range, local);
  return clconv__kernel_launch(op->ctx, call, &op->kernel, args, sizeof args / sizeof args[0], 3, range, local);
}

clconv_status clconv_pool_run(clconv_pool *op, clconv_tensor *src, clconv_tensor *dst) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "pool_run: op is NULL");
  uint32_t ss[5], ds[5];
  clconv_pool_shapes(&op->desc, ss, ds);
  CLCONV__TRY(clconv__tensor_expect(op->ctx, "pool_run", "src", src, op->g.dt, op->g.ndim + 2, ss));
  CLCONV__TRY(clconv__tensor_expect(op->ctx, "pool_run", "dst", dst, op->g.dt, op->g.ndim + 2, ds));
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
