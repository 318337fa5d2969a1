/* The layer of the notes: convolution (with its fused activation) -> pooling. */
#include "internal.h"

/* The pooling runs inside the convolution's kernel where it can (clconv__conv_create_pooled: one launch, no
 * intermediate tensor), else as its own op on the convolution's output. */
struct clconv_layer {
  clconv_context *ctx;
  clconv_conv *conv;
  clconv_pool *pool;  /* NULL: fused into conv */
  clconv_tensor *mid; /* conv output, pool input; NULL when fused */
  uint32_t dst_dims[5], ndim;
  clconv_dtype dtype;
};

void clconv_layer_destroy(clconv_layer *op) {
  if (!op)
    return;
  clconv_tensor_destroy(op->mid);
  clconv_pool_destroy(op->pool);
  clconv_conv_destroy(op->conv);
  clconv__free(op);
}

clconv_status clconv_layer_create(clconv_context *ctx, const clconv_layer_desc *desc, clconv_layer **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "layer_create: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "layer_create: out is NULL");
  *out = NULL;
  clconv_pool_desc pool;
  CLCONV__TRY(clconv__layer_pool_desc(ctx, "layer_create", desc, &pool));
  clconv_layer *op = clconv__calloc(1, sizeof *op);
  if (!op)
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "layer_create: out of host memory");
  op->ctx = ctx;
  op->ndim = desc->conv.ndim + 2;
  op->dtype = desc->conv.dtype;
  uint32_t s[5], w[5], mid[5], pin[5];
  clconv_conv_shapes(&desc->conv, s, w, mid);
  clconv_pool_shapes(&pool, pin, op->dst_dims);
  clconv__pool_geom pg;
  clconv_status st = clconv__pool_check(ctx, "layer_create", &pool, &pg);
  if (st == CLCONV_OK)
    st = clconv__conv_create_pooled(ctx, &desc->conv, &pg, &op->conv);
  if (st == CLCONV_OK && !op->conv) {
    st = clconv__conv_create_mid(ctx, &desc->conv, &op->conv);
    if (st == CLCONV_OK)
      st = clconv__pool_create_mid(ctx, &pool, &op->pool);
    if (st == CLCONV_OK)
      st = clconv_tensor_create(ctx, CLCONV_F32, op->ndim, mid, &op->mid);
  }
  if (st != CLCONV_OK) {
    clconv_layer_destroy(op);
    return st;
  }
  *out = op;
  return CLCONV_OK;
}

clconv_status clconv_layer_run(clconv_layer *op, clconv_tensor *src, clconv_tensor *weights, clconv_tensor *bias,
                               clconv_tensor *residual, clconv_tensor *dst) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "layer_run: op is NULL");
  /* Check dst before the conv runs, so a bad dst fails with nothing enqueued. */
  CLCONV__CHECK(op->ctx, src, CLCONV_ERR_INVALID_ARGUMENT, "layer_run: src is NULL");
  CLCONV__TRY(clconv__tensor_expect(op->ctx, "layer_run", "dst", dst, op->dtype, op->ndim, op->dst_dims));
  CLCONV__CHECK(op->ctx,
                dst->mem != src->mem && (!weights || dst->mem != weights->mem) && (!bias || dst->mem != bias->mem) &&
                    (!residual || dst->mem != residual->mem),
                CLCONV_ERR_INVALID_ARGUMENT, "layer_run: dst aliases an input");
  if (!op->pool)
    return clconv_conv_run(op->conv, src, weights, bias, residual, dst);
  CLCONV__TRY(clconv_conv_run(op->conv, src, weights, bias, residual, op->mid));
  return clconv__pool_launch(op->pool, "layer_run", op->mid->mem, dst->mem);
}

clconv_status clconv_layer_set_weights(clconv_layer *op, clconv_tensor *weights, clconv_tensor *bias) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "layer_set_weights: op is NULL");
  return clconv_conv_set_weights(op->conv, weights, bias);
}

CLCONV__PLAN_OPS(plan_ops, clconv_layer, clconv_layer_create, clconv_layer_destroy);

/* The op (its convolution, pooling and intermediate tensor) is kept (plan.c). */
clconv_status clconv_layer_forward(clconv_context *ctx, const clconv_layer_desc *desc, clconv_tensor *src,
                                   clconv_tensor *weights, clconv_tensor *bias, clconv_tensor *residual,
                                   clconv_tensor *dst) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "layer_forward: ctx is NULL");
  CLCONV__CHECK(ctx, desc, CLCONV_ERR_INVALID_ARGUMENT, "layer_forward: desc is NULL");
  clconv__plan_key key = {0};
  clconv__key_conv(&key, &desc->conv);
  clconv__key_pool(&key, &desc->pool);
  void *op;
  CLCONV__TRY(clconv__plan_op(ctx, &plan_ops, &key, desc, &op));
  return clconv_layer_run(op, src, weights, bias, residual, dst);
}

const char *clconv_layer_kernel(const clconv_layer *op) { return op ? clconv_conv_kernel(op->conv) : ""; }
