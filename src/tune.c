/* The tuning search (clconv_tune): CLBlast's GEMM parameters, direct against gemm and the direct kernels per shape,
 * every candidate validated against the CPU reference before it is timed; the result goes to the tuning file
 * (tuning.c). */
#include "tuning.h"

#include <math.h>

typedef struct tune_case {
  clconv_conv_desc d;
  clconv__conv_geom g;
  clconv_tensor *x, *w, *b, *y;
  float *ref, *mag, *got, *nan;
  clconv_tolerance tol;
  clconv_conv *gemm, *direct;
  double mnk;                                          /* the GEMM's m * n * k, for CLBlast's direct/tiled switch */
  double untuned, all_direct, best, final, direct_ms;  /* milliseconds */
  double untuned_sgemm, all_direct_sgemm, final_sgemm; /* CLBlast's SGEMM alone within those */
} tune_case;

/* One validated measurement: a first run (which may compile) checked against the reference on an output filled
 * with NaN beforehand, then reps timed runs; *ms = the fastest, or INFINITY when the output was wrong. The fastest
 * rather than the median: on a shared machine the noise only ever adds time, and the comparisons here (a candidate
 * against the defaults, measured minutes apart) must not hinge on it. */
static clconv_status measure(clconv_context *ctx, tune_case *tc, clconv_conv *op, uint32_t reps, double *ms,
                             double *sgemm) {
  size_t n = tc->g.dst_count;
  CLCONV__TRY(clconv_tensor_write(tc->y, tc->nan, n));
  CLCONV__TRY(clconv_conv_run(op, tc->x, NULL, NULL, NULL, tc->y));
  CLCONV__TRY(clconv_tensor_read(tc->y, tc->got, n));
  clconv_compare_result res;
  CLCONV__TRY(clconv_compare(tc->got, tc->ref, tc->mag, n, &tc->tol, &res));
  if (res.mismatches) {
    *ms = INFINITY;
    return CLCONV_OK;
  }
  if (reps > 64)
    reps = 64;
  *ms = INFINITY;
  for (uint32_t r = 0; r < reps; r++) {
    double t0 = clconv__now_s();
    CLCONV__TRY(clconv_conv_run(op, tc->x, NULL, NULL, NULL, tc->y));
    cl_int err = CLCONV__CL(clFinish(ctx->queue));
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, "tune", "clFinish", err);
    *ms = fmin(*ms, (clconv__now_s() - t0) * 1e3);
  }
  if (sgemm) /* the op has just run: the workspace holds the GEMM's operands */
    CLCONV__TRY(clconv__conv_time_gemm(op, tc->x, reps, sgemm));
  return CLCONV_OK;
}

static clconv_status case_setup(clconv_context *ctx, tune_case *tc, uint64_t *seed) {
  uint32_t ss[5], ws[5], ds[5], nd = tc->g.ndim + 2;
  CLCONV__TRY(clconv_conv_shapes(&tc->d, ss, ws, ds));
  size_t sc = tc->g.src_count, wc = tc->g.wei_count, dc = tc->g.dst_count, k = tc->g.k;
  float *x = clconv__malloc(sc * sizeof *x), *w = clconv__malloc(wc * sizeof *w), *b = clconv__malloc(k * sizeof *b);
  tc->ref = clconv__malloc(dc * sizeof(float));
  tc->mag = clconv__malloc(dc * sizeof(float));
  tc->got = clconv__malloc(dc * sizeof(float));
  tc->nan = clconv__malloc(dc * sizeof(float));
  clconv_status s = CLCONV_OK;
  if (!x || !w || !b || !tc->ref || !tc->mag || !tc->got || !tc->nan)
    s = clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "tune: out of host memory");
  for (size_t i = 0; s == CLCONV_OK && i < sc + wc + k; i++) {
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    float v = (float)((double)(*seed >> 40) * 0x1p-23 - 1.0); /* [-1, 1) */
    if (i < sc)
      x[i] = v;
    else if (i < sc + wc)
      w[i - sc] = v;
    else
      b[i - sc - wc] = v;
  }
  for (size_t i = 0; s == CLCONV_OK && i < dc; i++)
    tc->nan[i] = NAN;
  if (s == CLCONV_OK)
    s = clconv_ref_conv(&tc->d, x, w, tc->d.has_bias ? b : NULL, NULL, tc->ref, tc->mag);
  if (s == CLCONV_OK)
    s = clconv_conv_tolerance(&tc->d, &tc->tol);
  if (s != CLCONV_OK && s != CLCONV_ERR_OUT_OF_MEMORY) /* the reference reports on the thread's error */
    s = clconv__fail(ctx, s, "tune: reference: %s", clconv_last_error(NULL));
  if (s == CLCONV_OK)
    s = clconv_tensor_create(ctx, CLCONV_F32, nd, ss, &tc->x);
  if (s == CLCONV_OK)
    s = clconv_tensor_write(tc->x, x, sc);
  if (s == CLCONV_OK)
    s = clconv_tensor_create(ctx, CLCONV_F32, nd, ws, &tc->w);
  if (s == CLCONV_OK)
    s = clconv_tensor_write(tc->w, w, wc);
  if (s == CLCONV_OK && tc->d.has_bias)
    s = clconv_tensor_create(ctx, CLCONV_F32, 1, &ds[1], &tc->b);
  if (s == CLCONV_OK && tc->d.has_bias)
    s = clconv_tensor_write(tc->b, b, k);
  if (s == CLCONV_OK)
    s = clconv_tensor_create(ctx, CLCONV_F32, nd, ds, &tc->y);
  clconv_conv_desc d = tc->d;
  d.algorithm = CLCONV_ALGO_GEMM;
  if (s == CLCONV_OK)
    s = clconv_conv_create(ctx, &d, &tc->gemm);
  if (s == CLCONV_OK)
    s = clconv_conv_set_weights(tc->gemm, tc->w, tc->b);
  d.algorithm = CLCONV_ALGO_DIRECT;
  if (s == CLCONV_OK)
    s = clconv_conv_create(ctx, &d, &tc->direct);
  if (s == CLCONV_OK)
    s = clconv_conv_set_weights(tc->direct, tc->w, tc->b);
  clconv__free(x);
  clconv__free(w);
  clconv__free(b);
  tc->mnk = clconv__gemm_mnk(&tc->g);
  return s;
}

static void case_free(tune_case *tc) {
  clconv_conv_destroy(tc->gemm);
  clconv_conv_destroy(tc->direct);
  clconv_tensor_destroy(tc->x);
  clconv_tensor_destroy(tc->w);
  clconv_tensor_destroy(tc->b);
  clconv_tensor_destroy(tc->y);
  clconv__free(tc->ref);
  clconv__free(tc->mag);
  clconv__free(tc->got);
  clconv__free(tc->nan);
}

/* Candidate k of the Xgemm search, in a fixed order: first five starting points (the four fastest sets CLBlast's
 * own tuner found for a 256^3 SGEMM on a 2-core AVX-512 CPU, and a GPU-style set with local memory), then the grid
 * MWG, NWG in {32, 64, 128}, KWG in {16, 32}, MDIMC = MDIMA and NDIMC = NDIMB in {8, 16}, VWM, VWN in {2, 4, 8},
 * SA = SB in {0, 1}, visited with a stride coprime to its size. false when k is past the end. Sets that break
 * CLBlast's constraints or the device's limits are skipped by the caller. Values in xgemm_names order. */
static bool candidate(size_t k, size_t v[XGEMM_N]) {
  static const size_t seeds[5][XGEMM_N] = {
      /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
      {0, 1, 16, 2, 16, 8, 128, 8, 8, 64, 0, 0, 0, 0, 4, 2},   {0, 1, 32, 2, 8, 8, 64, 32, 8, 128, 0, 0, 0, 0, 8, 4},
      {0, 1, 32, 2, 8, 8, 128, 8, 8, 64, 1, 0, 1, 0, 8, 8},    {0, 1, 32, 2, 8, 8, 64, 8, 8, 32, 0, 0, 0, 0, 4, 4},
      {0, 1, 16, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 2, 2},
  };
  static const size_t wg[3] = {32, 64, 128}, kw[2] = {16, 32}, dim[2] = {8, 16}, vw[3] = {2, 4, 8};
  const size_t nseeds = sizeof seeds / sizeof seeds[0], grid = 3 * 3 * 2 * 2 * 2 * 3 * 3 * 2;
  if (k < nseeds) {
    memcpy(v, seeds[k], sizeof seeds[k]);
    return true;
  }
  if (k - nseeds >= grid)
    return false;
  memset(v, 0, XGEMM_N * sizeof *v);
  v[KREG] = 1;
  v[KWI] = 2;
  size_t i = (k - nseeds) * 389 % grid; /* 389 is prime and does not divide the grid size (1296) */
  v[MWG] = wg[i % 3];
  i /= 3;
  v[NWG] = wg[i % 3];
  i /= 3;
  v[KWG] = kw[i % 2];
  i /= 2;
  v[MDIMC] = v[MDIMA] = dim[i % 2];
  i /= 2;
  v[NDIMC] = v[NDIMB] = dim[i % 2];
  i /= 2;
  v[VWM] = vw[i % 3];
  i /= 3;
  v[VWN] = vw[i % 3];
  i /= 3;
  v[SA] = v[SB] = i % 2;
  return true;
}

/* CLBlast's Xgemm constraints (its tuner's), and the device's work-group and local memory limits. */
static bool legal(const size_t v[XGEMM_N], size_t max_wg, cl_ulong local_bytes) {
  return v[MWG] % (v[MDIMC] * v[VWM]) == 0 && v[NWG] % (v[NDIMC] * v[VWN]) == 0 && v[MWG] % (v[MDIMA] * v[VWM]) == 0 &&
         v[NWG] % (v[NDIMB] * v[VWN]) == 0 && v[KWG] % (v[MDIMC] * v[NDIMC] / v[MDIMA]) == 0 &&
         v[KWG] % (v[MDIMC] * v[NDIMC] / v[NDIMB]) == 0 && v[KWG] % v[KWI] == 0 && v[MDIMC] * v[NDIMC] <= max_wg &&
         (cl_ulong)(v[SA] * v[MWG] + v[SB] * v[NWG]) * v[KWG] * sizeof(float) <= local_bytes;
}

/* The smallest switch size s with s^3 > mnk: GEMMs at most mnk go to CLBlast's direct kernel. */
static size_t switch_above(double mnk) {
  size_t s = (size_t)cbrt(mnk);
  while ((double)s * s * s <= mnk)
    s++;
  return s;
}

static clconv_status blas_check(clconv_context *ctx, CLBlastStatusCode st) {
  return st == CLBlastSuccess ? CLCONV_OK
                              : clconv__fail(ctx, CLCONV_ERR_OPENCL,
                                             "tune: CLBlastOverrideParameters failed (CLBlast status %d)", (int)st);
}

/* Times the gemm algorithm of every case with the current parameters into fields `at` and `at_sgemm` (its SGEMM
 * alone) of each (offsetof); counts a wrong output. */
static clconv_status time_all(clconv_context *ctx, tune_case *tc, size_t n, uint32_t reps, size_t at, size_t at_sgemm,
                              bool *wrong) {
  *wrong = false;
  for (size_t i = 0; i < n; i++) {
    double *ms = (double *)((char *)&tc[i] + at), *sg = (double *)((char *)&tc[i] + at_sgemm);
    CLCONV__TRY(measure(ctx, &tc[i], tc[i].gemm, reps, ms, sg));
    *wrong = *wrong || isinf(*ms);
  }
  return CLCONV_OK;
}

/* A shape is no slower than with CLBlast's defaults, within 10% and 20 us of noise: the whole algorithm and its
 * SGEMM alone. */
static bool no_slower(double ms, double untuned) { return ms <= 1.1 * untuned + 0.02; }
static bool both_no_slower(const tune_case *tc, double ms, double sgemm) {
  return no_slower(ms, tc->untuned) && no_slower(sgemm, tc->untuned_sgemm);
}

/* For one candidate's times on the tiled kernel: the switch size that puts the shapes with the j smallest m*n*k on
 * the direct kernel and the rest on the tiled one, for the j with the lowest total time relative to the defaults
 * among the splits where no shape is slower (a split between equal m*n*k cannot be expressed). false: none. */
static bool best_split(const tune_case *tc, const size_t *order, size_t n, const double *tiled,
                       const double *tiled_sgemm, double *total, size_t *min_indirect) {
  *total = INFINITY;
  for (size_t j = 0; j <= n; j++) {
    if (j > 0 && j < n && tc[order[j - 1]].mnk == tc[order[j]].mnk)
      continue;
    double sum = 0.0;
    bool ok = true;
    for (size_t r = 0; r < n && ok; r++) {
      const tune_case *c = &tc[order[r]];
      double ms = r < j ? c->all_direct : tiled[order[r]], sg = r < j ? c->all_direct_sgemm : tiled_sgemm[order[r]];
      ok = both_no_slower(c, ms, sg);
      sum += ms / tc[order[r]].untuned;
    }
    if (ok && sum < *total) {
      *total = sum;
      *min_indirect = j == 0 ? ALL_TILED : j == n ? ALL_DIRECT : switch_above(tc[order[j - 1]].mnk);
    }
  }
  return isfinite(*total);
}

#define KEEP 3 /* the best candidates verified at the end, in order, until one holds */
typedef struct ranked {
  size_t v[XGEMM_N], min_indirect;
  double total;
} ranked;

/* The shapes' indices in order of m*n*k (insertion sort: a handful of shapes). */
static void order_by_mnk(const tune_case *tc, size_t n, size_t *order) {
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && tc[order[j]].mnk < tc[order[j - 1]].mnk; j--) {
      size_t x = order[j];
      order[j] = order[j - 1];
      order[j - 1] = x;
    }
}

/* Every candidate set with every GEMM on CLBlast's tiled kernel, validated on every shape, ranked by its best split
 * into top (best first, at most KEEP), until the budget runs out. times: 2n scratch. */
static clconv_status rank_candidates(clconv_context *ctx, tune_case *tc, size_t n, const clconv_tune_options *o,
                                     const size_t *order, double *times, ranked *top, size_t *ntop,
                                     clconv_tune_report *rep) {
  clconv_status s = blas_check(ctx, clconv__tuning_override_min_indirect(ctx->device, ALL_TILED));
  size_t v[XGEMM_N];
  double t0 = clconv__now_s();
  for (size_t k = 0; s == CLCONV_OK && candidate(k, v) && clconv__now_s() - t0 < o->budget_s; k++) {
    if (!legal(v, ctx->prof.max_work_group_size, ctx->prof.local_mem_bytes) ||
        clconv__tuning_override_xgemm(ctx->device, v) != CLBlastSuccess)
      continue; /* not a candidate for this device */
    rep->candidates_tried++;
    bool bad = false;
    for (size_t i = 0; i < n && s == CLCONV_OK && !bad; i++) {
      s = measure(ctx, &tc[i], tc[i].gemm, o->reps, &times[i], &times[n + i]);
      bad = s == CLCONV_OK && isinf(times[i]);
    }
    if (s == CLCONV_ERR_BUILD_FAILED || s == CLCONV_ERR_UNSUPPORTED)
      s = CLCONV_OK; /* CLBlast cannot build or run this set here: skip it */
    else if (s != CLCONV_OK)
      break; /* a device failure, not a bad candidate */
    rep->candidates_wrong += bad;
    ranked c;
    if (bad || !best_split(tc, order, n, times, times + n, &c.total, &c.min_indirect))
      continue;
    memcpy(c.v, v, sizeof v);
    if (*ntop == KEEP && c.total >= top[KEEP - 1].total)
      continue;
    size_t at = *ntop < KEEP ? (*ntop)++ : KEEP - 1;
    for (; at > 0 && top[at - 1].total > c.total; at--)
      top[at] = top[at - 1];
    top[at] = c;
  }
  return s;
}

static clconv_status search(clconv_context *ctx, tune_case *tc, size_t n, const clconv_tune_options *o,
                            clconv__tuning *t, clconv_tune_report *rep) {
  uint32_t reps = o->reps;
  bool wrong;
  CLCONV__TRY(time_all(ctx, tc, n, reps, offsetof(tune_case, untuned), offsetof(tune_case, untuned_sgemm), &wrong));
  CLCONV__CHECK(ctx, !wrong, CLCONV_ERR_OPENCL, "tune: the gemm algorithm with CLBlast's defaults gives wrong results");
  CLCONV__TRY(blas_check(ctx, clconv__tuning_override_min_indirect(ctx->device, ALL_DIRECT)));
  CLCONV__TRY(
      time_all(ctx, tc, n, reps, offsetof(tune_case, all_direct), offsetof(tune_case, all_direct_sgemm), &wrong));
  CLCONV__CHECK(ctx, !wrong, CLCONV_ERR_OPENCL, "tune: CLBlast's direct GEMM kernel gives wrong results");
  size_t *order = clconv__malloc(n * sizeof *order);
  double *times = clconv__malloc(2 * n * sizeof *times); /* the whole algorithm, then its SGEMM alone */
  ranked top[KEEP];
  size_t ntop = 0;
  clconv_status s =
      order && times ? CLCONV_OK : clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "tune: out of host memory");
  if (s == CLCONV_OK) {
    order_by_mnk(tc, n, order);
    s = rank_candidates(ctx, tc, n, o, order, times, top, &ntop, rep);
  }
  clconv__free(order);
  clconv__free(times);
  /* the ranked sets, best first, each verified on every shape once more: the first that holds is kept */
  for (size_t r = 0; s == CLCONV_OK && r < ntop && !t->has_xgemm; r++) {
    s = blas_check(ctx, clconv__tuning_override_xgemm(ctx->device, top[r].v));
    if (s == CLCONV_OK)
      s = blas_check(ctx, clconv__tuning_override_min_indirect(ctx->device, top[r].min_indirect));
    if (s == CLCONV_OK)
      s = time_all(ctx, tc, n, reps, offsetof(tune_case, final), offsetof(tune_case, final_sgemm), &wrong);
    bool keep = s == CLCONV_OK && !wrong;
    for (size_t i = 0; i < n; i++)
      keep = keep && both_no_slower(&tc[i], tc[i].final, tc[i].final_sgemm);
    if (keep) {
      t->has_xgemm = true;
      memcpy(t->xgemm, top[r].v, sizeof top[r].v);
      t->min_indirect = top[r].min_indirect;
    }
  }
  /* None held: CLBlast's defaults cannot be restored in this process, but its direct kernel, whose parameters the
   * search never touches, is what the defaults run on shapes below their own switch size. The file keeps none. */
  if (s == CLCONV_OK && !t->has_xgemm)
    s = blas_check(ctx, clconv__tuning_override_min_indirect(ctx->device, ALL_DIRECT));
  return s;
}

/* The direct algorithm's kernels for one shape, until the deadline: tiled with the two widest channel tiles up to
 * the group's channel count (rounded up to a power of two) and CLCONV__TILED_MAX_KT, times the position counts
 * that fit the device's registers (the catalogue's tile choices), the wide kernel where it applies and may pay (few
 * output or input channels per group: its built-in channel count and 8, times 16 and 32 positions), the local-memory
 * kernel with 4 and 8 channels, and the depthwise kernel on depthwise shapes; each validated. The built-in choice
 * (already timed) stays unless the fastest other one is 5% faster, then again when the two are timed alternately. */
static clconv_status tune_direct(clconv_context *ctx, tune_case *tc, uint32_t reps, double deadline,
                                 clconv__variant *best, double *best_ms, clconv_tune_report *rep) {
  clconv__conv_variant(tc->direct, best);
  *best_ms = tc->direct_ms;
  const clconv__conv_geom *g = &tc->g;
  clconv__variant cand[CLCONV__KINDS * CLCONV__CANDIDATES];
  size_t nc = clconv__candidates(&ctx->prof, g, cand, sizeof cand / sizeof cand[0]);
  clconv__variant builtin = *best;
  for (size_t i = 0; i < nc && clconv__now_s() < deadline; i++) {
    if (!memcmp(&cand[i], &builtin, sizeof builtin) || !clconv__variant_valid(&cand[i], g))
      continue;
    clconv_conv *op = NULL;
    double ms = INFINITY;
    clconv_status s = clconv__conv_create_variant(ctx, &tc->d, &cand[i], &op);
    if (s == CLCONV_OK)
      s = clconv_conv_set_weights(op, tc->w, tc->b);
    if (s == CLCONV_OK)
      s = measure(ctx, tc, op, reps, &ms, NULL);
    clconv_conv_destroy(op);
    if (s != CLCONV_OK)
      return s;
    rep->kernels_tried++;
    rep->kernels_wrong += isinf(ms);
    bool is_builtin = !memcmp(best, &builtin, sizeof builtin);
    if (ms < (is_builtin ? 0.95 : 1.0) * *best_ms) {
      *best = cand[i];
      *best_ms = ms;
    }
  }
  if (!memcmp(best, &builtin, sizeof builtin))
    return CLCONV_OK;
  /* Confirm against the built-in choice, timed alternately (three rounds, best of each): the machine's speed drifts
   * over the seconds between the first timings, and a candidate must not win by having been timed in a quiet one. */
  clconv_conv *op = NULL;
  double mine = INFINITY, theirs = INFINITY;
  clconv_status s = clconv__conv_create_variant(ctx, &tc->d, best, &op);
  if (s == CLCONV_OK)
    s = clconv_conv_set_weights(op, tc->w, tc->b);
  for (int round = 0; round < 3 && s == CLCONV_OK; round++) {
    double a_ms, b_ms;
    s = measure(ctx, tc, tc->direct, reps, &a_ms, NULL);
    if (s == CLCONV_OK)
      s = measure(ctx, tc, op, reps, &b_ms, NULL);
    theirs = fmin(theirs, a_ms);
    mine = fmin(mine, b_ms);
  }
  clconv_conv_destroy(op);
  if (s == CLCONV_OK && !(mine < 0.95 * theirs)) {
    *best = builtin;
    *best_ms = theirs;
  } else if (s == CLCONV_OK) {
    *best_ms = mine;
  }
  return s;
}

clconv_status clconv_tune(clconv_context *ctx, const clconv_conv_desc *descs, size_t n,
                          const clconv_tune_options *options, clconv_tune_shape *per_shape,
                          clconv_tune_report *report) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "tune: ctx is NULL");
  CLCONV__CHECK(ctx, descs && n > 0 && report, CLCONV_ERR_INVALID_ARGUMENT,
                "tune: descs = %p, n = %zu, report = %p: need at least one descriptor and a report",
                (const void *)descs, n, (void *)report);
  clconv__tuning_ensure(ctx);
  CLCONV__CHECK(ctx, !clconv__tuning_overridden(), CLCONV_ERR_INVALID_ARGUMENT,
                "tune: CLBlast's GEMM parameters were already overridden in this process (a context loaded a tuning "
                "file, or an earlier tune ran); tune in a fresh process, with options.ignore_tuning");
  clconv_tune_options o = options ? *options : (clconv_tune_options){0};
  CLCONV__CHECK(ctx, isfinite(o.budget_s) && o.budget_s >= 0.0, CLCONV_ERR_INVALID_ARGUMENT,
                "tune: budget_s = %g, must be >= 0", o.budget_s);
  if (o.budget_s == 0.0)
    o.budget_s = 120.0;
  if (o.reps == 0)
    o.reps = 5;
  memset(report, 0, sizeof *report);
  tune_case *tc = clconv__calloc(n, sizeof *tc);
  clconv__tuning *t = clconv__calloc(1, sizeof *t);
  clconv_status s = tc && t ? CLCONV_OK : clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "tune: out of host memory");
  uint64_t seed = 0x7E57;
  for (size_t i = 0; s == CLCONV_OK && i < n; i++) {
    tc[i].d = descs[i];
    tc[i].d.dtype = CLCONV_F32; /* choices are per shape, whatever the type: measured on float32 tensors */
    s = clconv__conv_check(ctx, "tune", &tc[i].d, &tc[i].g);
    if (s == CLCONV_OK)
      s = case_setup(ctx, &tc[i], &seed);
  }
  if (s == CLCONV_OK)
    s = search(ctx, tc, n, &o, t, report);
  double deadline = clconv__now_s() + o.budget_s;    /* for the direct kernels, across the shapes */
  for (size_t i = 0; s == CLCONV_OK && i < n; i++) { /* auto's choice: direct against the gemm now in use */
    double gemm_ms = 0.0, direct_ms = 0.0;
    clconv__variant v = {0};
    s = measure(ctx, &tc[i], tc[i].direct, o.reps, &tc[i].direct_ms, NULL);
    if (s == CLCONV_OK && !isinf(tc[i].direct_ms))
      s = tune_direct(ctx, &tc[i], o.reps, deadline, &v, &direct_ms, report);
    /* what runs now: the tuned set, or (defaults cannot be restored) the last one tried */
    double sgemm_ms = 0.0;
    if (s == CLCONV_OK)
      s = measure(ctx, &tc[i], tc[i].gemm, o.reps, &gemm_ms, &sgemm_ms);
    if (s == CLCONV_OK && isinf(gemm_ms))
      s = clconv__fail(ctx, CLCONV_ERR_OPENCL, "tune: the gemm algorithm gives wrong results after the search");
    if (s == CLCONV_OK && isinf(tc[i].direct_ms))
      s = clconv__fail(ctx, CLCONV_ERR_OPENCL, "tune: the direct algorithm gives wrong results");
    if (s != CLCONV_OK)
      break;
    clconv_conv_algo a = direct_ms <= gemm_ms ? CLCONV_ALGO_DIRECT : CLCONV_ALGO_GEMM;
    if (!clconv__tuning_add(t, &tc[i].g, a, &v)) {
      s = clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "tune: out of host memory");
      break;
    }
    if (per_shape) {
      per_shape[i] = (clconv_tune_shape){.untuned_ms = tc[i].untuned,
                                         .tuned_ms = gemm_ms,
                                         .untuned_sgemm_ms = tc[i].untuned_sgemm,
                                         .tuned_sgemm_ms = sgemm_ms,
                                         .direct_ms = tc[i].direct_ms,
                                         .direct_tuned_ms = direct_ms,
                                         .algo = a};
      clconv__variant_name(&v, per_shape[i].direct_kernel, sizeof per_shape[i].direct_kernel);
    }
  }
  for (size_t i = 0; tc && i < n; i++)
    case_free(&tc[i]);
  clconv__free(tc);
  if (s != CLCONV_OK) {
    clconv__tuning_destroy(t);
    return s;
  }
  report->gemm_tuned = t->has_xgemm;
  clconv__tuning_install(ctx, t, report);
  return CLCONV_OK;
}
