/* (device, family, exact option string) -> cl_program, cached in the context; kernels and launches. */
#define _POSIX_C_SOURCE 200809L /* pthread_once */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>

struct clconv__program {
  clconv__family family;
  char *options;
  cl_program program;
  clconv__program *next;
};

static const char *const family_names[CLCONV__FAMILY_COUNT] = {"conv", "pool", "act", "pack"};

const char *clconv__family_source(clconv__family f) {
  return f == CLCONV__FAMILY_CONV   ? clconv__src_conv
         : f == CLCONV__FAMILY_POOL ? clconv__src_pool
         : f == CLCONV__FAMILY_ACT  ? clconv__src_eltwise
                                    : clconv__src_pack;
}

/* The activations' device code (activation.c), made once per process from the table. */
static char act_src[8192];
static pthread_once_t act_once = PTHREAD_ONCE_INIT;
static void act_build(void) { clconv__act_source(act_src, sizeof act_src); }

/* Each program is the activations' code, the shared code, then its family's own source. */
#define SOURCES 3
static void family_sources(clconv__family f, const char *src[SOURCES]) {
  pthread_once(&act_once, act_build);
  src[0] = act_src;
  src[1] = clconv__src_common;
  src[2] = clconv__family_source(f);
}

/* "clconv <version>, CLBlast 1.x, kernels <hash> | name | vendor | driver | device version": versions every entry
 * of the cache directory (library, kernel sources, device, driver). */
void clconv__device_key(clconv_context *ctx, char *buf, size_t cap) {
  char name[256] = "", vendor[256] = "", driver[256] = "", version[256] = "";
  clGetDeviceInfo(ctx->device, CL_DEVICE_NAME, sizeof name, name, NULL);
  clGetDeviceInfo(ctx->device, CL_DEVICE_VENDOR, sizeof vendor, vendor, NULL);
  clGetDeviceInfo(ctx->device, CL_DRIVER_VERSION, sizeof driver, driver, NULL);
  clGetDeviceInfo(ctx->device, CL_DEVICE_VERSION, sizeof version, version, NULL);
  name[255] = vendor[255] = driver[255] = version[255] = '\0';
  /* the kernels' sources too: a tuned choice was measured on these kernels, and is stale once they change */
  uint64_t h = CLCONV__FNV_START;
  for (int f = 0; f < CLCONV__FAMILY_COUNT; f++) {
    const char *src[SOURCES];
    family_sources((clconv__family)f, src);
    for (int i = f ? 2 : 0; i < SOURCES; i++) /* the shared ones once */
      h = clconv__fnv(h, src[i], strlen(src[i]));
  }
  snprintf(buf, cap, "clconv %s, CLBlast 1.x, kernels %016llx | %s | %s | %s | %s", clconv_version_string(),
           (unsigned long long)h, name, vendor, driver, version);
  for (char *p = buf; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
}

/* ---- program binaries on disk ----------------------------------------------------------------------------------
 * <cache dir>/program-<key>.bin, key = FNV-1a of the device key (device, driver, versions, clconv's version), the
 * sources and the build options: any change makes a new entry. Layout: the line "clconv-binary 1 <key> <bytes>
 * <FNV of the bytes>" then the driver's binary. A missing, damaged or refused binary means a build from source,
 * whose binary then replaces it; nothing here fails a build. The driver's calls and the allocations bypass the
 * fault injector: their failures are fallbacks, tested with damaged files and an unwritable directory. */
#define BIN_FORMAT "clconv-binary 1 %016llx %zu %016llx\n"

/* Counts a fallback; the first one's reason is kept for clconv_context_binaries. */
static void bin_note(clconv_context *ctx, unsigned *count, const char *what, const char *path, const char *why) {
  if (!ctx->bin.ignored && !ctx->bin.unsaved)
    snprintf(ctx->bin.why, sizeof ctx->bin.why, "%s%s%s%s", what, path, path[0] ? ": " : "", why);
  (*count)++;
}

/* Whether ctx's device is PoCL's. */
static bool on_pocl(clconv_context *ctx) {
  cl_platform_id plat = NULL;
  char name[128] = "";
  if (clGetDeviceInfo(ctx->device, CL_DEVICE_PLATFORM, sizeof plat, &plat, NULL) != CL_SUCCESS ||
      clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof name, name, NULL) != CL_SUCCESS)
    return false;
  name[sizeof name - 1] = '\0';
  return strstr(name, "Portable Computing Language") != NULL;
}

/* PoCL keeps its own cache of built programs (unless POCL_KERNEL_CACHE=0), and handing out a binary costs it a
 * second compilation (measured: a conv program's first build 1.2 s without, 2.9-3.6 s with): there the cache on
 * disk would only slow the first build down. */
static bool driver_caches(clconv_context *ctx) {
  const char *off = getenv("POCL_KERNEL_CACHE");
  return on_pocl(ctx) && !(off && !strcmp(off, "0"));
}

static bool bin_path(clconv_context *ctx, clconv__family family, const char *full, char *path, size_t cap,
                     uint64_t *key) {
  char dir[1024], dev[1200];
  if (!clconv__cache_dir(dir, sizeof dir) || driver_caches(ctx))
    return false;
  const char *src[SOURCES];
  family_sources(family, src);
  clconv__device_key(ctx, dev, sizeof dev);
  uint64_t h = clconv__fnv(CLCONV__FNV_START, dev, strlen(dev) + 1);
  for (int i = 0; i < SOURCES; i++)
    h = clconv__fnv(h, src[i], strlen(src[i]) + 1);
  *key = clconv__fnv(h, full, strlen(full) + 1);
  return (size_t)snprintf(path, cap, "%s/program-%016llx.bin", dir, (unsigned long long)*key) < cap;
}

/* The program from its cached binary, built; NULL when there is none or it is refused. */
static cl_program bin_load(clconv_context *ctx, const char *path, uint64_t key, const char *full) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL; /* not cached yet: not worth a note */
  unsigned long long k = 0, sum = 0;
  size_t n = 0;
  unsigned char *bin = NULL;
  const char *why = NULL;
  if (fscanf(f, "clconv-binary 1 %llx %zu %llx", &k, &n, &sum) != 3 || fgetc(f) != '\n' || k != key || n == 0 ||
      n > ((size_t)1 << 30))
    why = "bad header";
  else if (!(bin = malloc(n)))
    why = "out of host memory";
  else if (fread(bin, 1, n, f) != n || fgetc(f) != EOF)
    why = "truncated or too long";
  else if (clconv__fnv(CLCONV__FNV_START, bin, n) != sum)
    why = "checksum mismatch";
  fclose(f);
  cl_program p = NULL;
  if (!why) {
    const unsigned char *b = bin;
    cl_int st = CL_SUCCESS, err;
    p = clCreateProgramWithBinary(ctx->cl, 1, &ctx->device, &n, &b, &st, &err);
    if (!p || err != CL_SUCCESS || st != CL_SUCCESS || clBuildProgram(p, 1, &ctx->device, full, NULL, NULL)) {
      why = "refused by the driver";
      if (p)
        clReleaseProgram(p);
      p = NULL;
    }
  }
  free(bin);
  if (p)
    ctx->bin.loaded++;
  else
    bin_note(ctx, &ctx->bin.ignored, "ignored ", path, why);
  return p;
}

static void bin_save(clconv_context *ctx, cl_program p, const char *path, uint64_t key) {
  size_t n = 0;
  unsigned char *bin = NULL;
  char why[1300] = "", dir[1200], tmp[1300];
  if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL) != CL_SUCCESS || n == 0)
    snprintf(why, sizeof why, "the driver gives no binary");
  else if (!(bin = malloc(n)))
    snprintf(why, sizeof why, "out of host memory");
  else if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS)
    snprintf(why, sizeof why, "the driver gives no binary");
  if (!why[0]) {
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    FILE *f = clconv__cache_mkdir(dir, why, sizeof why)
                  ? clconv__cache_open_tmp(ctx, path, tmp, sizeof tmp, why, sizeof why)
                  : NULL;
    if (f) {
      fprintf(f, BIN_FORMAT, (unsigned long long)key, n, (unsigned long long)clconv__fnv(CLCONV__FNV_START, bin, n));
      fwrite(bin, 1, n, f);
      if (clconv__cache_commit(f, tmp, path, why, sizeof why))
        ctx->bin.saved++;
    }
  }
  free(bin);
  if (why[0])
    bin_note(ctx, &ctx->bin.unsaved, "not saved: ", "", why);
}

const char *clconv_context_binaries(clconv_context *ctx) {
  if (!ctx)
    return "";
  char dir[1024];
  if (!clconv__cache_dir(dir, sizeof dir)) {
    snprintf(ctx->bin.note, sizeof ctx->bin.note, "none (no CLCONV_CACHE_DIR, XDG_CACHE_HOME or HOME)");
    return ctx->bin.note;
  }
  if (driver_caches(ctx)) {
    snprintf(ctx->bin.note, sizeof ctx->bin.note,
             "none (PoCL caches its own builds; POCL_KERNEL_CACHE=0 turns ours on)");
    return ctx->bin.note;
  }
  int n = snprintf(ctx->bin.note, sizeof ctx->bin.note, "%s: %u loaded, %u saved, %u ignored, %u not saved", dir,
                   ctx->bin.loaded, ctx->bin.saved, ctx->bin.ignored, ctx->bin.unsaved);
  if (ctx->bin.why[0] && n > 0 && (size_t)n < sizeof ctx->bin.note)
    snprintf(ctx->bin.note + n, sizeof ctx->bin.note - (size_t)n, "; first: %s", ctx->bin.why);
  return ctx->bin.note;
}

static clconv_status build(clconv_context *ctx, clconv__family family, const char *full_options, cl_program *out) {
  char path[1200];
  uint64_t key = 0;
  bool cached = bin_path(ctx, family, full_options, path, sizeof path, &key);
  if (cached && (*out = bin_load(ctx, path, key, full_options)) != NULL)
    return CLCONV_OK;
  const char *src[SOURCES];
  family_sources(family, src);
  cl_int err;
  cl_program p = CLCONV__CLOBJ(&err, clCreateProgramWithSource(ctx->cl, SOURCES, src, NULL, &err));
  if (!p)
    return clconv__fail_cl(ctx, "program build", "clCreateProgramWithSource", err);
  err = CLCONV__CL(clBuildProgram(p, 1, &ctx->device, full_options, NULL, NULL));
  if (err == CL_SUCCESS) {
    if (cached)
      bin_save(ctx, p, path, key);
    *out = p;
    return CLCONV_OK;
  }
  clconv_status s;
  if (err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS) {
    size_t n = 0;
    char *log = NULL;
    if (CLCONV__CL(clGetProgramBuildInfo(p, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n)) == CL_SUCCESS &&
        (log = clconv__malloc(n + 1)) != NULL &&
        CLCONV__CL(clGetProgramBuildInfo(p, ctx->device, CL_PROGRAM_BUILD_LOG, n, log, NULL)) == CL_SUCCESS)
      log[n] = '\0';
    s = clconv__fail_long(ctx, CLCONV_ERR_BUILD_FAILED, log ? log : "(no build log)",
                          "program build: %s kernels failed to build: %s (%d); options: %s; build log:",
                          family_names[family], clconv__cl_error_name(err), (int)err, full_options);
    clconv__free(log);
  } else {
    s = clconv__fail_cl(ctx, "program build", "clBuildProgram", err);
  }
  clReleaseProgram(p);
  return s;
}

clconv_status clconv__program_get(clconv_context *ctx, clconv__family family, const char *options, cl_program *out) {
  for (clconv__program *e = ctx->programs; e; e = e->next)
    if (e->family == family && strcmp(e->options, options) == 0) {
      *out = e->program;
      return CLCONV_OK;
    }
  /* Strict IEEE math: no relaxed-math flags, OpenCL C 1.2 so the same source builds on every vendor.
   * CLCONV_CLANG_CPU where the compiler is known to be clang and the profile is a CPU's, PoCL: software prefetches
   * and vector types aligned to their element (kernels/common.cl; Oclgrind, also clang-based, drops a kernel that
   * uses the prefetch builtin). */
  const char *user = ctx->build_options ? ctx->build_options : "";
  const char *clang_cpu = !clconv__is_gpu(&ctx->prof) && on_pocl(ctx) ? " -DCLCONV_CLANG_CPU" : "";
  size_t n = strlen(options) + strlen(user) + 64;
  char *full = clconv__malloc(n);
  clconv__program *e = clconv__calloc(1, sizeof *e);
  if (!full || !e) {
    clconv__free(full);
    clconv__free(e);
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "program build: out of host memory");
  }
  snprintf(full, n, "-cl-std=CL1.2%s %s %s", clang_cpu, options, user);
  e->family = family;
  e->options = clconv__strdup(options);
  clconv_status s = e->options ? build(ctx, family, full, &e->program)
                               : clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "program build: out of host memory");
  clconv__free(full);
  if (s != CLCONV_OK) {
    clconv__free(e->options);
    clconv__free(e);
    return s;
  }
  e->next = ctx->programs;
  ctx->programs = e;
  *out = e->program;
  return CLCONV_OK;
}

void clconv__program_cache_clear(clconv_context *ctx) {
  while (ctx->programs) {
    clconv__program *e = ctx->programs;
    ctx->programs = e->next;
    clReleaseProgram(e->program);
    clconv__free(e->options);
    clconv__free(e);
  }
}

clconv_status clconv__kernel_create(clconv_context *ctx, clconv__family family, const char *options, const char *name,
                                    clconv__kernel *out) {
  cl_program p;
  out->kernel = NULL;
  clconv_status s = clconv__program_get(ctx, family, options, &p);
  if (s != CLCONV_OK)
    return s;
  cl_int err;
  cl_kernel k = CLCONV__CLOBJ(&err, clCreateKernel(p, name, &err));
  if (!k)
    return clconv__fail_cl(ctx, name, "clCreateKernel", err);
  size_t wg = 0;
  err = CLCONV__CL(clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL));
  if (err != CL_SUCCESS) {
    clReleaseKernel(k);
    return clconv__fail_cl(ctx, name, "clGetKernelWorkGroupInfo", err);
  }
  /* 64 work-items fill a wavefront on AMD and two warps on NVIDIA and are a multiple of every preferred
   * multiple seen; the kernel's own limit (registers, device) can lower it. */
  size_t local = 64;
  if (wg < local)
    local = wg ? wg : 1;
  out->kernel = k;
  out->local_size = local;
  out->max_local = wg ? wg : 1;
  return CLCONV_OK;
}

void clconv__kernel_release(clconv__kernel *k) {
  if (k->kernel)
    clReleaseKernel(k->kernel);
  k->kernel = NULL;
}

clconv_status clconv__kernel_launch(clconv_context *ctx, const char *what, clconv__kernel *k, const clconv__arg *args,
                                    size_t n_args, cl_uint dims, const size_t *total, const size_t *local_in) {
  for (size_t i = 0; i < n_args; i++) {
    cl_int err = CLCONV__CL(clSetKernelArg(k->kernel, (cl_uint)i, args[i].size, args[i].value));
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, what, "clSetKernelArg", err);
  }
  size_t local[3] = {k->local_size, 1, 1}, global[3];
  if (local_in) {
    /* the caller's shape, shrunk along its first axis to what this kernel may run */
    memcpy(local, local_in, dims * sizeof *local);
    while (local[0] > 1 && local[0] * local[1] * local[2] > k->max_local)
      local[0] /= 2;
    while (local[1] > 1 && local[0] * local[1] * local[2] > k->max_local)
      local[1] /= 2;
    while (local[2] > 1 && local[0] * local[1] * local[2] > k->max_local) /* a power of two dividing the range */
      local[2] /= 2;
  }
  for (cl_uint d = 0; d < dims; d++)
    while (local[d] > 1 && local[d] > ctx->prof.max_work_item_sizes[d])
      local[d] /= 2;
  /* a long one-dimensional range folded into rows of CLCONV__FLAT_ROW work-items (the kernels read their index with
   * clconv_flat_id), where a row fits one launch */
  const size_t row = CLCONV__FLAT_ROW / local[0] * local[0];
  size_t rows[2];
  if (dims == 1 && total[0] > row && row <= ctx->prof.max_work_groups[0] * local[0]) {
    rows[0] = row;
    rows[1] = (total[0] + row - 1) / row;
    total = rows;
    dims = 2;
  }
  for (cl_uint d = 0; d < dims; d++)
    global[d] = (total[d] + local[d] - 1) / local[d] * local[d];
  size_t pieces = clconv__launch_pieces(&ctx->prof, dims, global, local);
  for (size_t i = 0; i < pieces; i++) {
    size_t off[3], size[3];
    clconv__launch_piece(&ctx->prof, dims, global, local, i, off, size);
    cl_int err = CLCONV__CL(clEnqueueNDRangeKernel(ctx->queue, k->kernel, dims, off, size, local, 0, NULL, NULL));
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, what, "clEnqueueNDRangeKernel", err);
  }
  return CLCONV_OK;
}

/* Work-items per piece along d: as many whole work-groups as the device takes in one launch. */
static size_t piece_step(const clconv_device_profile *p, cl_uint d, const size_t *global, const size_t *local) {
  size_t most = p->max_work_groups[d] * local[d];
  return global[d] < most ? global[d] : most;
}

size_t clconv__launch_pieces(const clconv_device_profile *p, cl_uint dims, const size_t *global, const size_t *local) {
  size_t n = 1;
  for (cl_uint d = 0; d < dims; d++) {
    size_t step = piece_step(p, d, global, local);
    n *= (global[d] + step - 1) / step;
  }
  return n;
}

void clconv__launch_piece(const clconv_device_profile *p, cl_uint dims, const size_t *global, const size_t *local,
                          size_t i, size_t off[3], size_t size[3]) {
  for (cl_uint d = 0; d < dims; d++) {
    size_t step = piece_step(p, d, global, local), count = (global[d] + step - 1) / step;
    off[d] = i % count * step;
    size[d] = global[d] - off[d] < step ? global[d] - off[d] : step;
    i /= count;
  }
}

void clconv__flat_local(const clconv_device_profile *p, size_t n, size_t local[3]) {
  size_t l0 = 1;
  while (l0 < n && l0 < CLCONV__ROW_GROUP)
    l0 *= 2;
  local[0] = clconv__is_gpu(p) ? l0 : CLCONV__CPU_ROW_GROUP;
  local[1] = local[2] = 1;
}

void clconv__row_range(const clconv_device_profile *p, size_t tiles, size_t rows, size_t range[2], size_t local[3]) {
  size_t tp = 1;
  while (tp < tiles)
    tp *= 2;
  range[0] = tp * rows;
  range[1] = 1;
  clconv__flat_local(p, range[0], local);
}

void clconv__plane_local(size_t width, size_t local[3]) {
  local[0] = width <= 16 ? 16 : width <= 32 ? 32 : 64;
  local[1] = 64 / local[0];
  local[2] = 1;
}
