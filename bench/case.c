/* Benchmark case descriptors: parsing, canonical formatting, the CLI equivalent, FLOP and byte counts. */
#include "case.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bench_suite[] = {
    "conv:name=lenet_c1,n=64,c=3,k=6,in=32x32,kernel=5,bias=1",
    "conv:name=lenet_c3,n=64,c=6,k=16,in=14x14,kernel=5,bias=1",
    "conv:name=vgg_3x3,c=64,k=64,in=56x56,kernel=3,pad=1",
    "conv:name=resnet_3x3,c=128,k=128,in=28x28,kernel=3,pad=1",
    "conv:name=resnet_3x3_s2,c=64,k=128,in=56x56,kernel=3,stride=2,pad=1",
    "conv:name=pointwise_1x1,c=256,k=256,in=14x14,kernel=1",
    "conv:name=depthwise_3x3,c=256,k=256,groups=256,in=28x28,kernel=3,pad=1",
    "conv:name=dilated_3x3,c=64,k=64,in=56x56,kernel=3,pad=2,dil=2",
    "conv:name=stem_7x7_s2,c=3,k=64,in=224x224,kernel=7,stride=2,pad=3",
    "conv:name=conv1d_audio,c=64,k=64,in=16000,kernel=9,pad=4",
    "conv:name=conv3d_video,c=16,k=32,in=8x56x56,kernel=3,pad=1",
    "layer:name=lenet_layer,n=64,c=3,k=6,in=32x32,kernel=5,bias=1,act=relu,pool=max,window=2,pool_stride=2",
    "pool:name=maxpool_2x2_s2,c=64,in=112x112,pool=max,window=2,stride=2",
    "pool:name=avgpool_3x3_s2,c=64,in=112x112,pool=avg,window=3,stride=2,pad=1",
    "act:name=relu,c=64,in=112x112,act=relu",
    /* the memory-bound cases and two large convolutions again in 16-bit storage: the ratio to their float32 rows */
    "pool:name=maxpool_2x2_s2_f16,c=64,in=112x112,pool=max,window=2,stride=2,dtype=f16",
    "pool:name=avgpool_3x3_s2_f16,c=64,in=112x112,pool=avg,window=3,stride=2,pad=1,dtype=f16",
    "act:name=relu_f16,c=64,in=112x112,act=relu,dtype=f16",
    "conv:name=depthwise_3x3_f16,c=256,k=256,groups=256,in=28x28,kernel=3,pad=1,algo=direct,dtype=f16",
    "conv:name=vgg_3x3_f16,c=64,k=64,in=56x56,kernel=3,pad=1,algo=direct,dtype=f16",
    "conv:name=resnet_3x3_f16,c=128,k=128,in=28x28,kernel=3,pad=1,algo=direct,dtype=f16",
    "pool:name=maxpool_2x2_s2_bf16,c=64,in=112x112,pool=max,window=2,stride=2,dtype=bf16",
    "pool:name=avgpool_3x3_s2_bf16,c=64,in=112x112,pool=avg,window=3,stride=2,pad=1,dtype=bf16",
    "act:name=relu_bf16,c=64,in=112x112,act=relu,dtype=bf16",
    "conv:name=depthwise_3x3_bf16,c=256,k=256,groups=256,in=28x28,kernel=3,pad=1,algo=direct,dtype=bf16",
    "conv:name=vgg_3x3_bf16,c=64,k=64,in=56x56,kernel=3,pad=1,algo=direct,dtype=bf16",
    "conv:name=resnet_3x3_bf16,c=128,k=128,in=28x28,kernel=3,pad=1,algo=direct,dtype=bf16",
};
const size_t bench_suite_count = sizeof bench_suite / sizeof bench_suite[0];

int bench_fail(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
  return -1;
}

typedef struct field {
  const char *key;
  char value[96];
  bool seen;
} field;

enum {
  F_NAME,
  F_N,
  F_C,
  F_K,
  F_GROUPS,
  F_IN,
  F_KERNEL,
  F_STRIDE,
  F_DIL,
  F_PAD,
  F_PAD_BEFORE,
  F_PAD_AFTER,
  F_MODE,
  F_BIAS,
  F_ACT,
  F_POOL,
  F_WINDOW,
  F_POOL_STRIDE,
  F_POOL_PAD,
  F_COUNT_PAD,
  F_CEIL,
  F_ALGO,
  F_RESIDUAL,
  F_DTYPE,
  F_COUNT
};

static const char *const keys[F_COUNT] = {"name",     "n",         "c",    "k",    "groups",     "in",
                                          "kernel",   "stride",    "dil",  "pad",  "pad_before", "pad_after",
                                          "mode",     "bias",      "act",  "pool", "window",     "pool_stride",
                                          "pool_pad", "count_pad", "ceil", "algo", "residual",   "dtype"};

/* Which fields each op takes (bit i = field i). */
#define B(f) (1u << (f))
static const unsigned allowed[4] = {
    [BENCH_CONV] = B(F_NAME) | B(F_N) | B(F_C) | B(F_K) | B(F_GROUPS) | B(F_IN) | B(F_KERNEL) | B(F_STRIDE) | B(F_DIL) |
                   B(F_PAD) | B(F_PAD_BEFORE) | B(F_PAD_AFTER) | B(F_MODE) | B(F_BIAS) | B(F_ACT) | B(F_ALGO) |
                   B(F_RESIDUAL) | B(F_DTYPE),
    [BENCH_LAYER] = B(F_NAME) | B(F_N) | B(F_C) | B(F_K) | B(F_GROUPS) | B(F_IN) | B(F_KERNEL) | B(F_STRIDE) |
                    B(F_DIL) | B(F_PAD) | B(F_PAD_BEFORE) | B(F_PAD_AFTER) | B(F_MODE) | B(F_BIAS) | B(F_ACT) |
                    B(F_POOL) | B(F_WINDOW) | B(F_POOL_STRIDE) | B(F_POOL_PAD) | B(F_COUNT_PAD) | B(F_CEIL) | B(F_ALGO) |
                    B(F_RESIDUAL) | B(F_DTYPE),
    [BENCH_POOL] = B(F_NAME) | B(F_N) | B(F_C) | B(F_IN) | B(F_POOL) | B(F_WINDOW) | B(F_STRIDE) | B(F_PAD) |
                   B(F_PAD_BEFORE) | B(F_PAD_AFTER) | B(F_COUNT_PAD) | B(F_CEIL) | B(F_DTYPE),
    [BENCH_ACT] = B(F_NAME) | B(F_N) | B(F_C) | B(F_IN) | B(F_ACT) | B(F_DTYPE),
};
static const unsigned required[4] = {
    [BENCH_CONV] = B(F_C) | B(F_K) | B(F_IN) | B(F_KERNEL),
    [BENCH_LAYER] = B(F_C) | B(F_K) | B(F_IN) | B(F_KERNEL) | B(F_POOL) | B(F_WINDOW),
    [BENCH_POOL] = B(F_C) | B(F_IN) | B(F_POOL) | B(F_WINDOW),
    [BENCH_ACT] = B(F_C) | B(F_IN) | B(F_ACT),
};
static const char *const op_names[4] = {"conv", "layer", "pool", "act"};
static const char *const dtype_names[CLCONV_DTYPE_COUNT] = {"f32", "f16", "bf16"};

const char *bench_op_name(bench_op op) { return op_names[op]; }

static bool parse_u32(const char *s, uint32_t lo, uint32_t *out) {
  if (!isdigit((unsigned char)*s))
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno || v > 0x7fffffffull || v < lo)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* "3" for every axis or "3x3[x3]" with one value per axis. */
static int parse_axes(const field *f, uint32_t ndim, uint32_t lo, uint32_t out[3], char *err, size_t cap) {
  uint32_t v[3], n = 0;
  const char *p = f->value;
  for (;;) {
    char buf[24];
    size_t len = strcspn(p, "x");
    if (len == 0 || len >= sizeof buf || n == 3)
      return bench_fail(err, cap, "%s=%s: expected N or NxN[xN]", f->key, f->value);
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (!parse_u32(buf, lo, &v[n++]))
      return bench_fail(err, cap, "%s=%s: \"%s\" is not an integer in %u..2147483647", f->key, f->value, buf, lo);
    if (!p[len])
      break;
    p += len + 1;
  }
  if (n != 1 && n != ndim)
    return bench_fail(err, cap, "%s=%s: %u values for %u spatial axes", f->key, f->value, n, ndim);
  for (uint32_t i = 0; i < ndim; i++)
    out[i] = n == 1 ? v[0] : v[i];
  return 0;
}

static int parse_bool(const field *f, bool *out, char *err, size_t cap) {
  if (strcmp(f->value, "0") && strcmp(f->value, "1"))
    return bench_fail(err, cap, "%s=%s: expected 0 or 1", f->key, f->value);
  *out = f->value[0] == '1';
  return 0;
}

static int parse_count(const field *f, uint32_t *out, char *err, size_t cap) {
  return parse_u32(f->value, 1, out) ? 0 : bench_fail(err, cap, "%s=%s: not an integer in 1..2147483647", f->key, f->value);
}

/* Splits "k=v,k=v,..." at the commas that start a new "key=": a value may itself hold commas (act=clip:-1,1). */
static int split_fields(const char *s, field *f, char *err, size_t cap) {
  while (*s) {
    const char *eq = strchr(s, '=');
    if (!eq)
      return bench_fail(err, cap, "\"%s\": expected key=value", s);
    size_t klen = (size_t)(eq - s);
    int idx = -1;
    for (int i = 0; i < F_COUNT; i++)
      if (strlen(keys[i]) == klen && !strncmp(s, keys[i], klen))
        idx = i;
    if (idx < 0)
      return bench_fail(err, cap, "unknown field \"%.*s\"", (int)klen, s);
    if (f[idx].seen)
      return bench_fail(err, cap, "field %s given twice", keys[idx]);
    const char *v = eq + 1, *end = v;
    for (;;) {
      end = strchr(end, ',');
      if (!end) {
        end = v + strlen(v);
        break;
      }
      const char *k = end + 1;
      while (*k == '_' || islower((unsigned char)*k))
        k++;
      if (*k == '=' && k > end + 1)
        break;
      end++;
    }
    size_t vlen = (size_t)(end - v);
    if (vlen == 0 || vlen >= sizeof f[idx].value)
      return bench_fail(err, cap, "field %s: empty or too long value", keys[idx]);
    memcpy(f[idx].value, v, vlen);
    f[idx].value[vlen] = '\0';
    f[idx].seen = true;
    s = *end ? end + 1 : end;
  }
  return 0;
}

/* The op before the colon, the fields after it (each allowed for the op, the required ones there) and the name;
 * returns the op, or -1 with err. */
static int parse_head(const char *text, bench_case *c, field *f, char *err, size_t cap) {
  const char *colon = strchr(text, ':');
  size_t olen = colon ? (size_t)(colon - text) : strlen(text);
  int op = -1;
  for (int i = 0; i < 4; i++)
    if (strlen(op_names[i]) == olen && !strncmp(text, op_names[i], olen))
      op = i;
  if (op < 0)
    return bench_fail(err, cap, "\"%.*s\": the op must be conv, layer, pool or act", (int)olen, text);
  c->op = (bench_op)op;
  for (int i = 0; i < F_COUNT; i++)
    f[i] = (field){.key = keys[i]};
  if (colon && split_fields(colon + 1, f, err, cap))
    return -1;
  for (int i = 0; i < F_COUNT; i++) {
    if (f[i].seen && !(allowed[op] & B(i)))
      return bench_fail(err, cap, "%s cases take no field %s", op_names[op], keys[i]);
    if (!f[i].seen && (required[op] & B(i)))
      return bench_fail(err, cap, "%s cases need %s=", op_names[op], keys[i]);
  }
  const char *name = f[F_NAME].seen ? f[F_NAME].value : op_names[op];
  /* names go into tables, CSV, JSON and plot labels: keep them plain */
  if (strlen(name) >= sizeof c->name ||
      strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(name))
    return bench_fail(err, cap, "name=%s: up to %zu letters, digits, '_', '.' or '-'", name, sizeof c->name - 1);
  memcpy(c->name, name, strlen(name) + 1);
  return op;
}

/* A pool or layer case's pooling fields, and the padding fields: the pool's for a pool case, else the conv's (a
 * layer's pooling takes pool_stride= and pool_pad=). */
static int parse_pooling(int op, const field *f, uint32_t ndim, bench_case *c, char *err, size_t cap) {
  clconv_pool_desc *p = &c->layer.pool;
  if (op == BENCH_POOL || op == BENCH_LAYER) {
    if (strcmp(f[F_POOL].value, "max") && strcmp(f[F_POOL].value, "avg"))
      return bench_fail(err, cap, "pool=%s: max or avg", f[F_POOL].value);
    p->kind = strcmp(f[F_POOL].value, "max") ? CLCONV_POOL_AVG : CLCONV_POOL_MAX;
    if (parse_axes(&f[F_WINDOW], ndim, 1, p->window, err, cap) ||
        (f[F_COUNT_PAD].seen && parse_bool(&f[F_COUNT_PAD], &p->count_include_pad, err, cap)) ||
        (f[F_CEIL].seen && parse_bool(&f[F_CEIL], &p->ceil_mode, err, cap)))
      return -1;
  }
  const field *ps = op == BENCH_POOL ? &f[F_STRIDE] : &f[F_POOL_STRIDE];
  if (op == BENCH_LAYER && f[F_POOL_PAD].seen) {
    if (parse_axes(&f[F_POOL_PAD], ndim, 0, p->pad_before, err, cap))
      return -1;
    memcpy(p->pad_after, p->pad_before, sizeof p->pad_after);
  }
  if (ps->seen && parse_axes(ps, ndim, 1, p->stride, err, cap))
    return -1;
  uint32_t *pb = op == BENCH_POOL ? p->pad_before : c->layer.conv.pad_before;
  uint32_t *pa = op == BENCH_POOL ? p->pad_after : c->layer.conv.pad_after;
  if (f[F_PAD].seen && (f[F_PAD_BEFORE].seen || f[F_PAD_AFTER].seen))
    return bench_fail(err, cap, "pad= excludes pad_before= and pad_after=");
  if (f[F_PAD].seen) {
    if (parse_axes(&f[F_PAD], ndim, 0, pb, err, cap))
      return -1;
    memcpy(pa, pb, 3 * sizeof *pb);
  }
  if ((f[F_PAD_BEFORE].seen && parse_axes(&f[F_PAD_BEFORE], ndim, 0, pb, err, cap)) ||
      (f[F_PAD_AFTER].seen && parse_axes(&f[F_PAD_AFTER], ndim, 0, pa, err, cap)))
    return -1;
  return 0;
}

/* A conv or layer case's convolution fields (the sizes and activation are set). */
static int parse_conv(const field *f, uint32_t ndim, clconv_conv_desc *d, char *err, size_t cap) {
  if (parse_count(&f[F_K], &d->out_channels, err, cap) ||
      (f[F_GROUPS].seen && parse_count(&f[F_GROUPS], &d->groups, err, cap)) ||
      parse_axes(&f[F_KERNEL], ndim, 1, d->kernel_size, err, cap) ||
      (f[F_STRIDE].seen && parse_axes(&f[F_STRIDE], ndim, 1, d->stride, err, cap)) ||
      (f[F_DIL].seen && parse_axes(&f[F_DIL], ndim, 1, d->dilation, err, cap)) ||
      (f[F_BIAS].seen && parse_bool(&f[F_BIAS], &d->has_bias, err, cap)) ||
      (f[F_RESIDUAL].seen && parse_bool(&f[F_RESIDUAL], &d->has_residual, err, cap)))
    return -1;
  if (f[F_MODE].seen) {
    if (strcmp(f[F_MODE].value, "xcorr") && strcmp(f[F_MODE].value, "conv"))
      return bench_fail(err, cap, "mode=%s: xcorr or conv", f[F_MODE].value);
    d->mode = strcmp(f[F_MODE].value, "conv") ? CLCONV_MODE_XCORR : CLCONV_MODE_CONV;
  }
  if (f[F_ALGO].seen) {
    int a = -1;
    for (int i = 0; i < CLCONV_ALGO_COUNT; i++)
      if (!strcmp(f[F_ALGO].value, clconv_algo_name((clconv_conv_algo)i)))
        a = i;
    if (a < 0)
      return bench_fail(err, cap, "algo=%s: auto, direct or gemm", f[F_ALGO].value);
    d->algorithm = (clconv_conv_algo)a;
  }
  return 0;
}

int bench_case_parse(const char *text, bench_case *out, char *err, size_t cap) {
  bench_case c;
  memset(&c, 0, sizeof c);
  field f[F_COUNT];
  int op = parse_head(text, &c, f, err, cap);
  if (op < 0)
    return -1;
  uint32_t ndim = 1, in[3], n = 1, ch;
  for (const char *p = f[F_IN].value; *p; p++)
    ndim += *p == 'x';
  if (ndim > 3)
    return bench_fail(err, cap, "in=%s: 1 to 3 spatial sizes", f[F_IN].value);
  if (parse_axes(&f[F_IN], ndim, 1, in, err, cap) || parse_count(&f[F_C], &ch, err, cap) ||
      (f[F_N].seen && parse_count(&f[F_N], &n, err, cap)))
    return -1;
  clconv_activation act = {0};
  if (f[F_ACT].seen && clconv_act_parse(f[F_ACT].value, &act) != CLCONV_OK)
    return bench_fail(err, cap, "act=%s: %s", f[F_ACT].value, clconv_last_error(NULL));
  if (f[F_DTYPE].seen) {
    int t = -1;
    for (int i = 0; i < CLCONV_DTYPE_COUNT; i++)
      if (!strcmp(f[F_DTYPE].value, dtype_names[i]))
        t = i;
    if (t < 0)
      return bench_fail(err, cap, "dtype=%s: f32, f16 or bf16", f[F_DTYPE].value);
    c.dtype = (clconv_dtype)t;
  }
  if (op == BENCH_ACT) {
    c.act = act;
    c.act_ndim = ndim + 2;
    c.act_dims[0] = n;
    c.act_dims[1] = ch;
    memcpy(c.act_dims + 2, in, ndim * sizeof *in);
    *out = c;
    return 0;
  }
  if (parse_pooling(op, f, ndim, &c, err, cap))
    return -1;
  clconv_pool_desc *p = &c.layer.pool;
  clconv_conv_desc *d = &c.layer.conv;
  clconv_status s;
  if (op == BENCH_POOL) {
    p->ndim = ndim;
    p->batch = n;
    p->channels = ch;
    p->dtype = c.dtype;
    memcpy(p->in_size, in, ndim * sizeof *in);
    s = clconv_pool_validate(p);
  } else {
    d->ndim = ndim;
    d->batch = n;
    d->in_channels = ch;
    d->dtype = c.dtype;
    memcpy(d->in_size, in, ndim * sizeof *in);
    d->activation = act;
    if (parse_conv(f, ndim, d, err, cap))
      return -1;
    c.every_algo = op == BENCH_CONV && !f[F_ALGO].seen;
    s = op == BENCH_LAYER ? clconv_layer_validate(&c.layer) : clconv_conv_validate(d);
  }
  if (s != CLCONV_OK)
    return bench_fail(err, cap, "%s", clconv_last_error(NULL));
  *out = c;
  return 0;
}

/* ---- formatting ----------------------------------------------------------------------------------------------- */
typedef struct out_buf {
  char *p;
  size_t cap, used;
} out_buf;

static void put(out_buf *o, const char *fmt, ...) {
  if (o->used >= o->cap)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->p + o->used, o->cap - o->used, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->used += (size_t)n;
}

/* prefix + axes joined by sep: "in=56x56" */
static void put_axes(out_buf *o, const char *prefix, const uint32_t *v, uint32_t ndim, const char *sep) {
  put(o, "%s", prefix);
  for (uint32_t i = 0; i < ndim; i++)
    put(o, "%s%u", i ? sep : "", v[i]);
}

static void put_act(out_buf *o, const char *prefix, const clconv_activation *a) {
  put(o, "%s%s", prefix, clconv_act_name(a->kind));
  if (a->kind == CLCONV_ACT_CLIP)
    put(o, ":%g,%g", (double)a->alpha, (double)a->beta);
  else if ((a->kind == CLCONV_ACT_LEAKY_RELU || a->kind == CLCONV_ACT_ELU) && a->alpha != 0.0f)
    put(o, ":%g", (double)a->alpha);
}

static uint32_t axis_or(uint32_t v, uint32_t dflt) { return v ? v : dflt; }

void bench_case_format(const bench_case *c, char *buf, size_t cap) {
  out_buf o = {buf, cap, 0};
  buf[0] = '\0';
  put(&o, "%s:name=%s", op_names[c->op], c->name);
  if (c->op == BENCH_ACT) {
    put(&o, ",n=%u,c=%u", c->act_dims[0], c->act_dims[1]);
    put_axes(&o, ",in=", c->act_dims + 2, c->act_ndim - 2, "x");
    put_act(&o, ",act=", &c->act);
    if (c->dtype)
      put(&o, ",dtype=%s", dtype_names[c->dtype]);
    return;
  }
  if (c->dtype)
    put(&o, ",dtype=%s", dtype_names[c->dtype]);
  const clconv_conv_desc *d = &c->layer.conv;
  const clconv_pool_desc *p = &c->layer.pool;
  uint32_t s[3], dil[3], ps[3];
  if (c->op == BENCH_POOL) {
    put(&o, ",n=%u,c=%u", axis_or(p->batch, 1), p->channels);
    put_axes(&o, ",in=", p->in_size, p->ndim, "x");
  } else {
    put(&o, ",n=%u,c=%u,k=%u,groups=%u", axis_or(d->batch, 1), d->in_channels, d->out_channels, axis_or(d->groups, 1));
    put_axes(&o, ",in=", d->in_size, d->ndim, "x");
    put_axes(&o, ",kernel=", d->kernel_size, d->ndim, "x");
    for (uint32_t i = 0; i < 3; i++) {
      s[i] = axis_or(d->stride[i], 1);
      dil[i] = axis_or(d->dilation[i], 1);
    }
    put_axes(&o, ",stride=", s, d->ndim, "x");
    put_axes(&o, ",dil=", dil, d->ndim, "x");
    put_axes(&o, ",pad_before=", d->pad_before, d->ndim, "x");
    put_axes(&o, ",pad_after=", d->pad_after, d->ndim, "x");
    put(&o, ",mode=%s,bias=%d", d->mode == CLCONV_MODE_CONV ? "conv" : "xcorr", d->has_bias);
    if (d->has_residual)
      put(&o, ",residual=1");
    put_act(&o, ",act=", &d->activation);
    if (d->algorithm || (c->op == BENCH_CONV && !c->every_algo))
      put(&o, ",algo=%s", clconv_algo_name(d->algorithm));
  }
  if (c->op == BENCH_CONV)
    return;
  uint32_t nd = c->op == BENCH_POOL ? p->ndim : d->ndim;
  for (uint32_t i = 0; i < 3; i++)
    ps[i] = axis_or(p->stride[i], p->window[i]);
  put(&o, ",pool=%s", p->kind == CLCONV_POOL_AVG ? "avg" : "max");
  put_axes(&o, ",window=", p->window, nd, "x");
  if (c->op == BENCH_POOL) {
    put_axes(&o, ",stride=", ps, nd, "x");
    put_axes(&o, ",pad_before=", p->pad_before, nd, "x");
    put_axes(&o, ",pad_after=", p->pad_after, nd, "x");
  } else {
    put_axes(&o, ",pool_stride=", ps, nd, "x");
    put_axes(&o, ",pool_pad=", p->pad_before, nd, "x");
  }
  put(&o, ",count_pad=%d,ceil=%d", p->count_include_pad, p->ceil_mode);
}

void bench_case_cli(const bench_case *c, char *buf, size_t cap) {
  out_buf o = {buf, cap, 0};
  buf[0] = '\0';
  if (c->dtype == CLCONV_BF16) /* NumPy has no bfloat16, nor the CLI */
    return;
  const clconv_conv_desc *d = &c->layer.conv;
  const clconv_pool_desc *p = &c->layer.pool;
  if (c->op == BENCH_ACT) {
    put_act(&o, "clconv act --kind ", &c->act);
    put(&o, " --input X.npy --output Y.npy%s --check", c->dtype == CLCONV_F16 ? " --dtype float16" : "");
    return;
  }
  if (c->op == BENCH_POOL) {
    put(&o, "clconv pool --kind %s --input X.npy --output Y.npy", p->kind == CLCONV_POOL_AVG ? "avg" : "max");
    put_axes(&o, " --window ", p->window, p->ndim, ",");
    if (p->stride[0])
      put_axes(&o, " --stride ", p->stride, p->ndim, ",");
    put_axes(&o, " --pad-before ", p->pad_before, p->ndim, ",");
    put_axes(&o, " --pad-after ", p->pad_after, p->ndim, ",");
  } else {
    uint32_t s[3], dil[3];
    for (uint32_t i = 0; i < 3; i++) {
      s[i] = axis_or(d->stride[i], 1);
      dil[i] = axis_or(d->dilation[i], 1);
    }
    put(&o, "clconv conv --input X.npy --weights W.npy%s%s --output Y.npy", d->has_bias ? " --bias B.npy" : "",
        d->has_residual ? " --residual Z.npy" : "");
    put_axes(&o, " --stride ", s, d->ndim, ",");
    put_axes(&o, " --dilation ", dil, d->ndim, ",");
    put_axes(&o, " --pad-before ", d->pad_before, d->ndim, ",");
    put_axes(&o, " --pad-after ", d->pad_after, d->ndim, ",");
    put(&o, " --groups %u --mode %s", axis_or(d->groups, 1), d->mode == CLCONV_MODE_CONV ? "conv" : "xcorr");
    if (d->activation.kind)
      put_act(&o, " --activation ", &d->activation);
    if (d->algorithm)
      put(&o, " --algorithm %s", clconv_algo_name(d->algorithm));
    if (c->op == BENCH_LAYER) {
      put(&o, " --pool %s", p->kind == CLCONV_POOL_AVG ? "avg" : "max");
      put_axes(&o, " --window ", p->window, d->ndim, ",");
      if (p->stride[0])
        put_axes(&o, " --pool-stride ", p->stride, d->ndim, ",");
      put_axes(&o, " --pool-pad ", p->pad_before, d->ndim, ",");
    }
  }
  if (p->count_include_pad && c->op != BENCH_CONV)
    put(&o, " --count-pad");
  if (p->ceil_mode && c->op != BENCH_CONV)
    put(&o, " --ceil");
  if (c->dtype == CLCONV_F16)
    put(&o, " --dtype float16");
  put(&o, " --check");
}

/* ---- work and traffic ------------------------------------------------------------------------------------------ */
static double prod(const uint32_t *v, uint32_t n) {
  double p = 1;
  for (uint32_t i = 0; i < n; i++)
    p *= v[i];
  return p;
}

double bench_case_flop(const bench_case *c) {
  if (c->op != BENCH_CONV && c->op != BENCH_LAYER)
    return 0.0;
  uint32_t s[5], w[5], y[5];
  const clconv_conv_desc *d = &c->layer.conv;
  if (clconv_conv_shapes(d, s, w, y) != CLCONV_OK)
    return 0.0;
  /* y = N K out...; w = K C/G kernel...: 2 * N * K * out * C/G * kvol = 2 * |y| * |w| / K */
  return 2.0 * prod(y, d->ndim + 2) * prod(w + 1, d->ndim + 1);
}

double bench_case_bytes(const bench_case *c) {
  uint32_t s[5], w[5], y[5];
  const double size = (double)clconv_dtype_size(c->dtype);
  switch (c->op) {
  case BENCH_ACT:
    return 2.0 * size * prod(c->act_dims, c->act_ndim);
  case BENCH_POOL:
    if (clconv_pool_shapes(&c->layer.pool, s, y) != CLCONV_OK)
      return 0.0;
    return size * (prod(s, c->layer.pool.ndim + 2) + prod(y, c->layer.pool.ndim + 2));
  default: {
    const clconv_conv_desc *d = &c->layer.conv;
    uint32_t z[5]; /* the residual: the convolution's output */
    clconv_status st = c->op == BENCH_LAYER ? clconv_layer_shapes(&c->layer, s, w, y) : clconv_conv_shapes(d, s, w, y);
    if (st != CLCONV_OK || clconv_conv_shapes(d, s, w, z) != CLCONV_OK)
      return 0.0;
    return size * (prod(s, d->ndim + 2) + prod(w, d->ndim + 2) + (d->has_bias ? d->out_channels : 0) +
                  (d->has_residual ? prod(z, d->ndim + 2) : 0) + prod(y, d->ndim + 2));
  }
  }
}

clconv_status bench_case_reference(const bench_case *c, const float *x, const float *w, const float *b, const float *z,
                                   float *ref, float *mag, clconv_tolerance *tol) {
  clconv_status s;
  switch (c->op) {
  case BENCH_CONV:
    s = clconv_ref_conv(&c->layer.conv, x, w, b, z, ref, mag);
    return s == CLCONV_OK ? clconv_conv_tolerance(&c->layer.conv, tol) : s;
  case BENCH_LAYER:
    s = clconv_ref_layer(&c->layer, x, w, b, z, ref, mag);
    return s == CLCONV_OK ? clconv_layer_tolerance(&c->layer, tol) : s;
  case BENCH_POOL:
    s = clconv_ref_pool(&c->layer.pool, x, ref, mag);
    return s == CLCONV_OK ? clconv_pool_tolerance(&c->layer.pool, tol) : s;
  default: {
    size_t count = 1;
    for (uint32_t i = 0; i < c->act_ndim; i++)
      count *= c->act_dims[i];
    memset(mag, 0, count * sizeof *mag);
    s = clconv_ref_act(&c->act, c->dtype, x, ref, count);
    if (s == CLCONV_OK)
      s = clconv_act_tolerance(&c->act, tol);
    tol->dtype = c->dtype;
    return s;
  }
  }
}
