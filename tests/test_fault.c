/* Fault injection: the Nth call through the OpenCL/allocation layer fails, for every N of a representative run
 * of each op family. Each failure must give OPENCL or OUT_OF_MEMORY with a message naming the call, leave the
 * output untouched, and leave the context usable. Leaks are caught by running this under LeakSanitizer
 * (scripts/leakcheck.sh). Links a private static build of the library with the injector compiled in. */
#include "common.h"
#include "fault.h"

#include <stdio.h>
#include <string.h>

typedef struct scenario {
  const char *name;
  /* Runs one op on a fresh context whose tensors are set up fault-free; returns the op's status. */
  clconv_status (*run)(clconv_context *ctx, clconv_tensor **io);
} scenario;

static const uint32_t xs[4] = {2, 3, 9, 7}, ws[4] = {4, 3, 3, 3}, bs = 4, ys[4] = {2, 4, 7, 5}, ps[4] = {2, 3, 4, 3},
                      ls[4] = {2, 4, 3, 2};
static const clconv_conv_desc conv_d = {.ndim = 2,
                                        .batch = 2,
                                        .in_channels = 3,
                                        .out_channels = 4,
                                        .in_size = {9, 7},
                                        .kernel_size = {3, 3},
                                        .has_bias = true,
                                        .activation = {.kind = CLCONV_ACT_TANH}};
static const clconv_pool_desc pool_d = {
    .ndim = 2, .batch = 2, .channels = 3, .in_size = {9, 7}, .window = {2, 2}, .kind = CLCONV_POOL_AVG};
static const clconv_layer_desc layer_d = {.conv = conv_d, .pool = {.window = {2, 2}, .stride = {2, 2}}};

/* io: x, w, b, y_conv, y_pool, y_layer, y_act */
static clconv_status run_conv(clconv_context *ctx, clconv_tensor **io) {
  return clconv_conv_forward(ctx, &conv_d, io[0], io[1], io[2], NULL, io[3]);
}
static clconv_status run_conv_gemm(clconv_context *ctx, clconv_tensor **io) {
  clconv_conv_desc d = conv_d;
  d.algorithm = CLCONV_ALGO_GEMM;
  return clconv_conv_forward(ctx, &d, io[0], io[1], io[2], NULL, io[3]);
}
/* The inference plan: an op with its weights set (packed) once, run with weights = NULL. */
static clconv_status run_plan(clconv_context *ctx, clconv_tensor **io) {
  clconv_conv *op = NULL;
  clconv_status s = clconv_conv_create(ctx, &conv_d, &op);
  if (s == CLCONV_OK)
    s = clconv_conv_set_weights(op, io[1], io[2]);
  if (s == CLCONV_OK)
    s = clconv_conv_run(op, io[0], NULL, NULL, NULL, io[3]);
  clconv_conv_destroy(op);
  return s;
}
static clconv_status run_pool(clconv_context *ctx, clconv_tensor **io) {
  return clconv_pool_forward(ctx, &pool_d, io[0], io[4]);
}
static clconv_status run_layer(clconv_context *ctx, clconv_tensor **io) {
  return clconv_layer_forward(ctx, &layer_d, io[0], io[1], io[2], NULL, io[5]);
}
static clconv_status run_act(clconv_context *ctx, clconv_tensor **io) {
  clconv_activation a = {.kind = CLCONV_ACT_ELU};
  return clconv_act_forward(ctx, &a, io[0], io[6]);
}

static clconv_tensor *make(clconv_context *ctx, uint32_t ndim, const uint32_t *dims, float fill) {
  clconv_tensor *t = NULL;
  assert_int_equal(clconv_tensor_create(ctx, CLCONV_F32, ndim, dims, &t), CLCONV_OK);
  size_t n = clconv_tensor_count(t);
  float *h = test_alloc(n);
  for (size_t i = 0; i < n; i++)
    h[i] = fill + (float)(i % 7) * 0.125f;
  assert_int_equal(clconv_tensor_write(t, h, n), CLCONV_OK);
  free(h);
  return t;
}

static bool named_failure(clconv_status s, const char *msg) {
  return (s == CLCONV_ERR_OPENCL || s == CLCONV_ERR_OUT_OF_MEMORY) &&
         (strstr(msg, "failed: CL_") || strstr(msg, "out of host memory") || strstr(msg, " floats"));
}

/* For N = 1, 2, ...: fresh context and tensors (no faults), then the op with the Nth call failing. Stops at the
 * first N past the op's last call, where the op must succeed. */
static void sweep(const scenario *sc, int *points) {
  for (long n = 1;; n++) {
    clconv_fault_fail_nth(0);
    clconv_context *ctx = NULL;
    assert_int_equal(clconv_context_create(NULL, &ctx), CLCONV_OK);
    clconv_tensor *io[7] = {make(ctx, 4, xs, -0.5f), make(ctx, 4, ws, -0.25f), make(ctx, 1, &bs, 0.5f),
                            make(ctx, 4, ys, 99.0f), make(ctx, 4, ps, 99.0f),  make(ctx, 4, ls, 99.0f),
                            make(ctx, 4, xs, 99.0f)};
    clconv_fault_fail_nth(n);
    clconv_status s = sc->run(ctx, io);
    long calls = clconv_fault_calls();
    clconv_fault_fail_nth(0);
    bool injected = n <= calls;
    if (injected) {
      if (!named_failure(s, clconv_last_error(ctx)))
        fail_msg("%s, call %ld failing: status %d (%s), message \"%s\"", sc->name, n, s, clconv_status_string(s),
                 clconv_last_error(ctx));
      /* nothing was enqueued, so every output still holds its fill */
      for (int t = 3; t < 7; t++) {
        size_t cnt = clconv_tensor_count(io[t]);
        float *h = test_alloc(cnt);
        download(io[t], h);
        for (size_t i = 0; i < cnt; i++)
          if (h[i] != 99.0f + (float)(i % 7) * 0.125f)
            fail_msg("%s, call %ld failing: output %d changed at %zu", sc->name, n, t, i);
        free(h);
      }
      /* the context is still usable */
      if (sc->run(ctx, io) != CLCONV_OK)
        fail_msg("%s: context unusable after call %ld failed: %s", sc->name, n, clconv_last_error(ctx));
    } else if (s != CLCONV_OK) {
      fail_msg("%s without faults: %s", sc->name, clconv_last_error(ctx));
    }
    assert_int_equal(clconv_context_finish(ctx), CLCONV_OK);
    for (int t = 0; t < 7; t++)
      clconv_tensor_destroy(io[t]);
    clconv_context_destroy(ctx);
    if (!injected) {
      *points += (int)(n - 1);
      return;
    }
  }
}

static void test_ops(void **state) {
  (void)TEST_CONTEXT(state);
  static const scenario scs[] = {{"conv", run_conv}, {"conv gemm", run_conv_gemm}, {"conv plan", run_plan},
                                 {"pool", run_pool}, {"layer", run_layer},         {"act", run_act}};
  int points = 0;
  for (size_t i = 0; i < sizeof scs / sizeof scs[0]; i++)
    sweep(&scs[i], &points);
  print_message("fault injection: %d failing calls across conv (direct, gemm, plan with set weights), pool, layer and "
                "act, all handled\n",
                points);
  assert_true(points > 20);
}

/* Context creation (with the gemm warm-up), and tensor create/write/read. */
static void test_context_and_tensors(void **state) {
  (void)TEST_CONTEXT(state);
  int points = 0;
  const clconv_context_options warm = {.warm_up_gemm = true};
  for (long n = 1;; n++) {
    clconv_fault_fail_nth(n);
    clconv_context *ctx = (clconv_context *)1;
    clconv_status s = clconv_context_create(&warm, &ctx);
    long calls = clconv_fault_calls();
    clconv_fault_fail_nth(0);
    if (n > calls) {
      assert_int_equal(s, CLCONV_OK);
      clconv_context_destroy(ctx);
      break;
    }
    if (!named_failure(s, clconv_last_error(NULL)))
      fail_msg("context_create, call %ld failing: status %d, \"%s\"", n, s, clconv_last_error(NULL));
    assert_null(ctx);
    points++;
  }
  clconv_context *ctx;
  assert_int_equal(clconv_context_create(NULL, &ctx), CLCONV_OK);
  float h[6] = {1, 2, 3, 4, 5, 6}, back[6];
  uint32_t dims[2] = {2, 3};
  for (long n = 1;; n++) {
    clconv_fault_fail_nth(n);
    clconv_tensor *t = NULL;
    clconv_status s = clconv_tensor_create(ctx, CLCONV_F32, 2, dims, &t);
    if (s == CLCONV_OK)
      s = clconv_tensor_write(t, h, 6);
    if (s == CLCONV_OK)
      s = clconv_tensor_read(t, back, 6);
    long calls = clconv_fault_calls();
    clconv_fault_fail_nth(0);
    clconv_tensor_destroy(t);
    if (n > calls) {
      assert_int_equal(s, CLCONV_OK);
      assert_memory_equal(h, back, sizeof h);
      break;
    }
    if (!named_failure(s, clconv_last_error(ctx)))
      fail_msg("tensor, call %ld failing: status %d, \"%s\"", n, s, clconv_last_error(ctx));
    points++;
  }
  clconv_context_destroy(ctx);
  print_message("fault injection: %d failing calls in context and tensor setup, all handled\n", points);
}

/* The layer calls of one run of an op made beforehand (kind: conv, pool, layer, act as in test_one_shot_cache). */
static long kept_run_calls(clconv_context *ctx, clconv_tensor **io, int kind) {
  clconv_conv *c = NULL;
  clconv_pool *p = NULL;
  clconv_layer *l = NULL;
  clconv_act *a = NULL;
  const clconv_activation elu = {.kind = CLCONV_ACT_ELU};
  assert_int_equal(kind == 0   ? clconv_conv_create(ctx, &conv_d, &c)
                   : kind == 1 ? clconv_pool_create(ctx, &pool_d, &p)
                   : kind == 2 ? clconv_layer_create(ctx, &layer_d, &l)
                               : clconv_act_create(ctx, &elu, &a),
                   CLCONV_OK);
  clconv_fault_fail_nth(0);
  assert_int_equal(kind == 0   ? clconv_conv_run(c, io[0], io[1], io[2], NULL, io[3])
                   : kind == 1 ? clconv_pool_run(p, io[0], io[4])
                   : kind == 2 ? clconv_layer_run(l, io[0], io[1], io[2], NULL, io[5])
                               : clconv_act_run(a, io[0], io[6]),
                   CLCONV_OK);
  long calls = clconv_fault_calls();
  clconv_conv_destroy(c);
  clconv_pool_destroy(p);
  clconv_layer_destroy(l);
  clconv_act_destroy(a);
  return calls;
}

/* The one-shot calls keep their ops: a repeated call of conv, pool, layer or act passes the layer (OpenCL calls and
 * allocations) exactly as often as one run of an op made beforehand — no kernel, buffer or op is made again — and,
 * the cache being 8 ops of any kind, eight other descriptors evict the oldest. Results are checked against the
 * reference by the op tests, which use the one-shot calls throughout. */
static void test_one_shot_cache(void **state) {
  (void)TEST_CONTEXT(state);
  clconv_context *ctx;
  assert_int_equal(clconv_context_create(NULL, &ctx), CLCONV_OK);
  clconv_tensor *io[7] = {make(ctx, 4, xs, -0.5f), make(ctx, 4, ws, -0.25f), make(ctx, 1, &bs, 0.5f),
                          make(ctx, 4, ys, 0.0f),  make(ctx, 4, ps, 0.0f),   make(ctx, 4, ls, 0.0f),
                          make(ctx, 4, xs, 0.0f)};
  static const scenario kinds[] = {{"conv", run_conv}, {"pool", run_pool}, {"layer", run_layer}, {"act", run_act}};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    long calls[3], kept = kept_run_calls(ctx, io, (int)k);
    for (int i = 0; i < 3; i++) {
      clconv_fault_fail_nth(0);
      assert_int_equal(kinds[k].run(ctx, io), CLCONV_OK);
      calls[i] = clconv_fault_calls();
    }
    print_message("one-shot %s: %ld layer calls the first time, %ld and %ld after; a kept op's run %ld\n",
                  kinds[k].name, calls[0], calls[1], calls[2], kept);
    assert_true(calls[1] == kept && calls[2] == kept && calls[0] > kept);
  }
  /* eight other descriptors (different activations) push the oldest, the conv, out: it is made again */
  clconv_fault_fail_nth(0);
  assert_int_equal(run_conv(ctx, io), CLCONV_OK);
  long again = clconv_fault_calls();
  for (int k = 1; k <= 8; k++) {
    clconv_conv_desc d = conv_d;
    d.activation = (clconv_activation){.kind = CLCONV_ACT_CLIP, .alpha = -(float)k, .beta = (float)k};
    assert_int_equal(clconv_conv_forward(ctx, &d, io[0], io[1], io[2], NULL, io[3]), CLCONV_OK);
  }
  clconv_fault_fail_nth(0);
  assert_int_equal(run_conv(ctx, io), CLCONV_OK);
  assert_true(clconv_fault_calls() > again);
  for (int t = 0; t < 7; t++)
    clconv_tensor_destroy(io[t]);
  clconv_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_context_and_tensors),
      cmocka_unit_test(test_ops),
      cmocka_unit_test(test_one_shot_cache),
  };
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
