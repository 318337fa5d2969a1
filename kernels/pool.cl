/* kernels/pool.cl: max and average pooling, 1-D to 3-D, float32, 16 outputs along W per work-item.
 * src N C D H W, dst N C OD OH OW; shapes are int4 (D, H, W, unused) kernel arguments, unused leading axes 1.
 * Each work-item computes PW = 16 consecutive outputs of one row as one float16 (lane j: output ow0 + j);
 * range (round_up(ceil(OW / PW)), OD*OH, N*C).
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

#define PW 16 /* outputs along W per work-item, one float16: lanes are consecutive outputs */

/* The inputs lane j of a work-item meets at window column kw of one input row: row[iw + j * stride], iw the first
 * lane's, row at rowoff in a plane of `plane` floats. Lanes outside [0, n) read 0 and are reported in *inside (-1
 * inside, 0 outside). Whole-vector loads (stride 1 or 2) wherever the 16 * stride floats they read lie inside the
 * plane: lanes past nw hold outputs nobody stores, so they may read the next row. */
__attribute__((always_inline)) inline float16 clconv_pool_row(__global const float *row, const int rowoff,
                                                              const int plane, const int iw, const int stride,
                                                              const int n, const int nw, int16 *inside) {
  const int16 pos = (int16)(iw) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * (int16)(stride);
  const int16 lane_in = (pos >= (int16)(0)) & (pos < (int16)(n));
  if (stride <= 2 && rowoff + iw >= 0 && rowoff + iw + 16 * stride <= plane) {
    const float16 v = stride == 1 ? vload16(0, row + iw)
                                  : (float16)(vload16(0, row + iw).even, vload16(0, row + iw + 16).even);
    if (iw >= 0 && iw + (nw - 1) * stride < n) { /* every lane that is stored reads inside the row */
      *inside = (int16)(-1);
      return v;
    }
    *inside = lane_in;
    return select((float16)(0.0f), v, lane_in);
  }
  *inside = lane_in;
  int at[16]; /* the positions clamped into the row, as an array (OpenCL C has no vector subscripts) */
  vstore16(clamp(pos, (int16)(0), (int16)(n - 1)), 0, at);
  float e[16];
#pragma unroll
  for (int j = 0; j < 16; j++) e[j] = row[at[j]];
  return select((float16)(0.0f), vload16(0, e), lane_in);
}

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
  const int plane = isz.x * isz.y * isz.z, nw = min(PW, osz.z - ow0);
  __global const float *x = src + nc * plane;
  const int sw = ow0 * str.z - pad.z;
  float16 acc = (float16)(POOL_AVG ? 0.0f : -INFINITY);
  for (int d = d_lo; d < d_hi; d++)
    for (int h = h_lo; h < h_hi; h++) {
      const int rowoff = (d * isz.y + h) * isz.z;
      for (int kw = 0; kw < win.z; kw++) {
        int16 in;
        const float16 v = clconv_pool_row(x + rowoff, rowoff, plane, sw + kw, str.z, isz.z, nw, &in);
#if POOL_AVG
        acc += v; /* 0 outside */
#else
        acc = select(acc, v, in & (isgreater(v, acc) | isnan(v))); /* NaN wins, as in the reference */
#endif
      }
    }
#if POOL_AVG
  /* each lane's window along W: inside the input [lo, hi), inside the padded input up to the right pad */
  const int16 s = (int16)(sw) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * (int16)(str.z);
  const int16 w_cnt = count_include_pad ? min(s + (int16)(win.z), (int16)(isz.z + pad_after.z)) - s
                                        : min(s + (int16)(win.z), (int16)(isz.z)) - max(s, (int16)(0));
  acc = acc / convert_float16(w_cnt * (int16)(h_cnt * d_cnt));
#endif
  __global float *y = dst + (nc * osz.x * osz.y + odh) * osz.z + ow0;
  if (nw == PW) {
    vstore16(acc, 0, y);
  } else {
    float r[PW];
    vstore16(acc, 0, r);
    for (int j = 0; j < nw; j++) y[j] = r[j];
  }
}
