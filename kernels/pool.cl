/* kernels/pool.cl: max and average pooling, 1-D to 3-D, float32, one work-item per output.
 * src N C D H W, dst N C OD OH OW; shapes are int4 (D, H, W, unused) kernel arguments, unused leading axes 1.
 * Compile-time: NDIM (1..3), POOL_AVG (0 = max, 1 = average). Every window holds at least one input element
 * (the host requires pad < window), so max never returns its -inf seed and the divisor is never 0. */
#ifndef NDIM
#error "NDIM must be defined (1..3)"
#endif
#if NDIM < 1 || NDIM > 3
#error "NDIM must be 1..3"
#endif
#ifndef POOL_AVG
#define POOL_AVG 0
#endif

__kernel void clconv_pool(__global const float *restrict src, __global float *restrict dst, const int4 isz,
                          const int4 osz, const int4 win, const int4 str, const int4 pad, const int4 pad_after,
                          const int count_include_pad, const int total) {
  const int gid = (int)get_global_id(0);
  if (gid >= total) return;
  const int4 o = clconv_unflatten(gid, osz);
  const int nc = o.w;

  /* Window [s, s + win) in input coordinates; the part inside the input is [lo, hi), the part inside the padded
   * input (what count_include_pad divides by) ends at min(s + win, in + pad_after). */
  const int4 s = (int4)(o.xyz, 0) * str - pad;
  const int4 lo = max(s, (int4)(0)), hi = min(s + win, isz);
#if NDIM < 3
  const int d_lo = 0, d_hi = 1;
#else
  const int d_lo = lo.x, d_hi = hi.x;
#endif
#if NDIM < 2
  const int h_lo = 0, h_hi = 1;
#else
  const int h_lo = lo.y, h_hi = hi.y;
#endif
  __global const float *x = src + nc * isz.x * isz.y * isz.z;
#if POOL_AVG
  float sum = 0.0f;
#else
  float m = -INFINITY;
#endif
  for (int d = d_lo; d < d_hi; d++)
    for (int h = h_lo; h < h_hi; h++) {
      __global const float *row = x + (d * isz.y + h) * isz.z;
      for (int w = lo.z; w < hi.z; w++) {
        const float v = row[w];
#if POOL_AVG
        sum += v;
#else
        m = (v > m || isnan(v)) ? v : m; /* NaN wins, as in the reference */
#endif
      }
    }
#if POOL_AVG
  int count;
  if (count_include_pad) {
    const int4 e = min(s + win, isz + pad_after) - s;
    count = e.z * (NDIM >= 2 ? e.y : 1) * (NDIM >= 3 ? e.x : 1);
  } else {
    count = (hi.z - lo.z) * (h_hi - h_lo) * (d_hi - d_lo);
  }
  dst[gid] = sum / (float)count;
#else
  dst[gid] = m;
#endif
}
