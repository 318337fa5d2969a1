/* A host program using the installed clconv: LeNet's first layer (conv 5x5 -> relu -> max pool 2x2) on the
 * default OpenCL device, checked against the CPU reference.
 * Build: cmake (find_package(clconv)) or  cc lenet_layer.c $(pkg-config --cflags --libs clconv) */
#include <clconv.h>

#include <stdio.h>
#include <stdlib.h>

#define TRY(call)                                                                                                      \
  do {                                                                                                                 \
    clconv_status s_ = (call);                                                                                         \
    if (s_ != CLCONV_OK) {                                                                                             \
      fprintf(stderr, "%s: %s: %s\n", #call, clconv_status_string(s_), clconv_last_error(ctx));                        \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)

int main(void) {
  clconv_context *ctx = NULL;
  TRY(clconv_context_create(NULL, &ctx)); /* CLCONV_DEVICE, else first GPU, else first device */

  clconv_layer_desc d = {
      .conv = {.ndim = 2,
               .in_channels = 3,
               .out_channels = 6,
               .in_size = {32, 32},
               .kernel_size = {5, 5},
               .has_bias = true,
               .activation = {.kind = CLCONV_ACT_RELU}},
      .pool = {.kind = CLCONV_POOL_MAX, .window = {2, 2}}, /* stride 0 = window */
  };
  uint32_t xs[5], ws[5], ys[5], bs = 6;     /* room for up to 3 spatial dims */
  TRY(clconv_layer_shapes(&d, xs, ws, ys)); /* {1,3,32,32}, {6,3,5,5}, {1,6,14,14} */
  static float x[3 * 32 * 32], w[6 * 3 * 5 * 5], b[6], y[6 * 14 * 14], ref[6 * 14 * 14], mag[6 * 14 * 14];
  for (int i = 0; i < 3 * 32 * 32; i++)
    x[i] = (float)((i * 7919) % 255) / 255.0f;
  for (int i = 0; i < 6 * 3 * 5 * 5; i++)
    w[i] = (float)((i * 104729) % 17) / 17.0f - 0.5f;
  for (int i = 0; i < 6; i++)
    b[i] = 0.1f * (float)i;

  clconv_tensor *tx, *tw, *tb, *ty;
  TRY(clconv_tensor_create(ctx, CLCONV_F32, 4, xs, &tx));
  TRY(clconv_tensor_create(ctx, CLCONV_F32, 4, ws, &tw));
  TRY(clconv_tensor_create(ctx, CLCONV_F32, 1, &bs, &tb));
  TRY(clconv_tensor_create(ctx, CLCONV_F32, 4, ys, &ty));
  TRY(clconv_tensor_write(tx, x, 3 * 32 * 32));
  TRY(clconv_tensor_write(tw, w, 6 * 3 * 5 * 5));
  TRY(clconv_tensor_write(tb, b, 6));
  TRY(clconv_layer_forward(ctx, &d, tx, tw, tb, NULL, ty));
  TRY(clconv_tensor_read(ty, y, 6 * 14 * 14));

  clconv_tolerance tol;
  clconv_compare_result res;
  TRY(clconv_ref_layer(&d, x, w, b, NULL, ref, mag));
  TRY(clconv_layer_tolerance(&d, &tol));
  TRY(clconv_compare(y, ref, mag, 6 * 14 * 14, &tol, &res));
  uint64_t params;
  TRY(clconv_conv_param_count(&d.conv, &params));
  printf("LeNet layer: [1,3,32,32] -> [%u,%u,%u,%u], %llu parameters, max abs error %.3g, %zu mismatches\n", ys[0],
         ys[1], ys[2], ys[3], (unsigned long long)params, res.max_abs_err, res.mismatches);

  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(ty);
  clconv_context_destroy(ctx);
  return res.mismatches == 0 && params == 456 ? 0 : 1;
}
