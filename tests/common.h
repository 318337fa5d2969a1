/* Shared test helpers: a small PRNG, the group context, random descriptors and device-vs-reference checks. */
#ifndef CLCONV_TEST_COMMON_H
#define CLCONV_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the above first */
#include <cmocka.h>

#include "clconv.h"

/* xoshiro-like 64-bit generator (splitmix64): tiny, portable, the same sequence everywhere. */
typedef struct test_rng {
  uint64_t s;
} test_rng;
uint64_t rng_next(test_rng *r);
uint32_t rng_int(test_rng *r, uint32_t lo, uint32_t hi); /* inclusive */
float rng_float(test_rng *r, float lo, float hi);
bool rng_chance(test_rng *r, double p);
/* CLCONV_TEST_SEED from the environment, else a fixed default. */
uint64_t test_seed(void);
/* Sweep size: CLCONV_TEST_COUNT, else dflt. */
uint32_t test_count(uint32_t dflt);

/* Group setup/teardown: *state is the clconv_context, or NULL when there is no OpenCL device (tests skip()). */
int group_setup_context(void **state);
int group_teardown_context(void **state);
#define TEST_CONTEXT(state) ((state) && *(state) ? (clconv_context *)*(state) : (skip(), (clconv_context *)NULL))

/* Host buffer helpers (fail the test on OOM). */
float *test_alloc(size_t n);
void fill_random(test_rng *r, float *v, size_t n, float lo, float hi);
void fill_integers(test_rng *r, float *v, size_t n, int lo, int hi);
clconv_tensor *upload(clconv_context *ctx, uint32_t ndim, const uint32_t *dims, const float *host);
void download(clconv_tensor *t, float *host);

/* Descriptions for failure messages. */
void conv_desc_str(const clconv_conv_desc *d, char *buf, size_t cap);
void pool_desc_str(const clconv_pool_desc *d, char *buf, size_t cap);
/* Index -> (n, c, d, h, w) for a tensor of dims {N, C, spatial...}. */
void index_str(size_t i, const uint32_t *dims, uint32_t ndim, char *buf, size_t cap);

/* Random descriptors for the sweeps (every axis, stride, padding, dilation and group variant). */
void random_conv_desc(test_rng *r, clconv_conv_desc *d, bool exact);
void random_pool_desc(test_rng *r, clconv_pool_desc *d, const uint32_t *in_size, uint32_t ndim);
void random_activation(test_rng *r, clconv_activation *a);

/* Runs desc on the device and on the reference; compares element-wise with the library's tolerance (exact
 * when exact). Returns 0 on a match; on a mismatch prints the configuration, seed and first bad index. */
int check_conv(clconv_context *ctx, const clconv_conv_desc *d, test_rng *r, bool exact, uint64_t seed,
               bool mutation_test);
int check_pool(clconv_context *ctx, const clconv_pool_desc *d, test_rng *r, uint64_t seed);
int check_layer(clconv_context *ctx, const clconv_layer_desc *d, test_rng *r, uint64_t seed);

#endif
