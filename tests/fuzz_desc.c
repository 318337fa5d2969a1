/* libFuzzer target for the descriptor checks of the C API (no device): conv, pool and layer descriptors built from
 * the input, and activation strings. Every call must succeed or fail with a status and a message, never crash or
 * overflow (UBSan); what succeeds must be self-consistent: output sizes >= 1 and equal to the shapes' spatial
 * dims, the parameter count equal to the weights' size (+ bias), "same" padding giving ceil(in / stride).
 * Input: byte 0 picks the family; each field then takes one byte (< 0xF0: that value mod 16, small sizes that
 * pass) or, after a byte >= 0xF0, four raw bytes (any uint32, float bits). Built and run by scripts/fuzz.sh. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clconv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader {
  const uint8_t *p;
  size_t left;
} reader;

static uint32_t word(reader *r) {
  if (!r->left)
    return 0;
  uint8_t b = *r->p++;
  r->left--;
  if (b < 0xF0)
    return b % 16;
  uint32_t v = 0;
  for (int i = 0; i < 4 && r->left; i++, r->left--)
    v |= (uint32_t)*r->p++ << (8 * i);
  return v;
}

static float real(reader *r) {
  uint32_t w = word(r);
  float f;
  if (w < 16)
    return (float)w - 8.0f;
  memcpy(&f, &w, sizeof f);
  return f;
}

static void axes(reader *r, uint32_t v[3]) {
  for (int i = 0; i < 3; i++)
    v[i] = word(r);
}

static void check(int ok) {
  if (!ok)
    __builtin_trap();
}

/* A failure must leave a message. */
static void failed(clconv_status s) { check(s != CLCONV_OK && clconv_last_error(NULL)[0] != '\0'); }

static uint64_t prod(const uint32_t *v, uint32_t n) {
  uint64_t p = 1;
  for (uint32_t i = 0; i < n; i++)
    p *= v[i];
  return p;
}

static void conv_desc(reader *r, clconv_conv_desc *d) {
  memset(d, 0, sizeof *d);
  d->ndim = word(r);
  d->batch = word(r);
  d->in_channels = word(r);
  d->out_channels = word(r);
  d->groups = word(r);
  axes(r, d->in_size);
  axes(r, d->kernel_size);
  axes(r, d->stride);
  axes(r, d->dilation);
  axes(r, d->pad_before);
  axes(r, d->pad_after);
  d->mode = (clconv_conv_mode)word(r);
  d->has_bias = word(r) & 1;
  d->activation.kind = (clconv_act_kind)word(r);
  d->activation.alpha = real(r);
  d->activation.beta = real(r);
  d->algorithm = (clconv_conv_algo)word(r);
}

static void pool_desc(reader *r, clconv_pool_desc *p) {
  memset(p, 0, sizeof *p);
  p->ndim = word(r);
  p->batch = word(r);
  p->channels = word(r);
  axes(r, p->in_size);
  axes(r, p->window);
  axes(r, p->stride);
  axes(r, p->pad_before);
  axes(r, p->pad_after);
  p->kind = (clconv_pool_kind)word(r);
  uint32_t flags = word(r);
  p->count_include_pad = flags & 1;
  p->ceil_mode = flags & 2;
  p->global = flags & 4;
}

static void fuzz_conv(reader *r) {
  clconv_conv_desc d;
  conv_desc(r, &d);
  uint32_t out[3], s[5], w[5], y[5];
  uint64_t params;
  clconv_tolerance tol;
  clconv_status st = clconv_conv_validate(&d);
  if (st != CLCONV_OK) {
    failed(st);
    failed(clconv_conv_output_size(&d, out));
    return;
  }
  check(clconv_conv_output_size(&d, out) == CLCONV_OK && clconv_conv_shapes(&d, s, w, y) == CLCONV_OK &&
        clconv_conv_param_count(&d, &params) == CLCONV_OK && clconv_conv_tolerance(&d, &tol) == CLCONV_OK);
  for (uint32_t i = 0; i < 3; i++)
    check(i < d.ndim ? out[i] >= 1 && y[2 + i] == out[i] : out[i] == 0);
  check(params == prod(w, d.ndim + 2) + (d.has_bias ? d.out_channels : 0));
  clconv_conv_desc same = d;
  st = clconv_conv_same_padding(&same);
  if (st != CLCONV_OK) {
    failed(st);
    return;
  }
  check(clconv_conv_output_size(&same, out) == CLCONV_OK);
  for (uint32_t i = 0; i < d.ndim; i++) {
    uint32_t stride = d.stride[i] ? d.stride[i] : 1;
    check(out[i] == d.in_size[i] / stride + (d.in_size[i] % stride != 0));
  }
}

static void fuzz_pool(reader *r) {
  clconv_pool_desc p;
  pool_desc(r, &p);
  uint32_t out[3], s[5], y[5];
  clconv_tolerance tol;
  clconv_status st = clconv_pool_validate(&p);
  if (st != CLCONV_OK) {
    failed(st);
    return;
  }
  check(clconv_pool_output_size(&p, out) == CLCONV_OK && clconv_pool_shapes(&p, s, y) == CLCONV_OK &&
        clconv_pool_tolerance(&p, &tol) == CLCONV_OK);
  for (uint32_t i = 0; i < 3; i++)
    check(i < p.ndim ? out[i] >= 1 && y[2 + i] == out[i] : out[i] == 0);
}

static void fuzz_layer(reader *r) {
  clconv_layer_desc l;
  conv_desc(r, &l.conv);
  pool_desc(r, &l.pool);
  uint32_t s[5], w[5], y[5];
  clconv_tolerance tol;
  clconv_status st = clconv_layer_validate(&l);
  if (st != CLCONV_OK) {
    failed(st);
    return;
  }
  check(clconv_layer_shapes(&l, s, w, y) == CLCONV_OK && clconv_layer_tolerance(&l, &tol) == CLCONV_OK);
  for (uint32_t i = 0; i < l.conv.ndim; i++)
    check(y[2 + i] >= 1);
}

static void fuzz_act(const uint8_t *data, size_t size) {
  char text[128];
  size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, data, n);
  text[n] = '\0';
  clconv_activation a;
  clconv_tolerance tol;
  clconv_status st = clconv_act_parse(text, &a);
  if (st != CLCONV_OK) {
    failed(st);
    return;
  }
  check(clconv_act_name(a.kind) != NULL && clconv_act_tolerance(&a, &tol) == CLCONV_OK);
  check(isfinite(a.alpha) && isfinite(a.beta));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  reader r = {data + 1, size - 1};
  switch (data[0] % 4) {
  case 0:
    fuzz_conv(&r);
    break;
  case 1:
    fuzz_pool(&r);
    break;
  case 2:
    fuzz_layer(&r);
    break;
  default:
    fuzz_act(data + 1, size - 1);
  }
  return 0;
}
