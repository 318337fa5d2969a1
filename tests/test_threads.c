/* The threading contract (clconv.h): one context per thread, used concurrently. Four threads, each with its own
 * context, run mixed random ops (conv with both algorithms, so CLBlast too; layers) against the CPU reference at
 * the same time; each also checks that its failures land in its own last-error buffer (per context and, without a
 * context, per thread). scripts/test.sh runs it under ThreadSanitizer. */
#include "common.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4

typedef struct worker {
  int id, bad;
  uint32_t configs;
  char message[256];
} worker;

static void *run(void *arg) {
  worker *w = arg;
  clconv_context *ctx = NULL;
  if (clconv_context_create(NULL, &ctx) != CLCONV_OK) {
    snprintf(w->message, sizeof w->message, "context_create: %s", clconv_last_error(NULL));
    w->bad = 1;
    return NULL;
  }
  sweep_rng r = {test_seed() * 31 + (uint64_t)w->id};
  char replay[64];
  snprintf(replay, sizeof replay, "thread %d, CLCONV_TEST_SEED=%llu", w->id, (unsigned long long)test_seed());
  for (uint32_t i = 0; i < w->configs && !w->bad; i++) {
    int res;
    if (i % 3 == 0) {
      clconv_conv_desc d;
      sweep_conv_desc(&r, &d, 0, false);
      d.algorithm = i % 2 ? CLCONV_ALGO_GEMM : CLCONV_ALGO_DIRECT; /* CLBlast from several threads at once too */
      res = sweep_check_conv(ctx, &d, &r, false, false, stderr, replay);
    } else if (i % 3 == 1) {
      clconv_layer_desc l;
      memset(&l, 0, sizeof l);
      sweep_conv_desc(&r, &l.conv, 0, false);
      uint32_t out[3];
      clconv_conv_output_size(&l.conv, out);
      sweep_pool_desc(&r, &l.pool, out, l.conv.ndim);
      res = sweep_check_layer(ctx, &l, &r, stderr, replay);
    } else {
      /* a failure of this thread's own, then a check that the message is this thread's */
      char want[32];
      snprintf(want, sizeof want, "ndim = %d", 10 + w->id);
      clconv_conv_desc bad = {.ndim = (uint32_t)(10 + w->id), .in_channels = 1, .out_channels = 1};
      clconv_conv *op = NULL;
      res = clconv_conv_create(ctx, &bad, &op) == CLCONV_ERR_INVALID_ARGUMENT && strstr(clconv_last_error(ctx), want) &&
                    clconv_conv_validate(&bad) == CLCONV_ERR_INVALID_ARGUMENT && strstr(clconv_last_error(NULL), want)
                ? 0
                : 1;
      if (res)
        snprintf(w->message, sizeof w->message, "last error crossed threads: \"%s\"", clconv_last_error(ctx));
    }
    w->bad |= res != 0;
  }
  clconv_context_destroy(ctx);
  return NULL;
}

static void test_contexts_in_parallel(void **state) {
  (void)TEST_CONTEXT(state);
  pthread_t t[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){.id = i, .configs = test_count(60)};
    assert_int_equal(pthread_create(&t[i], NULL, run, &w[i]), 0);
  }
  int bad = 0;
  for (int i = 0; i < THREADS; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    if (w[i].bad)
      fprintf(stderr, "thread %d failed: %s\n", i, w[i].message);
    bad += w[i].bad;
  }
  print_message("threads: %d contexts, %u mixed configurations each, %d failed\n", THREADS, w[0].configs, bad);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_contexts_in_parallel)};
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
