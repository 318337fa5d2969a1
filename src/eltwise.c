/* Activations over whole tensors (the table and its functions: activation.c). */
#include "internal.h"

#include <errno.h>
#include <math.h>

/* Runs of 16 elements per work-item on a CPU (one on a GPU, where neighbouring work-items read neighbouring runs):
 * PoCL's cost per work-group (some 10 ns) and per work-item was a large share of one run's. With 16 runs each,
 * ReLU over 64 x 112² took 0.080 ms of device time where it took 0.094 (64 runs: no better), over 3 x 111 x 97
 * 0.007 where 0.022. */
#define CLCONV__ACT_CPU_RUNS 16

struct clconv_act {
  clconv_context *ctx;
  clconv_activation act;                     /* defaults applied */
  clconv__kernel kernel[CLCONV_DTYPE_COUNT]; /* per element type: float32's at creation, the others at first use */
};

/* The kernel for tensors of type dt, built on first use. */
static clconv_status act_kernel(clconv_act *op, clconv_dtype dt, clconv__kernel **k) {
  *k = &op->kernel[dt];
  if ((*k)->kernel)
    return CLCONV_OK;
  char options[64];
  int n = snprintf(options, sizeof options, CLCONV__ACT_OPTION_FMT, (int)op->act.kind);
  clconv__dtype_options(dt, dt, options + n, sizeof options - (size_t)n);
  return clconv__kernel_create(op->ctx, CLCONV__FAMILY_ACT, options, "clconv_act", *k);
}

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
  clconv__kernel *k;
  clconv_status s = act_kernel(op, CLCONV_F32, &k);
  if (s != CLCONV_OK) {
    clconv_act_destroy(op);
    return s;
  }
  *out = op;
  return CLCONV_OK;
}

void clconv_act_destroy(clconv_act *op) {
  if (!op)
    return;
  for (int t = 0; t < CLCONV_DTYPE_COUNT; t++)
    clconv__kernel_release(&op->kernel[t]);
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
  CLCONV__CHECK(ctx, src->dtype == dst->dtype, CLCONV_ERR_DTYPE_MISMATCH, "act_run: src is %s, dst is %s",
                clconv_dtype_name(src->dtype), clconv_dtype_name(dst->dtype));
  CLCONV__CHECK(ctx, src->count <= CLCONV__MAX_KERNEL_ELEMS, CLCONV_ERR_UNSUPPORTED,
                "act_run: %zu elements; the kernels index with 32-bit ints (max %zu)", src->count,
                CLCONV__MAX_KERNEL_ELEMS);
  clconv__kernel *k;
  CLCONV__TRY(act_kernel(op, src->dtype, &k));
  cl_int total = (cl_int)src->count, per = clconv__is_gpu(&ctx->prof) ? 1 : CLCONV__ACT_CPU_RUNS;
  const clconv__arg args[] = {{sizeof(cl_mem), &src->mem},     {sizeof(cl_mem), &dst->mem},
                              {sizeof(float), &op->act.alpha}, {sizeof(float), &op->act.beta},
                              {sizeof total, &total},          {sizeof per, &per}};
  const size_t run = 16 * (size_t)per;
  return clconv__kernel_launch(ctx, "act_run", k, args, sizeof args / sizeof args[0], 1,
                               &(size_t){(src->count + run - 1) / run}, NULL);
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
