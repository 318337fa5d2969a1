/* The host conversions float32 <-> float16 / bfloat16 (no device), against references written independently: every
 * 16-bit value decoded from its fields with ldexp, and rounding found as the nearest representable value (ties to
 * the even one) among the decoded values, rather than by bit tricks. */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A float16 from its fields, in double: sign, 5-bit exponent, 10-bit mantissa. */
static double f16_value(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
  return (h & 0x8000) ? -v : v;
}

/* The float16 nearest to v (ties: even mantissa), past 65520 inf, by search over the finite positive codes. */
static uint16_t f16_nearest(double v) {
  uint16_t sign = signbit(v) ? 0x8000 : 0;
  double a = fabs(v);
  if (isnan(v))
    return 0x7e00;
  if (a >= 65520.0)
    return sign | 0x7c00;
  uint16_t lo = 0, hi = 0x7bff; /* the largest code with a value <= a */
  while (lo < hi) {
    uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
    if (f16_value(mid) <= a)
      lo = mid;
    else
      hi = mid - 1;
  }
  if (lo == 0x7bff)
    return sign | lo;
  double below = f16_value(lo), above = f16_value((uint16_t)(lo + 1));
  uint16_t pick = a - below < above - a ? lo : a - below > above - a ? (uint16_t)(lo + 1) : (lo & 1) ? lo + 1 : lo;
  return sign | pick;
}

static float bits_float(uint32_t x) {
  float f;
  memcpy(&f, &x, sizeof f);
  return f;
}

static uint32_t float_bits(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  return x;
}

/* Every float16 code to float and back: the same code, NaNs staying NaNs; the float is the code's value. */
static void test_f16_every_code(void **state) {
  (void)state;
  static uint16_t codes[65536], back[65536];
  static float f[65536];
  for (uint32_t i = 0; i < 65536; i++)
    codes[i] = (uint16_t)i;
  assert_int_equal(clconv_f16_to_f32(codes, f, 65536), CLCONV_OK);
  assert_int_equal(clconv_f32_to_f16(f, back, 65536), CLCONV_OK);
  int bad = 0;
  for (uint32_t i = 0; i < 65536; i++) {
    double want = f16_value(codes[i]);
    bool nan = isnan(want);
    if (nan ? !isnan(f[i]) : (double)f[i] != want || !signbit(f[i]) != !signbit(want))
      bad++;
    if (nan ? (back[i] & 0x7c00) != 0x7c00 || !(back[i] & 0x3ff) : back[i] != codes[i])
      bad++;
  }
  assert_int_equal(bad, 0);
}

/* Floats to float16: the edges (the largest finite value and where inf begins, the subnormal range and where zero
 * begins, ties both ways, signed zero, inf, NaN) and 2 million random bit patterns, against the nearest value. */
static void test_f32_to_f16_rounding(void **state) {
  (void)state;
  const float edges[] = {0.0f,
                         -0.0f,
                         65504.0f,
                         65519.99f,
                         65520.0f,
                         -65520.0f,
                         1e30f,
                         INFINITY,
                         -INFINITY,
                         NAN,
                         ldexpf(1, -24),
                         ldexpf(1, -25),
                         ldexpf(1.0f + 1e-7f, -25),
                         ldexpf(3, -26),
                         ldexpf(1, -14),
                         ldexpf(1023, -24),
                         1.0f + ldexpf(1, -11),
                         1.0f + ldexpf(3, -11),
                         2048.0f + 1.0f,
                         2048.0f + 3.0f,
                         0.1f,
                         -3.14159f};
  int bad = 0;
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    uint16_t got;
    assert_int_equal(clconv_f32_to_f16(&edges[i], &got, 1), CLCONV_OK);
    uint16_t want = f16_nearest(edges[i]);
    if (isnan(edges[i]) ? (got & 0x7c00) != 0x7c00 || !(got & 0x3ff) : got != want) {
      fprintf(stderr, "f16 of %a: got 0x%04x, want 0x%04x\n", (double)edges[i], got, want);
      bad++;
    }
  }
  sweep_rng r = {test_seed() ^ 0xF16};
  enum { N = 1 << 21 };
  float *x = test_alloc(N);
  uint16_t *h = malloc(N * sizeof *h);
  assert_non_null(h);
  for (size_t i = 0; i < N; i++) /* bit patterns over every exponent, and half of them near float16's range */
    x[i] = bits_float(i % 2 ? (uint32_t)sweep_next(&r)
                            : ((uint32_t)sweep_next(&r) & 0x83ffffff) | ((uint32_t)sweep_int(&r, 96, 143) << 23));
  assert_int_equal(clconv_f32_to_f16(x, h, N), CLCONV_OK);
  for (size_t i = 0; i < N && bad < 10; i++)
    if (isnan(x[i]) ? (h[i] & 0x7c00) != 0x7c00 || !(h[i] & 0x3ff) : h[i] != f16_nearest(x[i])) {
      fprintf(stderr, "f16 of %a: got 0x%04x, want 0x%04x\n", (double)x[i], h[i], f16_nearest(x[i]));
      bad++;
    }
  free(x);
  free(h);
  assert_int_equal(bad, 0);
}

/* Floats to bfloat16 and back: the nearest of the two neighbouring bfloat16 values (ties to even), inf past the
 * largest, NaN kept; bfloat16 to float exact. */
static void test_bf16(void **state) {
  (void)state;
  sweep_rng r = {test_seed() ^ 0xBF16};
  enum { N = 1 << 20 };
  float *x = test_alloc(N), *y = test_alloc(N);
  uint16_t *b = malloc(N * sizeof *b);
  assert_non_null(b);
  const float edges[] = {0.0f,
                         -0.0f,
                         INFINITY,
                         -INFINITY,
                         NAN,
                         3.3895314e38f,
                         bits_float(0x7f7fffff),
                         bits_float(0x3f808000),
                         bits_float(0x3f818000),
                         bits_float(0x00000001)};
  for (size_t i = 0; i < N; i++)
    x[i] = i < sizeof edges / sizeof edges[0] ? edges[i] : bits_float((uint32_t)sweep_next(&r));
  assert_int_equal(clconv_f32_to_bf16(x, b, N), CLCONV_OK);
  assert_int_equal(clconv_bf16_to_f32(b, y, N), CLCONV_OK);
  int bad = 0;
  for (size_t i = 0; i < N && bad < 10; i++) {
    if (isnan(x[i])) {
      bad += !isnan(y[i]);
      continue;
    }
    uint32_t lo = float_bits(x[i]) & 0xffff0000u;
    double a = fabs((double)x[i]), below = fabs((double)bits_float(lo)),
           above = (lo & 0x7fffffff) == 0x7f7f0000 ? ldexp(1, 128) : fabs((double)bits_float(lo + 0x10000));
    bool up = a - below > above - a || (a - below == above - a && (lo & 0x10000));
    double want = up ? ((lo & 0x7fffffff) == 0x7f7f0000 ? INFINITY : above) : below;
    if (isinf(x[i]))
      want = INFINITY;
    if (fabs((double)y[i]) != want || !signbit(y[i]) != !signbit(x[i])) {
      fprintf(stderr, "bf16 of %a: got %a, want %a\n", (double)x[i], (double)y[i], want);
      bad++;
    }
  }
  free(x);
  free(y);
  free(b);
  assert_int_equal(bad, 0);
}

static void test_errors(void **state) {
  (void)state;
  float f = 1.0f;
  uint16_t h = 0;
  assert_int_equal(clconv_f32_to_f16(NULL, &h, 1), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "f32_to_f16: src or dst is NULL"));
  assert_int_equal(clconv_f16_to_f32(&h, NULL, 1), CLCONV_ERR_INVALID_ARGUMENT);
  assert_int_equal(clconv_f32_to_bf16(&f, NULL, 1), CLCONV_ERR_INVALID_ARGUMENT);
  assert_int_equal(clconv_bf16_to_f32(NULL, &f, 1), CLCONV_ERR_INVALID_ARGUMENT);
  assert_int_equal(clconv_f32_to_f16(NULL, NULL, 0), CLCONV_OK); /* nothing to convert */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_f16_every_code),
      cmocka_unit_test(test_f32_to_f16_rounding),
      cmocka_unit_test(test_bf16),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
