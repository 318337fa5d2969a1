/* Device tensors: 1..5 dims of one element type, row-major. */
#include "internal.h"

const char *clconv_dtype_name(clconv_dtype t) {
  static const char *const names[CLCONV_DTYPE_COUNT] = {"float32", "float16", "bfloat16"};
  return (unsigned)t < CLCONV_DTYPE_COUNT ? names[t] : NULL;
}

size_t clconv_dtype_size(clconv_dtype t) { return (unsigned)t < CLCONV_DTYPE_COUNT ? (t == CLCONV_F32 ? 4 : 2) : 0; }

clconv_status clconv__dtype_check(clconv_context *ctx, const char *call, const char *name, clconv_dtype t) {
  CLCONV__CHECK(ctx, (unsigned)t < CLCONV_DTYPE_COUNT, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: %s = %d, must be CLCONV_F32 (0), CLCONV_F16 (1) or CLCONV_BF16 (2)", call, name, (int)t);
  return CLCONV_OK;
}

static clconv_status check_dims(clconv_context *ctx, const char *call, clconv_dtype dtype, uint32_t ndim,
                                const uint32_t *dims, size_t *count, size_t *bytes) {
  CLCONV__TRY(clconv__dtype_check(ctx, call, "dtype", dtype));
  CLCONV__CHECK(ctx, ndim >= 1 && ndim <= CLCONV_MAX_DIMS, CLCONV_ERR_INVALID_ARGUMENT, "%s: ndim = %u, must be 1..%d",
                call, ndim, CLCONV_MAX_DIMS);
  CLCONV__CHECK(ctx, dims, CLCONV_ERR_INVALID_ARGUMENT, "%s: dims is NULL", call);
  for (uint32_t i = 0; i < ndim; i++)
    CLCONV__CHECK(ctx, dims[i] >= 1 && dims[i] <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: dims[%u] = %u, must be 1..%u", call, i, dims[i], CLCONV__MAX_FIELD);
  if (!clconv__count(dims, ndim, count) || !clconv__mul_size(*count, clconv_dtype_size(dtype), bytes)) {
    char buf[96];
    return clconv__fail(ctx, CLCONV_ERR_SIZE_OVERFLOW, "%s: dims %s: byte count overflows size_t", call,
                        clconv__dims_str(buf, sizeof buf, dims, ndim));
  }
  return CLCONV_OK;
}

static clconv_status make(clconv_context *ctx, cl_mem mem, clconv_dtype dtype, uint32_t ndim, const uint32_t *dims,
                          size_t count, clconv_tensor **out) {
  clconv_tensor *t = clconv__calloc(1, sizeof *t);
  if (!t)
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "tensor: out of host memory");
  t->ctx = ctx;
  t->mem = mem;
  t->dtype = dtype;
  t->ndim = ndim;
  memcpy(t->dims, dims, ndim * sizeof *dims);
  t->count = count;
  *out = t;
  return CLCONV_OK;
}

clconv_status clconv_tensor_create(clconv_context *ctx, clconv_dtype dtype, uint32_t ndim, const uint32_t *dims,
                                   clconv_tensor **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "tensor_create: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "tensor_create: out is NULL");
  *out = NULL;
  size_t count, bytes;
  clconv_status s = check_dims(ctx, "tensor_create", dtype, ndim, dims, &count, &bytes);
  if (s != CLCONV_OK)
    return s;
  if ((cl_ulong)bytes > ctx->prof.max_alloc_bytes) {
    char buf[96];
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY,
                        "tensor_create: dims %s need %zu bytes, device max allocation is %llu bytes",
                        clconv__dims_str(buf, sizeof buf, dims, ndim), bytes, (unsigned long long)ctx->prof.max_alloc_bytes);
  }
  cl_int err;
  cl_mem mem = CLCONV__CLOBJ(&err, clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &err));
  if (!mem)
    return clconv__fail_cl(ctx, "tensor_create", "clCreateBuffer", err);
  s = make(ctx, mem, dtype, ndim, dims, count, out);
  if (s != CLCONV_OK)
    clReleaseMemObject(mem);
  return s;
}

clconv_status clconv_tensor_wrap(clconv_context *ctx, cl_mem mem, clconv_dtype dtype, uint32_t ndim,
                                 const uint32_t *dims, clconv_tensor **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "tensor_wrap: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "tensor_wrap: out is NULL");
  *out = NULL;
  CLCONV__CHECK(ctx, mem, CLCONV_ERR_INVALID_ARGUMENT, "tensor_wrap: mem is NULL");
  size_t count, bytes, have = 0;
  clconv_status s = check_dims(ctx, "tensor_wrap", dtype, ndim, dims, &count, &bytes);
  if (s != CLCONV_OK)
    return s;
  cl_context owner = NULL;
  cl_int err = CLCONV__CL(clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof owner, &owner, NULL));
  if (err == CL_SUCCESS)
    err = CLCONV__CL(clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof have, &have, NULL));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(ctx, "tensor_wrap", "clGetMemObjectInfo", err);
  CLCONV__CHECK(ctx, owner == ctx->cl, CLCONV_ERR_WRONG_CONTEXT, "tensor_wrap: mem belongs to another OpenCL context");
  CLCONV__CHECK(ctx, have >= bytes, CLCONV_ERR_SHAPE_MISMATCH, "tensor_wrap: mem holds %zu bytes, dims need %zu", have,
                bytes);
  err = CLCONV__CL(clRetainMemObject(mem));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(ctx, "tensor_wrap", "clRetainMemObject", err);
  s = make(ctx, mem, dtype, ndim, dims, count, out);
  if (s != CLCONV_OK)
    clReleaseMemObject(mem);
  return s;
}

void clconv_tensor_destroy(clconv_tensor *t) {
  if (!t)
    return;
  clReleaseMemObject(t->mem);
  clconv__free(t);
}

static clconv_status copy(clconv_tensor *t, const char *call, bool write, void *host, size_t count) {
  CLCONV__CHECK(NULL, t, CLCONV_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", call);
  clconv_context *ctx = t->ctx;
  CLCONV__CHECK(ctx, host, CLCONV_ERR_INVALID_ARGUMENT, "%s: host pointer is NULL", call);
  CLCONV__CHECK(ctx, count == t->count, CLCONV_ERR_SHAPE_MISMATCH, "%s: count_elems = %zu, tensor holds %zu", call,
                count, t->count);
  size_t bytes = t->count * clconv_dtype_size(t->dtype); /* cannot overflow: checked at creation */
  cl_int err = write ? CLCONV__CL(clEnqueueWriteBuffer(ctx->queue, t->mem, CL_TRUE, 0, bytes, host, 0, NULL, NULL))
                     : CLCONV__CL(clEnqueueReadBuffer(ctx->queue, t->mem, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(ctx, call, write ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer", err);
  return CLCONV_OK;
}

clconv_status clconv_tensor_write(clconv_tensor *t, const void *host, size_t count) {
  return copy(t, "tensor_write", true, (void *)host, count);
}

clconv_status clconv_tensor_read(clconv_tensor *t, void *host, size_t count) {
  return copy(t, "tensor_read", false, host, count);
}

uint32_t clconv_tensor_ndim(const clconv_tensor *t) { return t ? t->ndim : 0; }
uint32_t clconv_tensor_dim(const clconv_tensor *t, uint32_t axis) { return t && axis < t->ndim ? t->dims[axis] : 0; }
size_t clconv_tensor_count(const clconv_tensor *t) { return t ? t->count : 0; }
clconv_dtype clconv_tensor_dtype(const clconv_tensor *t) { return t ? t->dtype : CLCONV_F32; }
cl_mem clconv_tensor_mem(const clconv_tensor *t) { return t ? t->mem : NULL; }

clconv_status clconv__tensor_expect(clconv_context *ctx, const char *call, const char *name, const clconv_tensor *t,
                                    clconv_dtype dtype, uint32_t n, const uint32_t *want) {
  CLCONV__CHECK(ctx, t, CLCONV_ERR_INVALID_ARGUMENT, "%s: %s is NULL", call, name);
  CLCONV__CHECK(ctx, t->ctx == ctx, CLCONV_ERR_WRONG_CONTEXT, "%s: %s belongs to another clconv context", call, name);
  CLCONV__CHECK(ctx, t->dtype == dtype, CLCONV_ERR_DTYPE_MISMATCH, "%s: %s is %s, the descriptor's dtype is %s", call,
                name, clconv_dtype_name(t->dtype), clconv_dtype_name(dtype));
  bool same = t->ndim == n;
  for (uint32_t i = 0; same && i < n; i++)
    same = t->dims[i] == want[i];
  if (!same) {
    char a[96], b[96];
    return clconv__fail(ctx, CLCONV_ERR_SHAPE_MISMATCH, "%s: %s has dims %s, the descriptor needs %s", call, name,
                        clconv__dims_str(a, sizeof a, t->dims, t->ndim), clconv__dims_str(b, sizeof b, want, n));
  }
  return CLCONV_OK;
}

void clconv__dtype_options(clconv_dtype src, clconv_dtype dst, char *buf, size_t cap) {
  int n = src == CLCONV_F32 ? snprintf(buf, cap, "%s", "") : snprintf(buf, cap, " -DDT=%d", (int)src);
  if (dst != src && n >= 0 && (size_t)n < cap)
    snprintf(buf + n, cap - (size_t)n, " -DDT_DST=%d", (int)dst);
}
