/* Internals shared by the library's source files. Nothing here is part of the API. */
#ifndef CLCONV_INTERNAL_H
#define CLCONV_INTERNAL_H

#include "clconv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------------------------------------------ */
/* A last-error buffer: a fixed part that never needs allocating, and a heap part for long build logs. */
typedef struct clconv__errbuf {
  char fixed[1024];
  char *heap; /* when set, it is the message */
} clconv__errbuf;

void clconv__errbuf_clear(clconv__errbuf *e);
const char *clconv__errbuf_text(const clconv__errbuf *e);

/* Records the message on ctx (or this thread's buffer when ctx is NULL) and returns s. */
clconv_status clconv__fail(clconv_context *ctx, clconv_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* As clconv__fail, followed by a long tail (a build log) that does not fit the fixed buffer. */
clconv_status clconv__fail_long(clconv_context *ctx, clconv_status s, const char *tail, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Maps a failed cl_int to a status (allocation failures -> OUT_OF_MEMORY) and records "<what>: <call> failed: <code>".
 */
clconv_status clconv__fail_cl(clconv_context *ctx, const char *what, const char *call, cl_int err);
const char *clconv__cl_error_name(cl_int err);

#define CLCONV__TRY(x)                                                                                                 \
  do {                                                                                                                 \
    clconv_status s_ = (x);                                                                                            \
    if (s_ != CLCONV_OK)                                                                                               \
      return s_;                                                                                                       \
  } while (0)

#define CLCONV__CHECK(ctx, cond, status, ...)                                                                          \
  do {                                                                                                                 \
    if (!(cond))                                                                                                       \
      return clconv__fail((ctx), (status), __VA_ARGS__);                                                               \
  } while (0)

/* ---- checked size arithmetic: false on overflow --------------------------------------------------------- */
static inline bool clconv__mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a)
    return false;
  *out = a * b;
  return true;
}
static inline bool clconv__add_size(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a)
    return false;
  *out = a + b;
  return true;
}
/* Product of n dims; false on overflow. */
bool clconv__count(const uint32_t *dims, uint32_t n, size_t *out);

/* Largest element count the kernels index with 32-bit ints: 2^31 - 1 less a margin of 2^20 that covers how far
 * past a tensor's end a work-item's first index can lie (ranges rounded up to whole work-groups of up to 1024, each
 * work-item 16 or 32 positions), so that no index computed in a kernel overflows. */
#define CLCONV__MAX_KERNEL_ELEMS ((size_t)INT32_MAX - ((size_t)1 << 20))
#define CLCONV__MAX_FIELD ((uint32_t)INT32_MAX)

/* ---- the one layer every OpenCL call and host allocation passes through --------------------------------- */
/* In a CLCONV_FAULT_INJECTION build, clconv__fault() makes the Nth call from now fail (see src/fault.h);
 * otherwise it is constant false and costs nothing. */
#ifdef CLCONV_FAULT_INJECTION
bool clconv__fault(void);
#else
static inline bool clconv__fault(void) { return false; }
#endif
/* For calls returning cl_int. */
#define CLCONV__CL(call) (clconv__fault() ? CL_OUT_OF_RESOURCES : (call))
/* For calls returning an object and writing *errp. */
#define CLCONV__CLOBJ(errp, call) (clconv__fault() ? (*(errp) = CL_OUT_OF_RESOURCES, NULL) : (call))
void *clconv__malloc(size_t size);
void *clconv__calloc(size_t n, size_t size);
void clconv__free(void *p);
char *clconv__strdup(const char *s);

/* ---- context ------------------------------------------------------------------------------------------------ */
typedef struct clconv__program clconv__program; /* cache entry, program_cache.c */
typedef struct clconv__tuning clconv__tuning;   /* tuning.c */

/* The one-shot calls' cache of ops (plan.c): 8 of any kind, least recently used out. An op kind's functions make
 * and destroy its ops from a descriptor; the key is the descriptor's fields in a fixed order (never its padding). */
#define CLCONV__PLANS 8
#define CLCONV__PLAN_KEY_WORDS 64
typedef struct clconv__plan_ops {
  clconv_status (*create)(clconv_context *ctx, const void *desc, void **op);
  void (*destroy)(void *op);
} clconv__plan_ops;
typedef struct clconv__plan_key {
  uint32_t n, w[CLCONV__PLAN_KEY_WORDS];
} clconv__plan_key;
typedef struct clconv__plan {
  const clconv__plan_ops *ops; /* the op's kind */
  void *op;                    /* NULL: empty */
  clconv__plan_key key;
  uint64_t used; /* plan_clock at the last use */
} clconv__plan;

struct clconv_context {
  cl_context cl;
  cl_device_id device;
  cl_command_queue queue;
  clconv_device_profile prof; /* what every choice rule reads (clconv__profile_fill) */
  bool used_blas;             /* a CLBlast call ran on this context (conv_gemm.c: clconv__blas_release) */
  char *build_options;        /* user's extra options, may be NULL */
  clconv__program *programs;
  cl_mem workspace; /* the gemm algorithm's, shared by the ops of the context; grown on demand */
  size_t workspace_bytes;
  clconv__tuning *tuning; /* tuning.c; NULL when none was loaded or measured */
  bool tuning_ready;      /* the tuning file was looked for (lazily: clconv__tuning_ensure) */
  bool ignore_tuning;     /* options.ignore_tuning */
  clconv__plan plans[CLCONV__PLANS];
  uint64_t plan_clock;
  char tuning_note[1400];
  struct { /* program binaries on disk (program_cache.c) */
    unsigned loaded, saved, ignored, unsaved;
    char why[1400];  /* the first reason a binary was ignored or not saved */
    char note[1500]; /* clconv_context_binaries's text */
  } bin;
  clconv__errbuf err;
};

/* The profile of dev with opt's overrides, else the environment's (CLCONV_DEVICE_CLASS, CLCONV_VECTOR_WIDTH);
 * ERR_INVALID_ARGUMENT naming the option or variable and its value. */
clconv_status clconv__profile_fill(cl_device_id dev, const clconv_context_options *opt, clconv_device_profile *p);
static inline bool clconv__is_gpu(const clconv_device_profile *p) { return p->device_class == CLCONV_CLASS_GPU; }
/* The lanes of the kernels' float vectors on p: its vector width, at least 4 (OpenCL C has no 1-lane vector type,
 * and a 2-lane tile of channels would leave most of a GPU's or CPU's registers idle). */
static inline int clconv__lanes(const clconv_device_profile *p) {
  return p->vector_width < 4 ? 4 : (int)p->vector_width;
}

/* Program families: each has one .cl source (plus the shared activation header). */
typedef enum clconv__family {
  CLCONV__FAMILY_CONV,
  CLCONV__FAMILY_POOL,
  CLCONV__FAMILY_ACT,
  CLCONV__FAMILY_PACK,
  CLCONV__FAMILY_COUNT
} clconv__family;

/* Kernel sources, embedded at build time from kernels/ (generated kernels.c). */
extern const char clconv__src_common[];
extern const char clconv__src_conv[];
extern const char clconv__src_pool[];
extern const char clconv__src_eltwise[];
extern const char clconv__src_pack[];

/* A family's own source (each program is clconv__src_common followed by it). */
const char *clconv__family_source(clconv__family f);
/* "clconv <version>, CLBlast 1.x, kernels <hash> | name | vendor | driver | device version": what versions every
 * entry of the cache directory (program_cache.c). */
void clconv__device_key(clconv_context *ctx, char *buf, size_t cap);

/* Returns the cached program for (family, options), building it on first use. *out is borrowed from ctx. */
clconv_status clconv__program_get(clconv_context *ctx, clconv__family family, const char *options, cl_program *out);
void clconv__program_cache_clear(clconv_context *ctx);

/* A kernel with its launch geometry: a 1-D range of `total` work-items rounded up to the local size. */
typedef struct clconv__kernel {
  cl_kernel kernel;
  size_t local_size; /* the default work-group: 64 work-items, or fewer where the kernel cannot run 64 */
  size_t max_local;  /* CL_KERNEL_WORK_GROUP_SIZE: the most work-items a caller's work-group may have */
} clconv__kernel;
clconv_status clconv__kernel_create(clconv_context *ctx, clconv__family family, const char *options, const char *name,
                                    clconv__kernel *out);
void clconv__kernel_release(clconv__kernel *k);
/* Sets argument i from a list of (size, pointer) pairs, then enqueues a range of total[0..dims-1] work-items,
 * rounded up to whole work-groups of local[0..dims-1] (NULL: the kernel's own size along the first axis), shrunk
 * to the kernel's limit; kernels return early past the totals in every dimension. */
typedef struct clconv__arg {
  size_t size;
  const void *value;
} clconv__arg;
clconv_status clconv__kernel_launch(clconv_context *ctx, const char *what, clconv__kernel *k, const clconv__arg *args,
                                    size_t n_args, cl_uint dims, const size_t *total, const size_t *local);

/* A launch of global[0..dims-1] work-items in work-groups of local (each global[d] a multiple of local[d]) as pieces
 * of at most p->max_work_groups[d] work-groups along each dimension (NVIDIA's CUDA grids take 65 535 along the
 * second and third): piece i of clconv__launch_pieces starts at global offset off (a multiple of local) and spans
 * size. Kernels index with get_global_id, which includes the offset, so they see one launch. */
size_t clconv__launch_pieces(const clconv_device_profile *p, cl_uint dims, const size_t *global, const size_t *local);
void clconv__launch_piece(const clconv_device_profile *p, cl_uint dims, const size_t *global, const size_t *local,
                          size_t i, size_t off[3], size_t size[3]);

/* Work-group shape for the row kernels and the tiled kernel, whose tiles lie along dimension 0 (the rows one after
 * another):
 *  - GPU: the smallest power of two covering the range's n work-items, at most CLCONV__ROW_GROUP;
 *  - other devices (CPUs): always CLCONV__CPU_ROW_GROUP work-items (the last few may idle): one shape per kernel,
 *    because a CPU runtime compiles a kernel once per work-group shape. */
#define CLCONV__ROW_GROUP 64    /* GPU: a wavefront, two warps */
#define CLCONV__CPU_ROW_GROUP 8 /* other devices: small groups, few shapes (docs/PERFORMANCE.md) */
void clconv__flat_local(const clconv_device_profile *p, size_t n, size_t local[3]);
/* One-dimensional launches longer than this many work-items run as rows of it (clconv__kernel_launch): PoCL
 * compiles a kernel once more for a range reaching 65535 work-items along a dimension (its small-grid
 * specialisation), so that the weights' packing, ReLU over a large tensor and the others would each cost a second
 * compilation. */
#define CLCONV__FLAT_ROW 32768
/* The range's first two dimensions for a row kernel over `tiles` tiles of each of `rows` rows (kernels/common.cl:
 * clconv_tile_row): each row's tiles rounded up to a power of two, one row after another, along dimension 0; and its
 * work-group (clconv__flat_local). */
void clconv__row_range(const clconv_device_profile *p, size_t tiles, size_t rows, size_t range[2], size_t local[3]);
/* Work-group shape for kernels whose work-groups must lie within one plane (.., .., 1) so that everything but the
 * position in the plane is uniform: 64 work-items, 16, 32 or 64 of them along W. Three shapes only: PoCL compiles
 * a kernel once per work-group shape (a local size per row width cost the fresh-clone tests ~850 compilations). */
void clconv__plane_local(size_t width, size_t local[3]);

/* Three per-axis sizes (each < 2^31, checked by validation) as the int4 the kernels take. */
static inline cl_int4 clconv__int4(const uint32_t v[3]) {
  cl_int4 r = {{(cl_int)v[0], (cl_int)v[1], (cl_int)v[2], 0}};
  return r;
}

/* ---- tensors ------------------------------------------------------------------------------------------------ */
struct clconv_tensor {
  clconv_context *ctx;
  cl_mem mem;
  clconv_dtype dtype;
  uint32_t ndim;
  uint32_t dims[CLCONV_MAX_DIMS];
  size_t count;
};
/* Checks t is non-NULL, of ctx, of type dtype, and has exactly the dims want[0..n-1]. */
clconv_status clconv__tensor_expect(clconv_context *ctx, const char *call, const char *name, const clconv_tensor *t,
                                    clconv_dtype dtype, uint32_t n, const uint32_t *want);
/* ERR_INVALID_ARGUMENT naming the field unless t is a clconv_dtype. */
clconv_status clconv__dtype_check(clconv_context *ctx, const char *call, const char *name, clconv_dtype t);
/* The build options of storage types src (what a kernel reads) and dst (what it writes) (kernels/common.cl: DT,
 * DT_DST): "" for float32 throughout, so that float32 programs are what they were. */
void clconv__dtype_options(clconv_dtype src, clconv_dtype dst, char *buf, size_t cap);
/* Formats dims as "[a, b, c]" into buf. */
const char *clconv__dims_str(char *buf, size_t cap, const uint32_t *dims, uint32_t n);

/* ---- descriptor fields ---------------------------------------------------------------------------------- */
/* Checks name[i] = v <= INT32_MAX. v == 0 becomes dflt; dflt == 0 rejects zero; CLCONV__ZERO_OK keeps zero. */
#define CLCONV__ZERO_OK UINT32_MAX
clconv_status clconv__axis_field(clconv_context *ctx, const char *call, const char *name, uint32_t i, uint32_t v,
                                 uint32_t dflt, uint32_t *out);
/* Axes past ndim must be left 0: a value there means the caller described a different problem. */
clconv_status clconv__unused_axes(clconv_context *ctx, const char *call, const char *name, const uint32_t *v,
                                  uint32_t ndim);

/* ---- per-family helpers shared by ops, the reference and the tolerance ------------------------------------ */
/* ERR_UNSUPPORTED unless the largest tensor (most elements) and the largest padded extent fit the kernels' int
 * indices (CLCONV__MAX_KERNEL_ELEMS). */
clconv_status clconv__index_check(clconv_context *ctx, const char *call, size_t most, int64_t padded_max);
/* Effective (defaults applied) descriptors, after validation (desc.c). */
typedef struct clconv__conv_geom {
  clconv_dtype dt; /* the descriptor's */
  uint32_t ndim, n, c, k, groups;
  uint32_t in[3], ker[3], stride[3], dil[3], pad[3], out[3]; /* padded to 3 axes with extent 1 in front */
  size_t src_count, wei_count, dst_count;
  int64_t padded_max; /* largest in + pad_before + pad_after: window coordinates must fit the kernels' ints */
} clconv__conv_geom;
clconv_status clconv__conv_check(clconv_context *ctx, const char *call, const clconv_conv_desc *d,
                                 clconv__conv_geom *g);
/* The residual's factor beta as the epilogue applies it (residual_scale, 0 meaning 1). */
double clconv__residual_scale(const clconv_conv_desc *d);
/* What a convolution's epilogue adds before its activation: the residual z (mem NULL: none) times scale. */
typedef struct clconv__residual {
  cl_mem mem;
  float scale;
} clconv__residual;

typedef struct clconv__pool_geom {
  clconv_dtype dt; /* the descriptor's */
  uint32_t ndim, n, c;
  bool avg;                                                        /* else max */
  uint32_t in[3], win[3], stride[3], pad[3], pad_after[3], out[3]; /* 3 axes, extent 1 in front */
  size_t src_count, dst_count;
  int64_t padded_max; /* as in clconv__conv_geom */
} clconv__pool_geom;
clconv_status clconv__pool_check(clconv_context *ctx, const char *call, const clconv_pool_desc *d,
                                 clconv__pool_geom *g);
typedef struct clconv_pool clconv_pool;
clconv_status clconv__pool_launch(clconv_pool *op, const char *call, cl_mem src, cl_mem dst);
/* The pool descriptor of a layer with the fields taken from the conv output filled in. */
clconv_status clconv__layer_pool_desc(clconv_context *ctx, const char *call, const clconv_layer_desc *d,
                                      clconv_pool_desc *pool);

/* ---- activations (activation.c: the table CLCONV_ACT_MAP) ---------------------------------------------------- */
/* Checks a and applies its defaults into eff. */
clconv_status clconv__act_check(clconv_context *ctx, const char *call, const clconv_activation *a,
                                clconv_activation *eff);
double clconv__act_rel_factor(clconv_act_kind kind);
/* f(x) in double for the reference; eff with its defaults applied. */
double clconv__act_apply(const clconv_activation *eff, double x);
/* The OpenCL C that defines CLCONV_ACTIVATE(T, x, alpha, beta) for the activation the ACT macro names (default 0),
 * prepended to every program (program_cache.c). */
void clconv__act_source(char *buf, size_t cap);

/* ---- the one-shot calls' ops (plan.c) ------------------------------------------------------------------------ */
void clconv__key_conv(clconv__plan_key *k, const clconv_conv_desc *d);
void clconv__key_pool(clconv__plan_key *k, const clconv_pool_desc *d);
void clconv__key_act(clconv__plan_key *k, const clconv_activation *a);
/* Defines var, the clconv__plan_ops of an op type from its create and destroy functions. */
#define CLCONV__PLAN_OPS(var, type, create_fn, destroy_fn)                                                             \
  static clconv_status var##_create(clconv_context *ctx, const void *desc, void **op) {                                \
    type *made = NULL;                                                                                                 \
    clconv_status s_ = create_fn(ctx, desc, &made);                                                                    \
    *op = made;                                                                                                        \
    return s_;                                                                                                         \
  }                                                                                                                    \
  static void var##_destroy(void *op) { destroy_fn(op); }                                                              \
  static const clconv__plan_ops var = {var##_create, var##_destroy}
/* The cached op of kind ops for key, else one made from desc and kept (the least recently used one destroyed). *op
 * is borrowed from ctx. */
clconv_status clconv__plan_op(clconv_context *ctx, const clconv__plan_ops *ops, const clconv__plan_key *key,
                              const void *desc, void **op);
/* Destroys the kept ops (context destroy, and a tune that changes the choices). */
void clconv__plans_clear(clconv_context *ctx);

/* ---- tuning (the file: tuning.c; the search: tune.c) --------------------------------------------------------- */
/* The first time for ctx: loads the device's tuning file (unless ctx ignores it) and applies its CLBlast parameters;
 * never fails (see ctx->tuning_note). Called before anything that reads the tuning or runs CLBlast: a convolution's
 * creation, clconv_context_tuning, the CLBlast warm-up. */
void clconv__tuning_ensure(clconv_context *ctx);
void clconv__tuning_free(clconv_context *ctx);
/* The measured algorithm for a shape, or CLCONV_ALGO_AUTO when there is none. */
clconv_conv_algo clconv__tuned_algo(const clconv_context *ctx, const clconv__conv_geom *g);
/* A direct-algorithm kernel (kernels/conv.cl), by kind: tiled, kt (4, 8, 16, 32) channels x wt (3 to 8, 10)
 * positions in vector registers (CPUs); wide, the width-vectorised one (kt 1 to 8 channels x 16 or 32 positions);
 * local, kt (4, 8) channels x wt (4) positions per work-item with the work-group's input rows in local memory
 * (GPUs); dw, depthwise (kt 1 x wt 16); direct, one output per work-item (kt = wt = 0). */
/* The direct kernels, one row each (the kernel catalogue, catalogue.c, fills its table from this): NAME, name (the
 * kernel clconv_conv_<name> under -DKERNEL_<NAME> in kernels/conv.cl, and the catalogue's <name>_valid and
 * <name>_candidates), its launch geometry, whether it reads packed weights, whether it takes src's element count.
 * The values of the first four are the tuning file's and the fault hook's (kind 0..3); direct has kt = wt = 0. */
#define CLCONV__KIND_MAP(X)                                                                                            \
  X(TILED, tiled, CLCONV__TILES, true, false)                                                                          \
  X(WIDE, wide, CLCONV__ROWS, true, true)                                                                              \
  X(LOCAL, local, CLCONV__GROUPS, true, false)                                                                         \
  X(DW, dw, CLCONV__ROWS, true, true)                                                                                  \
  X(DIRECT, direct, CLCONV__FLAT, false, false)
typedef enum clconv__kind {
#define CLCONV_X(NAME, ...) CLCONV__##NAME,
  CLCONV__KIND_MAP(CLCONV_X)
#undef CLCONV_X
      CLCONV__KINDS
} clconv__kind;
typedef struct clconv__variant {
  int kt, wt;
  clconv__kind kind;
} clconv__variant;
#define CLCONV__DIRECT_VARIANT ((clconv__variant){.kt = 0, .wt = 0, .kind = CLCONV__DIRECT})

/* The kernel catalogue (catalogue.c): one row per kind, everything create, run and the tuner need of it. */
typedef enum clconv__launch {
  CLCONV__FLAT,   /* one work-item per output, the kernel's own work-group size */
  CLCONV__ROWS,   /* (rows x tiles along W, 1, planes of channel blocks): clconv__row_range */
  CLCONV__TILES,  /* (every row's tiles along W, one after another, 1, planes of channel blocks): one work-group
                     shape whatever the rows' width (PoCL compiles a kernel once per shape) */
  CLCONV__GROUPS, /* the local kernel's fixed work-groups, with its input tile in local memory */
} clconv__launch;
#define CLCONV__CANDIDATES 8 /* at most, per kind, for the tuner */
typedef struct clconv__kind_row {
  const char *name;     /* clconv_conv_kernel's word */
  const char *macro;    /* its program is built with -DKERNEL_<macro> (kernels/conv.cl) */
  const char *function; /* the kernel */
  clconv__launch launch;
  bool packed;  /* reads weights packed (and mirrored) by clconv_conv_pack; else the user's, mirrored itself */
  bool bounded; /* takes src's element count as its last argument (the bound of its whole-vector loads) */
  bool (*valid)(const clconv__variant *v, const clconv__conv_geom *g);
  size_t (*candidates)(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out);
} clconv__kind_row;
extern const clconv__kind_row clconv__kinds[CLCONV__KINDS];
/* Every kind's tuning candidates that can run g, into out (cap at least CLCONV__KINDS * CLCONV__CANDIDATES). */
size_t clconv__candidates(const clconv_device_profile *p, const clconv__conv_geom *g, clconv__variant *out, size_t cap);
/* How kernel v is launched on g: dims, the range, the work-group (local[0] = 0: the kernel's own), and for the
 * tiled, wide and dw kernels their `fold` argument (channel blocks per tile along dimension 0; 1 for the others). rt:
 * its rows per work-item; fuse_rows: a fused pooling window's rows, 0 for none. */
void clconv__variant_geometry(const clconv_device_profile *p, const clconv__variant *v, int rt, int fuse_rows,
                              const clconv__conv_geom *g, cl_uint *dims, size_t range[3], size_t local[3],
                              size_t *fold);
/* "direct", "tiled 32x7", "wide 6x32", "local 8x4" */
void clconv__variant_name(const clconv__variant *v, char *buf, size_t cap);
/* The tuned direct kernel for a shape; false when there is none. */
bool clconv__tuned_variant(const clconv_context *ctx, const clconv__conv_geom *g, clconv__variant *v);
/* The direct kernel op runs (kt = 0 for gemm too). */
void clconv__conv_variant(const clconv_conv *op, clconv__variant *v);
/* The local kernel's work-group (kernels/conv.cl: LX x LY) and its input tile: CC channels x the input columns of
 * LX * wt outputs (catalogue.c). */
#define CLCONV__LOCAL_LX 16
#define CLCONV__LOCAL_LY 4
#define CLCONV__LOCAL_CC 8
size_t clconv__local_tile_cols(const clconv__conv_geom *g, int wt);
/* Whether p can run the local kernel on g: its work-group within the limits and its tile in local memory. */
bool clconv__local_fits(const clconv_device_profile *p, const clconv__conv_geom *g, int wt);
/* Output rows per work-item of kernel v on g (wide and dw; 1 for the others). */
int clconv__variant_rows(const clconv_device_profile *p, const clconv__variant *v, const clconv__conv_geom *g);
/* The compile-time shape options of a kernel of kind on g ("" for shapes read from the arguments). */
void clconv__shape_options(clconv__kind kind, const clconv__conv_geom *g, char *buf, size_t cap);
/* Whether the tiled kernel reads g's 16-bit src itself (kernels/conv.cl widens each row span once), else a float32
 * copy (conv.c): at stride 1 or 2 along W, for kernels 3 or 5 wide and undilated (their taps along W known at build
 * time) and kernels 1 wide. */
bool clconv__tiled_reads_16bit(const clconv__conv_geom *g);
/* The built-in direct kernel for g on a device of profile p: a pure function of the two (tests run it for several
 * profiles). */
clconv__variant clconv__choose_variant(const clconv_device_profile *p, const clconv__conv_geom *g);
/* The tiled kernel's output positions per work-item for kt channels over rows ow wide on p, a multiple of
 * `multiple` (a fused pooling's window width); 0 where none fits (catalogue.c). */
int clconv__tile_positions(const clconv_device_profile *p, int kt, uint32_t ow, uint32_t multiple);
/* Whether v can run the shape (the wide kernel needs stride 1 along W). */
bool clconv__variant_valid(const clconv__variant *v, const clconv__conv_geom *g);
/* conv_create with the direct algorithm and kernel v (clconv_tune's candidates). */
clconv_status clconv__conv_create_variant(clconv_context *ctx, const clconv_conv_desc *desc, const clconv__variant *v,
                                          clconv_conv **out);
/* The convolution with the layer's pooling pool fused into its kernel (clconv_layer), or *out = NULL where that
 * pooling cannot be fused (see pool_fusable in conv.c): conv_run then writes the pooled output. */
clconv_status clconv__conv_create_pooled(clconv_context *ctx, const clconv_conv_desc *desc,
                                         const clconv__pool_geom *pool, clconv_conv **out);
/* conv_create for a layer that pools separately: dst is float32 whatever desc->dtype (one rounding, at the pooling). */
clconv_status clconv__conv_create_mid(clconv_context *ctx, const clconv_conv_desc *desc, clconv_conv **out);
/* pool_create for such a layer: src is float32, dst of desc->dtype. */
clconv_status clconv__pool_create_mid(clconv_context *ctx, const clconv_pool_desc *desc, clconv_pool **out);

/* ---- the gemm convolution algorithm (conv_gemm.c) ------------------------------------------------------------ */
typedef struct clconv__gemm {
  clconv__kernel im2col, weights, epilogue;
  bool is_col;    /* 1x1, stride 1, no padding: the input can be the column matrix */
  cl_mem user_ws; /* clconv_conv_set_workspace's buffer, or NULL for the context's */
  size_t user_ws_bytes;
} clconv__gemm;
/* Every CLBlast call of the process holds this lock (CLBlast 1.5 is not thread-safe; conv_gemm.c). */
void clconv__blas_lock(void);
void clconv__blas_unlock(void);
/* Before ctx's OpenCL context is released: when ctx made CLBlast calls and is the last live context that did, clears
 * CLBlast's program cache, so that none of its programs outlives the OpenCL objects it holds (conv_gemm.c). */
void clconv__blas_release(clconv_context *ctx);
/* What clconv set CLBlast's parameters to for dev (tune.c), under the lock: mnk = {MWG, NWG, KWG} of its tiled
 * kernel with GEMMK = 0, or NULL to keep; min_indirect 0 to keep. forget: CLBlast's own parameters (unknown). The
 * gemm algorithm pads its matrices to these tiles (conv_gemm.c). */
void clconv__gemm_note_params(cl_device_id dev, const size_t *mnk, size_t min_indirect);
void clconv__gemm_forget_params(cl_device_id dev);
/* ---- the cache directory (cache.c) --------------------------------------------------------------------------- */
/* $CLCONV_CACHE_DIR, else $XDG_CACHE_HOME/clconv, else $HOME/.cache/clconv; false when none is set. */
bool clconv__cache_dir(char *dir, size_t cap);
/* FNV-1a, continuing from h (start: 1469598103934665603). */
uint64_t clconv__fnv(uint64_t h, const void *data, size_t n);
#define CLCONV__FNV_START 1469598103934665603ull
/* Creates dir (and its parent); false with why. */
bool clconv__cache_mkdir(const char *dir, char *why, size_t cap);
/* Atomic writes: a temporary file next to path, renamed over it by commit (which closes f either way). */
FILE *clconv__cache_open_tmp(const clconv_context *ctx, const char *path, char *tmp, size_t tcap, char *why,
                             size_t cap);
bool clconv__cache_commit(FILE *f, const char *tmp, const char *path, char *why, size_t cap);

/* CLOCK_MONOTONIC in seconds (clock.c). */
double clconv__now_s(void);
/* The GEMM's m * n * k as clconv__gemm_run calls CLBlast (the whole batch in one chunk), unpadded: what CLBlast's
 * direct/tiled switch (XGEMM_MIN_INDIRECT_SIZE^3) is compared with. */
double clconv__gemm_mnk(const clconv__conv_geom *g);
/* The fastest wall time of the first chunk's GEMM alone (CLBlast's share), over reps; the operands are whatever the
 * workspace holds from the last run, so run the op first. */
clconv_status clconv__gemm_time(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g, cl_mem src,
                                uint32_t reps, double *ms);
/* clconv__gemm_time for a gemm-algorithm op that has run on src. */
clconv_status clconv__conv_time_gemm(clconv_conv *op, clconv_tensor *src, uint32_t reps, double *ms);
/* Runs one 1x1x1 CLBlast GEMM and one batched GEMM so that CLBlast builds both programs now (warm_up_gemm). */
clconv_status clconv__gemm_warm_up(clconv_context *ctx);
/* options: the gemm program's (KERNEL_GEMM, NDIM, FLIP, ACT and the types: im2col and the epilogue; pack.cl packs the
 * weights into floats). */
clconv_status clconv__gemm_create(clconv_context *ctx, const clconv__conv_geom *g, const char *options,
                                  clconv__gemm *out);
void clconv__gemm_release(clconv__gemm *gm);
/* Bytes of workspace for one image and for the whole batch, with CLBlast's parameters as they are now. */
void clconv__gemm_workspace(clconv_context *ctx, const clconv__gemm *gm, const clconv__conv_geom *g, size_t *min_bytes,
                            size_t *full_bytes);
clconv_status clconv__gemm_run(clconv_context *ctx, clconv__gemm *gm, const clconv__conv_geom *g,
                               const clconv_activation *act, cl_mem src, cl_mem wei, cl_mem bias,
                               const clconv__residual *res, cl_mem dst);
/* Activation kinds are compiled in (-DACT=n); alpha and beta are kernel arguments, so they add no programs. */
#define CLCONV__ACT_OPTION_FMT "-DACT=%d"

#endif /* CLCONV_INTERNAL_H */
