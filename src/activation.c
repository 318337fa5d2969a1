/* The activations, all from the one table in clconv.h (CLCONV_ACT_MAP): names and parsing, defaults and checks,
 * the Lipschitz constant and tolerance factor, f for the CPU reference, and f for the device as OpenCL C. No
 * device. */
#include "internal.h"

#include <errno.h>
#include <math.h>

typedef struct act_row {
  const char *name;
  int params; /* 0 none, 1 alpha, 2 alpha and beta */
  float alpha_default;
  int rel_factor;
  const char *device;
} act_row;

static const act_row rows[CLCONV_ACT_COUNT] = {
#define CLCONV_X(NAME, value, name, params, dflt, lips, c, ref, dev, ...) [value] = {name, params, dflt, c, dev},
    CLCONV_ACT_MAP(CLCONV_X)
#undef CLCONV_X
};

const char *clconv_act_name(clconv_act_kind kind) { return (unsigned)kind < CLCONV_ACT_COUNT ? rows[kind].name : NULL; }

clconv_status clconv__act_check(clconv_context *ctx, const char *call, const clconv_activation *a,
                                clconv_activation *eff) {
  CLCONV__CHECK(ctx, (unsigned)a->kind < CLCONV_ACT_COUNT, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: activation kind = %d, must be 0..%d", call, (int)a->kind, CLCONV_ACT_COUNT - 1);
  CLCONV__CHECK(ctx, isfinite(a->alpha) && isfinite(a->beta), CLCONV_ERR_INVALID_ARGUMENT,
                "%s: activation alpha = %g, beta = %g, must be finite", call, (double)a->alpha, (double)a->beta);
  const act_row *r = &rows[a->kind];
  *eff = *a;
  if (r->params >= 1 && a->alpha == 0.0f)
    eff->alpha = r->alpha_default;
  if (r->params == 2) /* a range */
    CLCONV__CHECK(ctx, a->alpha <= a->beta, CLCONV_ERR_INVALID_ARGUMENT, "%s: %s bounds alpha = %g > beta = %g", call,
                  r->name, (double)a->alpha, (double)a->beta);
  return CLCONV_OK;
}

double clconv_act_lipschitz(const clconv_activation *act) {
  if (!act || (unsigned)act->kind >= CLCONV_ACT_COUNT)
    return 1.0;
  const act_row *r = &rows[act->kind];
  const double a = r->params >= 1 && act->alpha == 0.0f ? r->alpha_default : act->alpha;
  switch (act->kind) {
#define CLCONV_X(NAME, value, name, params, dflt, lips, ...)                                                           \
  case CLCONV_ACT_##NAME:                                                                                              \
    return lips;
    CLCONV_ACT_MAP(CLCONV_X)
#undef CLCONV_X
  }
  (void)a;
  return 1.0;
}

clconv_status clconv_act_tolerance(const clconv_activation *act, clconv_tolerance *tol) {
  CLCONV__CHECK(NULL, act && tol, CLCONV_ERR_INVALID_ARGUMENT, "act_tolerance: act or tol is NULL");
  clconv_activation eff;
  CLCONV__TRY(clconv__act_check(NULL, "act_tolerance", act, &eff));
  tol->reduction_len = 0;
  tol->lipschitz = clconv_act_lipschitz(act);
  tol->rel_factor = clconv__act_rel_factor(act->kind);
  tol->dtype = CLCONV_F32; /* the op's type is its tensors': the caller sets it */
  return CLCONV_OK;
}

double clconv__act_rel_factor(clconv_act_kind kind) {
  return (unsigned)kind < CLCONV_ACT_COUNT ? rows[kind].rel_factor : 4.0;
}

double clconv__act_apply(const clconv_activation *eff, double x) {
  const double a = eff->alpha, b = eff->beta;
  switch (eff->kind) {
#define CLCONV_X(NAME, value, name, params, dflt, lips, c, ref, ...)                                                   \
  case CLCONV_ACT_##NAME:                                                                                              \
    return ref;
    CLCONV_ACT_MAP(CLCONV_X)
#undef CLCONV_X
  }
  (void)a;
  (void)b;
  return x;
}

/* ---- parsing ------------------------------------------------------------------------------------------------- */
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

/* "identity, relu, ...": every name, for messages. */
static void act_names(char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (int i = 0; i < CLCONV_ACT_COUNT && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", rows[i].name);
}

clconv_status clconv_act_parse(const char *text, clconv_activation *act) {
  CLCONV__CHECK(NULL, text && act, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: text or act is NULL");
  const char *colon = strchr(text, ':');
  size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
  clconv_activation a = {0};
  int kind = -1;
  for (int i = 0; i < CLCONV_ACT_COUNT; i++)
    if (strlen(rows[i].name) == name_len && strncmp(text, rows[i].name, name_len) == 0)
      kind = i;
  if (kind < 0) {
    char names[256];
    act_names(names, sizeof names);
    return clconv__fail(NULL, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: unknown activation \"%.*s\" (%s)", (int)name_len,
                        text, names);
  }
  a.kind = (clconv_act_kind)kind;
  const act_row *r = &rows[kind];
  if (colon) {
    const char *p = colon + 1, *comma = strchr(p, ',');
    CLCONV__CHECK(NULL, r->params > 0, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: \"%s\": %s takes no parameter", text,
                  r->name);
    CLCONV__CHECK(NULL, (comma != NULL) == (r->params == 2), CLCONV_ERR_INVALID_ARGUMENT, "act_parse: \"%s\": %s %s",
                  text, r->name, r->params == 2 ? "takes two bounds, NAME:LO,HI" : "takes one number, NAME:ALPHA");
    bool ok = parse_float(p, comma ? comma : p + strlen(p), &a.alpha) &&
              (!comma || parse_float(comma + 1, comma + 1 + strlen(comma + 1), &a.beta));
    CLCONV__CHECK(NULL, ok, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: \"%s\": parameter is not a finite number", text);
  } else {
    CLCONV__CHECK(NULL, r->params < 2, CLCONV_ERR_INVALID_ARGUMENT, "act_parse: %s needs its bounds, %s:LO,HI", r->name,
                  r->name);
  }
  clconv_activation eff;
  CLCONV__TRY(clconv__act_check(NULL, "act_parse", &a, &eff));
  *act = a;
  return CLCONV_OK;
}

/* ---- the device code ---------------------------------------------------------------------------------------- */
void clconv__act_source(char *buf, size_t cap) {
  /* ACT (a -D option) picks the row, so that a build option can override it like any other */
  size_t at = (size_t)snprintf(buf, cap, "#ifndef ACT\n#define ACT 0\n#endif\n#if 0\n");
  for (int i = 0; i < CLCONV_ACT_COUNT && at < cap; i++)
    at += (size_t)snprintf(buf + at, cap - at,
                           "#elif ACT == %d /* %s */\n#define CLCONV_ACTIVATE(T, x, alpha, beta) (%s)\n", i,
                           rows[i].name, rows[i].device);
  if (at < cap)
    snprintf(buf + at, cap - at, "#else\n#error \"ACT must be 0..%d (clconv_act_kind)\"\n#endif\n",
             CLCONV_ACT_COUNT - 1);
}
