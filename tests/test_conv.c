/* Convolution and cross-correlation on the device against the CPU reference. Every test runs the algorithm named
 * by the first argument ("direct", the default, or "gemm"): ctest runs the program once per algorithm. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clconv_conv_algo algo = CLCONV_ALGO_DIRECT;

/* d with the algorithm under test. */
static clconv_conv_desc with_algo(clconv_conv_desc d) {
  d.algorithm = algo;
  return d;
}

/* Runs d on the device with the given host data and returns the output (caller frees). */
static float *run_conv(clconv_context *ctx, const clconv_conv_desc *d_in, const float *x, const float *w,
                       const float *b) {
  clconv_conv_desc dd = with_algo(*d_in), *d = &dd;
  uint32_t ss[5], ws[5], ds[5], n = d->ndim + 2;
  assert_int_equal(clconv_conv_shapes(d, ss, ws, ds), CLCONV_OK);
  clconv_tensor *tx = upload(ctx, n, ss, x), *tw = upload(ctx, n, ws, w), *tb = b ? upload(ctx, 1, &ds[1], b) : NULL,
                *ty = upload(ctx, n, ds, NULL);
  if (clconv_conv_forward(ctx, d, tx, tw, tb, NULL, ty) != CLCONV_OK)
    fail_msg("%s", clconv_last_error(ctx));
  float *y = test_alloc(clconv_tensor_count(ty));
  download(ty, y);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(ty);
  return y;
}

/* The notes' property 2: flipping the kernel turns convolution into cross-correlation. Known answers. */
static void test_flip_1d(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {1, 2, 3, 4}, w[] = {1, 0, -1};
  clconv_conv_desc d = {.ndim = 1, .in_channels = 1, .out_channels = 1, .in_size = {4}, .kernel_size = {3}};
  float *y = run_conv(ctx, &d, x, w, NULL); /* sum x(i+m) w(m): 1-3, 2-4 */
  assert_true(y[0] == -2.0f && y[1] == -2.0f);
  free(y);
  d.mode = CLCONV_MODE_CONV; /* sum x(i+m) w(k-1-m): 3-1, 4-2 */
  y = run_conv(ctx, &d, x, w, NULL);
  assert_true(y[0] == 2.0f && y[1] == 2.0f);
  free(y);
}

static void test_flip_2d_3d(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[] = {1, 2, 3, 4};
  clconv_conv_desc d = {.ndim = 2, .in_channels = 1, .out_channels = 1, .in_size = {3, 3}, .kernel_size = {2, 2}};
  float *y = run_conv(ctx, &d, x, w, NULL);
  const float xcorr[] = {37, 47, 67, 77}; /* y00 = 1*1 + 2*2 + 4*3 + 5*4 */
  assert_memory_equal(y, xcorr, sizeof xcorr);
  free(y);
  d.mode = CLCONV_MODE_CONV;
  y = run_conv(ctx, &d, x, w, NULL);
  const float conv[] = {23, 33, 53, 63}; /* y00 = 1*4 + 2*3 + 4*2 + 5*1 */
  assert_memory_equal(y, conv, sizeof conv);
  free(y);
  /* 3D: a 2x1x1 kernel {1, 10} over depth {1, 2, 3}: flipped in depth too. */
  const float x3[] = {1, 2, 3}, w3[] = {1, 10};
  clconv_conv_desc d3 = {.ndim = 3,
                         .in_channels = 1,
                         .out_channels = 1,
                         .in_size = {3, 1, 1},
                         .kernel_size = {2, 1, 1},
                         .mode = CLCONV_MODE_CONV};
  y = run_conv(ctx, &d3, x3, w3, NULL);
  assert_true(y[0] == 12.0f && y[1] == 23.0f); /* 1*10 + 2*1, 2*10 + 3*1 */
  free(y);
}

/* Padding p = floor(k/2) keeps the size and pads with zeros; bias and relu are applied after the sum. */
static void test_padding_bias_relu(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {1, 1, 1, 1, 1}, w[] = {1, 1, 1}, b[] = {-2.5f};
  clconv_conv_desc d = {.ndim = 1,
                        .in_channels = 1,
                        .out_channels = 1,
                        .in_size = {5},
                        .kernel_size = {3},
                        .pad_before = {1},
                        .pad_after = {1},
                        .has_bias = true,
                        .activation = {.kind = CLCONV_ACT_RELU}};
  float *y = run_conv(ctx, &d, x, w, b);
  const float want[] = {0, 0.5f, 0.5f, 0.5f, 0}; /* edges see one zero: 2 - 2.5 < 0 */
  assert_memory_equal(y, want, sizeof want);
  free(y);
}

/* Named hand cases: each differs from a plain 2D 3x3 in one or two fields. */
#define P2 .ndim = 2, .in_channels = 3, .out_channels = 4, .in_size = {9, 11}, .kernel_size = {3, 3}
static const struct {
  const char *name;
  clconv_conv_desc d;
} cases[] = {
    {"plain", {P2}},
    {"1x1", {P2, .kernel_size = {1, 1}}},
    {"padding 1", {P2, .pad_before = {1, 1}, .pad_after = {1, 1}}},
    {"asymmetric padding", {P2, .pad_before = {0, 2}, .pad_after = {2, 1}}},
    {"stride 2", {P2, .stride = {2, 2}}},
    {"stride 3,1", {P2, .stride = {3, 1}}},
    {"dilation 2", {P2, .dilation = {2, 2}}},
    {"groups", {P2, .in_channels = 6, .out_channels = 9, .groups = 3}},
    {"depthwise", {P2, .in_channels = 5, .out_channels = 5, .groups = 5}},
    {"depthwise multiplier 2", {P2, .in_channels = 4, .out_channels = 8, .groups = 4}},
    {"ndim 1", {.ndim = 1, .in_channels = 3, .out_channels = 2, .in_size = {31}, .kernel_size = {5}}},
    {"ndim 3", {.ndim = 3, .in_channels = 2, .out_channels = 3, .in_size = {5, 6, 7}, .kernel_size = {3, 3, 3}}},
    {"ndim 3 strided padded",
     {.ndim = 3,
      .in_channels = 2,
      .out_channels = 3,
      .in_size = {5, 6, 7},
      .kernel_size = {3, 2, 3},
      .stride = {2, 1, 2},
      .pad_before = {1, 0, 1},
      .pad_after = {0, 1, 1}}},
    {"batch 3", {P2, .batch = 3}},
    {"odd sizes 27x37, 23 -> 19 channels", {P2, .in_channels = 23, .out_channels = 19, .in_size = {27, 37}}},
    {"kernel = padded input", {P2, .kernel_size = {11, 12}, .pad_before = {1, 0}, .pad_after = {1, 1}}},
    {"convolution mode, bias", {P2, .mode = CLCONV_MODE_CONV, .has_bias = true}},
    {"5x5 lenet c1",
     {.ndim = 2, .in_channels = 3, .out_channels = 6, .in_size = {32, 32}, .kernel_size = {5, 5}, .has_bias = true}},
    {"sigmoid", {P2, .activation = {.kind = CLCONV_ACT_SIGMOID}}},
    {"lenet c3: 10-wide rows (10 positions per work-item)",
     {.ndim = 2, .in_channels = 6, .out_channels = 16, .in_size = {14, 14}, .kernel_size = {5, 5}, .has_bias = true}},
    {"40 channels: a full and a partial 32-channel tile, 10-wide rows",
     {P2, .in_channels = 8, .out_channels = 40, .in_size = {12, 12}, .mode = CLCONV_MODE_CONV}},
    {"stride > kernel", {P2, .kernel_size = {2, 2}, .stride = {4, 3}}},
    {"1x1x1 over 3x5x7, 24 -> 20 channels: one flattened row, tiles across the row ends",
     {.ndim = 3,
      .in_channels = 24,
      .out_channels = 20,
      .in_size = {3, 5, 7},
      .kernel_size = {1, 1, 1},
      .mode = CLCONV_MODE_CONV,
      .has_bias = true}},
    {"depthwise 3x3 padded over 7x30 (the dw kernel: vector loads past the row's end, zeroed lanes)",
     {P2, .in_channels = 3, .out_channels = 3, .groups = 3, .in_size = {7, 30}, .kernel_size = {3, 3},
      .pad_before = {1, 1}, .pad_after = {1, 1}}},
    {"depthwise 3x3 stride 2 over 37x41 (the dw kernel's strided loads and edges)",
     {P2, .in_channels = 3, .out_channels = 3, .groups = 3, .in_size = {37, 41}, .kernel_size = {3, 3},
      .stride = {2, 2}, .pad_before = {1, 1}, .pad_after = {1, 1}}},
    {"depthwise 5x5 stride 2 over 20x70 (dw specialised at stride 2: taps past the first 32 columns)",
     {P2, .in_channels = 8, .out_channels = 8, .groups = 8, .in_size = {20, 70}, .kernel_size = {5, 5},
      .stride = {2, 2}, .pad_before = {2, 2}, .pad_after = {2, 2}}},
    {"depthwise 7x7 stride 2 over 15x77, convolution (dw specialised at stride 2, 7 taps)",
     {P2, .in_channels = 5, .out_channels = 5, .groups = 5, .in_size = {15, 77}, .kernel_size = {7, 7},
      .stride = {2, 2}, .pad_before = {3, 3}, .pad_after = {2, 3}, .mode = CLCONV_MODE_CONV}},
    {"depthwise 5x7 stride 2,1 over 23x35, convolution, bias, relu (dw specialised: rows shared across taps)",
     {P2, .in_channels = 4, .out_channels = 4, .groups = 4, .in_size = {23, 35}, .kernel_size = {5, 7},
      .stride = {2, 1}, .pad_before = {2, 3}, .pad_after = {1, 3}, .mode = CLCONV_MODE_CONV, .has_bias = true,
      .activation = {.kind = CLCONV_ACT_RELU}}},
    {"depthwise 1-D kernel 7 stride 2 over 53 (dw specialised, no H axis)",
     {.ndim = 1,
      .in_channels = 3,
      .out_channels = 3,
      .groups = 3,
      .in_size = {53},
      .kernel_size = {7},
      .stride = {2},
      .pad_before = {3},
      .pad_after = {2}}},
    {"depthwise 3x3x3 over 5x9x20, padded, stride 2,1,1 (dw: depth taps)",
     {.ndim = 3,
      .in_channels = 3,
      .out_channels = 3,
      .groups = 3,
      .in_size = {5, 9, 20},
      .kernel_size = {3, 3, 3},
      .stride = {2, 1, 1},
      .pad_before = {1, 1, 1},
      .pad_after = {1, 1, 1}}},
    {"depthwise 3x3 dilation 2, stride 3 over 17x40 (dw generic: shape from the arguments)",
     {P2, .in_channels = 3, .out_channels = 3, .groups = 3, .in_size = {17, 40}, .dilation = {2, 2}, .stride = {3, 3},
      .pad_before = {2, 2}, .pad_after = {2, 2}}},
};
#undef P2

static void test_hand_cases(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed();
  sweep_rng r = {seed};
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    /* exact integer sums only where the activation adds no rounding of its own */
    clconv_act_kind k = cases[i].d.activation.kind;
    bool exact_ok = k == CLCONV_ACT_IDENTITY || k == CLCONV_ACT_RELU;
    clconv_conv_desc d = with_algo(cases[i].d);
    int b = (sweep_check_conv(ctx, &d, &r, false, true, stderr, test_replay(seed)) != 0) +
            (exact_ok && sweep_check_conv(ctx, &d, &r, true, false, stderr, test_replay(seed)) != 0);
    if (b)
      fprintf(stderr, "  hand case \"%s\" failed\n", cases[i].name);
    bad += b;
  }
  assert_int_equal(bad, 0);
}

/* One case of a table of shapes, on a context of the profile TEST_CPU8 (whatever the device): the kernel
 * clconv_conv_create picks must be named want (or start with it: prefix), then the case runs against the reference;
 * returns 1 when it failed. */
static int named_kernel_case(clconv_context *ctx, const clconv_conv_desc *d, const char *want, bool prefix,
                             sweep_rng *r, uint64_t seed, const char *table, size_t i) {
  clconv_conv *op;
  assert_int_equal(clconv_conv_create(ctx, d, &op), CLCONV_OK);
  const char *got = clconv_conv_kernel(op);
  if ((prefix ? strncmp(got, want, strlen(want)) : strcmp(got, want)))
    fail_msg("%s case %zu: kernel %s, expected %s%s", table, i, got, want, prefix ? "..." : "");
  clconv_conv_destroy(op);
  int b = sweep_check_conv(ctx, d, r, false, true, stderr, test_replay(seed)) != 0;
  if (b)
    fprintf(stderr, "  %s case %zu failed\n", table, i);
  return b;
}

/* The wide kernel (few output or few input channels) and the tiled kernel reading a zero-padded copy of their input
 * (clconv_conv_kernel "+pad": where the windows reach into the padding often enough, conv.c: pad_pays and
 * tiled_pad_pays; tiled's copy pads W only) and reading the input with their own edge tests, each against the
 * reference: padding along every axis and along H alone, past the input's end only, strides and dilation, 1-D to
 * 3-D, groups, the rows-per-work-item form, batches, a residual, a 16-bit input (its float32 copy padded). The names
 * are the rules' for the profile TEST_CPU8, which the context assumes whatever the device; the direct algorithm
 * only. */
static void test_padded_copy(void **state) {
  (void)state;
  if (algo != CLCONV_ALGO_DIRECT)
    skip();
  static const struct {
    const char *kernel;
    clconv_conv_desc d;
  } padded[] = {
      {"wide 4x16+pad", /* 3 inputs: 12 x 40, the middle tile of three inside */
       {.ndim = 2,
        .batch = 2,
        .in_channels = 3,
        .out_channels = 16,
        .in_size = {12, 40},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1},
        .has_bias = true}},
      {"wide 4x16+pad", /* 1-D, dilation 2, padding 3 before and 5 after */
       {.ndim = 1,
        .in_channels = 2,
        .out_channels = 64,
        .in_size = {100},
        .kernel_size = {5},
        .dilation = {2},
        .pad_before = {3},
        .pad_after = {5},
        .mode = CLCONV_MODE_CONV}},
      {"wide 4x16+pad", /* 3-D, strides 2 along D and H, padding before D only */
       {.ndim = 3,
        .in_channels = 3,
        .out_channels = 8,
        .in_size = {5, 9, 20},
        .kernel_size = {3, 3, 3},
        .stride = {2, 2, 1},
        .pad_before = {1, 1, 1},
        .pad_after = {0, 1, 1}}},
      {"wide 4x16+pad", /* padding along H only; the last tile's vectors reach past the row */
       {.ndim = 2,
        .in_channels = 3,
        .out_channels = 16,
        .in_size = {20, 33},
        .kernel_size = {5, 3},
        .pad_before = {2, 0},
        .pad_after = {2, 0}}},
      {"wide 4x16+pad", /* two groups of 3 inputs */
       {.ndim = 2,
        .in_channels = 6,
        .out_channels = 32,
        .groups = 2,
        .in_size = {9, 17},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1}}},
      {"wide 2x16+pad", /* 2 outputs: two rows per work-item */
       {.ndim = 2,
        .in_channels = 5,
        .out_channels = 2,
        .in_size = {15, 30},
        .kernel_size = {7, 7},
        .pad_before = {3, 3},
        .pad_after = {3, 3},
        .has_bias = true}},
      {"wide 4x16", /* too little work per input element for a copy (4 x 9) */
       {.ndim = 2,
        .batch = 2,
        .in_channels = 6,
        .out_channels = 4,
        .in_size = {28, 28},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1}}},
      {"wide 6x16", /* no padding: no copy (LeNet C1) */
       {.ndim = 2, .in_channels = 3, .out_channels = 6, .in_size = {32, 32}, .kernel_size = {5, 5}, .has_bias = true}},
      {"tiled 32x3+pad", /* a 7 x 7 image in three tiles per row, 4 of the 9 (tile, tap) pairs in the padding */
       {.ndim = 2,
        .batch = 2,
        .in_channels = 16,
        .out_channels = 128,
        .in_size = {7, 7},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1},
        .has_bias = true,
        .has_residual = true}},
      {"tiled 32x3+pad", /* the same in float16: the copy widened and padded at once */
       {.ndim = 2,
        .in_channels = 16,
        .out_channels = 128,
        .in_size = {7, 7},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1},
        .dtype = CLCONV_F16}},
      {"tiled 32x3+pad", /* stride 2, more padding after W than before, a partial last tile */
       {.ndim = 2,
        .in_channels = 8,
        .out_channels = 128,
        .in_size = {5, 9},
        .kernel_size = {5, 5},
        .stride = {2, 2},
        .pad_before = {2, 1},
        .pad_after = {2, 2},
        .mode = CLCONV_MODE_CONV}},
      {"tiled 32x3+pad", /* 1-D, dilation 2, padding 4 each side, two groups */
       {.ndim = 1,
        .in_channels = 8,
        .out_channels = 512,
        .groups = 2,
        .in_size = {8},
        .kernel_size = {5},
        .dilation = {2},
        .pad_before = {4},
        .pad_after = {4}}},
      {"tiled 32x3+pad", /* 3-D */
       {.ndim = 3,
        .in_channels = 8,
        .out_channels = 64,
        .in_size = {3, 4, 6},
        .kernel_size = {3, 3, 3},
        .pad_before = {1, 1, 1},
        .pad_after = {1, 1, 1}}},
      {"tiled 32x3", /* 3 x 3 over 56 columns: too few of its taps reach the padding for a copy */
       {.ndim = 2,
        .in_channels = 8,
        .out_channels = 64,
        .in_size = {3, 56},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1}}},
  };
  clconv_context *cpu8 = test_profile_context(TEST_CPU8);
  uint64_t seed = test_seed() ^ 0x9AD;
  sweep_rng r = {seed};
  int bad = 0;
  for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++)
    bad += named_kernel_case(cpu8, &padded[i].d, padded[i].kernel, false, &r, seed, "padded-copy", i);
  clconv_context_destroy(cpu8);
  assert_int_equal(bad, 0);
}

/* The tiled kernel with its channel count compiled in (1 to 3 input channels per group and a kernel neither 1, 3
 * nor 5 wide: first layers' 4 x 4 to 11 x 11), each against the reference on shapes whose tiles reach the padding
 * and the rows' ends, with groups, dilation, convolution, bias, 1-D to 3-D. */
static void test_tiled_few_channels(void **state) {
  (void)state;
  if (algo != CLCONV_ALGO_DIRECT)
    skip();
  static const clconv_conv_desc few[] = {
      {.ndim = 2, /* the stem, small: 7 x 7 at stride 2, padding 3, partial tiles along W and channels */
       .in_channels = 3,
       .out_channels = 40,
       .in_size = {23, 37},
       .kernel_size = {7, 7},
       .stride = {2, 2},
       .pad_before = {3, 3},
       .pad_after = {3, 3},
       .has_bias = true},
      {.ndim = 1, /* one channel, 9 taps dilated 2, padding 4 before and 3 after, convolution */
       .batch = 2,
       .in_channels = 1,
       .out_channels = 8,
       .in_size = {70},
       .kernel_size = {9},
       .dilation = {2},
       .pad_before = {4},
       .pad_after = {3},
       .mode = CLCONV_MODE_CONV},
      {.ndim = 2, /* AlexNet's conv1 shape, small: 11 x 11 at stride 4, two images of 2 channels */
       .batch = 2,
       .in_channels = 2,
       .out_channels = 16,
       .in_size = {31, 47},
       .kernel_size = {11, 11},
       .stride = {4, 4}},
      {.ndim = 3, /* two groups of 3 channels, a 3 x 2 x 7 kernel, strides and padding per axis */
       .in_channels = 6,
       .out_channels = 8,
       .groups = 2,
       .in_size = {5, 9, 60},
       .kernel_size = {3, 2, 7},
       .stride = {1, 2, 2},
       .pad_before = {1, 0, 2},
       .pad_after = {0, 1, 4},
       .mode = CLCONV_MODE_CONV,
       .has_bias = true},
      {.ndim = 2, /* an even kernel, 4 x 4 at stride 2 */
       .in_channels = 3,
       .out_channels = 4,
       .in_size = {16, 64},
       .kernel_size = {4, 4},
       .stride = {2, 2},
       .pad_before = {1, 1},
       .pad_after = {1, 1}},
  };
  clconv_context *cpu8 = test_profile_context(TEST_CPU8);
  uint64_t seed = test_seed() ^ 0xC16;
  sweep_rng r = {seed};
  int bad = 0;
  for (size_t i = 0; i < sizeof few / sizeof few[0]; i++)
    bad += named_kernel_case(cpu8, &few[i], "tiled ", true, &r, seed, "few-channel tiled", i);
  clconv_context_destroy(cpu8);
  assert_int_equal(bad, 0);
}

/* The tiled kernel's stores on a 16-lane profile (AVX-512's 32-channel tiles, whatever the device): whole tiles of 7
 * or 8 positions transposed in registers into one row of outputs per channel, next to partial tiles along W and
 * along the channels, which store one output at a time, and rows narrower than 7 (tiles of their width); each shape
 * in float32 and float16 (rounded on the accumulators), without and with a (scaled) residual, against the
 * reference. */
static void test_tiled_vector_stores(void **state) {
  (void)state;
  if (algo != CLCONV_ALGO_DIRECT)
    skip();
  static const struct {
    const char *kernel;
    clconv_conv_desc d;
  } stores[] = {
      {"tiled 32x8", /* 1 x 1 over 7 x 8 (one row of 56: 8 positions on a tie with 7), 64 channels */
       {.ndim = 2, .in_channels = 40, .out_channels = 64, .in_size = {7, 8}, .kernel_size = {1, 1}, .has_bias = true}},
      {"tiled 32x7", /* rows of 14 (two tiles of 7), 48 channels: a whole block and a half one, convolution */
       {.ndim = 2,
        .batch = 2,
        .in_channels = 40,
        .out_channels = 48,
        .in_size = {9, 14},
        .kernel_size = {3, 3},
        .pad_before = {1, 1},
        .pad_after = {1, 1},
        .mode = CLCONV_MODE_CONV}},
      {"tiled 32x8", /* 1-D, 23 outputs: two whole tiles and one of 7 */
       {.ndim = 1, .in_channels = 32, .out_channels = 32, .in_size = {25}, .kernel_size = {3}, .has_bias = true}},
      {"tiled 32x1", /* a classifier: 1 x 1 output, the row's width, two images */
       {.ndim = 2, .batch = 2, .in_channels = 64, .out_channels = 48, .in_size = {1, 1}, .kernel_size = {1, 1}}},
      {"tiled 32x5", /* 5-wide rows */
       {.ndim = 2, .in_channels = 40, .out_channels = 48, .in_size = {7, 7}, .kernel_size = {3, 3}, .has_bias = true}},
  };
  const clconv_activation relu = {.kind = CLCONV_ACT_RELU},
                          clip = {.kind = CLCONV_ACT_CLIP, .alpha = -0.5f, .beta = 1.5f};
  clconv_context *cpu16 = test_profile_context(CLCONV_CLASS_CPU, 16);
  uint64_t seed = test_seed() ^ 0x5708E;
  sweep_rng r = {seed};
  int bad = 0;
  for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++)
    for (int v = 0; v < 4; v++) { /* float32, float16; without and with a residual */
      clconv_conv_desc d = stores[i].d;
      d.dtype = v < 2 ? CLCONV_F32 : CLCONV_F16;
      d.has_residual = v % 2;
      d.residual_scale = d.has_residual && i % 2 ? 0.5f : 0.0f;
      d.activation = (i + (size_t)v) % 2 ? clip : relu;
      bad += named_kernel_case(cpu16, &d, stores[i].kernel, false, &r, seed, "tiled stores", 4 * i + (size_t)v);
    }
  clconv_context_destroy(cpu16);
  assert_int_equal(bad, 0);
}

/* The tensor shapes of a descriptor and their element counts. */
typedef struct conv_shapes {
  uint32_t src[5], wei[5], dst[5], nd;
  size_t src_count, wei_count, dst_count;
} conv_shapes;

static conv_shapes conv_shapes_of(const clconv_conv_desc *d) {
  conv_shapes sh = {.nd = d->ndim + 2, .src_count = 1, .wei_count = 1, .dst_count = 1};
  assert_int_equal(clconv_conv_shapes(d, sh.src, sh.wei, sh.dst), CLCONV_OK);
  for (uint32_t a = 0; a < sh.nd; a++) {
    sh.src_count *= sh.src[a];
    sh.wei_count *= sh.wei[a];
    sh.dst_count *= sh.dst[a];
  }
  return sh;
}

/* One descriptor's random host data, its device tensors and the check of a device result against the reference,
 * for the tests below that run their own op. Weights are drawn from [wlo, 1]. */
typedef struct conv_data {
  conv_shapes sh;
  float *x, *w, *b, *z, *got, *ref, *mag; /* z: the residual */
  clconv_tensor *tx, *tw, *tb, *tz, *ty;
} conv_data;

static conv_data conv_data_fill(const clconv_conv_desc *d, sweep_rng *r, float wlo) {
  conv_data cd = {.sh = conv_shapes_of(d)};
  size_t dc = cd.sh.dst_count;
  cd.x = test_alloc(cd.sh.src_count);
  cd.w = test_alloc(cd.sh.wei_count);
  cd.b = test_alloc(cd.sh.dst[1]);
  cd.z = test_alloc(dc);
  cd.got = test_alloc(dc);
  cd.ref = test_alloc(dc);
  cd.mag = test_alloc(dc);
  sweep_fill(r, cd.x, cd.sh.src_count, -1, 1);
  sweep_fill(r, cd.w, cd.sh.wei_count, wlo, 1);
  sweep_fill(r, cd.b, cd.sh.dst[1], -1, 1);
  sweep_fill(r, cd.z, dc, -1, 1);
  assert_int_equal(sweep_round(d->dtype, cd.x, cd.sh.src_count), CLCONV_OK); /* values of the type */
  assert_int_equal(sweep_round(d->dtype, cd.w, cd.sh.wei_count), CLCONV_OK);
  assert_int_equal(sweep_round(d->dtype, cd.b, cd.sh.dst[1]), CLCONV_OK);
  assert_int_equal(sweep_round(d->dtype, cd.z, dc), CLCONV_OK);
  return cd;
}

static void conv_data_upload(clconv_context *ctx, const clconv_conv_desc *d, conv_data *cd) {
  const conv_shapes *sh = &cd->sh;
  cd->tx = upload_as(ctx, d->dtype, sh->nd, sh->src, cd->x);
  cd->tw = upload_as(ctx, d->dtype, sh->nd, sh->wei, cd->w);
  cd->tb = d->has_bias ? upload_as(ctx, d->dtype, 1, &sh->dst[1], cd->b) : NULL;
  cd->tz = d->has_residual ? upload_as(ctx, d->dtype, sh->nd, sh->dst, cd->z) : NULL;
  cd->ty = upload_as(ctx, d->dtype, sh->nd, sh->dst, NULL);
}

/* Reads ty back and compares it with the reference; 1 (and a message naming what, the case and the seed) on a
 * mismatch. */
static int conv_data_check(const clconv_conv_desc *d, conv_data *cd, const char *what) {
  size_t dc = cd->sh.dst_count;
  download(cd->ty, cd->got);
  assert_int_equal(
      clconv_ref_conv(d, cd->x, cd->w, d->has_bias ? cd->b : NULL, d->has_residual ? cd->z : NULL, cd->ref, cd->mag),
      CLCONV_OK);
  clconv_tolerance tol;
  clconv_compare_result res;
  assert_int_equal(clconv_conv_tolerance(d, &tol), CLCONV_OK);
  assert_int_equal(clconv_compare(cd->got, cd->ref, cd->mag, dc, &tol, &res), CLCONV_OK);
  if (!res.mismatches)
    return 0;
  char cfg[512];
  sweep_conv_str(d, cfg, sizeof cfg);
  fprintf(stderr, "%s MISMATCH (%s): %s: element %zu got %g ref %g\n", what, test_replay(test_seed()), cfg,
          res.first_mismatch, (double)cd->got[res.first_mismatch], (double)cd->ref[res.first_mismatch]);
  return 1;
}

static void conv_data_free(conv_data *cd) {
  clconv_tensor_destroy(cd->tx);
  clconv_tensor_destroy(cd->tw);
  clconv_tensor_destroy(cd->tb);
  clconv_tensor_destroy(cd->tz);
  clconv_tensor_destroy(cd->ty);
  free(cd->x);
  free(cd->w);
  free(cd->b);
  free(cd->z);
  free(cd->got);
  free(cd->ref);
  free(cd->mag);
}

/* Non-finite inputs: an inf or NaN must reach exactly the outputs whose windows read it, in every kernel variant
 * and element type (padding is selected, never multiplied: inf * 0 would be NaN). */
static void test_non_finite_inputs(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x1AF;
  sweep_rng r = {seed};
  const float specials[3] = {INFINITY, -INFINITY, NAN};
  uint32_t n = test_count(500) / 5, bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    clconv_conv_desc d;
    sweep_conv_desc(&r, &d, 0, false);
    d.algorithm = algo;
    d.dtype = TEST_DTYPE(i);
    /* no zero weight: inf * 0 = NaN would be right, but hides the sign */
    conv_data cd = conv_data_fill(&d, &r, 0.25f);
    size_t sc = cd.sh.src_count, wdt = cd.sh.src[cd.sh.nd - 1];
    for (int s = 0; s < 3; s++) {
      /* at a row's first or last element, where edge tiles read, or anywhere */
      size_t at = sweep_int(&r, 0, (uint32_t)sc - 1);
      if (s == 0)
        at -= at % wdt;
      if (s == 1)
        at += wdt - 1 - at % wdt;
      cd.x[at] = specials[sweep_int(&r, 0, 2)];
    }
    conv_data_upload(ctx, &d, &cd);
    assert_int_equal(clconv_conv_forward(ctx, &d, cd.tx, cd.tw, cd.tb, cd.tz, cd.ty), CLCONV_OK);
    bad += (uint32_t)conv_data_check(&d, &cd, "non-finite");
    conv_data_free(&cd);
  }
  print_message("conv non-finite inputs: %u configurations, %u failed\n", n, bad);
  assert_int_equal(bad, 0);
}

/* clconv_conv_set_weights: runs with weights = NULL give the same bits as runs with the weights, even after the
 * caller's tensors are overwritten; every kernel variant, through random shapes. */
static void test_set_weights(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x5E7;
  sweep_rng r = {seed};
  uint32_t n = test_count(500) / 5;
  for (uint32_t i = 0; i < n; i++) {
    clconv_conv_desc d;
    sweep_conv_desc(&r, &d, 0, false);
    d.algorithm = algo;
    conv_data cd = conv_data_fill(&d, &r, -1);
    conv_data_upload(ctx, &d, &cd);
    size_t wc = cd.sh.wei_count, dc = cd.sh.dst_count;
    uint32_t k = cd.sh.dst[1];
    float *zeros = test_alloc(wc > k ? wc : k);
    memset(zeros, 0, (wc > k ? wc : k) * sizeof *zeros);
    clconv_tensor *tx = cd.tx, *tw = cd.tw, *tb = cd.tb, *tz = cd.tz, *ty = cd.ty;
    clconv_conv *op;
    assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
    assert_int_equal(clconv_conv_run(op, tx, NULL, NULL, tz, ty), CLCONV_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clconv_last_error(ctx), "none were set with conv_set_weights"));
    assert_int_equal(clconv_conv_run(op, tx, tw, tb, tz, ty), CLCONV_OK);
    download(ty, cd.got); /* with explicit weights */
    assert_int_equal(clconv_conv_set_weights(op, tw, tb), CLCONV_OK);
    assert_int_equal(clconv_tensor_write(tw, zeros, wc), CLCONV_OK); /* the set copy must not see this */
    if (tb)
      assert_int_equal(clconv_tensor_write(tb, zeros, k), CLCONV_OK);
    assert_int_equal(clconv_conv_run(op, tx, NULL, NULL, tz, ty), CLCONV_OK);
    download(ty, cd.ref); /* with the set weights */
    if (memcmp(cd.got, cd.ref, dc * sizeof *cd.got)) {
      char cfg[512];
      sweep_conv_str(&d, cfg, sizeof cfg);
      fail_msg("set weights differ from explicit weights (CLCONV_TEST_SEED=%llu): %s", (unsigned long long)test_seed(),
               cfg);
    }
    if (tb) {
      assert_int_equal(clconv_conv_run(op, tx, NULL, tb, tz, ty), CLCONV_ERR_INVALID_ARGUMENT);
      assert_non_null(strstr(clconv_last_error(ctx), "bias given without weights"));
    }
    uint32_t one = 1;
    clconv_tensor *tbad = upload(ctx, 1, &one, NULL);
    assert_int_equal(clconv_conv_set_weights(op, tbad, tb), CLCONV_ERR_SHAPE_MISMATCH);
    clconv_tensor_destroy(tbad);
    clconv_conv_destroy(op);
    conv_data_free(&cd);
    free(zeros);
  }
  print_message("conv set_weights: %u configurations, identical to runs with explicit weights\n", n);
}

/* Integer data whose every partial sum is exact in fp32: the device must equal the reference bit for bit, in every
 * element type (both round the same exact sum to it). */
static void test_exact_sweep(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0xE7AC7;
  sweep_rng r = {seed};
  uint32_t n = test_count(200), bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    clconv_conv_desc d;
    sweep_conv_desc(&r, &d, 0, false);
    d.algorithm = algo;
    d.dtype = TEST_DTYPE(i);
    bad += sweep_check_conv(ctx, &d, &r, true, false, stderr, test_replay(seed)) != 0;
  }
  print_message("conv exact sweep: %u configurations, %u failed (seed %llu)\n", n, bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

/* Random floats, per-element tolerance, and in every trial the mutation self-test of the comparison; the element
 * types in turn. */
static void test_random_sweep(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed();
  sweep_rng r = {seed};
  uint32_t n = test_count(500), bad = 0, per_ndim[4] = {0};
  for (uint32_t i = 0; i < n; i++) {
    clconv_conv_desc d;
    sweep_conv_desc(&r, &d, 0, false);
    d.algorithm = algo;
    d.dtype = TEST_DTYPE(i);
    per_ndim[d.ndim]++;
    bad += sweep_check_conv(ctx, &d, &r, false, true, stderr, test_replay(seed)) != 0;
  }
  print_message("conv random sweep: %u configurations (1D %u, 2D %u, 3D %u), %u failed (seed %llu)\n", n, per_ndim[1],
                per_ndim[2], per_ndim[3], bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

/* The gemm workspace: its size query, a host-owned buffer that holds one or two images so that the batch runs in
 * chunks (results checked against the reference), and the misuse errors. Runs under either algorithm argument. */
static void test_gemm_workspace(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x3C;
  sweep_rng r = {seed};
  cl_context cl;
  cl_device_id dev;
  assert_int_equal(clconv_context_get_cl(ctx, &cl, &dev), CLCONV_OK);
  uint32_t n = test_count(500) / 10, bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    clconv_conv_desc d;
    sweep_conv_desc(&r, &d, 0, false);
    d.batch = 3 + i % 3;
    d.algorithm = CLCONV_ALGO_GEMM;
    conv_shapes sh = conv_shapes_of(&d);
    clconv_conv *op;
    assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
    assert_int_equal(clconv_conv_algorithm(op), CLCONV_ALGO_GEMM);
    size_t min_bytes, full_bytes;
    assert_int_equal(clconv_conv_workspace_size(op, &min_bytes, &full_bytes), CLCONV_OK);
    assert_true(min_bytes >= sh.dst_count / d.batch * sizeof(float));
    /* one image's share and a fixed part (weights, alignment) */
    assert_true(full_bytes > min_bytes && (full_bytes - min_bytes) % (d.batch - 1) == 0);
    size_t each = (full_bytes - min_bytes) / (d.batch - 1);
    assert_true(each <= min_bytes);
    /* chunks of 1 image, then 2 (the last chunk partial when the batch is odd) */
    size_t images = 1 + i % 2, bytes = min_bytes + (images - 1) * each + each / 2;
    cl_int err;
    cl_mem ws = clCreateBuffer(cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    assert_int_equal(clconv_conv_set_workspace(op, ws, min_bytes - 1), CLCONV_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clconv_last_error(ctx), "must be at least"));
    assert_int_equal(clconv_conv_set_workspace(op, ws, bytes + 1), CLCONV_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clconv_last_error(ctx), "exceeds the buffer"));
    assert_int_equal(clconv_conv_set_workspace(op, ws, bytes), CLCONV_OK);
    clReleaseMemObject(ws); /* the op holds its own reference */
    conv_data cd = conv_data_fill(&d, &r, -1);
    conv_data_upload(ctx, &d, &cd);
    assert_int_equal(clconv_conv_run(op, cd.tx, cd.tw, cd.tb, cd.tz, cd.ty), CLCONV_OK);
    char what[64];
    snprintf(what, sizeof what, "gemm in chunks of %zu images", images);
    bad += (uint32_t)conv_data_check(&d, &cd, what);
    assert_int_equal(clconv_conv_set_workspace(op, NULL, 0), CLCONV_OK); /* back to the context's */
    assert_int_equal(clconv_conv_run(op, cd.tx, cd.tw, cd.tb, cd.tz, cd.ty), CLCONV_OK);
    clconv_conv_destroy(op);
    conv_data_free(&cd);
  }
  print_message("gemm workspace: %u batched configurations in chunks of 1 or 2 images, %u failed\n", n, bad);
  assert_int_equal(bad, 0);

  /* a direct op has no workspace; a buffer of another OpenCL context is refused */
  clconv_conv_desc d = {.ndim = 1,
                        .in_channels = 2,
                        .out_channels = 3,
                        .in_size = {9},
                        .kernel_size = {3},
                        .algorithm = CLCONV_ALGO_DIRECT};
  clconv_conv *op;
  size_t min_bytes, full_bytes;
  assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
  assert_int_equal(clconv_conv_workspace_size(op, &min_bytes, &full_bytes), CLCONV_OK);
  assert_true(min_bytes == 0 && full_bytes == 0);
  assert_int_equal(clconv_conv_set_workspace(op, NULL, 0), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(ctx), "needs no workspace"));
  clconv_conv_destroy(op);
  d.algorithm = CLCONV_ALGO_GEMM;
  assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
  cl_int err;
  cl_context other = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
  assert_int_equal(err, CL_SUCCESS);
  cl_mem foreign = clCreateBuffer(other, CL_MEM_READ_WRITE, 4096, NULL, &err);
  assert_int_equal(err, CL_SUCCESS);
  assert_int_equal(clconv_conv_set_workspace(op, foreign, 4096), CLCONV_ERR_WRONG_CONTEXT);
  clReleaseMemObject(foreign);
  clReleaseContext(other);
  d.algorithm = (clconv_conv_algo)7;
  assert_int_equal(clconv_conv_validate(&d), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "algorithm = 7"));
  clconv_conv_destroy(op);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "gemm") == 0)
    algo = CLCONV_ALGO_GEMM;
  else if (argc > 1 && strcmp(argv[1], "direct") != 0) {
    fprintf(stderr, "usage: %s [direct | gemm]\n", argv[0]);
    return 2;
  }
  print_message("algorithm: %s\n", clconv_algo_name(algo));
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flip_1d),
      cmocka_unit_test(test_flip_2d_3d),
      cmocka_unit_test(test_padding_bias_relu),
      cmocka_unit_test(test_hand_cases),
      cmocka_unit_test(test_set_weights),
      cmocka_unit_test(test_non_finite_inputs),
      cmocka_unit_test(test_exact_sweep),
      cmocka_unit_test(test_random_sweep),
      cmocka_unit_test(test_gemm_workspace),
      cmocka_unit_test(test_padded_copy),
      cmocka_unit_test(test_tiled_few_channels),
      cmocka_unit_test(test_tiled_vector_stores),
  };
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
