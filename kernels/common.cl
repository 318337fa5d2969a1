/* kernels/common.cl: prepended to every family's source: the storage types, the output index, the detector stage and
 * the edge reads and stores of the 16-lane row kernels.
 *
 * ACT selects f (the clconv_act_kind values); alpha and beta are kernel arguments so that changing them builds
 * nothing. Strict IEEE math only (no native_ or half_ functions): results are checked against a double
 * reference. Comparisons are written so that NaN propagates, as the reference does. */

/* Storage types (clconv_dtype): DT is what a kernel reads (src, the residual, the bias and the user's weights),
 * DT_DST what it writes (default DT): 0 float32, 1 float16 (vload_half and vstore_half_rte: core OpenCL 1.2, no
 * cl_khr_fp16), 2 bfloat16 (a float's top 16 bits, as ushort). Values widen to float on load and round to nearest
 * even on store; all arithmetic is float. XT and YT are the element types; LDX(p) reads *p as a float, LDXV(n, p)
 * n elements from p as a float vector (n = 2, 4, 8, 16); STY(p, v) and STYV(n, v, p) store. XS, LDS and LDSV: the
 * same for a src of type DT_SRC (default DT), the row helpers below read src. Buffers the library
 * fills itself (packed weights, the gemm workspace) are float. */
#ifndef DT
#define DT 0
#endif
#ifndef DT_DST
#define DT_DST DT
#endif
#ifndef DT_SRC /* a convolution's src where it differs (its float32 copy, conv.c), else DT */
#define DT_SRC DT
#endif
/* bfloat16 rounding, to nearest even, NaN kept a (quiet) NaN, as the host's clconv_f32_to_bf16 */
static inline ushort clconv_bf16(const float v) {
  const uint u = as_uint(v);
  return isnan(v) ? (ushort)((u >> 16) | 0x40u) : (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
#define CLCONV_BF16V(n)                                                                                               \
  static inline ushort##n clconv_bf16_##n(const float##n v) {                                                         \
    const uint##n u = as_uint##n(v);                                                                                  \
    return convert_ushort##n(select((u + (uint##n)(0x7fffu) + ((u >> 16) & (uint##n)(1u))) >> 16,                     \
                                    (u >> 16) | (uint##n)(0x40u), as_uint##n(isnan(v))));                             \
  }
CLCONV_BF16V(2)
CLCONV_BF16V(4)
CLCONV_BF16V(8)
CLCONV_BF16V(16)
#undef CLCONV_BF16V
#define CLCONV_T0 float
#define CLCONV_T1 half
#define CLCONV_T2 ushort
#define CLCONV_LD0(p) (*(p))
#define CLCONV_LD1(p) vload_half(0, p)
#define CLCONV_LD2(p) as_float((uint)(*(p)) << 16)
/* float (and bfloat16 bit) vectors: vloadn / vstoren, except where the host knows the compiler is PoCL's clang for
 * a CPU (CLCONV_CLANG_CPU): its vload16 and vstore16 are three accesses each (4, 4 and 8 lanes), so there a vector
 * type aligned to its element (a clang extension) is read or written whole: one instruction. */
#ifdef CLCONV_CLANG_CPU
typedef float2 clconv_float2u __attribute__((aligned(4)));
typedef float4 clconv_float4u __attribute__((aligned(4)));
typedef float8 clconv_float8u __attribute__((aligned(4)));
typedef float16 clconv_float16u __attribute__((aligned(4)));
#define CLCONV_LDV0(n, p) (*(__global const clconv_float##n##u *)(p))
/* bfloat16 bits the same way (against vloadn: bfloat16 average pooling 0.93-0.97 -> 1.09-1.14x its float32 form,
 * max pooling and the 3x3 rows a few percent) */
typedef ushort2 clconv_ushort2u __attribute__((aligned(2)));
typedef ushort4 clconv_ushort4u __attribute__((aligned(2)));
typedef ushort8 clconv_ushort8u __attribute__((aligned(2)));
typedef ushort16 clconv_ushort16u __attribute__((aligned(2)));
#define CLCONV_BITSV(n, p) (*(__global const clconv_ushort##n##u *)(p))
/* float16 reads of a convolution's src (LDS, LDSV): clang's storage-only __fp16 vectors, converted whole (one
 * vcvtph2ps on x86). PoCL's vload_half converts lane by lane in software wherever a kernel then uses the lanes one
 * by one (the tiled kernel's staged rows ran 0.6-0.7x their float32 form that way, 0.95-1.0 this way; depthwise
 * at stride 2 0.85 -> 1.0). Not for the other reads (LDX): on ReLU's input the compiler narrowed the comparison
 * with 0 to float16 and did it value by value (0.13x its float32 form); on pooling's it gained nothing. */
typedef __fp16 clconv_half2u __attribute__((ext_vector_type(2), aligned(2)));
typedef __fp16 clconv_half4u __attribute__((ext_vector_type(4), aligned(2)));
typedef __fp16 clconv_half8u __attribute__((ext_vector_type(8), aligned(2)));
typedef __fp16 clconv_half16u __attribute__((ext_vector_type(16), aligned(2)));
#define CLCONV_SRC_LD1(p)                                                                                             \
  __builtin_convertvector(__builtin_bit_cast(clconv_half2u, (ushort2)(*(__global const ushort *)(p), 0)), float2).x
#define CLCONV_SRC_LDV1(n, p) __builtin_convertvector(*(__global const clconv_half##n##u *)(p), float##n)
#else
#define CLCONV_LDV0(n, p) vload##n(0, p)
#define CLCONV_BITSV(n, p) vload##n(0, p)
#endif
#define CLCONV_LDV1(n, p) vload_half##n(0, p)
#define CLCONV_LDV2(n, p) as_float##n(convert_uint##n(CLCONV_BITSV(n, p)) << 16)
#define CLCONV_ST0(p, v) (*(p) = (v))
#define CLCONV_ST1(p, v) clconv_half_store(v, p)
/* One float16 store: PoCL rounds a scalar (or a 2- or 4-wide) vstore_half_rte in software, some 20 integer
 * operations, but converts 8 lanes with one instruction (vcvtps2ph); so the value is rounded 8-wide into private
 * bytes and its two bytes copied (char accesses alias any type). The tiled kernel's single-value stores ran at
 * 0.7x the float32 form with the scalar call, 0.8-1.0x with this. On a GPU the 7 extra lanes cost a few
 * conversions per output, after the output's hundreds of FMAs. */
static inline void clconv_half_store(const float v, __global half *p) {
  uchar b[16];
  vstore_half8_rte((float8)(v), 0, (__private half *)b);
  __global uchar *q = (__global uchar *)p;
  q[0] = b[0];
  q[1] = b[1];
}
#define CLCONV_ST2(p, v) (*(p) = clconv_bf16(v))
#ifdef CLCONV_CLANG_CPU
#define CLCONV_STV0(n, v, p) (*(__global clconv_float##n##u *)(p) = (v))
#else
#define CLCONV_STV0(n, v, p) vstore##n(v, 0, p)
#endif
#define CLCONV_STV1(n, v, p) vstore_half##n##_rte(v, 0, p)
#define CLCONV_STV2(n, v, p) clconv_bf16_store##n(v, p)
/* bfloat16 vector stores as pairs in uints: PoCL stores a ushort vector lane by lane (16 scalar stores and
 * extracts, bfloat16 ReLU at 0.66x its float32 form), a uint vector whole. p is 2-byte aligned: at an odd
 * element, the first and last lanes go alone and the pairs between are aligned. */
static inline void clconv_bf16_store2(const float2 v, __global ushort *p) { vstore2(clconv_bf16_2(v), 0, p); }
#define CLCONV_BF16S(n, h)                                                                                            \
  static inline void clconv_bf16_store##n(const float##n v, __global ushort *p) {                                     \
    const ushort##n u = clconv_bf16_##n(v);                                                                           \
    if (((size_t)p & 3) == 0)                                                                                         \
      vstore##h(as_uint##h(u), 0, (__global uint *)p);                                                                \
    else                                                                                                              \
      vstore##n(u, 0, p);                                                                                             \
  }
CLCONV_BF16S(4, 2)
CLCONV_BF16S(8, 4)
#undef CLCONV_BF16S
static inline void clconv_bf16_store16(const float16 v, __global ushort *p) {
  const ushort16 u = clconv_bf16_16(v);
  if (((size_t)p & 3) == 0) {
    vstore8(as_uint8(u), 0, (__global uint *)p);
  } else {
    __global uint *q = (__global uint *)(p + 1);
    p[0] = u.s0;
    vstore4(as_uint4(u.s12345678), 0, q);
    vstore2(as_uint2(u.s9abc), 0, q + 4);
    q[6] = as_uint(u.sde);
    p[15] = u.sf;
  }
}
/* STBITS(n, v, p): n floats rounded to 16-bit storage (DT_DST 1 or 2) as their bits into the ushorts at p, private
 * memory: whole-vector conversions for a kernel that then copies outputs one at a time. */
#define CLCONV_BITS1(n, v, p) vstore_half##n##_rte(v, 0, (__private half *)(p))
#define CLCONV_BITS2(n, v, p) vstore##n(clconv_bf16_##n(v), 0, p)
#define STBITS(n, v, p) CLCONV_PASTE(CLCONV_BITS, DT_DST)(n, v, p)
#define CLCONV_PASTE_(a, b) a##b
#define CLCONV_PASTE(a, b) CLCONV_PASTE_(a, b)
#define XT CLCONV_PASTE(CLCONV_T, DT)
#define YT CLCONV_PASTE(CLCONV_T, DT_DST)
#define XS CLCONV_PASTE(CLCONV_T, DT_SRC)
#define LDX CLCONV_PASTE(CLCONV_LD, DT)
#if DT_SRC == 1 && defined(CLCONV_CLANG_CPU)
#define LDS CLCONV_SRC_LD1
#define LDSV CLCONV_SRC_LDV1
#else
#define LDS CLCONV_PASTE(CLCONV_LD, DT_SRC)
#define LDSV CLCONV_PASTE(CLCONV_LDV, DT_SRC)
#endif
#define LDXV CLCONV_PASTE(CLCONV_LDV, DT)
#define STY CLCONV_PASTE(CLCONV_ST, DT_DST)
#define STYV CLCONV_PASTE(CLCONV_STV, DT_DST)

/* CLCONV_PREFETCH(p): a hint to fetch the cache line at p where the host knows the compiler takes clang's builtin
 * (CLCONV_CLANG_CPU: PoCL on a CPU profile, whose OpenCL `prefetch` compiles to nothing); nothing elsewhere. It
 * never faults, so p may lie past the data. */
#ifdef CLCONV_CLANG_CPU
#define CLCONV_PREFETCH(p) __builtin_prefetch(p)
#else
#define CLCONV_PREFETCH(p) ((void)0)
#endif

/* a / b for b > 0, without the divide when b is 1 (one group, one channel block, no dilation: the common case): an
 * integer division costs tens of cycles, a row kernel's work-item a few hundred. */
static inline int clconv_div(const int a, const int b) { return b == 1 ? a : a / b; }
/* A work-item's index in a one-dimensional range, which the host folds into rows for long ones (src/internal.h:
 * CLCONV__FLAT_ROW). */
static inline int clconv_flat_id(void) { return (int)(get_global_id(1) * get_global_size(0) + get_global_id(0)); }
/* A convolution work-item whose range repeats each index along dimension 0 `fold` times, for `fold` consecutive
 * channel blocks that then share one work-group (src/catalogue.c: clconv__variant_geometry): (its index along
 * dimension 0 without the repeats, its channel block counted over dimension 2 and the repeats). */
static inline int2 clconv_unfold(const int fold) {
  const int gi = (int)get_global_id(0), q = clconv_div(gi, fold);
  return (int2)(q, (int)get_global_id(2) * fold + gi - q * fold);
}
/* A row kernel's work-item (tiles of 16 or WT outputs along W, of rows): (tile, row) from its index i along
 * dimension 0, which holds each row's `tiles` tiles rounded up to a power of two, one row after another
 * (src/program_cache.c: clconv__row_range). A CPU work-group of 8 then covers whole rows of few tiles, or 8 tiles
 * of a long row, in one shape for every map (PoCL compiles a kernel once per work-group shape), and the split is a
 * shift. The tiles past `tiles` are the rounding: their work-items have nothing to do. */
static inline int2 clconv_tile_row(const int i, const int tiles) {
  const int sh = 32 - (int)clz(tiles - 1); /* clz(0) is 32 */
  return (int2)(i & ((1 << sh) - 1), i >> sh);
}

/* Phi(x), the standard normal distribution function, for gelu's row of the activation table (clconv_phi_##T, for
 * each type the kernels activate): Numerical Recipes' erfc (erfcc: with t = 1 / (1 + |z| / 2), erfc(|z|) = t exp(-z²
 * + P(t)), a fractional error below 1.2e-7 everywhere) at z = -x / sqrt(2). The exponent -x² / 2 + P is summed
 * from x² split exactly (hi + lo, an fma) with its rounding error kept (Knuth's two-sum) and put back as exp's
 * factor (1 + err): rounded once, at x = -10, it is 3e-6 off, past the tolerance. OpenCL's erfc ran lane by lane on
 * PoCL: gelu over 64 x 112² took 1.09 ms where swish took 0.24. */
#define CLCONV_PHI(T)                                                                                                 \
  static inline T clconv_phi_##T(const T x) {                                                                         \
    const T t = (T)(1.0f) / ((T)(1.0f) + (T)(0.35355339f) * fabs(x)), hi = x * x;                                     \
    const T p =                                                                                                       \
        (T)(-1.26551223f) +                                                                                           \
        t * ((T)(1.00002368f) +                                                                                       \
             t * ((T)(0.37409196f) +                                                                                  \
                  t * ((T)(0.09678418f) +                                                                             \
                       t * ((T)(-0.18628806f) +                                                                       \
                            t * ((T)(0.27886807f) +                                                                   \
                                 t * ((T)(-1.13520398f) +                                                             \
                                      t * ((T)(1.48851587f) + t * ((T)(-0.82215223f) + t * (T)(0.17087277f)))))))));  \
    /* x² past float (hi infinite): exp(s) is 0, and the error terms 0 */                                             \
    const T a = (T)(-0.5f) * hi, b = p - (T)(0.5f) * select(fma(x, x, -hi), (T)(0.0f), isinf(hi)), s = a + b,         \
            bb = s - a, err = select((a - (s - bb)) + (b - bb), (T)(0.0f), isinf(hi));                                \
    const T e = (T)(0.5f) * t * exp(s) * ((T)(1.0f) + err);                                                           \
    return select(e, (T)(1.0f) - e, x > (T)(0.0f));                                                                   \
  }
CLCONV_PHI(float)
CLCONV_PHI(float2)
CLCONV_PHI(float4)
CLCONV_PHI(float8)
CLCONV_PHI(float16)
#undef CLCONV_PHI

/* f(x) for a float or a vector of floats T: CLCONV_ACTIVATE, defined for the activation ACT names by the code
 * prepended to every program (the table CLCONV_ACT_MAP in clconv.h, activation.c); one expression for both
 * (select and the comparisons work lane by lane on vectors; on a scalar, select(a, b, c) is c ? b : a). Vector
 * code keeps 16 lanes in registers and is what the row kernels' stores and the activation kernel use. x must be a
 * name: the expressions do not parenthesise it (an expression such as a + b would bind wrongly in alpha * x). */
static inline float clconv_activate(const float x, const float alpha, const float beta) {
  return CLCONV_ACTIVATE(float, x, alpha, beta);
}
static inline float16 clconv_activate16(const float16 x, const float alpha, const float beta) {
  return CLCONV_ACTIVATE(float16, x, alpha, beta);
}

/* Splits a flat output index over (outer, D, H, W) with extents osz = (D, H, W): returns (d, h, w, outer). */
static inline int4 clconv_unflatten(int i, int4 osz) {
  const int w = i % osz.z;
  i /= osz.z;
  const int h = i % osz.y;
  i /= osz.y;
  return (int4)(i % osz.x, h, w, i / osz.x);
}

/* The columns of 16 lanes: lane j at iw + j * stride. */
static inline int16 clconv_pos16(const int iw, const int stride) {
  return (int16)(iw) + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) * (int16)(stride);
}

/* Which of 16 lanes, lane j at column iw + j * stride of a row of n columns, fall inside the row: -1 inside, 0
 * outside. Work it out once where a loop reads many rows at the same columns (depthwise convolution). */
static inline int16 clconv_lanes16(const int iw, const int stride, const int n) {
  const int16 pos = clconv_pos16(iw, stride);
  return (pos >= (int16)(0)) & (pos < (int16)(n));
}

/* 16 lanes of a row, lane j at p[j * stride], for stride 1 or 2: one or two whole-vector loads, which read the 16 *
 * stride elements from p on (the caller makes sure they lie inside the buffer). */
__attribute__((always_inline)) static inline float16 clconv_row16(__global const XS *p, const int stride) {
  if (stride == 1)
    return LDSV(16, p);
  const float16 a = LDSV(16, p), b = LDSV(16, p + 16);
  return (float16)(a.even, b.even);
}

/* The inputs 16 lanes meet in one input row, lane j at column iw + j * stride, for window columns where not every
 * stored lane reads inside the row or a vector would run past the buffer (pooling, depthwise convolution):
 * row[iw + j * stride] for the lanes of lane_in (clconv_lanes16), 0 for the others. A whole-vector load (stride 1
 * or 2) where the 16 * stride floats it reads lie inside [0, bound), counted like rowoff (row's offset), else one
 * clamped read per lane. */
__attribute__((always_inline)) static inline float16 clconv_edge16(__global const XS *row, const int rowoff,
                                                            const int bound, const int iw, const int stride,
                                                            const int n, const int16 lane_in) {
  if (stride <= 2 && rowoff + iw >= 0 && rowoff + iw + 16 * stride <= bound)
    return select((float16)(0.0f), clconv_row16(row + iw, stride), lane_in);
  int at[16]; /* the positions clamped into the row, as an array (OpenCL C has no vector subscripts) */
  vstore16(clamp(clconv_pos16(iw, stride), (int16)(0), (int16)(n - 1)), 0, at);
  float e[16];
#pragma unroll
  for (int j = 0; j < 16; j++) e[j] = LDS(row + at[j]);
  return select((float16)(0.0f), vload16(0, e), lane_in);
}

/* The first nw lanes of y[0..nw) as a vector, 0 in the others: one vector load for a full vector, else lane by lane
 * (the row kernels' last tiles). */
__attribute__((always_inline)) static inline float16 clconv_load16(__global const XT *y, const int nw) {
  if (nw >= 16)
    return LDXV(16, y);
  float e[16];
#pragma unroll
  for (int j = 0; j < 16; j++) e[j] = j < nw ? LDX(y + j) : 0.0f;
  return vload16(0, e);
}

/* The first nw lanes of v to y[0..nw): one vector store for a full vector, else at most four (8, 4, 2, 1 lanes),
 * never lane by lane (slow on the row kernels' last tiles). */
__attribute__((always_inline)) static inline void clconv_store16(__global YT *y, const float16 v, const int nw) {
  if (nw >= 16) {
    STYV(16, v, y);
    return;
  }
  const float8 a8 = nw & 8 ? v.hi : v.lo;
  if (nw & 8) STYV(8, v.lo, y);
  y += nw & 8;
  const float4 a4 = nw & 4 ? a8.hi : a8.lo;
  if (nw & 4) STYV(4, a8.lo, y);
  y += nw & 4;
  const float2 a2 = nw & 2 ? a4.hi : a4.lo;
  if (nw & 2) STYV(2, a4.lo, y);
  y += nw & 2;
  if (nw & 1) STY(y, a2.lo);
}
