/* Direct convolution and cross-correlation: the op (its descriptor checks: desc.c; its kernels: catalogue.c). */
#include "internal.h"
#ifdef CLCONV_FAULT_INJECTION
#include "fault.h"
#endif

/* ---- op objects ------------------------------------------------------------------------------------------- */
struct clconv_conv {
  clconv_context *ctx;
  clconv_conv_desc desc;
  clconv__conv_geom g;
  clconv__conv_geom kg; /* what the direct kernels run: g, or g flattened to one row (kernel_geom) */
  clconv_activation act;
  clconv_dtype dst_dt;   /* dst's type: the descriptor's, or float32 for a layer's intermediate */
  clconv_conv_algo algo; /* direct or gemm */
  clconv__gemm gemm;     /* gemm only */
  clconv__kernel kernel; /* direct algorithm only: the catalogue's kernel v */
  clconv__variant v;
  int rt;              /* output rows per work-item (clconv__variant_rows) */
  clconv__kernel pack; /* kinds that read packed weights: clconv_conv_pack, and its buffer */
  cl_mem wpack;
  size_t wpack_count;
  /* a copy of the input made at each run by clconv_conv_pad, which the kernel reads instead, extent psz per axis:
   * where the windows reach into the padding and the copy pays, zero-padded (cpad before each axis: wide along
   * every axis, tiled along W); for tiled and local on 16-bit inputs, widened to float32 (widen) */
  clconv__kernel pad;
  cl_mem padded;
  uint32_t psz[3], cpad[3];
  size_t padded_count;
  bool widen;
  /* clconv_conv_set_weights: the weights in the kernel's layout (packed, or a copy for direct) and the bias */
  cl_mem wset, bset;
  /* a layer's pooling fused into the wide kernel (clconv__conv_create_pooled): its window's rows, 0 = none */
  int fuse_rows;
  uint32_t dst_dims[5]; /* what conv_run writes: the conv's output, or the pooled one */
  char kernel_name[32]; /* clconv_conv_kernel */
};

/* A 1x1 convolution at stride 1 without padding maps each input channel's positions onto the output's one to one:
 * the direct kernels run it as one long row per channel, so their tiles along W never straddle a row's end (14 x
 * 14 = 196 positions: 49 tiles of 4, where 14-wide rows of tiles of 5 computed 15 positions per 14). */
static clconv__conv_geom kernel_geom(const clconv__conv_geom *g) {
  clconv__conv_geom k = *g;
  bool point = true;
  for (int a = 0; a < 3; a++)
    point = point && g->ker[a] == 1 && g->stride[a] == 1 && g->pad[a] == 0 && g->out[a] == g->in[a];
  if (point) {
    k.in[2] = k.out[2] = g->in[0] * g->in[1] * g->in[2]; /* < 2^31: the tensors were checked to fit */
    k.in[0] = k.in[1] = k.out[0] = k.out[1] = 1;
  }
  return k;
}

#ifdef CLCONV_FAULT_INJECTION
static clconv__variant forced = {.kt = -1};
void clconv_fault_force_kernel(int kt, int wt, int kind) {
  forced = kt == 0 ? CLCONV__DIRECT_VARIANT : (clconv__variant){.kt = kt, .wt = wt, .kind = (clconv__kind)kind};
}
#endif

/* Whether the pooling pg after the convolution g can run in the registers of the conv kernel (kernels/conv.cl,
 * FUSE_PW): where the built-in choice is the wide or the tiled kernel (a CPU), and the windows tile the conv's
 * output without overlap or padding (columns and rows past the last whole window are in none), 1 deep, and as
 * wide as divides the work-item's columns: 1, 2, 4, 8 or 16 for wide (16 columns), for tiled a divisor of one of
 * its positions per work-item. Sets the variant: the built-in one, wide at 16 columns, tiled at the positions
 * (a multiple of the window) that pad the pooled columns least. */
static bool pool_fusable(const clconv_context *ctx, const clconv__conv_geom *g, const clconv__pool_geom *pg,
                         clconv__variant *v) {
  clconv__variant h = clconv__choose_variant(&ctx->prof, g);
  if ((h.kind != CLCONV__WIDE && h.kind != CLCONV__TILED) || pg->win[0] != 1)
    return false;
  for (int a = 0; a < 3; a++)
    if (pg->stride[a] != pg->win[a] || pg->pad[a] || pg->pad_after[a] || pg->out[a] != pg->in[a] / pg->win[a])
      return false;
  const int wt = h.kind == CLCONV__WIDE ? (16 % pg->win[2] ? 0 : 16)
                                        : clconv__tile_positions(&ctx->prof, h.kt, pg->out[2] * pg->win[2], pg->win[2]);
  *v = (clconv__variant){.kt = h.kt, .wt = wt, .kind = h.kind};
  return wt > 0;
}

/* The positions along one axis whose window (units of `unit` outputs: the wide kernel's tiles along W) reads only
 * inside the input, of `total`. */
static int64_t interior(const clconv__conv_geom *g, int a, int64_t unit, int64_t total) {
  int64_t span = ((int64_t)g->ker[a] - 1) * g->dil[a] + (unit - 1) * g->stride[a], step = unit * g->stride[a];
  int64_t lo = (g->pad[a] + step - 1) / step, room = (int64_t)g->in[a] - 1 - span + g->pad[a];
  int64_t hi = room < 0 ? -1 : room / step;
  if (hi > total - 1)
    hi = total - 1;
  return hi >= lo ? hi - lo + 1 : 0;
}

/* Whether the wide kernel should read a zero-padded copy of the input (clconv_conv_pad) rather than test its edges:
 * where the work-items whose windows reach into the padding do enough work per input element to pay for the copy,
 * their share times the MACs per input element (cout_g x kernel volume) at least CLCONV__PAD_PAYS. */
#define CLCONV__PAD_PAYS 64.0 /* the copy's cost in MACs per input element, measured (docs/PERFORMANCE.md) */
static bool pad_pays(const clconv__conv_geom *g, int wt) {
  int64_t tiles = ((int64_t)g->out[2] + wt - 1) / wt, all = tiles * g->out[1] * g->out[0];
  int64_t inside = interior(g, 2, wt, tiles) * interior(g, 1, 1, g->out[1]) * interior(g, 0, 1, g->out[0]);
  double edge_share = (double)(all - inside) / (double)all;
  return edge_share * (g->k / g->groups) * g->ker[0] * g->ker[1] * g->ker[2] >= CLCONV__PAD_PAYS;
}

/* The same for the tiled kernel, whose copy pads W only (it skips the rows outside the input at no cost): a tile's
 * tap along W whose positions reach outside the row runs the kernel's edge path, about twice as long as a tap
 * inside; the copy pays where the share of such (tile, tap) pairs times the MACs per input element reaches
 * CLCONV__TILED_PAD_PAYS. 3 x 3 at stride 1 in 8- and 7-wide tiles: 56 wide (share 2/21, 55) and 28 wide (2/12,
 * 192) ran 5-8% slower with the copy (it also leaves less of the cache to the kernel), 14 wide (2/6, 768) 15%
 * faster, 7 wide (2/3, 3072) 1.8x. */
#define CLCONV__TILED_PAD_PAYS 400.0
static bool tiled_pad_pays(const clconv__conv_geom *g, int wt) {
  const int64_t tiles = ((int64_t)g->out[2] + wt - 1) / wt, step = (int64_t)wt * g->stride[2],
                width = ((int64_t)wt - 1) * g->stride[2];
  int64_t edge = 0;
  for (uint32_t kw = 0; kw < g->ker[2]; kw++) {
    const int64_t off = (int64_t)kw * g->dil[2] - g->pad[2]; /* tile t's first position reads t * step + off */
    int64_t left = off < 0 ? (-off + step - 1) / step : 0, first_right = (int64_t)g->in[2] - off - width;
    first_right = first_right <= 0 ? 0 : (first_right + step - 1) / step;
    int64_t right = first_right < tiles ? tiles - first_right : 0;
    edge += left + right < tiles ? left + right : tiles;
  }
  double share = (double)edge / (double)(tiles * g->ker[2]), in = 1, out = 1;
  for (int a = 0; a < 3; a++) {
    in *= g->in[a];
    out *= g->out[a];
  }
  return share * out / in * (g->k / g->groups) * g->ker[0] * g->ker[1] * g->ker[2] >= CLCONV__TILED_PAD_PAYS;
}

/* A kernel of kernels/pack.cl for inputs of type dt (its copies written as out) and the buffer of count elements of
 * `size` bytes it fills (the caller releases both, also on failure). */
static clconv_status pack_kernel_and_buffer(clconv_context *ctx, const char *name, clconv_dtype dt, clconv_dtype out,
                                            clconv__kernel *k, size_t count, size_t size, cl_mem *mem,
                                            const char *what) {
  char options[48];
  clconv__dtype_options(dt, out, options, sizeof options);
  CLCONV__TRY(clconv__kernel_create(ctx, CLCONV__FAMILY_PACK, options, name, k));
  cl_int err;
  *mem = CLCONV__CLOBJ(&err, clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, count * size, NULL, &err));
  return *mem ? CLCONV_OK : clconv__fail_cl(ctx, "conv_create", what, err);
}

/* The direct kernel for op: force (clconv_tune's candidate), else the tuned one, else the built-in choice (the
 * fault-injection build's forced kernel over both); a local kernel the device cannot hold falls back to direct. */
static clconv__variant pick_variant(clconv_conv *op, const clconv__variant *force) {
  clconv_context *ctx = op->ctx;
  clconv__variant v;
  if (force)
    v = *force;
  else if (!(clconv__tuned_variant(ctx, &op->g, &v) && clconv__variant_valid(&v, &op->kg)))
    v = clconv__choose_variant(&ctx->prof, &op->kg);
#ifdef CLCONV_FAULT_INJECTION
  if (!force && forced.kt >= 0 && clconv__variant_valid(&forced, &op->kg))
    v = forced;
#endif
  if (v.kind == CLCONV__LOCAL && !clconv__local_fits(&ctx->prof, &op->kg, v.wt))
    v = CLCONV__DIRECT_VARIANT;
  return v;
}

/* Sizes what op's kernel reads besides the tensors: the packed weights (G * blocks * C/G * taps * KT floats), or
 * direct where they would not fit the kernels' int range or one allocation; the copy of src (see the struct) where
 * the windows reach into the padding and the copy pays: for wide along every axis (its extent along D and H as the
 * windows read, along W as far as the work-items' vectors reach), for tiled along W as far as its tiles reach; none
 * when too large (the kernel then tests its edges); for 16-bit tiled and local inputs a float32 copy in any case. */
static void size_buffers(clconv_conv *op) {
  const clconv__conv_geom *g = &op->g, *kg = &op->kg;
  const cl_ulong max_alloc = op->ctx->prof.max_alloc_bytes;
  if (clconv__kinds[op->v.kind].packed) {
    size_t blocks = (g->k / g->groups + (uint32_t)op->v.kt - 1) / (uint32_t)op->v.kt;
    op->wpack_count = (size_t)g->groups * blocks * (g->c / g->groups) * g->ker[0] * g->ker[1] * g->ker[2] * op->v.kt;
    if (op->wpack_count > CLCONV__MAX_KERNEL_ELEMS || (cl_ulong)op->wpack_count * sizeof(float) > max_alloc ||
        (size_t)g->n * g->groups * blocks > CLCONV__MAX_KERNEL_ELEMS)
      op->v = CLCONV__DIRECT_VARIANT;
  }
  /* tiled and local read each input element once per output tile, one value at a time: converting it there from 16
   * bits cost 3.5x the float32 time (vgg 3x3); one widening pass before costs about a copy of the input. The tiled
   * kernel widens each row span itself for the shapes of clconv__tiled_reads_16bit */
  op->widen = g->dt != CLCONV_F32 &&
              (op->v.kind == CLCONV__LOCAL || (op->v.kind == CLCONV__TILED && !clconv__tiled_reads_16bit(&op->kg)));
  const size_t esize = op->widen ? sizeof(float) : clconv_dtype_size(g->dt);
  memcpy(op->psz, kg->in, sizeof op->psz);
  if (op->v.kind == CLCONV__WIDE || op->v.kind == CLCONV__TILED) {
    const bool wide = op->v.kind == CLCONV__WIDE;
    uint32_t psz[3], cpad[3] = {0, 0, 0};
    const uint64_t wt = (uint64_t)op->v.wt, tiles_w = ((uint64_t)kg->out[2] + wt - 1) / wt;
    uint64_t count = (uint64_t)g->n * g->c;
    bool reads_padding = false;
    for (int a = 0; a < 3; a++) {
      psz[a] = kg->in[a];
      if (wide || a == 2) { /* an axis the copy pads: as far as the windows, or along W the tiles, reach */
        const uint64_t span = ((uint64_t)kg->ker[a] - 1) * kg->dil[a],
                       ext = ((uint64_t)kg->out[a] - 1) * kg->stride[a] + span + 1,
                       reach = a < 2  ? ext
                               : wide ? tiles_w * wt + span
                                      : (tiles_w * wt - 1) * kg->stride[2] + span + 1;
        reads_padding = reads_padding || kg->pad[a] > 0 || ext > kg->in[a];
        psz[a] = (uint32_t)(reach < UINT32_MAX ? reach : UINT32_MAX);
        cpad[a] = kg->pad[a];
      }
      count = count > CLCONV__MAX_KERNEL_ELEMS ? count : count * psz[a]; /* < 2^31 * 2^32: no overflow */
    }
    if (reads_padding && (wide ? pad_pays(kg, op->v.wt) : tiled_pad_pays(kg, op->v.wt)) &&
        count <= CLCONV__MAX_KERNEL_ELEMS && count * esize <= max_alloc) {
      op->padded_count = (size_t)count;
      memcpy(op->psz, psz, sizeof psz);
      memcpy(op->cpad, cpad, sizeof cpad);
    }
  }
  if (op->widen && !op->padded_count) {
    op->widen = g->src_count * sizeof(float) <= max_alloc;
    op->padded_count = op->widen ? g->src_count : 0;
  }
}

/* clconv_conv_kernel's name: the kernel, "+pad" where it reads the padded copy, "+pool" where it pools. */
static void name_op(clconv_conv *op, bool gemm, bool pool) {
  if (gemm)
    snprintf(op->kernel_name, sizeof op->kernel_name, "gemm");
  else
    clconv__variant_name(&op->v, op->kernel_name, sizeof op->kernel_name);
  if (op->padded_count && memcmp(op->psz, op->kg.in, sizeof op->psz))
    strncat(op->kernel_name, "+pad", sizeof op->kernel_name - strlen(op->kernel_name) - 1);
  if (pool)
    strncat(op->kernel_name, "+pool", sizeof op->kernel_name - strlen(op->kernel_name) - 1);
}

/* The program's options: the one kernel it holds (kernels/conv.cl: KERNEL_*), then its specialisation. Kernels of
 * packed weights need no FLIP: clconv_conv_pack mirrors the weights, told by an argument. */
static void options_of(const clconv_conv *op, bool gemm, const clconv__pool_geom *pool, char *buf, size_t cap) {
  const clconv__kind_row *row = &clconv__kinds[op->v.kind];
  const int act = (int)op->act.kind, lanes = clconv__lanes(&op->ctx->prof);
  char types[48];
  clconv__dtype_options(op->g.dt, op->dst_dt, types, sizeof types);
  if (op->widen)
    strncat(types, " -DDT_SRC=0", sizeof types - strlen(types) - 1);
  if (gemm || !row->packed) {
    snprintf(buf, cap, "-DKERNEL_%s -DNDIM=%u -DFLIP=%d " CLCONV__ACT_OPTION_FMT "%s", gemm ? "GEMM" : row->macro,
             op->g.ndim, op->desc.mode == CLCONV_MODE_CONV, act, types);
    return;
  }
  char shape[96];
  clconv__shape_options(op->v.kind, &op->kg, shape, sizeof shape);
  if (pool) {
    size_t at = strlen(shape);
    snprintf(shape + at, sizeof shape - at, " -DFUSE_PH=%d -DFUSE_PW=%u -DFUSE_AVG=%d", op->fuse_rows, pool->win[2],
             pool->avg);
  }
  const int vw = op->v.kind == CLCONV__TILED && op->v.kt > lanes ? lanes : op->v.kt;
  snprintf(buf, cap, "-DKERNEL_%s -DNDIM=%u " CLCONV__ACT_OPTION_FMT " -DKT=%d -DWT=%d -DRT=%d -DVW=%d%s%s", row->macro,
           op->g.ndim, act, op->v.kt, op->v.wt, op->rt, vw, shape, types);
}

/* Builds op's program (or the gemm algorithm's) and allocates what its kernel reads besides the tensors. */
static clconv_status build_op(clconv_conv *op, bool gemm, const clconv__pool_geom *pool) {
  clconv_context *ctx = op->ctx;
  char options[224];
  options_of(op, gemm, pool, options, sizeof options);
  if (gemm)
    return clconv__gemm_create(ctx, &op->g, options, &op->gemm);
  CLCONV__TRY(
      clconv__kernel_create(ctx, CLCONV__FAMILY_CONV, options, clconv__kinds[op->v.kind].function, &op->kernel));
  if (clconv__kinds[op->v.kind].launch == CLCONV__GROUPS && op->kernel.local_size < CLCONV__LOCAL_LX * CLCONV__LOCAL_LY)
    return clconv__fail(ctx, CLCONV_ERR_UNSUPPORTED,
                        "conv_create: the local kernel needs work-groups of %d work-items; the device runs it with %zu",
                        CLCONV__LOCAL_LX * CLCONV__LOCAL_LY, op->kernel.local_size);
  if (clconv__kinds[op->v.kind].packed)
    CLCONV__TRY(pack_kernel_and_buffer(ctx, "clconv_conv_pack", op->g.dt, op->g.dt, &op->pack, op->wpack_count,
                                       sizeof(float), &op->wpack, "clCreateBuffer (packed weights)"));
  if (op->padded_count)
    CLCONV__TRY(pack_kernel_and_buffer(ctx, "clconv_conv_pad", op->g.dt, op->widen ? CLCONV_F32 : op->g.dt, &op->pad,
                                       op->padded_count, op->widen ? sizeof(float) : clconv_dtype_size(op->g.dt),
                                       &op->padded, "clCreateBuffer (input copy)"));
  return CLCONV_OK;
}

/* Validates, chooses, builds, allocates. force: the direct kernel to use (clconv_tune), or NULL. pool: the pooling
 * to fuse, or NULL; where it cannot be fused (pool_fusable, or weights too large to pack), *out = NULL and
 * CLCONV_OK. mid: dst is a layer's float32 intermediate. */
static clconv_status create_op(clconv_context *ctx, const clconv_conv_desc *desc, const clconv__variant *force,
                               const clconv__pool_geom *pool, bool mid, clconv_conv **out) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "conv_create: ctx is NULL");
  CLCONV__CHECK(ctx, out, CLCONV_ERR_INVALID_ARGUMENT, "conv_create: out is NULL");
  *out = NULL;
  clconv__conv_geom g;
  CLCONV__TRY(clconv__conv_check(ctx, "conv_create", desc, &g));
  clconv__tuning_ensure(ctx); /* auto's choice, the tuned kernel and CLBlast's parameters */
  clconv__variant fused = CLCONV__DIRECT_VARIANT;
  if (pool && (desc->algorithm == CLCONV_ALGO_GEMM || !pool_fusable(ctx, &g, pool, &fused)))
    return CLCONV_OK;
  size_t most = g.src_count > g.dst_count ? g.src_count : g.dst_count;
  CLCONV__TRY(clconv__index_check(ctx, "conv_create", most > g.wei_count ? most : g.wei_count, g.padded_max));
  clconv_conv *op = clconv__calloc(1, sizeof *op);
  if (!op)
    return clconv__fail(ctx, CLCONV_ERR_OUT_OF_MEMORY, "conv_create: out of host memory");
  op->ctx = ctx;
  op->desc = *desc;
  op->g = g;
  op->dst_dt = mid ? CLCONV_F32 : g.dt;
  op->kg = pool ? g : kernel_geom(&g); /* a fused pooling needs the rows as they are */
  uint32_t xs[5], ws[5];
  clconv_conv_shapes(desc, xs, ws, op->dst_dims);
  if (pool) {
    op->fuse_rows = (int)pool->win[1];
    for (uint32_t i = 0; i < g.ndim; i++)
      op->dst_dims[2 + i] = pool->out[3 - g.ndim + i];
  }
  clconv__act_check(ctx, "conv_create", &desc->activation, &op->act);
  op->algo = force || pool ? CLCONV_ALGO_DIRECT : desc->algorithm;
  if (op->algo == CLCONV_ALGO_AUTO) /* measured by clconv_tune on this device, else direct */
    op->algo = clconv__tuned_algo(ctx, &g) == CLCONV_ALGO_GEMM ? CLCONV_ALGO_GEMM : CLCONV_ALGO_DIRECT;
  const bool gemm = op->algo == CLCONV_ALGO_GEMM;
  op->v = pool ? fused : gemm ? CLCONV__DIRECT_VARIANT : pick_variant(op, force);
  size_buffers(op);
  if (pool && op->v.kind == CLCONV__DIRECT) { /* too large to pack, so it cannot pool: the layer runs the two ops */
    clconv__free(op);
    return CLCONV_OK;
  }
  op->rt = pool ? 1 : clconv__variant_rows(&ctx->prof, &op->v, &op->kg);
  name_op(op, gemm, pool != NULL);
  clconv_status s = build_op(op, gemm, pool);
  if (s != CLCONV_OK) {
    clconv_conv_destroy(op);
    return s;
  }
  *out = op;
  return CLCONV_OK;
}

clconv_status clconv_conv_create(clconv_context *ctx, const clconv_conv_desc *desc, clconv_conv **out) {
  return create_op(ctx, desc, NULL, NULL, false, out);
}

clconv_status clconv__conv_create_variant(clconv_context *ctx, const clconv_conv_desc *desc, const clconv__variant *v,
                                          clconv_conv **out) {
  return create_op(ctx, desc, v, NULL, false, out);
}

clconv_status clconv__conv_create_pooled(clconv_context *ctx, const clconv_conv_desc *desc,
                                         const clconv__pool_geom *pool, clconv_conv **out) {
  return create_op(ctx, desc, NULL, pool, false, out);
}

clconv_status clconv__conv_create_mid(clconv_context *ctx, const clconv_conv_desc *desc, clconv_conv **out) {
  return create_op(ctx, desc, NULL, NULL, true, out);
}

const char *clconv_conv_kernel(const clconv_conv *op) { return op ? op->kernel_name : ""; }

void clconv__conv_variant(const clconv_conv *op, clconv__variant *v) { *v = op->v; }

void clconv_conv_destroy(clconv_conv *op) {
  if (!op)
    return;
  clconv__kernel_release(&op->kernel);
  clconv__kernel_release(&op->pack);
  clconv__kernel_release(&op->pad);
  clconv__gemm_release(&op->gemm);
  if (op->padded)
    clReleaseMemObject(op->padded);
  if (op->wpack)
    clReleaseMemObject(op->wpack);
  if (op->wset)
    clReleaseMemObject(op->wset);
  if (op->bset)
    clReleaseMemObject(op->bset);
  clconv__free(op);
}

/* Checks weights and bias against op; bias must be NULL unless has_bias. */
static clconv_status check_weights(clconv_conv *op, const char *call, clconv_tensor *weights, clconv_tensor *bias) {
  uint32_t ss[5], ws[5], ds[5];
  clconv_conv_shapes(&op->desc, ss, ws, ds);
  CLCONV__TRY(clconv__tensor_expect(op->ctx, call, "weights", weights, op->g.dt, op->g.ndim + 2, ws));
  if (op->desc.has_bias)
    return clconv__tensor_expect(op->ctx, call, "bias", bias, op->g.dt, 1, &op->g.k);
  CLCONV__CHECK(op->ctx, bias == NULL, CLCONV_ERR_INVALID_ARGUMENT, "%s: bias given but has_bias = false", call);
  return CLCONV_OK;
}

/* Writes weights into out in the layout op's kernel reads: packed and mirrored for tiled and wide, as they are for
 * direct (which mirrors by itself). */
static clconv_status prepare_weights(clconv_conv *op, const char *call, cl_mem weights, cl_mem out) {
  const clconv__conv_geom *g = &op->g;
  if (!clconv__kinds[op->v.kind].packed) {
    cl_int err = CLCONV__CL(clEnqueueCopyBuffer(op->ctx->queue, weights, out, 0, 0,
                                                g->wei_count * clconv_dtype_size(g->dt), 0, NULL, NULL));
    return err == CL_SUCCESS ? CLCONV_OK : clconv__fail_cl(op->ctx, call, "clEnqueueCopyBuffer", err);
  }
  cl_int cin_g = (cl_int)(g->c / g->groups), cout_g = (cl_int)(g->k / g->groups),
         kvol = (cl_int)(g->ker[0] * g->ker[1] * g->ker[2]), total = (cl_int)(op->wpack_count / (size_t)op->v.kt),
         flip = op->desc.mode == CLCONV_MODE_CONV;
  cl_int kt = op->v.kt;
  const clconv__arg args[] = {{sizeof(cl_mem), &weights}, {sizeof(cl_mem), &out},   {sizeof kt, &kt},
                              {sizeof cin_g, &cin_g},     {sizeof cout_g, &cout_g}, {sizeof kvol, &kvol},
                              {sizeof flip, &flip},       {sizeof total, &total}};
  /* one work-item per (block, tap, channel): KT values each */
  return clconv__kernel_launch(op->ctx, call, &op->pack, args, sizeof args / sizeof args[0], 1,
                               &(size_t){(size_t)total}, NULL);
}

clconv_status clconv_conv_set_weights(clconv_conv *op, clconv_tensor *weights, clconv_tensor *bias) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "conv_set_weights: op is NULL");
  clconv_context *ctx = op->ctx;
  CLCONV__TRY(check_weights(op, "conv_set_weights", weights, bias));
  /* packed weights are float; the direct kernel's copy, and the bias, keep the descriptor's type */
  const size_t esize = clconv_dtype_size(op->g.dt),
               wbytes = clconv__kinds[op->v.kind].packed ? op->wpack_count * sizeof(float) : op->g.wei_count * esize;
  cl_int err = CL_SUCCESS;
  if (!op->wset)
    op->wset = CLCONV__CLOBJ(&err, clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, wbytes, NULL, &err));
  if (op->wset && bias && !op->bset)
    op->bset = CLCONV__CLOBJ(&err, clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, op->g.k * esize, NULL, &err));
  if (err != CL_SUCCESS)
    return clconv__fail_cl(ctx, "conv_set_weights", "clCreateBuffer", err);
  CLCONV__TRY(prepare_weights(op, "conv_set_weights", weights->mem, op->wset));
  if (bias) {
    err = CLCONV__CL(clEnqueueCopyBuffer(ctx->queue, bias->mem, op->bset, 0, 0, op->g.k * esize, 0, NULL, NULL));
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, "conv_set_weights", "clEnqueueCopyBuffer", err);
  }
  return CLCONV_OK;
}

/* The kernel's copy of src (clconv_conv_pad): padded by cpad (the padding is then inside it), widened or both. */
static clconv_status pad_input(clconv_conv *op, cl_mem src) {
  const clconv__conv_geom *g = &op->kg;
  cl_int4 isz = clconv__int4(g->in), psz = clconv__int4(op->psz), pad = clconv__int4(op->cpad);
  const clconv__arg args[] = {{sizeof(cl_mem), &src},
                              {sizeof(cl_mem), &op->padded},
                              {sizeof isz, &isz},
                              {sizeof psz, &psz},
                              {sizeof pad, &pad}};
  size_t range[3] = {0, 0, (size_t)g->n * g->c}, local[3];
  clconv__row_range(&op->ctx->prof, (op->psz[2] + 15) / 16, (size_t)op->psz[0] * op->psz[1], range, local);
  return clconv__kernel_launch(op->ctx, "conv_run", &op->pad, args, sizeof args / sizeof args[0], 3, range, local);
}

/* One launch of op's kernel: the arguments every conv kernel takes (kernels/conv.cl), the local kernel's tile and
 * its width, src's element count for the kinds whose whole-vector loads it bounds; the catalogue's geometry. */
static clconv_status launch(clconv_conv *op, cl_mem src, cl_mem wmem, cl_mem bmem, const clconv__residual *res,
                            cl_mem dst) {
  const clconv__conv_geom *g = &op->kg;
  const clconv__kind_row *row = &clconv__kinds[op->v.kind];
  cl_int cin_g = (cl_int)(g->c / g->groups), cout_g = (cl_int)(g->k / g->groups), groups = (cl_int)g->groups,
         total = (cl_int)g->dst_count;
  cl_int4 isz = clconv__int4(g->in), osz = clconv__int4(g->out), ksz = clconv__int4(g->ker),
          str = clconv__int4(g->stride), dil = clconv__int4(g->dil), pad = clconv__int4(g->pad);
  cl_mem input = src;
  if (op->padded) {
    CLCONV__TRY(pad_input(op, src));
    input = op->padded;
    isz = clconv__int4(op->psz);
    for (int a = 0; a < 3; a++) /* the padding the copy holds */
      pad.s[a] -= (cl_int)op->cpad[a];
  }
  cl_int cols = 0, src_total = (cl_int)(op->padded ? op->padded_count : g->src_count);
  clconv__arg args[21] = {
      {sizeof(cl_mem), &input},
      {sizeof(cl_mem), &wmem},
      {sizeof(cl_mem), bmem ? &bmem : NULL},
      {sizeof(cl_mem), &dst},
      {sizeof(cl_mem), res->mem ? &res->mem : NULL},
      {sizeof cin_g, &cin_g},
      {sizeof cout_g, &cout_g},
      {sizeof groups, &groups},
      {sizeof isz, &isz},
      {sizeof osz, &osz},
      {sizeof ksz, &ksz},
      {sizeof str, &str},
      {sizeof dil, &dil},
      {sizeof pad, &pad},
      {sizeof(float), &op->act.alpha},
      {sizeof(float), &op->act.beta},
      {sizeof(float), &res->scale},
      {sizeof total, &total},
  };
  size_t n = 18;
  if (row->launch == CLCONV__GROUPS) {
    cols = (cl_int)clconv__local_tile_cols(g, op->v.wt);
    args[n++] = (clconv__arg){CLCONV__LOCAL_CC * (size_t)cols * sizeof(float), NULL};
    args[n++] = (clconv__arg){sizeof cols, &cols};
  }
  if (row->bounded)
    args[n++] = (clconv__arg){sizeof src_total, &src_total};
  cl_uint dims;
  size_t range[3], local[3], fold;
  clconv__variant_geometry(&op->ctx->prof, &op->v, op->rt, op->fuse_rows, g, &dims, range, local, &fold);
  const cl_int fold_arg = (cl_int)fold;
  if (row->launch == CLCONV__TILES || row->launch == CLCONV__ROWS)
    args[n++] = (clconv__arg){sizeof fold_arg, &fold_arg};
  return clconv__kernel_launch(op->ctx, "conv_run", &op->kernel, args, n, dims, range, local[0] ? local : NULL);
}

/* Checks residual against op: NULL unless has_residual, else the convolution's output shape (ds), and dst only where
 * dst has that shape too (a fused pooling writes pooled outputs over residual values other work-items still read). */
static clconv_status check_residual(clconv_conv *op, const uint32_t *ds, clconv_tensor *residual, clconv_tensor *dst) {
  clconv_context *ctx = op->ctx;
  if (!op->desc.has_residual) {
    CLCONV__CHECK(ctx, residual == NULL, CLCONV_ERR_INVALID_ARGUMENT,
                  "conv_run: residual given but has_residual = false");
    return CLCONV_OK;
  }
  CLCONV__TRY(clconv__tensor_expect(ctx, "conv_run", "residual", residual, op->g.dt, op->g.ndim + 2, ds));
  CLCONV__CHECK(ctx, residual->mem != dst->mem || !op->fuse_rows, CLCONV_ERR_INVALID_ARGUMENT,
                "conv_run: residual is dst, but dst is pooled: the sum cannot run in place");
  return CLCONV_OK;
}

clconv_status clconv_conv_run(clconv_conv *op, clconv_tensor *src, clconv_tensor *weights, clconv_tensor *bias,
                              clconv_tensor *residual, clconv_tensor *dst) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "conv_run: op is NULL");
  clconv_context *ctx = op->ctx;
  const clconv__conv_geom *g = &op->g;
  uint32_t ss[5], ws[5], ds[5], n = g->ndim + 2;
  clconv_conv_shapes(&op->desc, ss, ws, ds);
  CLCONV__TRY(clconv__tensor_expect(ctx, "conv_run", "src", src, g->dt, n, ss));
  CLCONV__TRY(clconv__tensor_expect(ctx, "conv_run", "dst", dst, op->dst_dt, n, op->dst_dims));
  CLCONV__TRY(check_residual(op, ds, residual, dst));
  bool preset = weights == NULL;
  if (preset) {
    CLCONV__CHECK(ctx, op->wset, CLCONV_ERR_INVALID_ARGUMENT,
                  "conv_run: weights is NULL and none were set with conv_set_weights");
    CLCONV__CHECK(ctx, bias == NULL, CLCONV_ERR_INVALID_ARGUMENT,
                  "conv_run: bias given without weights (the set weights bring their bias)");
  } else {
    CLCONV__TRY(check_weights(op, "conv_run", weights, bias));
  }
  CLCONV__CHECK(ctx, dst->mem != src->mem && (preset || dst->mem != weights->mem) && (!bias || dst->mem != bias->mem),
                CLCONV_ERR_INVALID_ARGUMENT, "conv_run: dst aliases an input; convolution cannot run in place");
  const bool packed = clconv__kinds[op->v.kind].packed;
  cl_mem wmem = preset   ? op->wset
                : packed ? op->wpack
                         : weights->mem,
         bmem = preset ? op->bset
                : bias ? bias->mem
                       : NULL;
  const clconv__residual res = {residual ? residual->mem : NULL, (float)clconv__residual_scale(&op->desc)};
  if (op->algo == CLCONV_ALGO_GEMM)
    return clconv__gemm_run(ctx, &op->gemm, g, &op->act, src->mem, wmem, bmem, &res, dst->mem);
  if (!preset && packed)
    CLCONV__TRY(prepare_weights(op, "conv_run", weights->mem, op->wpack));
  return launch(op, src->mem, wmem, bmem, &res, dst->mem);
}

clconv_status clconv__conv_time_gemm(clconv_conv *op, clconv_tensor *src, uint32_t reps, double *ms) {
  return clconv__gemm_time(op->ctx, &op->gemm, &op->g, src->mem, reps, ms);
}

clconv_conv_algo clconv_conv_algorithm(const clconv_conv *op) { return op ? op->algo : CLCONV_ALGO_AUTO; }

clconv_status clconv_conv_workspace_size(const clconv_conv *op, size_t *min_bytes, size_t *full_bytes) {
  CLCONV__CHECK(NULL, op && min_bytes && full_bytes, CLCONV_ERR_INVALID_ARGUMENT,
                "conv_workspace_size: op, min_bytes or full_bytes is NULL");
  *min_bytes = *full_bytes = 0;
  if (op->algo == CLCONV_ALGO_GEMM)
    clconv__gemm_workspace(op->ctx, &op->gemm, &op->g, min_bytes, full_bytes);
  return CLCONV_OK;
}

clconv_status clconv_conv_set_workspace(clconv_conv *op, cl_mem mem, size_t bytes) {
  CLCONV__CHECK(NULL, op, CLCONV_ERR_INVALID_ARGUMENT, "conv_set_workspace: op is NULL");
  clconv_context *ctx = op->ctx;
  CLCONV__CHECK(ctx, op->algo == CLCONV_ALGO_GEMM, CLCONV_ERR_INVALID_ARGUMENT,
                "conv_set_workspace: the op runs the %s algorithm, which needs no workspace",
                clconv_algo_name(op->algo));
  if (mem) {
    size_t min_bytes, full_bytes, size = 0;
    cl_context owner = NULL;
    clconv__gemm_workspace(op->ctx, &op->gemm, &op->g, &min_bytes, &full_bytes);
    CLCONV__CHECK(ctx, bytes >= min_bytes, CLCONV_ERR_INVALID_ARGUMENT,
                  "conv_set_workspace: bytes = %zu, must be at least %zu (one image)", bytes, min_bytes);
    cl_int err = CLCONV__CL(clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof owner, &owner, NULL));
    if (err == CL_SUCCESS)
      err = CLCONV__CL(clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL));
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, "conv_set_workspace", "clGetMemObjectInfo", err);
    CLCONV__CHECK(ctx, owner == ctx->cl, CLCONV_ERR_WRONG_CONTEXT,
                  "conv_set_workspace: mem belongs to another OpenCL context");
    CLCONV__CHECK(ctx, size >= bytes, CLCONV_ERR_INVALID_ARGUMENT,
                  "conv_set_workspace: bytes = %zu exceeds the buffer's %zu", bytes, size);
    err = CLCONV__CL(clRetainMemObject(mem));
    if (err != CL_SUCCESS)
      return clconv__fail_cl(ctx, "conv_set_workspace", "clRetainMemObject", err);
  }
  if (op->gemm.user_ws)
    clReleaseMemObject(op->gemm.user_ws);
  op->gemm.user_ws = mem;
  op->gemm.user_ws_bytes = mem ? bytes : 0;
  return CLCONV_OK;
}

CLCONV__PLAN_OPS(plan_ops, clconv_conv, clconv_conv_create, clconv_conv_destroy);

/* The op is kept (plan.c); only the weights are packed again, since they may differ between calls. */
clconv_status clconv_conv_forward(clconv_context *ctx, const clconv_conv_desc *desc, clconv_tensor *src,
                                  clconv_tensor *weights, clconv_tensor *bias, clconv_tensor *residual,
                                  clconv_tensor *dst) {
  CLCONV__CHECK(NULL, ctx, CLCONV_ERR_INVALID_ARGUMENT, "conv_forward: ctx is NULL");
  CLCONV__CHECK(ctx, desc, CLCONV_ERR_INVALID_ARGUMENT, "conv_forward: desc is NULL");
  clconv__plan_key key = {0};
  clconv__key_conv(&key, desc);
  void *op;
  CLCONV__TRY(clconv__plan_op(ctx, &plan_ops, &key, desc, &op));
  return clconv_conv_run(op, src, weights, bias, residual, dst);
}
