/* kernels/pool.cl: max and average pooling, 1-D to 3-D, float32, one work-item per output.
 * src N C D H W, dst N C OD OH OW; shapes are int4 (D, H, W, unused) kernel arguments, unused leading axes 1.
 * Each work-item computes PW consecutive outputs of one row; range (round_up(ceil(OW / PW)), OD*OH, N*C).
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

#define PW 8 /* outputs along W per work-item: the row's window bounds along D and H are shared by all of them */

__kernel void clconv_pool(__global const float *restrict src, __global float *restrict dst, const int4 isz,
                          const int4 osz, const int4 win, const int4 str, const int4 pad, const int4 pad_after,
                          const int count_include_pad) {
  const int ow0 = (int)get_global_id(0) * PW, odh = (int)get_global_id(1), nc = (int)get_global_id(2);
  if (ow0 >= osz.z || odh >= osz.x * osz.y) return; /* the range is rounded up to whole work-groups */
  const int od = odh / osz.y, oh = odh % osz.y;
  /* Window [s, s + win) in input coordinates; the part inside the input is [lo, hi), the part inside the padded
   * input (what count_include_pad divides by) ends at min(s + win, in + pad_after). */
  const int sd = od * str.x - pad.x, sh = oh * str.y - pad.y;
#if NDIM < 3
  const int d_lo = 0, d_hi = 1, d_cnt = 1;
#else
  const int d_lo = max(sd, 0), d_hi = min(sd + win.x, isz.x);
  const int d_cnt = count_include_pad ? min(sd + win.x, isz.x + pad_after.x) - sd : d_hi - d_lo;
#endif
#if NDIM < 2
  const int h_lo = 0, h_hi = 1, h_cnt = 1;
#else
  const int h_lo = max(sh, 0), h_hi = min(sh + win.y, isz.y);
  const int h_cnt = count_include_pad ? min(sh + win.y, isz.y + pad_after.y) - sh : h_hi - h_lo;
#endif
  __global const float *x = src + nc * isz.x * isz.y * isz.z;
  float acc[PW];
#pragma unroll
  for (int j = 0; j < PW; j++) acc[j] = POOL_AVG ? 0.0f : -INFINITY;
  for (int d = d_lo; d < d_hi; d++)
    for (int h = h_lo; h < h_hi; h++) {
      __global const float *row = x + (d * isz.y + h) * isz.z;
#pragma unroll
      for (int j = 0; j < PW; j++) {
        const int sw = (ow0 + j) * str.z - pad.z, lo = max(sw, 0), hi = min(sw + win.z, isz.z);
        for (int w = lo; w < hi; w++) {
          const float v = row[w];
#if POOL_AVG
          acc[j] += v;
#else
          acc[j] = (v > acc[j] || isnan(v)) ? v : acc[j]; /* NaN wins, as in the reference */
#endif
        }
      }
    }
  const int nw = min(PW, osz.z - ow0);
  __global float *y = dst + (nc * osz.x * osz.y + odh) * osz.z + ow0;
  for (int j = 0; j < nw; j++) {
#if POOL_AVG
    const int sw = (ow0 + j) * str.z - pad.z;
    const int w_cnt = count_include_pad ? min(sw + win.z, isz.z + pad_after.z) - sw
                                        : min(sw + win.z, isz.z) - max(sw, 0);
    y[j] = acc[j] / (float)(w_cnt * h_cnt * d_cnt);
#else
    y[j] = acc[j];
#endif
  }
}
