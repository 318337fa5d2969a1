/* The built-in kernel choice as a pure function of a device profile and a descriptor (clconv__choose_variant), and
 * the launch split (clconv__launch_split), table-driven; no device. Profiles: a CPU with 8 float lanes (AVX2), a CPU
 * with 16 (AVX-512), a CPU reporting 1 lane, a GPU, and a GPU with too little local memory or too narrow a
 * work-group for the local kernel. The tests that run kernels on the device and name them pin a profile the same
 * way (tests/common.h: TEST_CPU8); none asserts what the live device's profile picks. */
#include "common.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

static clconv_device_profile cpu(uint32_t lanes) {
  return (clconv_device_profile){.device_class = CLCONV_CLASS_CPU,
                                 .vector_width = lanes,
                                 .accumulator_registers = lanes >= 16 ? 20 : 12,
                                 .compute_units = 2,
                                 .max_work_group_size = 4096,
                                 .max_work_item_sizes = {4096, 4096, 4096},
                                 .local_mem_bytes = 4 << 20,
                                 .max_alloc_bytes = 1ull << 32,
                                 .mem_align_bits = 1024,
                                 .max_work_groups = {INT32_MAX, 65535, 65535}};
}

static clconv_device_profile gpu(uint64_t local_mem, size_t max_wg) {
  return (clconv_device_profile){.device_class = CLCONV_CLASS_GPU,
                                 .vector_width = 1,
                                 .accumulator_registers = 64,
                                 .compute_units = 132,
                                 .max_work_group_size = max_wg,
                                 .max_work_item_sizes = {max_wg, max_wg, 64},
                                 .local_mem_bytes = local_mem,
                                 .max_alloc_bytes = 1ull << 34,
                                 .mem_align_bits = 4096,
                                 .max_work_groups = {INT32_MAX, 65535, 65535}};
}

/* The shapes: each a layer kind the rules tell apart. */
static const struct {
  const char *name;
  clconv_conv_desc d;
} shapes[] = {
    {"vgg 3x3 64->64 at 56",
     {.ndim = 2,
      .in_channels = 64,
      .out_channels = 64,
      .in_size = {56, 56},
      .kernel_size = {3, 3},
      .pad_before = {1, 1},
      .pad_after = {1, 1}}},
    {"stem 7x7 s2 3->64 (W stride 2: not wide)",
     {.ndim = 2,
      .in_channels = 3,
      .out_channels = 64,
      .in_size = {224, 224},
      .kernel_size = {7, 7},
      .stride = {2, 2},
      .pad_before = {3, 3},
      .pad_after = {3, 3}}},
    {"LeNet C1 5x5 3->6", {.ndim = 2, .in_channels = 3, .out_channels = 6, .in_size = {32, 32}, .kernel_size = {5, 5}}},
    {"LeNet C3 5x5 6->16 at 14",
     {.ndim = 2, .in_channels = 6, .out_channels = 16, .in_size = {14, 14}, .kernel_size = {5, 5}}},
    {"depthwise 3x3 at 28",
     {.ndim = 2,
      .in_channels = 32,
      .out_channels = 32,
      .groups = 32,
      .in_size = {28, 28},
      .kernel_size = {3, 3},
      .pad_before = {1, 1},
      .pad_after = {1, 1}}},
    {"1-D 3 wide 16->32", {.ndim = 1, .in_channels = 16, .out_channels = 32, .in_size = {1000}, .kernel_size = {3}}},
    {"3-D 3x3x3 8->16",
     {.ndim = 3, .in_channels = 8, .out_channels = 16, .in_size = {8, 16, 16}, .kernel_size = {3, 3, 3}}},
    {"2 outputs, W stride 2",
     {.ndim = 2, .in_channels = 8, .out_channels = 2, .in_size = {16, 16}, .kernel_size = {3, 3}, .stride = {2, 2}}},
    {"grouped 3x3 8 groups 64->128",
     {.ndim = 2, .in_channels = 64, .out_channels = 128, .groups = 8, .in_size = {14, 14}, .kernel_size = {3, 3}}},
    {"wide kernel 1x63 at 1000",
     {.ndim = 2, .in_channels = 8, .out_channels = 8, .in_size = {2, 1000}, .kernel_size = {1, 63}}},
    {"first layer 3x3 3->32 at 64",
     {.ndim = 2,
      .in_channels = 3,
      .out_channels = 32,
      .in_size = {64, 64},
      .kernel_size = {3, 3},
      .pad_before = {1, 1},
      .pad_after = {1, 1}}},
    {"1x1 16->96 at 112 (few inputs: wide)",
     {.ndim = 2, .in_channels = 16, .out_channels = 96, .in_size = {112, 112}, .kernel_size = {1, 1}}},
    {"1x1 64->256 at 56",
     {.ndim = 2, .in_channels = 64, .out_channels = 256, .in_size = {56, 56}, .kernel_size = {1, 1}}},
};
#define SHAPES (sizeof shapes / sizeof shapes[0])

/* What each profile picks for each shape, in the order of shapes[]. */
static const struct {
  const char *profile;
  const char *want[SHAPES];
} table[] = {
    {"cpu8",
     {"tiled 32x3", "tiled 32x3", "wide 6x16", "tiled 16x5", "dw 1x16", "tiled 32x3", "tiled 16x5", "direct",
      "tiled 16x4", "tiled 8x7", "wide 4x16", "wide 4x16", "tiled 32x3"}},
    {"cpu16",
     {"tiled 32x8", "tiled 32x8", "wide 6x32", "tiled 16x10", "dw 1x16", "tiled 32x8", "tiled 16x7", "direct",
      "tiled 16x7", "tiled 8x7", "wide 8x32", "wide 8x32", "tiled 32x8"}},
    {"cpu1", /* the kernels' vectors are at least 4 lanes: as a 4-lane CPU */
     {"tiled 16x3", "tiled 16x3", "wide 6x16", "tiled 16x3", "dw 1x16", "tiled 16x3", "tiled 16x3", "direct",
      "tiled 16x3", "tiled 8x4", "wide 4x16", "wide 4x16", "tiled 16x3"}},
    {"gpu", /* the local kernel, or one output per work-item below 4 output channels per group */
     {"local 8x4", "local 8x4", "local 4x4", "local 8x4", "direct", "local 8x4", "local 8x4", "direct", "local 8x4",
      "local 8x4", "local 8x4", "local 8x4", "local 8x4"}},
    {"gpu-small-local", /* 1 KiB of local memory: the local kernel's tile does not fit */
     {"direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct",
      "direct", "direct"}},
    {"gpu-narrow", /* work-groups of at most 32: the local kernel's 16 x 4 does not fit */
     {"direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct", "direct",
      "direct", "direct"}},
};

static clconv_device_profile profile_named(const char *name) {
  if (!strcmp(name, "cpu8"))
    return cpu(8);
  if (!strcmp(name, "cpu16"))
    return cpu(16);
  if (!strcmp(name, "cpu1"))
    return cpu(1);
  if (!strcmp(name, "gpu"))
    return gpu(48 << 10, 1024);
  if (!strcmp(name, "gpu-small-local"))
    return gpu(1 << 10, 1024);
  return gpu(48 << 10, 32);
}

static void test_choice_table(void **state) {
  (void)state;
  int bad = 0;
  for (size_t p = 0; p < sizeof table / sizeof table[0]; p++) {
    clconv_device_profile prof = profile_named(table[p].profile);
    for (size_t i = 0; i < SHAPES; i++) {
      clconv__conv_geom g;
      assert_int_equal(clconv__conv_check(NULL, "test", &shapes[i].d, &g), CLCONV_OK);
      clconv__variant v = clconv__choose_variant(&prof, &g);
      char name[32];
      clconv__variant_name(&v, name, sizeof name);
      if (strcmp(name, table[p].want[i])) {
        fprintf(stderr, "profile %s, %s: picked %s, expected %s\n", table[p].profile, shapes[i].name, name,
                table[p].want[i]);
        bad++;
      }
      if (!clconv__variant_valid(&v, &g)) {
        fprintf(stderr, "profile %s, %s: picked %s, which cannot run the shape\n", table[p].profile, shapes[i].name,
                name);
        bad++;
      }
    }
  }
  assert_int_equal(bad, 0);
}

/* One launch split into pieces: each within the profile's work-group counts, offsets and sizes whole work-groups,
 * and together covering the range exactly once (checked by volume and by each piece lying inside). */
static int check_split(const clconv_device_profile *p, cl_uint dims, const size_t *global, const size_t *local) {
  size_t n = clconv__launch_pieces(p, dims, global, local), volume = 0, want = 1;
  for (cl_uint d = 0; d < dims; d++)
    want *= global[d];
  for (size_t i = 0; i < n; i++) {
    size_t off[3] = {0}, size[3] = {1, 1, 1}, v = 1;
    clconv__launch_piece(p, dims, global, local, i, off, size);
    for (cl_uint d = 0; d < dims; d++) {
      if (off[d] % local[d] || size[d] % local[d] || size[d] == 0 || off[d] + size[d] > global[d] ||
          size[d] / local[d] > p->max_work_groups[d]) {
        fprintf(stderr, "piece %zu of %zu, dimension %u: offset %zu, size %zu, local %zu, global %zu\n", i, n, d,
                off[d], size[d], local[d], global[d]);
        return 1;
      }
      v *= size[d];
    }
    volume += v;
  }
  if (volume != want) {
    fprintf(stderr, "pieces cover %zu work-items of %zu\n", volume, want);
    return 1;
  }
  return 0;
}

/* Every launch geometry the ops use (row kernels on CPU and GPU profiles, the im2col plane shape, the local kernel's
 * 16 x 4, the one-dimensional kernels), over large batches and sizes: no piece has more than 65 535 work-groups
 * along dimension 1 or 2. */
static void test_launch_split(void **state) {
  (void)state;
  const clconv_device_profile profiles[2] = {cpu(8), gpu(48 << 10, 1024)};
  /* (tiles or columns, rows, planes): a 3-D output's rows times depth, a batch of channel blocks */
  static const size_t sizes[][3] = {{1, 1, 1},
                                    {7, 65535, 65535},
                                    {8, 65536, 65536},
                                    {3, 1u << 20, 3},
                                    {100000, 7, 1u << 22},
                                    {1u << 27, 1, 1},
                                    {9, 123457, 987654},
                                    {65535 * 8 + 1, 2, 65535 * 64 + 1}};
  int bad = 0, split = 0;
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      size_t locals[4][3];
      clconv__flat_local(&profiles[p], sizes[i][0], locals[0]);
      clconv__plane_local(sizes[i][0], locals[1]);
      memcpy(locals[2], (size_t[3]){16, 4, 1}, sizeof locals[2]);
      memcpy(locals[3], (size_t[3]){64, 1, 1}, sizeof locals[3]);
      for (int l = 0; l < 4; l++) {
        size_t global[3];
        for (int d = 0; d < 3; d++)
          global[d] = (sizes[i][d] + locals[l][d] - 1) / locals[l][d] * locals[l][d];
        bad += check_split(&profiles[p], 3, global, locals[l]);
        split += clconv__launch_pieces(&profiles[p], 3, global, locals[l]) > 1;
      }
      size_t one = sizes[i][0] * sizes[i][1], local1 = 64, global1 = (one + 63) / 64 * 64;
      bad += check_split(&profiles[p], 1, &global1, &local1);
    }
  assert_int_equal(bad, 0);
  assert_true(split > 0); /* the table reaches past the limits */
}

/* The channel blocks a CPU work-group takes (the tiled kernel's `fold`: each tile that many times along dimension 0,
 * whose work-group stays 8 x 1 x 1): a power of two dividing the blocks, and only while the group's packed weights
 * stay small and the compute units keep enough groups; always one on a GPU. For each shape (on the AVX-512 profile:
 * 32-channel tiles): the blocks wanted per tile. */
static void test_group_blocks(void **state) {
  (void)state;
  static const struct {
    const char *name;
    uint32_t ndim, c, k, in, kernel, pad; /* a square (1-D: a row) of in, kernel x kernel, padding pad all round */
    size_t want;
  } cases[] = {
      {"1-D 3-tap 128->128 over 1995: 4 blocks of 48 KiB", 1, 128, 128, 1995, 3, 0, 4}, /* M5's second layer */
      {"3x3 64->64 at 56: 2 blocks of 72 KiB", 2, 64, 64, 56, 3, 1, 2},
      {"3x3 512->512 at 7: 576 KiB a block", 2, 512, 512, 7, 3, 1, 1},
      {"1x1 64->96 at 4x4: 3 blocks, 2 work-groups", 2, 64, 96, 4, 1, 0, 1},
  };
  const clconv_device_profile profiles[2] = {cpu(16), gpu(48 << 10, 1024)};
  int bad = 0;
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      clconv_conv_desc d = {.ndim = cases[i].ndim, .in_channels = cases[i].c, .out_channels = cases[i].k};
      for (uint32_t a = 0; a < d.ndim; a++) {
        d.in_size[a] = cases[i].in;
        d.kernel_size[a] = cases[i].kernel;
        d.pad_before[a] = d.pad_after[a] = cases[i].pad;
      }
      clconv__conv_geom g;
      assert_int_equal(clconv__conv_check(NULL, "test", &d, &g), CLCONV_OK);
      /* the CPU's choice (tiled) on both profiles */
      clconv__variant v = clconv__choose_variant(&profiles[0], &g);
      cl_uint dims;
      size_t range[3], local[3], fold;
      clconv__variant_geometry(&profiles[p], &v, 1, 0, &g, &dims, range, local, &fold);
      const size_t want = p == 0 ? cases[i].want : 1, blocks = (g.k + (uint32_t)v.kt - 1) / (uint32_t)v.kt,
                   tiles = (g.out[2] + (uint32_t)v.wt - 1) / (uint32_t)v.wt * g.out[0] * g.out[1];
      if (v.kind != CLCONV__TILED || dims != 3 || fold != want || local[2] != 1 || range[2] * fold != blocks ||
          range[0] != tiles * fold) {
        fprintf(stderr, "%s, %s: %s, %u dimensions, %zu blocks per tile, range %zu x %zu, expected %zu\n",
                p ? "GPU" : "CPU", cases[i].name, clconv__kinds[v.kind].name, dims, fold, range[0], range[2], want);
        bad++;
      }
    }
  assert_int_equal(bad, 0);
}

/* Rows narrower than every position choice: the tile is the row's width (a classifier's 1 x 1 output, a 5-wide
 * map), on the AVX-512 and AVX2 profiles. */
static void test_narrow_rows(void **state) {
  (void)state;
  static const struct {
    uint32_t lanes, in, kernel;
    const char *want;
  } rows[] = {{16, 1, 1, "tiled 32x1"}, {16, 7, 3, "tiled 32x5"}, {16, 7, 1, "tiled 32x7"},
              {8, 1, 1, "tiled 32x1"},  {8, 4, 3, "tiled 32x2"},  {8, 7, 1, "tiled 32x3"}};
  int bad = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const clconv_conv_desc d = {.ndim = 2,
                                .in_channels = 512,
                                .out_channels = 1000,
                                .in_size = {rows[i].in, rows[i].in},
                                .kernel_size = {rows[i].kernel, rows[i].kernel}};
    clconv__conv_geom g;
    assert_int_equal(clconv__conv_check(NULL, "test", &d, &g), CLCONV_OK);
    clconv_device_profile prof = cpu(rows[i].lanes);
    clconv__variant v = clconv__choose_variant(&prof, &g);
    char name[32];
    clconv__variant_name(&v, name, sizeof name);
    if (strcmp(name, rows[i].want) || !clconv__variant_valid(&v, &g)) {
      fprintf(stderr, "%u lanes, %u wide rows: picked %s, expected %s\n", rows[i].lanes,
              rows[i].in - rows[i].kernel + 1, name, rows[i].want);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
}

/* One work-group shape per kernel on CPUs (PoCL compiles a kernel again for each shape, and for each range reaching
 * 65535 work-items along a dimension): over layers of every kind and map size the networks use (224² to 1², 1-D
 * and 3-D, strides, few and many channels, batches of 1 and 8), on the AVX2 and AVX-512 profiles, every launch of a
 * packed kernel is 8 x 1 x 1 and stays under 65535 along each dimension; the same for the row kernels' ranges
 * (clconv__row_range: pooling, the padded copy). */
static void test_one_shape(void **state) {
  (void)state;
  static const struct {
    uint32_t ndim, c, k, groups, in, kernel, stride, pad;
  } layers[] = {
      {2, 3, 64, 1, 224, 7, 2, 3},     {2, 3, 64, 1, 224, 3, 1, 1},   {2, 64, 64, 1, 56, 3, 1, 1},
      {2, 64, 128, 1, 56, 1, 2, 0},    {2, 256, 256, 1, 14, 3, 1, 1}, {2, 512, 512, 1, 7, 3, 1, 1},
      {2, 512, 1000, 1, 1, 1, 1, 0},   {2, 16, 96, 1, 112, 1, 1, 0},  {2, 96, 96, 96, 112, 3, 2, 1},
      {2, 960, 960, 960, 7, 3, 1, 1},  {2, 6, 16, 1, 14, 5, 1, 0},    {1, 1, 128, 1, 32000, 80, 4, 0},
      {1, 128, 128, 1, 1995, 3, 1, 0}, {3, 3, 64, 1, 112, 3, 1, 1},   {3, 64, 64, 1, 56, 3, 1, 1},
      {3, 256, 256, 1, 14, 3, 1, 1},   {2, 128, 128, 2, 28, 3, 1, 1}, {2, 32, 16, 1, 112, 1, 1, 0},
  };
  int bad = 0;
  for (uint32_t lanes = 8; lanes <= 16; lanes *= 2)
    for (uint32_t batch = 1; batch <= 8; batch *= 8)
      for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        clconv_conv_desc d = {.ndim = layers[i].ndim,
                              .batch = batch,
                              .in_channels = layers[i].c,
                              .out_channels = layers[i].k,
                              .groups = layers[i].groups};
        for (uint32_t a = 0; a < d.ndim; a++) {
          d.in_size[a] = layers[i].ndim == 3 && a == 0 ? 16 : layers[i].in;
          d.kernel_size[a] = layers[i].kernel;
          d.stride[a] = layers[i].stride;
          d.pad_before[a] = d.pad_after[a] = layers[i].pad;
        }
        clconv__conv_geom g;
        assert_int_equal(clconv__conv_check(NULL, "test", &d, &g), CLCONV_OK);
        const clconv_device_profile prof = cpu(lanes);
        clconv__variant v = clconv__choose_variant(&prof, &g);
        cl_uint dims;
        size_t range[3], local[3], fold;
        clconv__variant_geometry(&prof, &v, clconv__variant_rows(&prof, &v, &g), 0, &g, &dims, range, local, &fold);
        if (dims != 3 || local[0] != 8 || local[1] != 1 || local[2] != 1 || range[0] >= 65535 || range[1] >= 65535 ||
            range[2] >= 65535) {
          fprintf(stderr, "%u lanes, batch %u, layer %zu (%s): local %zu x %zu x %zu, range %zu x %zu x %zu\n", lanes,
                  batch, i, clconv__kinds[v.kind].name, local[0], local[1], local[2], range[0], range[1], range[2]);
          bad++;
        }
      }
  /* pooling or a padded copy: 16-wide tiles of rows from 1 to 226 wide, 1 to 1000 rows */
  for (size_t w = 1; w <= 226; w += 15)
    for (size_t rows = 1; rows <= 1000; rows = rows * 3 + 1) {
      const clconv_device_profile prof = cpu(16);
      size_t range[3] = {0, 0, 1}, local[3];
      clconv__row_range(&prof, (w + 15) / 16, rows, range, local);
      if (local[0] != 8 || local[1] != 1 || local[2] != 1 || range[1] != 1 || range[0] < (w + 15) / 16 * rows) {
        fprintf(stderr, "rows of %zu, %zu rows: local %zu x %zu x %zu, range %zu x %zu\n", w, rows, local[0], local[1],
                local[2], range[0], range[1]);
        bad++;
      }
    }
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_choice_table), cmocka_unit_test(test_group_blocks), cmocka_unit_test(test_narrow_rows),
      cmocka_unit_test(test_launch_split), cmocka_unit_test(test_one_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
