/* Test infrastructure: the group context, seeds and counts, host/device helpers. The random configurations and
 * device-vs-reference checks are src/cli/sweep.h, shared with `clconv validate`. */
#ifndef CLCONV_TEST_COMMON_H
#define CLCONV_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the above first */
#include <cmocka.h>

#include "clconv.h"
#include "sweep.h"

/* CLCONV_TEST_SEED from the environment, else a fixed default. */
uint64_t test_seed(void);
/* Sweep size: CLCONV_TEST_COUNT, else dflt. */
uint32_t test_count(uint32_t dflt);
/* "CLCONV_TEST_SEED=<seed>" for failure messages; static buffer. */
const char *test_replay(uint64_t seed);

/* Group setup/teardown: *state is the clconv_context, or NULL when there is no OpenCL device (tests skip()). */
int group_setup_context(void **state);
/* As group_setup_context, the context's profile TEST_CPU8 whatever the device. */
int group_setup_cpu8_context(void **state);
int group_teardown_context(void **state);
/* A context on the default device whose choice rules assume the profile (cls, lanes) whatever the device is: for
 * tests that name the kernel the rules pick. Skips the test when there is no device. */
clconv_context *test_profile_context(clconv_device_class cls, uint32_t lanes);
/* The profile the tests that name kernels were written for: a CPU with 8 float lanes (AVX2). */
#define TEST_CPU8 CLCONV_CLASS_CPU, 8
#define TEST_CONTEXT(state) ((state) && *(state) ? (clconv_context *)*(state) : (skip(), (clconv_context *)NULL))

/* Host buffer and tensor helpers that fail the test on error. upload makes a float32 tensor, upload_as one of dt
 * (host: values of dt, see sweep_round; NULL: contents undefined); download reads any type into floats. */
float *test_alloc(size_t n);
clconv_tensor *upload(clconv_context *ctx, uint32_t ndim, const uint32_t *dims, const float *host);
clconv_tensor *upload_as(clconv_context *ctx, clconv_dtype dt, uint32_t ndim, const uint32_t *dims,
                         const float *host);
void download(clconv_tensor *t, float *host);
/* Sweeps draw every element type in turn: trial i runs in TEST_DTYPE(i). */
#define TEST_DTYPE(i) ((clconv_dtype)((i) % CLCONV_DTYPE_COUNT))

#endif
