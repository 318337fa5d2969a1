/* Activations over whole tensors (the table and its functions: activation.c). */
#include "internal.h"

#include <errno.h>
#include <math.h>

struct clconv_act {
  clconv_context *ctx;
  clconv_activation act; /* defaults applied */
  clconv__kernel kernel;
};

clconv_status clconv_act_create(clconv_context *ctx, const clconv_activation *act, clconv_act **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "act_create: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "act_create: out is NULL");
  *out = NULL;
  CLCONV__CHECK(ctx, act, CLCONV_ERR_INVALID_ARGUMENT, "act_create: act is NULL");
  clconv_activation eff;
  CLCONV__TRY(clconv__act_check(ctx, "act_create", act, &eff));
  clconv_act *op = clconv__calloc(1, sizeof *op);
  if (!op)
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "act_create: out of host memory");
  op->ctx = ctx;
  op->act = eff;
  char options[32];
  snprintf(options, sizeof options, CLCONV__ACT_OPTION_FMT, (int)eff.kind);
  clconv_status s = clconv__kernel_create(ctx, CLCONV__FAMILY_ACT, options, "clconv_act", &op->kernel);
  if (s != CLCONV_OK) {
    clconv__free(op);
    return s;
  }
  *out = op;
  return CLCONV_OK;
}

void clconv_act_destroy(clconv_act *op) {
  if (!op)
    return;
  clconv__kernel_release(&op->kernel);
  clconv__free(op);
}

clconv_status clconv_act_run(clconv_act *op, clconv_tensor *src, clconv_tensor *dst) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "act_run: op is NULL");
  clconv_context *ctx = op->ctx;
  CLCONV__CHECK(ctx, src && dst, CLCONV_ERR_INVALID_ARGUMENT, "act_run: src or dst is NULL");
  CLCONV__CHECK(ctx, src->ctx == ctx && dst->ctx == ctx, CLCONV_ERR_WRONG_CONTEXT,
                "act_run: src or dst belongs to another clconv context");
  CLCONV__CHECK(ctx, src->count == dst->count, CLCONV_ERR_SHAPE_MISMATCH, "act_run: src has %zu elements, dst has %zu",
                src->count, dst->count);
  CLCONV__CHECK(ctx, src->count <= CLCONV__MAX_KERNEL_ELEMS, CLCONV_ERR_UNSUPPORTED,
                "act_run: %zu elements; the kernels index with 32-bit ints (max %zu)", src->count,
                CLCONV__MAX_KERNEL_ELEMS);
  cl_int total = (cl_int)src->count;
  const clconv__arg args[] = {{sizeof(cl_mem), &src->mem},
                              {sizeof(cl_mem), &dst->mem},
                              {sizeof(float), &op->act.alpha},
                              {sizeof(float), &op->act.beta},
                              {sizeof total, &total}};
  return clconv__kernel_launch(ctx, "act_run", &op->kernel, args, sizeof args / sizeof args[0], 1,
                               &(size_t){(src->count + 15) / 16}, NULL);
}

CLCONV__PLAN_OPS(plan_ops, clconv_act, clconv_act_create, clconv_act_destroy);

clconv_status clconv_act_forward(clconv_context *ctx, const clconv_activation *act, clconv_tensor *src,
                                 clconv_tensor *dst) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "act_forward: ctx is NULL");
  CLCONV__CHECK(ctx, act, CLCONV_ERR_INVALID_ARGUMENT, "act_forward: act is NULL");
  clconv__plan_key key = {0};
  clconv__key_act(&key, act);
  void *op;
  CLCONV__TRY(clconv__plan_op(ctx, &plan_ops, &key, act, &op));
  return clconv_act_run(op, src, dst);
}
