/* Descriptor helpers and validation, the compare helper, names and parsing: no device needed. */
#include "common.h"

#include <math.h>
#include <string.h>

/* ---- formulas from the notes ---------------------------------------------------------------------------- */
static void test_output_size_formula(void **state) {
  (void)state;
  /* w_out = (w_in - w_k + 2p) / s + 1, and with dilation d: floor((in + pb + pa - d(k-1) - 1) / s) + 1 */
  static const struct {
    uint32_t in, k, s, d, pb, pa, want;
  } rows[] = {
      {32, 5, 1, 1, 0, 0, 28},                            /* LeNet C1 */
      {14, 5, 1, 1, 0, 0, 10},                            /* LeNet C3 */
      {28, 3, 1, 1, 1, 1, 28},                            /* p = floor(k/2) keeps the size */
      {224, 7, 2, 1, 3, 3, 112},                          /* ResNet stem */
      {56, 3, 2, 1, 1, 1, 28},   {56, 3, 1, 2, 2, 2, 56}, /* dilation 2 with p 2 */
      {7, 3, 3, 1, 0, 0, 2},                              /* floor */
      {5, 5, 1, 1, 0, 0, 1},                              /* kernel as large as the input */
      {3, 5, 1, 1, 1, 1, 1},                              /* kernel as large as the padded input */
      {10, 4, 1, 1, 1, 2, 10},                            /* asymmetric, even kernel */
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    clconv_conv_desc d = {.ndim = 1,
                          .in_channels = 1,
                          .out_channels = 1,
                          .in_size = {rows[i].in},
                          .kernel_size = {rows[i].k},
                          .stride = {rows[i].s},
                          .dilation = {rows[i].d},
                          .pad_before = {rows[i].pb},
                          .pad_after = {rows[i].pa}};
    uint32_t out[3];
    assert_int_equal(clconv_conv_output_size(&d, out), CLCONV_OK);
    assert_int_equal(out[0], rows[i].want);
  }
}

static void test_same_padding(void **state) {
  (void)state;
  static const struct {
    uint32_t in, k, s, d, pb, pa;
  } rows[] = {
      {28, 3, 1, 1, 1, 1},  {28, 5, 1, 1, 2, 2}, {28, 7, 1, 1, 3, 3}, /* p = floor(k/2) */
      {28, 1, 1, 1, 0, 0},  {28, 4, 1, 1, 1, 2},                      /* even k: the extra one after */
      {28, 3, 1, 2, 2, 2},                                            /* dilation widens the kernel */
      {224, 7, 2, 1, 2, 3},                                           /* stride 2: out = ceil(in/2) */
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    clconv_conv_desc d = {.ndim = 2,
                          .in_channels = 1,
                          .out_channels = 1,
                          .in_size = {rows[i].in, rows[i].in},
                          .kernel_size = {rows[i].k, rows[i].k},
                          .stride = {rows[i].s, rows[i].s},
                          .dilation = {rows[i].d, rows[i].d}};
    assert_int_equal(clconv_conv_same_padding(&d), CLCONV_OK);
    assert_int_equal(d.pad_before[0], rows[i].pb);
    assert_int_equal(d.pad_after[1], rows[i].pa);
    uint32_t out[3];
    assert_int_equal(clconv_conv_output_size(&d, out), CLCONV_OK);
    assert_int_equal(out[0], (rows[i].in + rows[i].s - 1) / rows[i].s);
  }
}

static void test_param_count(void **state) {
  (void)state;
  /* |theta| = w_k h_k d_in d_out + d_out: LeNet's two conv layers. */
  clconv_conv_desc c1 = {
      .ndim = 2, .in_channels = 3, .out_channels = 6, .in_size = {32, 32}, .kernel_size = {5, 5}, .has_bias = true};
  clconv_conv_desc c3 = {
      .ndim = 2, .in_channels = 6, .out_channels = 16, .in_size = {14, 14}, .kernel_size = {5, 5}, .has_bias = true};
  uint64_t n;
  assert_int_equal(clconv_conv_param_count(&c1, &n), CLCONV_OK);
  assert_int_equal(n, 456);
  assert_int_equal(clconv_conv_param_count(&c3, &n), CLCONV_OK);
  assert_int_equal(n, 2416);
  c3.has_bias = false;
  assert_int_equal(clconv_conv_param_count(&c3, &n), CLCONV_OK);
  assert_int_equal(n, 2400);
  /* Groups divide the per-kernel depth; the count does not depend on the input size. */
  clconv_conv_desc dw = {.ndim = 2,
                         .in_channels = 32,
                         .out_channels = 32,
                         .groups = 32,
                         .in_size = {100, 7},
                         .kernel_size = {3, 3},
                         .has_bias = true};
  assert_int_equal(clconv_conv_param_count(&dw, &n), CLCONV_OK);
  assert_int_equal(n, 9 * 32 + 32);
}

static void test_lenet_shapes(void **state) {
  (void)state;
  /* 32x32x3 -> conv 5x5x6 -> 28x28x6 -> pool 2x2 s2 -> 14x14x6 -> conv 5x5x16 -> 10x10x16 -> pool -> 5x5x16 */
  clconv_layer_desc l1 = {.conv = {.ndim = 2,
                                   .in_channels = 3,
                                   .out_channels = 6,
                                   .in_size = {32, 32},
                                   .kernel_size = {5, 5},
                                   .has_bias = true,
                                   .activation = {.kind = CLCONV_ACT_RELU}},
                          .pool = {.window = {2, 2}, .stride = {2, 2}}};
  uint32_t s[5], w[5], d[5];
  assert_int_equal(clconv_layer_shapes(&l1, s, w, d), CLCONV_OK);
  uint32_t ws[] = {6, 3, 5, 5}, ds[] = {1, 6, 14, 14};
  assert_memory_equal(w, ws, sizeof ws);
  assert_memory_equal(d, ds, sizeof ds);
  clconv_layer_desc l2 = l1;
  l2.conv.in_channels = 6;
  l2.conv.out_channels = 16;
  l2.conv.in_size[0] = l2.conv.in_size[1] = 14;
  assert_int_equal(clconv_layer_shapes(&l2, s, w, d), CLCONV_OK);
  uint32_t ds2[] = {1, 16, 5, 5};
  assert_memory_equal(d, ds2, sizeof ds2);
}

static void test_pool_output_size(void **state) {
  (void)state;
  static const struct {
    uint32_t in, win, s, pb, pa;
    bool ceil;
    uint32_t want;
  } rows[] = {
      {7, 3, 2, 0, 0, false, 3}, /* the notes' max pooling, width 3 stride 2 */
      {4, 2, 2, 0, 0, false, 2}, /* 2x2 stride 2 halves */
      {112, 3, 2, 1, 1, false, 56}, {6, 3, 2, 0, 0, false, 2},
      {6, 3, 2, 0, 0, true, 3},  /* ceil keeps the partial window */
      {5, 2, 2, 1, 1, true, 3},  /* ceil: the 4th window would start in the right padding, dropped */
      {4, 2, 0, 0, 0, false, 2}, /* stride 0 = window */
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    clconv_pool_desc d = {.ndim = 1,
                          .channels = 1,
                          .in_size = {rows[i].in},
                          .window = {rows[i].win},
                          .stride = {rows[i].s},
                          .pad_before = {rows[i].pb},
                          .pad_after = {rows[i].pa},
                          .ceil_mode = rows[i].ceil};
    uint32_t out[3];
    assert_int_equal(clconv_pool_output_size(&d, out), CLCONV_OK);
    assert_int_equal(out[0], rows[i].want);
  }
  clconv_pool_desc g = {.ndim = 3, .channels = 2, .in_size = {3, 4, 5}, .global = true};
  uint32_t out[3];
  assert_int_equal(clconv_pool_output_size(&g, out), CLCONV_OK);
  assert_true(out[0] == 1 && out[1] == 1 && out[2] == 1);
}

/* ---- validation errors: a table, each row one field off ----------------------------------------------------- */
#define BASE .ndim = 2, .in_channels = 4, .out_channels = 4, .in_size = {8, 8}
static const struct bad_conv {
  const char *name;
  clconv_conv_desc d;
  clconv_status want;
  const char *text;
} bad_conv[] = {
    {"ndim 0",
     {.in_channels = 4, .out_channels = 4, .in_size = {8}, .kernel_size = {3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "ndim = 0"},
    {"ndim 4", {.ndim = 4, .in_channels = 4, .out_channels = 4}, CLCONV_ERR_INVALID_ARGUMENT, "ndim = 4"},
    {"zero kernel", {BASE, .kernel_size = {0, 3}}, CLCONV_ERR_INVALID_ARGUMENT, "kernel_size[0] = 0"},
    {"zero in_size",
     {.ndim = 2, .in_channels = 4, .out_channels = 4, .in_size = {8, 0}, .kernel_size = {3, 3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "in_size[1] = 0"},
    {"zero channels",
     {.ndim = 1, .out_channels = 4, .in_size = {8}, .kernel_size = {3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "in_channels = 0"},
    {"zero out channels",
     {.ndim = 1, .in_channels = 4, .in_size = {8}, .kernel_size = {3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "out_channels = 0"},
    {"groups do not divide C",
     {.ndim = 1, .in_channels = 4, .out_channels = 6, .groups = 3, .in_size = {9}, .kernel_size = {3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "groups = 3"},
    {"groups do not divide K",
     {.ndim = 1, .in_channels = 6, .out_channels = 4, .groups = 3, .in_size = {9}, .kernel_size = {3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "groups = 3"},
    {"negative stride",
     {BASE, .kernel_size = {3, 3}, .stride = {1, (uint32_t)-2}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "stride[1] = 4294967294"},
    {"negative dilation",
     {BASE, .kernel_size = {3, 3}, .dilation = {(uint32_t)-1, 1}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "dilation[0]"},
    {"negative pad",
     {BASE, .kernel_size = {3, 3}, .pad_before = {(uint32_t)-1, 0}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "pad_before[0]"},
    {"negative pad after",
     {BASE, .kernel_size = {3, 3}, .pad_after = {0, (uint32_t)-3}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "pad_after[1]"},
    {"kernel larger than padded input",
     {BASE, .kernel_size = {3, 11}, .pad_before = {0, 1}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "exceeds padded input 9"},
    {"dilated kernel too large",
     {BASE, .kernel_size = {3, 3}, .dilation = {4, 1}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "dilated kernel 9"},
    {"value in unused axis", {BASE, .kernel_size = {3, 3, 3}}, CLCONV_ERR_INVALID_ARGUMENT, "kernel_size[2] = 3"},
    {"bad mode", {BASE, .kernel_size = {3, 3}, .mode = (clconv_conv_mode)7}, CLCONV_ERR_INVALID_ARGUMENT, "mode = 7"},
    {"bad activation",
     {BASE, .kernel_size = {3, 3}, .activation = {(clconv_act_kind)42}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "activation kind = 42"},
    {"clip bounds reversed",
     {BASE, .kernel_size = {3, 3}, .activation = {.kind = CLCONV_ACT_CLIP, .alpha = 1.0f, .beta = -1.0f}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "clip bounds"},
    {"non-finite alpha",
     {BASE, .kernel_size = {3, 3}, .activation = {.kind = CLCONV_ACT_LEAKY_RELU, .alpha = INFINITY}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "must be finite"},
    {"negative batch", {BASE, .batch = (uint32_t)-1, .kernel_size = {3, 3}}, CLCONV_ERR_INVALID_ARGUMENT, "batch"},
    {"residual scale without residual",
     {BASE, .kernel_size = {3, 3}, .residual_scale = 2.0f},
     CLCONV_ERR_INVALID_ARGUMENT,
     "residual_scale = 2 without has_residual"},
    {"non-finite residual scale",
     {BASE, .kernel_size = {3, 3}, .has_residual = true, .residual_scale = NAN},
     CLCONV_ERR_INVALID_ARGUMENT,
     "residual_scale = nan, must be finite"},
    {"size overflow",
     {.ndim = 3,
      .batch = 0x7fffffff,
      .in_channels = 0x7fffffff,
      .out_channels = 1,
      .in_size = {0x7fffffff, 0x7fffffff, 0x7fffffff},
      .kernel_size = {1, 1, 1}},
     CLCONV_ERR_SIZE_OVERFLOW,
     "overflow"},
    {"output size past 2^31 - 1 (padding on both sides)",
     {.ndim = 1,
      .in_channels = 1,
      .out_channels = 1,
      .in_size = {0x7fffffff},
      .kernel_size = {1},
      .pad_before = {0x7fffffff},
      .pad_after = {0x7fffffff}},
     CLCONV_ERR_SIZE_OVERFLOW,
     "output size 6442450941 exceeds 2147483647"},
};
#undef BASE

static void test_conv_validation_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_conv / sizeof bad_conv[0]; i++) {
    clconv_status s = clconv_conv_validate(&bad_conv[i].d);
    if (s != bad_conv[i].want || !strstr(clconv_last_error(NULL), bad_conv[i].text))
      fail_msg("%s: status %d (%s), message \"%s\"; want %d and \"%s\"", bad_conv[i].name, s, clconv_status_string(s),
               clconv_last_error(NULL), bad_conv[i].want, bad_conv[i].text);
  }
  assert_int_equal(clconv_conv_validate(NULL), CLCONV_ERR_INVALID_ARGUMENT);
  uint32_t out[3];
  assert_int_equal(clconv_conv_output_size(&bad_conv[0].d, NULL), CLCONV_ERR_INVALID_ARGUMENT);
  assert_int_equal(clconv_conv_output_size(NULL, out), CLCONV_ERR_INVALID_ARGUMENT);
  assert_int_equal(clconv_conv_param_count(&bad_conv[2].d, &(uint64_t){0}), CLCONV_ERR_INVALID_ARGUMENT);
  assert_int_equal(clconv_conv_same_padding(NULL), CLCONV_ERR_INVALID_ARGUMENT);
}

static const struct bad_pool {
  const char *name;
  clconv_pool_desc d;
  clconv_status want;
  const char *text;
} bad_pool[] = {
    {"ndim 0", {.channels = 1, .in_size = {4}, .window = {2}}, CLCONV_ERR_INVALID_ARGUMENT, "ndim = 0"},
    {"zero channels", {.ndim = 1, .in_size = {4}, .window = {2}}, CLCONV_ERR_INVALID_ARGUMENT, "channels = 0"},
    {"zero window",
     {.ndim = 2, .channels = 1, .in_size = {4, 4}, .window = {2, 0}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "window[1] = 0"},
    {"window larger than padded input",
     {.ndim = 1, .channels = 1, .in_size = {3}, .window = {5}, .pad_before = {1}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "exceeds padded input 4"},
    {"pad as wide as the window",
     {.ndim = 1, .channels = 1, .in_size = {8}, .window = {2}, .pad_before = {2}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "must be < window = 2"},
    {"negative stride",
     {.ndim = 1, .channels = 1, .in_size = {8}, .window = {2}, .stride = {(uint32_t)-1}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "stride[0]"},
    {"bad kind",
     {.ndim = 1, .channels = 1, .in_size = {8}, .window = {2}, .kind = (clconv_pool_kind)3},
     CLCONV_ERR_INVALID_ARGUMENT,
     "kind = 3"},
    {"global with a window",
     {.ndim = 1, .channels = 1, .in_size = {8}, .window = {2}, .global = true},
     CLCONV_ERR_INVALID_ARGUMENT,
     "global pooling"},
    {"value in unused axis",
     {.ndim = 1, .channels = 1, .in_size = {8, 8}, .window = {2}},
     CLCONV_ERR_INVALID_ARGUMENT,
     "in_size[1] = 8"},
    {"output size past 2^31 - 1",
     {.ndim = 1,
      .channels = 1,
      .in_size = {0x7fffffff},
      .window = {2},
      .stride = {1},
      .pad_before = {1},
      .pad_after = {1}},
     CLCONV_ERR_SIZE_OVERFLOW,
     "output size 2147483648 exceeds 2147483647"},
};

static void test_pool_validation_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_pool / sizeof bad_pool[0]; i++) {
    clconv_status s = clconv_pool_validate(&bad_pool[i].d);
    if (s != bad_pool[i].want || !strstr(clconv_last_error(NULL), bad_pool[i].text))
      fail_msg("%s: status %d, message \"%s\"; want %d and \"%s\"", bad_pool[i].name, s, clconv_last_error(NULL),
               bad_pool[i].want, bad_pool[i].text);
  }
  /* A layer's pool takes its input shape from the conv; a contradicting one is rejected by name. */
  clconv_layer_desc l = {
      .conv = {.ndim = 2, .in_channels = 1, .out_channels = 3, .in_size = {8, 8}, .kernel_size = {3, 3}},
      .pool = {.channels = 4, .window = {2, 2}}};
  assert_int_equal(clconv_layer_validate(&l), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "pool.channels = 4"));
  l.pool.channels = 0;
  l.pool.in_size[0] = 5;
  assert_int_equal(clconv_layer_validate(&l), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "pool.in_size[0] = 5, conv output is 6"));
  l.pool.in_size[0] = 6;
  assert_int_equal(clconv_layer_validate(&l), CLCONV_OK);
}

/* ---- activations: names, parsing ----------------------------------------------------------------------------- */
static void test_act_parse(void **state) {
  (void)state;
  clconv_activation a;
  for (int k = 0; k < CLCONV_ACT_COUNT; k++) {
    if (k == CLCONV_ACT_CLIP)
      continue;
    assert_int_equal(clconv_act_parse(clconv_act_name((clconv_act_kind)k), &a), CLCONV_OK);
    assert_int_equal(a.kind, k);
  }
  assert_int_equal(clconv_act_parse("leaky_relu:0.1", &a), CLCONV_OK);
  assert_true(a.kind == CLCONV_ACT_LEAKY_RELU && a.alpha == 0.1f);
  assert_int_equal(clconv_act_parse("clip:-1,2.5", &a), CLCONV_OK);
  assert_true(a.kind == CLCONV_ACT_CLIP && a.alpha == -1.0f && a.beta == 2.5f);
  assert_int_equal(clconv_act_parse("swish:0.5", &a), CLCONV_OK);
  assert_true(a.kind == CLCONV_ACT_SWISH && a.alpha == 0.5f);
  static const struct {
    const char *text, *msg;
  } bad[] = {{"mish", "unknown activation \"mish\""},
             {"relu:1", "takes no parameter"},
             {"gelu:1", "takes no parameter"},
             {"leaky_relu:abc", "not a finite number"},
             {"elu:", "not a finite number"},
             {"clip", "clip needs its bounds"},
             {"clip:1", "two bounds"},
             {"clip:2,1", "clip bounds"},
             {"leaky_relu:1e99", "not a finite number"},
             {"", "unknown activation"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    a.kind = CLCONV_ACT_TANH;
    assert_int_equal(clconv_act_parse(bad[i].text, &a), CLCONV_ERR_INVALID_ARGUMENT);
    if (!strstr(clconv_last_error(NULL), bad[i].msg))
      fail_msg("\"%s\": message \"%s\", want \"%s\"", bad[i].text, clconv_last_error(NULL), bad[i].msg);
    assert_int_equal(a.kind, CLCONV_ACT_TANH); /* untouched on error */
  }
  assert_null(clconv_act_name((clconv_act_kind)CLCONV_ACT_COUNT));
}

/* ---- the compare helper ----------------------------------------------------------------------------------- */
static void test_compare(void **state) {
  (void)state;
  float ref[] = {1.0f, -2.0f, 0.0f, NAN, INFINITY, 3.0f};
  float got[] = {1.0f, -2.0f, 0.0f, NAN, INFINITY, 3.0f};
  float mag[] = {1.0f, 2.0f, 0.0f, 0.0f, 0.0f, 100.0f};
  clconv_compare_result res;
  assert_int_equal(clconv_compare(got, ref, NULL, 6, NULL, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 0);
  assert_int_equal(res.first_mismatch, 6);
  /* one ulp off 3.0 (2^-22): over an exact comparison, within c|r|u = 4*3*2^-24 */
  got[5] = nextafterf(3.0f, 4.0f);
  assert_int_equal(clconv_compare(got, ref, NULL, 6, NULL, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 1);
  assert_int_equal(res.first_mismatch, 5);
  assert_int_equal(res.worst_index, 5);
  clconv_tolerance tol = {.reduction_len = 0};
  assert_int_equal(clconv_compare(got, ref, mag, 6, &tol, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 0);
  assert_true(res.worst_ratio > 0.0 && res.worst_ratio <= 1.0);
  /* 0.001 off: beyond u (4|r| + min(100, 80) * 100) = 4.8e-4 */
  got[5] = 3.001f;
  tol.reduction_len = 100;
  assert_int_equal(clconv_compare(got, ref, mag, 6, &tol, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 1);
  mag[5] = 1000.0f; /* u (12 + 80 * 1000) = 4.8e-3 covers it */
  assert_int_equal(clconv_compare(got, ref, mag, 6, &tol, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 0);
  assert_true(fabs(res.max_abs_err - 0.001) < 1e-4);
  assert_true(fabs(res.max_rel_err - 0.001 / 3) < 1e-4);
  /* non-finite classes must match */
  got[3] = 0.0f;
  assert_int_equal(clconv_compare(got, ref, mag, 6, &tol, &res), CLCONV_OK);
  assert_int_equal(res.first_mismatch, 3);
  got[3] = NAN;
  got[4] = -INFINITY;
  assert_int_equal(clconv_compare(got, ref, mag, 6, &tol, &res), CLCONV_OK);
  assert_int_equal(res.first_mismatch, 4);
  assert_int_equal(clconv_compare(NULL, ref, mag, 6, &tol, &res), CLCONV_ERR_INVALID_ARGUMENT);
}

static void test_status_strings(void **state) {
  (void)state;
  assert_string_equal(clconv_status_string(CLCONV_OK), "success");
  assert_string_equal(clconv_status_string(CLCONV_ERR_BUILD_FAILED), "OpenCL program build failed");
  assert_string_equal(clconv_status_string((clconv_status)999), "unknown status");
  assert_string_equal(clconv_status_string(CLCONV_ERR_DTYPE_MISMATCH), "tensor element type mismatch");
  assert_string_equal(clconv_dtype_name(CLCONV_F32), "float32");
  assert_string_equal(clconv_dtype_name(CLCONV_F16), "float16");
  assert_string_equal(clconv_dtype_name(CLCONV_BF16), "bfloat16");
  assert_true(clconv_dtype_size(CLCONV_F32) == 4 && clconv_dtype_size(CLCONV_F16) == 2 &&
              clconv_dtype_size(CLCONV_BF16) == 2);
  assert_string_equal(clconv_version_string(), "0.1.0");
  /* The CPU reference reports through the thread's last error. */
  assert_int_equal(clconv_ref_act(NULL, CLCONV_F32, NULL, NULL, 0), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "ref_act"));
}

/* Batch norm folded into a convolution gives what the convolution then the normalisation give: a hand case (the
 * scale s = gamma / sqrt(var + eps) exact), then random parameters through the reference; bad parameters change
 * nothing. */
static void test_fold_batch_norm(void **state) {
  (void)state;
  clconv_conv_desc d = {.ndim = 1, .in_channels = 1, .out_channels = 2, .in_size = {3}, .kernel_size = {2}};
  float w[4] = {1, 2, 3, 4}, b[2] = {0.5f, -1};
  const float gamma[2] = {2, 0.5f}, beta[2] = {1, 0}, mean[2] = {0.5f, 1}, var[2] = {3, 0};
  assert_int_equal(clconv_fold_batch_norm(&d, w, b, gamma, beta, mean, var, 1.0f), CLCONV_OK);
  /* s = 2 / 2 = 1 and 0.5 / 1 = 0.5: w = {1, 2}, {1.5, 2}; b = (0.5 - 0.5) * 1 + 1 = 1, (-1 - 1) * 0.5 = -1 */
  const float want_w[4] = {1, 2, 1.5f, 2}, want_b[2] = {1, -1};
  assert_memory_equal(w, want_w, sizeof w);
  assert_memory_equal(b, want_b, sizeof b);

  float keep_w[4], keep_b[2];
  memcpy(keep_w, w, sizeof w);
  memcpy(keep_b, b, sizeof b);
  const float bad_var[2] = {1, -2};
  assert_int_equal(clconv_fold_batch_norm(&d, w, b, gamma, beta, mean, bad_var, 1.0f), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "channel 1: gamma = 0.5, beta = 0, mean = 1, var = -2, eps = 1"));
  const float nan_gamma[2] = {NAN, 1};
  assert_int_equal(clconv_fold_batch_norm(&d, w, b, nan_gamma, beta, mean, var, 1.0f), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "channel 0: gamma = nan"));
  assert_int_equal(clconv_fold_batch_norm(&d, w, b, gamma, beta, mean, var, -1.0f), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(NULL), "eps = -1"));
  assert_int_equal(clconv_fold_batch_norm(&d, NULL, b, gamma, beta, mean, var, 1.0f), CLCONV_ERR_INVALID_ARGUMENT);
  assert_memory_equal(w, keep_w, sizeof w);
  assert_memory_equal(b, keep_b, sizeof b);

  /* 2-D, 3 groups, random: fold(conv) against bn(conv(x)), both through the reference */
  clconv_conv_desc g = {.ndim = 2, .in_channels = 6, .out_channels = 9, .groups = 3, .in_size = {7, 6},
                        .kernel_size = {3, 3}, .pad_before = {1, 1}, .pad_after = {1, 1}, .has_bias = true};
  enum { C = 6, K = 9, WN = K * 2 * 9, XN = C * 42, YN = K * 42 };
  float x[XN], wg[WN], bg[K], ga[K], be[K], me[K], va[K], y[YN], yf[YN], mag[YN];
  sweep_rng r = {7};
  for (int i = 0; i < XN; i++)
    x[i] = sweep_float(&r, -1, 1);
  for (int i = 0; i < WN; i++)
    wg[i] = sweep_float(&r, -1, 1);
  for (int k = 0; k < K; k++) {
    bg[k] = sweep_float(&r, -1, 1);
    ga[k] = sweep_float(&r, 0.5f, 2);
    be[k] = sweep_float(&r, -1, 1);
    me[k] = sweep_float(&r, -0.5f, 0.5f);
    va[k] = sweep_float(&r, 0.1f, 3);
  }
  assert_int_equal(clconv_ref_conv(&g, x, wg, bg, NULL, y, NULL), CLCONV_OK);
  for (int i = 0; i < YN; i++) {
    const int k = i / 42;
    y[i] = (float)(ga[k] * ((double)y[i] - me[k]) / sqrt((double)va[k] + 1e-5) + be[k]);
  }
  assert_int_equal(clconv_fold_batch_norm(&g, wg, bg, ga, be, me, va, 1e-5f), CLCONV_OK);
  assert_int_equal(clconv_ref_conv(&g, x, wg, bg, NULL, yf, mag), CLCONV_OK);
  clconv_tolerance tol;
  clconv_compare_result res;
  assert_int_equal(clconv_conv_tolerance(&g, &tol), CLCONV_OK);
  tol.rel_factor = 16; /* the folded weights and bias carry one rounding each, the unfolded path three more */
  assert_int_equal(clconv_compare(yf, y, mag, YN, &tol, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_output_size_formula),
      cmocka_unit_test(test_same_padding),
      cmocka_unit_test(test_param_count),
      cmocka_unit_test(test_fold_batch_norm),
      cmocka_unit_test(test_lenet_shapes),
      cmocka_unit_test(test_pool_output_size),
      cmocka_unit_test(test_conv_validation_errors),
      cmocka_unit_test(test_pool_validation_errors),
      cmocka_unit_test(test_act_parse),
      cmocka_unit_test(test_compare),
      cmocka_unit_test(test_status_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
