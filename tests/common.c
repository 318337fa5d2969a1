#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t rng_next(test_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint32_t rng_int(test_rng *r, uint32_t lo, uint32_t hi) { return lo + (uint32_t)(rng_next(r) % (hi - lo + 1ull)); }

float rng_float(test_rng *r, float lo, float hi) {
  return lo + (hi - lo) * (float)((double)(rng_next(r) >> 11) * 0x1p-53);
}

bool rng_chance(test_rng *r, double p) { return (double)(rng_next(r) >> 11) * 0x1p-53 < p; }

uint64_t test_seed(void) {
  const char *s = getenv("CLCONV_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 20261125u;
}

uint32_t test_count(uint32_t dflt) {
  const char *s = getenv("CLCONV_TEST_COUNT");
  return s && *s ? (uint32_t)strtoul(s, NULL, 0) : dflt;
}

int group_setup_context(void **state) {
  clconv_context *ctx = NULL;
  clconv_status s = clconv_context_create(NULL, &ctx);
  if (s == CLCONV_ERR_DEVICE_NOT_FOUND) {
    fprintf(stderr, "no OpenCL device, device tests are skipped: %s\n", clconv_last_error(NULL));
    *state = NULL;
    return 0;
  }
  if (s != CLCONV_OK) {
    fprintf(stderr, "context_create failed: %s\n", clconv_last_error(NULL));
    return -1;
  }
  *state = ctx;
  return 0;
}

int group_teardown_context(void **state) {
  clconv_context_destroy(*state);
  return 0;
}

float *test_alloc(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  assert_non_null(p);
  return p;
}

void fill_random(test_rng *r, float *v, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = rng_float(r, lo, hi);
}

void fill_integers(test_rng *r, float *v, size_t n, int lo, int hi) {
  for (size_t i = 0; i < n; i++)
    v[i] = (float)((int)rng_int(r, 0, (uint32_t)(hi - lo)) + lo);
}

clconv_tensor *upload(clconv_context *ctx, uint32_t ndim, const uint32_t *dims, const float *host) {
  clconv_tensor *t = NULL;
  clconv_status s = clconv_tensor_create(ctx, ndim, dims, &t);
  if (s != CLCONV_OK)
    fail_msg("tensor_create: %s", clconv_last_error(ctx));
  if (host && clconv_tensor_write(t, host, clconv_tensor_count(t)) != CLCONV_OK)
    fail_msg("tensor_write: %s", clconv_last_error(ctx));
  return t;
}

void download(clconv_tensor *t, float *host) {
  assert_int_equal(clconv_tensor_read(t, host, clconv_tensor_count(t)), CLCONV_OK);
}

static void axes_str(char *buf, size_t cap, const char *name, const uint32_t *v, uint32_t n) {
  size_t used = strlen(buf);
  used += (size_t)snprintf(buf + used, cap - used, " %s=", name);
  for (uint32_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%u", i ? "," : "", v[i]);
}

void conv_desc_str(const clconv_conv_desc *d, char *buf, size_t cap) {
  snprintf(buf, cap, "conv ndim=%u N=%u C=%u K=%u groups=%u mode=%s bias=%d act=%s(%g,%g)", d->ndim, d->batch,
           d->in_channels, d->out_channels, d->groups, d->mode ? "conv" : "xcorr", d->has_bias,
           clconv_act_name(d->activation.kind), (double)d->activation.alpha, (double)d->activation.beta);
  axes_str(buf, cap, "in", d->in_size, d->ndim);
  axes_str(buf, cap, "k", d->kernel_size, d->ndim);
  axes_str(buf, cap, "s", d->stride, d->ndim);
  axes_str(buf, cap, "dil", d->dilation, d->ndim);
  axes_str(buf, cap, "pb", d->pad_before, d->ndim);
  axes_str(buf, cap, "pa", d->pad_after, d->ndim);
}

void pool_desc_str(const clconv_pool_desc *d, char *buf, size_t cap) {
  snprintf(buf, cap, "pool %s ndim=%u N=%u C=%u ceil=%d count_pad=%d global=%d", d->kind ? "avg" : "max", d->ndim,
           d->batch, d->channels, d->ceil_mode, d->count_include_pad, d->global);
  axes_str(buf, cap, "in", d->in_size, d->ndim);
  axes_str(buf, cap, "win", d->window, d->ndim);
  axes_str(buf, cap, "s", d->stride, d->ndim);
  axes_str(buf, cap, "pb", d->pad_before, d->ndim);
  axes_str(buf, cap, "pa", d->pad_after, d->ndim);
}

void index_str(size_t i, const uint32_t *dims, uint32_t ndim, char *buf, size_t cap) {
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

void random_activation(test_rng *r, clconv_activation *a) {
  memset(a, 0, sizeof *a);
  a->kind = (clconv_act_kind)rng_int(r, 0, CLCONV_ACT_COUNT - 1);
  if (a->kind == CLCONV_ACT_LEAKY_RELU || a->kind == CLCONV_ACT_ELU)
    a->alpha = rng_chance(r, 0.3) ? 0.0f : rng_float(r, 0.01f, 2.0f); /* 0 = the default */
  if (a->kind == CLCONV_ACT_CLIP) {
    a->alpha = rng_float(r, -1.0f, 0.0f);
    a->beta = rng_float(r, 0.0f, 1.0f);
  }
}

void random_conv_desc(test_rng *r, clconv_conv_desc *d, bool exact) {
  static const uint32_t max_in[4] = {0, 40, 13, 7};
  memset(d, 0, sizeof *d);
  d->ndim = rng_int(r, 1, 3);
  d->batch = rng_chance(r, 0.25) ? rng_int(r, 2, 3) : rng_int(r, 0, 1);
  switch (rng_int(r, 0, 5)) {
  case 0: /* depthwise */
    d->groups = d->in_channels = d->out_channels = rng_int(r, 1, 6);
    break;
  case 1: { /* grouped */
    uint32_t g = rng_int(r, 2, 3);
    d->groups = g;
    d->in_channels = g * rng_int(r, 1, 3);
    d->out_channels = g * rng_int(r, 1, 3);
    break;
  }
  case 2: /* many channels on a small image: long reductions (C/G * k-volume up to a few thousand) */
    d->in_channels = rng_int(r, 16, d->ndim == 3 ? 100 : 160);
    d->out_channels = rng_int(r, 1, 5);
    break;
  default:
    d->groups = rng_int(r, 0, 1);
    d->in_channels = rng_int(r, 1, 6);
    d->out_channels = rng_int(r, 1, 6);
  }
  bool wide = d->in_channels >= 16;
  for (uint32_t i = 0; i < d->ndim; i++) {
    d->in_size[i] = rng_int(r, 1, wide ? max_in[d->ndim] / 2 + 1 : max_in[d->ndim]);
    d->kernel_size[i] = rng_int(r, 1, d->ndim == 3 ? 3 : 5);
    d->stride[i] = rng_chance(r, 0.5) ? 0 : rng_int(r, 1, 4);
    d->dilation[i] = rng_chance(r, 0.7) ? 0 : rng_int(r, 1, 3);
    d->pad_before[i] = rng_chance(r, 0.4) ? 0 : rng_int(r, 0, 3);
    d->pad_after[i] = rng_chance(r, 0.4) ? 0 : rng_int(r, 0, 3);
    uint32_t padded = d->in_size[i] + d->pad_before[i] + d->pad_after[i];
    uint32_t dil = d->dilation[i] ? d->dilation[i] : 1, cap = d->ndim == 3 ? 4 : 9;
    if (rng_chance(r, 0.08) || dil * (d->kernel_size[i] - 1) + 1 > padded) {
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
  d->mode = rng_chance(r, 0.5) ? CLCONV_MODE_CONV : CLCONV_MODE_XCORR;
  d->has_bias = rng_chance(r, 0.5);
  if (exact)
    d->activation.kind = rng_chance(r, 0.5) ? CLCONV_ACT_RELU : CLCONV_ACT_IDENTITY;
  else
    random_activation(r, &d->activation);
}

void random_pool_desc(test_rng *r, clconv_pool_desc *d, const uint32_t *in_size, uint32_t ndim) {
  clconv_pool_desc keep = *d;
  memset(d, 0, sizeof *d);
  d->ndim = ndim;
  d->batch = keep.batch;
  d->channels = keep.channels;
  d->kind = rng_chance(r, 0.5) ? CLCONV_POOL_AVG : CLCONV_POOL_MAX;
  d->count_include_pad = rng_chance(r, 0.5);
  d->ceil_mode = rng_chance(r, 0.4);
  d->global = rng_chance(r, 0.05);
  for (uint32_t i = 0; i < ndim; i++) {
    d->in_size[i] = in_size[i];
    if (d->global)
      continue;
    uint32_t w = rng_int(r, 1, in_size[i] < 4 ? in_size[i] + 1 : 4);
    d->window[i] = w;
    d->stride[i] = rng_chance(r, 0.4) ? 0 : rng_int(r, 1, 4);
    d->pad_before[i] = rng_chance(r, 0.5) ? 0 : rng_int(r, 0, w - 1);
    d->pad_after[i] = rng_chance(r, 0.5) ? 0 : rng_int(r, 0, w - 1);
    if (w > in_size[i] + d->pad_before[i] + d->pad_after[i])
      d->pad_after[i] = w - 1; /* window fits padded */
    if (w > in_size[i] + d->pad_before[i] + d->pad_after[i])
      d->pad_before[i] = w - 1;
  }
}

/* ---- device vs reference ---------------------------------------------------------------------------------- */
static int report(const char *what, const char *cfg, uint64_t seed, const clconv_compare_result *res, const float *got,
                  const float *ref, const float *mag, const uint32_t *dims, uint32_t ndim) {
  char where[128];
  index_str(res->first_mismatch, dims, ndim, where, sizeof where);
  size_t i = res->first_mismatch;
  fprintf(stderr,
          "%s MISMATCH (CLCONV_TEST_SEED=%llu): %s\n  %zu mismatches; first at %zu %s: got %.9g ref %.9g mag %.9g;"
          " worst ratio %.3g, max abs %.3g\n",
          what, (unsigned long long)seed, cfg, res->mismatches, i, where, (double)got[i], (double)ref[i],
          mag ? (double)mag[i] : 0.0, res->worst_ratio, res->max_abs_err);
  return 1;
}

static size_t prod(const uint32_t *v, uint32_t n) {
  size_t p = 1;
  for (uint32_t i = 0; i < n; i++)
    p *= v[i];
  return p;
}

/* Runs d on the device and on the reference with the given data. */
static void conv_both(clconv_context *ctx, const clconv_conv_desc *d, const float *x, const float *w, const float *b,
                      float *got, float *ref, float *mag) {
  uint32_t ss[5], ws[5], ds[5], n = d->ndim + 2;
  assert_int_equal(clconv_conv_shapes(d, ss, ws, ds), CLCONV_OK);
  clconv_tensor *tx = upload(ctx, n, ss, x), *tw = upload(ctx, n, ws, w),
                *tb = d->has_bias ? upload(ctx, 1, &ds[1], b) : NULL, *ty = upload(ctx, n, ds, NULL);
  if (clconv_conv_forward(ctx, d, tx, tw, tb, ty) != CLCONV_OK)
    fail_msg("conv_forward: %s", clconv_last_error(ctx));
  download(ty, got);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(ty);
  assert_int_equal(clconv_ref_conv(d, x, w, d->has_bias ? b : NULL, ref, mag), CLCONV_OK);
}

/* Values of magnitude 1/2..1 with a random sign. */
static void fill_away_from_zero(test_rng *r, float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    v[i] = rng_float(r, 0.5f, 1.0f) * (rng_chance(r, 0.5) ? -1.0f : 1.0f);
}

/* The comparison must notice one dropped tap: run d (activation removed, so no relu can hide the change) on data
 * of magnitude >= 1/2, zero one random weight that reaches real input, recompute the reference, and demand a
 * mismatch. Each dropped product is >= 1/4, above the largest bound at K <= 4096 (u (4 + 512) 4096 = 0.126). */
static int mutation_check(clconv_context *ctx, const clconv_conv_desc *d0, test_rng *r, uint64_t seed,
                          const char *cfg) {
  clconv_conv_desc d = *d0;
  memset(&d.activation, 0, sizeof d.activation);
  uint32_t ss[5], ws[5], ds[5], n = d.ndim + 2;
  assert_int_equal(clconv_conv_shapes(&d, ss, ws, ds), CLCONV_OK);
  size_t sc = prod(ss, n), wc = prod(ws, n), dc = prod(ds, n);
  float *x = test_alloc(sc), *w = test_alloc(wc), *b = test_alloc(ds[1]), *got = test_alloc(dc), *ref = test_alloc(dc),
        *mag = test_alloc(dc), *ref2 = test_alloc(dc);
  fill_away_from_zero(r, x, sc);
  fill_away_from_zero(r, w, wc);
  fill_away_from_zero(r, b, ds[1]);
  conv_both(ctx, &d, x, w, b, got, ref, mag);
  clconv_tolerance tol;
  assert_int_equal(clconv_conv_tolerance(&d, &tol), CLCONV_OK);
  bool changed = false;
  size_t tap = 0;
  for (int attempt = 0; attempt < 1000 && !changed; attempt++) {
    tap = rng_int(r, 0, (uint32_t)wc - 1);
    float keep = w[tap];
    w[tap] = 0.0f;
    assert_int_equal(clconv_ref_conv(&d, x, w, d.has_bias ? b : NULL, ref2, NULL), CLCONV_OK);
    w[tap] = keep;
    for (size_t i = 0; i < dc && !changed; i++)
      changed = ref2[i] != ref[i];
  }
  int bad = 0;
  clconv_compare_result res;
  assert_int_equal(clconv_compare(got, ref, mag, dc, &tol, &res), CLCONV_OK);
  if (res.mismatches)
    bad = report("conv (mutation baseline)", cfg, seed, &res, got, ref, mag, ds, n);
  /* With every window in the padding (output = bias) no tap reaches the input: nothing to mutate. */
  if (changed) {
    assert_int_equal(clconv_compare(got, ref2, mag, dc, &tol, &res), CLCONV_OK);
    if (res.mismatches == 0) {
      fprintf(stderr, "conv MUTATION NOT DETECTED, weight %zu dropped (CLCONV_TEST_SEED=%llu): %s\n", tap,
              (unsigned long long)seed, cfg);
      bad = 1;
    }
  }
  free(x);
  free(w);
  free(b);
  free(got);
  free(ref);
  free(mag);
  free(ref2);
  return bad;
}

int check_conv(clconv_context *ctx, const clconv_conv_desc *d, test_rng *r, bool exact, uint64_t seed,
               bool mutation_test) {
  uint32_t ss[5], ws[5], ds[5], n = d->ndim + 2;
  char cfg[512];
  conv_desc_str(d, cfg, sizeof cfg);
  if (clconv_conv_shapes(d, ss, ws, ds) != CLCONV_OK)
    fail_msg("bad random desc %s: %s", cfg, clconv_last_error(NULL));
  size_t sc = prod(ss, n), wc = prod(ws, n), dc = prod(ds, n);
  float *x = test_alloc(sc), *w = test_alloc(wc), *b = test_alloc(ds[1]), *got = test_alloc(dc), *ref = test_alloc(dc),
        *mag = test_alloc(dc);
  if (exact) {
    fill_integers(r, x, sc, -4, 4);
    fill_integers(r, w, wc, -4, 4);
    fill_integers(r, b, ds[1], -8, 8);
  } else {
    fill_random(r, x, sc, -1.0f, 1.0f);
    fill_random(r, w, wc, -1.0f, 1.0f);
    fill_random(r, b, ds[1], -1.0f, 1.0f);
  }
  conv_both(ctx, d, x, w, b, got, ref, mag);
  clconv_tolerance tol;
  assert_int_equal(clconv_conv_tolerance(d, &tol), CLCONV_OK);
  clconv_compare_result res;
  assert_int_equal(clconv_compare(got, ref, mag, dc, exact ? NULL : &tol, &res), CLCONV_OK);
  int bad = res.mismatches ? report(exact ? "conv exact" : "conv", cfg, seed, &res, got, ref, mag, ds, n) : 0;
  if (mutation_test)
    bad |= mutation_check(ctx, d, r, seed, cfg);
  free(x);
  free(w);
  free(b);
  free(got);
  free(ref);
  free(mag);
  return bad;
}

int check_pool(clconv_context *ctx, const clconv_pool_desc *d, test_rng *r, uint64_t seed) {
  uint32_t ss[5], ds[5], n = d->ndim + 2;
  char cfg[512];
  pool_desc_str(d, cfg, sizeof cfg);
  if (clconv_pool_shapes(d, ss, ds) != CLCONV_OK)
    fail_msg("bad random desc %s: %s", cfg, clconv_last_error(NULL));
  size_t sc = 1, dc = 1;
  for (uint32_t a = 0; a < n; a++) {
    sc *= ss[a];
    dc *= ds[a];
  }
  float *x = test_alloc(sc), *got = test_alloc(dc), *ref = test_alloc(dc), *mag = test_alloc(dc);
  /* Negative values too: max must not be confused by padding, which it never counts. */
  fill_random(r, x, sc, -4.0f, 1.0f);
  clconv_tensor *tx = upload(ctx, n, ss, x), *ty = upload(ctx, n, ds, NULL);
  if (clconv_pool_forward(ctx, d, tx, ty) != CLCONV_OK)
    fail_msg("pool_forward %s: %s", cfg, clconv_last_error(ctx));
  download(ty, got);
  assert_int_equal(clconv_ref_pool(d, x, ref, mag), CLCONV_OK);
  clconv_tolerance tol;
  assert_int_equal(clconv_pool_tolerance(d, &tol), CLCONV_OK);
  clconv_compare_result res;
  /* Max pooling selects an input, so it is exact; average gets the tolerance. */
  assert_int_equal(clconv_compare(got, ref, mag, dc, d->kind == CLCONV_POOL_MAX ? NULL : &tol, &res), CLCONV_OK);
  int bad = res.mismatches ? report("pool", cfg, seed, &res, got, ref, mag, ds, n) : 0;
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(ty);
  free(x);
  free(got);
  free(ref);
  free(mag);
  return bad;
}

int check_layer(clconv_context *ctx, const clconv_layer_desc *d, test_rng *r, uint64_t seed) {
  uint32_t ss[5], ws[5], ds[5], n = d->conv.ndim + 2;
  char cfg[1024], pcfg[512];
  conv_desc_str(&d->conv, cfg, sizeof cfg);
  pool_desc_str(&d->pool, pcfg, sizeof pcfg);
  strncat(cfg, " -> ", sizeof cfg - strlen(cfg) - 1);
  strncat(cfg, pcfg, sizeof cfg - strlen(cfg) - 1);
  if (clconv_layer_shapes(d, ss, ws, ds) != CLCONV_OK)
    fail_msg("bad random desc %s: %s", cfg, clconv_last_error(NULL));
  size_t sc = 1, wc = 1, dc = 1;
  for (uint32_t a = 0; a < n; a++) {
    sc *= ss[a];
    wc *= ws[a];
    dc *= ds[a];
  }
  float *x = test_alloc(sc), *w = test_alloc(wc), *b = test_alloc(ds[1]), *got = test_alloc(dc), *ref = test_alloc(dc),
        *mag = test_alloc(dc);
  fill_random(r, x, sc, -1.0f, 1.0f);
  fill_random(r, w, wc, -1.0f, 1.0f);
  fill_random(r, b, ds[1], -1.0f, 1.0f);
  clconv_tensor *tx = upload(ctx, n, ss, x), *tw = upload(ctx, n, ws, w),
                *tb = d->conv.has_bias ? upload(ctx, 1, &ds[1], b) : NULL, *ty = upload(ctx, n, ds, NULL);
  if (clconv_layer_forward(ctx, d, tx, tw, tb, ty) != CLCONV_OK)
    fail_msg("layer_forward %s: %s", cfg, clconv_last_error(ctx));
  download(ty, got);
  assert_int_equal(clconv_ref_layer(d, x, w, d->conv.has_bias ? b : NULL, ref, mag), CLCONV_OK);
  clconv_tolerance tol;
  assert_int_equal(clconv_layer_tolerance(d, &tol), CLCONV_OK);
  clconv_compare_result res;
  assert_int_equal(clconv_compare(got, ref, mag, dc, &tol, &res), CLCONV_OK);
  int bad = res.mismatches ? report("layer", cfg, seed, &res, got, ref, mag, ds, n) : 0;
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(ty);
  free(x);
  free(w);
  free(b);
  free(got);
  free(ref);
  free(mag);
  return bad;
}
