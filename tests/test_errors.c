/* Error paths that need a device: every status code, NULLs, foreign objects, device selection, existing OpenCL
 * objects, and the rule that a failed call leaves its output untouched. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT(call, status, text)                                                                                     \
  do {                                                                                                                 \
    clconv_status s_ = (call);                                                                                         \
    const char *e_ = clconv_last_error(err_ctx);                                                                       \
    if (s_ != (status) || !strstr(e_, (text)))                                                                         \
      fail_msg("%s: status %d (%s), message \"%s\"; want %d and \"%s\"", #call, s_, clconv_status_string(s_), e_,      \
               (status), (text));                                                                                      \
  } while (0)

static void test_devices(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const clconv_context *err_ctx = NULL;
  uint32_t n = 0;
  assert_int_equal(clconv_device_count(&n), CLCONV_OK);
  assert_true(n >= 1);
  clconv_device_info info;
  assert_int_equal(clconv_device_get_info(0, &info), CLCONV_OK);
  assert_true(strlen(info.name) > 0 && info.max_alloc_bytes > 0 && info.max_work_group_size > 0);
  EXPECT(clconv_device_get_info(n, &info), CLCONV_ERR_DEVICE_NOT_FOUND, "but there are");
  EXPECT(clconv_device_count(NULL), CLCONV_ERR_INVALID_ARGUMENT, "count is NULL");
  assert_int_equal(clconv_context_get_device_info(ctx, &info), CLCONV_OK);
  assert_non_null(clconv_context_queue(ctx));
  cl_context cl = NULL;
  cl_device_id dev = NULL;
  assert_int_equal(clconv_context_get_cl(ctx, &cl, &dev), CLCONV_OK);
  assert_true(cl != NULL && dev != NULL);
  EXPECT(clconv_context_get_cl(ctx, NULL, &dev), CLCONV_ERR_INVALID_ARGUMENT, "context_get_cl");
  assert_int_equal(clconv_context_finish(ctx), CLCONV_OK);
}

static void test_device_selection(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state), *c2 = NULL;
  const clconv_context *err_ctx = NULL;
  clconv_device_info info;
  assert_int_equal(clconv_context_get_device_info(ctx, &info), CLCONV_OK);
  /* by index, and by a case-changed substring of the name */
  clconv_context_options o = {.device = "0"};
  assert_int_equal(clconv_context_create(&o, &c2), CLCONV_OK);
  clconv_context_destroy(c2);
  char sub[5] = {0};
  for (int i = 0; i < 4 && info.name[i]; i++)
    sub[i] = (char)toupper((unsigned char)info.name[i]);
  o.device = sub;
  assert_int_equal(clconv_context_create(&o, &c2), CLCONV_OK);
  clconv_context_destroy(c2);
  o.device = "no-such-device";
  EXPECT(clconv_context_create(&o, &c2), CLCONV_ERR_DEVICE_NOT_FOUND, "options.device = \"no-such-device\"");
  assert_null(c2);
  o.device = "99";
  EXPECT(clconv_context_create(&o, &c2), CLCONV_ERR_DEVICE_NOT_FOUND, "index out of range");
  /* the environment variable applies when options do not name a device */
  setenv("CLCONV_DEVICE", "nothing-like-this", 1);
  EXPECT(clconv_context_create(NULL, &c2), CLCONV_ERR_DEVICE_NOT_FOUND, "CLCONV_DEVICE = \"nothing-like-this\"");
  setenv("CLCONV_DEVICE", "0", 1);
  assert_int_equal(clconv_context_create(NULL, &c2), CLCONV_OK);
  clconv_context_destroy(c2);
  unsetenv("CLCONV_DEVICE");
  EXPECT(clconv_context_create(NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "out is NULL");
}

/* The profile's overrides: the context option wins over the environment, the environment over the device; bad
 * values fail by name; the rest of the profile is the device's whatever the overrides. */
static void test_profile_overrides(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state), *c2 = NULL;
  const clconv_context *err_ctx = NULL;
  clconv_device_info info;
  clconv_device_profile dev, p;
  /* the device's own profile: without the overrides the caller's environment may hold (restored at the end) */
  char *cls_env = getenv("CLCONV_DEVICE_CLASS"), *width_env = getenv("CLCONV_VECTOR_WIDTH");
  cls_env = cls_env ? strdup(cls_env) : NULL;
  width_env = width_env ? strdup(width_env) : NULL;
  unsetenv("CLCONV_DEVICE_CLASS");
  unsetenv("CLCONV_VECTOR_WIDTH");
  assert_int_equal(clconv_context_get_device_info(ctx, &info), CLCONV_OK);
  assert_int_equal(clconv_context_create(NULL, &c2), CLCONV_OK);
  assert_int_equal(clconv_context_profile(c2, &dev), CLCONV_OK);
  clconv_context_destroy(c2);
  assert_int_equal(dev.device_class, info.is_gpu ? CLCONV_CLASS_GPU : CLCONV_CLASS_CPU);
  assert_true(dev.max_work_group_size == info.max_work_group_size && dev.local_mem_bytes == info.local_mem_bytes);
  assert_true(dev.max_work_item_sizes[0] >= 1 && dev.max_work_groups[1] == 65535 && dev.max_work_groups[2] == 65535);
  setenv("CLCONV_DEVICE_CLASS", "GPU", 1);
  setenv("CLCONV_VECTOR_WIDTH", "2", 1);
  assert_int_equal(clconv_context_create(NULL, &c2), CLCONV_OK);
  assert_int_equal(clconv_context_profile(c2, &p), CLCONV_OK);
  assert_true(p.device_class == CLCONV_CLASS_GPU && p.vector_width == 2);
  assert_true(p.max_work_group_size == dev.max_work_group_size && p.max_alloc_bytes == dev.max_alloc_bytes);
  clconv_context_destroy(c2);
  clconv_context_options o = {.device_class = CLCONV_CLASS_CPU, .vector_width = 16};
  assert_int_equal(clconv_context_create(&o, &c2), CLCONV_OK);
  assert_int_equal(clconv_context_profile(c2, &p), CLCONV_OK);
  assert_true(p.device_class == CLCONV_CLASS_CPU && p.vector_width == 16);
  clconv_context_destroy(c2);
  setenv("CLCONV_DEVICE_CLASS", "fpga", 1);
  EXPECT(clconv_context_create(NULL, &c2), CLCONV_ERR_INVALID_ARGUMENT, "CLCONV_DEVICE_CLASS = \"fpga\"");
  assert_null(c2);
  unsetenv("CLCONV_DEVICE_CLASS");
  setenv("CLCONV_VECTOR_WIDTH", "32", 1);
  EXPECT(clconv_context_create(NULL, &c2), CLCONV_ERR_INVALID_ARGUMENT, "CLCONV_VECTOR_WIDTH = \"32\"");
  unsetenv("CLCONV_VECTOR_WIDTH");
  o = (clconv_context_options){.device_class = (clconv_device_class)3};
  EXPECT(clconv_context_create(&o, &c2), CLCONV_ERR_INVALID_ARGUMENT, "options.device_class = 3");
  o = (clconv_context_options){.vector_width = 3};
  EXPECT(clconv_context_create(&o, &c2), CLCONV_ERR_INVALID_ARGUMENT, "options.vector_width = 3");
  assert_null(c2);
  EXPECT(clconv_context_profile(NULL, &p), CLCONV_ERR_INVALID_ARGUMENT, "context_profile");
  if (cls_env)
    setenv("CLCONV_DEVICE_CLASS", cls_env, 1);
  if (width_env)
    setenv("CLCONV_VECTOR_WIDTH", width_env, 1);
  free(cls_env);
  free(width_env);
}

/* One row per status code that a device call can produce (OPENCL: test_fault). */
static void test_status_codes(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const clconv_context *err_ctx = ctx;
  clconv_tensor *t = NULL;
  const uint32_t huge[5] = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 5, huge, &t), CLCONV_ERR_SIZE_OVERFLOW, "byte count overflows");
  assert_null(t);
  const uint32_t big[2] = {1u << 20, 1u << 20}; /* 4 TiB */
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 2, big, &t), CLCONV_ERR_OUT_OF_MEMORY, "device max allocation");
  assert_null(t);
  /* Under a device memory limit (ctest's errors_memory_limit runs this program with POCL_MEMORY_LIMIT=1, GiB): the
   * device reports the smaller limit, and one float past it is refused up front, before any allocation. */
  if (getenv("POCL_MEMORY_LIMIT")) {
    clconv_device_info info;
    assert_int_equal(clconv_context_get_device_info(ctx, &info), CLCONV_OK);
    print_message("POCL_MEMORY_LIMIT=%s: global %llu MiB, max allocation %llu MiB\n", getenv("POCL_MEMORY_LIMIT"),
                  (unsigned long long)(info.global_mem_bytes >> 20), (unsigned long long)(info.max_alloc_bytes >> 20));
    assert_true(info.global_mem_bytes <= (1ull << 30));
    const uint32_t past[1] = {(uint32_t)(info.max_alloc_bytes / sizeof(float) + 1)};
    EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 1, past, &t), CLCONV_ERR_OUT_OF_MEMORY, "device max allocation");
    assert_null(t);
  }
  /* 2^32 input elements: valid, but beyond what the 32-bit-indexed kernels address */
  clconv_conv_desc wide = {
      .ndim = 2, .in_channels = 1, .out_channels = 1, .in_size = {65536, 65536}, .kernel_size = {1, 1}};
  clconv_conv *op = NULL;
  EXPECT(clconv_conv_create(ctx, &wide, &op), CLCONV_ERR_UNSUPPORTED, "32-bit ints");
  assert_null(op);
  /* small tensors, but window coordinates past 2^31 */
  clconv_conv_desc far = {.ndim = 1,
                          .in_channels = 1,
                          .out_channels = 1,
                          .in_size = {4},
                          .kernel_size = {1},
                          .stride = {0x7fffffff},
                          .pad_before = {0x7fffffff},
                          .pad_after = {0x7fffffff}};
  EXPECT(clconv_conv_create(ctx, &far, &op), CLCONV_ERR_UNSUPPORTED, "largest padded extent 4294967298");
  clconv_pool_desc pfar = {
      .ndim = 1, .channels = 1, .in_size = {0x7fffffff}, .window = {3}, .pad_before = {2}, .pad_after = {2}};
  clconv_pool *pop = NULL;
  EXPECT(clconv_pool_create(ctx, &pfar, &pop), CLCONV_ERR_UNSUPPORTED, "32-bit ints");
  assert_null(pop);
  clconv_conv_desc bad = {.ndim = 1, .in_channels = 1, .out_channels = 1, .in_size = {4}, .kernel_size = {0}};
  EXPECT(clconv_conv_create(ctx, &bad, &op), CLCONV_ERR_INVALID_ARGUMENT, "conv_create: kernel_size[0] = 0");

  /* A forced build failure: the user's options redefine ACT, which the kernel source rejects with #error. */
  clconv_context *broken = NULL;
  clconv_context_options o = {.build_options = "-DACT=99"};
  assert_int_equal(clconv_context_create(&o, &broken), CLCONV_OK);
  err_ctx = broken;
  clconv_conv_desc ok = {.ndim = 1, .in_channels = 1, .out_channels = 1, .in_size = {4}, .kernel_size = {3}};
  char range[64];
  snprintf(range, sizeof range, "ACT must be 0..%d", CLCONV_ACT_COUNT - 1);
  EXPECT(clconv_conv_create(broken, &ok, &op), CLCONV_ERR_BUILD_FAILED, range);
  assert_non_null(strstr(clconv_last_error(broken), "options: -cl-std=CL1.2"));
  assert_null(op);
  clconv_context_destroy(broken);
}

/* Objects of one context passed to another; shapes that disagree; aliasing; and dst untouched by every failure. */
static void test_run_errors_leave_dst(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state), *other = NULL;
  const clconv_context *err_ctx = ctx;
  assert_int_equal(clconv_context_create(NULL, &other), CLCONV_OK);
  clconv_conv_desc d = {
      .ndim = 2, .in_channels = 3, .out_channels = 2, .in_size = {8, 8}, .kernel_size = {3, 3}, .has_bias = true};
  uint32_t xs[4] = {1, 3, 8, 8}, x4[4] = {1, 4, 8, 8}, ws[4] = {2, 3, 3, 3}, ys[4] = {1, 2, 6, 6}, bs = 2, b3 = 3;
  float x[192] = {0}, w[54] = {0}, sentinel[72], y[72];
  for (int i = 0; i < 72; i++)
    sentinel[i] = (float)i + 0.5f;
  clconv_tensor *tx = upload(ctx, 4, xs, x), *tx4 = upload(ctx, 4, x4, NULL), *tw = upload(ctx, 4, ws, w),
                *tb = upload(ctx, 1, &bs, (float[]){1, 1}), *tb3 = upload(ctx, 1, &b3, NULL),
                *ty = upload(ctx, 4, ys, sentinel), *foreign = upload(other, 4, xs, x);
  clconv_conv *op;
  assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
  EXPECT(clconv_conv_run(op, tx4, tw, tb, NULL, ty), CLCONV_ERR_SHAPE_MISMATCH,
         "conv_run: src has dims [1, 4, 8, 8], the descriptor needs [1, 3, 8, 8]");
  EXPECT(clconv_conv_run(op, tx, tw, tb3, NULL, ty), CLCONV_ERR_SHAPE_MISMATCH, "bias has dims [3]");
  EXPECT(clconv_conv_run(op, tx, tw, NULL, NULL, ty), CLCONV_ERR_INVALID_ARGUMENT, "bias is NULL");
  EXPECT(clconv_conv_run(op, foreign, tw, tb, NULL, ty), CLCONV_ERR_WRONG_CONTEXT, "src belongs to another");
  EXPECT(clconv_conv_run(op, tx, tw, tb, NULL, tx), CLCONV_ERR_SHAPE_MISMATCH, "dst has dims");
  EXPECT(clconv_conv_run(op, tx, tw, tb, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "dst is NULL");
  err_ctx = NULL; /* no op, so no context: the thread's buffer */
  EXPECT(clconv_conv_run(NULL, tx, tw, tb, NULL, ty), CLCONV_ERR_INVALID_ARGUMENT, "op is NULL");
  err_ctx = ctx;
  download(ty, y);
  assert_memory_equal(y, sentinel, sizeof y);
  clconv_conv_destroy(op);

  d.has_bias = false;
  assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
  EXPECT(clconv_conv_run(op, tx, tw, tb, NULL, ty), CLCONV_ERR_INVALID_ARGUMENT, "bias given but has_bias = false");
  EXPECT(clconv_conv_run(op, tx, tw, NULL, ty, ty), CLCONV_ERR_INVALID_ARGUMENT,
         "residual given but has_residual = false");
  clconv_conv_destroy(op);
  d.has_residual = true;
  assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
  EXPECT(clconv_conv_run(op, tx, tw, NULL, NULL, ty), CLCONV_ERR_INVALID_ARGUMENT, "residual is NULL");
  EXPECT(clconv_conv_run(op, tx, tw, NULL, tx, ty), CLCONV_ERR_SHAPE_MISMATCH,
         "residual has dims [1, 3, 8, 8], the descriptor needs [1, 2, 6, 6]");
  EXPECT(clconv_conv_run(op, tx, tw, NULL, foreign, ty), CLCONV_ERR_WRONG_CONTEXT, "residual belongs to another");
  clconv_conv_destroy(op);
  download(ty, y);
  assert_memory_equal(y, sentinel, sizeof y);
  d.has_residual = false;

  /* in place is an error for conv and pool, fine for activations */
  clconv_conv_desc same = {.ndim = 2, .in_channels = 3, .out_channels = 3, .in_size = {8, 8}, .kernel_size = {1, 1}};
  assert_int_equal(clconv_conv_create(ctx, &same, &op), CLCONV_OK);
  uint32_t w1[4] = {3, 3, 1, 1};
  clconv_tensor *tw1 = upload(ctx, 4, w1, NULL);
  EXPECT(clconv_conv_run(op, tx, tw1, NULL, NULL, tx), CLCONV_ERR_INVALID_ARGUMENT, "dst aliases an input");
  clconv_conv_destroy(op);
  clconv_pool_desc p = {.ndim = 2, .channels = 3, .in_size = {8, 8}, .window = {1, 1}};
  EXPECT(clconv_pool_forward(ctx, &p, tx, tx), CLCONV_ERR_INVALID_ARGUMENT, "pooling cannot run in place");
  p.window[0] = p.window[1] = 2;
  EXPECT(clconv_pool_forward(ctx, &p, tx, ty), CLCONV_ERR_SHAPE_MISMATCH, "dst has dims [1, 2, 6, 6]");

  /* the layer checks dst before anything is enqueued */
  clconv_layer_desc l = {.conv = d, .pool = {.window = {2, 2}}};
  EXPECT(clconv_layer_forward(ctx, &l, tx, tw, NULL, NULL, ty), CLCONV_ERR_SHAPE_MISMATCH, "layer_run: dst has dims");
  download(ty, y);
  assert_memory_equal(y, sentinel, sizeof y);

  /* tensor copies must match the element count exactly */
  EXPECT(clconv_tensor_write(ty, y, 71), CLCONV_ERR_SHAPE_MISMATCH, "count_elems = 71, tensor holds 72");
  EXPECT(clconv_tensor_read(ty, NULL, 72), CLCONV_ERR_INVALID_ARGUMENT, "host pointer is NULL");

  clconv_tensor *list[] = {tx, tx4, tw, tb, tb3, ty, foreign, tw1};
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    clconv_tensor_destroy(list[i]);
  clconv_context_destroy(other);
}

/* Element types: an unknown dtype anywhere, tensors of another type than the descriptor's (each op, each tensor
 * role, the message naming both types), and dst untouched by every failure. */
static void test_dtype_errors(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const clconv_context *err_ctx = ctx;
  uint32_t xs[4] = {1, 2, 6, 6}, ws[4] = {2, 2, 3, 3}, ys[4] = {1, 2, 4, 4}, ps[4] = {1, 2, 2, 2}, bs = 2;
  clconv_tensor *t = NULL;
  EXPECT(clconv_tensor_create(ctx, (clconv_dtype)3, 4, xs, &t), CLCONV_ERR_INVALID_ARGUMENT,
         "tensor_create: dtype = 3, must be CLCONV_F32 (0), CLCONV_F16 (1) or CLCONV_BF16 (2)");
  assert_null(t);
  assert_null(clconv_dtype_name((clconv_dtype)3));
  assert_int_equal(clconv_dtype_size((clconv_dtype)-1), 0);
  err_ctx = NULL;
  clconv_conv_desc d = {.ndim = 2, .in_channels = 2, .out_channels = 2, .in_size = {6, 6}, .kernel_size = {3, 3},
                        .has_bias = true, .has_residual = true, .dtype = (clconv_dtype)7};
  EXPECT(clconv_conv_validate(&d), CLCONV_ERR_INVALID_ARGUMENT, "conv_validate: dtype = 7");
  clconv_pool_desc p = {.ndim = 2, .channels = 2, .in_size = {4, 4}, .window = {2, 2}, .dtype = (clconv_dtype)-1};
  EXPECT(clconv_pool_validate(&p), CLCONV_ERR_INVALID_ARGUMENT, "pool_validate: dtype = -1");
  float x = 1.0f, y;
  clconv_tolerance tol = {.dtype = (clconv_dtype)5};
  clconv_compare_result res;
  EXPECT(clconv_compare(&x, &x, NULL, 1, &tol, &res), CLCONV_ERR_INVALID_ARGUMENT, "compare: tol->dtype = 5");
  EXPECT(clconv_ref_act(&(clconv_activation){0}, (clconv_dtype)4, &x, &y, 1), CLCONV_ERR_INVALID_ARGUMENT,
         "ref_act: dtype = 4");
  clconv_layer_desc l = {.conv = d, .pool = {.window = {2, 2}, .dtype = CLCONV_BF16}};
  l.conv.dtype = CLCONV_F16;
  EXPECT(clconv_layer_validate(&l), CLCONV_ERR_INVALID_ARGUMENT, "pool.dtype = 2, conv.dtype = 1");
  err_ctx = ctx;

  /* a float16 convolution given float32 tensors in each role, then a bfloat16 one */
  float sentinel[32];
  for (int i = 0; i < 32; i++)
    sentinel[i] = (float)i;
  clconv_tensor *hx = upload_as(ctx, CLCONV_F16, 4, xs, NULL), *hw = upload_as(ctx, CLCONV_F16, 4, ws, NULL),
                *hb = upload_as(ctx, CLCONV_F16, 1, &bs, NULL), *hz = upload_as(ctx, CLCONV_F16, 4, ys, NULL),
                *hy = upload_as(ctx, CLCONV_F16, 4, ys, sentinel), *fx = upload(ctx, 4, xs, NULL),
                *fw = upload(ctx, 4, ws, NULL), *fb = upload(ctx, 1, &bs, NULL), *fz = upload(ctx, 4, ys, NULL),
                *fy = upload(ctx, 4, ys, NULL), *by = upload_as(ctx, CLCONV_BF16, 4, ys, NULL),
                *hp = upload_as(ctx, CLCONV_F16, 4, ps, NULL);
  assert_int_equal(clconv_tensor_dtype(hx), CLCONV_F16);
  assert_int_equal(clconv_tensor_dtype(by), CLCONV_BF16);
  assert_int_equal(clconv_tensor_dtype(NULL), CLCONV_F32);
  d.dtype = CLCONV_F16;
  clconv_conv *op;
  assert_int_equal(clconv_conv_create(ctx, &d, &op), CLCONV_OK);
  EXPECT(clconv_conv_run(op, fx, hw, hb, hz, hy), CLCONV_ERR_DTYPE_MISMATCH,
         "conv_run: src is float32, the descriptor's dtype is float16");
  EXPECT(clconv_conv_run(op, hx, fw, hb, hz, hy), CLCONV_ERR_DTYPE_MISMATCH, "weights is float32");
  EXPECT(clconv_conv_run(op, hx, hw, fb, hz, hy), CLCONV_ERR_DTYPE_MISMATCH, "bias is float32");
  EXPECT(clconv_conv_run(op, hx, hw, hb, fz, hy), CLCONV_ERR_DTYPE_MISMATCH, "residual is float32");
  EXPECT(clconv_conv_run(op, hx, hw, hb, hz, fy), CLCONV_ERR_DTYPE_MISMATCH, "dst is float32");
  EXPECT(clconv_conv_run(op, hx, hw, hb, hz, by), CLCONV_ERR_DTYPE_MISMATCH,
         "dst is bfloat16, the descriptor's dtype is float16");
  EXPECT(clconv_conv_set_weights(op, fw, hb), CLCONV_ERR_DTYPE_MISMATCH, "conv_set_weights: weights is float32");
  clconv_conv_destroy(op);
  clconv_layer *lop;
  l.pool.dtype = 0;
  assert_int_equal(clconv_layer_create(ctx, &l, &lop), CLCONV_OK);
  EXPECT(clconv_layer_run(lop, hx, hw, hb, hz, fy), CLCONV_ERR_DTYPE_MISMATCH, "layer_run: dst is float32");
  EXPECT(clconv_layer_run(lop, fx, hw, hb, hz, hp), CLCONV_ERR_DTYPE_MISMATCH, "src is float32");
  clconv_layer_destroy(lop);
  p.dtype = CLCONV_F16;
  p.in_size[0] = p.in_size[1] = 4;
  clconv_pool *pop;
  assert_int_equal(clconv_pool_create(ctx, &p, &pop), CLCONV_OK);
  EXPECT(clconv_pool_run(pop, fz, hp), CLCONV_ERR_DTYPE_MISMATCH, "pool_run: src is float32");
  clconv_pool_destroy(pop);
  EXPECT(clconv_act_forward(ctx, &(clconv_activation){.kind = CLCONV_ACT_RELU}, hz, fy), CLCONV_ERR_DTYPE_MISMATCH,
         "act_run: src is float16, dst is float32");
  float got[32];
  download(hy, got);
  assert_memory_equal(got, sentinel, sizeof got);
  clconv_tensor *all[] = {hx, hw, hb, hz, hy, fx, fw, fb, fz, fy, by, hp};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    clconv_tensor_destroy(all[i]);
}

static void test_null_and_bad_arguments(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const clconv_context *err_ctx = ctx;
  uint32_t dims[2] = {2, 3}, zero[2] = {2, 0};
  clconv_tensor *t = NULL;
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 0, dims, &t), CLCONV_ERR_INVALID_ARGUMENT, "ndim = 0, must be 1..5");
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 6, dims, &t), CLCONV_ERR_INVALID_ARGUMENT, "ndim = 6");
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 2, zero, &t), CLCONV_ERR_INVALID_ARGUMENT, "dims[1] = 0");
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 2, NULL, &t), CLCONV_ERR_INVALID_ARGUMENT, "dims is NULL");
  EXPECT(clconv_tensor_create(ctx, CLCONV_F32, 2, dims, NULL), CLCONV_ERR_INVALID_ARGUMENT, "out is NULL");
  EXPECT(clconv_tensor_wrap(ctx, NULL, CLCONV_F32, 2, dims, &t), CLCONV_ERR_INVALID_ARGUMENT, "mem is NULL");
  err_ctx = NULL;
  EXPECT(clconv_tensor_create(NULL, CLCONV_F32, 2, dims, &t), CLCONV_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(clconv_conv_create(NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(clconv_pool_create(NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(clconv_act_create(NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(clconv_layer_create(NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "ctx is NULL");
  EXPECT(clconv_act_run(NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "op is NULL");
  EXPECT(clconv_pool_run(NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "op is NULL");
  EXPECT(clconv_layer_run(NULL, NULL, NULL, NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "op is NULL");
  EXPECT(clconv_ref_conv(NULL, NULL, NULL, NULL, NULL, NULL, NULL), CLCONV_ERR_INVALID_ARGUMENT, "desc is NULL");
  EXPECT(clconv_context_finish(NULL), CLCONV_ERR_INVALID_ARGUMENT, "ctx is NULL");
  err_ctx = ctx;
  clconv_conv *c = (clconv_conv *)1;
  EXPECT(clconv_conv_create(ctx, NULL, &c), CLCONV_ERR_INVALID_ARGUMENT, "desc is NULL");
  assert_null(c);
  clconv_act *a = NULL;
  EXPECT(clconv_act_create(ctx, NULL, &a), CLCONV_ERR_INVALID_ARGUMENT, "act is NULL");
  clconv_layer *l = NULL;
  EXPECT(clconv_layer_create(ctx, NULL, &l), CLCONV_ERR_INVALID_ARGUMENT, "desc is NULL");
  /* destroy(NULL) and queries on NULL are harmless */
  clconv_tensor_destroy(NULL);
  clconv_conv_destroy(NULL);
  clconv_pool_destroy(NULL);
  clconv_act_destroy(NULL);
  clconv_layer_destroy(NULL);
  clconv_context_destroy(NULL);
  assert_int_equal(clconv_tensor_count(NULL), 0);
  assert_int_equal(clconv_tensor_dim(NULL, 0), 0);
  assert_null(clconv_tensor_mem(NULL));
}

/* A host program that owns its OpenCL objects: wrap them, run, and release in any order. */
static void test_existing_opencl_objects(void **state) {
  clconv_context *ctx = TEST_CONTEXT(state);
  const clconv_context *err_ctx = NULL;
  cl_device_id dev = NULL;
  cl_platform_id plat = NULL;
  cl_int err = clGetPlatformIDs(1, &plat, NULL);
  assert_int_equal(err, CL_SUCCESS);
  assert_int_equal(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL), CL_SUCCESS);
  cl_context cl = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
  assert_int_equal(err, CL_SUCCESS);
  cl_command_queue q = clCreateCommandQueue(cl, dev, 0, &err);
  assert_int_equal(err, CL_SUCCESS);
  clconv_context *mine = NULL;
  EXPECT(clconv_context_create_from_cl(cl, dev, clconv_context_queue(ctx), NULL, &mine), CLCONV_ERR_INVALID_ARGUMENT,
         "queue belongs to another context");
  EXPECT(clconv_context_create_from_cl(NULL, dev, q, NULL, &mine), CLCONV_ERR_INVALID_ARGUMENT, "none may be NULL");
  assert_int_equal(clconv_context_create_from_cl(cl, dev, q, NULL, &mine), CLCONV_OK);

  const float x[6] = {1, 2, 3, 4, 5, 6}, w[2] = {1, -1};
  cl_mem bx = clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof x, (void *)x, &err);
  cl_mem bw = clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof w, (void *)w, &err);
  cl_mem by = clCreateBuffer(cl, CL_MEM_READ_WRITE, 5 * sizeof(float), NULL, &err);
  uint32_t xs[3] = {1, 1, 6}, ws[3] = {1, 1, 2}, ys[3] = {1, 1, 5}, too_big[3] = {1, 1, 7};
  clconv_tensor *tx, *tw, *ty, *t = NULL;
  err_ctx = mine;
  EXPECT(clconv_tensor_wrap(mine, bx, CLCONV_F32, 3, too_big, &t), CLCONV_ERR_SHAPE_MISMATCH, "mem holds 24 bytes, dims need 28");
  err_ctx = ctx;
  EXPECT(clconv_tensor_wrap(ctx, bx, CLCONV_F32, 3, xs, &t), CLCONV_ERR_WRONG_CONTEXT, "another OpenCL context");
  assert_int_equal(clconv_tensor_wrap(mine, bx, CLCONV_F32, 3, xs, &tx), CLCONV_OK);
  assert_int_equal(clconv_tensor_wrap(mine, bw, CLCONV_F32, 3, ws, &tw), CLCONV_OK);
  assert_int_equal(clconv_tensor_wrap(mine, by, CLCONV_F32, 3, ys, &ty), CLCONV_OK);
  assert_int_equal(clconv_tensor_dim(tx, 2), 6);
  assert_int_equal(clconv_tensor_ndim(tx), 3);
  assert_true(clconv_tensor_mem(tx) == bx);
  /* the caller may drop its references right away: the tensors hold their own */
  clReleaseMemObject(bx);
  clReleaseMemObject(bw);
  clconv_conv_desc d = {.ndim = 1, .in_channels = 1, .out_channels = 1, .in_size = {6}, .kernel_size = {2}};
  assert_int_equal(clconv_conv_forward(mine, &d, tx, tw, NULL, NULL, ty), CLCONV_OK);
  float y[5];
  assert_int_equal(clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL), CL_SUCCESS);
  for (int i = 0; i < 5; i++)
    assert_true(y[i] == -1.0f);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(ty);
  clconv_context_destroy(mine);
  clReleaseMemObject(by);
  clReleaseCommandQueue(q);
  clReleaseContext(cl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_devices),
      cmocka_unit_test(test_device_selection),
      cmocka_unit_test(test_profile_overrides),
      cmocka_unit_test(test_status_codes),
      cmocka_unit_test(test_run_errors_leave_dst),
      cmocka_unit_test(test_null_and_bad_arguments),
      cmocka_unit_test(test_dtype_errors),
      cmocka_unit_test(test_existing_opencl_objects),
  };
  return cmocka_run_group_tests(tests, group_setup_context, group_teardown_context);
}
