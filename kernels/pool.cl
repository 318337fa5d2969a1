/* kernels/pool.cl: max and average pooling, 1-D to 3-D, in the storage types of common.cl, 16 outputs along W per work-item.
 * src N C D H W, dst N C OD OH OW; shapes are int4 (D, H, W, unused) kernel arguments, unused leading axes 1.
 * Each work-item computes PW = 16 consecutive outputs of each of `rows` consecutive output rows, one float16 per
 * row (lane j: output ow0 + j): what depends only on the columns is worked out once for all its rows.
 * Range (round_up(ceil(OW / PW)), OD * ceil(OH / rows), N*C).
 * Compile-time: NDIM (1..3), POOL_AVG (0 = max, 1 = average), and optionally POOL_KW and POOL_SW (both): the
 * window and stride along W as constants, so that the column loop unrolls (the host sets them for the usual 2 and
 * 3 wide windows at stride 1 and 2); POOL_PLANE: the program holds clconv_pool_plane instead (the end).
 * Every window holds at least one input element (the host requires pad < window), so max never returns its -inf
 * seed and the divisor is never 0. */
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

#if POOL_AVG
#define CLCONV_POOL_ADD(acc, v, in) acc += select((float16)(0.0f), v, in)
#else
/* lanes outside the input (in == 0) keep acc; a NaN is noted in nan and wins at the end, as in the reference
 * (v > acc ? v : acc is one vmaxps on x86; the NaN test inside it cost a third of the kernel) */
#define CLCONV_POOL_ADD(acc, v, in)                                                                                   \
  {                                                                                                                   \
    acc = select(acc, v, (in) & (v > acc));                                                                           \
    nan |= (in) & (v != v);                                                                                           \
  }
#endif

/* One input row's window columns for the 16 lanes into *acc (and *nan), from whole-vector loads that read
 * [sw, sw + win - 1 + 16 * stride) of the row, stride 1 or 2 (stride 2: columns kw and kw + 1 are the even and odd
 * lanes of the same two loads). masked: lanes whose column pos0 + kw lies outside [0, n) are left out (pos0: each
 * lane's first column); else every lane reads inside the row, or holds an output nobody stores. */
__attribute__((always_inline)) static inline void clconv_pool_vrow(float16 *acc_io, int16 *nan_io, __global const XT *row,
                                                            const int sw, const int win, const int stride,
                                                            const int16 pos0, const int n, const bool masked) {
  float16 acc = *acc_io;
  int16 nan = *nan_io;
  const int16 all = (int16)(-1);
  if (stride == 1) {
    for (int kw = 0; kw < win; kw++) {
      const float16 v = LDXV(16, row + sw + kw);
      const int16 in = masked ? (pos0 >= (int16)(-kw)) & (pos0 < (int16)(n - kw)) : all;
      CLCONV_POOL_ADD(acc, v, in);
    }
  } else {
    for (int kw = 0; kw < win; kw += 2) {
      const float16 a = LDXV(16, row + sw + kw), b = LDXV(16, row + sw + kw + 16);
      const float16 ve = (float16)(a.even, b.even), vo = (float16)(a.odd, b.odd);
      const int16 ie = masked ? (pos0 >= (int16)(-kw)) & (pos0 < (int16)(n - kw)) : all;
      CLCONV_POOL_ADD(acc, ve, ie);
      if (kw + 1 < win) {
        const int16 io = masked ? (pos0 >= (int16)(-kw - 1)) & (pos0 < (int16)(n - kw - 1)) : all;
        CLCONV_POOL_ADD(acc, vo, io);
      }
    }
  }
  *acc_io = acc;
  *nan_io = nan;
}

#ifndef POOL_PLANE
#ifdef POOL_KW
#define POOL_KW_ POOL_KW
#define POOL_SW_ POOL_SW
#else
#define POOL_KW_ win.z
#define POOL_SW_ str.z
#endif

__kernel void clconv_pool(__global const XT *restrict src, __global YT *restrict dst, const int4 isz,
                          const int4 osz, const int4 win, const int4 str, const int4 pad, const int4 pad_after,
                          const int count_include_pad, const int rows) {
  const int ow0 = (int)get_global_id(0) * PW, odg = (int)get_global_id(1), nc = (int)get_global_id(2);
#if NDIM == 3 /* dimension 1 counts output depths times row groups (a division: 3-D only) */
  const int groups_h = (osz.y + rows - 1) / rows, od = odg / groups_h, oh0 = (odg - od * groups_h) * rows;
#else
  const int od = 0, oh0 = odg * rows;
#endif
  if (ow0 >= osz.z || od >= osz.x || oh0 >= osz.y) return; /* the range is rounded up to whole work-groups */
  const int oh1 = min(oh0 + rows, osz.y);
  /* Window [s, s + win) in input coordinates; the part inside the input is [lo, hi), the part inside the padded
   * input (what count_include_pad divides by) ends at min(s + win, in + pad_after). */
#if NDIM < 3
  const int d_lo = 0, d_hi = 1, d_cnt = 1;
#else
  const int sd = od * str.x - pad.x, d_lo = max(sd, 0), d_hi = min(sd + win.x, isz.x);
  const int d_cnt = count_include_pad ? min(sd + win.x, isz.x + pad_after.x) - sd : d_hi - d_lo;
#endif
  const int plane = isz.x * isz.y * isz.z, nw = min(PW, osz.z - ow0);
  __global const XT *x = src + nc * plane;
  const int sw = ow0 * str.z - pad.z;
  /* every stored lane's window inside the row, stride 1 or 2: whole-vector loads, no masks (lanes past nw hold
   * outputs nobody stores, so they may read the next row); they read [sw, sw + reach) of the row */
  const bool cols_inside = sw >= 0 && sw + win.z - 1 + (nw - 1) * str.z < isz.z;
  const int reach = win.z - 1 + 16 * str.z;
  const int16 pos0 = clconv_pos16(sw, str.z);
#if POOL_AVG
  /* each lane's window along W: inside the input [lo, hi), inside the padded input up to the right pad */
  const float16 w_cnt = convert_float16(count_include_pad
                                            ? min(pos0 + (int16)(win.z), (int16)(isz.z + pad_after.z)) - pos0
                                            : min(pos0 + (int16)(win.z), (int16)(isz.z)) - max(pos0, (int16)(0)));
#endif
  for (int oh = oh0; oh < oh1; oh++) {
#if NDIM < 2
    const int h_lo = 0, h_hi = 1, h_cnt = 1;
#else
    const int sh = oh * str.y - pad.y, h_lo = max(sh, 0), h_hi = min(sh + win.y, isz.y);
    const int h_cnt = count_include_pad ? min(sh + win.y, isz.y + pad_after.y) - sh : h_hi - h_lo;
#endif
    float16 acc = (float16)(POOL_AVG ? 0.0f : -INFINITY);
    int16 nan = (int16)(0); /* max: the lanes that met a NaN */
    for (int d = d_lo; d < d_hi; d++)
      for (int h = h_lo; h < h_hi; h++) {
        const int rowoff = (d * isz.y + h) * isz.z;
        __global const XT *row = x + rowoff;
        if (POOL_SW_ <= 2 && rowoff + sw >= 0 && rowoff + sw + reach <= plane) { /* whole-vector loads */
          if (cols_inside)
            clconv_pool_vrow(&acc, &nan, row, sw, POOL_KW_, POOL_SW_, pos0, isz.z, false);
          else
            clconv_pool_vrow(&acc, &nan, row, sw, POOL_KW_, POOL_SW_, pos0, isz.z, true);
        } else {
          for (int kw = 0; kw < win.z; kw++) {
            const int16 in = clconv_lanes16(sw + kw, str.z, isz.z);
            const float16 v = clconv_edge16(row, rowoff, plane, sw + kw, str.z, isz.z, in);
            CLCONV_POOL_ADD(acc, v, in);
          }
        }
      }
#if POOL_AVG
    acc = acc / (w_cnt * (float16)((float)(h_cnt * d_cnt)));
#else
    acc = select(acc, (float16)(NAN), nan);
#endif
    __global YT *y = dst + ((nc * osz.x + od) * osz.y + oh) * osz.z + ow0;
    clconv_store16(y, acc, nw);
  }
}
#else
/* Whole-plane pooling (global pooling, or one window covering the unpadded input): one output per (n, c) plane, a
 * reduction of its plane contiguous floats, 16 at a time, then across the lanes and the tail. A row kernel's
 * work-item would compute 16 outputs to store one, each lane reading the whole window. Range: N*C rounded up. */
__kernel void clconv_pool_plane(__global const XT *restrict src, __global YT *restrict dst, const int plane,
                                const int total) {
  const int nc = (int)get_global_id(0);
  if (nc >= total) return;
  __global const XT *x = src + nc * plane;
  float16 acc = (float16)(POOL_AVG ? 0.0f : -INFINITY);
  int16 nan = (int16)(0);
  int i = 0;
  for (; i + 16 <= plane; i += 16) {
    const float16 v = LDXV(16, x + i);
    CLCONV_POOL_ADD(acc, v, (int16)(-1));
  }
  float lanes[16];
  vstore16(acc, 0, lanes);
  float r = lanes[0];
  bool any_nan = any(nan != (int16)(0));
  for (int j = 1; j < 16; j++) r = POOL_AVG ? r + lanes[j] : fmax(r, lanes[j]);
  for (; i < plane; i++) {
    const float v = LDX(x + i);
    r = POOL_AVG ? r + v : fmax(r, v);
    any_nan = any_nan || isnan(v);
  }
  STY(dst + nc, POOL_AVG ? r / (float)plane : (any_nan ? NAN : r));
}
#endif
