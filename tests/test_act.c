/* Activations on the device against the CPU reference, including non-finite inputs and in-place use. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Known values, one row per activation and point. */
static void test_known_values(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  static const struct {
    clconv_activation a;
    float x, want;
  } rows[] = {
      {{.kind = CLCONV_ACT_IDENTITY}, -3.5f, -3.5f},
      {{.kind = CLCONV_ACT_RELU}, -1.0f, 0.0f},
      {{.kind = CLCONV_ACT_RELU}, 2.0f, 2.0f},
      {{.kind = CLCONV_ACT_LEAKY_RELU, .alpha = 0.5f}, -2.0f, -1.0f},
      {{.kind = CLCONV_ACT_LEAKY_RELU}, -100.0f, -1.0f}, /* default slope 0.01 */
      {{.kind = CLCONV_ACT_LEAKY_RELU}, 3.0f, 3.0f},
      {{.kind = CLCONV_ACT_ELU}, 2.0f, 2.0f},
      {{.kind = CLCONV_ACT_ELU, .alpha = 2.0f}, -1000.0f, -2.0f},
      {{.kind = CLCONV_ACT_RELU6}, 7.0f, 6.0f},
      {{.kind = CLCONV_ACT_RELU6}, -7.0f, 0.0f},
      {{.kind = CLCONV_ACT_RELU6}, 5.0f, 5.0f},
      {{.kind = CLCONV_ACT_CLIP, .alpha = -1.0f, .beta = 0.5f}, 5.0f, 0.5f},
      {{.kind = CLCONV_ACT_CLIP, .alpha = -1.0f, .beta = 0.5f}, -5.0f, -1.0f},
      {{.kind = CLCONV_ACT_SIGMOID}, 0.0f, 0.5f},
      {{.kind = CLCONV_ACT_SIGMOID}, -200.0f, 0.0f},
      {{.kind = CLCONV_ACT_SIGMOID}, 200.0f, 1.0f},
      {{.kind = CLCONV_ACT_TANH}, 0.0f, 0.0f},
      {{.kind = CLCONV_ACT_TANH}, 50.0f, 1.0f},
      {{.kind = CLCONV_ACT_SOFTPLUS}, 0.0f, 0.693147182f},
      {{.kind = CLCONV_ACT_SOFTPLUS}, 100.0f, 100.0f},
      {{.kind = CLCONV_ACT_SOFTPLUS}, -200.0f, 0.0f},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint32_t one = 1;
    float y;
    clconv_tensor *t = upload(ctx, 1, &one, &rows[i].x);
    assert_int_equal(clconv_act_forward(ctx, &rows[i].a, t, t), CLCONV_OK);
    download(t, &y);
    clconv_tensor_destroy(t);
    if (fabsf(y - rows[i].want) > 1e-6f * (1.0f + fabsf(rows[i].want)))
      fail_msg("row %zu: %s(%g) = %.9g, want %.9g", i, clconv_act_name(rows[i].a.kind), (double)rows[i].x, (double)y,
               (double)rows[i].want);
  }
}

/* NaN stays NaN through every activation; infinities go where the limits say. */
static void test_non_finite(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f, -1e-40f, 88.0f, -88.0f, 1e30f, -1e30f};
  int bad = 0;
  for (int k = 0; k < CLCONV_ACT_COUNT; k++) {
    clconv_activation a = {.kind = (clconv_act_kind)k, .alpha = k == CLCONV_ACT_CLIP ? -2.0f : 0.0f, .beta = 3.0f};
    bad += sweep_check_act(ctx, &a, x, sizeof x / sizeof x[0], false, stderr, "non-finite table") != 0;
  }
  assert_int_equal(bad, 0);
}

static void test_random_sweep(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed();
  sweep_rng r = {seed};
  uint32_t n = test_count(500), bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    clconv_activation a;
    sweep_activation(&r, &a);
    size_t count = sweep_int(&r, 1, 3000);
    float *x = test_alloc(count);
    sweep_act_data(&r, x, count);
    bad += sweep_check_act(ctx, &a, x, count, sweep_chance(&r, 0.5), stderr, test_replay(seed)) != 0;
    free(x);
  }
  print_message("act random sweep: %u configurations, %u failed (seed %llu)\n", n, bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

/* Any shape: the activation treats the tensor as flat, and src and dst only need equal counts. */
static void test_shapes(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint32_t d5[5] = {2, 3, 2, 2, 2}, d1[1] = {48}, d2[1] = {47};
  float x[48], y[48];
  for (int i = 0; i < 48; i++)
    x[i] = (float)(i - 24);
  clconv_tensor *a = upload(ctx, 5, d5, x), *b = upload(ctx, 1, d1, NULL), *c = upload(ctx, 1, d2, NULL);
  clconv_activation relu = {.kind = CLCONV_ACT_RELU};
  assert_int_equal(clconv_act_forward(ctx, &relu, a, b), CLCONV_OK);
  download(b, y);
  for (int i = 0; i < 48; i++)
    assert_true(y[i] == (i < 24 ? 0.0f : (float)(i - 24)));
  assert_int_equal(clconv_act_forward(ctx, &relu, a, c), CLCONV_ERR_SHAPE_MISMATCH);
  assert_non_null(strstr(clconv_last_error(ctx), "src has 48 elements, dst has 47"));
  clconv_tensor_destroy(a);
  clconv_tensor_destroy(b);
  clconv_tensor_destroy(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_non_finite),
      cmocka_unit_test(test_random_sweep),
      cmocka_unit_test(test_shapes),
  };
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
