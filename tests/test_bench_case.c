/* clconv-bench's case descriptors: the built-in suite, round trips, FLOP and byte counts, and bad strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the above first */
#include <cmocka.h>

#include <string.h>

#include "case.h"

static void test_suite_round_trip(void **state) {
  (void)state;
  assert_int_equal(bench_suite_count, 15);
  for (size_t i = 0; i < bench_suite_count; i++) {
    bench_case a, b;
    char err[256], f1[512], f2[512];
    if (bench_case_parse(bench_suite[i], &a, err, sizeof err))
      fail_msg("%s: %s", bench_suite[i], err);
    bench_case_format(&a, f1, sizeof f1);
    if (bench_case_parse(f1, &b, err, sizeof err))
      fail_msg("canonical %s: %s", f1, err);
    bench_case_format(&b, f2, sizeof f2);
    assert_string_equal(f1, f2);
    assert_true(bench_case_flop(&a) == bench_case_flop(&b) && bench_case_bytes(&a) == bench_case_bytes(&b));
  }
}

static double flop_of(const char *text) {
  bench_case c;
  char err[256];
  if (bench_case_parse(text, &c, err, sizeof err))
    fail_msg("%s: %s", text, err);
  return bench_case_flop(&c);
}

static double bytes_of(const char *text) {
  bench_case c;
  char err[256];
  if (bench_case_parse(text, &c, err, sizeof err))
    fail_msg("%s: %s", text, err);
  return bench_case_bytes(&c);
}

/* 2 * N * K * out-spatial * C/groups * kernel-volume, by hand */
static void test_flop_and_bytes(void **state) {
  (void)state;
  assert_true(flop_of(bench_suite[0]) == 2.0 * 64 * 6 * 28 * 28 * 3 * 25);              /* lenet_c1 */
  assert_true(flop_of(bench_suite[2]) == 2.0 * 1 * 64 * 56 * 56 * 64 * 9);              /* vgg_3x3 */
  assert_true(flop_of(bench_suite[4]) == 2.0 * 128 * 28 * 28 * 64 * 9);                 /* resnet_3x3_s2 */
  assert_true(flop_of(bench_suite[6]) == 2.0 * 256 * 28 * 28 * 1 * 9);                  /* depthwise */
  assert_true(flop_of(bench_suite[8]) == 2.0 * 64 * 112 * 112 * 3 * 49);                /* stem 7x7 s2 */
  assert_true(flop_of(bench_suite[9]) == 2.0 * 64 * 16000 * 64 * 9);                    /* conv1d */
  assert_true(flop_of(bench_suite[10]) == 2.0 * 32 * 8 * 56 * 56 * 16 * 27);            /* conv3d */
  assert_true(flop_of(bench_suite[11]) == flop_of(bench_suite[0]));                     /* layer: its conv */
  assert_true(flop_of(bench_suite[12]) == 0.0);                                         /* pool */
  assert_true(bytes_of(bench_suite[14]) == 2.0 * 4 * 64 * 112 * 112);                   /* relu */
  assert_true(bytes_of(bench_suite[12]) == 4.0 * 64 * (112 * 112 + 56 * 56));           /* maxpool 2x2 s2 */
  assert_true(bytes_of(bench_suite[13]) == 4.0 * 64 * (112 * 112 + 56 * 56));           /* avgpool 3x3 s2 p1 */
  assert_true(bytes_of("conv:c=2,k=3,in=4,kernel=3,bias=1") == 4.0 * (8 + 18 + 3 + 6)); /* x, w, b, y */
  assert_true(bytes_of("conv:c=2,k=3,in=4,kernel=3,residual=1") == 4.0 * (8 + 18 + 6 + 6)); /* x, w, z, y */
  /* a layer's residual has the convolution's output shape (3 x 2), not the pooled one */
  assert_true(bytes_of("layer:c=2,k=3,in=4,kernel=3,pool=max,window=2,residual=1") == 4.0 * (8 + 18 + 6 + 3));
  assert_true(bytes_of(bench_suite[11]) == 4.0 * (64 * 3 * 1024 + 6 * 3 * 25 + 6 + 64 * 6 * 14 * 14));
}

static void test_fields(void **state) {
  (void)state;
  bench_case c;
  char err[256], cli[640];
  /* a value may hold commas (clip bounds); per-axis values; order does not matter */
  assert_int_equal(bench_case_parse("conv:act=clip:-1,2,in=9x8,k=4,c=2,kernel=3x1,stride=2x1,pad_before=1x0,"
                                    "pad_after=0x2,dil=1x2,groups=2,mode=conv,bias=1,n=3,name=x.y-z",
                                    &c, err, sizeof err),
                   0);
  const clconv_conv_desc *d = &c.layer.conv;
  assert_string_equal(c.name, "x.y-z");
  assert_true(c.op == BENCH_CONV && d->ndim == 2 && d->batch == 3 && d->in_channels == 2 && d->out_channels == 4);
  assert_true(d->in_size[0] == 9 && d->in_size[1] == 8 && d->kernel_size[0] == 3 && d->kernel_size[1] == 1);
  assert_true(d->stride[0] == 2 && d->dilation[1] == 2 && d->pad_after[1] == 2 && d->groups == 2);
  assert_true(d->mode == CLCONV_MODE_CONV && d->has_bias && d->activation.kind == CLCONV_ACT_CLIP);
  assert_true(d->activation.alpha == -1.0f && d->activation.beta == 2.0f);
  bench_case_cli(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, "clconv conv --input X.npy --weights W.npy --bias B.npy --output Y.npy --stride 2,1"));
  assert_non_null(strstr(cli, "--dilation 1,2 --pad-before 1,0 --pad-after 0,2 --groups 2 --mode conv"));
  assert_non_null(strstr(cli, "--activation clip:-1,2 --check"));
  /* residual= round-trips and reaches the CLI line */
  assert_int_equal(bench_case_parse("conv:c=1,k=2,in=8,kernel=3,residual=1", &c, err, sizeof err), 0);
  assert_true(c.layer.conv.has_residual);
  bench_case_format(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, ",residual=1"));
  bench_case_cli(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, " --residual Z.npy"));
  /* algo= round-trips and reaches the CLI line */
  assert_int_equal(bench_case_parse("conv:c=1,k=2,in=8,kernel=3,algo=gemm", &c, err, sizeof err), 0);
  assert_int_equal(c.layer.conv.algorithm, CLCONV_ALGO_GEMM);
  bench_case_format(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, ",algo=gemm"));
  bench_case_cli(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, " --algorithm gemm"));
  /* pool cases use stride= and pad=; layer cases pool_stride= and pool_pad= */
  assert_int_equal(
      bench_case_parse("pool:c=3,in=10,pool=avg,window=3,stride=2,pad=1,count_pad=1,ceil=1", &c, err, sizeof err), 0);
  assert_true(c.op == BENCH_POOL && c.layer.pool.stride[0] == 2 && c.layer.pool.pad_after[0] == 1 &&
              c.layer.pool.count_include_pad && c.layer.pool.ceil_mode && c.layer.pool.kind == CLCONV_POOL_AVG);
  bench_case_cli(&c, cli, sizeof cli);
  assert_string_equal(cli, "clconv pool --kind avg --input X.npy --output Y.npy --window 3 --stride 2 --pad-before 1 "
                           "--pad-after 1 --count-pad --ceil --check");
  assert_int_equal(bench_case_parse("layer:c=1,k=2,in=8x8,kernel=3,stride=1,pad=1,pool=max,window=2,pool_stride=1,"
                                    "pool_pad=1",
                                    &c, err, sizeof err),
                   0);
  assert_true(c.layer.conv.pad_before[0] == 1 && c.layer.pool.stride[0] == 1 && c.layer.pool.pad_before[1] == 1);
  assert_int_equal(bench_case_parse("act:n=2,c=3,in=4x5x6,act=leaky_relu:0.2", &c, err, sizeof err), 0);
  assert_true(c.op == BENCH_ACT && c.act_ndim == 5 && c.act_dims[4] == 6 && c.act.alpha == 0.2f);
}

static void test_bad_descriptors(void **state) {
  (void)state;
  static const struct {
    const char *text, *want;
  } rows[] = {
      {"gemm:c=1", "the op must be conv, layer, pool or act"},
      {"conv:c=1,k=1,in=8,kernel=3,colour=red", "unknown field \"colour\""},
      {"conv:c=1,c=2,k=1,in=8,kernel=3", "field c given twice"},
      {"conv:c=1,in=8,kernel=3", "conv cases need k="},
      {"pool:c=1,in=8,window=2", "pool cases need pool="},
      {"act:c=1,in=8", "act cases need act="},
      {"act:c=1,in=8,act=relu,kernel=3", "act cases take no field kernel"},
      {"conv:c=1,k=1,in=8,kernel=3,stride=0", "stride=0"},
      {"conv:c=1,k=1,in=8,kernel=3,dil=0", "dil=0"},
      {"pool:c=1,in=8,pool=max,window=0", "window=0"},
      {"conv:c=0,k=1,in=8,kernel=3", "c=0"},
      {"conv:c=1,k=1,in=8x0,kernel=3", "in=8x0"},
      {"conv:c=1,k=1,in=8x8,kernel=3x3x3", "3 values for 2 spatial axes"},
      {"conv:c=1,k=1,in=2x2x2x2,kernel=1", "1 to 3 spatial sizes"},
      {"conv:c=1,k=1,in=8,kernel=-3", "kernel=-3"},
      {"conv:c=1,k=1,in=8,kernel=3,pad=1,pad_before=1", "pad= excludes"},
      {"conv:c=1,k=1,in=8,kernel=3,bias=yes", "bias=yes: expected 0 or 1"},
      {"conv:c=1,k=1,in=8,kernel=3,mode=flip", "mode=flip"},
      {"conv:c=1,k=1,in=8,kernel=3,algo=fft", "algo=fft: auto, direct or gemm"},
      {"pool:c=1,in=8,pool=max,window=2,algo=gemm", "pool cases take no field algo"},
      {"conv:c=1,k=1,in=8,kernel=3,act=swish", "act=swish"},
      {"conv:c=1,k=1,in=8,kernel=30", "exceeds padded input"},
      {"conv:c=3,k=4,groups=2,in=8,kernel=3", "groups = 2 must divide"},
      {"pool:c=1,in=8,pool=median,window=2", "pool=median"},
      {"conv:name=a b,c=1,k=1,in=8,kernel=1", "name=a b"},
      {"conv:c=1,k=1,in=8,kernel", "conv cases need kernel="}, /* a comma not before key= belongs to the value */
      {"conv:kernel", "expected key=value"},
      {"conv:c=1,k=1,in=,kernel=1", "empty or too long"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    bench_case c;
    char err[256] = "";
    if (bench_case_parse(rows[i].text, &c, err, sizeof err) != -1 || !strstr(err, rows[i].want))
      fail_msg("\"%s\": \"%s\", want \"%s\"", rows[i].text, err, rows[i].want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suite_round_trip),
      cmocka_unit_test(test_flop_and_bytes),
      cmocka_unit_test(test_fields),
      cmocka_unit_test(test_bad_descriptors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
