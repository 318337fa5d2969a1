/* Activations over whole tensors; names and parsing. */
#include "internal.h"

#include <errno.h>
#include <math.h>

static const char *const act_names[CLCONV_ACT_COUNT] = {"identity", "relu",    "leaky_relu", "elu",     "relu6",
                                                        "clip",     "sigmoid", "tanh",       "softplus"};

const char *clconv_act_name(clconv_act_kind kind) { return (unsigned)kind < CLCONV_ACT_COUNT ? act_names[kind] : NULL; }

static bool parse_float(const char *s, const char *end, float *out) {
  char buf[64];
  size_t n = (size_t)(end - s);
  if (n == 0 || n >= sizeof buf)
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *e;
  errno = 0;
  double v = strtod(buf, &e);
  if (*e != '\0' || errno != 0 || !isfinite(v) || fabs(v) > 3.0e38)
    return false;
  *out = (float)v;
  return true;
}

clconv_status clconv_act_parse(const char *text, clconv_activation *act) {
  CLCONV__CHECK(NULL, text && act, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: text or act is NULL");
  const char *colon = strchr(text, ':');
  size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
  clconv_activation a = {0};
  int kind = -1;
  for (int i = 0; i < CLCONV_ACT_COUNT; i++)
    if (strlen(act_names[i]) == name_len && strncmp(text, act_names[i], name_len) == 0)
      kind = i;
  CLCONV__CHECK(NULL, kind >= 0, CLCONV_ERR_INVALID_ARGUMENT,
                "act_parse: unknown activation \"%.*s\" (identity, relu, leaky_relu, elu, relu6, clip, sigmoid, "
                "tanh, softplus)",
                (int)name_len, text);
  a.kind = (clconv_act_kind)kind;
  if (colon) {
    const char *p = colon + 1, *comma = strchr(p, ',');
    bool takes_alpha = kind == CLCONV_ACT_LEAKY_RELU || kind == CLCONV_ACT_ELU || kind == CLCONV_ACT_CLIP;
    CLCONV__CHECK(NULL, takes_alpha, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: \"%s\": %s takes no parameter", text,
                  act_names[kind]);
    CLCONV__CHECK(NULL, (comma != NULL) == (kind == CLCONV_ACT_CLIP), CLCONV_ERR_INVALID_ARGUMENT,
                  "act_parse: \"%s\": %s", text,
                  kind == CLCONV_ACT_CLIP ? "clip takes two bounds, clip:LO,HI" : "takes one number, NAME:ALPHA");
    bool ok = parse_float(p, comma ? comma : p + strlen(p), &a.alpha) &&
              (!comma || parse_float(comma + 1, comma + 1 + strlen(comma + 1), &a.beta));
    CLCONV__CHECK(NULL, ok, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: \"%s\": parameter is not a finite number", text);
  } else {
    CLCONV__CHECK(NULL, kind != CLCONV_ACT_CLIP, CLCONV_ERR_INVALID_ARGUMENT,
                  "act_parse: clip needs its bounds, clip:LO,HI");
  }
  clconv_activation eff;
  CLCONV__TRY(clconv__act_check(NULL, "act_parse", &a, &eff));
  *act = a;
  return CLCONV_OK;
}

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
