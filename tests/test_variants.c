/* Every direct-algorithm kernel variant the tuner can pick, each forced through the fault-injection build's hook
 * (clconv_fault_force_kernel) on random shapes it can run, against the CPU reference: a variant the built-in choice
 * never takes on this device (the local-memory one, chosen on GPUs) is checked here too. Random floats with the
 * per-element tolerance, and the mutation self-test, each variant in every element type. One dimensionality per variant
 * keeps the number of programs PoCL compiles small; the code paths that depend on it are shared by all variants.
 * Variant i runs in 1 + i % 3 dimensions: wide 1x16 in 2-D, so that its four rows per work-item are drawn (stride and
 * dilation 1 along H). */
#include "common.h"
#include "fault.h"
#include "sweep.h"

#include <stdio.h>
#include <string.h>

typedef struct variant {
  int kt, wt, kind; /* as clconv_fault_force_kernel */
  const char *name; /* clconv_conv_kernel's */
} variant;

static const variant variants[] = {
    {4, 7, 0, "tiled 4x7"},   {8, 8, 0, "tiled 8x8"},   {16, 10, 0, "tiled 16x10"}, {32, 7, 0, "tiled 32x7"},
    {4, 10, 0, "tiled 4x10"}, {32, 8, 0, "tiled 32x8"}, {2, 32, 1, "wide 2x32"},    {1, 16, 1, "wide 1x16"},
    {4, 16, 1, "wide 4x16"},  {6, 32, 1, "wide 6x32"},  {8, 16, 1, "wide 8x16"},    {4, 4, 2, "local 4x4"},
    {8, 4, 2, "local 8x4"},   {16, 4, 0, "tiled 16x4"}, {8, 5, 0, "tiled 8x5"},     {32, 6, 0, "tiled 32x6"},
    {1, 16, 3, "dw 1x16"},    {32, 3, 0, "tiled 32x3"},
};

/* Whether clconv_conv_kernel's got names the kernel `name`, alone or (tiled and wide) reading a zero-padded copy of
 * the input (test_conv: test_padded_copy). */
static bool is_kernel(const char *got, const char *name) {
  size_t len = strlen(name);
  bool copies = !strncmp(name, "tiled", 5) || !strncmp(name, "wide", 4);
  return !strcmp(got, name) || (copies && !strncmp(got, name, len) && !strcmp(got + len, "+pad"));
}

static void test_every_variant(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  uint64_t seed = test_seed() ^ 0x7A1A;
  sweep_rng r = {seed};
  uint32_t per = test_count(10), bad = 0, n = 0, copies = 0;
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    const variant *v = &variants[i];
    clconv_fault_force_kernel(v->kt, v->wt, v->kind);
    for (uint32_t k = 0; k < per; k++) {
      clconv_conv_desc d;
      sweep_conv_desc(&r, &d, (uint32_t)(i % 3) + 1, false);
      memset(&d.activation, 0, sizeof d.activation); /* identity: one program per variant and element type */
      d.algorithm = CLCONV_ALGO_DIRECT;
      d.dtype = TEST_DTYPE(k);
      if (v->kind == 1) /* the wide kernel runs stride 1 along W only */
        d.stride[d.ndim - 1] = 1;
      if (v->kind == 3) /* the depthwise kernel: one input and one output channel per group */
        d.groups = d.out_channels = d.in_channels;
      clconv_conv *op = NULL;
      assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
      const char *got = clconv_conv_kernel(op);
      bool padded = strcmp(got, v->name) != 0;
      copies += padded;
      if (!is_kernel(got, v->name)) {
        char cfg[512];
        sweep_conv_str(&d, cfg, sizeof cfg);
        fail_msg("forced %s, got %s: %s", v->name, clconv_conv_kernel(op), cfg);
      }
      clconv_conv_destroy(op);
      bad += sweep_check_conv(ctx, &d, &r, false, true, stderr, test_replay(seed)) != 0;
      n++;
    }
  }
  clconv_fault_force_kernel(-1, 0, 0);
  print_message("kernel variants: %zu, %u configurations (%u reading a padded copy), %u failed (seed %llu)\n",
                sizeof variants / sizeof variants[0], n, copies, bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

/* Every activation through every kernel kind's stores: the sweeps draw identity or relu only (sweep_conv_desc), so
 * here each of the nine kinds, with random parameters, runs through each kernel kind and the gemm epilogue, on one
 * 2-D shape per kernel whose last tiles are partial along W and along the channels, against the reference with
 * random floats (outputs up to about 5 in size: the curved parts of sigmoid, tanh, elu and softplus). The tiled
 * kernel twice: 16 x 4 stores through its private array, 32 x 3 its whole tiles from the registers on 8-lane
 * devices (the partial ones through the array). Direct and gemm share one program per activation and mode. */
static void test_every_activation(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  static const struct {
    int kt, wt, kind; /* forced as in test_every_variant; kt < 0: gemm */
    const char *name;
    uint32_t c, k, groups;
  } kernels[] = {
      {0, 0, 0, "direct", 3, 5, 1},       {16, 4, 0, "tiled 16x4", 3, 20, 1}, {6, 16, 1, "wide 6x16", 3, 6, 1},
      {8, 4, 2, "local 8x4", 4, 12, 1},   {1, 16, 3, "dw 1x16", 5, 5, 5},     {-1, 0, 0, "gemm", 3, 7, 1},
      {32, 3, 0, "tiled 32x3", 3, 40, 1}, /* 8-lane devices: whole tiles' stores from the registers */
  };
  uint64_t seed = test_seed() ^ 0xAC7;
  sweep_rng r = {seed};
  uint32_t bad = 0, n = 0;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    clconv_fault_force_kernel(kernels[i].kt, kernels[i].wt, kernels[i].kind);
    for (int a = 0; a < CLCONV_ACT_COUNT; a++) {
      clconv_conv_desc d = {.ndim = 2,
                            .batch = 2,
                            .in_channels = kernels[i].c,
                            .out_channels = kernels[i].k,
                            .groups = kernels[i].groups,
                            .in_size = {7, 19},
                            .kernel_size = {3, 3},
                            .pad_before = {1, 1},
                            .pad_after = {1, 1},
                            .has_bias = true,
                            .mode = a % 2 ? CLCONV_MODE_CONV : CLCONV_MODE_XCORR,
                            .algorithm = kernels[i].kt < 0 ? CLCONV_ALGO_GEMM : CLCONV_ALGO_DIRECT};
      sweep_activation_of(&r, (clconv_act_kind)a, &d.activation);
      clconv_conv *op = NULL;
      assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
      if (!is_kernel(clconv_conv_kernel(op), kernels[i].name))
        fail_msg("forced %s, got %s (activation %s)", kernels[i].name, clconv_conv_kernel(op),
                 clconv_act_name(d.activation.kind));
      clconv_conv_destroy(op);
      bad += sweep_check_conv(ctx, &d, &r, false, false, stderr, test_replay(seed)) != 0;
      n++;
    }
  }
  clconv_fault_force_kernel(-1, 0, 0);
  print_message("activations x kernels: %u configurations, %u failed (seed %llu)\n", n, bad, (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

/* 16-bit inputs the tiled kernel reads itself (kernels/conv.cl: each channel's row span widened once, the taps
 * broadcast from its lanes), in float16 and bfloat16: 3 and 5 taps along W at stride 1 and 2, and 1 tap at stride 1
 * and 2, 1-D to 3-D; spans of 3 to 23 values (one to three 8-lane pieces, the last of every length), tiles inside the
 * rows and at both edges (rows too narrow for a padded copy to pay), a partial last tile and channel block; each with a
 * residual and the mutation self-test. The other shapes read a float32 copy (test_every_variant draws them). */
static void test_16bit_rows(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  static const struct {
    int kt, wt; /* the tiled kernel forced */
    uint32_t ndim, in[3], ker[3], stride[3], pad[3];
  } cases[] = {
      /* span 9 (8 + 1), 23 (8 + 8 + 7), 17 (8 + 8 + 1), 12 (8 + 4), 19 (8 + 8 + 3), 7, 10 (8 + 2), 14 (8 + 6), 5 */
      {32, 7, 2, {9, 23}, {3, 3}, {1, 1}, {1, 1}},
      {16, 10, 2, {11, 61}, {5, 5}, {2, 2}, {2, 2}},
      {8, 8, 1, {61}, {3}, {2}, {1}},
      {4, 10, 3, {4, 5, 25}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}},
      {32, 8, 2, {6, 40}, {3, 5}, {1, 2}, {0, 2}},
      {8, 5, 2, {3, 30}, {3, 3}, {1, 1}, {1, 1}},
      {16, 8, 1, {50}, {3}, {1}, {1}},
      {8, 10, 1, {50}, {5}, {1}, {2}},
      {16, 3, 2, {4, 20}, {3, 3}, {1, 1}, {1, 1}},
      /* 1 wide: the tile's 7, 10 or 3 values; a partial last tile, padding along W (edge tiles) */
      {32, 7, 2, {5, 17}, {1, 1}, {1, 1}, {0, 0}},
      {16, 10, 1, {43}, {1}, {1}, {1}},
      {8, 3, 3, {2, 3, 11}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}},
      {16, 8, 2, {5, 33}, {3, 1}, {1, 2}, {1, 0}}, /* 3 x 1 at stride 2 along W: span 15 (8 + 7) */
  };
  uint64_t seed = test_seed() ^ 0xBF;
  sweep_rng r = {seed};
  uint32_t bad = 0, n = 0;
  for (size_t t = 0; t < 2 * sizeof cases / sizeof cases[0]; t++) {
    const size_t i = t / 2;
    clconv_fault_force_kernel(cases[i].kt, cases[i].wt, 0);
    clconv_conv_desc d = {.ndim = cases[i].ndim,
                          .batch = 2,
                          .in_channels = 5,
                          .out_channels = (uint32_t)cases[i].kt + 3,
                          .has_bias = true,
                          .has_residual = true,
                          .mode = i % 2 ? CLCONV_MODE_CONV : CLCONV_MODE_XCORR,
                          .algorithm = CLCONV_ALGO_DIRECT,
                          .dtype = t % 2 ? CLCONV_F16 : CLCONV_BF16};
    for (uint32_t a = 0; a < d.ndim; a++) {
      d.in_size[a] = cases[i].in[a];
      d.kernel_size[a] = cases[i].ker[a];
      d.stride[a] = cases[i].stride[a];
      d.pad_before[a] = d.pad_after[a] = cases[i].pad[a];
    }
    char want[32];
    snprintf(want, sizeof want, "tiled %dx%d", cases[i].kt, cases[i].wt);
    clconv_conv *op = NULL;
    assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
    if (strcmp(clconv_conv_kernel(op), want))
      fail_msg("forced %s, got %s", want, clconv_conv_kernel(op));
    clconv_conv_destroy(op);
    bad += sweep_check_conv(ctx, &d, &r, false, true, stderr, test_replay(seed)) != 0;
    n++;
  }
  clconv_fault_force_kernel(-1, 0, 0);
  print_message("16-bit rows in the tiled kernel: %u configurations, %u failed (seed %llu)\n", n, bad,
                (unsigned long long)seed);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_variant), cmocka_unit_test(test_every_activation),
                                     cmocka_unit_test(test_16bit_rows)};
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
