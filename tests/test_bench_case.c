/* clconv-bench's case descriptors: the built-in suite, round trips, FLOP and byte counts, and bad strings; the network
 * descriptions: every built-in network's shapes as the published architectures give them, and bad lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the above first */
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "case.h"
#include "net.h"

static void test_suite_round_trip(void **state) {
  (void)state;
  assert_int_equal(bench_suite_count, 27);
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
  /* 16-bit types: every tensor at 2 bytes */
  assert_true(bytes_of("conv:c=2,k=3,in=4,kernel=3,bias=1,dtype=f16") == 2.0 * (8 + 18 + 3 + 6));
  assert_true(bytes_of("act:c=64,in=112x112,act=relu,dtype=bf16") == 2.0 * 2 * 64 * 112 * 112);
  assert_true(bytes_of("pool:c=64,in=112x112,pool=max,window=2,dtype=f16") == 2.0 * 64 * (112 * 112 + 56 * 56));
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
  /* dtype= reaches every descriptor, round-trips, and the CLI line (none for bfloat16: NumPy has none) */
  assert_int_equal(bench_case_parse("layer:c=1,k=2,in=8,kernel=3,pool=max,window=2,dtype=f16", &c, err, sizeof err), 0);
  assert_true(c.dtype == CLCONV_F16 && c.layer.conv.dtype == CLCONV_F16);
  bench_case_format(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, ",dtype=f16"));
  bench_case_cli(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, " --dtype float16"));
  assert_int_equal(bench_case_parse("pool:c=1,in=8,pool=avg,window=2,dtype=bf16", &c, err, sizeof err), 0);
  assert_true(c.dtype == CLCONV_BF16 && c.layer.pool.dtype == CLCONV_BF16);
  bench_case_cli(&c, cli, sizeof cli);
  assert_string_equal(cli, "");
  /* algo= round-trips and reaches the CLI line */
  assert_int_equal(bench_case_parse("conv:c=1,k=2,in=8,kernel=3,algo=gemm", &c, err, sizeof err), 0);
  assert_int_equal(c.layer.conv.algorithm, CLCONV_ALGO_GEMM);
  bench_case_format(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, ",algo=gemm"));
  bench_case_cli(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, " --algorithm gemm"));
  /* a conv case runs once per algorithm only without algo=; an explicit algo=auto is kept, as asked */
  assert_true(c.every_algo == false);
  assert_int_equal(bench_case_parse("conv:c=1,k=2,in=8,kernel=3", &c, err, sizeof err), 0);
  assert_true(c.every_algo);
  bench_case_format(&c, cli, sizeof cli);
  assert_null(strstr(cli, "algo="));
  assert_int_equal(bench_case_parse("conv:c=1,k=2,in=8,kernel=3,algo=auto", &c, err, sizeof err), 0);
  assert_true(!c.every_algo && c.layer.conv.algorithm == CLCONV_ALGO_AUTO);
  bench_case_format(&c, cli, sizeof cli);
  assert_non_null(strstr(cli, ",algo=auto"));
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
      {"act:c=1,in=8,act=relu,dtype=f64", "dtype=f64: f32, f16 or bf16"},
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
      {"conv:c=1,k=1,in=8,kernel=3,act=mish", "act=mish"},
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


static const bench_net_layer *layer_named(const bench_net *net, const char *name) {
  for (size_t i = 0; i < net->n; i++)
    if (!strcmp(net->layers[i].c.name, name))
      return &net->layers[i];
  fail_msg("%s: no layer %s", net->name, name);
  return NULL;
}

/* The output dims of a layer (N C spatial). */
static void expect_out(const bench_net *net, const char *name, uint32_t nd, const uint32_t *want) {
  const bench_net_layer *l = layer_named(net, name);
  assert_int_equal(l->nd, nd);
  assert_memory_equal(l->out, want, nd * sizeof *want);
}

static void test_builtin_nets(void **state) {
  (void)state;
  static const char *const names[] = {"lenet5", "m5", "mobilenet_v2", "r3d_18", "resnet18", "resnet50", "vgg16"};
  assert_int_equal(bench_nets_count, sizeof names / sizeof *names);
  static const struct {
    const char *net;
    size_t layers;
    double gflop; /* per image, to 1% */
  } sizes[] = {
      /* published multiply-adds x 2: ResNet-18 1.82 G, ResNet-50 4.1 G, VGG-16 15.5 G, MobileNetV2 0.30 G */
      {"resnet18", 22, 3.63}, {"resnet50", 55, 8.18}, {"vgg16", 16, 30.94}, {"mobilenet_v2", 54, 0.60},
      {"lenet5", 5, 0.0013},  {"m5", 6, 0.553},       {"r3d_18", 22, 81.4},
  };
  char err[256];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    bench_net net;
    assert_string_equal(bench_nets[2 * i], names[i]);
    if (bench_net_load(names[i], 2, &net, err, sizeof err))
      fail_msg("%s", err);
    assert_int_equal(net.in[0], 2);
    for (size_t j = 0; j < net.n; j++) { /* the batch goes everywhere; each layer reads its source's shape */
      uint32_t snd;
      const uint32_t *sd = bench_net_dims(&net, net.layers[j].src, &snd);
      assert_int_equal(net.layers[j].out[0], 2);
      assert_int_equal(net.layers[j].nd, snd);
      const bench_case *c = &net.layers[j].c;
      uint32_t cin = c->op == BENCH_POOL ? c->layer.pool.channels : c->op == BENCH_ACT ? c->act_dims[1]
                                                                                     : c->layer.conv.in_channels;
      assert_int_equal(cin, sd[1]);
    }
    double flop = 0.0;
    for (size_t j = 0; j < net.n; j++)
      flop += bench_case_flop(&net.layers[j].c);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
      if (!strcmp(sizes[k].net, names[i])) {
        assert_int_equal(net.n, sizes[k].layers);
        if (fabs(flop / 2 * 1e-9 / sizes[k].gflop - 1.0) > 0.01)
          fail_msg("%s: %.4f GFLOP per image, want %.4f", names[i], flop / 2 * 1e-9, sizes[k].gflop);
      }
    bench_net_free(&net);
  }
}

static void test_net_shapes(void **state) {
  (void)state;
  bench_net net;
  char err[256];
  /* the notes' LeNet: 32x32x3 -> 28x28x6 -> 14x14x6 -> 10x10x16 -> 5x5x16 -> 120 -> 84 -> 10 */
  assert_int_equal(bench_net_load("lenet5", 1, &net, err, sizeof err), 0);
  expect_out(&net, "c1s2", 4, (const uint32_t[]){1, 6, 14, 14});
  expect_out(&net, "c3s4", 4, (const uint32_t[]){1, 16, 5, 5});
  expect_out(&net, "c5", 4, (const uint32_t[]){1, 120, 1, 1});
  expect_out(&net, "out", 4, (const uint32_t[]){1, 10, 1, 1});
  uint64_t params = 0, p;
  for (size_t i = 0; i < net.n; i++) {
    assert_int_equal(clconv_conv_param_count(&net.layers[i].c.layer.conv, &p), CLCONV_OK);
    params += p;
  }
  assert_int_equal(params, (5 * 5 * 3 * 6 + 6) + (5 * 5 * 6 * 16 + 16) + (5 * 5 * 16 * 120 + 120) + (120 * 84 + 84) +
                               (84 * 10 + 10));
  bench_net_free(&net);
  /* ResNet-18: 56, 28, 14, 7; the identity blocks add in place, the downsampling 1x1 is the second block's residual */
  assert_int_equal(bench_net_load("resnet18", 1, &net, err, sizeof err), 0);
  expect_out(&net, "conv1", 4, (const uint32_t[]){1, 64, 56, 56});
  expect_out(&net, "l2.0d", 4, (const uint32_t[]){1, 128, 28, 28});
  expect_out(&net, "l4.1b", 4, (const uint32_t[]){1, 512, 7, 7});
  expect_out(&net, "gap", 4, (const uint32_t[]){1, 512, 1, 1});
  expect_out(&net, "fc", 4, (const uint32_t[]){1, 1000, 1, 1});
  const bench_net_layer *l = layer_named(&net, "l1.0b");
  assert_true(l->add == 1 && l->in_place && layer_named(&net, "l1.0a")->add == 0);
  assert_true(layer_named(&net, "l2.0b")->in_place && layer_named(&net, "l2.0b")->c.layer.conv.has_residual);
  assert_true(layer_named(&net, "l2.0d")->bn && layer_named(&net, "l2.0d")->c.layer.conv.has_bias);
  bench_net_free(&net);
  assert_int_equal(bench_net_load("resnet50", 1, &net, err, sizeof err), 0);
  expect_out(&net, "l1.0c", 4, (const uint32_t[]){1, 256, 56, 56});
  expect_out(&net, "l4.2c", 4, (const uint32_t[]){1, 2048, 7, 7});
  bench_net_free(&net);
  assert_int_equal(bench_net_load("mobilenet_v2", 1, &net, err, sizeof err), 0);
  expect_out(&net, "b16.project", 4, (const uint32_t[]){1, 320, 7, 7});
  expect_out(&net, "head", 4, (const uint32_t[]){1, 1280, 7, 7});
  assert_int_equal(layer_named(&net, "b1.dw")->c.layer.conv.groups, 96);
  assert_true(layer_named(&net, "b2.project")->in_place && layer_named(&net, "b1.project")->add == 0);
  bench_net_free(&net);
  assert_int_equal(bench_net_load("vgg16", 1, &net, err, sizeof err), 0);
  expect_out(&net, "conv5_3", 4, (const uint32_t[]){1, 512, 7, 7});
  expect_out(&net, "fc6", 4, (const uint32_t[]){1, 4096, 1, 1});
  bench_net_free(&net);
  assert_int_equal(bench_net_load("m5", 1, &net, err, sizeof err), 0);
  expect_out(&net, "conv1", 3, (const uint32_t[]){1, 128, 1995});
  expect_out(&net, "conv4", 3, (const uint32_t[]){1, 512, 30});
  expect_out(&net, "fc", 3, (const uint32_t[]){1, 10, 1});
  bench_net_free(&net);
  assert_int_equal(bench_net_load("r3d_18", 1, &net, err, sizeof err), 0);
  expect_out(&net, "stem", 5, (const uint32_t[]){1, 64, 16, 56, 56});
  expect_out(&net, "l4.1b", 5, (const uint32_t[]){1, 512, 2, 7, 7});
  expect_out(&net, "fc", 5, (const uint32_t[]){1, 400, 1, 1, 1});
  bench_net_free(&net);
}

static void test_net_grammar(void **state) {
  (void)state;
  bench_net net;
  char err[256];
  /* a residual read again later is not summed in place; an activation layer; from= reaches back */
  const char *ok = "# comment\n"
                   "input 4x9x9\n"
                   "a conv:k=4,kernel=3,pad=1   # trailing\n"
                   "\n"
                   "b add=a bn conv:k=4,kernel=3,pad=1,act=relu\n"
                   "c act:act=tanh\n"
                   "d from=a add=b conv:k=4,kernel=1\n"
                   "e from=a layer:k=2,kernel=3,pool=max,window=2\n";
  if (bench_net_parse("t", ok, 3, &net, err, sizeof err))
    fail_msg("%s", err);
  assert_int_equal(net.n, 5);
  assert_false(net.layers[1].in_place); /* d reads b's residual a */
  assert_true(net.layers[3].in_place);  /* nothing reads b after d */
  assert_int_equal(net.layers[3].src, 1);
  assert_int_equal(net.layers[3].add, 2);
  assert_true(net.layers[1].bn && net.layers[1].c.layer.conv.has_bias && !net.layers[0].c.layer.conv.has_bias);
  assert_int_equal(net.layers[4].src, 1);
  expect_out(&net, "e", 4, (const uint32_t[]){3, 2, 3, 3});
  bench_net_free(&net);
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"a conv:k=1,kernel=1\n", "line 1: the first line must be \"input"},
      {"input 3\n", "input 3: expected"},
      {"input 3x0\n", "input 3x0"},
      {"input 3x8\ninput 3x8\n", "line 2: input given twice"},
      {"input 3x8\n", "no layers"},
      {"input 3x8\na conv:k=1,kernel=1\na conv:k=1,kernel=1\n", "line 3: layer name \"a\" used twice"},
      {"input 3x8\ninput2 conv:k=1,kernel=1\n", "line 2: layer name \"input2\"" /* fine name: parses */},
      {"input 3x8\na from=b conv:k=1,kernel=1\n", "from=b: no layer \"b\" above this line"},
      {"input 3x8\na add=input conv:k=3,kernel=1\n", "add=input: the residual must be a layer's output"},
      {"input 3x8\na conv:k=2,kernel=1\nb add=a conv:k=3,kernel=1\n", "add=a: its output is 2x8, the convolution's 3x8"},
      {"input 3x8\na conv:k=2,c=3,kernel=1\n", "c= comes from the network"},
      {"input 3x8\na conv:k=2,kernel=1,in=8\n", "in= comes from the network"},
      {"input 3x8\na conv:k=2,kernel=1,residual=1\n", "residual= comes from the network"},
      {"input 3x8\na bn pool:pool=max,window=2\n", "bn and add= need a conv or layer op"},
      {"input 3x8\na bn conv:k=2,kernel=1,bias=0\n", "bn sets the bias"},
      {"input 3x8\na bn bn conv:k=2,kernel=1\n", "bn given twice"},
      {"input 3x8\na quick conv:k=2,kernel=1\n", "\"quick\": expected from=LAYER, add=LAYER or bn"},
      {"input 3x8\na conv:k=2,kernel=9\n", "line 2:"},
      {"input 3x8\na\n", "expected NAME"},
      {"input 3x8x8x8x8\na conv:k=2,kernel=1\n", "input 3x8x8x8x8"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int rc = bench_net_parse("t", bad[i].text, 1, &net, err, sizeof err);
    if (i == 6) { /* a name that merely starts with "input" is a layer */
      assert_int_equal(rc, 0);
      bench_net_free(&net);
      continue;
    }
    if (rc == 0 || !strstr(err, bad[i].want))
      fail_msg("\"%s\": rc %d, error \"%s\", want \"%s\"", bad[i].text, rc, rc ? err : "", bad[i].want);
    assert_null(net.layers);
  }
  assert_int_equal(bench_net_load("alexnet", 1, &net, err, sizeof err), -1);
  assert_non_null(strstr(err, "no such network (built in: lenet5, m5"));
  assert_int_equal(bench_net_load("no/such.net", 1, &net, err, sizeof err), -1);
  assert_non_null(strstr(err, "--net no/such.net:"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suite_round_trip),
      cmocka_unit_test(test_flop_and_bytes),
      cmocka_unit_test(test_fields),
      cmocka_unit_test(test_bad_descriptors),
      cmocka_unit_test(test_builtin_nets),
      cmocka_unit_test(test_net_shapes),
      cmocka_unit_test(test_net_grammar),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
