/* Random configurations and device-vs-reference checks, shared by `clconv validate` and the tests.
 * A check returns 0 when the device matches the reference under the library's tolerance (exactly for integer
 * data and max pooling), 1 on a mismatch, -1 when an API call failed; both are described on `log`, with `replay`
 * (how to reproduce: a seed or a command) in the message. */
#ifndef CLCONV_SWEEP_H
#define CLCONV_SWEEP_H

#include <clconv.h>
#include <stdio.h>

/* splitmix64: tiny, portable, the same sequence everywhere. */
typedef struct sweep_rng {
  uint64_t s;
} sweep_rng;
uint64_t sweep_next(sweep_rng *r);
uint32_t sweep_int(sweep_rng *r, uint32_t lo, uint32_t hi); /* inclusive */
float sweep_float(sweep_rng *r, float lo, float hi);
bool sweep_chance(sweep_rng *r, double p);
void sweep_fill(sweep_rng *r, float *v, size_t n, float lo, float hi);
void sweep_fill_integers(sweep_rng *r, float *v, size_t n, int lo, int hi);

/* Descriptions for messages. */
void sweep_conv_str(const clconv_conv_desc *d, char *buf, size_t cap);
void sweep_pool_str(const clconv_pool_desc *d, char *buf, size_t cap);
/* Index -> "(n, c, d, h, w)" for a tensor of dims {N, C, spatial...}. */
void sweep_index_str(size_t i, const uint32_t *dims, uint32_t ndim, char *buf, size_t cap);

/* Random descriptors: every axis count, stride 1-4, asymmetric padding, dilation, groups and depthwise, 1x1,
 * 1 to 40 output channels per group (so every conv kernel variant and tile width is drawn),
 * kernels as large as the padded input, batch 1-3, odd sizes, both modes; any activation with random parameters
 * (any_activation: `clconv validate`), else identity or relu. The tests' sweeps take the latter: what they vary is
 * the shape, and the activation is a compile-time constant of every conv program, so drawing all nine would make
 * PoCL compile each random shape's kernel up to nine times; every activation goes through every kernel in
 * tests/test_variants.c instead. ndim 0 picks 1..3 at random. The reduction length C/groups * kernel volume stays
 * <= 4096. */
void sweep_conv_desc(sweep_rng *r, clconv_conv_desc *d, uint32_t ndim, bool any_activation);
/* Keeps d->batch and d->channels; pools an input of in_size[0..ndim-1]. */
void sweep_pool_desc(sweep_rng *r, clconv_pool_desc *d, const uint32_t *in_size, uint32_t ndim);
/* A random activation: any kind (sweep_activation) or the given one (sweep_activation_of), with random parameters
 * (0, the default, among them). */
void sweep_activation(sweep_rng *r, clconv_activation *a);
void sweep_activation_of(sweep_rng *r, clconv_act_kind kind, clconv_activation *a);
/* Values for an activation sweep: tiny, moderate or large around 0. */
void sweep_act_data(sweep_rng *r, float *x, size_t count);

/* Host data of a 16-bit type dt as floats: v rounded in place to dt's values (nothing for float32); upload creates a
 * tensor of dt and writes host (already of dt's values; NULL: contents undefined); download reads a tensor of any
 * type into floats. */
clconv_status sweep_round(clconv_dtype dt, float *v, size_t n);
clconv_status sweep_upload(clconv_context *ctx, clconv_dtype dt, uint32_t n, const uint32_t *dims, const float *host,
                           clconv_tensor **t);
clconv_status sweep_download(clconv_tensor *t, float *host);

/* The checks run in the descriptor's dtype (sweep_check_act: dt), on random data of that type. exact: integer data,
 * compared bit for bit (the float32 sums are exact, so both sides round the same value to the output type).
 * mutation: also check that the comparison rejects a reference with one weight dropped. */
int sweep_check_conv(clconv_context *ctx, const clconv_conv_desc *d, sweep_rng *r, bool exact, bool mutation, FILE *log,
                     const char *replay);
int sweep_check_pool(clconv_context *ctx, const clconv_pool_desc *d, sweep_rng *r, FILE *log, const char *replay);
int sweep_check_act(clconv_context *ctx, const clconv_activation *a, clconv_dtype dt, const float *x, size_t count,
                    bool in_place, FILE *log, const char *replay);
int sweep_check_layer(clconv_context *ctx, const clconv_layer_desc *d, sweep_rng *r, FILE *log, const char *replay);

#endif
