/* The ops of the one-shot calls (clconv_*_forward), kept per context in one small cache, least recently used out:
 * a repeated call with one descriptor builds, chooses and allocates nothing again. Ops are made and destroyed
 * through the functions their kind's clconv__plan_ops gives, so that this module calls no op code of its own. */
#include "internal.h"

static void key_words(clconv__plan_key *k, const uint32_t *v, uint32_t n) {
  for (uint32_t i = 0; i < n && k->n < CLCONV__PLAN_KEY_WORDS; i++)
    k->w[k->n++] = v[i];
}

void clconv__key_act(clconv__plan_key *k, const clconv_activation *a) {
  uint32_t w[3] = {(uint32_t)a->kind, 0, 0};
  memcpy(&w[1], &a->alpha, sizeof a->alpha); /* bits: -0 and 0 are two plans, NaN one */
  memcpy(&w[2], &a->beta, sizeof a->beta);
  key_words(k, w, 3);
}

void clconv__key_conv(clconv__plan_key *k, const clconv_conv_desc *d) {
  const uint32_t head[] = {d->ndim,   d->batch,          d->in_channels, d->out_channels,
                           d->groups, (uint32_t)d->mode, d->has_bias,    (uint32_t)d->algorithm,
                           (uint32_t)d->dtype};
  key_words(k, head, sizeof head / sizeof head[0]);
  key_words(k, d->in_size, 3);
  key_words(k, d->kernel_size, 3);
  key_words(k, d->stride, 3);
  key_words(k, d->dilation, 3);
  key_words(k, d->pad_before, 3);
  key_words(k, d->pad_after, 3);
  clconv__key_act(k, &d->activation);
  uint32_t res[2] = {d->has_residual, 0};
  memcpy(&res[1], &d->residual_scale, sizeof d->residual_scale);
  key_words(k, res, 2);
}

void clconv__key_pool(clconv__plan_key *k, const clconv_pool_desc *d) {
  const uint32_t head[] = {d->ndim,      d->batch, d->channels, (uint32_t)d->kind, d->count_include_pad,
                           d->ceil_mode, d->global, (uint32_t)d->dtype};
  key_words(k, head, sizeof head / sizeof head[0]);
  key_words(k, d->in_size, 3);
  key_words(k, d->window, 3);
  key_words(k, d->stride, 3);
  key_words(k, d->pad_before, 3);
  key_words(k, d->pad_after, 3);
}

static bool same_key(const clconv__plan_key *a, const clconv__plan_key *b) {
  return a->n == b->n && !memcmp(a->w, b->w, a->n * sizeof a->w[0]);
}

clconv_status clconv__plan_op(clconv_context *ctx, const clconv__plan_ops *ops, const clconv__plan_key *key,
                              const void *desc, void **op) {
  clconv__plan *slot = &ctx->plans[0];
  for (int i = 0; i < CLCONV__PLANS; i++) {
    clconv__plan *p = &ctx->plans[i];
    if (p->op && p->ops == ops && same_key(&p->key, key)) {
      p->used = ++ctx->plan_clock;
      *op = p->op;
      return CLCONV_OK;
    }
    if (!p->op || (slot->op && p->used < slot->used))
      slot = p; /* an empty slot, else the least recently used */
  }
  void *made;
  CLCONV__TRY(ops->create(ctx, desc, &made));
  if (slot->op)
    slot->ops->destroy(slot->op);
  *slot = (clconv__plan){.ops = ops, .op = made, .key = *key, .used = ++ctx->plan_clock};
  *op = made;
  return CLCONV_OK;
}

void clconv__plans_clear(clconv_context *ctx) {
  for (int i = 0; i < CLCONV__PLANS; i++) {
    if (ctx->plans[i].op)
      ctx->plans[i].ops->destroy(ctx->plans[i].op);
    ctx->plans[i].op = NULL;
  }
}
