/* CPU reference for every op, in plain C: double accumulation, one rounding to the output type at the end. Also the
 * element-wise comparison with the tolerance model of clconv.h. */
#include "internal.h"

#include <math.h>

/* v rounded once to type t, to nearest even (rint in the default rounding mode), as a float (exact: every value of
 * t is one): significand bits p, smallest subnormal 2^sub, largest finite value max; past max (after rounding), inf. */
static float round_to(double v, clconv_dtype t) {
  if (t == CLCONV_F32 || !isfinite(v) || v == 0.0)
    return (float)v;
  const int p = t == CLCONV_F16 ? 11 : 8, sub = t == CLCONV_F16 ? -24 : -133;
  const double max = t == CLCONV_F16 ? 65504.0 : ldexp(255.0, 120); /* bfloat16: 0x7f7f, (2 - 2^-7) 2^127 */
  int e;
  frexp(v, &e); /* |v| in [2^(e-1), 2^e): its ulp in t is 2^(e - p), at least the smallest subnormal */
  const int ulp = e - p > sub ? e - p : sub;
  const double r = ldexp(rint(ldexp(v, -ulp)), ulp);
  return fabs(r) > max ? (v > 0 ? INFINITY : -INFINITY) : (float)r;
}

clconv_status clconv_ref_act(const clconv_activation *act, clconv_dtype dtype, const float *src, float *dst,
                             size_t count) {
  CLCONV__CHECK(NULL, act && src && dst, CLCONV_ERR_INVALID_ARGUMENT, "ref_act: act, src or dst is NULL");
  CLCONV__TRY(clconv__dtype_check(NULL, "ref_act", "dtype", dtype));
  clconv_activation eff;
  CLCONV__TRY(clconv__act_check(NULL, "ref_act", act, &eff));
  for (size_t i = 0; i < count; i++)
    dst[i] = round_to(clconv__act_apply(&eff, src[i]), dtype);
  return CLCONV_OK;
}

clconv_status clconv_ref_conv(const clconv_conv_desc *d, const float *src, const float *weights, const float *bias,
                              const float *residual, float *dst, float *mag) {
  clconv__conv_geom g;
  CLCONV__TRY(clconv__conv_check(NULL, "ref_conv", d, &g));
  CLCONV__CHECK(NULL, src && weights && dst, CLCONV_ERR_INVALID_ARGUMENT, "ref_conv: src, weights or dst is NULL");
  CLCONV__CHECK(NULL, !d->has_bias || bias, CLCONV_ERR_INVALID_ARGUMENT, "ref_conv: has_bias but bias is NULL");
  CLCONV__CHECK(NULL, !d->has_residual || residual, CLCONV_ERR_INVALID_ARGUMENT,
                "ref_conv: has_residual but residual is NULL");
  const double beta = clconv__residual_scale(d);
  clconv_activation act;
  clconv__act_check(NULL, "ref_conv", &d->activation, &act);
  const bool flip = d->mode == CLCONV_MODE_CONV;
  const size_t cin_g = g.c / g.groups, cout_g = g.k / g.groups;
  const size_t plane = (size_t)g.in[0] * g.in[1] * g.in[2], kvol = (size_t)g.ker[0] * g.ker[1] * g.ker[2];
  size_t o = 0;
  for (size_t n = 0; n < g.n; n++)
    for (size_t k = 0; k < g.k; k++)
      for (int64_t od = 0; od < g.out[0]; od++)
        for (int64_t oh = 0; oh < g.out[1]; oh++)
          for (int64_t ow = 0; ow < g.out[2]; ow++, o++) {
            double sum = 0.0, s_abs = 0.0;
            const size_t grp = k / cout_g;
            for (size_t c = 0; c < cin_g; c++) {
              const float *x = src + (n * g.c + grp * cin_g + c) * plane;
              const float *w = weights + (k * cin_g + c) * kvol;
              for (int64_t td = 0; td < g.ker[0]; td++) {
                int64_t id = od * g.stride[0] - g.pad[0] + td * g.dil[0];
                if (id < 0 || id >= g.in[0])
                  continue;
                for (int64_t th = 0; th < g.ker[1]; th++) {
                  int64_t ih = oh * g.stride[1] - g.pad[1] + th * g.dil[1];
                  if (ih < 0 || ih >= g.in[1])
                    continue;
                  for (int64_t tw = 0; tw < g.ker[2]; tw++) {
                    int64_t iw = ow * g.stride[2] - g.pad[2] + tw * g.dil[2];
                    if (iw < 0 || iw >= g.in[2])
                      continue;
                    int64_t wd = flip ? g.ker[0] - 1 - td : td, wh = flip ? g.ker[1] - 1 - th : th,
                            ww = flip ? g.ker[2] - 1 - tw : tw;
                    double p =
                        (double)x[(id * g.in[1] + ih) * g.in[2] + iw] * (double)w[(wd * g.ker[1] + wh) * g.ker[2] + ww];
                    sum += p;
                    s_abs += fabs(p);
                  }
                }
              }
            }
            if (d->has_bias) {
              sum += bias[k];
              s_abs += fabs((double)bias[k]);
            }
            if (d->has_residual) {
              sum += beta * residual[o];
              s_abs += fabs(beta * residual[o]);
            }
            dst[o] = round_to(clconv__act_apply(&act, sum), g.dt);
            if (mag)
              mag[o] = (float)s_abs;
          }
  return CLCONV_OK;
}

/* Pools src (geometry g) into dst. mag, if set, gets the pooled error scale: for max 0, for average
 * sum|x| / divisor; with in_mag (the layer), also the max over the window of in_mag. */
static void pool_core(const clconv_pool_desc *d, const clconv__pool_geom *g, const float *src, const float *in_mag,
                      float *dst, float *mag) {
  const bool avg = d->kind == CLCONV_POOL_AVG;
  const size_t plane = (size_t)g->in[0] * g->in[1] * g->in[2];
  size_t o = 0;
  for (size_t nc = 0; nc < (size_t)g->n * g->c; nc++)
    for (int64_t od = 0; od < g->out[0]; od++)
      for (int64_t oh = 0; oh < g->out[1]; oh++)
        for (int64_t ow = 0; ow < g->out[2]; ow++, o++) {
          const int64_t o3[3] = {od, oh, ow};
          int64_t lo[3], hi[3], padded = 1;
          for (int a = 0; a < 3; a++) {
            int64_t s = o3[a] * g->stride[a] - g->pad[a], e = s + g->win[a];
            int64_t e_pad = e < (int64_t)g->in[a] + g->pad_after[a] ? e : (int64_t)g->in[a] + g->pad_after[a];
            padded *= e_pad - s;
            lo[a] = s < 0 ? 0 : s;
            hi[a] = e < g->in[a] ? e : g->in[a];
          }
          double acc = avg ? 0.0 : -INFINITY, s_abs = 0.0, m_in = 0.0;
          int64_t cnt = 0;
          for (int64_t id = lo[0]; id < hi[0]; id++)
            for (int64_t ih = lo[1]; ih < hi[1]; ih++)
              for (int64_t iw = lo[2]; iw < hi[2]; iw++, cnt++) {
                size_t i = nc * plane + (size_t)((id * g->in[1] + ih) * g->in[2] + iw);
                double v = src[i];
                if (avg) {
                  acc += v;
                  s_abs += fabs(v);
                } else if (v > acc || isnan(v)) {
                  acc = v;
                }
                if (in_mag && in_mag[i] > m_in)
                  m_in = in_mag[i];
              }
          double div = avg ? (double)(d->count_include_pad ? padded : cnt) : 1.0;
          dst[o] = round_to(acc / div, g->dt);
          if (mag)
            mag[o] = (float)(m_in + s_abs / div);
        }
}

clconv_status clconv_ref_pool(const clconv_pool_desc *d, const float *src, float *dst, float *mag) {
  clconv__pool_geom g;
  CLCONV__TRY(clconv__pool_check(NULL, "ref_pool", d, &g));
  CLCONV__CHECK(NULL, src && dst, CLCONV_ERR_INVALID_ARGUMENT, "ref_pool: src or dst is NULL");
  pool_core(d, &g, src, NULL, dst, mag);
  return CLCONV_OK;
}

clconv_status clconv_ref_layer(const clconv_layer_desc *d, const float *src, const float *weights, const float *bias,
                               const float *residual, float *dst, float *mag) {
  clconv_pool_desc pool;
  clconv__conv_geom cg;
  clconv__pool_geom pg;
  clconv_tolerance ct;
  CLCONV__TRY(clconv__layer_pool_desc(NULL, "ref_layer", d, &pool));
  CLCONV__TRY(clconv__conv_check(NULL, "ref_layer", &d->conv, &cg));
  CLCONV__TRY(clconv__pool_check(NULL, "ref_layer", &pool, &pg));
  CLCONV__TRY(clconv_conv_tolerance(&d->conv, &ct));
  CLCONV__CHECK(NULL, src && weights && dst, CLCONV_ERR_INVALID_ARGUMENT, "ref_layer: src, weights or dst is NULL");
  float *mid = clconv__malloc(cg.dst_count * sizeof *mid), *mid_mag = clconv__malloc(cg.dst_count * sizeof *mid_mag);
  if (!mid || !mid_mag) {
    clconv__free(mid);
    clconv__free(mid_mag);
    return clconv__fail(NULL, CLCONV_ERR_OUT_OF_MEMORY, "ref_layer: %zu floats for the conv output", cg.dst_count);
  }
  clconv_conv_desc conv = d->conv;
  conv.dtype = CLCONV_F32; /* the intermediate is float32 on the device, whatever the layer's type */
  clconv_status s = clconv_ref_conv(&conv, src, weights, bias, residual, mid, mid_mag);
  if (s == CLCONV_OK) {
    /* Each conv output i carries an error <= u (c |r_i| + f(K) L S_i); pooling passes on at most the largest
     * in its window. Fold everything but f(K) >= 1 into the scale, so clconv_layer_tolerance can use f alone. */
    for (size_t i = 0; i < cg.dst_count; i++)
      mid_mag[i] = (float)(ct.lipschitz * mid_mag[i] + ct.rel_factor * fabs((double)mid[i]));
    pool_core(&pool, &pg, mid, mid_mag, dst, mag);
  }
  clconv__free(mid);
  clconv__free(mid_mag);
  return s;
}

/* ---- comparison ---------------------------------------------------------------------------------------------- */
static int fp_class(float v) { return isnan(v) ? 1 : isinf(v) ? (v > 0 ? 2 : 3) : 0; }

clconv_status clconv_compare(const float *got, const float *ref, const float *mag, size_t count,
                             const clconv_tolerance *tol, clconv_compare_result *res) {
  CLCONV__CHECK(NULL, got && ref && res, CLCONV_ERR_INVALID_ARGUMENT, "compare: got, ref or res is NULL");
  const double u = 0x1p-24, tiny = 0x1p-126;
  double c = 0.0, fl = 0.0, out_rel = 0.0, out_abs = 0.0;
  if (tol) {
    CLCONV__TRY(clconv__dtype_check(NULL, "compare", "tol->dtype", tol->dtype));
    double k = (double)tol->reduction_len;
    c = tol->rel_factor > 0.0 ? tol->rel_factor : 4.0;
    fl = fmin(k, 8.0 * sqrt(k)) * (tol->lipschitz > 0.0 ? tol->lipschitz : 1.0);
    /* the output type's rounding, on both sides (clconv.h) */
    out_rel = tol->dtype == CLCONV_F16 ? 2 * 0x1p-11 : tol->dtype == CLCONV_BF16 ? 2 * 0x1p-8 : 0.0;
    out_abs = tol->dtype == CLCONV_F16 ? 2 * 0x1p-25 : 0.0;
  }
  memset(res, 0, sizeof *res);
  res->first_mismatch = count;
  for (size_t i = 0; i < count; i++) {
    double g = got[i], r = ref[i], ratio;
    if (fp_class(got[i]) || fp_class(ref[i])) {
      ratio = fp_class(got[i]) == fp_class(ref[i]) ? 0.0 : INFINITY;
    } else {
      double err = fabs(g - r),
             bound = tol ? u * (c * fabs(r) + fl * (mag ? fabs((double)mag[i]) : 0.0)) + tiny + out_rel * fabs(r) + out_abs
                         : 0.0;
      ratio = err == 0.0 ? 0.0 : bound > 0.0 ? err / bound : INFINITY;
      if (err > res->max_abs_err)
        res->max_abs_err = err;
      if (r != 0.0 && err / fabs(r) > res->max_rel_err)
        res->max_rel_err = err / fabs(r);
    }
    if (ratio > res->worst_ratio) {
      res->worst_ratio = ratio;
      res->worst_index = i;
    }
    if (ratio > 1.0) {
      if (res->mismatches == 0)
        res->first_mismatch = i;
      res->mismatches++;
    }
  }
  return CLCONV_OK;
}
