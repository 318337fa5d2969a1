/* Devices, contexts and device limits. */
#include "internal.h"

#include <CL/cl_ext.h>
#include <ctype.h>

/* Every (platform, device) pair in enumeration order. *devs is owned by the caller (clconv__free). */
static clconv_status list_devices(const char *call, cl_device_id **devs, cl_uint *count) {
  cl_uint np = 0, total = 0;
  cl_platform_id *plats = NULL;
  cl_device_id *all = NULL;
  *devs = NULL;
  *count = 0;
  cl_int err = CLCONV__CL(clGetPlatformIDs(0, NULL, &np));
  if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0))
    return clconv__fail(NULL, CLCONV_ERR_DEVICE_NOT_FOUND,
                        "%s: no OpenCL platform found (is an ICD such as pocl-opencl-icd installed?)", call);
  if (err != CL_SUCCESS)
    return clconv__fail_cl(NULL, call, "clGetPlatformIDs", err);
  plats = clconv__calloc(np, sizeof *plats);
  if (!plats)
    return clconv__fail(NULL, CLCONV_ERR_OUT_OF_MEMORY, "%s: out of host memory", call);
  err = CLCONV__CL(clGetPlatformIDs(np, plats, NULL));
  if (err != CL_SUCCESS) {
    clconv__free(plats);
    return clconv__fail_cl(NULL, call, "clGetPlatformIDs", err);
  }
  for (int pass = 0; pass < 2; pass++) {
    cl_uint at = 0;
    for (cl_uint p = 0; p < np; p++) {
      cl_uint nd = 0;
      err = CLCONV__CL(clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd));
      if (err == CL_DEVICE_NOT_FOUND)
        continue; /* an empty platform is not an error */
      if (err == CL_SUCCESS && pass == 1 && nd > 0)
        err = CLCONV__CL(clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, all + at, NULL));
      if (err != CL_SUCCESS) {
        clconv__free(plats);
        clconv__free(all);
        return clconv__fail_cl(NULL, call, "clGetDeviceIDs", err);
      }
      at += nd;
    }
    if (pass == 0) {
      total = at;
      if (total == 0) {
        clconv__free(plats);
        return clconv__fail(NULL, CLCONV_ERR_DEVICE_NOT_FOUND, "%s: OpenCL platforms have no devices", call);
      }
      all = clconv__calloc(total, sizeof *all);
      if (!all) {
        clconv__free(plats);
        return clconv__fail(NULL, CLCONV_ERR_OUT_OF_MEMORY, "%s: out of host memory", call);
      }
    }
  }
  clconv__free(plats);
  *devs = all;
  *count = total;
  return CLCONV_OK;
}

/* One clGetDeviceInfo query: its value into dst, of size bytes. */
typedef struct device_query {
  cl_device_info what;
  size_t size;
  void *dst;
  const char *name;
} device_query;

/* Runs the n queries q; a string longer than its field is truncated (clGetDeviceInfo fails on a short buffer). */
static clconv_status device_queries(clconv_context *ctx, const char *call, cl_device_id dev, const device_query *q,
                                    size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t need = 0;
    cl_int err = CLCONV__CL(clGetDeviceInfo(dev, q[i].what, 0, NULL, &need));
    if (err == CL_SUCCESS) {
      if (need <= q[i].size) {
        err = CLCONV__CL(clGetDeviceInfo(dev, q[i].what, q[i].size, q[i].dst, NULL));
      } else {
        char *tmp = clconv__malloc(need);
        if (!tmp)
          return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "%s: out of host memory", call);
        err = CLCONV__CL(clGetDeviceInfo(dev, q[i].what, need, tmp, NULL));
        memcpy(q[i].dst, tmp, q[i].size - 1);
        ((char *)q[i].dst)[q[i].size - 1] = '\0';
        clconv__free(tmp);
      }
    }
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, call, q[i].name, err);
  }
  return CLCONV_OK;
}

static clconv_status fill_info(clconv_context *ctx, const char *call, cl_device_id dev, clconv_device_info *info) {
  cl_platform_id plat;
  cl_device_type type;
  cl_uint cu;
  cl_ulong gmem, amem, lmem;
  size_t wg;
  memset(info, 0, sizeof *info);
  const device_query q[] = {
      {CL_DEVICE_NAME, sizeof info->name, info->name, "CL_DEVICE_NAME"},
      {CL_DEVICE_VENDOR, sizeof info->vendor, info->vendor, "CL_DEVICE_VENDOR"},
      {CL_DEVICE_VERSION, sizeof info->version, info->version, "CL_DEVICE_VERSION"},
      {CL_DEVICE_PLATFORM, sizeof plat, &plat, "CL_DEVICE_PLATFORM"},
      {CL_DEVICE_TYPE, sizeof type, &type, "CL_DEVICE_TYPE"},
      {CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, "CL_DEVICE_MAX_COMPUTE_UNITS"},
      {CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, "CL_DEVICE_GLOBAL_MEM_SIZE"},
      {CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof amem, &amem, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"},
      {CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, "CL_DEVICE_LOCAL_MEM_SIZE"},
      {CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, "CL_DEVICE_MAX_WORK_GROUP_SIZE"},
  };
  CLCONV__TRY(device_queries(ctx, call, dev, q, sizeof q / sizeof q[0]));
  cl_int err = CLCONV__CL(clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(ctx, call, "clGetPlatformInfo(CL_PLATFORM_NAME)", err);
  info->platform[sizeof info->platform - 1] = '\0';
  info->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  info->compute_units = cu;
  info->global_mem_bytes = gmem;
  info->max_alloc_bytes = amem;
  info->local_mem_bytes = lmem;
  info->max_work_group_size = wg;
  return CLCONV_OK;
}

clconv_status clconv_device_count(uint32_t *count) {
  CLCONV__CHECK(NULL, count, CLCONV_ERR_INVALID_ARGUMENT, "device_count: count is NULL");
  *count = 0;
  cl_device_id *devs;
  cl_uint n;
  clconv_status s = list_devices("device_count", &devs, &n);
  clconv__free(devs);
  if (s == CLCONV_OK)
    *count = n;
  return s;
}

clconv_status clconv_device_get_info(uint32_t index, clconv_device_info *info) {
  CLCONV__CHECK(NULL, info, CLCONV_ERR_INVALID_ARGUMENT, "device_get_info: info is NULL");
  cl_device_id *devs;
  cl_uint n;
  clconv_status s = list_devices("device_get_info", &devs, &n);
  if (s != CLCONV_OK)
    return s;
  if (index >= n)
    s = clconv__fail(NULL, CLCONV_ERR_DEVICE_NOT_FOUND, "device_get_info: index %u, but there are %u devices", index,
                     n);
  else
    s = fill_info(NULL, "device_get_info", devs[index], info);
  clconv__free(devs);
  return s;
}

static bool contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n)
      return true;
  }
  return n == 0;
}

/* spec: NULL (first GPU, else first device), a decimal index, or a name substring. */
static clconv_status pick_device(const char *spec, const char *origin, cl_device_id *out) {
  cl_device_id *devs;
  cl_uint n;
  clconv_status s = list_devices("context_create", &devs, &n);
  if (s != CLCONV_OK)
    return s;
  long pick = -1;
  if (!spec || !*spec) {
    pick = 0;
    for (cl_uint i = 0; i < n; i++) {
      cl_device_type type = 0;
      cl_int err = CLCONV__CL(clGetDeviceInfo(devs[i], CL_DEVICE_TYPE, sizeof type, &type, NULL));
      if (err != CL_SUCCESS) {
        clconv__free(devs);
        return clconv__fail_cl(NULL, "context_create", "clGetDeviceInfo(CL_DEVICE_TYPE)", err);
      }
      if (type & CL_DEVICE_TYPE_GPU) {
        pick = (long)i;
        break;
      }
    }
  } else {
    char *end;
    long idx = strtol(spec, &end, 10);
    if (*end == '\0' && end != spec) {
      if (idx < 0 || idx >= (long)n) {
        clconv__free(devs);
        return clconv__fail(NULL, CLCONV_ERR_DEVICE_NOT_FOUND,
                            "context_create: %s = \"%s\": index out of range, there are %u devices", origin, spec, n);
      }
      pick = idx;
    } else {
      for (cl_uint i = 0; i < n && pick < 0; i++) {
        char name[256];
        cl_int err = CLCONV__CL(clGetDeviceInfo(devs[i], CL_DEVICE_NAME, sizeof name, name, NULL));
        if (err != CL_SUCCESS) {
          clconv__free(devs);
          return clconv__fail_cl(NULL, "context_create", "clGetDeviceInfo(CL_DEVICE_NAME)", err);
        }
        name[sizeof name - 1] = '\0';
        if (contains_nocase(name, spec))
          pick = (long)i;
      }
      if (pick < 0) {
        clconv__free(devs);
        return clconv__fail(NULL, CLCONV_ERR_DEVICE_NOT_FOUND,
                            "context_create: %s = \"%s\" matches no device name (%u devices; see clconv devices)",
                            origin, spec, n);
      }
    }
  }
  *out = devs[pick];
  clconv__free(devs);
  return CLCONV_OK;
}

/* "cpu" / "gpu" (any case), else CLCONV_CLASS_AUTO. */
static clconv_device_class parse_class(const char *v) {
  static const char *const names[] = {"cpu", "gpu"};
  for (int i = 0; i < 2; i++) {
    size_t j = 0;
    while (v[j] && names[i][j] && tolower((unsigned char)v[j]) == names[i][j])
      j++;
    if (!v[j] && !names[i][j])
      return i == 0 ? CLCONV_CLASS_CPU : CLCONV_CLASS_GPU;
  }
  return CLCONV_CLASS_AUTO;
}

static bool valid_width(uint32_t w) { return w == 1 || w == 2 || w == 4 || w == 8 || w == 16; }

/* Accumulator registers: of a CPU's vector registers (32 at 16 lanes, AVX-512; 16 otherwise), those the tiled
 * kernel's accumulators may take before it spills (docs/PERFORMANCE.md); a GPU: a share of its scalar registers
 * that keeps a useful occupancy. */
static uint32_t accumulator_registers(clconv_device_class cls, uint32_t width) {
  return cls == CLCONV_CLASS_GPU ? 64 : width >= 16 ? 20 : 12;
}

clconv_status clconv__profile_fill(cl_device_id dev, const clconv_context_options *opt, clconv_device_profile *p) {
  memset(p, 0, sizeof *p);
  cl_device_type type = 0;
  cl_uint pref = 0, cu = 0, dims = 0;
  cl_ulong lmem = 0, amem = 0;
  cl_device_local_mem_type ltype = CL_LOCAL;
  const device_query q[] = {
      {CL_DEVICE_TYPE, sizeof type, &type, "CL_DEVICE_TYPE"},
      {CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof pref, &pref, "CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT"},
      {CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, "CL_DEVICE_MAX_COMPUTE_UNITS"},
      {CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof p->max_work_group_size, &p->max_work_group_size,
       "CL_DEVICE_MAX_WORK_GROUP_SIZE"},
      {CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims, "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS"},
      {CL_DEVICE_LOCAL_MEM_TYPE, sizeof ltype, &ltype, "CL_DEVICE_LOCAL_MEM_TYPE"},
      {CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, "CL_DEVICE_LOCAL_MEM_SIZE"},
      {CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof amem, &amem, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"},
      {CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof p->mem_align_bits, &p->mem_align_bits, "CL_DEVICE_MEM_BASE_ADDR_ALIGN"},
  };
  CLCONV__TRY(device_queries(NULL, "context_create", dev, q, sizeof q / sizeof q[0]));
  /* OpenCL guarantees at least 3 dimensions; the first three are all clconv launches */
  size_t items[16] = {0};
  cl_int err = CLCONV__CL(
      clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, (dims < 16 ? dims : 16) * sizeof items[0], items, NULL));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(NULL, "context_create", "CL_DEVICE_MAX_WORK_ITEM_SIZES", err);
  for (int d = 0; d < 3; d++)
    p->max_work_item_sizes[d] = items[d] ? items[d] : 1;
  p->compute_units = cu;
  p->local_mem_bytes = ltype == CL_NONE ? 0 : lmem;
  p->max_alloc_bytes = amem;
  p->max_work_groups[0] = (size_t)INT32_MAX;
  p->max_work_groups[1] = p->max_work_groups[2] = 65535;

  const char *env;
  p->device_class = (type & CL_DEVICE_TYPE_GPU) ? CLCONV_CLASS_GPU : CLCONV_CLASS_CPU;
  if (opt && opt->device_class != CLCONV_CLASS_AUTO) {
    CLCONV__CHECK(NULL, opt->device_class == CLCONV_CLASS_CPU || opt->device_class == CLCONV_CLASS_GPU,
                  CLCONV_ERR_INVALID_ARGUMENT,
                  "context_create: options.device_class = %d, must be 0 (auto), 1 (cpu) "
                  "or 2 (gpu)",
                  (int)opt->device_class);
    p->device_class = opt->device_class;
  } else if ((env = getenv("CLCONV_DEVICE_CLASS")) != NULL && *env) {
    clconv_device_class c = parse_class(env);
    CLCONV__CHECK(NULL, c != CLCONV_CLASS_AUTO, CLCONV_ERR_INVALID_ARGUMENT,
                  "context_create: CLCONV_DEVICE_CLASS = \"%s\", must be cpu or gpu", env);
    p->device_class = c;
  }
  p->vector_width = pref >= 16 ? 16 : pref >= 8 ? 8 : pref >= 4 ? 4 : pref >= 2 ? 2 : 1;
  if (opt && opt->vector_width) {
    CLCONV__CHECK(NULL, valid_width(opt->vector_width), CLCONV_ERR_INVALID_ARGUMENT,
                  "context_create: options.vector_width = %u, must be 0 (the device's), 1, 2, 4, 8 or 16",
                  opt->vector_width);
    p->vector_width = opt->vector_width;
  } else if ((env = getenv("CLCONV_VECTOR_WIDTH")) != NULL && *env) {
    char *end;
    unsigned long w = strtoul(env, &end, 10);
    CLCONV__CHECK(NULL, *end == '\0' && w <= 16 && valid_width((uint32_t)w), CLCONV_ERR_INVALID_ARGUMENT,
                  "context_create: CLCONV_VECTOR_WIDTH = \"%s\", must be 1, 2, 4, 8 or 16", env);
    p->vector_width = (uint32_t)w;
  }
  p->accumulator_registers = accumulator_registers(p->device_class, p->vector_width);
  return CLCONV_OK;
}

clconv_status clconv_context_profile(const clconv_context *ctx, clconv_device_profile *profile) {
  CLCONV__CHECK(NULL, ctx && profile, CLCONV_ERR_INVALID_ARGUMENT, "context_profile: ctx or profile is NULL");
  *profile = ctx->prof;
  return CLCONV_OK;
}

/* Common tail of both constructors: takes ownership of one reference to cl, queue (device needs none). */
static clconv_status finish_create(cl_context cl, cl_device_id dev, cl_command_queue q,
                                   const clconv_context_options *opt, clconv_context **out) {
  clconv_context *ctx = clconv__calloc(1, sizeof *ctx);
  if (!ctx) {
    clReleaseCommandQueue(q);
    clReleaseContext(cl);
    return clconv__fail(NULL, CLCONV_ERR_OUT_OF_MEMORY, "context_create: out of host memory");
  }
  ctx->cl = cl;
  ctx->device = dev;
  ctx->queue = q;
  clconv_status s = clconv__profile_fill(dev, opt, &ctx->prof);
  const char *extra = opt && opt->build_options ? opt->build_options : getenv("CLCONV_BUILD_OPTIONS");
  if (s == CLCONV_OK && extra && *extra) {
    ctx->build_options = clconv__strdup(extra);
    if (!ctx->build_options)
      s = clconv__fail(NULL, CLCONV_ERR_OUT_OF_MEMORY, "context_create: out of host memory");
  }
  if (s != CLCONV_OK) {
    clconv_context_destroy(ctx);
    return s;
  }
  ctx->ignore_tuning = opt && opt->ignore_tuning; /* the file is read at the first need (tuning.c) */
  if (opt && opt->warm_up_gemm) {
    clconv__tuning_ensure(ctx); /* CLBlast builds with the tuned parameters */
    s = clconv__gemm_warm_up(ctx);
    if (s != CLCONV_OK) { /* the message moves to clconv_last_error(NULL): ctx goes */
      clconv__fail(NULL, s, "%s", clconv_last_error(ctx));
      clconv_context_destroy(ctx);
      return s;
    }
  }
  *out = ctx;
  return CLCONV_OK;
}

clconv_status clconv_context_create(const clconv_context_options *opt, clconv_context **out) {
  CLCONV__CHECK(NULL, out, CLCONV_ERR_INVALID_ARGUMENT, "context_create: out is NULL");
  *out = NULL;
  const char *spec = opt ? opt->device : NULL, *origin = "options.device";
  if (!spec) {
    spec = getenv("CLCONV_DEVICE");
    origin = "CLCONV_DEVICE";
  }
  cl_device_id dev;
  clconv_status s = pick_device(spec, origin, &dev);
  if (s != CLCONV_OK)
    return s;
  cl_int err;
  cl_context cl = CLCONV__CLOBJ(&err, clCreateContext(NULL, 1, &dev, NULL, NULL, &err));
  if (!cl)
    return clconv__fail_cl(NULL, "context_create", "clCreateContext", err);
  cl_command_queue q = CLCONV__CLOBJ(&err, clCreateCommandQueue(cl, dev, CL_QUEUE_PROFILING_ENABLE, &err));
  if (!q) {
    clReleaseContext(cl);
    return clconv__fail_cl(NULL, "context_create", "clCreateCommandQueue", err);
  }
  return finish_create(cl, dev, q, opt, out);
}

clconv_status clconv_context_create_from_cl(cl_context cl, cl_device_id dev, cl_command_queue q,
                                            const clconv_context_options *opt, clconv_context **out) {
  CLCONV__CHECK(NULL, out, CLCONV_ERR_INVALID_ARGUMENT, "context_create_from_cl: out is NULL");
  *out = NULL;
  CLCONV__CHECK(NULL, cl && dev && q, CLCONV_ERR_INVALID_ARGUMENT,
                "context_create_from_cl: cl_context %p, device %p, queue %p: none may be NULL", (void *)cl, (void *)dev,
                (void *)q);
  cl_context qctx = NULL;
  cl_device_id qdev = NULL;
  cl_int err = CLCONV__CL(clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL));
  if (err == CL_SUCCESS)
    err = CLCONV__CL(clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(NULL, "context_create_from_cl", "clGetCommandQueueInfo", err);
  CLCONV__CHECK(NULL, qctx == cl && qdev == dev, CLCONV_ERR_INVALID_ARGUMENT,
                "context_create_from_cl: queue belongs to another context or device");
  err = CLCONV__CL(clRetainContext(cl));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(NULL, "context_create_from_cl", "clRetainContext", err);
  err = CLCONV__CL(clRetainCommandQueue(q));
  if (err != CL_SUCCESS) {
    clReleaseContext(cl);
    return clconv__fail_cl(NULL, "context_create_from_cl", "clRetainCommandQueue", err);
  }
  return finish_create(cl, dev, q, opt, out);
}

void clconv_context_destroy(clconv_context *ctx) {
  if (!ctx)
    return;
  /* Enqueued ops finish first: the process may exit right after, while the device still runs (or, on PoCL,
   * still compiles) them. Not through the fault layer: cleanup must not fail halfway. */
  if (ctx->queue)
    clFinish(ctx->queue);
  clconv__plans_clear(ctx); /* ops first: they hold kernels of the cached programs */
  clconv__program_cache_clear(ctx);
  clconv__tuning_free(ctx);
  if (ctx->workspace)
    clReleaseMemObject(ctx->workspace);
  clconv__blas_release(ctx);
  /* Release calls are not routed through the fault layer: cleanup must not fail halfway. */
  if (ctx->queue)
    clReleaseCommandQueue(ctx->queue);
  if (ctx->cl)
    clReleaseContext(ctx->cl);
  clconv__free(ctx->build_options);
  clconv__errbuf_clear(&ctx->err);
  clconv__free(ctx);
}

clconv_status clconv_context_get_device_info(clconv_context *ctx, clconv_device_info *info) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "context_get_device_info: ctx is NULL");
  CLCONV__CHECK(ctx, info, CLCONV_ERR_INVALID_ARGUMENT, "context_get_device_info: info is NULL");
  return fill_info(ctx, "context_get_device_info", ctx->device, info);
}

clconv_status clconv_context_get_cl(const clconv_context *ctx, cl_context *cl_ctx, cl_device_id *device) {
  CLCONV__CHECK(NULL, ctx && cl_ctx && device, CLCONV_ERR_INVALID_ARGUMENT,
                "context_get_cl: ctx, cl_ctx or device is NULL");
  *cl_ctx = ctx->cl;
  *device = ctx->device;
  return CLCONV_OK;
}

cl_command_queue clconv_context_queue(const clconv_context *ctx) { return ctx ? ctx->queue : NULL; }

clconv_status clconv_context_finish(clconv_context *ctx) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "context_finish: ctx is NULL");
  cl_int err = CLCONV__CL(clFinish(ctx->queue));
  return err == CL_SUCCESS ? CLCONV_OK : clconv__fail_cl(ctx, "context_finish", "clFinish", err);
}
