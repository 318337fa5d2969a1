#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t test_seed(void) {
  const char *s = getenv("CLCONV_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 20261125u;
}

uint32_t test_count(uint32_t dflt) {
  const char *s = getenv("CLCONV_TEST_COUNT");
  return s && *s ? (uint32_t)strtoul(s, NULL, 0) : dflt;
}

static int setup(void **state, const clconv_context_options *opt) {
  clconv_context *ctx = NULL;
  clconv_status s = clconv_context_create(opt, &ctx);
  if (s == CLCONV_ERR_DEVICE_NOT_FOUND) {
    fprintf(stderr, "no OpenCL device, device tests are skipped: %s\n", clconv_last_error(NULL));
    *state = NULL;
    return 0;
  }
  if (s != CLCONV_OK) {
    fprintf(stderr, "context_create failed: %s\n", clconv_last_error(NULL));
    return -1;
  }
  *state = ctx;
  return 0;
}

int group_setup_context(void **state) { return setup(state, NULL); }

int group_setup_cpu8_context(void **state) {
  return setup(state, &(clconv_context_options){.device_class = CLCONV_CLASS_CPU, .vector_width = 8});
}

clconv_context *test_profile_context(clconv_device_class cls, uint32_t lanes) {
  clconv_context_options opt = {.device_class = cls, .vector_width = lanes};
  clconv_context *ctx = NULL;
  clconv_status s = clconv_context_create(&opt, &ctx);
  if (s == CLCONV_ERR_DEVICE_NOT_FOUND)
    skip();
  if (s != CLCONV_OK)
    fail_msg("context_create with a profile: %s", clconv_last_error(NULL));
  return ctx;
}

int group_teardown_context(void **state) {
  clconv_context_destroy(*state);
  return 0;
}

float *test_alloc(size_t n) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  assert_non_null(p);
  return p;
}

clconv_tensor *upload(clconv_context *ctx, uint32_t ndim, const uint32_t *dims, const float *host) {
  return upload_as(ctx, CLCONV_F32, ndim, dims, host);
}

clconv_tensor *upload_as(clconv_context *ctx, clconv_dtype dt, uint32_t ndim, const uint32_t *dims,
                         const float *host) {
  clconv_tensor *t = NULL;
  if (sweep_upload(ctx, dt, ndim, dims, host, &t) != CLCONV_OK)
    fail_msg("tensor_create or tensor_write: %s", clconv_last_error(ctx));
  return t;
}

void download(clconv_tensor *t, float *host) { assert_int_equal(sweep_download(t, host), CLCONV_OK); }

const char *test_replay(uint64_t seed) {
  static char buf[64];
  snprintf(buf, sizeof buf, "CLCONV_TEST_SEED=%llu", (unsigned long long)seed);
  return buf;
}
