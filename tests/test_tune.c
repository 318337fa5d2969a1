/* Tuning (clconv_tune) and the per-device tuning file: a short real search whose results are saved, loaded by the
 * next context, followed by auto and still validated; a corrupt, truncated or foreign file is ignored with a note;
 * an unwritable cache directory keeps the results in memory. CLBlast's parameters cannot be reset within a process,
 * so the unwritable case runs in a second process: `test_tune unwritable`. CLCONV_CACHE_DIR points into the build
 * tree (tests/CMakeLists.txt). */
#define _POSIX_C_SOURCE 200809L /* setenv, opendir */
#include "common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const clconv_conv_desc shapes[2] = {
    {.ndim = 2, .in_channels = 8, .out_channels = 16, .in_size = {12, 12}, .kernel_size = {3, 3}, .has_bias = true},
    {.ndim = 1, .batch = 2, .in_channels = 16, .out_channels = 8, .in_size = {40}, .kernel_size = {1}},
};

static clconv_context *context(bool ignore_tuning) {
  clconv_context_options o = {.ignore_tuning = ignore_tuning};
  clconv_context *ctx = NULL;
  if (clconv_context_create(&o, &ctx) != CLCONV_OK)
    fail_msg("context_create: %s", clconv_last_error(NULL));
  return ctx;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[65536];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* The file's contents must make a new context load it, else be ignored with `why` in the note. */
static void expect_load(const char *path, const char *text, const char *why) {
  write_file(path, text);
  clconv_context *ctx = context(false);
  const char *note = clconv_context_tuning(ctx);
  if (why ? !(strstr(note, "ignored") && strstr(note, why)) : strncmp(note, "loaded ", 7) != 0)
    fail_msg("file \"%.60s...\": note \"%s\", want %s", text, note, why ? why : "loaded");
  /* an ignored file leaves auto on direct */
  clconv_conv *op;
  assert_int_equal(clconv_conv_create(ctx, &shapes[0], &op), CLCONV_OK);
  if (why)
    assert_int_equal(clconv_conv_algorithm(op), CLCONV_ALGO_DIRECT);
  clconv_conv_destroy(op);
  clconv_context_destroy(ctx);
}

static void test_tune_save_load(void **state) {
  (void)TEST_CONTEXT(state); /* skips without a device; the contexts here are made per case */
  clconv_context *ctx = context(true);
  assert_string_equal(clconv_context_tuning(ctx), "none (ignore_tuning)");
  clconv_tune_options o = {.budget_s = 1.0, .reps = 2};
  clconv_tune_shape per[2];
  clconv_tune_report rep;
  /* argument errors first: they must not count as a tune */
  assert_int_equal(clconv_tune(ctx, shapes, 0, &o, per, &rep), CLCONV_ERR_INVALID_ARGUMENT);
  o.budget_s = -1.0;
  assert_int_equal(clconv_tune(ctx, shapes, 2, &o, per, &rep), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(ctx), "budget_s = -1"));
  o.budget_s = 1.0;
  if (clconv_tune(ctx, shapes, 2, &o, per, &rep) != CLCONV_OK)
    fail_msg("tune: %s", clconv_last_error(ctx));
  print_message("tune: %u candidates, %u wrong, gemm %s; %s\n", rep.candidates_tried, rep.candidates_wrong,
                rep.gemm_tuned ? "tuned" : "untuned", clconv_context_tuning(ctx));
  assert_true(rep.saved && rep.candidates_tried >= 1 && rep.candidates_wrong == 0);
  assert_true(rep.kernels_tried >= 1 && rep.kernels_wrong == 0);
  assert_non_null(strstr(rep.path, getenv("CLCONV_CACHE_DIR")));
  for (int i = 0; i < 2; i++)
    assert_true(per[i].untuned_ms > 0 && per[i].tuned_ms > 0 && per[i].direct_ms > 0 && per[i].direct_tuned_ms > 0 &&
                per[i].untuned_sgemm_ms > 0 && per[i].tuned_sgemm_ms > 0 &&
                per[i].direct_kernel[0] && (per[i].algo == CLCONV_ALGO_DIRECT || per[i].algo == CLCONV_ALGO_GEMM));
  /* once CLBlast's parameters are overridden, a second tune in this process is refused */
  assert_int_equal(clconv_tune(ctx, shapes, 2, &o, per, &rep), CLCONV_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(clconv_last_error(ctx), "fresh process"));
  clconv_context_destroy(ctx);

  /* a new context loads the file: auto follows the measurement, and both algorithms still match the reference */
  char path[1024], saved[65536];
  snprintf(path, sizeof path, "%s", rep.path);
  snprintf(saved, sizeof saved, "%s", read_file(path));
  assert_int_equal(strncmp(saved, "clconv-tuning 1\nkey ", 20), 0);
  ctx = context(false);
  assert_int_equal(strncmp(clconv_context_tuning(ctx), "loaded ", 7), 0);
  sweep_rng r = {test_seed()};
  for (int i = 0; i < 2; i++) {
    clconv_conv *op;
    assert_int_equal(clconv_conv_create(ctx, &shapes[i], &op), CLCONV_OK);
    assert_int_equal(clconv_conv_algorithm(op), per[i].algo);
    clconv_conv_destroy(op);
    clconv_conv_desc d = shapes[i];
    d.algorithm = CLCONV_ALGO_DIRECT; /* the tuned direct kernel */
    assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
    assert_string_equal(clconv_conv_kernel(op), per[i].direct_kernel);
    clconv_conv_destroy(op);
    for (int a = CLCONV_ALGO_DIRECT; a <= CLCONV_ALGO_GEMM; a++) {
      d.algorithm = (clconv_conv_algo)a;
      assert_int_equal(sweep_check_conv(ctx, &d, &r, false, true, stderr, test_replay(test_seed())), 0);
    }
  }
  clconv_context_destroy(ctx);

  /* damaged files are ignored, never an error */
  const char *key_end = strchr(saved + 20, '\n');
  char foreign[65536];
  snprintf(foreign, sizeof foreign, "clconv-tuning 1\nkey another device\n%s", key_end + 1);
  expect_load(path, foreign, "written for another device");
  expect_load(path, "clconv-tuning 2\n", "line 1");
  expect_load(path,
              "\x7f"
              "ELF\x01\x01 binary junk\n",
              "line 1");
  char truncated[65536];
  snprintf(truncated, sizeof truncated, "%s", saved);
  truncated[strlen(truncated) - 1] = '\0'; /* the last line loses its newline */
  expect_load(path, truncated, "truncated");
  char bad_item[65536 + 64];
  snprintf(bad_item, sizeof bad_item, "%salgo fastest nd2\n", saved);
  expect_load(path, bad_item, "expected \"algo direct|gemm <shape>\" or");
  snprintf(bad_item, sizeof bad_item, "%sxgemm 1 2 3\n", saved);
  expect_load(path, bad_item, "xgemm needs 16 values");
  snprintf(bad_item, sizeof bad_item, "%scolour red\n", saved);
  expect_load(path, bad_item, "unknown item");
  snprintf(bad_item, sizeof bad_item, "%sdirect 5 7 0 nd2\n", saved); /* a kernel that does not exist */
  expect_load(path, bad_item, "expected \"algo direct|gemm <shape>\" or \"direct");
  expect_load(path, saved, NULL); /* and the intact file loads again */

  /* A file with small tiles for CLBlast's tiled kernel, used for every GEMM: the gemm algorithm pads all three
   * matrices to the tiles and CLBlast runs in place; every layout must still match the reference. */
  char tiled[65536 + 128];
  snprintf(tiled, sizeof tiled, "%.*sxgemm 0 1 16 2 8 8 16 8 8 16 0 0 0 0 2 2\nmin_indirect 1\n",
           (int)(key_end + 1 - saved), saved);
  expect_load(path, tiled, NULL);
  ctx = context(false);
  const clconv_conv_desc padded[] = {
      /* one group, three images side by side in each row, P 100 -> 112, T 150 -> 160, N 6 -> 16 */
      {.ndim = 2, .batch = 3, .in_channels = 6, .out_channels = 6, .in_size = {14, 14}, .kernel_size = {5, 5},
       .has_bias = true, .activation = {.kind = CLCONV_ACT_RELU}},
      /* groups, convolution mode, stride and padding */
      {.ndim = 2, .batch = 2, .in_channels = 4, .out_channels = 6, .groups = 2, .in_size = {9, 11},
       .kernel_size = {3, 2}, .stride = {2, 1}, .pad_before = {1, 0}, .pad_after = {0, 1}, .mode = CLCONV_MODE_CONV},
      /* depthwise 3-D */
      {.ndim = 3, .in_channels = 3, .out_channels = 3, .groups = 3, .in_size = {4, 5, 6}, .kernel_size = {2, 3, 3}},
      /* 1x1 on one image: padded, so through im2col rather than the input itself */
      {.ndim = 1, .in_channels = 5, .out_channels = 7, .in_size = {33}, .kernel_size = {1}},
      /* dilated 1-D */
      {.ndim = 1, .batch = 2, .in_channels = 3, .out_channels = 4, .in_size = {40}, .kernel_size = {3},
       .dilation = {3}, .pad_before = {2}},
  };
  for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++) {
    clconv_conv_desc d = padded[i];
    d.algorithm = CLCONV_ALGO_GEMM;
    assert_int_equal(sweep_check_conv(ctx, &d, &r, false, true, stderr, test_replay(test_seed())), 0);
  }
  clconv_context_destroy(ctx);
  remove(path);
  ctx = context(false);
  assert_non_null(strstr(clconv_context_tuning(ctx), "none ("));
  clconv_context_destroy(ctx);
}

/* A cache directory that cannot exist (under a regular file, which even root cannot create): the tune succeeds,
 * reports that nothing was saved, and its results hold in the context. */
static void test_tune_unwritable(void **state) {
  (void)TEST_CONTEXT(state);
  char blocker[1024], dir[1100];
  snprintf(blocker, sizeof blocker, "%s/not-a-directory", getenv("CLCONV_CACHE_DIR"));
  write_file(blocker, "a file\n");
  snprintf(dir, sizeof dir, "%s/sub", blocker);
  setenv("CLCONV_CACHE_DIR", dir, 1);
  clconv_context *ctx = context(true);
  clconv_tune_options o = {.budget_s = 0.5, .reps = 2};
  clconv_tune_shape per[1];
  clconv_tune_report rep;
  if (clconv_tune(ctx, shapes, 1, &o, per, &rep) != CLCONV_OK)
    fail_msg("tune: %s", clconv_last_error(ctx));
  assert_false(rep.saved);
  const char *note = clconv_context_tuning(ctx);
  if (!strstr(note, "for this context only") || !strstr(note, "cannot create"))
    fail_msg("note \"%s\"", note);
  clconv_conv *op;
  assert_int_equal(clconv_conv_create(ctx, &shapes[0], &op), CLCONV_OK);
  assert_int_equal(clconv_conv_algorithm(op), per[0].algo);
  clconv_conv_destroy(op);
  clconv_context_destroy(ctx);
  remove(blocker);
}

int main(int argc, char **argv) {
  bool unwritable = argc > 1 && !strcmp(argv[1], "unwritable");
  const char *dir = getenv("CLCONV_CACHE_DIR");
  if (!dir || !*dir) {
    fprintf(stderr, "CLCONV_CACHE_DIR must point to a scratch directory (ctest sets it)\n");
    return 2;
  }
  /* a file left by an earlier run would be loaded by the group's context and override CLBlast before the tune */
  DIR *dd = opendir(dir);
  for (struct dirent *e; dd && (e = readdir(dd)) != NULL;)
    if (!strncmp(e->d_name, "tuning-", 7)) {
      char p[2048];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      remove(p);
    }
  if (dd)
    closedir(dd);
  const struct CMUnitTest save_load[] = {cmocka_unit_test(test_tune_save_load)},
                          unwritable_only[] = {cmocka_unit_test(test_tune_unwritable)};
  return unwritable ? cmocka_run_group_tests(unwritable_only, group_setup_context, group_teardown_context)
                    : cmocka_run_group_tests(save_load, group_setup_context, group_teardown_context);
}
