/* The layer of the notes (convolution -> activation -> pooling) on the device against the CPU reference, on a context
 * of the profile TEST_CPU8 (CPU, 8 lanes) whatever the device: the fusion table names that profile's choices. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LeNet's first layer: 3x32x32 -> conv 5x5, 6 maps -> relu -> max 2x2 s2 -> 6x14x14. Also: the layer and the
 * three ops run one after the other both match the reference under the layer's tolerance (they may run different
 * kernels: the pooling fused or not, another channel tile), and a run with weights set once equals the run with
 * the same weights given, bit for bit (the same kernel on the same packed weights: the same arithmetic). */
static void test_lenet_layer(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  clconv_layer_desc l = {.conv = {.ndim = 2,
                                  .batch = 2,
                                  .in_channels = 3,
                                  .out_channels = 6,
                                  .in_size = {32, 32},
                                  .kernel_size = {5, 5},
                                  .has_bias = true,
                                  .activation = {.kind = CLCONV_ACT_RELU}},
                         .pool = {.window = {2, 2}, .stride = {2, 2}}};
  uint64_t seed = test_seed();
  sweep_rng r = {seed};
  assert_int_equal(sweep_check_layer(ctx, &l, &r, stderr, test_replay(seed)), 0);

  uint32_t ss[5], ws[5], ds[5], ms[5], bs = 6;
  assert_int_equal(clconv_layer_shapes(&l, ss, ws, ds), CLCONV_OK);
  uint32_t want[4] = {2, 6, 14, 14};
  assert_memory_equal(ds, want, sizeof want);
  clconv_conv_desc conv = l.conv;
  conv.activation.kind = CLCONV_ACT_IDENTITY;
  assert_int_equal(clconv_conv_shapes(&conv, ss, ws, ms), CLCONV_OK);
  float x[2 * 3 * 32 * 32], w[6 * 3 * 25], b[6], y1[2 * 6 * 14 * 14], y2[2 * 6 * 14 * 14];
  sweep_fill(&r, x, sizeof x / sizeof x[0], -1, 1);
  sweep_fill(&r, w, sizeof w / sizeof w[0], -1, 1);
  sweep_fill(&r, b, 6, -1, 1);
  clconv_tensor *tx = upload(ctx, 4, ss, x), *tw = upload(ctx, 4, ws, w), *tb = upload(ctx, 1, &bs, b),
                *tm = upload(ctx, 4, ms, NULL), *ty1 = upload(ctx, 4, ds, NULL), *ty2 = upload(ctx, 4, ds, NULL);
  clconv_layer *layer;
  assert_int_equal(clconv_layer_create(ctx, &l, &layer), CLCONV_OK);
  assert_int_equal(clconv_layer_run(layer, tx, tw, tb, NULL, ty1), CLCONV_OK);
  clconv_pool_desc pool = {.ndim = 2, .batch = 2, .channels = 6, .in_size = {28, 28}, .window = {2, 2}};
  assert_int_equal(clconv_conv_forward(ctx, &conv, tx, tw, tb, NULL, tm), CLCONV_OK);
  assert_int_equal(clconv_act_forward(ctx, &l.conv.activation, tm, tm), CLCONV_OK);
  assert_int_equal(clconv_pool_forward(ctx, &pool, tm, ty2), CLCONV_OK);
  download(ty1, y1);
  download(ty2, y2);
  float ref[2 * 6 * 14 * 14], mag[2 * 6 * 14 * 14];
  clconv_tolerance tol;
  clconv_compare_result res;
  assert_int_equal(clconv_ref_layer(&l, x, w, b, NULL, ref, mag), CLCONV_OK);
  assert_int_equal(clconv_layer_tolerance(&l, &tol), CLCONV_OK);
  assert_int_equal(clconv_compare(y1, ref, mag, sizeof ref / sizeof ref[0], &tol, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 0);
  assert_int_equal(clconv_compare(y2, ref, mag, sizeof ref / sizeof ref[0], &tol, &res), CLCONV_OK);
  assert_int_equal(res.mismatches, 0);
  /* the inference plan: weights set once (then changed on the host side), runs with weights NULL */
  assert_int_equal(clconv_layer_run(layer, tx, NULL, NULL, NULL, ty2), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(ctx), "none were set"));
  assert_int_equal(clconv_layer_set_weights(layer, tw, tb), CLCONV_OK);
  sweep_fill(&r, w, sizeof w / sizeof w[0], -1, 1); /* the op keeps its own copy */
  assert_int_equal(clconv_tensor_write(tw, w, sizeof w / sizeof w[0]), CLCONV_OK);
  assert_int_equal(clconv_layer_run(layer, tx, NULL, NULL, NULL, ty2), CLCONV_OK);
  download(ty2, y2);
  assert_memory_equal(y1, y2, sizeof y1);
  assert_int_equal(clconv_layer_set_weights(NULL, tw, tb), CLCONV_ERR_INVALID_ARGUMENT);
  clconv_layer_destroy(layer);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(tm);
  clconv_tensor_destroy(ty1);
  clconv_tensor_destroy(ty2);
}

/* The pooling inside the convolution's kernel (clconv_layer_create): each configuration the fusion takes, in the
 * wide kernel and in the tiled one (max and average; windows 1 to 16 wide and 1 to 3 tall; 1-D, 2-D and 3-D with a
 * 1-deep window; conv outputs with columns and rows that no window covers; partial tiles; several channel blocks,
 * the last one partial; few output channels, and few input ones; groups, a strided conv, a padded input copy) and
 * those it must leave to the separate pooling, each against the reference (a GPU runs them all unfused: its conv
 * kernel is another; the names are this file's profile's choices). A max window holding a NaN gives NaN. */
static void test_fused_pooling(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  static const struct {
    uint32_t ndim, c, k, in[3], ker[3], win[3];
    clconv_pool_kind kind;
    clconv_act_kind act;
    const char *kernel;           /* the layer's on this profile ("+pool": fused) */
    uint32_t stride, groups, pad; /* the conv's, along every axis */
  } cases[] = {
      /* LeNet C1 + S2; then 13 x 39: leftovers; 8 x 34 -> 2 x 8; 8 wide; 16 wide, 2 tiles; a 1 x 1 window */
      {2, 3, 6, {32, 32}, {5, 5}, {2, 2}, CLCONV_POOL_MAX, CLCONV_ACT_RELU, "wide 6x16+pool", 1, 1, 0},
      {2, 2, 5, {15, 41}, {3, 3}, {2, 2}, CLCONV_POOL_AVG, CLCONV_ACT_TANH, "wide 6x16+pool", 1, 1, 0},
      {2, 1, 3, {9, 37}, {2, 4}, {3, 4}, CLCONV_POOL_MAX, CLCONV_ACT_IDENTITY, "wide 4x16+pool", 1, 1, 0},
      {2, 4, 2, {6, 40}, {1, 1}, {1, 8}, CLCONV_POOL_AVG, CLCONV_ACT_SIGMOID, "wide 2x16+pool", 1, 1, 0},
      {2, 2, 7, {4, 35}, {1, 3}, {1, 16}, CLCONV_POOL_MAX, CLCONV_ACT_LEAKY_RELU, "wide 8x16+pool", 1, 1, 0},
      {2, 3, 4, {7, 7}, {3, 3}, {1, 1}, CLCONV_POOL_AVG, CLCONV_ACT_ELU, "wide 4x16+pool", 1, 1, 0},
      {1, 3, 6, {50}, {5}, {4}, CLCONV_POOL_MAX, CLCONV_ACT_RELU6, "wide 6x16+pool", 1, 1, 0},
      {3, 2, 3, {3, 6, 21}, {2, 3, 3}, {1, 2, 2}, CLCONV_POOL_AVG, CLCONV_ACT_SOFTPLUS, "wide 4x16+pool", 1, 1, 0},
      /* 3 wide: not in 16 columns; 3 inputs: wide 4 x 16 */
      {2, 3, 6, {12, 12}, {3, 3}, {3, 3}, CLCONV_POOL_MAX, CLCONV_ACT_RELU, "wide 6x16", 1, 1, 0},
      {2, 3, 16, {12, 12}, {3, 3}, {2, 2}, CLCONV_POOL_MAX, CLCONV_ACT_RELU, "wide 4x16+pool", 1, 1, 0},
      /* the tiled kernel (this profile: 16 channels at 4 to 6 positions, 8 at 7, 8 or 10, 32 at 3): 2 x 2; 101 -> 25
       * in 13 tiles of 8; groups of 10 channels (a partial block), 2 columns and a row in no window; 3-D; the padded
       * copy; then 32 x 3, no multiple of 2; padded windows */
      {2, 4, 16, {12, 12}, {3, 3}, {2, 2}, CLCONV_POOL_MAX, CLCONV_ACT_RELU, "tiled 16x4+pool", 1, 1, 0},
      {1, 5, 8, {203}, {3}, {4}, CLCONV_POOL_AVG, CLCONV_ACT_RELU, "tiled 8x8+pool", 2, 1, 0},
      {2, 8, 20, {9, 23}, {3, 3}, {3, 2}, CLCONV_POOL_MAX, CLCONV_ACT_LEAKY_RELU, "tiled 8x10+pool", 1, 2, 0},
      {3, 4, 16, {4, 6, 14}, {3, 3, 3}, {1, 2, 3}, CLCONV_POOL_AVG, CLCONV_ACT_SIGMOID, "tiled 16x6+pool", 1, 1, 0},
      {2, 2, 24, {8, 8}, {7, 7}, {2, 2}, CLCONV_POOL_AVG, CLCONV_ACT_RELU, "tiled 16x4+pad+pool", 1, 1, 3},
      {2, 8, 32, {10, 18}, {3, 3}, {2, 2}, CLCONV_POOL_MAX, CLCONV_ACT_RELU, "tiled 32x3", 1, 1, 0},
      {2, 4, 16, {12, 12}, {3, 3}, {3, 3}, CLCONV_POOL_MAX, CLCONV_ACT_RELU, "tiled 16x4", 1, 1, 1},
  };
  uint64_t seed = test_seed() ^ 0xF05E;
  sweep_rng r = {seed};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clconv_layer_desc l = {.conv = {.ndim = cases[i].ndim,
                                    .batch = 2,
                                    .in_channels = cases[i].c,
                                    .out_channels = cases[i].k,
                                    .groups = cases[i].groups,
                                    .has_bias = true,
                                    .has_residual = i % 2 == 1, /* the residual at the unpooled rows */
                                    .residual_scale = i % 4 == 1 ? -0.5f : 0.0f,
                                    .activation = {.kind = cases[i].act, .alpha = 0.1f}},
                           .pool = {.kind = cases[i].kind}};
    memcpy(l.conv.in_size, cases[i].in, sizeof l.conv.in_size);
    memcpy(l.conv.kernel_size, cases[i].ker, sizeof l.conv.kernel_size);
    memcpy(l.pool.window, cases[i].win, sizeof l.pool.window);
    for (uint32_t a = 0; a < cases[i].ndim; a++) {
      l.conv.stride[a] = cases[i].stride;
      l.conv.pad_before[a] = l.conv.pad_after[a] = cases[i].pad;
    }
    if (i + 1 == sizeof cases / sizeof cases[0]) /* the pooling's own padding */
      l.pool.pad_before[0] = l.pool.pad_before[1] = l.pool.pad_after[0] = l.pool.pad_after[1] = 1;
    clconv_layer *op;
    assert_int_equal(clconv_layer_create(ctx, &l, &op), CLCONV_OK);
    const char *kernel = clconv_layer_kernel(op);
    if (strcmp(kernel, cases[i].kernel) != 0)
      fail_msg("case %zu: kernel %s, expected %s", i, kernel, cases[i].kernel);
    clconv_layer_destroy(op);
    assert_int_equal(sweep_check_layer(ctx, &l, &r, stderr, test_replay(seed)), 0);
  }

  /* NaN: max over windows of 2 along a row of 16 through a 1x1 convolution copying it to 2 channels (1 channel
   * would be depthwise, which has a kernel of its own) */
  clconv_layer_desc l = {.conv = {.ndim = 1, .in_channels = 1, .out_channels = 2, .in_size = {16}, .kernel_size = {1}},
                         .pool = {.window = {2}}};
  uint32_t ss[5], ws[5], ds[5];
  assert_int_equal(clconv_layer_shapes(&l, ss, ws, ds), CLCONV_OK);
  float x[16], one[2] = {1.0f, 1.0f}, y[16];
  for (int i = 0; i < 16; i++)
    x[i] = (float)i;
  x[4] = NAN;
  clconv_tensor *tx = upload(ctx, 3, ss, x), *tw = upload(ctx, 3, ws, one), *ty = upload(ctx, 3, ds, NULL);
  clconv_layer *op;
  assert_int_equal(clconv_layer_create(ctx, &l, &op), CLCONV_OK);
  assert_non_null(strstr(clconv_layer_kernel(op), "+pool"));
  assert_int_equal(clconv_layer_run(op, tx, tw, NULL, NULL, ty), CLCONV_OK);
  download(ty, y);
  for (int i = 0; i < 16; i++)
    if (i % 8 == 2)
      assert_true(isnan(y[i]));
    else
      assert_true(y[i] == (float)(2 * (i % 8) + 1));
  assert_string_equal(clconv_layer_kernel(NULL), "");
  clconv_layer_destroy(op);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(ty);

  /* the same in the tiled kernel (channels across the lanes): 4 channels of 20 ones, a NaN at position 4 of the
   * first, 3 taps of ones into 8 channels: conv outputs 2 to 4 are NaN in every channel, the others 12; max over
   * windows of 2: pooled outputs 1 and 2 NaN */
  clconv_layer_desc lt = {.conv = {.ndim = 1, .in_channels = 4, .out_channels = 8, .in_size = {20}, .kernel_size = {3}},
                          .pool = {.window = {2}}};
  assert_int_equal(clconv_layer_shapes(&lt, ss, ws, ds), CLCONV_OK);
  float xt[4 * 20], wt[8 * 4 * 3], yt[8 * 9];
  for (size_t i = 0; i < sizeof xt / sizeof xt[0]; i++)
    xt[i] = 1.0f;
  for (size_t i = 0; i < sizeof wt / sizeof wt[0]; i++)
    wt[i] = 1.0f;
  xt[4] = NAN;
  tx = upload(ctx, 3, ss, xt);
  tw = upload(ctx, 3, ws, wt);
  ty = upload(ctx, 3, ds, NULL);
  assert_int_equal(clconv_layer_create(ctx, &lt, &op), CLCONV_OK);
  assert_string_equal(clconv_layer_kernel(op), "tiled 8x10+pool");
  assert_int_equal(clconv_layer_run(op, tx, tw, NULL, NULL, ty), CLCONV_OK);
  download(ty, yt);
  for (int i = 0; i < 8 * 9; i++)
    if (i % 9 == 1 || i % 9 == 2)
      assert_true(isnan(yt[i]));
    else
      assert_true(yt[i] == 12.0f);
  clconv_layer_destroy(op);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(ty);
}

/* Random layers against the reference. 200 by default: the convolution's kernels are swept in test_conv (900
 * configurations); what this adds is the composition and the fused pooling (with the table above), and each
 * random layer that draws a new kernel variant costs a cold compilation (500 took the cold suite ~50 s longer). */
static void test_random_sweep(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x1A7E2;
  sweep_rng r = {seed};
  uint32_t n = test_count(200), bad = 0, per_ndim[4] = {0}, fused = 0;
  for (uint32_t i = 0; i < n; i++) {
    clconv_layer_desc l;
    memset(&l, 0, sizeof l);
    sweep_conv_desc(&r, &l.conv, 0, false);
    uint32_t out[3];
    assert_int_equal(clconv_conv_output_size(&l.conv, out), CLCONV_OK);
    sweep_pool_desc(&r, &l.pool, out, l.conv.ndim);
    /* leave the derived fields to the library half the time */
    if (sweep_chance(&r, 0.5)) {
      l.pool.ndim = 0;
      memset(l.pool.in_size, 0, sizeof l.pool.in_size);
    }
    l.conv.dtype = TEST_DTYPE(i);
    if (sweep_chance(&r, 0.5)) /* 0: taken from the convolution */
      l.pool.dtype = l.conv.dtype;
    per_ndim[l.conv.ndim]++;
    bad += sweep_check_layer(ctx, &l, &r, stderr, test_replay(seed)) != 0;
    clconv_layer *op; /* which path ran: the programs are built, so this compiles nothing */
    assert_int_equal(clconv_layer_create(ctx, &l, &op), CLCONV_OK);
    fused += strstr(clconv_layer_kernel(op), "+pool") != NULL;
    clconv_layer_destroy(op);
  }
  print_message("layer random sweep: %u configurations (1D %u, 2D %u, 3D %u; %u in one fused launch), %u failed (seed "
                "%llu)\n",
                n, per_ndim[1], per_ndim[2], per_ndim[3], fused, bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
  /* about one random layer in twenty can fuse on the CPU profile: none in the whole sweep means the path went
   * untested */
  if (n >= 100)
    assert_true(fused > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lenet_layer),
      cmocka_unit_test(test_fused_pooling),
      cmocka_unit_test(test_random_sweep),
  };
  /* the fusion table names what the rules pick for TEST_CPU8; the device runs every case whatever it is */
  return cmocka_run_group_tests(tests, group_setup_cpu8_context, group_teardown_context);
}
