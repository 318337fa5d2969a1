/* Max and average pooling on the device against the CPU reference. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *run_pool(clconv_context *ctx, const clconv_pool_desc *d, const float *x) {
  uint32_t ss[5], ds[5], n = d->ndim + 2;
  assert_int_equal(clconv_pool_shapes(d, ss, ds), CLCONV_OK);
  clconv_tensor *tx = upload(ctx, n, ss, x), *ty = upload(ctx, n, ds, NULL);
  if (clconv_pool_forward(ctx, d, tx, ty) != CLCONV_OK)
    fail_msg("%s", clconv_last_error(ctx));
  float *y = test_alloc(clconv_tensor_count(ty));
  download(ty, y);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(ty);
  return y;
}

/* The notes' examples: max pooling of width 3, stride 2; 2x2 stride 2; a different stride per axis. */
static void test_notes_examples(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x1[] = {1, 3, 2, 5, 4, 1, 0};
  clconv_pool_desc d1 = {.ndim = 1, .channels = 1, .in_size = {7}, .window = {3}, .stride = {2}};
  float *y = run_pool(ctx, &d1, x1);
  const float want1[] = {3, 5, 4};
  assert_memory_equal(y, want1, sizeof want1);
  free(y);

  const float x2[] = {1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16};
  clconv_pool_desc d2 = {.ndim = 2, .channels = 1, .in_size = {4, 4}, .window = {2, 2}, .stride = {2, 2}};
  y = run_pool(ctx, &d2, x2);
  const float want2[] = {4, 8, 12, 16};
  assert_memory_equal(y, want2, sizeof want2);
  free(y);
  d2.kind = CLCONV_POOL_AVG;
  y = run_pool(ctx, &d2, x2);
  const float want2a[] = {2.5f, 6.5f, 10.5f, 14.5f};
  assert_memory_equal(y, want2a, sizeof want2a);
  free(y);

  /* 2x2 window, stride 2 vertically and 1 horizontally: shapes the output to 2x3. */
  clconv_pool_desc d3 = {.ndim = 2, .channels = 1, .in_size = {4, 4}, .window = {2, 2}, .stride = {2, 1}};
  y = run_pool(ctx, &d3, x2);
  const float want3[] = {4, 7, 8, 12, 15, 16};
  assert_memory_equal(y, want3, sizeof want3);
  free(y);
}

/* Padding: max never sees it; average counts it only with count_include_pad, and never past the right pad. */
static void test_padding_semantics(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {-1, -2, -3, -4, -5};
  clconv_pool_desc d = {
      .ndim = 1, .channels = 1, .in_size = {5}, .window = {3}, .stride = {2}, .pad_before = {1}, .pad_after = {1}};
  float *y = run_pool(ctx, &d, x); /* windows [-1..1], [1..3], [3..5]: padding (0) must not win */
  const float want_max[] = {-1, -2, -4};
  assert_memory_equal(y, want_max, sizeof want_max);
  free(y);
  d.kind = CLCONV_POOL_AVG;
  y = run_pool(ctx, &d, x);
  const float want_avg[] = {-1.5f, -3.0f, -4.5f};
  assert_memory_equal(y, want_avg, sizeof want_avg);
  free(y);
  d.count_include_pad = true;
  y = run_pool(ctx, &d, x);
  const float want_cip[] = {-1.0f, -3.0f, -3.0f};
  assert_memory_equal(y, want_cip, sizeof want_cip);
  free(y);
  /* Ceil mode, PyTorch: in 6, window 3, stride 2, no pad -> 3 outputs, the last window [4, 6) is partial and its
   * divisor is 2 with or without count_include_pad (nothing past the right padding counts). */
  const float x6[] = {1, 2, 3, 4, 5, 6};
  clconv_pool_desc c = {.ndim = 1,
                        .channels = 1,
                        .in_size = {6},
                        .window = {3},
                        .stride = {2},
                        .kind = CLCONV_POOL_AVG,
                        .ceil_mode = true,
                        .count_include_pad = true};
  y = run_pool(ctx, &c, x6);
  const float want_ceil[] = {2, 4, 5.5f};
  assert_memory_equal(y, want_ceil, sizeof want_ceil);
  free(y);
  /* Global average over a 3D volume. */
  const float x3[] = {1, 2, 3, 4, 5, 6, 7, 8};
  clconv_pool_desc g = {.ndim = 3, .channels = 1, .in_size = {2, 2, 2}, .kind = CLCONV_POOL_AVG, .global = true};
  y = run_pool(ctx, &g, x3);
  assert_true(y[0] == 4.5f);
  free(y);
}

/* Each of the n descriptors as max and as average pooling against the reference, random data from seed. */
static void check_max_and_avg(clconv_context *ctx, const clconv_pool_desc *cases, size_t n, uint64_t seed) {
  sweep_rng r = {seed};
  for (size_t i = 0; i < n; i++)
    for (int kind = 0; kind < 2; kind++) {
      clconv_pool_desc d = cases[i];
      d.kind = (clconv_pool_kind)kind;
      assert_int_equal(sweep_check_pool(ctx, &d, &r, stderr, test_replay(seed)), 0);
    }
}

/* NaN propagates through max, as in PyTorch; infinities are ordinary values. */
static void test_non_finite(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {1, NAN, 2, 3, -INFINITY, 4};
  clconv_pool_desc d = {.ndim = 1, .channels = 1, .in_size = {6}, .window = {3}};
  float *y = run_pool(ctx, &d, x);
  assert_true(isnan(y[0]) && y[1] == 4.0f);
  free(y);
  /* whole-plane pooling (a reduction): NaN in the vector part and in the tail of a 7 x 7 plane; infinities */
  float p[2 * 49];
  for (int i = 0; i < 2 * 49; i++)
    p[i] = (float)(i % 13) - 6.0f;
  p[5] = NAN;       /* plane 0, in the first 16 */
  p[49 + 48] = NAN; /* plane 1, the last element: the tail */
  clconv_pool_desc g = {.ndim = 2, .channels = 2, .in_size = {7, 7}, .global = true};
  y = run_pool(ctx, &g, p);
  assert_true(isnan(y[0]) && isnan(y[1]));
  free(y);
  p[5] = p[49 + 48] = INFINITY;
  p[49 + 3] = -INFINITY;
  g.kind = CLCONV_POOL_AVG;
  y = run_pool(ctx, &g, p);
  assert_true(y[0] == INFINITY && isnan(y[1])); /* inf - inf */
  free(y);
}

/* Rows long enough for the row kernel's whole-vector loads (kernels/pool.cl: 16 lanes times the stride, plus the
 * window): the windows compiled in (2 and 3 at stride 1 and 2, 4 at stride 4; 1-D to 3-D), the same strides read
 * from the arguments (a window of 5 at stride 4, a non-square 2 x 4 window at stride 2 x 4), and a stride of 3 (one
 * read per lane); with padding, ceil mode and count_include_pad; max and average, against the reference (float32:
 * the random sweep runs the same loads in the 16-bit types). Rows of 70 and 150 columns: first, middle and last tiles,
 * several output rows per work-item. */
static void test_long_rows(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x70E;
  const clconv_pool_desc cases[] = {
      {.ndim = 2, .channels = 3, .in_size = {9, 70}, .window = {2, 2}, .stride = {2, 2}},
      {.ndim = 2,
       .channels = 2,
       .in_size = {11, 70},
       .window = {3, 3},
       .stride = {2, 2},
       .pad_before = {1, 1},
       .pad_after = {1, 1}},
      {.ndim = 2,
       .channels = 2,
       .in_size = {10, 70},
       .window = {3, 3},
       .stride = {1, 1},
       .pad_before = {1, 1},
       .pad_after = {1, 1},
       .count_include_pad = true},
      {.ndim = 2, .channels = 2, .in_size = {7, 70}, .window = {2, 2}, .stride = {1, 1}},
      {.ndim = 2, .channels = 2, .in_size = {13, 150}, .window = {4, 4}, .stride = {4, 4}, .ceil_mode = true},
      {.ndim = 1, .batch = 2, .channels = 3, .in_size = {150}, .window = {4}, .stride = {4}},
      {.ndim = 1, .channels = 3, .in_size = {150}, .window = {3}, .stride = {2}, .pad_before = {1}, .ceil_mode = true},
      {.ndim = 1, .channels = 3, .in_size = {150}, .window = {5}, .stride = {4}, .pad_before = {2}, .pad_after = {2}},
      {.ndim = 2,
       .channels = 2,
       .in_size = {9, 150},
       .window = {2, 4},
       .stride = {2, 4},
       .pad_after = {1, 3},
       .ceil_mode = true},
      {.ndim = 1, .channels = 3, .in_size = {150}, .window = {3}, .stride = {3}, .pad_before = {1}},
      {.ndim = 3,
       .channels = 2,
       .in_size = {3, 9, 70},
       .window = {2, 3, 3},
       .stride = {1, 2, 2},
       .pad_before = {0, 1, 1}},
  };
  check_max_and_avg(ctx, cases, sizeof cases / sizeof cases[0], seed);
}

/* NaN in the windows of the row kernel's whole-vector paths (a 3 x 3 window at stride 2 over 5 x 70, 4 at stride 4
 * over 150): the outputs whose windows hold one are NaN, the others as the reference. */
static void test_long_rows_nan(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const clconv_pool_desc cases[] = {
      {.ndim = 2,
       .channels = 1,
       .in_size = {5, 70},
       .window = {3, 3},
       .stride = {2, 2},
       .pad_before = {1, 1},
       .pad_after = {1, 1}},
      {.ndim = 1, .channels = 1, .in_size = {150}, .window = {4}, .stride = {4}},
  };
  static const size_t at[] = {3, 40, 2 * 70 + 33, 4 * 70 + 69, 147};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t ss[5], ds[5];
    assert_int_equal(clconv_pool_shapes(&cases[i], ss, ds), CLCONV_OK);
    size_t sc = ss[2] * (cases[i].ndim == 2 ? ss[3] : 1), dc = ds[2] * (cases[i].ndim == 2 ? ds[3] : 1);
    float *x = test_alloc(sc), *ref = test_alloc(dc), *mag = test_alloc(dc);
    for (size_t j = 0; j < sc; j++)
      x[j] = (float)(j % 17) - 9.0f;
    for (size_t j = 0; j < sizeof at / sizeof at[0]; j++)
      if (at[j] < sc)
        x[at[j]] = NAN;
    float *y = run_pool(ctx, &cases[i], x);
    assert_int_equal(clconv_ref_pool(&cases[i], x, ref, mag), CLCONV_OK);
    size_t nans = 0;
    for (size_t j = 0; j < dc; j++) {
      nans += isnan(ref[j]) != 0;
      if (isnan(ref[j]) ? !isnan(y[j]) : y[j] != ref[j])
        fail_msg("case %zu output %zu: %g, the reference %g", i, j, (double)y[j], (double)ref[j]);
    }
    assert_true(nans >= 3);
    free(x);
    free(ref);
    free(mag);
    free(y);
  }
}

/* Windows over each whole unpadded plane (global pooling, or a window as large as the input) run as a reduction
 * (pool.c: clconv_pool_plane): 1-D to 3-D, planes shorter than, equal to and longer than 16, against the reference. */
static void test_whole_plane(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x6A9;
  const clconv_pool_desc cases[] = {
      {.ndim = 2, .batch = 3, .channels = 70, .in_size = {7, 7}, .global = true},
      {.ndim = 1, .channels = 5, .in_size = {16}, .window = {16}},
      {.ndim = 1, .batch = 2, .channels = 3, .in_size = {9}, .window = {9}, .stride = {4}},
      {.ndim = 3, .channels = 9, .in_size = {2, 5, 7}, .global = true},
      {.ndim = 2, .channels = 4, .in_size = {1, 1}, .global = true},
  };
  check_max_and_avg(ctx, cases, sizeof cases / sizeof cases[0], seed);
}

/* More planes than one launch may have work-groups along a dimension (65 535): the launch runs in pieces at global
 * offsets (program_cache.c: clconv__launch_pieces): pooling over 2 x 40 000 planes (max and average) and a
 * depthwise convolution over 70 000 channels (dw on a CPU profile, direct on a GPU one), against the reference. */
static void test_split_launch(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x5917;
  sweep_rng r = {seed};
  clconv_pool_desc p = {
      .ndim = 2, .batch = 2, .channels = 40000, .in_size = {2, 3}, .window = {2, 2}, .stride = {1, 1}};
  assert_int_equal(sweep_check_pool(ctx, &p, &r, stderr, test_replay(seed)), 0);
  p.kind = CLCONV_POOL_AVG;
  assert_int_equal(sweep_check_pool(ctx, &p, &r, stderr, test_replay(seed)), 0);
  clconv_conv_desc c = {.ndim = 1,
                        .in_channels = 70000,
                        .out_channels = 70000,
                        .groups = 70000,
                        .in_size = {5},
                        .kernel_size = {3},
                        .pad_before = {1},
                        .has_bias = true};
  assert_int_equal(sweep_check_conv(ctx, &c, &r, false, false, stderr, test_replay(seed)), 0);
}

static void test_random_sweep(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed();
  sweep_rng r = {seed};
  static const uint32_t max_in[4] = {0, 40, 14, 7};
  uint32_t n = test_count(500), bad = 0, per_ndim[4] = {0};
  for (uint32_t i = 0; i < n; i++) {
    clconv_pool_desc d = {.batch = sweep_int(&r, 0, 3), .channels = sweep_int(&r, 1, 5)};
    uint32_t ndim = sweep_int(&r, 1, 3), in[3];
    for (uint32_t a = 0; a < ndim; a++) /* rows up to 40: the kernel's whole-vector paths need 16 (stride 1) or 32
                                           (stride 2) inputs inside a row */
      in[a] = sweep_int(&r, 1, a == ndim - 1 ? 40 : max_in[ndim]);
    sweep_pool_desc(&r, &d, in, ndim);
    d.dtype = TEST_DTYPE(i);
    per_ndim[ndim]++;
    bad += sweep_check_pool(ctx, &d, &r, stderr, test_replay(seed)) != 0;
  }
  print_message("pool random sweep: %u configurations (1D %u, 2D %u, 3D %u), %u failed (seed %llu)\n", n, per_ndim[1],
                per_ndim[2], per_ndim[3], bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_notes_examples), cmocka_unit_test(test_padding_semantics),
      cmocka_unit_test(test_non_finite),     cmocka_unit_test(test_split_launch),
      cmocka_unit_test(test_whole_plane),    cmocka_unit_test(test_long_rows),
      cmocka_unit_test(test_long_rows_nan),  cmocka_unit_test(test_random_sweep),
  };
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
