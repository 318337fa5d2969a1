/* Every op family and every kernel kind on small shapes, each against the CPU reference, for a run under Oclgrind
 * (tests/oclgrind_test.sh: data-race and bounds checks, GPU work-group limits, a small local memory). The shapes
 * hit partial tiles and work-groups (odd sizes, partial channel blocks), padding, stride, dilation, groups and
 * depthwise, both modes, 1-D to 3-D, batches; each case has at most about 10^5 to 10^6 multiply-adds (Oclgrind
 * interprets). Kernels are forced through the fault-injection build's hook (or picked by a pinned profile) and
 * each case checks that the kernel it names ran, so that the coverage cannot silently shrink.
 *
 * usage: gpu_semantics [--small-local]   (--small-local: the device's local memory is too small for the local
 * kernel's tile, so its cases must fall back to one output per work-item: "direct"; the gemm cases are skipped,
 * CLBlast's kernels needing more) */
#include "fault.h"
#include "sweep.h"

#include <stdio.h>
#include <string.h>

typedef enum { CONV, LAYER, POOL, ACT } op_kind;

typedef struct gcase {
  const char *kernel; /* the kernel that must run (clconv_conv_kernel / clconv_layer_kernel), "" for pool and act */
  op_kind op;
  clconv_device_class cls; /* the profile the context assumes */
  int kt, wt, kind;        /* forced (clconv_fault_force_kernel); kt < 0: the profile's own choice */
  clconv_conv_desc conv;
  clconv_pool_desc pool;
  clconv_activation act; /* ACT */
} gcase;

#define CPU CLCONV_CLASS_CPU
#define GPU CLCONV_CLASS_GPU
#define RELU                                                                                                           \
  { .kind = CLCONV_ACT_RELU }

static const gcase cases[] = {
    /* tiled: a partial channel block (12 of 16), partial tiles along W (13 / 5), edges tested in the kernel */
    {"tiled 8x5", CONV, CPU, 8, 5, 0,
     .conv = {.ndim = 2,
              .batch = 2,
              .in_channels = 5,
              .out_channels = 12,
              .in_size = {9, 13},
              .kernel_size = {3, 3},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .has_bias = true,
              .activation = RELU}},
    /* tiled 32 x 3, whose whole tiles store from the registers at 8 lanes; 40 channels: a partial second block;
     * reading the input's copy zero-padded along W (clconv_conv_pad) */
    {"tiled 32x3+pad", CONV, CPU, 32, 3, 0,
     .conv = {.ndim = 2,
              .in_channels = 4,
              .out_channels = 40,
              .in_size = {7, 5},
              .kernel_size = {5, 5},
              .pad_before = {2, 2},
              .pad_after = {2, 2},
              .mode = CLCONV_MODE_CONV}},
    /* tiled with the channel count compiled in (CIN_G), 3-D, strides, dilation along W */
    {"tiled 16x10", CONV, CPU, 16, 10, 0,
     .conv = {.ndim = 3,
              .in_channels = 2,
              .out_channels = 16,
              .in_size = {4, 7, 30},
              .kernel_size = {2, 2, 4},
              .stride = {1, 2, 1},
              .dilation = {1, 1, 2},
              .pad_before = {0, 1, 2},
              .pad_after = {1, 0, 1}}},
    /* tiled on 16-bit inputs it reads itself (each channel's row span widened once: 10 values in float16, 23 in
     * bfloat16), tiles inside the rows and at both edges */
    {"tiled 8x8", CONV, CPU, 8, 8, 0,
     .conv = {.ndim = 2,
              .in_channels = 3,
              .out_channels = 8,
              .in_size = {5, 29},
              .kernel_size = {3, 3},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .dtype = CLCONV_F16}},
    {"tiled 4x10", CONV, CPU, 4, 10, 0,
     .conv = {.ndim = 1,
              .batch = 2,
              .in_channels = 3,
              .out_channels = 6,
              .in_size = {61},
              .kernel_size = {5},
              .stride = {2},
              .pad_before = {2},
              .pad_after = {1},
              .mode = CLCONV_MODE_CONV,
              .dtype = CLCONV_BF16}},
    /* the same for a 1 x 1 (the tile's 8 values at once), a partial last tile read value by value */
    {"tiled 4x8", CONV, CPU, 4, 8, 0,
     .conv = {.ndim = 2,
              .in_channels = 5,
              .out_channels = 7,
              .in_size = {3, 19},
              .kernel_size = {1, 1},
              .has_bias = true,
              .dtype = CLCONV_F16}},
    /* wide, edges tested in the kernel (too little work for a padded copy), dilation */
    {"wide 4x16", CONV, CPU, 4, 16, 1,
     .conv = {.ndim = 2,
              .in_channels = 3,
              .out_channels = 4,
              .in_size = {10, 37},
              .kernel_size = {3, 3},
              .dilation = {2, 1},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .has_bias = true}},
    /* wide reading the padded copy (clconv_conv_pad), two vectors per channel */
    {"wide 8x32+pad", CONV, CPU, 8, 32, 1,
     .conv = {.ndim = 2,
              .batch = 2,
              .in_channels = 3,
              .out_channels = 16,
              .in_size = {9, 40},
              .kernel_size = {3, 3},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .has_bias = true}},
    /* wide, one channel, 1-D convolution, asymmetric padding */
    {"wide 1x16", CONV, CPU, 1, 16, 1,
     .conv = {.ndim = 1,
              .in_channels = 2,
              .out_channels = 1,
              .in_size = {50},
              .kernel_size = {5},
              .dilation = {2},
              .pad_before = {3},
              .pad_after = {5},
              .mode = CLCONV_MODE_CONV}},
    /* depthwise, the specialised 3 x 3 stride 2 form */
    {"dw 1x16", CONV, CPU, 1, 16, 3,
     .conv = {.ndim = 2,
              .batch = 2,
              .in_channels = 6,
              .out_channels = 6,
              .groups = 6,
              .in_size = {13, 21},
              .kernel_size = {3, 3},
              .stride = {2, 2},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .has_bias = true}},
    /* depthwise, the general form, 3-D with dilation along H */
    {"dw 1x16", CONV, GPU, 1, 16, 3,
     .conv = {.ndim = 3,
              .in_channels = 3,
              .out_channels = 3,
              .groups = 3,
              .in_size = {4, 7, 19},
              .kernel_size = {2, 3, 3},
              .dilation = {1, 2, 1},
              .pad_before = {1, 1, 1}}},
    /* local: two channel chunks (9 > 8), two tiles along W (70 > 64), a partial channel block */
    {"local 8x4", CONV, GPU, -1, 0, 0,
     .conv = {.ndim = 2,
              .in_channels = 9,
              .out_channels = 10,
              .in_size = {5, 70},
              .kernel_size = {3, 3},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .has_bias = true,
              .activation = RELU}},
    /* local 4 x 4: 3-D, groups, stride along W */
    {"local 4x4", CONV, GPU, 4, 4, 2,
     .conv = {.ndim = 3,
              .in_channels = 4,
              .out_channels = 12,
              .groups = 2,
              .in_size = {3, 5, 20},
              .kernel_size = {3, 3, 3},
              .stride = {1, 1, 2},
              .pad_before = {1, 1, 1},
              .pad_after = {1, 1, 1},
              .mode = CLCONV_MODE_CONV}},
    /* one output per work-item: 2 output channels per group at stride 2 (no other kernel takes it) */
    {"direct", CONV, GPU, -1, 0, 0,
     .conv = {.ndim = 2,
              .batch = 2,
              .in_channels = 4,
              .out_channels = 4,
              .groups = 2,
              .in_size = {9, 11},
              .kernel_size = {3, 2},
              .stride = {2, 2},
              .pad_before = {1, 0},
              .has_bias = true}},
    /* the gemm algorithm: im2col, the weights' packing, CLBlast, the epilogue; groups, stride, tanh */
    {"gemm", CONV, GPU, -1, 0, 0,
     .conv = {.ndim = 2,
              .batch = 2,
              .in_channels = 6,
              .out_channels = 8,
              .groups = 2,
              .in_size = {9, 11},
              .kernel_size = {3, 3},
              .stride = {2, 1},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .has_bias = true,
              .activation = {.kind = CLCONV_ACT_TANH},
              .algorithm = CLCONV_ALGO_GEMM}},
    /* the gemm algorithm on a 1 x 1 kernel: the input is the column matrix */
    {"gemm", CONV, GPU, -1, 0, 0,
     .conv = {.ndim = 1,
              .in_channels = 8,
              .out_channels = 5,
              .in_size = {33},
              .kernel_size = {1},
              .algorithm = CLCONV_ALGO_GEMM}},
    /* the layer with its pooling inside the wide kernel (the CPU profile's choice) */
    {"wide 6x16+pool", LAYER, CPU, -1, 0, 0,
     .conv = {.ndim = 2,
              .batch = 2,
              .in_channels = 3,
              .out_channels = 6,
              .in_size = {12, 20},
              .kernel_size = {3, 3},
              .has_bias = true,
              .activation = RELU},
     .pool = {.window = {2, 2}}},
    /* the layer with its pooling inside the tiled kernel: a partial channel block, a residual gathered across the
     * lanes, a column and a row in no window */
    {"tiled 16x4+pool", LAYER, CPU, -1, 0, 0,
     .conv = {.ndim = 2,
              .in_channels = 4,
              .out_channels = 20,
              .in_size = {9, 11},
              .kernel_size = {3, 3},
              .has_bias = true,
              .has_residual = true,
              .activation = RELU},
     .pool = {.kind = CLCONV_POOL_AVG, .window = {2, 2}}},
    /* the layer as two launches (the GPU profile never fuses): conv, then an overlapping padded average pool */
    {"local 8x4", LAYER, GPU, -1, 0, 0,
     .conv = {.ndim = 2,
              .in_channels = 4,
              .out_channels = 8,
              .in_size = {9, 9},
              .kernel_size = {3, 3},
              .pad_before = {1, 1},
              .pad_after = {1, 1},
              .activation = RELU},
     .pool = {.kind = CLCONV_POOL_AVG, .window = {3, 3}, .stride = {2, 2}, .pad_before = {1, 1}, .pad_after = {1, 1}}},
    /* pooling: each dimensionality, max and average, ceil mode, padding counted, global, strides 1 to 3 */
    {"", POOL, GPU, -1, 0, 0,
     .pool = {.ndim = 1,
              .batch = 2,
              .channels = 3,
              .in_size = {41},
              .window = {3},
              .stride = {2},
              .pad_before = {1},
              .pad_after = {1}}},
    {"", POOL, CPU, -1, 0, 0,
     .pool = {.ndim = 2,
              .channels = 5,
              .in_size = {11, 37},
              .window = {2, 3},
              .stride = {2, 3},
              .ceil_mode = true,
              .kind = CLCONV_POOL_AVG}},
    {"", POOL, GPU, -1, 0, 0,
     .pool = {.ndim = 3,
              .channels = 2,
              .in_size = {5, 6, 19},
              .window = {2, 3, 3},
              .stride = {1, 1, 1},
              .pad_before = {0, 1, 1},
              .pad_after = {1, 1, 1},
              .kind = CLCONV_POOL_AVG,
              .count_include_pad = true}},
    {"", POOL, GPU, -1, 0, 0, .pool = {.ndim = 2, .batch = 2, .channels = 3, .in_size = {7, 7}, .global = true}},
    /* activations: a length with a partial last vector */
    {"", ACT, GPU, -1, 0, 0, .act = {.kind = CLCONV_ACT_SIGMOID}},
    {"", ACT, CPU, -1, 0, 0, .act = {.kind = CLCONV_ACT_CLIP, .alpha = -0.5f, .beta = 0.75f}},
    /* gelu's normal distribution function (kernels/common.cl: fma, a two-sum, exp) and swish's corrected exp */
    {"", ACT, GPU, -1, 0, 0, .act = {.kind = CLCONV_ACT_GELU}},
    {"", ACT, CPU, -1, 0, 0, .act = {.kind = CLCONV_ACT_SWISH, .alpha = 0.5f}},
};

static clconv_context *context(clconv_device_class cls) {
  clconv_context_options opt = {.device_class = cls, .vector_width = 8};
  clconv_context *ctx = NULL;
  if (clconv_context_create(&opt, &ctx) != CLCONV_OK) {
    fprintf(stderr, "gpu_semantics: context_create: %s\n", clconv_last_error(NULL));
    return NULL;
  }
  return ctx;
}

/* The kernel that case c runs on ctx, into name. */
static clconv_status kernel_of(clconv_context *ctx, const gcase *c, char *name, size_t cap) {
  name[0] = '\0';
  if (c->op == CONV) {
    clconv_conv *op;
    clconv_status s = clconv_conv_create(ctx, &c->conv, &op);
    if (s == CLCONV_OK)
      snprintf(name, cap, "%s", clconv_conv_kernel(op));
    clconv_conv_destroy(op);
    return s;
  }
  if (c->op == LAYER) {
    clconv_layer *op;
    clconv_status s = clconv_layer_create(ctx, &(clconv_layer_desc){c->conv, c->pool}, &op);
    if (s == CLCONV_OK)
      snprintf(name, cap, "%s", clconv_layer_kernel(op));
    clconv_layer_destroy(op);
    return s;
  }
  return CLCONV_OK;
}

/* What case c must run: its kernel, or the fallback where the local memory is too small for the local kernel. */
static void expected(const gcase *c, bool small_local, char *want, size_t cap) {
  if (small_local && !strncmp(c->kernel, "local", 5))
    snprintf(want, cap, "direct");
  else
    snprintf(want, cap, "%s", c->kernel);
}

int main(int argc, char **argv) {
  bool small_local = argc > 1 && !strcmp(argv[1], "--small-local");
  if (argc > 2 || (argc == 2 && !small_local)) {
    fprintf(stderr, "usage: gpu_semantics [--small-local]\n");
    return 2;
  }
  clconv_context *ctx[3] = {NULL, context(CPU), context(GPU)};
  if (!ctx[CPU] || !ctx[GPU]) {
    clconv_context_destroy(ctx[CPU]);
    clconv_context_destroy(ctx[GPU]);
    return 1;
  }
  sweep_rng r = {20261206};
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const gcase *c = &cases[i];
    clconv_context *x = ctx[c->cls];
    if (small_local && c->op == CONV && c->conv.algorithm == CLCONV_ALGO_GEMM) {
      /* CLBlast's GEMM kernels need more local memory (every OpenCL 1.2 device has at least 32 KiB) */
      printf("skip gemm: CLBlast needs more local memory\n");
      continue;
    }
    clconv_fault_force_kernel(c->kt, c->wt, c->kind);
    char got[64], want[64], what[512];
    expected(c, small_local, want, sizeof want);
    int b = 0;
    if (kernel_of(x, c, got, sizeof got) != CLCONV_OK) {
      fprintf(stderr, "case %zu: create failed: %s\n", i, clconv_last_error(x));
      b = 1;
    } else if (strcmp(got, want)) {
      fprintf(stderr, "case %zu: ran %s, expected %s\n", i, got, want);
      b = 1;
    }
    /* every convolution with a residual (the epilogue's extra read; in place in about half the conv cases, where
     * each work-item must read its outputs' residuals before writing them) */
    clconv_conv_desc conv = c->conv;
    conv.has_residual = true;
    switch (c->op) {
    case CONV:
      sweep_conv_str(&conv, what, sizeof what);
      b |= sweep_check_conv(x, &conv, &r, false, false, stderr, "tests/gpu_semantics.c") != 0;
      break;
    case LAYER:
      sweep_conv_str(&conv, what, sizeof what);
      b |= sweep_check_layer(x, &(clconv_layer_desc){conv, c->pool}, &r, stderr, "tests/gpu_semantics.c") != 0;
      break;
    case POOL:
      sweep_pool_str(&c->pool, what, sizeof what);
      b |= sweep_check_pool(x, &c->pool, &r, stderr, "tests/gpu_semantics.c") != 0;
      break;
    case ACT: {
      float data[1001];
      sweep_act_data(&r, data, sizeof data / sizeof data[0]);
      snprintf(what, sizeof what, "act %s, 1001 elements, in place", clconv_act_name(c->act.kind));
      b |= sweep_check_act(x, &c->act, CLCONV_F32, data, sizeof data / sizeof data[0], true, stderr,
                           "tests/gpu_semantics.c") != 0;
      break;
    }
    }
    printf("%-4s %-16s %s profile  %s\n", b ? "FAIL" : "ok", got[0] ? got : "-", c->cls == CPU ? "cpu" : "gpu", what);
    bad += b;
  }
  clconv_fault_force_kernel(-1, 0, 0);
  clconv_context_destroy(ctx[CPU]);
  clconv_context_destroy(ctx[GPU]);
  printf("%zu cases, %d failed\n", sizeof cases / sizeof cases[0], bad);
  return bad ? 1 : 0;
}
