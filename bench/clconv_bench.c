/* clconv-bench: convolution throughput on one OpenCL device, each case validated against the CPU reference.
 *
 * Timing: one cold call (program build included), one warm-up, then repeats until both a minimum count and a
 * minimum time are reached; the median wall time of the synchronous call (enqueue + clFinish) is reported.
 * GFLOP/s = 2 * N * K * out-spatial * C/groups * kernel-volume / time (the layer counts its convolution only). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <clconv.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_case {
  const char *name;
  clconv_layer_desc d; /* pool.window[0] == 0: convolution only */
} bench_case;

#define LENET_C1                                                                                                       \
  .ndim = 2, .batch = 64, .in_channels = 3, .out_channels = 6, .in_size = {32, 32}, .kernel_size = {5, 5},             \
  .has_bias = true
static const bench_case suite[] = {
    {"lenet_layer",
     {.conv = {LENET_C1, .activation = {.kind = CLCONV_ACT_RELU}}, .pool = {.window = {2, 2}, .stride = {2, 2}}}},
    {"lenet_c1", {.conv = {LENET_C1}}},
    {"lenet_c3",
     {.conv = {.ndim = 2,
               .batch = 64,
               .in_channels = 6,
               .out_channels = 16,
               .in_size = {14, 14},
               .kernel_size = {5, 5},
               .has_bias = true}}},
    {"vgg_3x3",
     {.conv = {.ndim = 2,
               .in_channels = 64,
               .out_channels = 64,
               .in_size = {56, 56},
               .kernel_size = {3, 3},
               .pad_before = {1, 1},
               .pad_after = {1, 1}}}},
    {"resnet_3x3_s2",
     {.conv = {.ndim = 2,
               .in_channels = 64,
               .out_channels = 128,
               .in_size = {56, 56},
               .kernel_size = {3, 3},
               .stride = {2, 2},
               .pad_before = {1, 1},
               .pad_after = {1, 1}}}},
    {"depthwise_3x3",
     {.conv = {.ndim = 2,
               .in_channels = 256,
               .out_channels = 256,
               .groups = 256,
               .in_size = {28, 28},
               .kernel_size = {3, 3},
               .pad_before = {1, 1},
               .pad_after = {1, 1}}}},
    {"conv1d_audio",
     {.conv = {.ndim = 1,
               .in_channels = 64,
               .out_channels = 64,
               .in_size = {16000},
               .kernel_size = {9},
               .pad_before = {4},
               .pad_after = {4}}}},
    {"conv3d_video",
     {.conv = {.ndim = 3,
               .in_channels = 16,
               .out_channels = 32,
               .in_size = {8, 56, 56},
               .kernel_size = {3, 3, 3},
               .pad_before = {1, 1, 1},
               .pad_after = {1, 1, 1}}}},
};
#undef LENET_C1

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static size_t prod(const uint32_t *v, uint32_t n) {
  size_t p = 1;
  for (uint32_t i = 0; i < n; i++)
    p *= v[i];
  return p;
}

static void die_status(const char *what, clconv_status s, const clconv_context *ctx) {
  fprintf(stderr, "clconv-bench: %s: %s: %s\n", what, clconv_status_string(s), clconv_last_error(ctx));
  exit(s == CLCONV_ERR_INVALID_ARGUMENT ? 2 : 4);
}

#define CHECK(ctx, call)                                                                                               \
  do {                                                                                                                 \
    clconv_status s_ = (call);                                                                                         \
    if (s_ != CLCONV_OK)                                                                                               \
      die_status(#call, s_, ctx);                                                                                      \
  } while (0)

typedef struct run_ctx {
  clconv_context *ctx;
  clconv_layer *layer;
  clconv_conv *conv;
  clconv_tensor *x, *w, *b, *y;
} run_ctx;

static void run_once(run_ctx *r) {
  CHECK(r->ctx, r->layer ? clconv_layer_run(r->layer, r->x, r->w, r->b, r->y)
                         : clconv_conv_run(r->conv, r->x, r->w, r->b, r->y));
  CHECK(r->ctx, clconv_context_finish(r->ctx));
}

/* Returns 0 when the case validated (or validation was skipped), 1 otherwise. */
static int bench(clconv_context *ctx, const bench_case *c, double min_time, int min_reps, bool validate,
                 unsigned seed) {
  const clconv_layer_desc *d = &c->d;
  bool is_layer = d->pool.window[0] != 0;
  uint32_t ss[5], ws[5], ds[5], cs[5], n = d->conv.ndim + 2;
  CHECK(NULL, is_layer ? clconv_layer_shapes(d, ss, ws, ds) : clconv_conv_shapes(&d->conv, ss, ws, ds));
  CHECK(NULL, clconv_conv_shapes(&d->conv, ss, ws, cs));
  size_t sc = prod(ss, n), wc = prod(ws, n), dc = prod(ds, n), kc = ws[0];
  float *x = malloc(sc * sizeof *x), *w = malloc(wc * sizeof *w), *b = malloc(kc * sizeof *b),
        *got = malloc(dc * sizeof *got), *ref = malloc(dc * sizeof *ref), *mag = malloc(dc * sizeof *mag);
  if (!x || !w || !b || !got || !ref || !mag) {
    fprintf(stderr, "clconv-bench: %s: out of host memory\n", c->name);
    exit(4);
  }
  srand(seed);
  for (size_t i = 0; i < sc; i++)
    x[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
  for (size_t i = 0; i < wc; i++)
    w[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
  for (size_t i = 0; i < kc; i++)
    b[i] = (float)rand() / (float)RAND_MAX - 0.5f;

  run_ctx r = {.ctx = ctx};
  uint32_t bdim = (uint32_t)kc;
  CHECK(ctx, clconv_tensor_create(ctx, n, ss, &r.x));
  CHECK(ctx, clconv_tensor_create(ctx, n, ws, &r.w));
  CHECK(ctx, clconv_tensor_create(ctx, n, ds, &r.y));
  CHECK(ctx, clconv_tensor_write(r.x, x, sc));
  CHECK(ctx, clconv_tensor_write(r.w, w, wc));
  if (d->conv.has_bias) {
    CHECK(ctx, clconv_tensor_create(ctx, 1, &bdim, &r.b));
    CHECK(ctx, clconv_tensor_write(r.b, b, kc));
  }

  double t0 = now_s();
  if (is_layer)
    CHECK(ctx, clconv_layer_create(ctx, d, &r.layer));
  else
    CHECK(ctx, clconv_conv_create(ctx, &d->conv, &r.conv));
  run_once(&r);
  double cold = now_s() - t0;
  run_once(&r); /* warm-up */

  double *times = NULL, spent = 0.0;
  int reps = 0, cap = 0;
  while (reps < min_reps || spent < min_time) {
    if (reps == cap) {
      cap = cap ? 2 * cap : 64;
      times = realloc(times, (size_t)cap * sizeof *times);
      if (!times)
        exit(4);
    }
    double s = now_s();
    run_once(&r);
    times[reps] = now_s() - s;
    spent += times[reps++];
  }
  qsort(times, (size_t)reps, sizeof *times, cmp_double);
  double med = times[reps / 2], lo = times[0], hi = times[reps - 1];

  uint32_t groups = d->conv.groups ? d->conv.groups : 1;
  double flop = 2.0 * (double)prod(cs, n) * (double)(ss[1] / groups) * (double)prod(ws + 2, n - 2);

  int bad = 0;
  char verdict[64] = "skipped";
  if (validate) {
    CHECK(ctx, clconv_tensor_read(r.y, got, dc));
    clconv_tolerance tol;
    CHECK(NULL, is_layer ? clconv_ref_layer(d, x, w, b, ref, mag) : clconv_ref_conv(&d->conv, x, w, b, ref, mag));
    CHECK(NULL, is_layer ? clconv_layer_tolerance(d, &tol) : clconv_conv_tolerance(&d->conv, &tol));
    clconv_compare_result res;
    CHECK(NULL, clconv_compare(got, ref, mag, dc, &tol, &res));
    bad = res.mismatches != 0;
    snprintf(verdict, sizeof verdict, "%s %.2e", bad ? "FAIL" : "ok", res.max_abs_err);
  }
  printf("%-14s %9.3f %9.3f %9.3f %8.1f %5d %9.2f  %s\n", c->name, med * 1e3, lo * 1e3, (hi - lo) / med * 100.0,
         cold * 1e3, reps, flop / med * 1e-9, verdict);
  fflush(stdout);

  clconv_layer_destroy(r.layer);
  clconv_conv_destroy(r.conv);
  clconv_tensor_destroy(r.x);
  clconv_tensor_destroy(r.w);
  clconv_tensor_destroy(r.b);
  clconv_tensor_destroy(r.y);
  free(times);
  free(x);
  free(w);
  free(b);
  free(got);
  free(ref);
  free(mag);
  return bad;
}

static void usage(FILE *f) {
  fprintf(f, "usage: clconv-bench [--device SPEC] [--case NAME] [--min-time SECONDS] [--min-reps N] [--no-validate]\n"
             "  --device SPEC   device index (see clconv_device_count) or a substring of its name; default:\n"
             "                  CLCONV_DEVICE, else the first GPU, else the first device\n"
             "  --case NAME     run only this case (repeatable); cases:");
  for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++)
    fprintf(f, " %s", suite[i].name);
  fprintf(f, "\n  --min-time S    measure each case for at least S seconds (default 0.5)\n"
             "  --min-reps N    and at least N timed calls (default 5)\n"
             "  --no-validate   skip the CPU reference check\n");
}

int main(int argc, char **argv) {
  const char *device = NULL, *only[16];
  int n_only = 0, min_reps = 5;
  double min_time = 0.5;
  bool validate = true;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--device") && has_value) {
      device = argv[++i];
    } else if (!strcmp(a, "--case") && has_value && n_only < 16) {
      only[n_only++] = argv[++i];
    } else if (!strcmp(a, "--min-time") && has_value) {
      char *end;
      min_time = strtod(argv[++i], &end);
      if (*end || !(min_time >= 0.0)) {
        fprintf(stderr, "clconv-bench: --min-time: \"%s\" is not a number of seconds >= 0\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--min-reps") && has_value) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 1 || v > 1000000) {
        fprintf(stderr, "clconv-bench: --min-reps: \"%s\" is not an integer in 1..1000000\n", argv[i]);
        return 2;
      }
      min_reps = (int)v;
    } else if (!strcmp(a, "--no-validate")) {
      validate = false;
    } else {
      fprintf(stderr, "clconv-bench: unknown or incomplete option \"%s\"\n", a);
      usage(stderr);
      return 2;
    }
  }
  for (int j = 0; j < n_only; j++) {
    bool known = false;
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++)
      known |= !strcmp(only[j], suite[i].name);
    if (!known) {
      fprintf(stderr, "clconv-bench: --case: no case named \"%s\" (see --help)\n", only[j]);
      return 2;
    }
  }

  clconv_context *ctx;
  clconv_context_options opt = {.device = device};
  CHECK(NULL, clconv_context_create(&opt, &ctx));
  clconv_device_info info;
  CHECK(ctx, clconv_context_get_device_info(ctx, &info));
  printf("clconv-bench %s on %s (%s, %s, %u compute units)\n", clconv_version_string(), info.name, info.platform,
         info.version, info.compute_units);
  printf(
      "algorithm: direct (one work-item per output); GFLOP/s = 2*N*K*out_spatial*(C/groups)*kernel_volume / median\n");
  printf("%-14s %9s %9s %9s %8s %5s %9s  %s\n", "case", "median_ms", "min_ms", "spread%", "cold_ms", "reps", "GFLOP/s",
         "check (max abs err)");
  int failed = 0;
  for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++) {
    bool run = n_only == 0;
    for (int j = 0; j < n_only; j++)
      run |= !strcmp(only[j], suite[i].name);
    if (run)
      failed += bench(ctx, &suite[i], min_time, min_reps, validate, 1234u + (unsigned)i);
  }
  clconv_context_destroy(ctx);
  if (failed) {
    fprintf(stderr, "clconv-bench: %d case(s) failed validation\n", failed);
    return 1;
  }
  return 0;
}
