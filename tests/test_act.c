/* Activations on the device against the CPU reference, including non-finite inputs and in-place use; and, with the
 * smallest program of the library, the on-disk cache of program binaries. */
#define _POSIX_C_SOURCE 200809L /* setenv, opendir */
#include "common.h"

#include <dirent.h>
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
      {{.kind = CLCONV_ACT_SWISH}, 1.0f, 0.731058579f}, /* SiLU: default alpha 1 */
      {{.kind = CLCONV_ACT_SWISH}, -20.0f, -4.12230724e-8f},
      {{.kind = CLCONV_ACT_SWISH, .alpha = 0.5f}, 2.0f, 1.46211716f},
      {{.kind = CLCONV_ACT_HARDSWISH}, -3.0f, 0.0f},
      {{.kind = CLCONV_ACT_HARDSWISH}, 1.0f, 0.666666667f},
      {{.kind = CLCONV_ACT_HARDSWISH}, 3.0f, 3.0f},
      {{.kind = CLCONV_ACT_GELU}, 1.0f, 0.841344746f},
      {{.kind = CLCONV_ACT_GELU}, -1.0f, -0.158655254f},
      {{.kind = CLCONV_ACT_GELU}, -5.0f, -1.43325786e-6f},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint32_t one = 1;
    float y;
    clconv_tensor *t = upload(ctx, 1, &one, &rows[i].x);
    assert_int_equal(clconv_act_forward(ctx, &rows[i].a, t, t), CLCONV_OK);
    download(t, &y);
    clconv_tensor_destroy(t);
    /* 1e-6 absolute near 1, and relative for the tails' small numbers */
    if (fabsf(y - rows[i].want) > fminf(1e-6f * (1.0f + fabsf(rows[i].want)), 4e-6f * fabsf(rows[i].want)))
      fail_msg("row %zu: %s(%g) = %.9g, want %.9g", i, clconv_act_name(rows[i].a.kind), (double)rows[i].x, (double)y,
               (double)rows[i].want);
  }
}

/* NaN stays NaN through every activation and element type; infinities go where the limits say. */
static void test_non_finite(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const float x[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f, -1e-40f, 88.0f, -88.0f, 1e30f, -1e30f};
  int bad = 0;
  for (int k = 0; k < CLCONV_ACT_COUNT; k++)
    for (int t = 0; t < CLCONV_DTYPE_COUNT; t++) {
      clconv_activation a = {.kind = (clconv_act_kind)k, .alpha = k == CLCONV_ACT_CLIP ? -2.0f : 0.0f, .beta = 3.0f};
      bad += sweep_check_act(ctx, &a, (clconv_dtype)t, x, sizeof x / sizeof x[0], false, stderr,
                             "non-finite table") != 0;
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
    bad += sweep_check_act(ctx, &a, TEST_DTYPE(i), x, count, sweep_chance(&r, 0.5), stderr, test_replay(seed)) != 0;
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

/* A context in a cache directory: relu on 3 values through its program, checked, then the binaries note. */
static void binaries_round(const char *dir, const char *want) {
  setenv("CLCONV_CACHE_DIR", dir, 1);
  clconv_context *ctx = NULL;
  assert_int_equal(clconv_context_create(NULL, &ctx), CLCONV_OK);
  const float x[3] = {-1.0f, 0.5f, 2.0f};
  clconv_activation relu = {.kind = CLCONV_ACT_RELU};
  assert_int_equal(sweep_check_act(ctx, &relu, CLCONV_F32, x, 3, false, stderr, "binaries"), 0);
  const char *note = clconv_context_binaries(ctx);
  if (!strstr(note, want))
    fail_msg("binaries note \"%s\", want \"%s\"", note, want);
  clconv_context_destroy(ctx);
}

/* Each program-*.bin in dir cut to half its size (truncate) or with one payload byte changed. */
static int damage_binaries(const char *dir, bool truncate) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strncmp(e->d_name, "program-", 8) != 0)
      continue;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 200 && len < sizeof buf);
    if (truncate)
      len /= 2;
    else
      buf[len - 7] ^= 0x5A;
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    n++;
  }
  closedir(d);
  return n;
}

/* Program binaries on disk: saved by the first context, loaded by the next; a truncated or altered file and an
 * unwritable directory fall back to building from source, with the reason in the note, and results stay right. */
static void test_program_binaries(void **state) {
  (void)TEST_CONTEXT(state);
  /* PoCL's own cache makes clconv skip its binaries; with it declared off they are used (PoCL read the variable
   * at start-up, so it still caches its builds here: only clconv's path changes) */
  const char *pocl = getenv("POCL_KERNEL_CACHE");
  char pocl_keep[16];
  snprintf(pocl_keep, sizeof pocl_keep, "%s", pocl ? pocl : "");
  setenv("POCL_KERNEL_CACHE", "0", 1);
  const char *base = getenv("CLCONV_CACHE_DIR");
  assert_non_null(base);
  char keep[1024], dir[1100], blocker[1100], under[1200];
  snprintf(keep, sizeof keep, "%s", base);
  snprintf(dir, sizeof dir, "%s/binaries-test", keep);
  snprintf(blocker, sizeof blocker, "%s/binaries-blocker", keep);
  snprintf(under, sizeof under, "%s/sub", blocker);
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.') {
      char p[2300];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      remove(p);
    }
  if (d)
    closedir(d);
  binaries_round(dir, "0 loaded, 1 saved, 0 ignored, 0 not saved");
  binaries_round(dir, "1 loaded, 0 saved, 0 ignored, 0 not saved");
  assert_int_equal(damage_binaries(dir, true), 1);
  binaries_round(dir, "0 loaded, 1 saved, 1 ignored, 0 not saved; first: ignored");
  binaries_round(dir, "1 loaded, 0 saved"); /* rewritten */
  assert_int_equal(damage_binaries(dir, false), 1);
  binaries_round(dir, "checksum mismatch");
  FILE *f = fopen(blocker, "w"); /* a regular file where the directory's parent should be */
  assert_non_null(f);
  fclose(f);
  binaries_round(under, "0 loaded, 0 saved, 0 ignored, 1 not saved; first: not saved: cannot create");
  remove(blocker);
  setenv("CLCONV_CACHE_DIR", keep, 1);
  if (pocl)
    setenv("POCL_KERNEL_CACHE", pocl_keep, 1);
  else
    unsetenv("POCL_KERNEL_CACHE");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_non_finite),
      cmocka_unit_test(test_random_sweep),
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_program_binaries),
  };
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
