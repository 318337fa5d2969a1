/* A host program that already uses OpenCL: ResNet's basic block (3x3 conv, batch norm, ReLU, 3x3 conv, batch norm,
 * + the block's input, ReLU) through clconv on the program's own OpenCL context, queue and input buffer. The batch
 * norms fold into the convolutions' weights and biases on the host; the skip connection is the second
 * convolution's residual, summed in place into the input's buffer. Each convolution is checked against the CPU
 * reference given its device input.
 * Build: cmake (find_package(clconv)) or  cc resnet_block.c $(pkg-config --cflags --libs clconv) */
#include <clconv.h>

#include <stdio.h>

#define TRY(call)                                                                                                      \
  do {                                                                                                                 \
    clconv_status s_ = (call);                                                                                         \
    if (s_ != CLCONV_OK) {                                                                                             \
      fprintf(stderr, "%s: %s: %s\n", #call, clconv_status_string(s_), clconv_last_error(ctx));                        \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)
#define CL_TRY(call)                                                                                                   \
  do {                                                                                                                 \
    cl_int e_ = (call);                                                                                                \
    if (e_ != CL_SUCCESS) {                                                                                            \
      fprintf(stderr, "%s: OpenCL error %d\n", #call, (int)e_);                                                        \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)

enum { C = 16, H = 14, W = 14, N = C * H * W, NW = C * C * 3 * 3 };

/* Deterministic values in [-0.5, 0.5), a different sequence for each salt */
static float value(unsigned i, unsigned salt) {
  return (float)(((i + 1u) * 2654435761u ^ (salt * 2246822519u)) % 1000u) / 1000.0f - 0.5f;
}

/* One batch norm's parameters (made up, as a trained network's would be), folded into w and b (b starts at 0). */
static clconv_status fold(const clconv_conv_desc *d, float *w, float *b, unsigned salt) {
  float gamma[C], beta[C], mean[C], var[C];
  for (unsigned k = 0; k < C; k++) {
    gamma[k] = 1.0f + 0.5f * value(k, salt);
    beta[k] = 0.2f * value(k, salt + 1);
    mean[k] = 0.1f * value(k, salt + 2);
    var[k] = 1.0f + value(k, salt + 3); /* in [0.5, 1.5) */
    b[k] = 0.0f;
  }
  return clconv_fold_batch_norm(d, w, b, gamma, beta, mean, var, 1e-5f);
}

/* Checks one convolution's device output against the reference given its device input. */
static int check(const char *what, const clconv_conv_desc *d, const float *x, const float *w, const float *b,
                 const float *z, const float *y) {
  static float ref[N], mag[N];
  clconv_tolerance tol;
  clconv_compare_result res;
  if (clconv_ref_conv(d, x, w, b, z, ref, mag) != CLCONV_OK || clconv_conv_tolerance(d, &tol) != CLCONV_OK ||
      clconv_compare(y, ref, mag, N, &tol, &res) != CLCONV_OK) {
    fprintf(stderr, "%s: %s\n", what, clconv_last_error(NULL));
    return 1;
  }
  printf("%s: max abs error %.3g, %zu mismatches\n", what, res.max_abs_err, res.mismatches);
  return res.mismatches != 0;
}

int main(void) {
  /* The host program's own OpenCL objects: the first device of the first platform. */
  cl_platform_id platform;
  cl_device_id device;
  cl_int err;
  CL_TRY(clGetPlatformIDs(1, &platform, NULL));
  CL_TRY(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL));
  cl_context cl = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
  CL_TRY(err);
  cl_command_queue queue = clCreateCommandQueue(cl, device, 0, &err);
  CL_TRY(err);
  static float x0[N], w1[NW], b1[C], w2[NW], b2[C], h[N], y[N];
  for (unsigned i = 0; i < N; i++)
    x0[i] = value(i, 7);
  cl_mem xbuf = clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof x0, x0, &err);
  CL_TRY(err);

  clconv_context *ctx = NULL;
  TRY(clconv_context_create_from_cl(cl, device, queue, NULL, &ctx)); /* retains cl, device and queue */

  /* conv 3x3, C -> C, "same" padding (floor(3/2) = 1 on each side), bias from the folded batch norm */
  clconv_conv_desc d1 = {.ndim = 2,
                         .in_channels = C,
                         .out_channels = C,
                         .in_size = {H, W},
                         .kernel_size = {3, 3},
                         .has_bias = true,
                         .activation = {.kind = CLCONV_ACT_RELU}};
  TRY(clconv_conv_same_padding(&d1));
  clconv_conv_desc d2 = d1;
  d2.has_residual = true; /* + the block's input (residual_scale 0 = 1), before the ReLU */
  for (unsigned i = 0; i < NW; i++) {
    w1[i] = 0.2f * value(i, 11);
    w2[i] = 0.2f * value(i, 13);
  }
  TRY(fold(&d1, w1, b1, 17));
  TRY(fold(&d2, w2, b2, 19));

  uint32_t xs[CLCONV_MAX_DIMS], ws[CLCONV_MAX_DIMS], ys[CLCONV_MAX_DIMS], bs = C;
  TRY(clconv_conv_shapes(&d1, xs, ws, ys)); /* {1,C,H,W}, {C,C,3,3}, {1,C,H,W} */
  clconv_conv *conv1, *conv2;
  TRY(clconv_conv_create(ctx, &d1, &conv1));
  TRY(clconv_conv_create(ctx, &d2, &conv2));
  { /* the weights packed into the ops once (inference); the tensors that carried them are not needed after */
    clconv_tensor *tw, *tb;
    TRY(clconv_tensor_create(ctx, CLCONV_F32, 4, ws, &tw));
    TRY(clconv_tensor_create(ctx, CLCONV_F32, 1, &bs, &tb));
    TRY(clconv_tensor_write(tw, w1, NW));
    TRY(clconv_tensor_write(tb, b1, C));
    TRY(clconv_conv_set_weights(conv1, tw, tb));
    TRY(clconv_tensor_write(tw, w2, NW));
    TRY(clconv_tensor_write(tb, b2, C));
    TRY(clconv_conv_set_weights(conv2, tw, tb));
    clconv_tensor_destroy(tw);
    clconv_tensor_destroy(tb);
  }

  clconv_tensor *tx, *th;
  TRY(clconv_tensor_wrap(ctx, xbuf, CLCONV_F32, 4, xs, &tx)); /* the program's buffer as a tensor */
  TRY(clconv_tensor_create(ctx, CLCONV_F32, 4, ys, &th));
  TRY(clconv_conv_run(conv1, tx, NULL, NULL, NULL, th)); /* h = relu(bn1(conv1(x))) */
  TRY(clconv_conv_run(conv2, th, NULL, NULL, tx, tx));   /* x = relu(bn2(conv2(h)) + x), in place */
  TRY(clconv_tensor_read(th, h, N));
  /* the block's output, read by the program itself: the ops ran on its in-order queue */
  CL_TRY(clEnqueueReadBuffer(queue, xbuf, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL));

  int bad = check("conv1 + bn1 + relu", &d1, x0, w1, b1, NULL, h);
  bad |= check("conv2 + bn2 + skip + relu", &d2, h, w2, b2, x0, y);
  uint64_t params;
  TRY(clconv_conv_param_count(&d1, &params));
  printf("ResNet basic block: [1,%d,%d,%d], %llu parameters per convolution (3*3*%d*%d + %d)\n", C, H, W,
         (unsigned long long)params, C, C, C);

  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(th);
  clconv_conv_destroy(conv1);
  clconv_conv_destroy(conv2);
  clconv_context_destroy(ctx);
  clReleaseMemObject(xbuf);
  clReleaseCommandQueue(queue);
  clReleaseContext(cl);
  return bad || params != 3 * 3 * C * C + C;
}
