/* kernels/conv.cl: direct convolution and cross-correlation, 1-D to 3-D, float32, one work-item per output.
 * Layouts as in clconv.h: src N C D H W, weights K C/G KD KH KW, dst N K OD OH OW. Shapes are kernel arguments
 * as int4 (D, H, W, unused) with unused leading axes of extent 1, so one program serves every shape.
 * Compile-time: NDIM (1..3; lets the compiler drop the loops of absent axes), FLIP (0 = cross-correlation,
 * 1 = convolution: the kernel is read mirrored in every spatial axis), ACT (common.cl).
 * The host guarantees every tensor has < 2^31 elements, so int offsets cannot overflow. */
#ifndef NDIM
#error "NDIM must be defined (1..3)"
#endif
#if NDIM < 1 || NDIM > 3
#error "NDIM must be 1..3"
#endif
#ifndef FLIP
#define FLIP 0
#endif

#if FLIP
#define TAP(t, k) ((k) - 1 - (t))
#else
#define TAP(t, k) (t)
#endif

/* Taps t in [lo, hi) read inside [0, n) for a window starting at s with dilation d: the padding test is done once
 * per axis here instead of once per tap. A window starting past the input gives hi <= lo, an empty loop. */
inline int2 clconv_taps(int s, int d, int n, int k) {
  const int lo = s < 0 ? (-s + d - 1) / d : 0;
  const int hi = min(k, (n - s + d - 1) / d);
  return (int2)(lo, hi);
}

__kernel void clconv_conv_direct(__global const float *restrict src, __global const float *restrict wei,
                                 __global const float *restrict bias, /* NULL without bias */
                                 __global float *restrict dst, const int cin_g, const int cout, const int cout_g,
                                 const int4 isz, const int4 osz, const int4 ksz, const int4 str, const int4 dil,
                                 const int4 pad, const float alpha, const float beta, const int total) {
  const int gid = (int)get_global_id(0);
  if (gid >= total) return;
  const int4 o = clconv_unflatten(gid, osz);
  const int od = o.x, oh = o.y, ow = o.z, t = o.w;
  const int k = t % cout, n = t / cout;
  const int groups = cout / cout_g, g = k / cout_g;

  const int d0 = od * str.x - pad.x, h0 = oh * str.y - pad.y, w0 = ow * str.z - pad.z;
#if NDIM >= 3
  const int2 td = clconv_taps(d0, dil.x, isz.x, ksz.x);
#else
  const int2 td = (int2)(0, 1);
#endif
#if NDIM >= 2
  const int2 th = clconv_taps(h0, dil.y, isz.y, ksz.y);
#else
  const int2 th = (int2)(0, 1);
#endif
  const int2 tw = clconv_taps(w0, dil.z, isz.z, ksz.z);

  const int plane = isz.x * isz.y * isz.z, kvol = ksz.x * ksz.y * ksz.z;
  __global const float *x = src + (n * groups * cin_g + g * cin_g) * plane;
  __global const float *w = wei + k * cin_g * kvol;
  float acc = 0.0f;
  for (int c = 0; c < cin_g; c++, x += plane, w += kvol) {
    for (int kd = td.x; kd < td.y; kd++) {
      __global const float *xd = x + (d0 + kd * dil.x) * isz.y * isz.z;
      __global const float *wd = w + TAP(kd, ksz.x) * ksz.y * ksz.z;
      for (int kh = th.x; kh < th.y; kh++) {
        __global const float *xh = xd + (h0 + kh * dil.y) * isz.z + w0;
        __global const float *wh = wd + TAP(kh, ksz.y) * ksz.z;
        for (int kw = tw.x; kw < tw.y; kw++) acc = fma(xh[kw * dil.z], wh[TAP(kw, ksz.z)], acc);
      }
    }
  }
  if (bias) acc += bias[k];
  dst[gid] = clconv_activate(acc, alpha, beta);
}
