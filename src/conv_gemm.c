/* The gemm convolution algorithm: im2col (kernels/conv.cl) into a workspace, CLBlast SGEMM per group, then bias and
 * activation from the workspace into dst.
 *
 * For image n and group g, with P output positions, T = C/G * taps and N = K/G, CLBlast is called column-major:
 *   C' [P x N] = A' [P x T] B' [T x N],  A' = col [T][P],  B' = the weights packed as [T][N],  C' = out [N][P]
 * (each as it lies in memory; out is dst's layout). For CLBlast's tiled kernel (GEMMK = 0) these are exactly the
 * orientations it reads, so when P, T and N are also multiples of its tile sizes it runs on our buffers as they
 * are; otherwise it first makes padded copies of all three (a slower SGEMM).
 * clconv knows the tile sizes when it set them (tune.c, clconv__gemm_note_params) and then pads P, T and N in the
 * workspace: zero rows of col and of the packed weights past T, zero weight columns past N; the columns of col
 * past P and the rows of out past N are computed and never read. im2col mirrors the taps for convolution, so the
 * packing only transposes. A 1x1 kernel with stride 1, no padding and one group needs no im2col when nothing is
 * padded: the input is already col (one GEMM per image). The GEMM writes into the workspace and only the last pass, the
 * epilogue, writes dst: a failure before it leaves dst untouched. When the workspace cannot hold the whole batch, it is
 * processed in chunks of images, each written to dst as it completes. */
#define _POSIX_C_SOURCE 200809L /* pthread mutexes */
#include "internal.h"

#include <clblast_c.h>
#include <math.h>
#include <pthread.h>

/* CLBlast calls pass the fault layer too (a failure reads as CL_OUT_OF_RESOURCES). */
#define CLCONV__BLAS(call) (clconv__fault() ? CLBlastOpenCLOutOfResources : (call))

/* CLBlast 1.5.3 is not thread-safe: each call builds a Database from shared static tables, and two threads doing
 * so at once corrupt the heap (AddressSanitizer: heap-use-after-free in clblast::database::DatabaseVendor, found by
 * tests/test_threads.c; ThreadSanitizer reports the race). Every CLBlast call of the process goes through this
 * lock. Calls only enqueue, so the lock is held briefly, except for the first call of a kernel set (its build). */
static pthread_mutex_t blas_mutex = PTHREAD_MUTEX_INITIALIZER;
void clconv__blas_lock(void) { pthread_mutex_lock(&blas_mutex); }
void clconv__blas_unlock(void) { pthread_mutex_unlock(&blas_mutex); }

/* CLBlast keeps the programs it builds in a process-wide cache, each holding a reference to its OpenCL context, and
 * releases them in a static destructor at exit, after the OpenCL platform may have torn itself down (Oclgrind:
 * heap corruption at exit). So the contexts that made a CLBlast call are counted (under the lock), and the last one
 * to go clears the cache (CLBlastClearCache: programs and binaries; the parameters clconv set stay) before its
 * OpenCL context is released. */
static unsigned blas_contexts;

/* Takes the lock for a CLBlast call on ctx, counting ctx the first time. */
static void blas_enter(clconv_context *ctx) {
  clconv__blas_lock();
  if (!ctx->used_blas) {
    ctx->used_blas = true;
    blas_contexts++;
  }
}

void clconv__blas_release(clconv_context *ctx) {
  if (!ctx->used_blas)
    return;
  clconv__blas_lock();
  if (--blas_contexts == 0)
    CLBlastClearCache();
  clconv__blas_unlock();
  ctx->used_blas = false;
}

static const char *blas_status_name(CLBlastStatusCode st) {
  switch (st) {
  case CLBlastNotImplemented:
    return "CLBlastNotImplemented";
  case CLBlastInvalidLocalMemUsage:
    return "CLBlastInvalidLocalMemUsage";
  case CLBlastDatabaseError:
    return "CLBlastDatabaseError";
  case CLBlastInvalidOverrideKernel:
    return "CLBlastInvalidOverrideKernel";
  case CLBlastMissingOverrideParameter:
    return "CLBlastMissingOverrideParameter";
  case CLBlastInsufficientMemoryTemp:
    return "CLBlastInsufficientMemoryTemp";
  default:
    return st <= CLBlastInvalidLeadDimC && st >= CLBlastInsufficientMemoryY ? "CLBlast argument error"
                                                                            : "CLBlast error";
  }
}

/* OpenCL codes that CLBlast passes through map as clconv's own calls do; its own codes by what they mean. */
static clconv_status fail_blas(clconv_context *ctx, const char *call, const char *routine, CLBlastStatusCode st) {
  if (st == CLBlastOpenCLBuildProgramFailure)
    return clconv__fail(ctx, CLCONV_ERR_BUILD_FAILED, "%s: %s failed: CLBlast could not build its kernels (%d)", call,
                        routine, (int)st);
  if (st > -1000)
    return clconv__fail_cl(ctx, call, routine, (cl_int)st);
  clconv_status s = (st == CLBlastNotImplemented || st == CLBlastInvalidLocalMemUsage || st == CLBlastDatabaseError)
                        ? CLCONV_ERR_UNSUPPORTED
                        : CLCONV_ERR_OPENCL;
  return clconv__fail(ctx, s, "%s: %s failed: %s (CLBlast status %d)", call, routine, blas_status_name(st), (int)st);
}

/* CLBlast's Xgemm tile sizes (MWG, NWG, KWG) and XGEMM_MIN_INDIRECT_SIZE as clconv last set them, per device;
 * 0 where unknown. Process-wide like CLBlast's own parameters, and read and written under the CLBlast lock. */
typedef struct {
  cl_device_id dev;
  size_t m, n, k, min_indirect;
} blas_params;
static blas_params params[8];
static size_t n_params;

static blas_params *params_of(cl_device_id dev) {
  for (size_t i = 0; i < n_params; i++)
    if (params[i].dev == dev)
      return &params[i];
  if (n_params == sizeof params / sizeof params[0])
    return NULL; /* only a layout hint: a ninth device runs unpadded */
  params[n_params] = (blas_params){.dev = dev};
  return &params[n_params++];
}

void clconv__gemm_note_params(cl_device_id dev, const size_t *mnk, size_t min_indirect) {
  blas_params *p = params_of(dev);
  if (!p)
    return;
  if (mnk) {
    p->m = mnk[0];
    p->n = mnk[1];
    p->k = mnk[2];
  }
  if (min_indirect)
    p->min_indirect = min_indirect;
}

void clconv__gemm_forget_params(cl_device_id dev) {
  blas_params *p = params_of(dev);
  if (p)
    *p = (blas_params){.dev = dev};
}

static size_t round_up(size_t v, size_t q) { return (v + q - 1) / q * q; }

double clconv__gemm_mnk(const clconv__conv_geom *g) {
  double p = (double)g->out[0] * g->out[1] * g->out[2],
         t = (double)(g->c / g->groups) * g->ker[0] * g->ker[1] * g->ker[2];
  return (g->groups == 1 ? g->n * p : p) * (double)(g->k / g->groups) * t;
}

/* The matrices of one chunk of nb images, padded to CLBlast's tiles where clconv knows them and the GEMM goes to
 * the tiled kernel (CLBlast picks it for m * n * k >= XGEMM_MIN_INDIRECT_SIZE^3). One group: one GEMM for the
 * whole chunk, its M = nb * pp (the images side by side in every row of col and out). G groups: one batched GEMM of
 * nb * G products, the weights repeated per image (CLBlast 1.5.3's batched tiled kernel ignores the offsets and a
 * zero stride when it makes no copies, so every operand is a whole sub-buffer with a uniform stride). */
typedef struct {
  size_t p, t, n;     /* P, T, N padded */
  bool col;           /* the input is the column matrix (1x1, stride 1, no padding, one group, none added) */
  size_t align;       /* floats: sub-buffer origins are multiples of it */
  size_t fixed, each; /* floats of workspace: fixed + nb * each + 2 * align bounds a chunk's */
} gemm_layout;

static gemm_layout layout_of(clconv_context *ctx, const clconv__gemm *gm, const clconv__conv_geom *g) {
  const size_t kvol = (size_t)g->ker[0] * g->ker[1] * g->ker[2], groups = g->groups;
  const size_t p0 = (size_t)g->out[0] * g->out[1] * g->out[2], t0 = g->c / groups * kvol, n0 = g->k / groups;
  gemm_layout l = {.p = p0, .t = t0, .n = n0};
  clconv__blas_lock();
  blas_params *bp = params_of(ctx->device), q = bp ? *bp : (blas_params){0};
  clconv__blas_unlock();
  if (q.m && q.n && q.k && q.min_indirect) {
    size_t p = round_up(p0, q.m), t = round_up(t0, q.k), n = round_up(n0, q.n);
    double mi = (double)q.min_indirect;
    if (clconv__gemm_mnk(g) >= mi * mi * mi) { /* padded, it stays above */
      l.p = p;
      l.t = t;
      l.n = n;
    }
  }
  l.col = gm->is_col && groups == 1 && l.p == p0 && l.t == t0;
  l.align = ctx->prof.mem_align_bits / 8 / sizeof(float);
  if (l.align < 1)
    l.align = 1;
  /* each operand below 2^31 floats unpadded (checked at create) and the tiles at most 4096: no overflow */
  l.fixed = groups == 1 ? l.t * l.n : 0;
  l.each = groups * ((l.col ? 0 : l.t * l.p) + l.n * l.p + (groups == 1 ? 0 : l.t * l.n));
  return l;
}

/* Workspace floats for a chunk of nb images of G groups, and the offsets of its three operands: the packed weights at
 * 0 (once, or per image with groups), col at *a_at, out at *c_at. At most fixed + nb * each + 2 * (align - 1). */
static size_t chunk_floats(const gemm_layout *l, size_t groups, size_t nb, size_t *a_at, size_t *c_at) {
  size_t w = groups == 1 ? l->t * l->n : nb * groups * l->t * l->n, a = l->col ? 0 : nb * groups * l->t * l->p;
  *a_at = round_up(w, l->align);
  *c_at = round_up(*a_at + a, l->align);
  return *c_at + nb * groups * l->n * l->p;
}

/* Workspace floats for one image (the least a chunk needs). */
static size_t one_image_floats(const gemm_layout *l) { return l->fixed + l->each + 2 * (l->align - 1); }

clconv_status clconv__gemm_create(clconv_context *ctx, const clconv__conv_geom *g, const char *options,
                                  clconv__gemm *out) {
  memset(out, 0, sizeof *out);
  size_t npos = (size_t)g->out[0] * g->out[1] * g->out[2], kvol = (size_t)g->ker[0] * g->ker[1] * g->ker[2];
  /* a float32 input can be the column matrix itself; a 16-bit one goes through im2col, which widens it */
  out->is_col = g->dt == CLCONV_F32 && kvol == 1 && g->stride[0] * g->stride[1] * g->stride[2] == 1 &&
                g->pad[0] + g->pad[1] + g->pad[2] == 0 && npos == (size_t)g->in[0] * g->in[1] * g->in[2];
  gemm_layout l = layout_of(ctx, out, g);
  size_t one = one_image_floats(&l);
  CLCONV__CHECK(ctx, one <= CLCONV__MAX_KERNEL_ELEMS && one * sizeof(float) <= ctx->prof.max_alloc_bytes,
                CLCONV_ERR_UNSUPPORTED,
                "conv_create: the gemm algorithm needs a workspace of %zu bytes for one image; the device allows %llu "
                "bytes per buffer and the kernels index at most %zu floats",
                one * sizeof(float), (unsigned long long)ctx->prof.max_alloc_bytes, CLCONV__MAX_KERNEL_ELEMS);
  clconv_status s = clconv__kernel_create(ctx, CLCONV__FAMILY_CONV, options, "clconv_gemm_epilogue", &out->epilogue);
  char types[32];
  clconv__dtype_options(g->dt, g->dt, types, sizeof types);
  if (s == CLCONV_OK)
    s = clconv__kernel_create(ctx, CLCONV__FAMILY_PACK, types, "clconv_gemm_weights", &out->weights);
  if (s == CLCONV_OK)
    s = clconv__kernel_create(ctx, CLCONV__FAMILY_CONV, options, "clconv_im2col", &out->im2col);
  if (s != CLCONV_OK)
    clconv__gemm_release(out);
  return s;
}

void clconv__gemm_release(clconv__gemm *gm) {
  clconv__kernel_release(&gm->im2col);
  clconv__kernel_release(&gm->weights);
  clconv__kernel_release(&gm->epilogue);
  if (gm->user_ws)
    clReleaseMemObject(gm->user_ws);
  gm->user_ws = NULL;
}

void clconv__gemm_workspace(clconv_context *ctx, const clconv__gemm *gm, const clconv__conv_geom *g, size_t *min_bytes,
                            size_t *full_bytes) {
  gemm_layout l = layout_of(ctx, gm, g);
  size_t all, extra = one_image_floats(&l) - l.each;
  *min_bytes = one_image_floats(&l) * sizeof(float);
  if (clconv__mul_size(l.each, g->n, &all) && all <= SIZE_MAX / sizeof(float) - extra)
    *full_bytes = (all + extra) * sizeof(float);
  else
    *full_bytes = SIZE_MAX;
}

/* Images per chunk for a workspace of cap bytes: also within the kernels' int indexing. 0: not even one. */
static size_t chunk_images(const gemm_layout *l, const clconv__conv_geom *g, size_t cap) {
  size_t floats = cap / sizeof(float), extra = one_image_floats(l) - l->each;
  if (floats > CLCONV__MAX_KERNEL_ELEMS)
    floats = CLCONV__MAX_KERNEL_ELEMS;
  size_t nb = floats < extra ? 0 : (floats - extra) / l->each;
  return nb < g->n ? nb : g->n;
}

/* The workspace for this run and the images per chunk it allows. */
static clconv_status workspace_for(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g,
                                   const gemm_layout *l, cl_mem *ws, size_t *nb) {
  size_t one = one_image_floats(l) * sizeof(float);
  if (gm->user_ws) {
    *nb = chunk_images(l, g, gm->user_ws_bytes);
    CLCONV__CHECK(ctx, *nb > 0, CLCONV_ERR_INVALID_ARGUMENT,
                  "conv_run: the workspace set with conv_set_workspace holds %zu bytes; the gemm algorithm now needs "
                  "%zu for one image (CLBlast's parameters changed since: ask clconv_conv_workspace_size again)",
                  gm->user_ws_bytes, one);
    *ws = gm->user_ws;
    return CLCONV_OK;
  }
  *nb = chunk_images(l, g, (size_t)(ctx->prof.max_alloc_bytes < SIZE_MAX ? ctx->prof.max_alloc_bytes : SIZE_MAX));
  CLCONV__CHECK(ctx, *nb > 0, CLCONV_ERR_UNSUPPORTED,
                "conv_run: the gemm algorithm needs a workspace of %zu bytes for one image; the device allows %llu "
                "bytes per buffer",
                one, (unsigned long long)ctx->prof.max_alloc_bytes);
  size_t a_at, c_at, need = chunk_floats(l, g->groups, *nb, &a_at, &c_at) * sizeof(float);
  if (ctx->workspace_bytes < need) {
    if (ctx->workspace)
      clReleaseMemObject(ctx->workspace);
    ctx->workspace = NULL;
    ctx->workspace_bytes = 0;
    cl_int err;
    ctx->workspace = CLCONV__CLOBJ(&err, clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, need, NULL, &err));
    if (!ctx->workspace)
      return clconv__fail_cl(ctx, "conv_run", "clCreateBuffer (gemm workspace)", err);
    ctx->workspace_bytes = need;
  }
  *ws = ctx->workspace;
  return CLCONV_OK;
}

/* Sub-buffers of ws (itself possibly a sub-buffer of a host program's buffer) for CLBlast's operands, each at
 * offset 0 of its own: CLBlast's tiled kernel works in place only on operands at offset 0. at is a multiple of
 * the device's base address alignment (chunk_floats), as is the origin of any sub-buffer. */
static clconv_status sub_buffer(clconv_context *ctx, cl_mem ws, size_t at, size_t floats, cl_mem *out) {
  cl_mem root = NULL;
  size_t origin = 0;
  cl_int err = CLCONV__CL(clGetMemObjectInfo(ws, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof root, &root, NULL));
  if (err == CL_SUCCESS && root)
    err = CLCONV__CL(clGetMemObjectInfo(ws, CL_MEM_OFFSET, sizeof origin, &origin, NULL));
  if (err == CL_SUCCESS) {
    cl_buffer_region r = {origin + at * sizeof(float), floats * sizeof(float)};
    *out = CLCONV__CLOBJ(
        &err, clCreateSubBuffer(root ? root : ws, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &err));
  }
  if (err != CL_SUCCESS)
    return clconv__fail_cl(ctx, "conv_run", "clCreateSubBuffer (gemm workspace)", err);
  return CLCONV_OK;
}

/* The GEMM of one chunk: one call for one group, a batched one over images and groups otherwise. */
static clconv_status chunk_gemm(clconv_context *ctx, const gemm_layout *l, size_t groups, size_t nb, cl_mem a, cl_mem b,
                                cl_mem c) {
  const size_t m = groups == 1 ? nb * l->p : l->p, batch = groups == 1 ? 1 : nb * groups;
  blas_enter(ctx);
  CLBlastStatusCode st =
      batch == 1
          ? CLCONV__BLAS(CLBlastSgemm(CLBlastLayoutColMajor, CLBlastTransposeNo, CLBlastTransposeYes, m, l->n, l->t,
                                      1.0f, a, 0, m, b, 0, l->n, 0.0f, c, 0, m, &ctx->queue, NULL))
          : CLCONV__BLAS(CLBlastSgemmStridedBatched(CLBlastLayoutColMajor, CLBlastTransposeNo, CLBlastTransposeYes, m,
                                                    l->n, l->t, 1.0f, a, 0, m, l->t * l->p, b, 0, l->n, l->t * l->n,
                                                    0.0f, c, 0, m, l->n * l->p, batch, &ctx->queue, NULL));
  clconv__blas_unlock();
  if (st != CLBlastSuccess)
    return fail_blas(ctx, "conv_run", batch == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched", st);
  return CLCONV_OK;
}

/* The GEMMs of a chunk whose input is the column matrix: one per image, A in src at the image's offset (CLBlast's
 * non-batched GEMM honours offsets), C side by side as chunk_gemm's. */
static clconv_status col_gemm(clconv_context *ctx, const gemm_layout *l, size_t nb, cl_mem src, size_t at, cl_mem b,
                              cl_mem c) {
  for (size_t i = 0; i < nb; i++) {
    blas_enter(ctx);
    CLBlastStatusCode st = CLCONV__BLAS(CLBlastSgemm(CLBlastLayoutColMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                                     l->p, l->n, l->t, 1.0f, src, at + i * l->t * l->p, l->p, b, 0,
                                                     l->n, 0.0f, c, i * l->p, nb * l->p, &ctx->queue, NULL));
    clconv__blas_unlock();
    if (st != CLBlastSuccess)
      return fail_blas(ctx, "conv_run", "CLBlastSgemm", st);
  }
  return CLCONV_OK;
}

/* The GEMM of the chunk of nb images from n0, its operands already in ws, reps times; ms: NULL, or the fastest
 * wall time of one (each waited for), as tune.c measures. */
static clconv_status gemm_of_chunk(clconv_context *ctx, const gemm_layout *l, const clconv__conv_geom *g, cl_mem ws,
                                   cl_mem src, size_t n0, size_t nb, uint32_t reps, double *ms) {
  size_t a_at, c_at, total = chunk_floats(l, g->groups, nb, &a_at, &c_at), npos = l->col ? l->p : 0;
  cl_mem sa = NULL, sb = NULL, sc = NULL;
  clconv_status s = sub_buffer(ctx, ws, 0, a_at, &sb);
  if (s == CLCONV_OK && !l->col)
    s = sub_buffer(ctx, ws, a_at, c_at - a_at, &sa);
  if (s == CLCONV_OK)
    s = sub_buffer(ctx, ws, c_at, total - c_at, &sc);
  double fastest = INFINITY;
  for (uint32_t r = 0; s == CLCONV_OK && r < reps; r++) {
    double t0 = clconv__now_s();
    s = l->col ? col_gemm(ctx, l, nb, src, n0 * g->c * npos, sb, sc) : chunk_gemm(ctx, l, g->groups, nb, sa, sb, sc);
    if (s == CLCONV_OK && ms) {
      cl_int err = CLCONV__CL(clFinish(ctx->queue));
      if (err != CL_SUCCESS)
        s = clconv__fail_cl(ctx, "conv_run", "clFinish", err);
      fastest = fmin(fastest, (clconv__now_s() - t0) * 1e3);
    }
  }
  for (cl_mem *m = (cl_mem[]){sa, sb, sc}, *e = m + 3; m < e; m++)
    if (*m)
      clReleaseMemObject(*m);
  if (s == CLCONV_OK && ms)
    *ms = fastest;
  return s;
}

clconv_status clconv__gemm_time(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g, cl_mem src,
                                uint32_t reps, double *ms) {
  const gemm_layout l = layout_of(ctx, gm, g);
  cl_mem ws = NULL;
  size_t chunk = 0;
  CLCONV__TRY(workspace_for(ctx, gm, g, &l, &ws, &chunk));
  return gemm_of_chunk(ctx, &l, g, ws, src, 0, chunk, reps ? reps : 1, ms);
}

clconv_status clconv__gemm_warm_up(clconv_context *ctx) {
  cl_mem m[3] = {NULL, NULL, NULL};
  clconv_status s = CLCONV_OK;
  for (int i = 0; i < 3 && s == CLCONV_OK; i++) {
    cl_int err;
    m[i] = CLCONV__CLOBJ(&err, clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, 16 * sizeof(float), NULL, &err));
    if (!m[i])
      s = clconv__fail_cl(ctx, "context_create", "clCreateBuffer (gemm warm-up)", err);
  }
  if (s == CLCONV_OK) {
    const float zero[16] = {0};
    cl_int err = CLCONV__CL(clEnqueueWriteBuffer(ctx->queue, m[0], CL_TRUE, 0, sizeof zero, zero, 0, NULL, NULL));
    if (err == CL_SUCCESS)
      err = CLCONV__CL(clEnqueueWriteBuffer(ctx->queue, m[1], CL_TRUE, 0, sizeof zero, zero, 0, NULL, NULL));
    if (err != CL_SUCCESS)
      s = clconv__fail_cl(ctx, "context_create", "clEnqueueWriteBuffer (gemm warm-up)", err);
  }
  for (int batched = 0; batched < 2 && s == CLCONV_OK; batched++) {
    blas_enter(ctx);
    CLBlastStatusCode st =
        batched ? CLCONV__BLAS(CLBlastSgemmStridedBatched(CLBlastLayoutColMajor, CLBlastTransposeNo,
                                                          CLBlastTransposeYes, 1, 1, 1, 1.0f, m[0], 0, 1, 1, m[1], 0, 1,
                                                          1, 0.0f, m[2], 0, 1, 1, 1, &ctx->queue, NULL))
                : CLCONV__BLAS(CLBlastSgemm(CLBlastLayoutColMajor, CLBlastTransposeNo, CLBlastTransposeYes, 1, 1, 1,
                                            1.0f, m[0], 0, 1, m[1], 0, 1, 0.0f, m[2], 0, 1, &ctx->queue, NULL));
    clconv__blas_unlock();
    if (st != CLBlastSuccess)
      s = fail_blas(ctx, "context_create (warm_up_gemm)", batched ? "CLBlastSgemmStridedBatched" : "CLBlastSgemm", st);
  }
  if (s == CLCONV_OK) {
    cl_int err = CLCONV__CL(clFinish(ctx->queue));
    if (err != CL_SUCCESS)
      s = clconv__fail_cl(ctx, "context_create", "clFinish (gemm warm-up)", err);
  }
  for (int i = 0; i < 3; i++)
    if (m[i])
      clReleaseMemObject(m[i]);
  return s;
}

clconv_status clconv__gemm_run(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g,
                               const clconv_activation *act, cl_mem src, cl_mem wei, cl_mem bias,
                               const clconv__residual *res, cl_mem dst) {
  const gemm_layout l = layout_of(ctx, gm, g);
  cl_mem ws = NULL;
  size_t chunk = 0;
  CLCONV__TRY(workspace_for(ctx, gm, g, &l, &ws, &chunk));
  const size_t npos = (size_t)g->out[0] * g->out[1] * g->out[2], kvol = (size_t)g->ker[0] * g->ker[1] * g->ker[2],
               groups = g->groups;
  cl_int cin = (cl_int)g->c, cout = (cl_int)g->k, ngroups = (cl_int)groups, t = (cl_int)(g->c / groups * kvol),
         tp = (cl_int)l.t, n = (cl_int)(g->k / groups), np = (cl_int)l.n, p = (cl_int)npos;
  cl_int4 isz = clconv__int4(g->in), osz = clconv__int4(g->out), ksz = clconv__int4(g->ker),
          str = clconv__int4(g->stride), dil = clconv__int4(g->dil), pad = clconv__int4(g->pad);
  clconv_status s = CLCONV_OK;
  for (size_t n0 = 0; s == CLCONV_OK && n0 < g->n; n0 += chunk) {
    const size_t nb = chunk < g->n - n0 ? chunk : g->n - n0;
    size_t a_at, c_at;
    chunk_floats(&l, groups, nb, &a_at, &c_at);
    /* element strides of col and out: between rows (channel-taps, output channels) and between (image, group)
     * blocks; one group puts the images side by side in each row */
    cl_int row = (cl_int)(groups == 1 ? nb * l.p : l.p), blk_a = (cl_int)(groups == 1 ? l.p : l.t * l.p),
           blk_c = (cl_int)(groups == 1 ? l.p : l.n * l.p), first = (cl_int)n0, a_off = (cl_int)a_at,
           c_off = (cl_int)c_at, to = (cl_int)(n0 * g->k * npos), copies = (cl_int)(groups == 1 ? 1 : nb * groups);
    { /* B': the weights [G][N][T] as [copies][tp][np] at the start of the chunk's workspace */
      const clconv__arg args[] = {{sizeof(cl_mem), &wei}, {sizeof(cl_mem), &ws}, {sizeof ngroups, &ngroups},
                                  {sizeof t, &t},         {sizeof n, &n},        {sizeof tp, &tp},
                                  {sizeof np, &np}};
      const size_t range[3] = {l.n, l.t, (size_t)copies};
      s = clconv__kernel_launch(ctx, "conv_run", &gm->weights, args, sizeof args / sizeof args[0], 3, range, NULL);
    }
    if (s == CLCONV_OK && !l.col) {
      const clconv__arg args[] = {{sizeof(cl_mem), &src},     {sizeof(cl_mem), &ws},  {sizeof a_off, &a_off},
                                  {sizeof row, &row},         {sizeof blk_a, &blk_a}, {sizeof cin, &cin},
                                  {sizeof ngroups, &ngroups}, {sizeof tp, &tp},       {sizeof first, &first},
                                  {sizeof isz, &isz},         {sizeof osz, &osz},     {sizeof ksz, &ksz},
                                  {sizeof str, &str},         {sizeof dil, &dil},     {sizeof pad, &pad}};
      const size_t range[3] = {g->out[2], g->out[1], (size_t)g->out[0] * nb * groups * l.t};
      size_t local[3];
      clconv__plane_local(g->out[2], local); /* rows of one output plane: see the kernel */
      s = clconv__kernel_launch(ctx, "conv_run", &gm->im2col, args, sizeof args / sizeof args[0], 3, range, local);
    }
    if (s == CLCONV_OK)
      s = gemm_of_chunk(ctx, &l, g, ws, src, n0, nb, 1, NULL);
    if (s == CLCONV_OK) {
      const clconv__arg args[] = {{sizeof(cl_mem), &ws},
                                  {sizeof(cl_mem), &dst},
                                  {sizeof(cl_mem), bias ? &bias : NULL},
                                  {sizeof(cl_mem), res->mem ? &res->mem : NULL},
                                  {sizeof c_off, &c_off},
                                  {sizeof row, &row},
                                  {sizeof blk_c, &blk_c},
                                  {sizeof to, &to},
                                  {sizeof cout, &cout},
                                  {sizeof n, &n},
                                  {sizeof p, &p},
                                  {sizeof(float), &act->alpha},
                                  {sizeof(float), &act->beta},
                                  {sizeof(float), &res->scale}};
      const size_t range[3] = {npos, g->k, nb}, local[3] = {64, 1, 1}; /* one shape: see clconv__plane_local */
      s = clconv__kernel_launch(ctx, "conv_run", &gm->epilogue, args, sizeof args / sizeof args[0], 3, range, local);
    }
  }
  return s;
}
