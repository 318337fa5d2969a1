/* The gemm convolution algorithm: im2col (kernels/conv.cl) into a workspace, CLBlast SGEMM per group, then bias and
 * activation from the workspace into dst.
 *
 * For image n and group g, with P output positions and T = C/G * taps rows:
 *   weights [K/G][T] (OIHW as it is, row-major)  x  col [T][P]  =  out [K/G][P]  (dst's NCHW layout).
 * im2col mirrors the taps for convolution, so the weights are never rewritten. A 1x1 kernel with stride 1 and no
 * padding needs no im2col: the input is already col. The GEMM writes into the workspace and only the last pass,
 * the epilogue, writes dst: a failure before it leaves dst untouched. When the workspace cannot hold the whole
 * batch, it is processed in chunks of images, each written to dst as it completes. */
#define _POSIX_C_SOURCE 200809L /* pthread mutexes */
#include "internal.h"

#include <clblast_c.h>
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

/* Workspace floats per image: its column matrix (none for 1x1) and its staged output. */
static size_t image_floats(const clconv__gemm *gm) { return gm->col_per_image + gm->out_per_image; }

clconv_status clconv__gemm_create(clconv_context *ctx, const clconv__conv_geom *g, const char *options,
                                  clconv__gemm *out) {
  memset(out, 0, sizeof *out);
  size_t npos = (size_t)g->out[0] * g->out[1] * g->out[2], kvol = (size_t)g->ker[0] * g->ker[1] * g->ker[2];
  bool is_col = kvol == 1 && g->stride[0] * g->stride[1] * g->stride[2] == 1 &&
                g->pad[0] + g->pad[1] + g->pad[2] == 0 && npos == (size_t)g->in[0] * g->in[1] * g->in[2];
  /* each < src_count or dst_count times taps, all checked < 2^31 by conv_create, so no overflow in size_t */
  out->col_per_image = is_col ? 0 : (size_t)g->c * kvol * npos;
  out->out_per_image = (size_t)g->k * npos;
  size_t per_image = image_floats(out) * sizeof(float);
  CLCONV__CHECK(ctx, image_floats(out) <= CLCONV__MAX_KERNEL_ELEMS && per_image <= ctx->max_alloc_bytes,
                CLCONV_ERR_UNSUPPORTED,
                "conv_create: the gemm algorithm needs a workspace of %zu bytes for one image; the device allows %llu "
                "bytes per buffer and the kernels index at most %zu floats",
                per_image, (unsigned long long)ctx->max_alloc_bytes, CLCONV__MAX_KERNEL_ELEMS);
  clconv_status s = clconv__kernel_create(ctx, CLCONV__FAMILY_CONV, options, "clconv_gemm_epilogue", &out->epilogue);
  if (s == CLCONV_OK && !is_col)
    s = clconv__kernel_create(ctx, CLCONV__FAMILY_CONV, options, "clconv_im2col", &out->im2col);
  if (s != CLCONV_OK)
    clconv__gemm_release(out);
  return s;
}

void clconv__gemm_release(clconv__gemm *gm) {
  clconv__kernel_release(&gm->im2col);
  clconv__kernel_release(&gm->epilogue);
  if (gm->user_ws)
    clReleaseMemObject(gm->user_ws);
  gm->user_ws = NULL;
}

void clconv__gemm_workspace(const clconv__gemm *gm, const clconv__conv_geom *g, size_t *min_bytes, size_t *full_bytes) {
  *min_bytes = image_floats(gm) * sizeof(float);
  if (!clconv__mul_size(*min_bytes, g->n, full_bytes))
    *full_bytes = SIZE_MAX;
}

/* Images per chunk for a workspace of cap bytes: also within the kernels' int indexing. */
static size_t chunk_images(const clconv__gemm *gm, const clconv__conv_geom *g, size_t cap) {
  size_t per = image_floats(gm), nb = cap / (per * sizeof(float));
  if (nb > CLCONV__MAX_KERNEL_ELEMS / per)
    nb = CLCONV__MAX_KERNEL_ELEMS / per;
  return nb < g->n ? nb : g->n;
}

/* The workspace for this run and the images per chunk it allows. */
static clconv_status workspace_for(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g, cl_mem *ws,
                                   size_t *nb) {
  if (gm->user_ws) {
    *ws = gm->user_ws;
    *nb = chunk_images(gm, g, gm->user_ws_bytes);
    return CLCONV_OK;
  }
  *nb = chunk_images(gm, g, (size_t)(ctx->max_alloc_bytes < SIZE_MAX ? ctx->max_alloc_bytes : SIZE_MAX));
  size_t need = *nb * image_floats(gm) * sizeof(float);
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

clconv_status clconv__gemm_run(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g,
                               const clconv_activation *act, cl_mem src, cl_mem wei, cl_mem bias, cl_mem dst) {
  cl_mem ws;
  size_t chunk;
  CLCONV__TRY(workspace_for(ctx, gm, g, &ws, &chunk));
  const size_t npos = (size_t)g->out[0] * g->out[1] * g->out[2], kvol = (size_t)g->ker[0] * g->ker[1] * g->ker[2],
               cin_g = g->c / g->groups, cout_g = g->k / g->groups, rows = cin_g * kvol;
  cl_int cin = (cl_int)g->c, cout = (cl_int)g->k, np = (cl_int)npos;
  cl_int4 isz = clconv__int4(g->in), osz = clconv__int4(g->out), ksz = clconv__int4(g->ker),
          str = clconv__int4(g->stride), dil = clconv__int4(g->dil), pad = clconv__int4(g->pad);
  for (size_t n0 = 0; n0 < g->n; n0 += chunk) {
    const size_t nb = chunk < g->n - n0 ? chunk : g->n - n0, out_at = nb * gm->col_per_image;
    cl_int first = (cl_int)n0;
    if (gm->col_per_image) {
      const clconv__arg args[] = {{sizeof(cl_mem), &src}, {sizeof(cl_mem), &ws}, {sizeof cin, &cin},
                                  {sizeof first, &first}, {sizeof isz, &isz},    {sizeof osz, &osz},
                                  {sizeof ksz, &ksz},     {sizeof str, &str},    {sizeof dil, &dil},
                                  {sizeof pad, &pad}};
      const size_t range[3] = {g->out[2], (size_t)g->out[0] * g->out[1], nb * g->c * kvol};
      size_t local[3];
      clconv__one_row_local(g->out[2], local);
      CLCONV__TRY(
          clconv__kernel_launch(ctx, "conv_run", &gm->im2col, args, sizeof args / sizeof args[0], 3, range, local));
    }
    /* The column matrix of image b, group gr, in the workspace or (1x1) in src. CLBlast is called column-major,
     * as C' [P x K/G] = A' [P x T] B' [T x K/G]: col [T][P], the weights [K/G][T] and the output [K/G][P] are those
     * matrices as they lie in memory, and P, the longest axis, is CLBlast's M. For its tiled kernel only the small
     * weight matrix then needs a transposed copy; the row-major form of the same product needs one of the column
     * matrix and one of the output (measured: 1.2x faster SGEMM with tuned parameters on the vgg shape). */
    cl_mem amat = gm->col_per_image ? ws : src;
    size_t a_base = gm->col_per_image ? 0 : n0 * g->c * npos;
    /* one group: every image of the chunk in one batched call (the weights repeat: stride 0); else per image,
     * batched over groups. A and C advance by one group's block either way (with one group, that is an image). */
    size_t calls = g->groups == 1 ? 1 : nb, batch = g->groups == 1 ? nb : g->groups;
    size_t a_stride = rows * npos, b_stride = g->groups == 1 ? 0 : cout_g * rows, c_stride = cout_g * npos;
    for (size_t b = 0; b < calls; b++) {
      size_t a_off = a_base + b * g->c * kvol * npos, c_off = out_at + b * g->k * npos;
      clconv__blas_lock();
      CLBlastStatusCode st =
          batch == 1 ? CLCONV__BLAS(CLBlastSgemm(CLBlastLayoutColMajor, CLBlastTransposeNo, CLBlastTransposeNo, npos,
                                                 cout_g, rows, 1.0f, amat, a_off, npos, wei, 0, rows, 0.0f, ws, c_off,
                                                 npos, &ctx->queue, NULL))
                     : CLCONV__BLAS(CLBlastSgemmStridedBatched(CLBlastLayoutColMajor, CLBlastTransposeNo,
                                                               CLBlastTransposeNo, npos, cout_g, rows, 1.0f, amat,
                                                               a_off, npos, a_stride, wei, 0, rows, b_stride, 0.0f,
                                                               ws, c_off, npos, c_stride, batch, &ctx->queue, NULL));
      clconv__blas_unlock();
      if (st != CLBlastSuccess)
        return fail_blas(ctx, "conv_run", batch == 1 ? "CLBlastSgemm" : "CLBlastSgemmStridedBatched", st);
    }
    cl_int from = (cl_int)out_at, to = (cl_int)(n0 * gm->out_per_image), total = (cl_int)(nb * gm->out_per_image);
    const clconv__arg args[] = {{sizeof(cl_mem), &ws},
                                {sizeof(cl_mem), &dst},
                                {sizeof(cl_mem), bias ? &bias : NULL},
                                {sizeof from, &from},
                                {sizeof to, &to},
                                {sizeof cout, &cout},
                                {sizeof np, &np},
                                {sizeof(float), &act->alpha},
                                {sizeof(float), &act->beta},
                                {sizeof total, &total}};
    CLCONV__TRY(clconv__kernel_launch(ctx, "conv_run", &gm->epilogue, args, sizeof args / sizeof args[0], 1,
                                      &(size_t){(size_t)total}, NULL));
  }
  return CLCONV_OK;
}
