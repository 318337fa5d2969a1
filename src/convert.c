/* Host conversions between float32 and the 16-bit storage types, bit by bit (no dependence on the host's floating
 * point environment): float16 (IEEE 754 binary16) and bfloat16 (a float32's top 16 bits). */
#include "internal.h"

#include <math.h>

static uint32_t bits_of(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  return x;
}

static float float_of(uint32_t x) {
  float f;
  memcpy(&f, &x, sizeof f);
  return f;
}

/* q rounded by the shift-bit remainder rem of a right shift by s (s >= 1): to nearest, ties to even. */
static uint32_t round_shift(uint32_t m, int s) {
  uint32_t q = m >> s, rem = m & ((1u << s) - 1), half = 1u << (s - 1);
  return q + (rem > half || (rem == half && (q & 1)));
}

static uint16_t to_f16(float f) {
  const uint32_t x = bits_of(f), sign = (x >> 16) & 0x8000, a = x & 0x7fffffff;
  if (a >= 0x7f800000) /* inf, or NaN kept a NaN (quiet, the payload's top bits) */
    return (uint16_t)(sign | 0x7c00 | (a > 0x7f800000 ? 0x200 | ((a >> 13) & 0x3ff) : 0));
  if (a >= 0x477ff000) /* 65520 and above: past half the last step beyond 65504, to inf */
    return (uint16_t)(sign | 0x7c00);
  const uint32_t e = a >> 23;
  if (e >= 113) /* normal: rebias the exponent (127 -> 15), round the 13 bits dropped (a carry moves the exponent) */
    return (uint16_t)(sign | round_shift(a - (112u << 23), 13));
  if (e < 102) /* below 2^-25, half the smallest subnormal: to zero */
    return (uint16_t)sign;
  /* subnormal: the 24-bit significand in units of 2^-24 (rounding up to 1024 gives the smallest normal) */
  return (uint16_t)(sign | round_shift((a & 0x7fffff) | 0x800000, (int)(126 - e)));
}

static float from_f16(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 31)
    return float_of(sign | 0x7f800000 | (m << 13));
  if (e == 0) /* zero or subnormal: m * 2^-24, exact in float */
    return sign ? -ldexpf((float)m, -24) : ldexpf((float)m, -24);
  return float_of(sign | ((e + 112) << 23) | (m << 13));
}

static uint16_t to_bf16(float f) {
  const uint32_t x = bits_of(f);
  if ((x & 0x7fffffff) > 0x7f800000) /* NaN kept a NaN, quiet */
    return (uint16_t)((x >> 16) | 0x40);
  return (uint16_t)round_shift(x, 16); /* the sign rides along; a carry moves the exponent, past the top to inf */
}

clconv_status clconv_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
  CLCONV__CHECK(NULL, n == 0 || (src && dst), CLCONV_ERR_INVALID_ARGUMENT, "f32_to_f16: src or dst is NULL");
  for (size_t i = 0; i < n; i++)
    dst[i] = to_f16(src[i]);
  return CLCONV_OK;
}

clconv_status clconv_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
  CLCONV__CHECK(NULL, n == 0 || (src && dst), CLCONV_ERR_INVALID_ARGUMENT, "f16_to_f32: src or dst is NULL");
  for (size_t i = 0; i < n; i++)
    dst[i] = from_f16(src[i]);
  return CLCONV_OK;
}

clconv_status clconv_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
  CLCONV__CHECK(NULL, n == 0 || (src && dst), CLCONV_ERR_INVALID_ARGUMENT, "f32_to_bf16: src or dst is NULL");
  for (size_t i = 0; i < n; i++)
    dst[i] = to_bf16(src[i]);
  return CLCONV_OK;
}

clconv_status clconv_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
  CLCONV__CHECK(NULL, n == 0 || (src && dst), CLCONV_ERR_INVALID_ARGUMENT, "bf16_to_f32: src or dst is NULL");
  for (size_t i = 0; i < n; i++)
    dst[i] = float_of((uint32_t)src[i] << 16);
  return CLCONV_OK;
}
