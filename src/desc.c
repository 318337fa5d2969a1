/* The descriptors of convolution, pooling and the layer: checks with the defaults applied (the geometries the ops,
 * the reference and the CLI share), output sizes, shapes, "same" padding, parameter counts and tolerances. No
 * device. */
#include "internal.h"

#include <math.h>

clconv_status clconv__index_check(clconv_context *ctx, const char *call, size_t most, int64_t padded_max) {
  CLCONV__CHECK(ctx, most <= CLCONV__MAX_KERNEL_ELEMS && padded_max <= (int64_t)CLCONV__MAX_KERNEL_ELEMS,
                CLCONV_ERR_UNSUPPORTED,
                "%s: largest tensor %zu elements, largest padded extent %lld; the kernels index with 32-bit ints "
                "(max %zu)",
                call, most, (long long)padded_max, CLCONV__MAX_KERNEL_ELEMS);
  return CLCONV_OK;
}

/* An output size, computed in 64 bits, within the fields' range (it can pass 2^31 - 1 with padding on both sides). */
static clconv_status output_fits(clconv_context *ctx, const char *call, uint32_t axis, int64_t out) {
  CLCONV__CHECK(ctx, out <= (int64_t)CLCONV__MAX_FIELD, CLCONV_ERR_SIZE_OVERFLOW,
                "%s: axis %u: output size %lld exceeds %u", call, axis, (long long)out, CLCONV__MAX_FIELD);
  return CLCONV_OK;
}

/* ---- convolution --------------------------------------------------------------------------------------------- */
clconv_status clconv__conv_check(clconv_context *ctx, const char *call, const clconv_conv_desc *d,
                                 clconv__conv_geom *g) {
  CLCONV__CHECK(ctx, d, CLCONV_ERR_INVALID_ARGUMENT, "%s: desc is NULL", call);
  memset(g, 0, sizeof *g);
  CLCONV__TRY(clconv__dtype_check(ctx, call, "dtype", d->dtype));
  g->dt = d->dtype;
  CLCONV__CHECK(ctx, d->ndim >= 1 && d->ndim <= 3, CLCONV_ERR_INVALID_ARGUMENT, "%s: ndim = %u, must be 1..3", call,
                d->ndim);
  CLCONV__CHECK(ctx, d->in_channels >= 1 && d->in_channels <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: in_channels = %u, must be 1..%u", call, d->in_channels, CLCONV__MAX_FIELD);
  CLCONV__CHECK(ctx, d->out_channels >= 1 && d->out_channels <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: out_channels = %u, must be 1..%u", call, d->out_channels, CLCONV__MAX_FIELD);
  CLCONV__CHECK(ctx, d->batch <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: batch = %u exceeds %u (a negative value cast to unsigned?)", call, d->batch, CLCONV__MAX_FIELD);
  g->ndim = d->ndim;
  g->n = d->batch ? d->batch : 1;
  g->c = d->in_channels;
  g->k = d->out_channels;
  g->groups = d->groups ? d->groups : 1;
  CLCONV__CHECK(ctx, g->c % g->groups == 0 && g->k % g->groups == 0, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: groups = %u must divide in_channels = %u and out_channels = %u", call, g->groups, g->c, g->k);
  CLCONV__CHECK(ctx, d->mode == CLCONV_MODE_XCORR || d->mode == CLCONV_MODE_CONV, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: mode = %d, must be 0 (cross-correlation) or 1 (convolution)", call, (int)d->mode);
  CLCONV__CHECK(ctx, (unsigned)d->algorithm < CLCONV_ALGO_COUNT, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: algorithm = %d, must be 0 (auto), 1 (direct) or 2 (gemm)", call, (int)d->algorithm);
  clconv_activation eff;
  CLCONV__TRY(clconv__act_check(ctx, call, &d->activation, &eff));
  CLCONV__CHECK(ctx, isfinite(d->residual_scale), CLCONV_ERR_INVALID_ARGUMENT,
                "%s: residual_scale = %g, must be finite", call, (double)d->residual_scale);
  CLCONV__CHECK(ctx, d->has_residual || d->residual_scale == 0.0f, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: residual_scale = %g without has_residual (set has_residual, or leave it 0)", call,
                (double)d->residual_scale);
  CLCONV__TRY(clconv__unused_axes(ctx, call, "in_size", d->in_size, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "kernel_size", d->kernel_size, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "stride", d->stride, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "dilation", d->dilation, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "pad_before", d->pad_before, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "pad_after", d->pad_after, d->ndim));
  for (uint32_t a = 0; a < 3; a++)
    g->in[a] = g->ker[a] = g->stride[a] = g->dil[a] = g->out[a] = 1;
  for (uint32_t i = 0; i < d->ndim; i++) {
    uint32_t a = 3 - d->ndim + i, pa;
    CLCONV__TRY(clconv__axis_field(ctx, call, "in_size", i, d->in_size[i], 0, &g->in[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "kernel_size", i, d->kernel_size[i], 0, &g->ker[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "stride", i, d->stride[i], 1, &g->stride[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "dilation", i, d->dilation[i], 1, &g->dil[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "pad_before", i, d->pad_before[i], CLCONV__ZERO_OK, &g->pad[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "pad_after", i, d->pad_after[i], CLCONV__ZERO_OK, &pa));
    /* 64-bit: each term is < 2^31, so neither sum nor product can overflow. */
    int64_t padded = (int64_t)g->in[a] + g->pad[a] + pa, span = (int64_t)g->dil[a] * (g->ker[a] - 1) + 1;
    CLCONV__CHECK(ctx, span <= padded, CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: axis %u: dilated kernel %lld (kernel_size %u, dilation %u) exceeds padded input %lld "
                  "(in_size %u + pad %u + %u)",
                  call, i, (long long)span, g->ker[a], g->dil[a], (long long)padded, g->in[a], g->pad[a], pa);
    const int64_t out = (padded - span) / g->stride[a] + 1; /* up to 3 * 2^31: padding on both sides */
    CLCONV__TRY(output_fits(ctx, call, i, out));
    g->out[a] = (uint32_t)out;
    g->padded_max = padded > g->padded_max ? padded : g->padded_max;
  }
  uint32_t src[5], wei[5], dst[5];
  src[0] = dst[0] = g->n;
  src[1] = g->c;
  wei[0] = dst[1] = g->k;
  wei[1] = g->c / g->groups;
  for (uint32_t i = 0; i < d->ndim; i++) {
    src[2 + i] = g->in[3 - d->ndim + i];
    wei[2 + i] = g->ker[3 - d->ndim + i];
    dst[2 + i] = g->out[3 - d->ndim + i];
  }
  if (!clconv__count(src, d->ndim + 2, &g->src_count) || !clconv__count(wei, d->ndim + 2, &g->wei_count) ||
      !clconv__count(dst, d->ndim + 2, &g->dst_count) || g->src_count > SIZE_MAX / sizeof(float) ||
      g->wei_count > SIZE_MAX / sizeof(float) || g->dst_count > SIZE_MAX / sizeof(float))
    return clconv__fail(ctx, CLCONV_ERR_SIZE_OVERFLOW, "%s: tensor byte counts overflow size_t", call);
  return CLCONV_OK;
}

double clconv__residual_scale(const clconv_conv_desc *d) {
  return d->residual_scale == 0.0f ? 1.0 : (double)d->residual_scale;
}

clconv_status clconv_conv_validate(const clconv_conv_desc *d) {
  clconv__conv_geom g;
  return clconv__conv_check(NULL, "conv_validate", d, &g);
}

clconv_status clconv_conv_output_size(const clconv_conv_desc *d, uint32_t out_size[3]) {
  clconv__conv_geom g;
  CLCONV__CHECK(NULL, out_size, CLCONV_ERR_INVALID_ARGUMENT, "conv_output_size: out_size is NULL");
  CLCONV__TRY(clconv__conv_check(NULL, "conv_output_size", d, &g));
  for (uint32_t i = 0; i < 3; i++)
    out_size[i] = i < g.ndim ? g.out[3 - g.ndim + i] : 0;
  return CLCONV_OK;
}

clconv_status clconv_conv_shapes(const clconv_conv_desc *d, uint32_t src[5], uint32_t weights[5], uint32_t dst[5]) {
  clconv__conv_geom g;
  CLCONV__CHECK(NULL, src && weights && dst, CLCONV_ERR_INVALID_ARGUMENT, "conv_shapes: an output array is NULL");
  CLCONV__TRY(clconv__conv_check(NULL, "conv_shapes", d, &g));
  src[0] = dst[0] = g.n;
  src[1] = g.c;
  weights[0] = dst[1] = g.k;
  weights[1] = g.c / g.groups;
  for (uint32_t i = 0; i < 3; i++) {
    bool used = i < g.ndim;
    uint32_t a = 3 - g.ndim + i;
    src[2 + i] = used ? g.in[a] : 0;
    weights[2 + i] = used ? g.ker[a] : 0;
    dst[2 + i] = used ? g.out[a] : 0;
  }
  return CLCONV_OK;
}

clconv_status clconv_conv_same_padding(clconv_conv_desc *d) {
  CLCONV__CHECK(NULL, d, CLCONV_ERR_INVALID_ARGUMENT, "conv_same_padding: desc is NULL");
  CLCONV__CHECK(NULL, d->ndim >= 1 && d->ndim <= 3, CLCONV_ERR_INVALID_ARGUMENT,
                "conv_same_padding: ndim = %u, must be 1..3", d->ndim);
  clconv_conv_desc t = *d;
  for (uint32_t i = 0; i < d->ndim; i++) {
    uint32_t in, k, s, dil;
    CLCONV__TRY(clconv__axis_field(NULL, "conv_same_padding", "in_size", i, d->in_size[i], 0, &in));
    CLCONV__TRY(clconv__axis_field(NULL, "conv_same_padding", "kernel_size", i, d->kernel_size[i], 0, &k));
    CLCONV__TRY(clconv__axis_field(NULL, "conv_same_padding", "stride", i, d->stride[i], 1, &s));
    CLCONV__TRY(clconv__axis_field(NULL, "conv_same_padding", "dilation", i, d->dilation[i], 1, &dil));
    int64_t out = ((int64_t)in + s - 1) / s, total = (out - 1) * s + (int64_t)dil * (k - 1) + 1 - in;
    if (total < 0)
      total = 0;
    CLCONV__CHECK(NULL, total <= 2 * (int64_t)CLCONV__MAX_FIELD, CLCONV_ERR_SIZE_OVERFLOW,
                  "conv_same_padding: axis %u: padding %lld does not fit", i, (long long)total);
    t.pad_before[i] = (uint32_t)(total / 2);
    t.pad_after[i] = (uint32_t)(total - total / 2);
  }
  CLCONV__TRY(clconv_conv_validate(&t));
  *d = t;
  return CLCONV_OK;
}

clconv_status clconv_conv_param_count(const clconv_conv_desc *d, uint64_t *count) {
  clconv__conv_geom g;
  CLCONV__CHECK(NULL, count, CLCONV_ERR_INVALID_ARGUMENT, "conv_param_count: count is NULL");
  CLCONV__TRY(clconv__conv_check(NULL, "conv_param_count", d, &g));
  /* < 2^31 * 2^31 * 2^93 could overflow in theory; wei_count was already checked to fit size_t. */
  *count = (uint64_t)g.wei_count + (d->has_bias ? g.k : 0);
  return CLCONV_OK;
}

clconv_status clconv_fold_batch_norm(const clconv_conv_desc *d, float *weights, float *bias, const float *gamma,
                                     const float *beta, const float *mean, const float *var, float eps) {
  clconv__conv_geom g;
  CLCONV__TRY(clconv__conv_check(NULL, "fold_batch_norm", d, &g));
  CLCONV__CHECK(NULL, weights && bias && gamma && beta && mean && var, CLCONV_ERR_INVALID_ARGUMENT,
                "fold_batch_norm: weights, bias, gamma, beta, mean or var is NULL");
  CLCONV__CHECK(NULL, isfinite(eps) && eps >= 0.0f, CLCONV_ERR_INVALID_ARGUMENT,
                "fold_batch_norm: eps = %g, must be finite and >= 0", (double)eps);
  for (uint32_t k = 0; k < g.k; k++) /* all checked first: nothing changes on failure */
    CLCONV__CHECK(NULL,
                  isfinite(gamma[k]) && isfinite(beta[k]) && isfinite(mean[k]) && isfinite(var[k]) &&
                      (double)var[k] + eps > 0.0,
                  CLCONV_ERR_INVALID_ARGUMENT,
                  "fold_batch_norm: channel %u: gamma = %g, beta = %g, mean = %g, var = %g, eps = %g: parameters "
                  "must be finite and var + eps > 0",
                  k, (double)gamma[k], (double)beta[k], (double)mean[k], (double)var[k], (double)eps);
  const size_t per = g.wei_count / g.k;
  for (uint32_t k = 0; k < g.k; k++) {
    const double s = gamma[k] / sqrt((double)var[k] + eps);
    for (size_t i = 0; i < per; i++)
      weights[k * per + i] = (float)(weights[k * per + i] * s);
    bias[k] = (float)(((double)bias[k] - mean[k]) * s + beta[k]);
  }
  return CLCONV_OK;
}

clconv_status clconv_conv_tolerance(const clconv_conv_desc *d, clconv_tolerance *tol) {
  clconv__conv_geom g;
  CLCONV__CHECK(NULL, tol, CLCONV_ERR_INVALID_ARGUMENT, "conv_tolerance: tol is NULL");
  CLCONV__TRY(clconv__conv_check(NULL, "conv_tolerance", d, &g));
  /* the products, then the bias and the residual added to their sum */
  tol->reduction_len = (uint64_t)(g.c / g.groups) * g.ker[0] * g.ker[1] * g.ker[2] + d->has_bias + d->has_residual;
  tol->lipschitz = clconv_act_lipschitz(&d->activation);
  tol->rel_factor = clconv__act_rel_factor(d->activation.kind);
  tol->dtype = d->dtype;
  return CLCONV_OK;
}

/* ---- pooling ------------------------------------------------------------------------------------------------- */
clconv_status clconv__pool_check(clconv_context *ctx, const char *call, const clconv_pool_desc *d,
                                 clconv__pool_geom *g) {
  CLCONV__CHECK(ctx, d, CLCONV_ERR_INVALID_ARGUMENT, "%s: desc is NULL", call);
  memset(g, 0, sizeof *g);
  CLCONV__TRY(clconv__dtype_check(ctx, call, "dtype", d->dtype));
  g->dt = d->dtype;
  CLCONV__CHECK(ctx, d->ndim >= 1 && d->ndim <= 3, CLCONV_ERR_INVALID_ARGUMENT, "%s: ndim = %u, must be 1..3", call,
                d->ndim);
  CLCONV__CHECK(ctx, d->channels >= 1 && d->channels <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: channels = %u, must be 1..%u", call, d->channels, CLCONV__MAX_FIELD);
  CLCONV__CHECK(ctx, d->batch <= CLCONV__MAX_FIELD, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: batch = %u exceeds %u (a negative value cast to unsigned?)", call, d->batch, CLCONV__MAX_FIELD);
  CLCONV__CHECK(ctx, d->kind == CLCONV_POOL_MAX || d->kind == CLCONV_POOL_AVG, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: kind = %d, must be 0 (max) or 1 (average)", call, (int)d->kind);
  g->ndim = d->ndim;
  g->avg = d->kind == CLCONV_POOL_AVG;
  g->n = d->batch ? d->batch : 1;
  g->c = d->channels;
  CLCONV__TRY(clconv__unused_axes(ctx, call, "in_size", d->in_size, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "window", d->window, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "stride", d->stride, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "pad_before", d->pad_before, d->ndim));
  CLCONV__TRY(clconv__unused_axes(ctx, call, "pad_after", d->pad_after, d->ndim));
  for (uint32_t a = 0; a < 3; a++)
    g->in[a] = g->win[a] = g->stride[a] = g->out[a] = 1;
  for (uint32_t i = 0; i < d->ndim; i++) {
    uint32_t a = 3 - d->ndim + i;
    CLCONV__TRY(clconv__axis_field(ctx, call, "in_size", i, d->in_size[i], 0, &g->in[a]));
    if (d->global) {
      CLCONV__CHECK(
          ctx, !d->window[i] && !d->stride[i] && !d->pad_before[i] && !d->pad_after[i], CLCONV_ERR_INVALID_ARGUMENT,
          "%s: global pooling takes its window from in_size: window, stride and pads of axis %u must be 0", call, i);
      g->win[a] = g->in[a];
      continue;
    }
    CLCONV__TRY(clconv__axis_field(ctx, call, "window", i, d->window[i], 0, &g->win[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "stride", i, d->stride[i], g->win[a], &g->stride[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "pad_before", i, d->pad_before[i], CLCONV__ZERO_OK, &g->pad[a]));
    CLCONV__TRY(clconv__axis_field(ctx, call, "pad_after", i, d->pad_after[i], CLCONV__ZERO_OK, &g->pad_after[a]));
    /* A pad as wide as the window would allow windows of padding only: max of nothing, average over zero. */
    CLCONV__CHECK(ctx, g->pad[a] < g->win[a] && g->pad_after[a] < g->win[a], CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: axis %u: pad_before = %u, pad_after = %u, each must be < window = %u", call, i, g->pad[a],
                  g->pad_after[a], g->win[a]);
    int64_t padded = (int64_t)g->in[a] + g->pad[a] + g->pad_after[a];
    CLCONV__CHECK(ctx, g->win[a] <= padded, CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: axis %u: window %u exceeds padded input %lld (in_size %u + pad %u + %u)", call, i, g->win[a],
                  (long long)padded, g->in[a], g->pad[a], g->pad_after[a]);
    int64_t span = padded - g->win[a], s = g->stride[a];
    int64_t out = (d->ceil_mode ? (span + s - 1) / s : span / s) + 1;
    /* PyTorch's rule: in ceil mode the last window must start inside the input or the left padding. */
    if (d->ceil_mode && (out - 1) * s >= (int64_t)g->in[a] + g->pad[a])
      out--;
    CLCONV__TRY(output_fits(ctx, call, i, out));
    g->out[a] = (uint32_t)out;
    g->padded_max = padded > g->padded_max ? padded : g->padded_max;
  }
  uint32_t src[5], dst[5];
  src[0] = dst[0] = g->n;
  src[1] = dst[1] = g->c;
  for (uint32_t i = 0; i < d->ndim; i++) {
    src[2 + i] = g->in[3 - d->ndim + i];
    dst[2 + i] = g->out[3 - d->ndim + i];
  }
  if (!clconv__count(src, d->ndim + 2, &g->src_count) || !clconv__count(dst, d->ndim + 2, &g->dst_count) ||
      g->src_count > SIZE_MAX / sizeof(float))
    return clconv__fail(ctx, CLCONV_ERR_SIZE_OVERFLOW, "%s: tensor byte counts overflow size_t", call);
  return CLCONV_OK;
}

clconv_status clconv_pool_validate(const clconv_pool_desc *d) {
  clconv__pool_geom g;
  return clconv__pool_check(NULL, "pool_validate", d, &g);
}

clconv_status clconv_pool_output_size(const clconv_pool_desc *d, uint32_t out_size[3]) {
  clconv__pool_geom g;
  CLCONV__CHECK(NULL, out_size, CLCONV_ERR_INVALID_ARGUMENT, "pool_output_size: out_size is NULL");
  CLCONV__TRY(clconv__pool_check(NULL, "pool_output_size", d, &g));
  for (uint32_t i = 0; i < 3; i++)
    out_size[i] = i < g.ndim ? g.out[3 - g.ndim + i] : 0;
  return CLCONV_OK;
}

clconv_status clconv_pool_shapes(const clconv_pool_desc *d, uint32_t src[5], uint32_t dst[5]) {
  clconv__pool_geom g;
  CLCONV__CHECK(NULL, src && dst, CLCONV_ERR_INVALID_ARGUMENT, "pool_shapes: an output array is NULL");
  CLCONV__TRY(clconv__pool_check(NULL, "pool_shapes", d, &g));
  src[0] = dst[0] = g.n;
  src[1] = dst[1] = g.c;
  for (uint32_t i = 0; i < 3; i++) {
    src[2 + i] = i < g.ndim ? g.in[3 - g.ndim + i] : 0;
    dst[2 + i] = i < g.ndim ? g.out[3 - g.ndim + i] : 0;
  }
  return CLCONV_OK;
}

clconv_status clconv_pool_tolerance(const clconv_pool_desc *d, clconv_tolerance *tol) {
  clconv__pool_geom g;
  CLCONV__CHECK(NULL, tol, CLCONV_ERR_INVALID_ARGUMENT, "pool_tolerance: tol is NULL");
  CLCONV__TRY(clconv__pool_check(NULL, "pool_tolerance", d, &g));
  tol->reduction_len = d->kind == CLCONV_POOL_AVG ? (uint64_t)g.win[0] * g.win[1] * g.win[2] : 0;
  tol->lipschitz = 1.0;
  tol->rel_factor = 4.0;
  tol->dtype = d->dtype;
  return CLCONV_OK;
}

/* ---- the layer ----------------------------------------------------------------------------------------------- */
clconv_status clconv__layer_pool_desc(clconv_context *ctx, const char *call, const clconv_layer_desc *d,
                                      clconv_pool_desc *pool) {
  CLCONV__CHECK(ctx, d, CLCONV_ERR_INVALID_ARGUMENT, "%s: desc is NULL", call);
  clconv__conv_geom g;
  CLCONV__TRY(clconv__conv_check(ctx, call, &d->conv, &g));
  const clconv_pool_desc *p = &d->pool;
  *pool = *p;
  /* The pool's input is the conv's output: its shape fields are derived, and may be given only if they agree. */
  CLCONV__CHECK(ctx, !p->ndim || p->ndim == g.ndim, CLCONV_ERR_INVALID_ARGUMENT, "%s: pool.ndim = %u, conv.ndim = %u",
                call, p->ndim, g.ndim);
  CLCONV__CHECK(ctx, !p->batch || p->batch == g.n, CLCONV_ERR_INVALID_ARGUMENT, "%s: pool.batch = %u, conv batch = %u",
                call, p->batch, g.n);
  CLCONV__CHECK(ctx, !p->channels || p->channels == g.k, CLCONV_ERR_INVALID_ARGUMENT,
                "%s: pool.channels = %u, conv out_channels = %u", call, p->channels, g.k);
  CLCONV__CHECK(ctx, !p->dtype || p->dtype == g.dt, CLCONV_ERR_INVALID_ARGUMENT, "%s: pool.dtype = %d, conv.dtype = %d",
                call, (int)p->dtype, (int)g.dt);
  pool->dtype = g.dt;
  pool->ndim = g.ndim;
  pool->batch = g.n;
  pool->channels = g.k;
  for (uint32_t i = 0; i < g.ndim; i++) {
    uint32_t out = g.out[3 - g.ndim + i];
    CLCONV__CHECK(ctx, !p->in_size[i] || p->in_size[i] == out, CLCONV_ERR_INVALID_ARGUMENT,
                  "%s: pool.in_size[%u] = %u, conv output is %u", call, i, p->in_size[i], out);
    pool->in_size[i] = out;
  }
  clconv__pool_geom pg;
  return clconv__pool_check(ctx, call, pool, &pg);
}

clconv_status clconv_layer_validate(const clconv_layer_desc *d) {
  clconv_pool_desc pool;
  return clconv__layer_pool_desc(NULL, "layer_validate", d, &pool);
}

clconv_status clconv_layer_shapes(const clconv_layer_desc *d, uint32_t src[5], uint32_t weights[5], uint32_t dst[5]) {
  clconv_pool_desc pool;
  uint32_t mid[5], pin[5];
  CLCONV__CHECK(NULL, src && weights && dst, CLCONV_ERR_INVALID_ARGUMENT, "layer_shapes: an output array is NULL");
  CLCONV__TRY(clconv__layer_pool_desc(NULL, "layer_shapes", d, &pool));
  CLCONV__TRY(clconv_conv_shapes(&d->conv, src, weights, mid));
  return clconv_pool_shapes(&pool, pin, dst);
}

clconv_status clconv_layer_tolerance(const clconv_layer_desc *d, clconv_tolerance *tol) {
  clconv_pool_desc pool;
  clconv_tolerance ct, pt;
  CLCONV__CHECK(NULL, tol, CLCONV_ERR_INVALID_ARGUMENT, "layer_tolerance: tol is NULL");
  CLCONV__TRY(clconv__layer_pool_desc(NULL, "layer_tolerance", d, &pool));
  CLCONV__TRY(clconv_conv_tolerance(&d->conv, &ct));
  CLCONV__TRY(clconv_pool_tolerance(&pool, &pt));
  /* clconv_ref_layer folds the conv's whole bound except the factor min(K, 8 sqrt K) into its mag (see there);
   * that factor grows with K and is >= 1, so the larger of the two reductions covers both stages. What is left
   * is the pooling's own final rounding. */
  tol->reduction_len = ct.reduction_len > pt.reduction_len ? ct.reduction_len : pt.reduction_len;
  tol->lipschitz = 1.0;
  tol->rel_factor = pt.rel_factor;
  tol->dtype = pool.dtype;
  return CLCONV_OK;
}
