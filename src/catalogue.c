/* The direct algorithm's kernel catalogue: which kernel a device profile and a shape get (the built-in rules), which
 * kernels exist (a tuned or forced one is checked against them), their names, rows per work-item and compile-time
 * shape options. Pure functions: no device, no context. */
#include "internal.h"

/* Five kernels, all in kernels/conv.cl (CLCONV__KIND_MAP): tiled (channels x positions in vector registers), wide
 * (positions along W as float16 vectors x a few channels, optionally over a zero-padded copy of the input), dw
 * (depthwise), local (a GPU's work-group sharing input rows in local memory) and direct (one output per work-item).
 * The thresholds below are each a named constant with its reason; the measurements behind them are in
 * docs/PERFORMANCE.md ("The rules"). */
#define CLCONV__TILED_MIN_COUT_G 4 /* the narrowest channel tile: one 4-lane vector */
#define CLCONV__WIDE_MAX_CIN_G 3   /* below this the tiled kernel's per-output stores outweigh its few FMAs */
#define CLCONV__WIDE_MAX_KW 5      /* wider kernels lose in the wide kernel (its taps do not unroll) */
/* 1 x 1: up to this many input channels per group, the tiled kernel's per-output stores outweigh its cin_g FMAs
 * per output; the wide kernel stores whole vectors along W (1.3-2x at 16-32 channels over 28²-112²; at 64 it
 * won on 56² and lost on 14²) */
#define CLCONV__WIDE_MAX_CIN_G_1X1 32
#define CLCONV__WIDE_MIN_COUT_G 8 /* fewer output channels than a vector: a channel tile would run half empty */
#define CLCONV__WIDE_MAX_ROWS 4   /* rows per work-item sharing each input row; more gained nothing */
#define CLCONV__DW_CPU_ROWS 4     /* the dw kernel's rows per work-item on CPUs (registers for 4 x 16 lanes) */
/* The tiled kernel's widest channel tile on a device preferring vec (4, 8 or 16) lanes: four vectors, at most 32
 * channels. */
#define CLCONV__TILED_MAX_KT(vec) ((vec) >= 8 ? 32 : 4 * (vec))
#define CLCONV__TILED_STORE_WT 8 /* positions the tiled kernel stores as one vector per channel */

/* Output channels per work-item for the tiled kernel: the largest tile a group fills at least once, up to
 * CLCONV__TILED_MAX_KT (most FMA chains per loaded input); 0 = not tiled. */
static int tile_width(uint32_t cout_g, int vec) {
  for (int kt = CLCONV__TILED_MAX_KT(vec); kt >= CLCONV__TILED_MIN_COUT_G; kt /= 2)
    if (cout_g >= (uint32_t)kt)
      return kt;
  return 0;
}

/* The tiled kernel keeps kt / vw x wt vector accumulators (vw = min(kt, vec)): as many independent FMA chains as
 * the profile's accumulator registers hold without spilling. The positions per work-item are the three largest of
 * 3, 4, 5, 6, 7, 8, 10 within that budget (fewer where fewer fit). */
static int tile_choices(int kt, const clconv_device_profile *p, int out[3]) {
  static const int all[7] = {3, 4, 5, 6, 7, 8, 10};
  const int vec = clconv__lanes(p), kv = kt > vec ? kt / vec : 1, budget = (int)p->accumulator_registers;
  int fit[3], n = 0;
  for (int i = 6; i >= 0 && n < 3; i--)
    if (kv * all[i] <= budget)
      fit[n++] = all[i];
  for (int i = 0; i < n; i++)
    out[i] = fit[n - 1 - i];
  return n;
}

/* Output positions along W per work-item: a row narrower than every choice its own width (a classifier's 1 x 1
 * output computed 7 positions to keep one: VGG's fc6, 7 x 7 over 512 channels into 4096, 0.62 -> 0.97x oneDNN,
 * 23 -> 13.5 ms); else among the choices whichever pads the row least, so that no work-item
 * computes positions past the row; on a tie 8 where it is among them (its stores are one 8-lane vector per channel:
 * against 7, the 3x3 at 56², the 7x7/2 stem and the 1 x 1 over 56² and 28² ran 1.08-1.17x, in-run ratios to oneDNN
 * over three alternating runs), else the smaller (10 against 8 on 1-D rows: 0.9x). Only multiples of `multiple` (a
 * fused pooling's width; 0 where no choice is one). */
int clconv__tile_positions(const clconv_device_profile *p, int kt, uint32_t ow, uint32_t multiple) {
  int choices[3], best = 0, n = tile_choices(kt, p, choices);
  if (n > 0 && ow < (uint32_t)choices[0]) /* a row narrower than every choice: its width, no position wasted */
    return (int)ow;
  uint64_t least = UINT64_MAX;
  for (int i = 0; i < n; i++) {
    if (choices[i] % (int)multiple)
      continue;
    uint64_t padded = ((uint64_t)ow + (uint64_t)choices[i] - 1) / (uint64_t)choices[i] * (uint64_t)choices[i];
    if (padded < least || (padded == least && choices[i] == CLCONV__TILED_STORE_WT)) {
      least = padded;
      best = choices[i];
    }
  }
  return best;
}

/* The wide kernel's channels per work-item: for a group of cout_g < 8, rounded up to 1, 2, 4, 6 or 8, so that no
 * more than one lane in four computes a channel that does not exist and few programs are built; for more, 8 where
 * a float16 is one register (vec 16), else 4 (8 float16 accumulators fit 16 registers). */
static int wide_channels(uint32_t cout_g, int vec) {
  return cout_g <= 2 ? (int)cout_g : cout_g <= 4 ? 4 : cout_g <= 6 ? 6 : cout_g < 8 || vec >= 16 ? 8 : 4;
}

/* Output rows per work-item of the wide kernel: as many as keep kt * wt / 16 * rows float16 accumulators within the
 * vector registers (8 float16 at 16 lanes, 4 at 8), up to CLCONV__WIDE_MAX_ROWS; rows share each input row they
 * read, which needs stride and dilation 1 along H. */
static int wide_rows(const clconv__conv_geom *g, int kt, int wt, int vec) {
  if (g->ndim < 2 || g->out[1] == 1 || g->stride[1] != 1 || g->dil[1] != 1)
    return 1;
  int rows = (vec >= 16 ? 8 : 4) / (kt * (wt / 16));
  return rows < 1 ? 1 : rows > CLCONV__WIDE_MAX_ROWS ? CLCONV__WIDE_MAX_ROWS : rows;
}

size_t clconv__local_tile_cols(const clconv__conv_geom *g, int wt) {
  return (size_t)(CLCONV__LOCAL_LX * wt - 1) * g->stride[2] + (size_t)(g->ker[2] - 1) * g->dil[2] + 1;
}

/* The built-in kernel choice for the direct algorithm (see the list above): on a GPU the local-memory kernel (few
 * accumulators per work-item, input shared through local memory) or, for fewer than 4 channels per group, one
 * output per work-item; on other devices the vector-register kernels. */
static clconv__variant heuristic_variant(const clconv_device_profile *p, const clconv__conv_geom *g) {
  uint32_t cout_g = g->k / g->groups;
  const int vec = clconv__lanes(p);
  if (clconv__is_gpu(p))
    return cout_g < CLCONV__TILED_MIN_COUT_G
               ? CLCONV__DIRECT_VARIANT
               : (clconv__variant){.kt = cout_g >= 8 ? 8 : 4, .wt = 4, .kind = CLCONV__LOCAL};
  if (g->k == g->groups && g->c == g->groups) /* depthwise */
    return (clconv__variant){.kt = 1, .wt = 16, .kind = CLCONV__DW};
  /* few output channels, or few input channels with a narrow kernel (or a 1 x 1): the wide kernel; 32 positions (two
   * float16) only where a float16 is one register */
  const uint32_t cin_g = g->c / g->groups;
  const bool pointwise = g->ker[0] == 1 && g->ker[1] == 1 && g->ker[2] == 1;
  bool few_in = (cin_g <= CLCONV__WIDE_MAX_CIN_G && g->ker[2] <= CLCONV__WIDE_MAX_KW) ||
                (pointwise && cin_g <= CLCONV__WIDE_MAX_CIN_G_1X1);
  if ((cout_g < CLCONV__WIDE_MIN_COUT_G || few_in) && g->stride[2] == 1)
    return (clconv__variant){
        .kt = wide_channels(cout_g, vec), .wt = g->out[2] > 16 && vec >= 16 ? 32 : 16, .kind = CLCONV__WIDE};
  int kt = tile_width(cout_g, vec);
  if (!kt) /* fewer than 4 output channels per group, and a W stride: no tile fits */
    return CLCONV__DIRECT_VARIANT;
  return (clconv__variant){.kt = kt, .wt = clconv__tile_positions(p, kt, g->out[2], 1), .kind = CLCONV__TILED};
}

/* Whether p can run the local kernel on g: its work-group (LX x LY, within the per-dimension item limits) and its
 * input tile in local memory. */
bool clconv__local_fits(const clconv_device_profile *p, const clconv__conv_geom *g, int wt) {
  return p->max_work_group_size >= CLCONV__LOCAL_LX * CLCONV__LOCAL_LY &&
         p->max_work_item_sizes[0] >= CLCONV__LOCAL_LX && p->max_work_item_sizes[1] >= CLCONV__LOCAL_LY &&
         CLCONV__LOCAL_CC * clconv__local_tile_cols(g, wt) * sizeof(float) <= p->local_mem_bytes;
}

clconv__variant clconv__choose_variant(const clconv_device_profile *p, const clconv__conv_geom *g) {
  clconv__variant v = heuristic_variant(p, g);
  if (v.kind == CLCONV__LOCAL && !clconv__local_fits(p, g, v.wt))
    v = CLCONV__DIRECT_VARIANT; /* the device cannot hold the work-group or its tile: one output per work-item */
  return v;
}

/* ---- the table ------------------------------------------------------------------------------------------------ */
static bool tiled_valid(const clconv__variant *v, const clconv__conv_geom *g) {
  (void)g;
  return (v->kt == 4 || v->kt == 8 || v->kt == 16 || v->kt == 32) && ((v->wt >= 1 && v->wt <= 8) || v->wt == 10);
}
static bool wide_valid(const clconv__variant *v, const clconv__conv_geom *g) {
  return v->kt >= 1 && v->kt <= 8 && (v->wt == 16 || v->wt == 32) && g->stride[2] == 1;
}
static bool local_valid(const clconv__variant *v, const clconv__conv_geom *g) {
  (void)g;
  return (v->kt == 4 || v->kt == 8) && v->wt == 4;
}
static bool dw_valid(const clconv__variant *v, const clconv__conv_geom *g) {
  return v->kt == 1 && v->wt == 16 && g->k == g->groups && g->c == g->groups;
}
static bool direct_valid(const clconv__variant *v, const clconv__conv_geom *g) {
  (void)g;
  return v->kt == 0 && v->wt == 0;
}

/* The tuner's candidates of each kind for g on p (at most CLCONV__CANDIDATES each; variant_valid filters them). */
/* The widest channel tile a group of g fills on p (4 at least): the tuner tries it and half of it. */
static int tile_top(const clconv_device_profile *p, const clconv__conv_geom *g) {
  uint32_t cout_g = g->k / g->groups;
  int top = cout_g <= 4 ? 4 : cout_g <= 8 ? 8 : cout_g <= 16 ? 16 : 32;
  return top > CLCONV__TILED_MAX_KT(clconv__lanes(p)) ? CLCONV__TILED_MAX_KT(clconv__lanes(p)) : top;
}

static size_t tiled_candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out) {
  const int top = tile_top(p, g);
  size_t n = 0;
  for (int kt = top / 2 < 4 ? 4 : top / 2; kt <= top; kt *= 2) {
    int wt[3], m = tile_choices(kt, p, wt);
    for (int w = 0; w < m; w++)
      out[n++] = (clconv__variant){.kt = kt, .wt = wt[w], .kind = CLCONV__TILED};
  }
  return n;
}
static size_t wide_candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out) {
  uint32_t cout_g = g->k / g->groups;
  size_t n = 0;
  if (cout_g > 8 && g->c / g->groups > 8) /* the wide kernel's domain: few output or few input channels */
    return 0;
  for (int wt = 16; wt <= 32; wt += 16) {
    out[n++] = (clconv__variant){.kt = wide_channels(cout_g, clconv__lanes(p)), .wt = wt, .kind = CLCONV__WIDE};
    if (out[n - 1].kt != 8)
      out[n++] = (clconv__variant){.kt = 8, .wt = wt, .kind = CLCONV__WIDE};
  }
  return n;
}
static size_t local_candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out) {
  size_t n = 0;
  for (int kt = 4; kt <= 8 && kt <= tile_top(p, g); kt *= 2)
    if (clconv__local_fits(p, g, 4))
      out[n++] = (clconv__variant){.kt = kt, .wt = 4, .kind = CLCONV__LOCAL};
  return n;
}
static size_t dw_candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out) {
  (void)p;
  (void)g;
  out[0] = (clconv__variant){.kt = 1, .wt = 16, .kind = CLCONV__DW};
  return 1;
}
static size_t direct_candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out) {
  (void)p;
  (void)g;
  (void)out;
  return 0; /* the fallback, never a candidate: where another kernel applies it is the slowest */
}

const clconv__kind_row clconv__kinds[CLCONV__KINDS] = {
#define CLCONV_X(NAME, name, launch, packed, bounded)                                                                  \
  [CLCONV__##NAME] = {#name, #NAME, "clconv_conv_" #name, launch, packed, bounded, name##_valid, name##_candidates},
    CLCONV__KIND_MAP(CLCONV_X)
#undef CLCONV_X
};

bool clconv__variant_valid(const clconv__variant *v, const clconv__conv_geom *g) {
  return (unsigned)v->kind < CLCONV__KINDS && clconv__kinds[v->kind].valid(v, g);
}

void clconv__variant_name(const clconv__variant *v, char *buf, size_t cap) {
  if ((unsigned)v->kind >= CLCONV__KINDS || v->kind == CLCONV__DIRECT)
    snprintf(buf, cap, "direct");
  else
    snprintf(buf, cap, "%s %dx%d", clconv__kinds[v->kind].name, v->kt, v->wt);
}

size_t clconv__candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out,
                          size_t cap) {
  size_t n = 0;
  for (int k = 0; k < CLCONV__KINDS && n + CLCONV__CANDIDATES <= cap; k++) {
    clconv__variant c[CLCONV__CANDIDATES];
    size_t m = clconv__kinds[k].candidates(p, g, c);
    for (size_t i = 0; i < m; i++)
      if (clconv__variant_valid(&c[i], g))
        out[n++] = c[i];
  }
  return n;
}

/* CPUs: a row tile's channel blocks in one work-group (the kernels' `fold`: each tile repeated for them along
 * dimension 0), so that its input, read from memory by the first block, is still in the core's cache for the others
 * (one by one, each block streamed the whole input again: 1.35x on two 128-channel 1-D layers in a row). As many as
 * keep the group's packed weights within CLCONV__CPU_GROUP_WEIGHTS (else the blocks evict each other's weights,
 * which every tile reads again) and leave CLCONV__CPU_GROUPS_PER_UNIT work-groups per compute unit; powers of two
 * that divide the blocks (dimension 2 holds the rest), at most CLCONV__CPU_MAX_GROUP_BLOCKS. */
#define CLCONV__CPU_GROUP_WEIGHTS (256u << 10)
#define CLCONV__CPU_GROUPS_PER_UNIT 8
#define CLCONV__CPU_MAX_GROUP_BLOCKS 4
static size_t blocks_per_group(const clconv_device_profile *p, const clconv__variant *v, const clconv__conv_geom *g,
                               size_t blocks, const size_t range[3], const size_t local[3]) {
  if (clconv__is_gpu(p) || blocks < 2)
    return 1;
  const size_t weights = (size_t)v->kt * (g->c / g->groups) * g->ker[0] * g->ker[1] * g->ker[2] * sizeof(float),
               groups = (range[0] + local[0] - 1) / local[0] * ((range[1] + local[1] - 1) / local[1]) * range[2],
               least = (size_t)CLCONV__CPU_GROUPS_PER_UNIT * (p->compute_units ? p->compute_units : 1);
  size_t b = 1;
  while (b * 2 <= CLCONV__CPU_MAX_GROUP_BLOCKS && blocks % (b * 2) == 0 &&
         b * 2 * weights <= CLCONV__CPU_GROUP_WEIGHTS && groups / (b * 2) >= least)
    b *= 2;
  return b;
}

void clconv__variant_geometry(const clconv_device_profile *p, const clconv__variant *v, int rt, int fuse_rows,
                              const clconv__conv_geom *g, cl_uint *dims, size_t range[3], size_t local[3],
                              size_t *fold) {
  const size_t blocks = v->kt ? ((size_t)(g->k / g->groups) + (size_t)v->kt - 1) / (size_t)v->kt : 0;
  *fold = 1;
  switch (clconv__kinds[v->kind].launch) {
  case CLCONV__FLAT: /* one work-item per output, the kernel's own work-group size */
    *dims = 1;
    range[0] = g->dst_count;
    local[0] = 0;
    return;
  case CLCONV__GROUPS: /* LX x LY: LX * wt outputs of one row, LY channel blocks */
    *dims = 3;
    range[0] =
        (g->out[2] + CLCONV__LOCAL_LX * (size_t)v->wt - 1) / (CLCONV__LOCAL_LX * (size_t)v->wt) * CLCONV__LOCAL_LX;
    range[1] = blocks;
    range[2] = (size_t)g->n * g->groups * g->out[0] * g->out[1];
    local[0] = CLCONV__LOCAL_LX;
    local[1] = CLCONV__LOCAL_LY;
    local[2] = 1;
    return;
  case CLCONV__TILES: /* wt positions along W, kt channels per work-item; the rows' (or the pooled rows') tiles in one
                        dimension */
    *dims = 3;
    range[0] = (g->out[2] + (size_t)v->wt - 1) / (size_t)v->wt * g->out[0] *
               (fuse_rows ? g->out[1] / (size_t)fuse_rows : g->out[1]);
    range[1] = 1;
    clconv__flat_local(p, range[0], local);
    break;
  case CLCONV__ROWS: /* wt positions along W, rt rows (or a fused pooling window's), kt channels per work-item */
    *dims = 3;
    clconv__row_range(p, (g->out[2] + (size_t)v->wt - 1) / (size_t)v->wt,
                      (size_t)g->out[0] *
                          (fuse_rows ? g->out[1] / (size_t)fuse_rows : (g->out[1] + (size_t)rt - 1) / (size_t)rt),
                      range, local);
    break;
  }
  /* tiled and the row kernels: the blocks sharing a tile folded into dimension 0 (the kernels' `fold`), not a
   * work-group dimension: PoCL compiles a kernel once per work-group shape */
  range[2] = (size_t)g->n * g->groups * blocks;
  *fold = blocks_per_group(p, v, g, blocks, range, local);
  range[0] *= *fold;
  range[2] /= *fold;
}

/* Output rows per work-item of the dw kernel: CLCONV__DW_CPU_ROWS on CPUs, 1 on GPUs (registers per work-item). */
#define DW_ROWS(p) (clconv__is_gpu(p) ? 1 : CLCONV__DW_CPU_ROWS)

/* The compile-time shape of a kernel (kernels/conv.cl), for the shapes networks use, so that their loops unroll;
 * empty for every other shape, which the kernel reads from its arguments.
 *  - dw: along H and W, odd kernels of 3, 5 or 7 taps, stride 1 or 2, dilation 1 (an absent H axis: 1 tap, stride
 *    1);
 *  - tiled and wide: a kernel 3 or 5 wide (KW), whose taps along W then unroll inside the channel loop; tiled
 *    with it, a stride along W of 1 or 2 (TILED_SW): the unrolled loop's input addresses become constant offsets
 *    (with the stride an argument, LLVM kept 7 running pointers and reloaded one from the stack at every load:
 *    12 extra loads per 14 FMAs, vgg 3x3 and resnet 3x3 1.4-1.5x slower on an AVX-512 CPU with two FMA ports);
 *  - tiled, any other width but 1: up to CLCONV__TILED_MAX_CIN_G input channels per group (CIN_G), which then unroll
 *    inside the tap loop (more channels, or 1 x 1 kernels, gained nothing);
 *  - tiled, a kernel 1 wide on a 16-bit input (clconv__tiled_reads_16bit): its stride along W (TILED_SW), the span
 *    of its staged rows. */
#define CLCONV__TILED_MAX_CIN_G 3
bool clconv__tiled_reads_16bit(const clconv__conv_geom *g) {
  return g->dt != CLCONV_F32 && g->stride[2] <= 2 &&
         (g->ker[2] == 1 || ((g->ker[2] == 3 || g->ker[2] == 5) && g->dil[2] == 1));
}

void clconv__shape_options(clconv__kind kind, const clconv__conv_geom *g, char *buf, size_t cap) {
  buf[0] = 0;
  if ((kind == CLCONV__TILED || kind == CLCONV__WIDE) && (g->ker[2] == 3 || g->ker[2] == 5)) {
    snprintf(buf, cap, " -DKW=%u", g->ker[2]);
    if (kind == CLCONV__TILED && g->stride[2] <= 2)
      snprintf(buf + strlen(buf), cap - strlen(buf), " -DTILED_SW=%u", g->stride[2]);
    return;
  }
  if (kind == CLCONV__TILED && g->ker[2] == 1 && clconv__tiled_reads_16bit(g)) { /* its staged rows' stride */
    snprintf(buf, cap, " -DTILED_SW=%u", g->stride[2]);
    return;
  }
  if (kind == CLCONV__TILED && g->c / g->groups <= CLCONV__TILED_MAX_CIN_G && g->ker[2] > 1) {
    snprintf(buf, cap, " -DCIN_G=%u", g->c / g->groups);
    return;
  }
  if (kind != CLCONV__DW)
    return;
  bool spec = true;
  for (int a = 1; a < 3; a++) {
    bool absent = a == 1 && g->ndim == 1;
    spec = spec && g->dil[a] == 1 &&
           (absent || ((g->ker[a] == 3 || g->ker[a] == 5 || g->ker[a] == 7) && g->stride[a] <= 2));
  }
  if (spec)
    snprintf(buf, cap, " -DDW_KH=%u -DDW_KW=%u -DDW_SH=%u -DDW_SW=%u", g->ker[1], g->ker[2], g->stride[1],
             g->stride[2]);
}

int clconv__variant_rows(const clconv_device_profile *p, const clconv__variant *v, const clconv__conv_geom *g) {
  return v->kind == CLCONV__WIDE ? wide_rows(g, v->kt, v->wt, clconv__lanes(p))
         : v->kind == CLCONV__DW ? DW_ROWS(p)
                                 : 1;
}
