/* Status table, version, the last-error buffers, descriptor field checks, and the algorithms' names. */
#include "internal.h"

#include <string.h>

const char *clconv_version_string(void) {
#define CLCONV__STR2(x) #x
#define CLCONV__STR(x) CLCONV__STR2(x)
  return CLCONV__STR(CLCONV_VERSION_MAJOR) "." CLCONV__STR(CLCONV_VERSION_MINOR) "." CLCONV__STR(CLCONV_VERSION_PATCH);
}

const char *clconv_status_string(clconv_status s) {
  switch (s) {
#define CLCONV_X(name, value, text)                                                                                    \
  case CLCONV_##name:                                                                                                  \
    return text;
    CLCONV_STATUS_MAP(CLCONV_X)
#undef CLCONV_X
  }
  return "unknown status";
}

/* Failures with no context land here: one buffer per thread, so threads never see each other's messages. */
static _Thread_local clconv__errbuf thread_err;

void clconv__errbuf_clear(clconv__errbuf *e) {
  free(e->heap);
  e->heap = NULL;
  e->fixed[0] = '\0';
}

const char *clconv__errbuf_text(const clconv__errbuf *e) { return e->heap ? e->heap : e->fixed; }

const char *clconv_last_error(const clconv_context *ctx) { return clconv__errbuf_text(ctx ? &ctx->err : &thread_err); }

static clconv_status vfail(clconv_context *ctx, clconv_status s, const char *tail, const char *fmt, va_list ap) {
  clconv__errbuf *e = ctx ? &ctx->err : &thread_err;
  clconv__errbuf_clear(e);
  vsnprintf(e->fixed, sizeof e->fixed, fmt, ap);
  if (tail) {
    /* The heap copy is best effort: without memory the fixed head still names the failure. Plain malloc, not
     * clconv__malloc, so fault injection never hides the message of the failure it caused. */
    size_t head = strlen(e->fixed), n = strlen(tail);
    char *h = malloc(head + n + 2);
    if (h) {
      memcpy(h, e->fixed, head);
      h[head] = '\n';
      memcpy(h + head + 1, tail, n + 1);
      e->heap = h;
    }
  }
  return s;
}

clconv_status clconv__fail(clconv_context *ctx, clconv_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(ctx, s, NULL, fmt, ap);
  va_end(ap);
  return s;
}

clconv_status clconv__fail_long(clconv_context *ctx, clconv_status s, const char *tail, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(ctx, s, tail, fmt, ap);
  va_end(ap);
  return s;
}

const char *clconv__cl_error_name(cl_int err) {
  switch (err) {
#define E(x)                                                                                                           \
  case x:                                                                                                              \
    return #x;
    E(CL_DEVICE_NOT_FOUND)
    E(CL_DEVICE_NOT_AVAILABLE)
    E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY) E(CL_BUILD_PROGRAM_FAILURE) E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE)
        E(CL_INVALID_CONTEXT) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BUILD_OPTIONS)
            E(CL_INVALID_PROGRAM) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
                E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_GROUP_SIZE)
                    E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_BUFFER_SIZE)
                        E(CL_INVALID_PLATFORM) E(CL_INVALID_OPERATION) E(CL_INVALID_EVENT_WAIT_LIST)
#undef E
                            default : return "unknown OpenCL error";
  }
}

clconv_status clconv__fail_cl(clconv_context *ctx, const char *what, const char *call, cl_int err) {
  clconv_status s = (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY) ? CLCONV_ERR_OUT_OF_MEMORY
                                                                                              : CLCONV_ERR_OPENCL;
  return clconv__fail(ctx, s, "%s: %s failed: %s (%d)", what, call, clconv__cl_error_name(err), (int)err);
}

bool clconv__count(const uint32_t *dims, uint32_t n, size_t *out) {
  size_t c = 1;
  for (uint32_t i = 0; i < n; i++)
    if (!clconv__mul_size(c, dims[i], &c))
      return false;
  *out = c;
  return true;
}

const char *clconv__dims_str(char *buf, size_t cap, const uint32_t *dims, uint32_t n) {
  size_t used = 0;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, cap, "[");
  for (uint32_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%u", i ? ", " : "", dims[i]);
  if (used < cap)
    snprintf(buf + used, cap - used, "]");
  return buf;
}

clconv_status clconv__axis_field(clconv_context *ctx, const char *call, const char *name, uint32_t i, uint32_t v,
                                 uint32_t dflt, uint32_t *out) {
  CLCONV__CHECK(ctx, v != 0 || dflt != 0, CLCONV_ERR_INVALID_ARGUMENT, "%s: %s[%u] = 0, must be >= 1", call, name, i);
  CLCONV__CHECK(ctx, v <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: %s[%u] = %u exceeds %u (a negative value cast to unsigned?)", call, name, i, v, CLCONV__MAX_FIELD);
  *out = v ? v : dflt == CLCONV__ZERO_OK ? 0 : dflt;
  return CLCONV_OK;
}

clconv_status clconv__unused_axes(clconv_context *ctx, const char *call, const char *name, const uint32_t *v,
                                  uint32_t ndim) {
  for (uint32_t i = ndim; i < 3; i++)
    CLCONV__CHECK(ctx, v[i] == 0, CLCONV_ERR_INVALID_ARGUMENT, "%s: %s[%u] = %u, but ndim = %u (must be 0)", call, name,
                  i, v[i], ndim);
  return CLCONV_OK;
}

const char *clconv_algo_name(clconv_conv_algo algo) {
  static const char *const names[CLCONV_ALGO_COUNT] = {"auto", "direct", "gemm"};
  return (unsigned)algo < CLCONV_ALGO_COUNT ? names[algo] : NULL;
}
