/* kernels/conv.cl: direct convolution and cross-correlation, 1-D to 3-D, in the storage types of common.cl (DT,
 * DT_DST), accumulating in float. Layouts as in clconv.h: src
 * N C D H W, weights K C/G KD KH KW, dst N K OD OH OW. Shapes are kernel arguments as int4 (D, H, W, unused) with
 * unused leading axes of extent 1, so that a program serves every shape its macros allow. The host (conv.c and its
 * catalogue, catalogue.c) guarantees every tensor has at most 2^31 - 1 - 2^20 elements, so int offsets cannot
 * overflow.
 *
 * Compile-time contract (-D options):
 *   KERNEL_DIRECT | KERNEL_GEMM | KERNEL_TILED | KERNEL_LOCAL | KERNEL_WIDE | KERNEL_DW   exactly one: the kernel(s)
 *           the program holds (GEMM: im2col and the epilogue); every program compiles only what it launches
 *   NDIM    1..3, required: the compiler drops the loops of absent axes
 *   FLIP    0 cross-correlation (default), 1 convolution: kernels reading unpacked weights mirror them
 *   ACT     the activation (clconv_act_kind; its code is prepended to the program, activation.c)
 *   KT, WT  packed kinds: output channels and positions along W per work-item
 *   RT      wide and dw: output rows per work-item (default 1)
 *   VW      tiled: vector lanes (default KT, at most 16)
 *   KW      tiled and wide, optional: the kernel's width (3 or 5) as a constant
 *   TILED_SW  tiled, optional (with KW): the stride along W (1 or 2) as a constant
 *   CIN_G   tiled, optional: 1 to 3 input channels per group as a constant
 *   DW_KH, DW_KW, DW_SH, DW_SW   dw, optional (all four): the usual shapes along H and W as constants
 *   FUSE_PH, FUSE_PW, FUSE_AVG   wide, optional: a layer's pooling window and kind, pooled in registers */
#ifndef NDIM
#error "NDIM must be defined (1..3)"
#endif
#if NDIM < 1 || NDIM > 3
#error "NDIM must be 1..3"
#endif
#ifndef FLIP
#define FLIP 0
#endif
#if defined(KERNEL_DIRECT) + defined(KERNEL_GEMM) + defined(KERNEL_TILED) + defined(KERNEL_LOCAL) +                   \
        defined(KERNEL_WIDE) + defined(KERNEL_DW) !=                                                                  \
    1
#error "define exactly one of KERNEL_DIRECT, KERNEL_GEMM, KERNEL_TILED, KERNEL_LOCAL, KERNEL_WIDE, KERNEL_DW"
#endif

#if FLIP
#define TAP(t, k) ((k) - 1 - (t))
#else
#define TAP(t, k) (t)
#endif

/* The epilogue of output i (an index into dst): f(v + rs * res[i]), v the sum with its bias, res the residual
 * (NULL without; it may be dst itself: each output reads its own residual before it is written). */
static inline float clconv_epilogue(const float v, __global const XT *res, const int i, const float rs,
                                    const float alpha, const float beta) {
  const float s = res ? v + rs * LDX(res + i) : v;
  return clconv_activate(s, alpha, beta);
}
/* The same for 16 outputs from i, the first nw of them stored, v in the register (a vector written to a private
 * array and read back lane by lane stalls store forwarding: 14% of LeNet C1's time once), for clconv_store16. */
__attribute__((always_inline)) static inline float16 clconv_epilogue16(const float16 r, const float b,
                                                                       __global const XT *res, const int i,
                                                                       const int nw, const float rs,
                                                                       const float alpha, const float beta) {
  float16 s = r + (float16)(b);
  if (res)
    s += (float16)(rs) * clconv_load16(res + i, nw);
  return clconv_activate16(s, alpha, beta);
}

/* Taps t in [lo, hi) read inside [0, n) for a window starting at s with dilation d: the padding test is done once
 * per axis here instead of once per tap. A window starting past the input gives hi <= lo, an empty loop. */
static inline int2 clconv_taps(int s, int d, int n, int k) {
  const int lo = s < 0 ? clconv_div(-s + d - 1, d) : 0;
  const int hi = min(k, clconv_div(n - s + d - 1, d));
  return (int2)(lo, hi);
}

/* The taps along D and H whose rows read inside the input for a window starting at (d0, h0): (lo, hi) along D,
 * then along H; an absent axis gives (0, 1). */
static inline int4 clconv_taps_dh(const int d0, const int h0, const int4 dil, const int4 isz, const int4 ksz) {
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
  return (int4)(td, th);
}

/* Where a row-tiled work-item (dims: row tiles, OD*OH rows, N*G*blocks of KT channels) sits, and which taps of
 * its window along D and H read inside the input; shared by the tiled and the wide kernels. */
typedef struct clconv_tile {
  int n, g, gb, k0, od, oh, d0, h0;
  int2 td, th;
} clconv_tile;

static inline clconv_tile clconv_tile_at(const int odh, const int nb, const int kt, const int cout_g, const int groups,
                                  const int4 isz, const int4 osz, const int4 ksz, const int4 str, const int4 dil,
                                  const int4 pad) {
  clconv_tile t;
  const int blocks = (cout_g + kt - 1) / kt, gbs = groups * blocks; /* kt: a compile-time constant */
  t.n = clconv_div(nb, gbs);
  t.gb = nb - t.n * gbs;
  t.g = clconv_div(t.gb, blocks);
  t.k0 = (t.gb - t.g * blocks) * kt;
#if NDIM == 3
  t.od = odh / osz.y;
  t.oh = odh - t.od * osz.y;
#else /* osz.x is 1 */
  t.od = 0;
  t.oh = odh;
#endif
  t.d0 = t.od * str.x - pad.x;
  t.h0 = t.oh * str.y - pad.y;
  const int4 tdh = clconv_taps_dh(t.d0, t.h0, dil, isz, ksz);
  t.td = tdh.xy;
  t.th = tdh.zw;
  return t;
}

/* The arguments every convolution kernel takes first, in this order (conv.c: launch); wei is the weights as the
 * kernel reads them (packed into floats by clconv_conv_pack for all but the direct kernel, which reads the user's),
 * bias NULL without bias, res the residual (NULL without; may be dst, so neither is restrict), rs its factor, total
 * the output's element count. */
#ifdef KERNEL_DIRECT
#define CLCONV_WEI XT
#else
#define CLCONV_WEI float
#endif
#define CLCONV_CONV_ARGS                                                                                              \
  __global const XS *restrict src, __global const CLCONV_WEI *restrict wei, __global const XT *restrict bias,         \
      __global YT *dst, __global const XT *res, const int cin_g, const int cout_g, const int groups,                  \
      const int4 isz, const int4 osz, const int4 ksz, const int4 str, const int4 dil, const int4 pad,                 \
      const float alpha, const float beta, const float rs, const int total

#ifdef KERNEL_DIRECT
__kernel void clconv_conv_direct(CLCONV_CONV_ARGS) {
  const int gid = clconv_flat_id();
  if (gid >= total) return;
  const int4 o = clconv_unflatten(gid, osz);
  const int od = o.x, oh = o.y, ow = o.z, t = o.w;
  const int cout = cout_g * groups, k = t % cout, n = t / cout, g = k / cout_g;

  const int d0 = od * str.x - pad.x, h0 = oh * str.y - pad.y, w0 = ow * str.z - pad.z;
  const int4 tdh = clconv_taps_dh(d0, h0, dil, isz, ksz);
  const int2 td = tdh.xy, th = tdh.zw;
  const int2 tw = clconv_taps(w0, dil.z, isz.z, ksz.z);

  const int plane = isz.x * isz.y * isz.z, kvol = ksz.x * ksz.y * ksz.z;
  __global const XS *x = src + (n * groups * cin_g + g * cin_g) * plane;
  __global const XT *w = wei + k * cin_g * kvol;
  float acc = 0.0f;
  for (int c = 0; c < cin_g; c++, x += plane, w += kvol) {
    for (int kd = td.x; kd < td.y; kd++) {
      __global const XS *xd = x + (d0 + kd * dil.x) * isz.y * isz.z;
      __global const XT *wd = w + TAP(kd, ksz.x) * ksz.y * ksz.z;
      for (int kh = th.x; kh < th.y; kh++) {
        __global const XS *xh = xd + (h0 + kh * dil.y) * isz.z + w0;
        __global const XT *wh = wd + TAP(kh, ksz.y) * ksz.z;
        for (int kw = tw.x; kw < tw.y; kw++) acc = fma(LDS(xh + kw * dil.z), LDX(wh + TAP(kw, ksz.z)), acc);
      }
    }
  }
  if (bias) acc += LDX(bias + k);
  STY(dst + gid, clconv_epilogue(acc, res, gid, rs, alpha, beta));
}

#endif

#ifdef KERNEL_GEMM
/* The gemm algorithm (conv_gemm.c). Its column matrix, for images n0.. of a chunk, at col + at: row r of block
 * (image b, group g) — channel c of the group and tap t, r < T = C/G * taps — holds the input values tap t of c
 * meets at each output position (0 in the padding), taps mirrored for convolution, at col[at + (b G + g) blk +
 * r row + position]; rows T..tp are 0, positions P..pp of a block are not written. Range: (OW, OH, OD * images *
 * G * tp), rounded up to work-groups of (.., .., 1) (conv_gemm.c): a work-group shares one output depth of one
 * (image, group, r), so every division is uniform and the work-items differ only in (oh, ow). No early return:
 * after a conditional return, PoCL's work-item loop keeps the integer divisions inside and runs them once per lane
 * (many times slower). */
__kernel void clconv_im2col(__global const XS *restrict src, __global float *restrict col, const int at,
                            const int row, const int blk, const int cin, const int groups, const int tp,
                            const int n0, const int4 isz, const int4 osz, const int4 ksz, const int4 str,
                            const int4 dil, const int4 pad) {
  const int ow = (int)get_global_id(0), oh = (int)get_global_id(1), z = (int)get_global_id(2);
  const int kvol = ksz.x * ksz.y * ksz.z, cin_g = cin / groups, zr = z / osz.x, od = z - zr * osz.x, bg = zr / tp,
            r = zr - bg * tp, b = bg / groups, g = bg - b * groups;
  const int4 t = clconv_unflatten(r, ksz); /* t.w: the channel in the group (cin_g and past for rows past T) */
  const int id = od * str.x - pad.x + TAP(t.x, ksz.x) * dil.x, ih = oh * str.y - pad.y + TAP(t.y, ksz.y) * dil.y,
            iw = ow * str.z - pad.z + TAP(t.z, ksz.z) * dil.z;
  const bool inside = r < cin_g * kvol && id >= 0 && id < isz.x && ih >= 0 && ih < isz.y && iw >= 0 && iw < isz.z;
  if (ow < osz.z && oh < osz.y)
    col[at + bg * blk + r * row + (od * osz.y + oh) * osz.z + ow] =
        inside ? LDS(src + ((((n0 + b) * cin + g * cin_g + t.w) * isz.x + id) * isz.y * isz.z + ih * isz.z + iw))
               : 0.0f;
}

/* The epilogue: dst[i] = f(out + bias[k] + rs res[i]), i = to + (b K + k) P + p, for the images b of a chunk, out
 * being the GEMM's output in ws at from + (b G + g) blk + j row + p for output channel k = g N + j; bias and res are
 * NULL without (res may be dst). Range: (P rounded up, K, images), work-groups of (64, 1, 1). */
__kernel void clconv_gemm_epilogue(__global const float *restrict ws, __global YT *dst,
                                   __global const XT *restrict bias, __global const XT *res, const int from,
                                   const int row, const int blk, const int to, const int cout, const int n,
                                   const int npos, const float alpha, const float beta, const float rs) {
  const int p = (int)get_global_id(0), k = (int)get_global_id(1), b = (int)get_global_id(2);
  const int g = k / n, at = from + (b * (cout / n) + g) * blk + (k - g * n) * row; /* uniform: see im2col */
  if (p < npos) {
    const float v = ws[at + p];
    const int i = to + (b * cout + k) * npos + p;
    STY(dst + i, clconv_epilogue(bias ? v + LDX(bias + k) : v, res, i, rs, alpha, beta));
  }
}

#endif

#ifdef KT
/* The kernel's width along W for the tiled and wide kernels' tap loops: KW where the host sets it (3 and 5), the
 * loops then unrolled; else the argument. */
#ifdef KW
#define CLCONV_KW KW
#define CLCONV_KW_UNROLL _Pragma("unroll")
#else
#define CLCONV_KW ksz.z
#define CLCONV_KW_UNROLL
#endif
/* The tiled kernel's channels per group: CIN_G where the host sets it (1 to 3 channels, kernels 2 or more wide
 * without KW: first layers), the channel loop then unrolled inside the tap loop; else the argument. */
#ifdef CIN_G
#define CLCONV_CIN_G CIN_G
#define CLCONV_CIN_UNROLL _Pragma("unroll")
#else
#define CLCONV_CIN_G cin_g
#define CLCONV_CIN_UNROLL
#endif

/* Register-tiled variant: each work-item computes KT output channels (KT = 4, 8, 16 or 32: KV = 1 to 4 vectors of
 * VW lanes, the device's preferred width) at WT consecutive output positions along W, in KV * WT vector
 * accumulators; each packed weight vector feeds WT FMAs and each input value KT. 32 channels give 14 or 16
 * accumulators at WT = 7 or 8 in 16 lanes (AVX-512's 32 registers), 12 at WT = 3 in 8 lanes (AVX2's 16): enough
 * independent FMA chains for CPUs with two FMA units (4-cycle latency). Explicit vectors map onto SIMD registers
 * on CPUs and onto VW registers per accumulator on GPUs. The weights come packed by clconv_conv_pack as
 * [G][K/G/KT blocks][taps][C/G][KT], taps already mirrored for convolution, zeros past K/G. KW (optional, the host
 * sets it for 3 and 5): the kernel's width, so that the taps along W of a row unroll inside the channel loop (wider
 * unrolled kernels ran slower). Range: (round_up(ceil(OW / WT) * OD*OH * fold), 1, N*G*blocks / fold): dimension 0
 * counts each row's tiles, the rows one after another, each tile for `fold` channel blocks. */
#ifndef WT
#error "WT (output positions per work-item) must be defined with KT"
#endif
#ifndef VW
#if KT > 16
#define VW 16
#else
#define VW KT
#endif
#endif
#define KV (KT / VW)
#define VT_(k) float##k
#define VT_X(k) VT_(k)
#define VT VT_X(VW)
#define VLOAD_(k) vload##k
#define VLOAD_X(k) VLOAD_(k)
#define VLOAD VLOAD_X(VW)
#define VSTORE_(k) vstore##k
#define VSTORE_X(k) VSTORE_(k)
#define VSTORE VSTORE_X(VW)

/* A layer's pooling fused into the kernel (FUSE_PH x FUSE_PW windows, FUSE_AVG): its two-way step, on floats or
 * vectors; max propagates NaN as the reference does, average sums. */
#ifdef FUSE_PW
#if FUSE_AVG
#define CLCONV_POOL2(a, b) ((a) + (b))
#else
#define CLCONV_POOL2(a, b) select(b, a, ((a) > (b)) | isnan(a))
#endif
#endif

#ifdef KERNEL_TILED
#define CLCONV__PREFETCH_AHEAD 6 /* channels ahead of the channel loop's loads (CLCONV_PREFETCH) */
#ifdef TILED_SW
#define TILED_SW_ TILED_SW
#else
#define TILED_SW_ str.z
#endif
#ifdef FUSE_PW
#if WT % FUSE_PW != 0
#error "the fused pooling (FUSE_PW) needs WT to be a multiple of its width"
#endif
/* The residual at VW channels from c0 (of the kn that exist) of conv output i, one channel per lane. */
static inline VT clconv_res_lanes(__global const XT *res, const int i, const int plane, const int c0, const int kn) {
  float r[VW];
#pragma unroll
  for (int l = 0; l < VW; l++) r[l] = c0 + l < kn ? LDX(res + i + (c0 + l) * plane) : 0.0f;
  return VLOAD(0, r);
}
#endif

#if DT_SRC != 0
/* The first r (a constant, 1 to 8) of 8 consecutive 16-bit src values from p as floats, zeros past them. */
__attribute__((always_inline)) static inline float8 clconv_part8(__global const XS *p, const int r) {
  switch (r) {
  case 1: return (float8)(LDS(p), 0.0f, (float2)(0.0f), (float4)(0.0f));
  case 2: return (float8)(LDSV(2, p), (float2)(0.0f), (float4)(0.0f));
  case 3: return (float8)(LDSV(2, p), LDS(p + 2), 0.0f, (float4)(0.0f));
  case 4: return (float8)(LDSV(4, p), (float4)(0.0f));
  case 5: return (float8)(LDSV(4, p), LDS(p + 4), 0.0f, (float2)(0.0f));
  case 6: return (float8)(LDSV(4, p), LDSV(2, p + 4), (float2)(0.0f));
  case 7: return (float8)(LDSV(4, p), LDSV(2, p + 4), LDS(p + 6), 0.0f);
  default: return LDSV(8, p);
  }
}
/* n (a constant) consecutive 16-bit src values from p as floats, in the float8 pieces xs[0 .. (n + 7) / 8). */
__attribute__((always_inline)) static inline void clconv_stage(float8 *xs, __global const XS *p, const int n) {
#pragma unroll
  for (int q = 0; q < (n + 7) / 8; q++) xs[q] = clconv_part8(p + 8 * q, min(8, n - 8 * q));
}
#endif

__kernel void clconv_conv_tiled(CLCONV_CONV_ARGS, const int fold) {
  /* dimension 0 counts every row's tiles, one row after another (with a fused pooling, the tiles of each row of
   * pooling windows), each tile `fold` times in a row: for `fold` consecutive channel blocks, whose work-items then
   * share the tile's input in one work-group (CPUs), one work-group shape for every layer; dimension 2 the rest of
   * the blocks, the groups and the images */
  const int2 u = clconv_unfold(fold);
  const int t = u.x, tiles = (osz.z + WT - 1) / WT, odh = t / tiles, ow0 = (t - odh * tiles) * WT, nb = u.y;
#ifdef FUSE_PW
  /* The layer's pooling (clconv_layer): windows of FUSE_PH rows x FUSE_PW columns, 1 deep, at stride = window
   * without padding, FUSE_PW dividing WT: each work-item computes the FUSE_PH conv rows of its windows one after the
   * other, each row's WT outputs (bias, residual, activation) pooled into pm, channels across the lanes as in acc. */
  const int4 gsz = (int4)(osz.x, osz.y / FUSE_PH, osz.z, 0);
  const int pwo = osz.z / FUSE_PW; /* pooled columns: the conv's columns past pwo * FUSE_PW are in no window */
  if (odh >= gsz.x * gsz.y || ow0 >= pwo * FUSE_PW) return;
  const clconv_tile tp = clconv_tile_at(odh, nb, KT, cout_g, groups, isz, gsz, ksz, str, dil, pad);
  const int kn = min(KT, cout_g - tp.k0), out_plane = osz.x * osz.y * osz.z;
  float bk[KT];
#pragma unroll
  for (int c = 0; c < KT; c++) bk[c] = bias && c < kn ? LDX(bias + tp.g * cout_g + tp.k0 + c) : 0.0f;
  VT pm[KV][WT / FUSE_PW];
#pragma unroll 1
  for (int q = 0; q < FUSE_PH; q++) {
    const clconv_tile ti =
        clconv_tile_at((tp.od * osz.y + tp.oh * FUSE_PH + q), nb, KT, cout_g, groups, isz, osz, ksz, str, dil, pad);
#else
  if (odh >= osz.x * osz.y) return; /* the range is rounded up to whole work-groups */
  const clconv_tile ti = clconv_tile_at(odh, nb, KT, cout_g, groups, isz, osz, ksz, str, dil, pad);
#endif
  const int n = ti.n, g = ti.g, gb = ti.gb, k0 = ti.k0, od = ti.od, oh = ti.oh, d0 = ti.d0, h0 = ti.h0;
  const int2 td = ti.td, th = ti.th;
  const int w0 = ow0 * str.z - pad.z;
  const int plane = isz.x * isz.y * isz.z, kvol = ksz.x * ksz.y * ksz.z, nw = min(WT, osz.z - ow0);
  __global const XS *x = src + (n * groups + g) * CLCONV_CIN_G * plane;
  __global const float *w = wei + gb * kvol * CLCONV_CIN_G * KT;
  VT acc[KV][WT];
#pragma unroll
  for (int v = 0; v < KV; v++)
#pragma unroll
    for (int j = 0; j < WT; j++) acc[v][j] = (VT)(0.0f);
  /* One tap column for one channel: the packed weights at wt, position j's input the expression xj (of j). The
   * fewer of the two kinds of operand are held in registers and the others streamed one at a time, so that KV * WT
   * accumulators + min(KV, WT) + 1 registers suffice: 4 x 3 on AVX2 is 16 of its 16 (holding the 4 weight vectors
   * instead would spill an accumulator every channel). */
#if KV <= WT
#define CLCONV_TILE_FMA(xj, wt)                                                                                       \
  {                                                                                                                   \
    VT wv[KV];                                                                                                        \
    _Pragma("unroll") for (int v = 0; v < KV; v++) wv[v] = VLOAD(v, wt);                                              \
    _Pragma("unroll") for (int j = 0; j < WT; j++) {                                                                  \
      const VT xv = (VT)(xj);                                                                                         \
      _Pragma("unroll") for (int v = 0; v < KV; v++) acc[v][j] = fma(xv, wv[v], acc[v][j]);                           \
    }                                                                                                                 \
  }
#else
#define CLCONV_TILE_FMA(xj, wt)                                                                                       \
  {                                                                                                                   \
    VT xv[WT];                                                                                                        \
    _Pragma("unroll") for (int j = 0; j < WT; j++) xv[j] = (VT)(xj);                                                  \
    _Pragma("unroll") for (int v = 0; v < KV; v++) {                                                                  \
      const VT wv = VLOAD(v, wt);                                                                                     \
      _Pragma("unroll") for (int j = 0; j < WT; j++) acc[v][j] = fma(xv[j], wv, acc[v][j]);                           \
    }                                                                                                                 \
  }
#endif
#if DT_SRC != 0
  /* a staged value: lane i of the span's float8 pieces xs, broadcast to a VT */
#define CLCONV_LANE(i) shuffle(xs[(i) / 8], (CLCONV_PASTE(uint, VW))((i) % 8))
#endif
#if DT_SRC != 0 && defined(KW) && defined(TILED_SW)
  /* A 16-bit src read as it is (where the host does not widen it first: clconv__tiled_reads_16bit): each channel's
   * span of a row, the SPAN values the tile's taps read, widened once into float8 registers (zeros in the padding
   * at the edge tiles), each tap's value broadcast from its lane by a shuffle, instead of one conversion per tap and
   * position. Kept as vectors: read back from a private array of floats, the compiler split the conversions lane by
   * lane. */
#define CLCONV_SPAN ((WT - 1) * TILED_SW + KW)
#define CLCONV_SPAN8 ((CLCONV_SPAN + 7) / 8)
  if (dil.z == 1) {
    const bool inside = w0 >= 0 && w0 + CLCONV_SPAN <= isz.z;
    for (int kd = td.x; kd < td.y; kd++) {
      for (int kh = th.x; kh < th.y; kh++) {
        __global const XS *row = x + ((d0 + kd * dil.x) * isz.y + h0 + kh * dil.y) * isz.z;
        __global const float *wr = w + (kd * ksz.y + kh) * KW * cin_g * KT;
        for (int c = 0; c < cin_g; c++, row += plane) {
          float8 xs[CLCONV_SPAN8];
          if (inside) {
            clconv_stage(xs, row + w0, CLCONV_SPAN);
          } else {
            float e[CLCONV_SPAN8 * 8];
#pragma unroll
            for (int i = 0; i < CLCONV_SPAN8 * 8; i++)
              e[i] = i < CLCONV_SPAN && w0 + i >= 0 && w0 + i < isz.z ? LDS(row + w0 + i) : 0.0f;
#pragma unroll
            for (int q = 0; q < CLCONV_SPAN8; q++) xs[q] = vload8(q, e);
          }
          __global const float *wt = wr + c * KT;
#pragma unroll
          for (int kw = 0; kw < KW; kw++, wt += cin_g * KT) CLCONV_TILE_FMA(CLCONV_LANE(j * TILED_SW + kw), wt)
        }
      }
    }
  } else
#undef CLCONV_SPAN8
#undef CLCONV_SPAN
#endif
  /* taps outside, channels inside: the bounds of a tap are settled once for the long channel loop */
  for (int kd = td.x; kd < td.y; kd++) {
    for (int kh = th.x; kh < th.y; kh++) {
      __global const XS *row = x + ((d0 + kd * dil.x) * isz.y + h0 + kh * dil.y) * isz.z;
      if (w0 >= 0 && w0 + (ksz.z - 1) * dil.z + (WT - 1) * str.z < isz.z) {
        /* every tap of the row inside: no tests, and (when the channels are fewer than the taps) the taps inside */
        __global const float *wr = w + (kd * ksz.y + kh) * ksz.z * CLCONV_CIN_G * KT;
#ifdef KW /* the taps along W known at build time: channels outside, the taps unrolled inside */
        const bool taps_inside = true;
#elif defined(CIN_G) /* the channels known: taps outside, the channels unrolled inside */
        const bool taps_inside = false;
#else
        const bool taps_inside = cin_g < ksz.z;
#endif
        if (!taps_inside) {
          for (int kw = 0; kw < ksz.z; kw++) {
            __global const XS *p = row + w0 + kw * dil.z;
            __global const float *wt = wr + kw * CLCONV_CIN_G * KT;
            CLCONV_CIN_UNROLL for (int c = 0; c < CLCONV_CIN_G; c++, p += plane, wt += KT) {
              /* each channel's positions lie in another row, far apart: fetch a few channels ahead in long
               * channel loops (1 x 1 layers 1.08-1.2x: the FMA after a row's first load waited on L2 or L3; the
               * stem's 3 channels ran 0.65x with it) */
              if (CLCONV_CIN_G > CLCONV__PREFETCH_AHEAD)
                CLCONV_PREFETCH(p + CLCONV__PREFETCH_AHEAD * plane);
#if DT_SRC != 0 && defined(TILED_SW)
              { /* 16-bit, a kernel 1 wide (the host sets TILED_SW): the tile's span widened at once, as above */
#define CLCONV_SPAN ((WT - 1) * TILED_SW + 1)
                float8 xs[(CLCONV_SPAN + 7) / 8];
                clconv_stage(xs, p, CLCONV_SPAN);
#undef CLCONV_SPAN
                CLCONV_TILE_FMA(CLCONV_LANE(j * TILED_SW), wt)
                continue;
              }
#endif
              CLCONV_TILE_FMA(LDS(p + j * TILED_SW_), wt)
            }
          }
        } else {
          for (int c = 0; c < CLCONV_CIN_G; c++) {
            __global const XS *p = row + c * plane + w0;
            __global const float *wt = wr + c * KT;
            CLCONV_KW_UNROLL for (int kw = 0; kw < CLCONV_KW; kw++, p += dil.z, wt += CLCONV_CIN_G * KT)
                CLCONV_TILE_FMA(LDS(p + j * TILED_SW_), wt)
          }
        }
        continue;
      }
      for (int kw = 0; kw < ksz.z; kw++) {
        const int iw = w0 + kw * dil.z;
        __global const float *wt = w + ((kd * ksz.y + kh) * ksz.z + kw) * CLCONV_CIN_G * KT;
        if (iw >= 0 && iw + (WT - 1) * str.z < isz.z) { /* the whole tile inside the row: no tests */
          __global const XS *p = row + iw;
          for (int c = 0; c < CLCONV_CIN_G; c++, p += plane, wt += KT) CLCONV_TILE_FMA(LDS(p + j * TILED_SW_), wt)
        } else { /* an edge tile: read a valid address, and select 0 (never multiply: inf * 0 is NaN) where the
                    tap falls in the padding */
          int off[WT];
          bool in[WT];
#pragma unroll
          for (int j = 0; j < WT; j++) {
            const int i = iw + j * str.z;
            in[j] = i >= 0 && i < isz.z;
            off[j] = in[j] ? i : 0;
          }
          __global const XS *p = row;
          for (int c = 0; c < CLCONV_CIN_G; c++, p += plane, wt += KT)
              CLCONV_TILE_FMA(in[j] ? LDS(p + off[j]) : 0.0f, wt)
        }
      }
    }
  }
#undef CLCONV_TILE_FMA
#undef CLCONV_LANE
#ifdef FUSE_PW
    const int at = ((n * groups + g) * cout_g + k0) * out_plane + (od * osz.y + oh) * osz.z + ow0;
#pragma unroll
    for (int v = 0; v < KV; v++)
#pragma unroll
      for (int j = 0; j < WT; j++) {
        VT s = acc[v][j] + VLOAD(v, bk);
        if (res && j < nw)
          s += (VT)(rs) * clconv_res_lanes(res, at + j, out_plane, v * VW, kn);
        const VT a = CLCONV_ACTIVATE(VT, s, alpha, beta);
        pm[v][j / FUSE_PW] = q == 0 && j % FUSE_PW == 0 ? a : CLCONV_POOL2(pm[v][j / FUSE_PW], a);
      }
  }
  /* each channel's pooled outputs contiguous through a private array, as below */
  float r[WT / FUSE_PW * KT];
#pragma unroll
  for (int i = 0; i < WT / FUSE_PW; i++)
#pragma unroll
    for (int v = 0; v < KV; v++)
      VSTORE(FUSE_AVG ? pm[v][i] / (VT)(FUSE_PH * FUSE_PW) : pm[v][i], i * KV + v, r);
  const int np = min(WT / FUSE_PW, pwo - ow0 / FUSE_PW), pool_plane = gsz.x * gsz.y * pwo;
  __global YT *y =
      dst + ((tp.n * groups + tp.g) * cout_g + tp.k0) * pool_plane + (tp.od * gsz.y + tp.oh) * pwo + ow0 / FUSE_PW;
  for (int c = 0; c < kn; c++, y += pool_plane)
    for (int i = 0; i < np; i++) STY(y + i, r[i * KT + c]);
#else
  const int out_plane = osz.x * osz.y * osz.z, kn = min(KT, cout_g - k0);
  __global YT *y = dst + ((n * groups + g) * cout_g + k0) * out_plane + (od * osz.y + oh) * osz.z + ow0;
#if VW == 8 && WT == 3
  /* A whole tile of 8-lane vectors at 3 positions (AVX2's 32 x 3): each channel's 3 outputs straight from the
   * registers — positions 0 and 1 interleaved (two shuffles per 8 channels) and stored as a pair, position 2 as a
   * scalar — instead of through the private array below, whose round trip through memory is half of the stores'
   * cost on the stem. */
  if (kn == KT && nw == WT && !res) {
#pragma unroll
    for (int v = 0; v < KV; v++) {
      const float8 b = bias ? LDXV(8, bias + g * cout_g + k0 + v * 8) : (float8)(0.0f);
      const float8 s0 = acc[v][0] + b, s1 = acc[v][1] + b, s2 = acc[v][2] + b; /* the macro takes names */
      const float8 a0 = CLCONV_ACTIVATE(float8, s0, alpha, beta), a1 = CLCONV_ACTIVATE(float8, s1, alpha, beta),
                   a2 = CLCONV_ACTIVATE(float8, s2, alpha, beta);
      const float8 lo = shuffle2(a0, a1, (uint8)(0, 8, 1, 9, 2, 10, 3, 11)),
                   hi = shuffle2(a0, a1, (uint8)(4, 12, 5, 13, 6, 14, 7, 15));
      __global YT *yv = y + v * 8 * out_plane;
#define CLCONV_STORE3(l, pair, last)                                                                                  \
  STYV(2, pair, yv + (l) * out_plane);                                                                                \
  STY(yv + (l) * out_plane + 2, last);
      CLCONV_STORE3(0, lo.s01, a2.s0) CLCONV_STORE3(1, lo.s23, a2.s1) CLCONV_STORE3(2, lo.s45, a2.s2)
      CLCONV_STORE3(3, lo.s67, a2.s3) CLCONV_STORE3(4, hi.s01, a2.s4) CLCONV_STORE3(5, hi.s23, a2.s5)
      CLCONV_STORE3(6, hi.s45, a2.s6) CLCONV_STORE3(7, hi.s67, a2.s7)
#undef CLCONV_STORE3
    }
    return;
  }
#endif
#if DT_DST != 0
  /* 16-bit outputs without a residual: bias, activation and rounding on the accumulators (channels across the
   * lanes: one conversion per VW outputs, where one output at a time took the 1x1 rows to 0.7x their float32 form),
   * then each output's two bytes copied as below */
  if (!res) {
    float bk[KT];
#pragma unroll
    for (int t = 0; t < KT; t++) bk[t] = bias && t < kn ? LDX(bias + g * cout_g + k0 + t) : 0.0f;
    ushort rb[WT * KT];
#pragma unroll
    for (int v = 0; v < KV; v++) {
      const VT b = VLOAD(v, bk);
#pragma unroll
      for (int j = 0; j < WT; j++) {
        const VT s = acc[v][j] + b; /* the macro takes names */
        const VT a = CLCONV_ACTIVATE(VT, s, alpha, beta);
        STBITS(VW, a, rb + (j * KV + v) * VW);
      }
    }
    __global ushort *yb = (__global ushort *)y;
    for (int t = 0; t < kn; t++, yb += out_plane) {
      if (nw == WT) {
#pragma unroll
        for (int j = 0; j < WT; j++) yb[j] = rb[j * KT + t];
      } else {
        for (int j = 0; j < nw; j++) yb[j] = rb[j * KT + t];
      }
    }
    return;
  }
#endif
#if VW == 16 && (WT == 7 || WT == 8) && DT_DST == 0
  /* A whole tile of 16-lane vectors at 7 or 8 positions (AVX-512's 32 x 7 and 32 x 8): transposed in registers, 24
   * two-vector shuffles per 16 channels, into each channel's 8 positions, which go out in 1 (8 positions) or 3
   * stores (4 + 2 + 1) instead of one per output through the private array below (with 16 times fewer stores that
   * way, the 1 x 1 at 64 channels ran in 0.55-0.7x the time). */
  if (kn == KT && nw == WT) {
#pragma unroll
    for (int v = 0; v < KV; v++) {
      const float16 b = bias ? LDXV(16, bias + g * cout_g + k0 + v * 16) : (float16)(0.0f);
      float16 a[8], h[8], q[8];
#pragma unroll
      for (int j = 0; j < 8; j++) a[j] = j < WT ? acc[v][j] + b : (float16)(0.0f);
      /* h[2p + s]: channels 8s..8s+7, each at positions 2p, 2p + 1 */
#pragma unroll
      for (int p = 0; p < 4; p++) {
        h[2 * p] = shuffle2(a[2 * p], a[2 * p + 1], (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
        h[2 * p + 1] =
            shuffle2(a[2 * p], a[2 * p + 1], (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
      }
      /* q[4u + m]: channels 4m..4m+3, each at positions 4u..4u+3 */
#pragma unroll
      for (int u = 0; u < 2; u++)
#pragma unroll
        for (int s = 0; s < 2; s++) {
          const float16 x = h[4 * u + s], z = h[4 * u + 2 + s];
          q[4 * u + 2 * s] = shuffle2(x, z, (uint16)(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
          q[4 * u + 2 * s + 1] =
              shuffle2(x, z, (uint16)(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
        }
      /* channels 4m and 4m + 1 (then 4m + 2 and 4m + 3) at positions 0..7, one per half */
#pragma unroll
      for (int m = 0; m < 4; m++) {
        const float16 lo = shuffle2(q[m], q[4 + m], (uint16)(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23)),
                      hi = shuffle2(q[m], q[4 + m], (uint16)(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31));
        const float8 o[4] = {lo.lo, lo.hi, hi.lo, hi.hi};
#pragma unroll
        for (int i = 0; i < 4; i++) {
          __global float *yt = y + (v * 16 + 4 * m + i) * out_plane;
          const int at = (int)(yt - dst);
          float8 sum = o[i];
          if (res) {
#if WT == 8
            sum += (float8)(rs) * LDXV(8, res + at);
#else
            sum += (float8)(rs) * (float8)(LDXV(4, res + at), LDXV(2, res + at + 4), LDX(res + at + 6), 0.0f);
#endif
          }
          const float8 f = CLCONV_ACTIVATE(float8, sum, alpha, beta);
#if WT == 8
          vstore8(f, 0, yt);
#else
          vstore4(f.lo, 0, yt);
          vstore2(f.s45, 0, yt + 4);
          yt[6] = f.s6;
#endif
        }
      }
    }
    return;
  }
#endif
  /* the other tiles through a private array, so that each channel's WT outputs are stored contiguously (storing the
   * vectors as they are, channels across the lanes, scatters: measured 20% of the kernel's time on the vgg shape) */
  float r[WT * KT];
#pragma unroll
  for (int j = 0; j < WT; j++)
#pragma unroll
    for (int v = 0; v < KV; v++) VSTORE(acc[v][j], j * KV + v, r);
  for (int t = 0; t < kn; t++, y += out_plane) {
    const float b = bias ? LDX(bias + g * cout_g + k0 + t) : 0.0f;
    const int at = (int)(y - dst);
    if (nw == WT) {
#pragma unroll
      for (int j = 0; j < WT; j++) STY(y + j, clconv_epilogue(r[j * KT + t] + b, res, at + j, rs, alpha, beta));
    } else {
      for (int j = 0; j < nw; j++) STY(y + j, clconv_epilogue(r[j * KT + t] + b, res, at + j, rs, alpha, beta));
    }
  }
#endif
}

#endif

#ifdef KERNEL_LOCAL
/* Local-memory variant for GPUs: a work-group of LX x LY work-items computes LX * WT outputs of one output row for
 * LY blocks of KT channels. For each tap row (kd, kh) and each chunk of CC input channels, the work-group first
 * copies the input columns its outputs read into local memory (tile: CC x cols floats, cols from the host, zeros in
 * the padding), then each work-item reads them from there: work-item lx computes positions ow0 + j * LX + lx
 * (j < WT), so neighbouring work-items read neighbouring words. Accumulators: WT vectors of KT lanes (32 floats at
 * 8 x 4), registers on a GPU. No early return: every work-item takes part in the barriers. Weights packed as for
 * clconv_conv_tiled. Range: (ceil(OW / (LX * WT)) * LX, blocks rounded up to LY, N*G*OD*OH), local (LX, LY, 1). */
#define LX 16
#define LY 4
#define CC 8
__kernel __attribute__((reqd_work_group_size(LX, LY, 1))) void
clconv_conv_local(CLCONV_CONV_ARGS, __local float *tile, const int cols) {
  const int lx = (int)get_local_id(0), lid = (int)(get_local_id(1) * LX) + lx;
  /* the group's first column, from the global id: a launch split into pieces (conv.c) offsets it, not the group id */
  const int ow0 = ((int)get_global_id(0) - lx) / LX * (LX * WT), kb = (int)get_global_id(1),
            row = (int)get_global_id(2);
  const int blocks = (cout_g + KT - 1) / KT, oh = row % osz.y, odg = row / osz.y, od = odg % osz.x,
            ng = odg / osz.x, g = ng % groups, n = ng / groups;
  const bool active = kb < blocks; /* the rounded-up blocks only help with the copies */
  const int d0 = od * str.x - pad.x, h0 = oh * str.y - pad.y, w0 = ow0 * str.z - pad.z;
  const int4 tdh = clconv_taps_dh(d0, h0, dil, isz, ksz);
  const int2 td = tdh.xy, th = tdh.zw;
  const int plane = isz.x * isz.y * isz.z, kvol = ksz.x * ksz.y * ksz.z;
  __global const XS *x = src + (n * groups + g) * cin_g * plane;
  __global const float *w = wei + (g * blocks + (active ? kb : 0)) * kvol * cin_g * KT;
  VT acc[WT];
#pragma unroll
  for (int j = 0; j < WT; j++) acc[j] = (VT)(0.0f);
  for (int kd = td.x; kd < td.y; kd++) {
    for (int kh = th.x; kh < th.y; kh++) {
      __global const XS *xr = x + ((d0 + kd * dil.x) * isz.y + h0 + kh * dil.y) * isz.z;
      for (int c0 = 0; c0 < cin_g; c0 += CC) {
        barrier(CLK_LOCAL_MEM_FENCE); /* the previous chunk is read by everyone */
        for (int i = lid; i < CC * cols; i += LX * LY) {
          const int cc = i / cols, iw = w0 + i - cc * cols;
          tile[i] = c0 + cc < cin_g && iw >= 0 && iw < isz.z ? LDS(xr + (c0 + cc) * plane + iw) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int cn = min(CC, cin_g - c0);
        for (int kw = 0; kw < ksz.z; kw++) {
          __global const float *wt = w + (((kd * ksz.y + kh) * ksz.z + kw) * cin_g + c0) * KT;
          for (int cc = 0; cc < cn; cc++) {
            const VT wv = VLOAD(cc, wt);
            __local const float *tr = tile + cc * cols + kw * dil.z + lx * str.z;
#pragma unroll
            for (int j = 0; j < WT; j++) acc[j] = fma((VT)(tr[j * LX * str.z]), wv, acc[j]);
          }
        }
      }
    }
  }
  if (!active)
    return;
  const int out_plane = osz.x * osz.y * osz.z, kn = min(KT, cout_g - kb * KT);
  __global YT *y = dst + ((n * groups + g) * cout_g + kb * KT) * out_plane + (od * osz.y + oh) * osz.z;
  const int at = (int)(y - dst);
  for (int j = 0; j < WT; j++) {
    const int ow = ow0 + j * LX + lx;
    float r[KT];
    VSTORE(acc[j], 0, r);
    for (int t = 0; ow < osz.z && t < kn; t++)
      STY(y + t * out_plane + ow, clconv_epilogue(r[t] + (bias ? LDX(bias + g * cout_g + kb * KT + t) : 0.0f), res,
                                                  at + t * out_plane + ow, rs, alpha, beta));
  }
}
#undef LX
#undef LY
#undef CC
#endif

/* Width-vectorised variant for few output or input channels per group (LeNet's 6 maps, first layers) at stride 1
 * along W:
 * each work-item computes WT = 16 or 32 consecutive outputs along W (WV = WT / 16 float16 vectors per channel,
 * stored whole) for KT = 1 to 8 channels (KT = the group's channel count, so no lane computes a channel that does
 * not exist; 1: depthwise), with the same packed weights as clconv_conv_tiled broadcast across the vectors; each
 * input vector feeds KT FMAs and each weight WV. KW: as for clconv_conv_tiled. FUSE_PH, FUSE_PW and FUSE_AVG
 * (clconv_layer, with RT = 1 and WT = 16): the layer's pooling, windows of FUSE_PH x FUSE_PW, computed in the
 * registers and stored pooled (see the end). Range: (rows x ceil(OW / WT) tiles (clconv_tile_row) x fold, 1,
 * N*G*blocks / fold), rows OD*OH (pooled: OD*(OH/FUSE_PH)); src_total: src's element count, the bound of its vector
 * loads. */
#ifdef KERNEL_WIDE
#define WV (WT / 16)
#if defined(FUSE_PW) && WT != 16
#error "the fused pooling (FUSE_PW) needs WT = 16"
#endif
#ifndef RT
#define RT 1 /* output rows per work-item */
#endif

/* Whether every vector u of a work-item, reading a row from w0 + 16 u (from offset off of its channel's plane) over
 * a window span wide, keeps its output lanes (nw[u]) inside the row of n columns and its whole-vector loads inside
 * src (below `above`): then it needs no tests. */
__attribute__((always_inline)) static inline bool clconv_wide_inside(const int *nw, const int w0, const int span,
                                                                     const int n, const int off, const int above) {
  bool in = true;
#pragma unroll
  for (int u = 0; u < WV; u++)
    in = in && (nw[u] == 0 || (w0 + 16 * u >= 0 && w0 + 16 * u + span + nw[u] <= n &&
                               off + w0 + 16 * u + span + 16 <= above));
  return in;
}

/* v: one tap column of an input row, fed to every output row q whose window holds that row (on[q]); row q's
 * weights are tap row kh - q, one tap row before row 0's per q. */
#define CLCONV_WIDE_FMA(v, wt)                                                                                        \
  _Pragma("unroll") for (int q = 0; q < RT; q++) if (on[q]) {                                                         \
    _Pragma("unroll") for (int t = 0; t < KT; t++) {                                                                  \
      const float16 wv = (float16)(((wt) - q * tap_row)[t]);                                                          \
      _Pragma("unroll") for (int u = 0; u < WV; u++) acc[q][t][u] = fma(v[u], wv, acc[q][t][u]);                      \
    }                                                                                                                 \
  }
/* one channel's taps along one input row, p and wt at its first tap (both advanced) */
#define CLCONV_WIDE_ROW(p, wt)                                                                                        \
  CLCONV_KW_UNROLL for (int kw = 0; kw < CLCONV_KW; kw++, wt += cin_g * KT, p += dil.z) {                             \
    float16 v[WV];                                                                                                    \
    _Pragma("unroll") for (int u = 0; u < WV; u++) v[u] = LDSV(16, p + 16 * u);                                       \
    CLCONV_WIDE_FMA(v, wt)                                                                                            \
  }

#ifdef FUSE_PW
/* 16 columns pooled FUSE_PW at a time: the 16 / FUSE_PW results in the first lanes (average: divided by the
 * window's size). */
__attribute__((always_inline)) static inline float16 clconv_pool_columns(float16 m) {
#if FUSE_PW >= 2
  const float8 m2 = CLCONV_POOL2(m.even, m.odd);
  m = (float16)(m2, m2);
#endif
#if FUSE_PW >= 4
  const float4 m4 = CLCONV_POOL2(m2.even, m2.odd);
  m = (float16)(m4, m4, m4, m4);
#endif
#if FUSE_PW >= 8
  const float2 m8 = CLCONV_POOL2(m4.even, m4.odd);
  m = (float16)(m8, m8, m8, m8, m8, m8, m8, m8);
#endif
#if FUSE_PW >= 16
  m = (float16)(CLCONV_POOL2(m8.even, m8.odd));
#endif
#if FUSE_AVG
  m /= (float16)(FUSE_PH * FUSE_PW);
#endif
  return m;
}
#endif

/* An input row whose taps are not all inside (the padding, the image's edges): tap by tap, each vector u read from
 * iw[u] whole where its output lanes lie inside the row and its loads inside src (below / above: src's bounds from
 * the channel's plane), else with the lanes outside the row selected away, element by element at src's ends. */
__attribute__((always_inline)) static inline void
clconv_wide_edge_row(float16 (*acc)[KT][WV], const bool *on, __global const XS *row, __global const float *wr,
                     const int rowoff, const int *nw, const int w0, const int4 isz, const int4 ksz, const int4 dil,
                     const int cin_g, const int plane, const int tap_row, const int below, const int above) {
  for (int kw = 0; kw < ksz.z; kw++) {
    __global const float *wt = wr + kw * cin_g * KT;
    __global const XS *p = row;
    int iw[WV];
    bool fast = true;
#pragma unroll
    for (int u = 0; u < WV; u++) {
      iw[u] = w0 + kw * dil.z + 16 * u;
      fast = fast && (nw[u] == 0 || (iw[u] >= 0 && iw[u] + nw[u] <= isz.z && rowoff + iw[u] + 16 <= above));
    }
    for (int c = 0; c < cin_g; c++, wt += KT, p += plane) {
      float16 v[WV];
#pragma unroll
      for (int u = 0; u < WV; u++) {
        if (fast) {
          v[u] = LDSV(16, p + iw[u]);
        } else if (rowoff + iw[u] >= -below && rowoff + iw[u] + 16 <= above) {
          v[u] = select((float16)(0.0f), LDSV(16, p + iw[u]), clconv_lanes16(iw[u], 1, isz.z));
        } else { /* at src's ends: only the lanes inside the row are read */
          float e[16];
          for (int j = 0; j < 16; j++) e[j] = iw[u] + j >= 0 && iw[u] + j < isz.z ? LDS(p + iw[u] + j) : 0.0f;
          v[u] = vload16(0, e);
        }
      }
      CLCONV_WIDE_FMA(v, wt)
    }
  }
}

__kernel void clconv_conv_wide(CLCONV_CONV_ARGS, const int src_total, const int fold) {
  /* RT output rows per work-item (RT > 1 needs stride and dilation 1 along H): dimension 1 counts row groups */
#ifdef FUSE_PW /* dimension 1 counts pooled rows */
  const int4 gsz = (int4)(osz.x, osz.y / FUSE_PH, osz.z, 0);
#else
  const int4 gsz = (int4)(osz.x, (osz.y + RT - 1) / RT, osz.z, 0);
#endif
  /* each tile `fold` times in a row along dimension 0, as in clconv_conv_tiled */
  const int2 u = clconv_unfold(fold), tr = clconv_tile_row(u.x, (osz.z + WT - 1) / WT);
  const int ow0 = tr.x * WT, odh = tr.y, nb = u.y;
  if (ow0 >= osz.z || odh >= gsz.x * gsz.y) return;
  const clconv_tile ti = clconv_tile_at(odh, nb, KT, cout_g, groups, isz, gsz, ksz, str, dil, pad);
  const int n = ti.n, g = ti.g, gb = ti.gb, k0 = ti.k0, od = ti.od, oh = ti.oh * RT, d0 = ti.d0;
#ifdef FUSE_PW
  if (ow0 / FUSE_PW >= osz.z / FUSE_PW)
    return; /* columns that no pooling window covers */
  /* the FUSE_PH rows of the work-item's pooling windows one after the other, each pooled into pm once computed:
   * the same registers as one row (sharing the input rows between them, as RT does, needs too many) */
  const int prow = ti.oh * FUSE_PH;
  float16 pm[KT];
  for (int q = 0; q < FUSE_PH; q++) {
    const clconv_tile ti = clconv_tile_at(od * osz.y + prow + q, nb, KT, cout_g, groups, isz, osz, ksz, str, dil,
                                          pad);
#endif
  const int w0 = ow0 - pad.z; /* stride 1 along W */
  const int plane = isz.x * isz.y * isz.z, kvol = ksz.x * ksz.y * ksz.z, tap_row = ksz.z * cin_g * KT;
  __global const XS *x = src + (n * groups + g) * cin_g * plane;
  /* A whole-vector load at offset o (from a channel's plane, as rowoff) lies inside src for every channel when o >=
   * -below and o + 16 <= above: the lanes past a row's outputs may read the next row, channel or image. */
  const int below = (n * groups + g) * cin_g * plane, above = src_total - below - (cin_g - 1) * plane;
  __global const float *w = wei + gb * kvol * cin_g * KT;
  float16 acc[RT][KT][WV];
#pragma unroll
  for (int q = 0; q < RT; q++)
#pragma unroll
    for (int t = 0; t < KT; t++)
#pragma unroll
      for (int u = 0; u < WV; u++) acc[q][t][u] = (float16)(0.0f);
  /* the lanes of vector u that hold outputs (the others are computed from whatever they read and not stored) */
  int nw[WV];
#pragma unroll
  for (int u = 0; u < WV; u++) nw[u] = clamp(osz.z - ow0 - 16 * u, 0, 16);
  bool all_fast = false;
#if RT == 1
  /* Every row of the window fast (as row_fast below: its columns inside the row, its vector loads inside the
   * image), as for most work-items? Then one loop nest without tests, the channels outside and each channel's
   * window inside (short reductions spend as long on per-row tests as on their FMAs). */
  {
    const int span = (ksz.z - 1) * dil.z,
              last = ((d0 + (ti.td.y - 1) * dil.x) * isz.y + ti.h0 + (ti.th.y - 1) * dil.y) * isz.z;
    all_fast = ti.td.x < ti.td.y && ti.th.x < ti.th.y && clconv_wide_inside(nw, w0, span, isz.z, last, above);
    if (all_fast) {
      const bool on[1] = {true};
      for (int c = 0; c < cin_g; c++)
        for (int kd = ti.td.x; kd < ti.td.y; kd++)
          for (int kh = ti.th.x; kh < ti.th.y; kh++) {
            __global const XS *p = x + c * plane + ((d0 + kd * dil.x) * isz.y + ti.h0 + kh * dil.y) * isz.z + w0;
            __global const float *wt = w + (kd * ksz.y + kh) * tap_row + c * KT;
            CLCONV_WIDE_ROW(p, wt)
          }
    }
  }
#endif
  for (int kd = ti.td.x; !all_fast && kd < ti.td.y; kd++) {
#if RT == 1
    for (int kh = ti.th.x; kh < ti.th.y; kh++) {
      const int ih = ti.h0 + kh * dil.y;
      const bool on[1] = {true};
#else
    const int h0 = oh - pad.y; /* stride and dilation 1 along H */
    for (int kh = max(0, -h0); kh < min(ksz.y + RT - 1, isz.y - h0); kh++) {
      const int ih = h0 + kh;
      bool on[RT];
#pragma unroll
      for (int q = 0; q < RT; q++) on[q] = kh - q >= 0 && kh - q < ksz.y && oh + q < osz.y;
#endif
      __global const XS *row = x + ((d0 + kd * dil.x) * isz.y + ih) * isz.z;
      __global const float *wr = w + (kd * ksz.y + kh) * tap_row; /* row 0's; may point past it when !on[0] */
      const int rowoff = (int)(row - x);
      /* The whole row's taps fast (see below)? Then no per-tap tests: short reductions (LeNet C1's 3 channels)
       * spent as long on them as on the FMAs. */
      if (clconv_wide_inside(nw, w0, (ksz.z - 1) * dil.z, isz.z, rowoff, above)) {
        __global const float *wc = wr;
        __global const XS *pc = row + w0;
        for (int c = 0; c < cin_g; c++, wc += KT, pc += plane) { /* the taps inside: the longer loop */
          __global const float *wt = wc;
          __global const XS *p = pc;
          CLCONV_WIDE_ROW(p, wt)
        }
        continue;
      }
      clconv_wide_edge_row(acc, on, row, wr, rowoff, nw, w0, isz, ksz, dil, cin_g, plane, tap_row, below, above);
    }
  }
#undef CLCONV_WIDE_ROW
#undef CLCONV_WIDE_FMA
#ifdef FUSE_PW
  /* The layer's pooling (clconv_layer), in the registers: windows of FUSE_PH rows x FUSE_PW columns at stride =
   * window without padding, aligned with the work-item's rows and 16 columns (16 % FUSE_PW == 0), so each window's
   * outputs are all here; each channel stores 16 / FUSE_PW pooled outputs of one row. */
    /* the residual has the conv's output shape: this row's 16 columns */
    const int at = ((n * groups + g) * cout_g + k0) * osz.x * osz.y * osz.z + (od * osz.y + prow + q) * osz.z + ow0;
#pragma unroll
    for (int t = 0; t < KT; t++) {
      const bool real = k0 + t < cout_g;
      const float16 v = clconv_epilogue16(acc[0][t][0], bias && real ? LDX(bias + g * cout_g + k0 + t) : 0.0f,
                                          real ? res : 0, at + t * osz.x * osz.y * osz.z, nw[0], rs, alpha, beta);
      pm[t] = q ? CLCONV_POOL2(pm[t], v) : v;
    }
  }
  const int kn = min(KT, cout_g - k0), pw = osz.z / FUSE_PW, pool_plane = osz.x * gsz.y * pw;
  __global YT *y = dst + ((n * groups + g) * cout_g + k0) * pool_plane + (od * gsz.y + prow / FUSE_PH) * pw +
                      ow0 / FUSE_PW;
  for (int t = 0; t < kn; t++, y += pool_plane)
    clconv_store16(y, clconv_pool_columns(pm[t]), min(16 / FUSE_PW, pw - ow0 / FUSE_PW));
#else
  const int out_plane = osz.x * osz.y * osz.z, kn = min(KT, cout_g - k0);
#pragma unroll
  for (int q = 0; q < RT; q++) {
    if (oh + q >= osz.y)
      continue; /* not break: the loop must unroll for acc to stay in registers */
    __global YT *y = dst + ((n * groups + g) * cout_g + k0) * out_plane + (od * osz.y + oh + q) * osz.z + ow0;
    for (int t = 0; t < kn; t++, y += out_plane) {
      const float b = bias ? LDX(bias + g * cout_g + k0 + t) : 0.0f;
#pragma unroll
      for (int u = 0; u < WV; u++)
        clconv_store16(y + 16 * u, clconv_epilogue16(acc[q][t][u], b, res, (int)(y - dst) + 16 * u, nw[u], rs, alpha, beta),
                       nw[u]);
    }
  }
#endif
}

#endif

#ifdef KERNEL_DW
/* Depthwise: one input and one output channel per group (KT = 1), any stride and dilation. A work-item computes 16
 * consecutive outputs along W (one float16, lane j: output ow0 + j) of RT consecutive output rows of one channel at
 * one output depth, reading global memory directly: it walks the input rows its RT rows read, top to bottom, loads
 * each row (once, or for a shape read from the arguments once per tap along W) and adds each tap's lanes of it to
 * every accumulator whose window holds that row (input row r of the
 * work-item's window serves output row q through tap kh where q * SH + kh * DH == r): with RT = 4 rows and 3 taps
 * it loads 6 rows where one row at a time would load 12. The loads are whole vectors with the lanes outside the row
 * zeroed (clconv_edge16, bounded by the whole src buffer: only its first and last rows go lane by lane). The host
 * may specialise the usual shapes along H and W with DW_KH, DW_KW, DW_SH, DW_SW (all four; dilation 1 along H and
 * W): the row walk then unrolls and its tap matching resolves at compile time, much faster than the same code
 * reading the shape from the arguments, which serves every other shape. Weights packed as for
 * the others (for KT = 1: each group's taps, mirrored for convolution). Range: (OD * ceil(OH / RT) rows x ceil(OW /
 * 16) tiles (clconv_tile_row), 1, N*G); src_total: src's element count. */
#ifdef DW_KH
#define DW_KH_ DW_KH
#define DW_KW_ DW_KW
#define DW_SH_ DW_SH
#define DW_SW_ DW_SW
#define DW_DH_ 1
#define DW_DW_ 1
#define CLCONV_DW_UNROLL _Pragma("unroll") /* the row walk's bounds are constants */
#else
#define DW_KH_ ksz.y
#define DW_KW_ ksz.z
#define DW_SH_ str.y
#define DW_SW_ str.z
#define DW_DH_ dil.y
#define DW_DW_ dil.z
#define CLCONV_DW_UNROLL /* bounds from the arguments: nothing to unroll */
#endif
__kernel void clconv_conv_dw(CLCONV_CONV_ARGS, const int src_total, const int fold) {
  /* fold: 1 (one channel block per group) */
  const int2 u = clconv_unfold(fold), tr = clconv_tile_row(u.x, (osz.z + 15) / 16);
  const int ow0 = tr.x * 16, odh = tr.y, nc = u.y;
#if NDIM == 3 /* dimension 1 counts output depths times row groups; a division per work-item costs 2-D 25% */
  const int row_groups = (osz.y + RT - 1) / RT, od = odh / row_groups, oh0 = (odh - od * row_groups) * RT;
#else
  const int od = 0, oh0 = odh * RT;
#endif
  if (ow0 >= osz.z || od >= osz.x || oh0 >= osz.y) return;
  const int g = nc % groups;
  const int w0 = ow0 * DW_SW_ - pad.z, h0 = oh0 * DW_SH_ - pad.y;
  const int rows = (RT - 1) * DW_SH_ + (DW_KH_ - 1) * DW_DH_ + 1;
  __global const float *w = wei + g * ksz.x * DW_KH_ * DW_KW_;
  float16 acc[RT];
#pragma unroll
  for (int q = 0; q < RT; q++) acc[q] = (float16)(0.0f);
#if NDIM == 3
  for (int kd = 0; kd < ksz.x; kd++) {
    const int id = od * str.x - pad.x + kd * dil.x;
    if (id < 0 || id >= isz.x) continue;
#else
  {
    const int kd = 0, id = 0;
#endif
    /* Input row r (tap column kw) in v: added to every output row q whose window holds it, through the tap kh
     * with q * SH + kh * DH == r. */
#define CLCONV_DW_ROW(v)                                                                                              \
  _Pragma("unroll") for (int q = 0; q < RT; q++) {                                                                    \
    const int t = r - q * DW_SH_;                                                                                     \
    if (t >= 0 && t % DW_DH_ == 0 && t / DW_DH_ < DW_KH_)                                                             \
      acc[q] = fma(v, (float16)(w[(kd * DW_KH_ + t / DW_DH_) * DW_KW_ + kw]), acc[q]);                                \
  }
    /* Taps along W outside the rows: each lane mask is worked out once. A work-item whose rows all lie inside the
     * input and whose whole-vector loads all lie inside src (all but the top and bottom row groups, and the
     * buffer's ends) reads without a test per row. */
    const int row0 = ((nc * isz.x + id) * isz.y + h0) * isz.z; /* from src, as clconv_edge16's bound */
    const bool rows_inside = h0 >= 0 && h0 + rows <= isz.y && row0 + w0 >= 0;
#if defined(DW_KH)
    /* At stride 1 and 2: each row's 16 * (SW + 1) values from w0 read (and a 16-bit src widened) once, each tap's
     * 16 lanes taken from them by shuffles, where the loop below reloads the row once per tap along W (and widens
     * it again: a bfloat16 row two integer operations a load). At stride 2, e and o hold the even and odd columns
     * of the first 32, c those of the next 16 (8 each): tap 2m + s is lanes m .. m + 15 of (e or o, then c's). */
    if (DW_SW_ <= 2 && rows_inside && row0 + (rows - 1) * isz.z + w0 + 16 * (DW_SW_ + 1) <= src_total) {
      int16 lane_in[DW_KW_];
#pragma unroll
      for (int kw = 0; kw < DW_KW_; kw++) lane_in[kw] = clconv_lanes16(w0 + kw, DW_SW_, isz.z);
#pragma unroll
      for (int r = 0; r < rows; r++) {
        __global const XS *p = src + row0 + r * isz.z + w0;
        const float16 a = LDSV(16, p), b = LDSV(16, p + 16);
        /* stride 2 (unused at stride 1, whose bound above does not cover the third vector) */
        const float16 e = (float16)(a.even, b.even), o = (float16)(a.odd, b.odd);
        float16 co = a;
        if (DW_SW_ == 2) {
          const float16 c = LDSV(16, p + 32);
          co = (float16)(c.even, c.odd);
        }
#pragma unroll
        for (int kw = 0; kw < DW_KW_; kw++) {
          const int16 at = clconv_pos16(kw / DW_SW_, 1); /* at stride 2, lanes of (e or o, co): c's odd from 24 */
          float16 v = DW_SW_ == 1 ? (kw ? shuffle2(a, b, as_uint16(at)) : a)
                      : kw < 2    ? (kw ? o : e)
                                  : shuffle2(kw % 2 ? o : e, co,
                                             as_uint16(kw % 2 ? select(at, at + 8, at >= (int16)(16)) : at));
          v = select((float16)(0.0f), v, lane_in[kw]);
          CLCONV_DW_ROW(v)
        }
      }
    } else
#endif
    if (DW_SW_ <= 2 && rows_inside &&
        row0 + (rows - 1) * isz.z + w0 + (DW_KW_ - 1) * DW_DW_ + 16 * DW_SW_ <= src_total) {
      CLCONV_DW_UNROLL
      for (int kw = 0; kw < DW_KW_; kw++) {
        const int iw = w0 + kw * DW_DW_;
        const int16 lane_in = clconv_lanes16(iw, DW_SW_, isz.z);
        CLCONV_DW_UNROLL
        for (int r = 0; r < rows; r++) {
          const float16 v = select((float16)(0.0f), clconv_row16(src + row0 + r * isz.z + iw, DW_SW_), lane_in);
          CLCONV_DW_ROW(v)
        }
      }
    } else {
      CLCONV_DW_UNROLL
      for (int kw = 0; kw < DW_KW_; kw++) {
        const int iw = w0 + kw * DW_DW_;
        const int16 lane_in = clconv_lanes16(iw, DW_SW_, isz.z);
        CLCONV_DW_UNROLL
        for (int r = 0; r < rows; r++) {
          if (h0 + r < 0 || h0 + r >= isz.y)
            continue;
          const int rowoff = row0 + r * isz.z;
          const float16 v = clconv_edge16(src + rowoff, rowoff, src_total, iw, DW_SW_, isz.z, lane_in);
          CLCONV_DW_ROW(v)
        }
      }
    }
#undef CLCONV_DW_ROW
  }
  const float b = bias ? LDX(bias + g) : 0.0f;
  const int nw = min(16, osz.z - ow0);
#pragma unroll
  for (int q = 0; q < RT; q++) {
    const int at = ((nc * osz.x + od) * osz.y + oh0 + q) * osz.z + ow0;
    if (oh0 + q < osz.y) clconv_store16(dst + at, clconv_epilogue16(acc[q], b, res, at, nw, rs, alpha, beta), nw);
  }
}

#endif
#endif
