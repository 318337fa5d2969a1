/* The direct algorithm's kernel catalogue: which kernel a device profile and a shape get (the built-in rules), which
 * kernels exist (a tuned or forced one is checked against them), their names, rows per work-item and compile-time
 * shape options. Pure functions: no device, no context. */
#include "internal.h"

/* Five kernels, all in kernels/conv.cl, drawn by the tests' sweeps and each variant forced in test_variants:
 *  - dw: depthwise (one input and one output channel per group), any stride and dilation: each work-item computes
 *    16 positions along W x 4 rows (1 on GPUs), loading each input row once per tap along W for all its rows;
 *    the usual shapes along H and W are compile-time constants (shape_options);
 *  - wide: 16 or 32 positions along W x 1 to 8 channels per work-item, vectorised along W, at stride 1 along W,
 *    for other groups of < 8 output channels (LeNet's 6 maps: a channel-vector tile would run half empty) and for
 *    few input channels per group (an image network's first layer: the tiled kernel stores each output on its own,
 *    which costs as much as the few FMAs it sums); a kernel 3 or 5 wide is a compile-time constant (shape_options);
 *    on small padded images it reads a zero-padded copy of the input (pad_pays, clconv_conv_pad) instead of testing
 *    its edges;
 *  - tiled: 4, 8, 16 or 32 output channels x 3 to 10 positions along W per work-item (clconv__tile_choices),
 *    vectorised along channels in vectors of the device's width, for the rest with >= 4 channels per group; a
 *    kernel 3 or 5 wide is a compile-time constant (shape_options);
 *  - local: 4 or 8 channels x 4 positions per work-item, work-groups of 16 x 4 sharing each input row segment
 *    through local memory: the built-in choice on GPUs (chosen by device type; the tuner may pick it anywhere);
 *  - direct: one work-item per output, for everything else (few channels with a W stride).
 * tiled, wide, local and dw read weights packed (and mirrored for convolution) on the device: at every run, or once
 * with clconv_conv_set_weights. */
#define CLCONV__TILED_MIN_COUT_G 4
#define CLCONV__WIDE_MAX_CIN_G 3 /* FEW_IN in heuristic_variant */

/* Output channels per work-item for the tiled kernel: the largest tile a group fills at least once, up to
 * CLCONV__TILED_MAX_KT; 0 = not tiled. Two 16-lane vectors (32) beat one (16) by 13-27% on the suite's 3x3,
 * strided, stem, 3D, 1D and 1x1 shapes on a 2-FMA-unit AVX-512 CPU (min times, two interleaved rounds); on AVX2,
 * four 8-lane vectors x 3 positions beat two x 4 by 1.12-1.27x on vgg, resnet, conv1d, 3-D and 1x1 shapes
 * (in-process, best and median of 10-100 calls). */
static int tile_width(uint32_t cout_g, int vec) {
  for (int kt = CLCONV__TILED_MAX_KT(vec); kt >= CLCONV__TILED_MIN_COUT_G; kt /= 2)
    if (cout_g >= (uint32_t)kt)
      return kt;
  return 0;
}

/* The tiled kernel keeps kt / vw x wt vector accumulators (vw = min(kt, vec)): enough independent FMA chains for
 * two FMA units, few enough for the register file. Budget: 20 vectors where the device prefers 16 lanes (AVX-512's
 * 32 registers), 12 elsewhere (AVX2's 16); beyond it the accumulators spill (measured: 28 on AVX-512 lost 15-55%,
 * 14 on AVX2 lost 25-60% against 8). The positions per work-item are the three largest of 3, 4, 5, 6, 7, 8, 10
 * within it (fewer where fewer fit): 7, 8, 10 at 2 x 16 lanes, 4, 5, 6 at 2 x 8, 3 alone at 4 x 8. */
int clconv__tile_choices(int kt, const clconv_device_profile *p, int out[3]) {
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

/* Output positions along W per work-item among the choices, whichever pads the row least (ties: the smaller).
 * Measured: 7 suits the 7 * 2^k sizes of image networks (28, 56, 112), 8 the powers of two, 10 LeNet's 10-wide C3
 * output (1.5x over 7, which pads it to 14). */
static int tile_positions(uint32_t ow, int kt, const clconv_device_profile *p) {
  int choices[3], best = 0, n = clconv__tile_choices(kt, p, choices);
  uint64_t least = UINT64_MAX;
  for (int i = 0; i < n; i++) {
    uint64_t padded = ((uint64_t)ow + (uint64_t)choices[i] - 1) / (uint64_t)choices[i] * (uint64_t)choices[i];
    if (padded < least) {
      least = padded;
      best = choices[i];
    }
  }
  return best;
}

int clconv__wide_channels(uint32_t cout_g, int vec) {
  return cout_g <= 2 ? (int)cout_g : cout_g <= 4 ? 4 : cout_g <= 6 ? 6 : cout_g < 8 || vec >= 16 ? 8 : 4;
}

/* Output rows per work-item of the wide kernel: up to 4, keeping kt * wt / 16 * rows float16 accumulators within 16
 * vector registers (8 float16 at 16 lanes, 4 at 8 lanes; depthwise: wt / 16 per row, latency-bound alone); rows
 * share each input row they read, which needs stride and dilation 1 along H. */
static int wide_rows(const clconv__conv_geom *g, int kt, int wt, int vec) {
  if (g->ndim < 2 || g->out[1] == 1 || g->stride[1] != 1 || g->dil[1] != 1)
    return 1;
  int rows = (vec >= 16 ? 8 : 4) / (kt * (wt / 16));
  return rows < 1 ? 1 : rows > 4 ? 4 : rows;
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
  /* Few input channels (FEW_IN): on an AVX2 CPU, wide 4 x 16 against the tiled kernel (in-process, best and median of
   * 60-300 calls): 1 to 3 -> 16 to 64 channels at 160-224 px, 3 x 3 and 5 x 5, 1.5-2.3x (7 x 7 0.7-0.8x); 1-D 16000
   * long 1.7-2.5x; 3-D 16 x 112 x 112 1.1-1.2x; 32 x 32 px 1.0-1.1x; 4 to 8 channels at 3 x 3 0.95-1.1x, 16 0.8x. */
  bool few_in = g->c / g->groups <= CLCONV__WIDE_MAX_CIN_G && g->ker[2] <= 5;
  if ((cout_g < 8 || few_in) && g->stride[2] == 1) /* 32 positions (two float16) only where a float16 is one register */
    return (clconv__variant){
        .kt = clconv__wide_channels(cout_g, vec), .wt = g->out[2] > 16 && vec >= 16 ? 32 : 16, .kind = CLCONV__WIDE};
  int kt = tile_width(cout_g, vec);
  if (!kt) /* fewer than 4 output channels per group, and a W stride: no tile fits */
    return CLCONV__DIRECT_VARIANT;
  return (clconv__variant){.kt = kt, .wt = tile_positions(g->out[2], kt, p), .kind = CLCONV__TILED};
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
  return (v->kt == 4 || v->kt == 8 || v->kt == 16 || v->kt == 32) && ((v->wt >= 3 && v->wt <= 8) || v->wt == 10);
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
    int wt[3], m = clconv__tile_choices(kt, p, wt);
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
    out[n++] = (clconv__variant){.kt = clconv__wide_channels(cout_g, clconv__lanes(p)), .wt = wt, .kind = CLCONV__WIDE};
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
#define CLCONV_X(NAME, name, launch, packed, bounded)                                                                 \
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

void clconv__variant_geometry(const clconv_device_profile *p, const clconv__variant *v, int rt, int fuse_rows,
                              const clconv__conv_geom *g, cl_uint *dims, size_t range[3], size_t local[3]) {
  const size_t blocks = v->kt ? ((size_t)(g->k / g->groups) + (size_t)v->kt - 1) / (size_t)v->kt : 0;
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
  case CLCONV__ROWS: /* wt positions along W, rt rows (or a fused pooling window's), kt channels per work-item */
    *dims = 3;
    range[0] = (g->out[2] + (size_t)v->wt - 1) / (size_t)v->wt;
    range[1] =
        (size_t)g->out[0] * (fuse_rows ? g->out[1] / (size_t)fuse_rows : (g->out[1] + (size_t)rt - 1) / (size_t)rt);
    range[2] = (size_t)g->n * g->groups * blocks;
    clconv__row_local(p, range[0], range[1], local);
    return;
  }
}

/* Output rows per work-item of the dw kernel: 4 on CPUs (8 vector registers of accumulators at 8 lanes; 2 and 7
 * rows measured the same within noise, 8 slower), 1 on GPUs. */
#define DW_ROWS(p) (clconv__is_gpu(p) ? 1 : 4)

/* The compile-time shape of a kernel (kernels/conv.cl), for the shapes networks use; empty for every other shape,
 * which the kernel reads from its arguments.
 *  - dw: along H and W, odd kernels of 3, 5 or 7 taps, stride 1 or 2, dilation 1 (an absent H axis: 1 tap, stride
 *    1); the random sweeps in the tests rarely hit these;
 *  - tiled and wide: a kernel 3 or 5 wide (KW), whose taps along W then unroll inside the channel loop;
 *  - tiled, any other width but 1: 1 to 3 input channels per group (CIN_G), which then unroll inside the tap loop
 *    (1 x 1 kernels: no gain, 0.92-1.03x). */
#define CLCONV__TILED_MAX_CIN_G 3
void clconv__shape_options(clconv__kind kind, const clconv__conv_geom *g, char *buf, size_t cap) {
  buf[0] = 0;
  if ((kind == CLCONV__TILED || kind == CLCONV__WIDE) && (g->ker[2] == 3 || g->ker[2] == 5)) {
    snprintf(buf, cap, " -DKW=%u", g->ker[2]);
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
