/* Random configurations and device-vs-reference checks, shared by `clconv validate` and the tests. */
#include "sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t sweep_next(sweep_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint32_t sweep_int(sweep_rng *r, uint32_t lo, uint32_t hi) { return lo + (uint32_t)(sweep_next(r) % (hi - lo + 1ull)); }

float sweep_float(sweep_rng *r, float lo, float hi) {
  return lo + (hi - lo) * (float)((double)(sweep_next(r) >> 11) * 0x1p-53);
}

bool sweep_chance(sweep_rng *r, double p) { return (double)(sweep_next(r) >> 11) * 0x1p-53 < p; }

void sweep_fill(sweep_rng *r, float *v, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = sweep_float(r, lo, hi);
}

void sweep_fill_integers(sweep_rng *r, float *v, size_t n, int lo, int hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = (float)((int)sweep_int(r, 0, (uint32_t)(hi - lo)) + lo);
}

static void axes_str(char *buf, size_t cap, const char *name, const uint32_t *v, uint32_t n) {
  size_t used = strlen(buf);
  used += (size_t)snprintf(buf + used, cap - used, " %s=", name);
  for (uint32_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%u", i ? "," : "", v[i]);
}

void sweep_conv_str(const clconv_conv_desc *d, char *buf, size_t cap) {
  snprintf(buf, cap, "conv %s ndim=%u N=%u C=%u K=%u groups=%u mode=%s bias=%d residual=%d(%g) act=%s(%g,%g)",
           clconv_dtype_name(d->dtype), d->ndim, d->batch, d->in_channels, d->out_channels, d->groups,
           d->mode ? "conv" : "xcorr", d->has_bias, d->has_residual, (double)d->residual_scale,
           clconv_act_name(d->activation.kind), (double)d->activation.alpha, (double)d->activation.beta);
  axes_str(buf, cap, "in", d->in_size, d->ndim);
  axes_str(buf, cap, "k", d->kernel_size, d->ndim);
  axes_str(buf, cap, "s", d->stride, d->ndim);
  axes_str(buf, cap, "dil", d->dilation, d->ndim);
  axes_str(buf, cap, "pb", d->pad_before, d->ndim);
  axes_str(buf, cap, "pa", d->pad_after, d->ndim);
}

void sweep_pool_str(const clconv_pool_desc *d, char *buf, size_t cap) {
  snprintf(buf, cap, "pool %s %s ndim=%u N=%u C=%u ceil=%d count_pad=%d global=%d", d->kind ? "avg" : "max",
           clconv_dtype_name(d->dtype), d->ndim, d->batch, d->channels, d->ceil_mode, d->count_include_pad, d->global);
  axes_str(buf, cap, "in", d->in_size, d->ndim);
  axes_str(buf, cap, "win", d->window, d->ndim);
  axes_str(buf, cap, "s", d->stride, d->ndim);
  axes_str(buf, cap, "pb", d->pad_before, d->ndim);
  axes_str(buf, cap, "pa", d->pad_after, d->ndim);
}

void sweep_index_str(size_t i, const uint32_t *dims, uint32_t ndim, char *buf, size_t cap) {
  size_t idx[5] = {0};
  for (uint32_t a = ndim; a-- > 0;) {
    idx[a] = i % dims[a];
    i /= dims[a];
  }
  /* Always five names: absent spatial axes print as 0. */
  size_t sp[3] = {0, 0, 0};
  for (uint32_t a = 2; a < ndim; a++)
    sp[3 - (ndim - 2) + (a - 2)] = idx[a];
  snprintf(buf, cap, "(n=%zu, c=%zu, d=%zu, h=%zu, w=%zu)", idx[0], idx[1], sp[0], sp[1], sp[2]);
}

void sweep_activation(sweep_rng *r, clconv_activation *a) {
  sweep_activation_of(r, (clconv_act_kind)sweep_int(r, 0, CLCONV_ACT_COUNT - 1), a);
}

void sweep_activation_of(sweep_rng *r, clconv_act_kind kind, clconv_activation *a) {
  memset(a, 0, sizeof *a);
  a->kind = kind;
  if (a->kind == CLCONV_ACT_LEAKY_RELU || a->kind == CLCONV_ACT_ELU || a->kind == CLCONV_ACT_SWISH)
    a->alpha = sweep_chance(r, 0.3) ? 0.0f : sweep_float(r, 0.01f, 2.0f); /* 0 = the default */
  if (a->kind == CLCONV_ACT_CLIP) {
    a->alpha = sweep_float(r, -1.0f, 0.0f);
    a->beta = sweep_float(r, 0.0f, 1.0f);
  }
}

void sweep_conv_desc(sweep_rng *r, clconv_conv_desc *d, uint32_t ndim, bool any_activation) {
  static const uint32_t max_in[4] = {0, 40, 13, 7};
  memset(d, 0, sizeof *d);
  d->ndim = ndim ? ndim : sweep_int(r, 1, 3);
  d->batch = sweep_chance(r, 0.25) ? sweep_int(r, 2, 3) : sweep_int(r, 0, 1);
  switch (sweep_int(r, 0, 7)) {
  case 0: /* depthwise */
    d->groups = d->in_channels = d->out_channels = sweep_int(r, 1, 6);
    break;
  case 1: { /* grouped */
    uint32_t g = sweep_int(r, 2, 3);
    d->groups = g;
    d->in_channels = g * sweep_int(r, 1, 3);
    d->out_channels = g * sweep_int(r, 1, 3);
    break;
  }
  case 2: /* many channels on a small image: long reductions (C/G * k-volume up to a few thousand) */
    d->in_channels = sweep_int(r, 16, d->ndim == 3 ? 100 : 160);
    d->out_channels = sweep_int(r, 1, 5);
    break;
  case 3: { /* many output channels per group: every tile width of the tiled kernel, with partial last tiles */
    uint32_t g = sweep_int(r, 1, 2);
    d->groups = g;
    d->in_channels = g * sweep_int(r, 1, 4);
    d->out_channels = g * sweep_int(r, 4, 40);
    break;
  }
  default:
    d->groups = sweep_int(r, 0, 1);
    d->in_channels = sweep_int(r, 1, 6);
    d->out_channels = sweep_int(r, 1, 6);
  }
  bool wide = d->in_channels >= 16;
  for (uint32_t i = 0; i < d->ndim; i++) {
    d->in_size[i] = sweep_int(r, 1, wide ? max_in[d->ndim] / 2 + 1 : max_in[d->ndim]);
    d->kernel_size[i] = sweep_int(r, 1, d->ndim == 3 ? 3 : 5);
    d->stride[i] = sweep_chance(r, 0.5) ? 0 : sweep_int(r, 1, 4);
    d->dilation[i] = sweep_chance(r, 0.7) ? 0 : sweep_int(r, 1, 3);
    d->pad_before[i] = sweep_chance(r, 0.4) ? 0 : sweep_int(r, 0, 3);
    d->pad_after[i] = sweep_chance(r, 0.4) ? 0 : sweep_int(r, 0, 3);
    uint32_t padded = d->in_size[i] + d->pad_before[i] + d->pad_after[i];
    uint32_t dil = d->dilation[i] ? d->dilation[i] : 1, cap = d->ndim == 3 ? 4 : 9;
    if (sweep_chance(r, 0.08) || dil * (d->kernel_size[i] - 1) + 1 > padded) {
      /* the kernel as large as the padded input (one output along this axis), or a plain one that fits */
      d->dilation[i] = 0;
      d->kernel_size[i] = padded <= cap ? padded : (d->ndim == 3 ? 3 : 5);
    }
  }
  /* Keep the reduction length C/G * k-volume within 4096, where the tolerance model is stated. */
  uint32_t kvol = 1;
  for (uint32_t i = 0; i < d->ndim; i++)
    kvol *= d->kernel_size[i];
  uint32_t g = d->groups ? d->groups : 1;
  if (d->in_channels / g * kvol > 4096)
    d->in_channels = g * (4096 / kvol > 0 ? 4096 / kvol : 1);
  d->mode = sweep_chance(r, 0.5) ? CLCONV_MODE_CONV : CLCONV_MODE_XCORR;
  d->has_bias = sweep_chance(r, 0.5);
  d->has_residual = sweep_chance(r, 0.3);
  if (d->has_residual) { /* scales that keep the exact sweep's integer sums exact: 0 (= 1), -1, 1/2, 2 */
    static const float scales[] = {0.0f, -1.0f, 0.5f, 2.0f};
    d->residual_scale = scales[sweep_int(r, 0, 3)];
  }
  if (any_activation)
    sweep_activation(r, &d->activation);
  else
    d->activation.kind = sweep_chance(r, 0.5) ? CLCONV_ACT_RELU : CLCONV_ACT_IDENTITY;
}

void sweep_pool_desc(sweep_rng *r, clconv_pool_desc *d, const uint32_t *in_size, uint32_t ndim) {
  clconv_pool_desc keep = *d;
  memset(d, 0, sizeof *d);
  d->ndim = ndim;
  d->batch = keep.batch;
  d->channels = keep.channels;
  d->kind = sweep_chance(r, 0.5) ? CLCONV_POOL_AVG : CLCONV_POOL_MAX;
  d->count_include_pad = sweep_chance(r, 0.5);
  d->ceil_mode = sweep_chance(r, 0.4);
  d->global = sweep_chance(r, 0.05);
  for (uint32_t i = 0; i < ndim; i++) {
    d->in_size[i] = in_size[i];
    if (d->global)
      continue;
    uint32_t w = sweep_int(r, 1, in_size[i] < 4 ? in_size[i] + 1 : 4);
    d->window[i] = w;
    d->stride[i] = sweep_chance(r, 0.4) ? 0 : sweep_int(r, 1, 4);
    d->pad_before[i] = sweep_chance(r, 0.5) ? 0 : sweep_int(r, 0, w - 1);
    d->pad_after[i] = sweep_chance(r, 0.5) ? 0 : sweep_int(r, 0, w - 1);
    if (w > in_size[i] + d->pad_before[i] + d->pad_after[i])
      d->pad_after[i] = w - 1; /* window fits padded */
    if (w > in_size[i] + d->pad_before[i] + d->pad_after[i])
      d->pad_before[i] = w - 1;
  }
}

/* ---- device vs reference ---------------------------------------------------------------------------------- */
#define SW_TRY(ctx, call)                                                                                              \
  do {                                                                                                                 \
    clconv_status s_ = (call);                                                                                         \
    if (s_ != CLCONV_OK) {                                                                                             \
      fprintf(log, "  error: %s: %s: %s\n", #call, clconv_status_string(s_), clconv_last_error(ctx));                  \
      rc = -1;                                                                                                         \
      goto done;                                                                                                       \
    }                                                                                                                  \
  } while (0)

/* Host buffers of n floats each; false when any allocation failed (all freed by free_all). */
static bool alloc_all(float **p[], const size_t *n, size_t k) {
  bool ok = true;
  for (size_t i = 0; i < k; i++)
    ok &= (*p[i] = malloc((n[i] ? n[i] : 1) * sizeof(float))) != NULL;
  return ok;
}

static void free_all(float **p[], size_t k) {
  for (size_t i = 0; i < k; i++) {
    free(*p[i]);
    *p[i] = NULL;
  }
}

static size_t prod(const uint32_t *v, uint32_t n) {
  size_t p = 1;
  for (uint32_t i = 0; i < n; i++)
    p *= v[i];
  return p;
}

/* float <-> the 16-bit type dt (F16 or BF16), n values (the library's host conversions). */
static clconv_status narrow(clconv_dtype dt, const float *v, uint16_t *h, size_t n) {
  return dt == CLCONV_F16 ? clconv_f32_to_f16(v, h, n) : clconv_f32_to_bf16(v, h, n);
}
static clconv_status widen(clconv_dtype dt, const uint16_t *h, float *v, size_t n) {
  return dt == CLCONV_F16 ? clconv_f16_to_f32(h, v, n) : clconv_bf16_to_f32(h, v, n);
}

clconv_status sweep_round(clconv_dtype dt, float *v, size_t n) {
  if (dt == CLCONV_F32)
    return CLCONV_OK;
  uint16_t *h = malloc((n ? n : 1) * sizeof *h);
  if (!h)
    return CLCONV_ERR_OUT_OF_MEMORY;
  clconv_status s = narrow(dt, v, h, n);
  if (s == CLCONV_OK)
    s = widen(dt, h, v, n);
  free(h);
  return s;
}

clconv_status sweep_upload(clconv_context *ctx, clconv_dtype dt, uint32_t n, const uint32_t *dims, const float *host,
                           clconv_tensor **t) {
  clconv_status s = clconv_tensor_create(ctx, dt, n, dims, t);
  if (s != CLCONV_OK || !host)
    return s;
  size_t count = clconv_tensor_count(*t);
  if (dt == CLCONV_F32)
    return clconv_tensor_write(*t, host, count);
  uint16_t *h = malloc((count ? count : 1) * sizeof *h);
  if (!h)
    return CLCONV_ERR_OUT_OF_MEMORY;
  s = narrow(dt, host, h, count);
  if (s == CLCONV_OK)
    s = clconv_tensor_write(*t, h, count);
  free(h);
  return s;
}

clconv_status sweep_download(clconv_tensor *t, float *host) {
  const clconv_dtype dt = clconv_tensor_dtype(t);
  const size_t count = clconv_tensor_count(t);
  if (dt == CLCONV_F32)
    return clconv_tensor_read(t, host, count);
  uint16_t *h = malloc((count ? count : 1) * sizeof *h);
  if (!h)
    return CLCONV_ERR_OUT_OF_MEMORY;
  clconv_status s = clconv_tensor_read(t, h, count);
  if (s == CLCONV_OK)
    s = widen(dt, h, host, count);
  free(h);
  return s;
}

static int report(FILE *log, const char *what, const char *cfg, const char *replay, const clconv_compare_result *res,
                  const float *got, const float *ref, const float *mag, const uint32_t *dims, uint32_t ndim) {
  char where[128];
  size_t i = res->first_mismatch;
  sweep_index_str(i, dims, ndim, where, sizeof where);
  fprintf(log,
          "%s MISMATCH (%s): %s\n  %zu mismatches; first at %zu %s: got %.9g ref %.9g mag %.9g; worst ratio %.3g, "
          "max abs %.3g\n",
          what, replay, cfg, res->mismatches, i, where, (double)got[i], (double)ref[i], mag ? (double)mag[i] : 0.0,
          res->worst_ratio, res->max_abs_err);
  return 1;
}

/* Runs d on the device and on the reference with the given data (z: the residual, used with has_residual; in place:
 * dst starts as z and is the residual too): 0, or -1 on an API failure (logged). */
static int conv_both(clconv_context *ctx, const clconv_conv_desc *d, const float *x, const float *w, const float *b,
                     const float *z, bool in_place, float *got, float *ref, float *mag, FILE *log) {
  uint32_t ss[5], ws[5], ds[5], n = d->ndim + 2;
  const clconv_dtype dt = d->dtype;
  clconv_tensor *tx = NULL, *tw = NULL, *tb = NULL, *tz = NULL, *ty = NULL;
  int rc = 0;
  SW_TRY(NULL, clconv_conv_shapes(d, ss, ws, ds));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ss, x, &tx));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ws, w, &tw));
  if (d->has_bias)
    SW_TRY(ctx, sweep_upload(ctx, dt, 1, &ds[1], b, &tb));
  in_place = in_place && d->has_residual;
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ds, in_place ? z : NULL, &ty));
  if (d->has_residual && !in_place)
    SW_TRY(ctx, sweep_upload(ctx, dt, n, ds, z, &tz));
  SW_TRY(ctx, clconv_conv_forward(ctx, d, tx, tw, tb, in_place ? ty : tz, ty));
  SW_TRY(ctx, sweep_download(ty, got));
  SW_TRY(NULL, clconv_ref_conv(d, x, w, d->has_bias ? b : NULL, d->has_residual ? z : NULL, ref, mag));
done:
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(tz);
  clconv_tensor_destroy(ty);
  return rc;
}

/* Values of magnitude 1/2..1 with a random sign. */
static void fill_away_from_zero(sweep_rng *r, float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    v[i] = sweep_float(r, 0.5f, 1.0f) * (sweep_chance(r, 0.5) ? -1.0f : 1.0f);
}

/* The comparison must notice one dropped tap: run d (activation removed, so no relu can hide the change) on data
 * of magnitude >= 1/2, zero one random weight that reaches real input, recompute the reference, and demand a
 * mismatch. Each dropped product is >= 1/4, above the largest float32 bound at K <= 4096 (u (4 + 512) 4096 =
 * 0.126). A 16-bit output adds its own rounding, 2^(1-p) |r| with |r| <= K + 2 (p = 11 significant bits for
 * float16, 8 for bfloat16): the check runs where that stays below 1/8 (float16: K < 126), and is skipped where the
 * type cannot resolve a dropped product. With every window in the padding (output = bias) no tap reaches the input
 * and there is nothing to mutate. */
static int mutation_check(clconv_context *ctx, const clconv_conv_desc *d0, sweep_rng *r, const char *cfg, FILE *log,
                          const char *replay) {
  clconv_conv_desc d = *d0;
  memset(&d.activation, 0, sizeof d.activation);
  clconv_tolerance tol;
  if (clconv_conv_tolerance(&d, &tol) != CLCONV_OK) {
    fprintf(log, "  error: %s\n", clconv_last_error(NULL));
    return -1;
  }
  const double type_rel = d.dtype == CLCONV_F16 ? 0x1p-10 : d.dtype == CLCONV_BF16 ? 0x1p-7 : 0.0;
  if (type_rel * (double)(tol.reduction_len + 2) >= 0.125)
    return 0;
  uint32_t ss[5], ws[5], ds[5], n = d.ndim + 2;
  float *x = NULL, *w = NULL, *b = NULL, *z = NULL, *got = NULL, *ref = NULL, *mag = NULL, *ref2 = NULL;
  float **bufs[] = {&x, &w, &b, &z, &got, &ref, &mag, &ref2};
  int rc = 0;
  SW_TRY(NULL, clconv_conv_shapes(&d, ss, ws, ds));
  size_t sc = prod(ss, n), wc = prod(ws, n), dc = prod(ds, n), sizes[] = {sc, wc, ds[1], dc, dc, dc, dc, dc};
  if (!alloc_all(bufs, sizes, 8)) {
    fprintf(log, "  error: out of host memory\n");
    rc = -1;
    goto done;
  }
  fill_away_from_zero(r, x, sc);
  fill_away_from_zero(r, w, wc);
  fill_away_from_zero(r, b, ds[1]);
  fill_away_from_zero(r, z, dc);
  SW_TRY(NULL, sweep_round(d.dtype, x, sc));
  SW_TRY(NULL, sweep_round(d.dtype, w, wc));
  SW_TRY(NULL, sweep_round(d.dtype, b, ds[1]));
  SW_TRY(NULL, sweep_round(d.dtype, z, dc));
  if ((rc = conv_both(ctx, &d, x, w, b, z, false, got, ref, mag, log)) != 0)
    goto done;
  clconv_compare_result res;
  SW_TRY(NULL, clconv_compare(got, ref, mag, dc, &tol, &res));
  if (res.mismatches) {
    rc = report(log, "conv (mutation baseline)", cfg, replay, &res, got, ref, mag, ds, n);
    goto done;
  }
  for (int attempt = 0; attempt < 1000; attempt++) {
    size_t tap = sweep_int(r, 0, (uint32_t)wc - 1);
    float keep = w[tap];
    w[tap] = 0.0f;
    SW_TRY(NULL, clconv_ref_conv(&d, x, w, d.has_bias ? b : NULL, d.has_residual ? z : NULL, ref2, NULL));
    w[tap] = keep;
    if (memcmp(ref, ref2, dc * sizeof *ref) == 0)
      continue;
    SW_TRY(NULL, clconv_compare(got, ref2, mag, dc, &tol, &res));
    if (res.mismatches == 0) {
      fprintf(log, "conv MUTATION NOT DETECTED, weight %zu dropped (%s): %s\n", tap, replay, cfg);
      rc = 1;
    }
    break;
  }
done:
  free_all(bufs, 8);
  return rc;
}

int sweep_check_conv(clconv_context *ctx, const clconv_conv_desc *d, sweep_rng *r, bool exact, bool mutation, FILE *log,
                     const char *replay) {
  uint32_t ss[5], ws[5], ds[5], n = d->ndim + 2;
  char cfg[512];
  sweep_conv_str(d, cfg, sizeof cfg);
  float *x = NULL, *w = NULL, *b = NULL, *z = NULL, *got = NULL, *ref = NULL, *mag = NULL;
  float **bufs[] = {&x, &w, &b, &z, &got, &ref, &mag};
  int rc = 0;
  SW_TRY(NULL, clconv_conv_shapes(d, ss, ws, ds));
  size_t sc = prod(ss, n), wc = prod(ws, n), dc = prod(ds, n), sizes[] = {sc, wc, ds[1], dc, dc, dc, dc};
  if (!alloc_all(bufs, sizes, 7)) {
    fprintf(log, "  error: out of host memory\n");
    rc = -1;
    goto done;
  }
  if (exact) { /* integers small enough that every partial sum is exact in float32 */
    sweep_fill_integers(r, x, sc, -4, 4);
    sweep_fill_integers(r, w, wc, -4, 4);
    sweep_fill_integers(r, b, ds[1], -8, 8);
    sweep_fill_integers(r, z, dc, -8, 8);
  } else { /* values of the descriptor's type */
    sweep_fill(r, x, sc, -1.0f, 1.0f);
    sweep_fill(r, w, wc, -1.0f, 1.0f);
    sweep_fill(r, b, ds[1], -1.0f, 1.0f);
    sweep_fill(r, z, dc, -1.0f, 1.0f);
    SW_TRY(NULL, sweep_round(d->dtype, x, sc));
    SW_TRY(NULL, sweep_round(d->dtype, w, wc));
    SW_TRY(NULL, sweep_round(d->dtype, b, ds[1]));
    SW_TRY(NULL, sweep_round(d->dtype, z, dc));
  }
  if ((rc = conv_both(ctx, d, x, w, b, z, sweep_chance(r, 0.5), got, ref, mag, log)) != 0)
    goto done;
  clconv_tolerance tol;
  clconv_compare_result res;
  SW_TRY(NULL, clconv_conv_tolerance(d, &tol));
  SW_TRY(NULL, clconv_compare(got, ref, mag, dc, exact ? NULL : &tol, &res));
  if (res.mismatches)
    rc = report(log, exact ? "conv exact" : "conv", cfg, replay, &res, got, ref, mag, ds, n);
  else if (mutation)
    rc = mutation_check(ctx, d, r, cfg, log, replay);
done:
  if (rc < 0)
    fprintf(log, "  in %s (%s)\n", cfg, replay);
  free_all(bufs, 7);
  return rc;
}

int sweep_check_pool(clconv_context *ctx, const clconv_pool_desc *d, sweep_rng *r, FILE *log, const char *replay) {
  uint32_t ss[5], ds[5], n = d->ndim + 2;
  const clconv_dtype dt = d->dtype;
  char cfg[512];
  sweep_pool_str(d, cfg, sizeof cfg);
  float *x = NULL, *got = NULL, *ref = NULL, *mag = NULL;
  float **bufs[] = {&x, &got, &ref, &mag};
  clconv_tensor *tx = NULL, *ty = NULL;
  int rc = 0;
  SW_TRY(NULL, clconv_pool_shapes(d, ss, ds));
  size_t sc = prod(ss, n), dc = prod(ds, n), sizes[] = {sc, dc, dc, dc};
  if (!alloc_all(bufs, sizes, 4)) {
    fprintf(log, "  error: out of host memory\n");
    rc = -1;
    goto done;
  }
  sweep_fill(r, x, sc, -4.0f, 1.0f); /* mostly negative: max must never pick the padding */
  SW_TRY(NULL, sweep_round(dt, x, sc));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ss, x, &tx));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ds, NULL, &ty));
  SW_TRY(ctx, clconv_pool_forward(ctx, d, tx, ty));
  SW_TRY(ctx, sweep_download(ty, got));
  SW_TRY(NULL, clconv_ref_pool(d, x, ref, mag));
  clconv_tolerance tol;
  clconv_compare_result res;
  SW_TRY(NULL, clconv_pool_tolerance(d, &tol));
  /* max selects an input, so it must be exact; average gets the tolerance */
  SW_TRY(NULL, clconv_compare(got, ref, mag, dc, d->kind == CLCONV_POOL_MAX ? NULL : &tol, &res));
  if (res.mismatches)
    rc = report(log, "pool", cfg, replay, &res, got, ref, mag, ds, n);
done:
  if (rc < 0)
    fprintf(log, "  in %s (%s)\n", cfg, replay);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(ty);
  free_all(bufs, 4);
  return rc;
}

int sweep_check_act(clconv_context *ctx, const clconv_activation *a, clconv_dtype dt, const float *x0, size_t count,
                    bool in_place, FILE *log, const char *replay) {
  uint32_t dims[1] = {(uint32_t)count};
  float *x = NULL, *got = NULL, *ref = NULL;
  float **bufs[] = {&x, &got, &ref};
  size_t sizes[] = {count, count, count};
  clconv_tensor *tx = NULL, *ty = NULL;
  int rc = 0;
  if (!alloc_all(bufs, sizes, 3)) {
    fprintf(log, "  error: out of host memory\n");
    rc = -1;
    goto done;
  }
  memcpy(x, x0, count * sizeof *x);
  SW_TRY(NULL, sweep_round(dt, x, count));
  SW_TRY(ctx, sweep_upload(ctx, dt, 1, dims, x, &tx));
  if (!in_place)
    SW_TRY(ctx, sweep_upload(ctx, dt, 1, dims, NULL, &ty));
  SW_TRY(ctx, clconv_act_forward(ctx, a, tx, in_place ? tx : ty));
  SW_TRY(ctx, sweep_download(in_place ? tx : ty, got));
  SW_TRY(NULL, clconv_ref_act(a, dt, x, ref, count));
  clconv_tolerance tol;
  clconv_compare_result res;
  SW_TRY(NULL, clconv_act_tolerance(a, &tol));
  tol.dtype = dt;
  SW_TRY(NULL, clconv_compare(got, ref, NULL, count, &tol, &res));
  if (res.mismatches) {
    size_t i = res.first_mismatch;
    fprintf(log,
            "act MISMATCH (%s): %s(%g,%g) %s n=%zu in_place=%d: %zu mismatches, first at %zu: x %.9g got %.9g ref "
            "%.9g\n",
            replay, clconv_act_name(a->kind), (double)a->alpha, (double)a->beta, clconv_dtype_name(dt), count,
            in_place, res.mismatches, i,
            (double)x[i], (double)got[i], (double)ref[i]);
    rc = 1;
  }
done:
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(ty);
  free_all(bufs, 3);
  return rc;
}

void sweep_act_data(sweep_rng *r, float *x, size_t count) {
  float scale = sweep_chance(r, 0.2) ? 1e-3f : sweep_chance(r, 0.5) ? 4.0f : 40.0f;
  sweep_fill(r, x, count, -scale, scale);
}

int sweep_check_layer(clconv_context *ctx, const clconv_layer_desc *d, sweep_rng *r, FILE *log, const char *replay) {
  uint32_t ss[5], ws[5], ds[5], n = d->conv.ndim + 2;
  const clconv_dtype dt = d->conv.dtype;
  char cfg[1024], pcfg[512];
  sweep_conv_str(&d->conv, cfg, sizeof cfg);
  sweep_pool_str(&d->pool, pcfg, sizeof pcfg);
  strncat(cfg, " -> ", sizeof cfg - strlen(cfg) - 1);
  strncat(cfg, pcfg, sizeof cfg - strlen(cfg) - 1);
  float *x = NULL, *w = NULL, *b = NULL, *z = NULL, *got = NULL, *ref = NULL, *mag = NULL;
  float **bufs[] = {&x, &w, &b, &z, &got, &ref, &mag};
  clconv_tensor *tx = NULL, *tw = NULL, *tb = NULL, *tz = NULL, *ty = NULL;
  int rc = 0;
  uint32_t ms[5]; /* the residual: the convolution's output, before pooling */
  SW_TRY(NULL, clconv_layer_shapes(d, ss, ws, ds));
  SW_TRY(NULL, clconv_conv_shapes(&d->conv, ss, ws, ms));
  size_t sc = prod(ss, n), wc = prod(ws, n), dc = prod(ds, n), mc = prod(ms, n),
         sizes[] = {sc, wc, ds[1], mc, dc, dc, dc};
  if (!alloc_all(bufs, sizes, 7)) {
    fprintf(log, "  error: out of host memory\n");
    rc = -1;
    goto done;
  }
  sweep_fill(r, x, sc, -1.0f, 1.0f);
  sweep_fill(r, w, wc, -1.0f, 1.0f);
  sweep_fill(r, b, ds[1], -1.0f, 1.0f);
  sweep_fill(r, z, mc, -1.0f, 1.0f);
  SW_TRY(NULL, sweep_round(dt, x, sc));
  SW_TRY(NULL, sweep_round(dt, w, wc));
  SW_TRY(NULL, sweep_round(dt, b, ds[1]));
  SW_TRY(NULL, sweep_round(dt, z, mc));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ss, x, &tx));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ws, w, &tw));
  if (d->conv.has_bias)
    SW_TRY(ctx, sweep_upload(ctx, dt, 1, &ds[1], b, &tb));
  if (d->conv.has_residual)
    SW_TRY(ctx, sweep_upload(ctx, dt, n, ms, z, &tz));
  SW_TRY(ctx, sweep_upload(ctx, dt, n, ds, NULL, &ty));
  SW_TRY(ctx, clconv_layer_forward(ctx, d, tx, tw, tb, tz, ty));
  SW_TRY(ctx, sweep_download(ty, got));
  SW_TRY(NULL, clconv_ref_layer(d, x, w, d->conv.has_bias ? b : NULL, d->conv.has_residual ? z : NULL, ref, mag));
  clconv_tolerance tol;
  clconv_compare_result res;
  SW_TRY(NULL, clconv_layer_tolerance(d, &tol));
  SW_TRY(NULL, clconv_compare(got, ref, mag, dc, &tol, &res));
  if (res.mismatches)
    rc = report(log, "layer", cfg, replay, &res, got, ref, mag, ds, n);
done:
  if (rc < 0)
    fprintf(log, "  in %s (%s)\n", cfg, replay);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(tz);
  clconv_tensor_destroy(ty);
  free_all(bufs, 7);
  return rc;
}
