/* clconv: run and validate every op of the library on NumPy .npy files.
 * Exit codes: 0 success, 1 validation failed, 2 usage error, 3 input/output error, 4 device or OpenCL error.
 * Errors are one line on stderr: "clconv: <what>: <detail>". */
#include <clconv.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "sweep.h"

enum { EXIT_CHECK = 1, EXIT_USAGE = 2, EXIT_IO = 3, EXIT_DEVICE = 4 };

static int error(int code, const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "clconv: %s: ", what);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return code;
}

/* Library failures: bad values and shapes are the user's (2), the rest the device's (4). */
static int lib_error(const char *what, clconv_status s, const clconv_context *ctx) {
  bool usage = s == CLCONV_ERR_INVALID_ARGUMENT || s == CLCONV_ERR_SHAPE_MISMATCH || s == CLCONV_ERR_SIZE_OVERFLOW;
  return error(usage ? EXIT_USAGE : EXIT_DEVICE, what, "%s: %s", clconv_status_string(s), clconv_last_error(ctx));
}

/* ---- options ------------------------------------------------------------------------------------------------ */
typedef struct opt {
  const char *name; /* without "--" */
  bool flag;        /* takes no value */
  const char *value;
  bool seen;
} opt;

/* Fills opts from argv ("--name value", "--name=value" or "--name" for flags); 0, or an exit code. */
static int parse_opts(const char *cmd, int argc, char **argv, opt *opts, size_t n) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0)
      return error(EXIT_USAGE, cmd, "unexpected argument \"%s\" (see --help)", a);
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    opt *o = NULL;
    for (size_t k = 0; k < n; k++)
      if (strlen(opts[k].name) == len && strncmp(opts[k].name, a + 2, len) == 0)
        o = &opts[k];
    if (!o)
      return error(EXIT_USAGE, cmd, "unknown option \"%.*s\" (see --help)", (int)(len + 2), a);
    if (o->seen)
      return error(EXIT_USAGE, cmd, "--%s given twice", o->name);
    o->seen = true;
    if (o->flag) {
      if (eq)
        return error(EXIT_USAGE, cmd, "--%s takes no value", o->name);
    } else if (eq) {
      o->value = eq + 1;
    } else if (i + 1 < argc) {
      o->value = argv[++i];
    } else {
      return error(EXIT_USAGE, cmd, "--%s needs a value", o->name);
    }
  }
  return 0;
}

#define O(n)                                                                                                           \
  { .name = n }
#define F(n)                                                                                                           \
  { .name = n, .flag = true }

static opt *find(opt *opts, size_t n, const char *name) {
  for (size_t k = 0; k < n; k++)
    if (!strcmp(opts[k].name, name))
      return &opts[k];
  return NULL;
}
#define OPT(name) find(opts, sizeof opts / sizeof opts[0], name)

static bool parse_u32(const char *s, uint32_t *out) {
  if (!*s || *s == '-' || *s == '+')
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno || v > 0x7fffffffull)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* "2" for every axis or "2,1" with one value per axis. An explicit 0 is rejected unless zero_ok: on the command
 * line there is no "default" to mean. */
static int parse_axes(const char *cmd, const char *flag, const char *text, uint32_t ndim, bool zero_ok,
                      uint32_t out[3]) {
  uint32_t v[3], n = 0;
  const char *p = text;
  for (;;) {
    char buf[32];
    size_t len = strcspn(p, ",");
    if (len == 0 || len >= sizeof buf || n == 3)
      return error(EXIT_USAGE, cmd, "--%s \"%s\": expected one integer or %u comma-separated integers", flag, text,
                   ndim);
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (!parse_u32(buf, &v[n]) || (!zero_ok && v[n] == 0))
      return error(EXIT_USAGE, cmd, "--%s \"%s\": \"%s\" is not an integer in %d..2147483647", flag, text, buf,
                   zero_ok ? 0 : 1);
    n++;
    if (!p[len])
      break;
    p += len + 1;
  }
  if (n != 1 && n != ndim)
    return error(EXIT_USAGE, cmd, "--%s \"%s\": %u values for %u spatial axes", flag, text, n, ndim);
  for (uint32_t i = 0; i < ndim; i++)
    out[i] = n == 1 ? v[0] : v[i];
  return 0;
}

/* ---- files ----------------------------------------------------------------------------------------------------- */
static int load(const char *path, npy_array *a) {
  char err[256];
  npy_status s = npy_read(path, a, err, sizeof err);
  if (s != NPY_OK)
    return error(s == NPY_ERR_NOMEM ? EXIT_DEVICE : EXIT_IO, path, "%s", err);
  if (a->lossy)
    fprintf(stderr, "clconv: note: %s: %s values rounded to float32\n", path, a->dtype);
  for (uint32_t i = 0; i < a->ndim; i++)
    if (a->shape[i] == 0 || a->shape[i] > 0x7fffffffu)
      return error(EXIT_USAGE, path, "dimension %u is %llu; every dimension must be 1..2147483647", i,
                   (unsigned long long)a->shape[i]);
  return 0;
}

/* data: floats, of float16 values when dt is (written as float16). */
static int save(const char *path, clconv_dtype dt, uint32_t ndim, const uint32_t *dims, const float *data,
                size_t count) {
  uint64_t shape[CLCONV_MAX_DIMS];
  for (uint32_t i = 0; i < ndim; i++)
    shape[i] = dims[i];
  char err[256];
  uint16_t *half = NULL;
  if (dt == CLCONV_F16 && (!(half = malloc(count * sizeof *half)) || clconv_f32_to_f16(data, half, count)))
    return free(half), error(EXIT_DEVICE, path, "out of host memory for %zu float16 values", count);
  npy_status s = npy_write(path, ndim, shape, half ? (const void *)half : data, half != NULL, err, sizeof err);
  free(half);
  return s == NPY_OK ? 0 : error(EXIT_IO, path, "%s", err);
}

/* ---- running one op: on the device, on the CPU, or both with a comparison ---------------------------------- */
typedef enum op_kind { OP_CONV, OP_LAYER, OP_POOL, OP_ACT } op_kind;

typedef struct job {
  const char *cmd;
  op_kind kind;
  clconv_layer_desc layer; /* conv: .conv; pool: .pool */
  clconv_activation act;
  clconv_dtype dt;          /* --dtype: the inputs are rounded to it, the output is of it */
  npy_array *x, *w, *b, *z; /* z: the residual, or NULL */
  uint32_t out_ndim, out_dims[CLCONV_MAX_DIMS];
  size_t out_count; /* set by execute() from out_dims */
} job;

static clconv_status run_reference(const job *j, float *y, float *mag) {
  switch (j->kind) {
  case OP_CONV:
    return clconv_ref_conv(&j->layer.conv, j->x->data, j->w->data, j->b ? j->b->data : NULL,
                           j->z ? j->z->data : NULL, y, mag);
  case OP_LAYER:
    return clconv_ref_layer(&j->layer, j->x->data, j->w->data, j->b ? j->b->data : NULL, j->z ? j->z->data : NULL,
                            y, mag);
  case OP_POOL:
    return clconv_ref_pool(&j->layer.pool, j->x->data, y, mag);
  default:
    return clconv_ref_act(&j->act, j->dt, j->x->data, y, j->x->count);
  }
}

static clconv_status tolerance(const job *j, clconv_tolerance *t) {
  switch (j->kind) {
  case OP_CONV:
    return clconv_conv_tolerance(&j->layer.conv, t);
  case OP_LAYER:
    return clconv_layer_tolerance(&j->layer, t);
  case OP_POOL:
    return clconv_pool_tolerance(&j->layer.pool, t);
  default: {
    clconv_status s = clconv_act_tolerance(&j->act, t);
    t->dtype = j->dt;
    return s;
  }
  }
}

static clconv_status upload(clconv_context *ctx, clconv_dtype dt, const npy_array *a, clconv_tensor **t) {
  uint32_t dims[CLCONV_MAX_DIMS], n = a->ndim ? a->ndim : 1;
  for (uint32_t i = 0; i < n; i++)
    dims[i] = a->ndim ? (uint32_t)a->shape[i] : 1;
  return sweep_upload(ctx, dt, n, dims, a->data, t);
}

static int run_device(const job *j, const char *device, float *y) {
  clconv_context *ctx = NULL;
  clconv_tensor *tx = NULL, *tw = NULL, *tb = NULL, *tz = NULL, *ty = NULL;
  clconv_context_options o = {.device = device};
  clconv_status s = clconv_context_create(&o, &ctx);
  if (s != CLCONV_OK)
    return lib_error(j->cmd, s, NULL);
  s = upload(ctx, j->dt, j->x, &tx);
  if (s == CLCONV_OK && j->w)
    s = upload(ctx, j->dt, j->w, &tw);
  if (s == CLCONV_OK && j->b)
    s = upload(ctx, j->dt, j->b, &tb);
  if (s == CLCONV_OK && j->z)
    s = upload(ctx, j->dt, j->z, &tz);
  if (s == CLCONV_OK)
    s = clconv_tensor_create(ctx, j->dt, j->out_ndim, j->out_dims, &ty);
  if (s == CLCONV_OK) {
    switch (j->kind) {
    case OP_CONV:
      s = clconv_conv_forward(ctx, &j->layer.conv, tx, tw, tb, tz, ty);
      break;
    case OP_LAYER:
      s = clconv_layer_forward(ctx, &j->layer, tx, tw, tb, tz, ty);
      break;
    case OP_POOL:
      s = clconv_pool_forward(ctx, &j->layer.pool, tx, ty);
      break;
    default:
      s = clconv_act_forward(ctx, &j->act, tx, ty);
    }
  }
  if (s == CLCONV_OK)
    s = sweep_download(ty, y);
  int rc = s == CLCONV_OK ? 0 : lib_error(j->cmd, s, ctx);
  clconv_tensor_destroy(tx);
  clconv_tensor_destroy(tw);
  clconv_tensor_destroy(tb);
  clconv_tensor_destroy(tz);
  clconv_tensor_destroy(ty);
  clconv_context_destroy(ctx);
  return rc;
}

/* Runs the job as the flags say and writes the output; returns the exit code. */
static int execute(job *j, opt *opts, size_t n_opts, const char *out_path) {
  j->out_count = 1;
  for (uint32_t i = 0; i < j->out_ndim; i++)
    j->out_count *= j->out_dims[i];
  bool cpu = find(opts, n_opts, "cpu")->seen, check = find(opts, n_opts, "check")->seen;
  const char *device = find(opts, n_opts, "device")->value;
  if (cpu && check)
    return error(EXIT_USAGE, j->cmd, "--cpu and --check exclude each other");
  const char *dtype = find(opts, n_opts, "dtype")->value;
  if (dtype && strcmp(dtype, "float32") && strcmp(dtype, "float16"))
    return error(EXIT_USAGE, j->cmd, "--dtype \"%s\": float32 or float16", dtype);
  j->dt = dtype && !strcmp(dtype, "float16") ? CLCONV_F16 : CLCONV_F32;
  j->layer.conv.dtype = j->kind == OP_POOL ? CLCONV_F32 : j->dt;
  j->layer.pool.dtype = j->kind == OP_POOL ? j->dt : CLCONV_F32; /* a layer's comes from its conv */
  npy_array *in[4] = {j->x, j->w, j->b, j->z};
  for (int i = 0; i < 4; i++) /* to float16 (nearest even) before the upload: the reference sees the same values */
    if (in[i] && sweep_round(j->dt, in[i]->data, in[i]->count) != CLCONV_OK)
      return error(EXIT_DEVICE, j->cmd, "out of host memory for %zu values", in[i]->count);
  float *y = malloc(j->out_count * sizeof *y), *ref = NULL, *mag = NULL;
  if (check) {
    ref = malloc(j->out_count * sizeof *ref);
    mag = malloc(j->out_count * sizeof *mag);
  }
  int rc = 0;
  if (!y || (check && (!ref || !mag))) {
    rc = error(EXIT_DEVICE, j->cmd, "out of host memory for %zu output elements", j->out_count);
    goto done;
  }
  if (cpu) {
    clconv_status s = run_reference(j, y, NULL);
    if (s != CLCONV_OK)
      rc = lib_error(j->cmd, s, NULL);
  } else {
    rc = run_device(j, device, y);
  }
  if (rc)
    goto done;
  bool bad = false;
  if (check) {
    clconv_tolerance tol;
    clconv_compare_result res;
    clconv_status s = run_reference(j, ref, mag);
    if (s == CLCONV_OK)
      s = tolerance(j, &tol);
    if (s == CLCONV_OK)
      s = clconv_compare(y, ref, mag, j->out_count, &tol, &res);
    if (s != CLCONV_OK) {
      rc = lib_error(j->cmd, s, NULL);
      goto done;
    }
    bad = res.mismatches != 0;
    printf("check: max abs error %.3g, max rel error %.3g, worst error / tolerance %.3g at element %zu; %s "
           "(%zu of %zu elements over tolerance)\n",
           res.max_abs_err, res.max_rel_err, res.worst_ratio, res.worst_index, bad ? "FAILED" : "passed",
           res.mismatches, j->out_count);
  }
  rc = save(out_path, j->dt, j->out_ndim, j->out_dims, y, j->out_count);
  if (!rc && bad)
    rc = error(EXIT_CHECK, j->cmd, "device result exceeds the tolerance (written to %s)", out_path);
done:
  free(y);
  free(ref);
  free(mag);
  return rc;
}

/* ---- subcommands ---------------------------------------------------------------------------------------------- */
/* " identity relu leaky_relu[:ALPHA] ...": every activation of the header's table with its parameters */
#define ACT_PARAMS_0 ""
#define ACT_PARAMS_1 "[:ALPHA]"
#define ACT_PARAMS_2 ":LO,HI"
#define ACT_PARAMS(p) ACT_PARAMS_##p
#define ACT_NAME(NAME, value, name, params, ...) " " name ACT_PARAMS(params)
#define ACT_NAMES CLCONV_ACT_MAP(ACT_NAME)

static const char conv_help[] =
    "usage: clconv conv --input X.npy --weights W.npy [--bias B.npy] --output Y.npy [options]\n"
    "Convolution or cross-correlation, optionally followed by an activation and pooling (the layer).\n"
    "The weights' rank sets the spatial dims: (K, C/G, W) 1D, (K, C/G, H, W) 2D, (K, C/G, D, H, W) 3D; the input\n"
    "is (N, C, spatial...) of the same rank, the bias (K,). Per-axis values are one integer for every axis or a\n"
    "comma list, outermost axis first (--stride 2,1).\n"
    "  --stride S            stride per axis, >= 1 (default 1)\n"
    "  --pad P               zero padding on both sides of each axis (default 0)\n"
    "  --pad-before P --pad-after P   asymmetric padding (instead of --pad)\n"
    "  --pad same            output size ceil(in / stride); floor(k/2) each side for odd k and stride 1\n"
    "  --dilation D          dilation per axis, >= 1 (default 1)\n"
    "  --groups G            groups, dividing C and K (default 1; G = C = K is depthwise)\n"
    "  --mode xcorr|conv     cross-correlation (default) or convolution (kernel flipped in every axis)\n"
    "  --algorithm auto|direct|gemm   how the device computes it (default auto; gemm: im2col + CLBlast)\n"
    "  --residual Z.npy      add BETA * Z before the activation; Z has the convolution's output shape\n"
    "  --residual-scale BETA the residual's factor (default 1; needs --residual)\n"
    "  --activation NAME[:ALPHA]  applied after the bias and the residual, one of\n"
    "                       " ACT_NAMES "\n"
    "  --pool max|avg        then pool: runs the whole layer conv -> activation -> pool\n"
    "  --window K            pooling window per axis (with --pool)\n"
    "  --pool-stride S       pooling stride (default: the window)\n"
    "  --pool-pad P          pooling padding on both sides, < window (default 0)\n"
    "  --count-pad           average pooling divides by the window including padding\n"
    "  --ceil                ceil mode for the pooled size (PyTorch's rule)\n"
    "  --dtype float32|float16  the tensors' type (default float32): with float16 the inputs are rounded to it\n"
    "                        (nearest even), the device stores float16 and computes in float32, the output\n"
    "                        .npy is float16\n"
    "  --cpu                 run the CPU reference instead of the device\n"
    "  --check               run both, write the device result, print the errors; exit 1 over tolerance\n"
    "  --device SPEC         device index (clconv devices) or a substring of its name; default CLCONV_DEVICE,\n"
    "                        else the first GPU, else the first device\n";

static const char pool_help[] =
    "usage: clconv pool --kind max|avg --input X.npy --output Y.npy --window K [options]\n"
    "Max or average pooling of an (N, C, W), (N, C, H, W) or (N, C, D, H, W) input.\n"
    "  --kind max|avg        required\n"
    "  --window K            window per axis (one integer or a comma list), required\n"
    "  --stride S            stride per axis, >= 1 (default: the window)\n"
    "  --pad P               padding on both sides, < window (default 0)\n"
    "  --pad-before P --pad-after P   asymmetric padding (instead of --pad)\n"
    "  --count-pad           average divides by the window including padding (not past the right padding)\n"
    "  --ceil                ceil mode: keep a last partial window that starts inside the input or left padding\n"
    "  --dtype, --cpu, --check, --device SPEC  as for conv\n";

static const char act_help[] =
    "usage: clconv act --kind NAME[:ALPHA] --input X.npy --output Y.npy [--dtype T] [--cpu] [--check]\n"
    "                  [--device SPEC]\n"
    "An activation over every element of an array of any shape (rank 1 to 5).\n"
    "  --kind NAME[:ALPHA]   one of\n"
    "                       " ACT_NAMES "\n"
    "  --dtype, --cpu, --check, --device SPEC  as for conv\n";

static const char validate_help[] =
    "usage: clconv validate [--op conv|pool|act|layer|all] [--dims 1|2|3|all] [--dtype T] [--count N]\n"
    "                       [--seed S] [--device SPEC]\n"
    "Runs N seeded random configurations of each chosen op on the device and compares them with the CPU\n"
    "reference; prints each failure with its configuration and a command that replays it, then\n"
    "\"P passed, F failed\". Exit 1 when any failed.\n"
    "  --op OP      conv, pool, act, layer or all (default all)\n"
    "  --dims D     spatial dims 1, 2, 3 or all (default all; act ignores it)\n"
    "  --dtype T    the tensors' type: float32 (default), float16 or bfloat16\n"
    "  --count N    configurations per op (default 100)\n"
    "  --seed S     base seed (default 1); configuration i uses seed S + i\n"
    "  --device SPEC  as for conv\n";

static const char devices_help[] = "usage: clconv devices\n"
                                   "Lists the OpenCL devices with the index that --device and CLCONV_DEVICE take.\n";

static bool wants_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return true;
  return false;
}

static int require(const char *cmd, opt *o) {
  return o->seen ? 0 : error(EXIT_USAGE, cmd, "--%s is required (see --help)", o->name);
}

/* Padding flags shared by conv and pool: --pad P | --pad-before P --pad-after P; "same" only where allowed. */
static int parse_padding(const char *cmd, opt *pad, opt *before, opt *after, uint32_t ndim, uint32_t pb[3],
                         uint32_t pa[3], bool *same) {
  if (pad->seen && (before->seen || after->seen))
    return error(EXIT_USAGE, cmd, "--pad excludes --pad-before and --pad-after");
  if (same && pad->seen && !strcmp(pad->value, "same")) {
    *same = true;
    return 0;
  }
  int rc = 0;
  if (pad->seen) {
    rc = parse_axes(cmd, "pad", pad->value, ndim, true, pb);
    memcpy(pa, pb, 3 * sizeof *pb);
  }
  if (!rc && before->seen)
    rc = parse_axes(cmd, "pad-before", before->value, ndim, true, pb);
  if (!rc && after->seen)
    rc = parse_axes(cmd, "pad-after", after->value, ndim, true, pa);
  return rc;
}

#define OPTN(name) find(opts, nopts, name)

/* The convolution's sizes from the arrays (x: N, C, spatial...; w: K, C/G, kernel...; b: K) and --groups. */
static int conv_from_arrays(const char *cmd, opt *opts, size_t nopts, const npy_array *x, const npy_array *w,
                            const npy_array *b, clconv_conv_desc *d) {
  if (w->ndim < 3 || w->ndim > 5)
    return error(EXIT_USAGE, cmd, "weights have rank %u; (K, C/G, spatial...) needs 3, 4 or 5", w->ndim);
  if (x->ndim != w->ndim)
    return error(EXIT_USAGE, cmd, "input has rank %u but weights have rank %u (input is N, C, spatial...)", x->ndim,
                 w->ndim);
  d->ndim = w->ndim - 2;
  d->batch = (uint32_t)x->shape[0];
  d->in_channels = (uint32_t)x->shape[1];
  d->out_channels = (uint32_t)w->shape[0];
  d->groups = 1;
  if (OPTN("groups")->seen && !parse_u32(OPTN("groups")->value, &d->groups))
    d->groups = 0;
  if (d->groups == 0)
    return error(EXIT_USAGE, cmd, "--groups \"%s\": not an integer in 1..2147483647", OPTN("groups")->value);
  if ((uint64_t)w->shape[1] * d->groups != d->in_channels)
    return error(EXIT_USAGE, cmd, "weights expect %llu input channels per group, input has %u channels in %u group(s)",
                 (unsigned long long)w->shape[1], d->in_channels, d->groups);
  for (uint32_t i = 0; i < d->ndim; i++) {
    d->in_size[i] = (uint32_t)x->shape[2 + i];
    d->kernel_size[i] = (uint32_t)w->shape[2 + i];
  }
  if (OPTN("bias")->seen) {
    if (b->ndim != 1 || b->shape[0] != d->out_channels)
      return error(EXIT_USAGE, cmd, "bias must have shape (%u,) for %u output channels", d->out_channels,
                   d->out_channels);
    d->has_bias = true;
  }
  return 0;
}

/* The convolution's flags: stride, dilation, padding (or "same"), mode, algorithm, activation. */
static int conv_flags(const char *cmd, opt *opts, size_t nopts, clconv_conv_desc *d) {
  bool same = false;
  int rc;
  if ((OPTN("stride")->seen && (rc = parse_axes(cmd, "stride", OPTN("stride")->value, d->ndim, false, d->stride))) ||
      (OPTN("dilation")->seen &&
       (rc = parse_axes(cmd, "dilation", OPTN("dilation")->value, d->ndim, false, d->dilation))) ||
      (rc = parse_padding(cmd, OPTN("pad"), OPTN("pad-before"), OPTN("pad-after"), d->ndim, d->pad_before, d->pad_after,
                          &same)))
    return rc;
  if (OPTN("mode")->seen) {
    const char *m = OPTN("mode")->value;
    if (strcmp(m, "xcorr") && strcmp(m, "conv"))
      return error(EXIT_USAGE, cmd, "--mode \"%s\": xcorr or conv", m);
    d->mode = strcmp(m, "conv") ? CLCONV_MODE_XCORR : CLCONV_MODE_CONV;
  }
  if (OPTN("algorithm")->seen) {
    const char *a = OPTN("algorithm")->value;
    int found = -1;
    for (int i = 0; i < CLCONV_ALGO_COUNT; i++)
      if (!strcmp(a, clconv_algo_name((clconv_conv_algo)i)))
        found = i;
    if (found < 0)
      return error(EXIT_USAGE, cmd, "--algorithm \"%s\": auto, direct or gemm", a);
    d->algorithm = (clconv_conv_algo)found;
  }
  if (OPTN("activation")->seen && clconv_act_parse(OPTN("activation")->value, &d->activation) != CLCONV_OK)
    return error(EXIT_USAGE, cmd, "--activation: %s", clconv_last_error(NULL));
  clconv_status s = same ? clconv_conv_same_padding(d) : CLCONV_OK;
  return s == CLCONV_OK ? 0 : lib_error(cmd, s, NULL);
}

/* The layer's pooling flags. */
static int pool_flags(const char *cmd, opt *opts, size_t nopts, uint32_t ndim, clconv_pool_desc *p) {
  const char *kind = OPTN("pool")->value;
  int rc;
  if (strcmp(kind, "max") && strcmp(kind, "avg"))
    return error(EXIT_USAGE, cmd, "--pool \"%s\": max or avg", kind);
  p->kind = strcmp(kind, "max") ? CLCONV_POOL_AVG : CLCONV_POOL_MAX;
  p->count_include_pad = OPTN("count-pad")->seen;
  p->ceil_mode = OPTN("ceil")->seen;
  if ((rc = parse_axes(cmd, "window", OPTN("window")->value, ndim, false, p->window)) ||
      (OPTN("pool-stride")->seen &&
       (rc = parse_axes(cmd, "pool-stride", OPTN("pool-stride")->value, ndim, false, p->stride))) ||
      (OPTN("pool-pad")->seen &&
       (rc = parse_axes(cmd, "pool-pad", OPTN("pool-pad")->value, ndim, true, p->pad_before))))
    return rc;
  memcpy(p->pad_after, p->pad_before, sizeof p->pad_after);
  return 0;
}

/* The residual (--residual, loaded into z) against the convolution's output shape, and its scale. */
static int residual_flags(const char *cmd, opt *opts, size_t nopts, clconv_conv_desc *d, npy_array *z) {
  int rc = load(OPTN("residual")->value, z);
  if (rc)
    return rc;
  uint32_t sdims[5], wdims[5], ddims[5];
  clconv_status s = clconv_conv_shapes(d, sdims, wdims, ddims);
  if (s != CLCONV_OK)
    return lib_error(cmd, s, NULL);
  bool same = z->ndim == d->ndim + 2;
  for (uint32_t i = 0; same && i < z->ndim; i++)
    same = z->shape[i] == ddims[i];
  if (!same) {
    char want[64] = "", got[64] = "";
    for (uint32_t i = 0; i < d->ndim + 2; i++)
      snprintf(want + strlen(want), sizeof want - strlen(want), "%s%u", i ? ", " : "", ddims[i]);
    for (uint32_t i = 0; i < z->ndim; i++)
      snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "", (unsigned long long)z->shape[i]);
    return error(EXIT_USAGE, cmd, "residual %s has shape (%s); the convolution's output is (%s)",
                 OPTN("residual")->value, got, want);
  }
  d->has_residual = true;
  if (OPTN("residual-scale")->seen) {
    char *end;
    const char *text = OPTN("residual-scale")->value;
    d->residual_scale = strtof(text, &end);
    if (end == text || *end || !isfinite(d->residual_scale))
      return error(EXIT_USAGE, cmd, "--residual-scale \"%s\": not a finite number", text);
    if (d->residual_scale == 0.0f) /* 0 in the descriptor means 1 */
      return error(EXIT_USAGE, cmd, "--residual-scale 0 adds nothing: leave out --residual");
  }
  return 0;
}

static int cmd_conv(int argc, char **argv) {
  const char *cmd = "conv";
  if (wants_help(argc, argv))
    return fputs(conv_help, stdout), 0;
  opt opts[] = {O("input"),      O("weights"),   O("bias"),        O("output"),   O("stride"),    O("pad"),
                O("pad-before"), O("pad-after"), O("dilation"),    O("groups"),   O("mode"),      O("activation"),
                O("pool"),       O("window"),    O("pool-stride"), O("pool-pad"), F("count-pad"), F("ceil"),
                F("cpu"),        F("check"),     O("device"),      O("algorithm"), O("residual"), O("residual-scale"),
                O("dtype")};
  const size_t nopts = sizeof opts / sizeof opts[0];
  int rc = parse_opts(cmd, argc, argv, opts, nopts);
  if (rc || (rc = require(cmd, OPT("input"))) || (rc = require(cmd, OPT("weights"))) ||
      (rc = require(cmd, OPT("output"))))
    return rc;
  bool layer = OPT("pool")->seen;
  if (!layer && (OPT("window")->seen || OPT("pool-stride")->seen || OPT("pool-pad")->seen || OPT("count-pad")->seen ||
                 OPT("ceil")->seen))
    return error(EXIT_USAGE, cmd, "--window, --pool-stride, --pool-pad, --count-pad and --ceil need --pool");
  if (layer && (rc = require(cmd, OPT("window"))))
    return rc;
  if (OPT("residual-scale")->seen && !OPT("residual")->seen)
    return error(EXIT_USAGE, cmd, "--residual-scale needs --residual");
  npy_array x = {0}, w = {0}, b = {0}, z = {0};
  job j = {.cmd = cmd, .kind = layer ? OP_LAYER : OP_CONV, .x = &x, .w = &w};
  clconv_conv_desc *d = &j.layer.conv;
  if ((rc = load(OPT("input")->value, &x)) || (rc = load(OPT("weights")->value, &w)) ||
      (OPT("bias")->seen && (rc = load(OPT("bias")->value, &b))) ||
      (rc = conv_from_arrays(cmd, opts, nopts, &x, &w, &b, d)) || (rc = conv_flags(cmd, opts, nopts, d)) ||
      (layer && (rc = pool_flags(cmd, opts, nopts, d->ndim, &j.layer.pool))) ||
      (OPT("residual")->seen && (rc = residual_flags(cmd, opts, nopts, d, &z))))
    goto done;
  j.b = d->has_bias ? &b : NULL;
  j.z = d->has_residual ? &z : NULL;
  uint32_t sdims[5], wdims[5];
  clconv_status s =
      layer ? clconv_layer_shapes(&j.layer, sdims, wdims, j.out_dims) : clconv_conv_shapes(d, sdims, wdims, j.out_dims);
  if (s != CLCONV_OK) {
    rc = lib_error(cmd, s, NULL);
    goto done;
  }
  j.out_ndim = d->ndim + 2;
  rc = execute(&j, opts, nopts, OPT("output")->value);
done:
  npy_free(&x);
  npy_free(&w);
  npy_free(&b);
  npy_free(&z);
  return rc;
}

static int cmd_pool(int argc, char **argv) {
  const char *cmd = "pool";
  if (wants_help(argc, argv))
    return fputs(pool_help, stdout), 0;
  opt opts[] = {O("kind"),      O("input"),     O("output"), O("window"), O("stride"), O("pad"),   O("pad-before"),
                O("pad-after"), F("count-pad"), F("ceil"),   F("cpu"),    F("check"),  O("device"), O("dtype")};
  int rc = parse_opts(cmd, argc, argv, opts, sizeof opts / sizeof opts[0]);
  if (rc || (rc = require(cmd, OPT("kind"))) || (rc = require(cmd, OPT("input"))) ||
      (rc = require(cmd, OPT("output"))) || (rc = require(cmd, OPT("window"))))
    return rc;
  const char *kind = OPT("kind")->value;
  if (strcmp(kind, "max") && strcmp(kind, "avg"))
    return error(EXIT_USAGE, cmd, "--kind \"%s\": max or avg", kind);
  npy_array x = {0};
  job j = {.cmd = cmd, .kind = OP_POOL, .x = &x};
  clconv_pool_desc *p = &j.layer.pool;
  if ((rc = load(OPT("input")->value, &x)))
    goto done;
  if (x.ndim < 3 || x.ndim > 5) {
    rc = error(EXIT_USAGE, cmd, "input has rank %u; (N, C, spatial...) needs 3, 4 or 5", x.ndim);
    goto done;
  }
  p->ndim = x.ndim - 2;
  p->batch = (uint32_t)x.shape[0];
  p->channels = (uint32_t)x.shape[1];
  for (uint32_t i = 0; i < p->ndim; i++)
    p->in_size[i] = (uint32_t)x.shape[2 + i];
  p->kind = strcmp(kind, "max") ? CLCONV_POOL_AVG : CLCONV_POOL_MAX;
  p->count_include_pad = OPT("count-pad")->seen;
  p->ceil_mode = OPT("ceil")->seen;
  if ((rc = parse_axes(cmd, "window", OPT("window")->value, p->ndim, false, p->window)) ||
      (OPT("stride")->seen && (rc = parse_axes(cmd, "stride", OPT("stride")->value, p->ndim, false, p->stride))) ||
      (rc = parse_padding(cmd, OPT("pad"), OPT("pad-before"), OPT("pad-after"), p->ndim, p->pad_before, p->pad_after,
                          NULL)))
    goto done;
  uint32_t sdims[5];
  clconv_status s = clconv_pool_shapes(p, sdims, j.out_dims);
  if (s != CLCONV_OK) {
    rc = lib_error(cmd, s, NULL);
    goto done;
  }
  j.out_ndim = x.ndim;
  rc = execute(&j, opts, sizeof opts / sizeof opts[0], OPT("output")->value);
done:
  npy_free(&x);
  return rc;
}

static int cmd_act(int argc, char **argv) {
  const char *cmd = "act";
  if (wants_help(argc, argv))
    return fputs(act_help, stdout), 0;
  opt opts[] = {O("kind"), O("input"), O("output"), F("cpu"), F("check"), O("device"), O("dtype")};
  int rc = parse_opts(cmd, argc, argv, opts, sizeof opts / sizeof opts[0]);
  if (rc || (rc = require(cmd, OPT("kind"))) || (rc = require(cmd, OPT("input"))) || (rc = require(cmd, OPT("output"))))
    return rc;
  npy_array x = {0};
  job j = {.cmd = cmd, .kind = OP_ACT, .x = &x};
  if (clconv_act_parse(OPT("kind")->value, &j.act) != CLCONV_OK)
    return error(EXIT_USAGE, cmd, "--kind: %s", clconv_last_error(NULL));
  if ((rc = load(OPT("input")->value, &x)))
    goto done;
  if (x.ndim < 1 || x.ndim > CLCONV_MAX_DIMS) {
    rc = error(EXIT_USAGE, cmd, "input has rank %u; 1 to %d is supported", x.ndim, CLCONV_MAX_DIMS);
    goto done;
  }
  j.out_ndim = x.ndim;
  for (uint32_t i = 0; i < x.ndim; i++)
    j.out_dims[i] = (uint32_t)x.shape[i];
  rc = execute(&j, opts, sizeof opts / sizeof opts[0], OPT("output")->value);
done:
  npy_free(&x);
  return rc;
}

/* One random configuration of op k (conv, pool, act, layer) from r against the reference: 0 passed, 1 mismatched,
 * -1 a device or OpenCL error. */
static int validate_one(clconv_context *ctx, int k, uint32_t ndim, clconv_dtype dt, sweep_rng *r,
                        const char *replay) {
  if (k == 0) {
    clconv_conv_desc d;
    sweep_conv_desc(r, &d, ndim, true);
    d.dtype = dt;
    return sweep_check_conv(ctx, &d, r, false, true, stdout, replay);
  }
  if (k == 1) {
    static const uint32_t max_in[4] = {0, 40, 14, 7};
    uint32_t nd = ndim ? ndim : sweep_int(r, 1, 3), in[3];
    clconv_pool_desc d = {.batch = sweep_int(r, 0, 3), .channels = sweep_int(r, 1, 5)};
    for (uint32_t a = 0; a < nd; a++)
      in[a] = sweep_int(r, 1, max_in[nd]);
    sweep_pool_desc(r, &d, in, nd);
    d.dtype = dt;
    return sweep_check_pool(ctx, &d, r, stdout, replay);
  }
  if (k == 2) {
    clconv_activation a;
    sweep_activation(r, &a);
    size_t n = sweep_int(r, 1, 3000);
    float *x = malloc(n * sizeof *x);
    int res = -1;
    if (x) {
      sweep_act_data(r, x, n);
      res = sweep_check_act(ctx, &a, dt, x, n, sweep_chance(r, 0.5), stdout, replay);
    } else {
      printf("  error: out of host memory (%s)\n", replay);
    }
    free(x);
    return res;
  }
  clconv_layer_desc l;
  memset(&l, 0, sizeof l);
  sweep_conv_desc(r, &l.conv, ndim, true);
  uint32_t out[3];
  clconv_conv_output_size(&l.conv, out);
  sweep_pool_desc(r, &l.pool, out, l.conv.ndim);
  l.conv.dtype = l.pool.dtype = dt;
  return sweep_check_layer(ctx, &l, r, stdout, replay);
}

static int cmd_validate(int argc, char **argv) {
  const char *cmd = "validate";
  if (wants_help(argc, argv))
    return fputs(validate_help, stdout), 0;
  opt opts[] = {O("op"), O("dims"), O("count"), O("seed"), O("device"), O("dtype")};
  int rc = parse_opts(cmd, argc, argv, opts, sizeof opts / sizeof opts[0]);
  if (rc)
    return rc;
  const char *dtype = OPT("dtype")->seen ? OPT("dtype")->value : "float32";
  clconv_dtype dt = CLCONV_F32;
  while (dt < CLCONV_DTYPE_COUNT && strcmp(dtype, clconv_dtype_name(dt)))
    dt = (clconv_dtype)(dt + 1);
  if (dt == CLCONV_DTYPE_COUNT)
    return error(EXIT_USAGE, cmd, "--dtype \"%s\": float32, float16 or bfloat16", dtype);
  static const char *const names[] = {"conv", "pool", "act", "layer"};
  const char *op = OPT("op")->seen ? OPT("op")->value : "all", *dims = OPT("dims")->seen ? OPT("dims")->value : "all";
  int only = -1;
  for (int i = 0; i < 4; i++)
    if (!strcmp(op, names[i]))
      only = i;
  if (only < 0 && strcmp(op, "all"))
    return error(EXIT_USAGE, cmd, "--op \"%s\": conv, pool, act, layer or all", op);
  uint32_t ndim = 0, count = 100;
  if (strcmp(dims, "all") && (!parse_u32(dims, &ndim) || ndim < 1 || ndim > 3))
    return error(EXIT_USAGE, cmd, "--dims \"%s\": 1, 2, 3 or all", dims);
  if (OPT("count")->seen && (!parse_u32(OPT("count")->value, &count) || count == 0))
    return error(EXIT_USAGE, cmd, "--count \"%s\": an integer >= 1", OPT("count")->value);
  unsigned long long seed = 1;
  if (OPT("seed")->seen) {
    char *end;
    errno = 0;
    seed = strtoull(OPT("seed")->value, &end, 0);
    if (!*OPT("seed")->value || *end || errno || OPT("seed")->value[0] == '-')
      return error(EXIT_USAGE, cmd, "--seed \"%s\": a non-negative integer", OPT("seed")->value);
  }
  clconv_context *ctx;
  clconv_context_options o = {.device = OPT("device")->value};
  clconv_status s = clconv_context_create(&o, &ctx);
  if (s != CLCONV_OK)
    return lib_error(cmd, s, NULL);
  unsigned long passed = 0, failed = 0;
  bool device_error = false;
  for (uint32_t i = 0; i < count && !device_error; i++) {
    for (int k = 0; k < 4 && !device_error; k++) {
      if (only >= 0 && k != only)
        continue;
      /* each configuration from its own seed, so that one failure replays alone */
      sweep_rng r = {(seed + i) * 4 + (unsigned)k};
      char replay[160];
      snprintf(replay, sizeof replay, "replay: clconv validate --op %s --dims %s --dtype %s --count 1 --seed %llu",
               names[k], dims, dtype, seed + i);
      int res = validate_one(ctx, k, ndim, dt, &r, replay);
      if (res == 0) {
        passed++;
      } else {
        failed++;
        device_error = res < 0;
      }
    }
  }
  clconv_context_destroy(ctx);
  printf("%lu passed, %lu failed\n", passed, failed);
  if (device_error)
    return error(EXIT_DEVICE, cmd, "stopped after a device or OpenCL error (above)");
  return failed ? EXIT_CHECK : 0;
}

static int cmd_devices(int argc, char **argv) {
  if (wants_help(argc, argv))
    return fputs(devices_help, stdout), 0;
  if (argc > 0)
    return error(EXIT_USAGE, "devices", "unexpected argument \"%s\"", argv[0]);
  uint32_t n;
  clconv_status s = clconv_device_count(&n);
  if (s != CLCONV_OK)
    return lib_error("devices", s, NULL);
  printf("%-5s %-40s %-5s %10s %10s %8s %4s  %s\n", "index", "name", "type", "memory_MiB", "alloc_MiB", "max_wg", "cu",
         "platform / version");
  for (uint32_t i = 0; i < n; i++) {
    clconv_device_info info;
    if ((s = clconv_device_get_info(i, &info)) != CLCONV_OK)
      return lib_error("devices", s, NULL);
    printf("%-5u %-40s %-5s %10llu %10llu %8zu %4u  %s / %s\n", i, info.name, info.is_gpu ? "GPU" : "other",
           (unsigned long long)(info.global_mem_bytes >> 20), (unsigned long long)(info.max_alloc_bytes >> 20),
           info.max_work_group_size, info.compute_units, info.platform, info.version);
  }
  return 0;
}

static const char main_help[] =
    "usage: clconv <command> [options]    (clconv <command> --help for its options)\n"
    "  devices    list the OpenCL devices\n"
    "  conv       convolution / cross-correlation, optionally the whole layer (with --pool)\n"
    "  pool       max or average pooling\n"
    "  act        an activation\n"
    "  validate   random configurations, device against the CPU reference\n"
    "Arrays are NumPy .npy files: float32 (float16/64 and int32/64 are converted), C order.\n"
    "Exit codes: 0 success, 1 validation failed, 2 usage error, 3 input/output error, 4 device or OpenCL error.\n";

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } cmds[] = {
      {"devices", cmd_devices}, {"conv", cmd_conv}, {"pool", cmd_pool}, {"act", cmd_act}, {"validate", cmd_validate}};
  if (argc < 2) {
    fputs(main_help, stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
    return fputs(main_help, stdout), 0;
  if (!strcmp(argv[1], "--version"))
    return printf("clconv %s\n", clconv_version_string()), 0;
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (!strcmp(argv[1], cmds[i].name))
      return cmds[i].fn(argc - 2, argv + 2);
  return error(EXIT_USAGE, argv[1], "unknown command (devices, conv, pool, act, validate; see --help)");
}
