/* kernels/pool.cl: max and average pooling, 1-D to 3-D, in the storage types of common.cl, 16 outputs along W per work-item.
 * src N C D H W, dst N C OD OH OW; shapes are int4 (D, H, W, unused) kernel arguments, unused leading axes 1.
 * Each work-item computes PW = 16 consecutive outputs (one float16, lane j: output ow0 + j) of RT consecutive output
 * rows. It walks the input rows its RT rows' windows cover, top to bottom, reduces each row once along W (its
 * window's columns for the 16 lanes) and adds that to every output row whose window holds the row: with RT = 4
 * rows and a 3-row window at stride 2 it reads 9 rows where one output row at a time would read 12, and reduces
 * each along W once.
 * Range (OD * ceil(OH / RT) rows x ceil(OW / PW) tiles (clconv_tile_row), 1, N*C).
 * Compile-time: NDIM (1..3), POOL_AVG (0 = max, 1 = average), RT (output rows per work-item, default 1), and
 * optionally POOL_K and POOL_S (both): the window and stride along H and W (W alone in 1-D) as constants, so that
 * the column loop unrolls and the row walk's bounds are constants (the host sets them for the usual square windows
 * of 2 and 3 at stride 1 and 2 and of 4 at stride 4; the walk itself stays a loop: unrolled, with each row's edge
 * path inlined, its program took 1.9 s to build instead of 0.6 s, for no measurable gain); POOL_PLANE: the program
 * holds clconv_pool_plane instead (the end).
 * Every window holds at least one input element along each axis (the host requires pad < window), so max never
 * returns its -inf seed for a stored output and the divisor is never 0. */
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

#ifndef POOL_PLANE
#ifndef RT
#define RT 1
#endif
#ifdef POOL_K
#define KW_ POOL_K
#define SW_ POOL_S
#define CLCONV_POOL_UNROLL _Pragma("unroll") /* the taps along W are constants */
#else
#define KW_ win.z
#define SW_ str.z
#define CLCONV_POOL_UNROLL
#endif
#if NDIM == 1
#define KH_ 1
#define SH_ 1
#elif defined(POOL_K)
#define KH_ POOL_K
#define SH_ POOL_S
#else
#define KH_ win.y
#define SH_ str.y
#endif

/* The window columns of 16 lanes in one input row, lane j's first column at pos0 + j * SW_ (sw = pos0's lane 0,
 * rowoff the row's offset in the plane of `plane` elements, n columns a row), reduced into *acc (and *nan): from
 * whole-vector loads where they lie inside the plane and the stride is 1, 2 or 4 (stride s takes columns kw .. kw +
 * s - 1 from s loads of 16 elements, split into their lanes of each residue mod s by s - 1 rounds of even/odd
 * selection), the lanes outside the row selected away unless every stored lane's window lies inside it (`inside`:
 * most tiles; the masks cost as much as the reduction); else from one clamped read per lane. */
#define CLCONV_POOL_TAP(v, k, all)                                                                                    \
  if ((k) < KW_)                                                                                                      \
    CLCONV_POOL_ADD(acc, v, (all) ? (int16)(-1) : (pos0 >= (int16)(-(k))) & (pos0 < (int16)(n - (k))));
__attribute__((always_inline)) static inline void clconv_pool_row(float16 *acc_io, int16 *nan_io,
                                                                  __global const XT *row, const int rowoff,
                                                                  const int plane, const int sw, const int16 pos0,
                                                                  const int4 win, const int4 str, const int n,
                                                                  const bool inside) {
  float16 acc = *acc_io;
  int16 nan = *nan_io;
/* the taps from whole-vector loads; all: every stored lane's window inside the row (no lane masks) */
#define CLCONV_POOL_TAPS(all)                                                                                         \
  CLCONV_POOL_UNROLL for (int kw = 0; kw < KW_; kw += SW_) {                                                          \
    __global const XT *p = row + sw + kw;                                                                             \
    if (SW_ == 1) {                                                                                                   \
      CLCONV_POOL_TAP(LDXV(16, p), kw, all)                                                                           \
    } else if (SW_ == 2) {                                                                                            \
      const float16 a = LDXV(16, p), b = LDXV(16, p + 16);                                                            \
      CLCONV_POOL_TAP(((float16)(a.even, b.even)), kw, all)                                                           \
      CLCONV_POOL_TAP(((float16)(a.odd, b.odd)), kw + 1, all)                                                         \
    } else {                                                                                                          \
      const float16 a = LDXV(16, p), b = LDXV(16, p + 16), c = LDXV(16, p + 32), d = LDXV(16, p + 48);                \
      const float16 e = (float16)(a.even, b.even), o = (float16)(a.odd, b.odd), e2 = (float16)(c.even, d.even),       \
                    o2 = (float16)(c.odd, d.odd);                                                                     \
      CLCONV_POOL_TAP(((float16)(e.even, e2.even)), kw, all)                                                          \
      CLCONV_POOL_TAP(((float16)(o.even, o2.even)), kw + 1, all)                                                      \
      CLCONV_POOL_TAP(((float16)(e.odd, e2.odd)), kw + 2, all)                                                        \
      CLCONV_POOL_TAP(((float16)(o.odd, o2.odd)), kw + 3, all)                                                        \
    }                                                                                                                 \
  }
  if (((SW_ <= 4) & (SW_ != 3)) && rowoff + sw >= 0 && rowoff + sw + KW_ - 1 + 16 * SW_ <= plane) {
    if (inside)
      CLCONV_POOL_TAPS(true)
    else
      CLCONV_POOL_TAPS(false)
  } else {
    for (int kw = 0; kw < KW_; kw++) {
      const int16 in = clconv_lanes16(sw + kw, SW_, n);
      const float16 v = clconv_edge16(row, rowoff, plane, sw + kw, SW_, n, in);
      CLCONV_POOL_ADD(acc, v, in);
    }
  }
  *acc_io = acc;
  *nan_io = nan;
}
#undef CLCONV_POOL_TAP

__kernel void clconv_pool(__global const XT *restrict src, __global YT *restrict dst, const int4 isz,
                          const int4 osz, const int4 win, const int4 str, const int4 pad, const int4 pad_after,
                          const int count_include_pad) {
  const int2 tr = clconv_tile_row((int)get_global_id(0), (osz.z + PW - 1) / PW);
  const int ow0 = tr.x * PW, odg = tr.y, nc = (int)get_global_id(2);
#if NDIM == 3 /* dimension 1 counts output depths times row groups (a division: 3-D only) */
  const int groups_h = (osz.y + RT - 1) / RT, od = odg / groups_h, oh0 = (odg - od * groups_h) * RT;
#else
  const int od = 0, oh0 = odg * RT;
#endif
  if (ow0 >= osz.z || od >= osz.x || oh0 >= osz.y) return; /* the range is rounded up to whole work-groups */
  /* Window [s, s + win) in input coordinates; the part inside the input is [lo, hi), the part inside the padded
   * input (what count_include_pad divides by) ends at min(s + win, in + pad_after). */
#if NDIM < 3
  const int d_lo = 0, d_hi = 1, d_cnt = 1;
#else
  const int sd = od * str.x - pad.x, d_lo = max(sd, 0), d_hi = min(sd + win.x, isz.x);
  const int d_cnt = count_include_pad ? min(sd + win.x, isz.x + pad_after.x) - sd : d_hi - d_lo;
#endif
  const int plane = isz.x * isz.y * isz.z;
  __global const XT *x = src + nc * plane;
  const int sw = ow0 * SW_ - pad.z, h0 = oh0 * SH_ - pad.y;
  const int16 pos0 = clconv_pos16(sw, SW_);
  const int nw = min(PW, osz.z - ow0);
  /* every stored lane's window columns inside the row: the rows need no lane masks (the lanes past nw are not
   * stored, whatever their loads read) */
  const bool inside = sw >= 0 && sw + (nw - 1) * SW_ + KW_ <= isz.z;
  float16 acc[RT];
  int16 nan[RT]; /* max: the lanes that met a NaN */
  _Pragma("unroll")
  for (int q = 0; q < RT; q++) {
    acc[q] = (float16)(POOL_AVG ? 0.0f : -INFINITY);
    nan[q] = (int16)(0);
  }
  for (int d = d_lo; d < d_hi; d++) {
    /* input row h0 + r, reduced along W once, serves output row q through window row r - q * SH_ */
    for (int r = 0; r < (RT - 1) * SH_ + KH_; r++) {
      const int ih = h0 + r;
      if (ih < 0 || ih >= isz.y)
        continue;
#ifndef POOL_K /* (the constant windows overlap or touch) */
      if (SH_ > KH_ && r % SH_ >= KH_)
        continue; /* between windows */
#endif
      const int rowoff = (d * isz.y + ih) * isz.z;
      float16 hr = (float16)(POOL_AVG ? 0.0f : -INFINITY);
      int16 hn = (int16)(0);
      clconv_pool_row(&hr, &hn, x + rowoff, rowoff, plane, sw, pos0, win, str, isz.z, inside);
      _Pragma("unroll")
      for (int q = 0; q < RT; q++) {
        const int t = r - q * SH_;
        if (t >= 0 && t < KH_) {
#if POOL_AVG
          acc[q] += hr;
#else
          acc[q] = select(acc[q], hr, hr > acc[q]);
          nan[q] |= hn;
#endif
        }
      }
    }
  }
#if POOL_AVG
  /* each lane's window along W: inside the input [lo, hi), inside the padded input up to the right pad */
  const float16 w_cnt = convert_float16(count_include_pad
                                            ? min(pos0 + (int16)(KW_), (int16)(isz.z + pad_after.z)) - pos0
                                            : min(pos0 + (int16)(KW_), (int16)(isz.z)) - max(pos0, (int16)(0)));
#endif
  _Pragma("unroll")
  for (int q = 0; q < RT; q++) {
    const int oh = oh0 + q;
    if (oh >= osz.y)
      continue; /* not break: the loop must unroll for acc to stay in registers */
#if POOL_AVG
    const int sh = oh * SH_ - pad.y, h_lo = max(sh, 0), h_hi = min(sh + KH_, isz.y);
    const int h_cnt = count_include_pad ? min(sh + KH_, isz.y + pad_after.y) - sh : h_hi - h_lo;
    const float16 v = acc[q] / (w_cnt * (float16)((float)(h_cnt * d_cnt)));
#else
    const float16 v = select(acc[q], (float16)(NAN), nan[q]);
#endif
    clconv_store16(dst + ((nc * osz.x + od) * osz.y + oh) * osz.z + ow0, v, nw);
  }
}
#else
/* Whole-plane pooling (global pooling, or one window covering the unpadded input): one output per (n, c) plane, a
 * reduction of its plane contiguous floats, 16 at a time, then across the lanes and the tail. A row kernel's
 * work-item would compute 16 outputs to store one, each lane reading the whole window. Range: N*C rounded up. */
__kernel void clconv_pool_plane(__global const XT *restrict src, __global YT *restrict dst, const int plane,
                                const int total) {
  const int nc = clconv_flat_id();
  if (nc >= total) return;
  __global const XT *x = src + nc * plane;
  float16 acc = (float16)(POOL_AVG ? 0.0f : -INFINITY);
  int16 nan = (int16)(0);
  int i = 0;
  for (; i + 16 <= plane; i += 16) {
    const float16 v = LDXV(16, x + i);
    CLCONV_POOL_ADD(acc, v, (int16)(-1));
  }
  /* the two-way step (NaN kept apart in nan and any_nan, as fmax drops it): across the lanes as a tree, four
   * dependent steps where a chain through the 16 lanes was the work-item's longest wait, then the tail */
#define CLCONV_PLANE2(a, b) (POOL_AVG ? (a) + (b) : fmax(a, b))
  const float8 a8 = CLCONV_PLANE2(acc.lo, acc.hi);
  const float4 a4 = CLCONV_PLANE2(a8.lo, a8.hi);
  const float2 a2 = CLCONV_PLANE2(a4.lo, a4.hi);
  float r = CLCONV_PLANE2(a2.x, a2.y);
  bool any_nan = any(nan != (int16)(0));
  for (; i < plane; i++) {
    const float v = LDX(x + i);
    r = CLCONV_PLANE2(r, v);
    any_nan = any_nan || isnan(v);
  }
#undef CLCONV_PLANE2
  STY(dst + nc, POOL_AVG ? r / (float)plane : (any_nan ? NAN : r));
}
#endif
