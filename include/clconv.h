/* clconv: direct 1D/2D/3D convolution, activation and pooling on OpenCL, with a CPU reference.
 *
 * Conventions
 * - Tensors hold float32, float16 or bfloat16 (clconv_dtype); every op computes and accumulates in float32.
 *   Activations N C [D][H] W, weights K C/groups [D][H] W, row-major, dense.
 * - Every function that can fail returns clconv_status. Detail (call, field, values, OpenCL build log) is in
 *   clconv_last_error(ctx); failures with no context (context creation, the CPU reference, the helpers) use
 *   clconv_last_error(NULL), which is per thread.
 * - Objects are opaque handles with create/destroy pairs. On failure *out is NULL and nothing leaks.
 *   destroy(NULL) is a no-op. The library never prints, exits or aborts.
 * - Descriptor structs: a zero field means the default written beside it; fields with no sensible default
 *   (ndim, channels, sizes) reject zero by name. Any size, stride, pad or dilation above INT32_MAX is rejected
 *   (it is usually a negative number cast to unsigned).
 * - Threads: a context and everything created from it must be used by one thread at a time (its program cache,
 *   workspace and last error are not locked); separate contexts may be used from separate threads concurrently,
 *   also on one device. Process-wide state is safe to share: the per-thread last error, and CLBlast (every call
 *   to it holds one process-wide lock: CLBlast 1.5 is not thread-safe) and its parameters (clconv_tune). Checked under
 * ThreadSanitizer by tests/test_threads.c.
 */
#ifndef CLCONV_H
#define CLCONV_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CLCONV_SHARED_BUILD)
#define CLCONV_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLCONV_API __attribute__((visibility("default")))
#else
#define CLCONV_API
#endif

#define CLCONV_VERSION_MAJOR 0
#define CLCONV_VERSION_MINOR 1
#define CLCONV_VERSION_PATCH 0
CLCONV_API const char *clconv_version_string(void); /* "0.1.0", static */

/* ---------------------------------------------------------------------------------------------------------- */
/* Status codes. Values are fixed forever; new codes go at the end. */
#define CLCONV_STATUS_MAP(X)                                                                                           \
  X(OK, 0, "success")                                                                                                  \
  X(ERR_INVALID_ARGUMENT, 1, "invalid argument")          /* bad field value, NULL pointer */                          \
  X(ERR_SHAPE_MISMATCH, 2, "tensor shape mismatch")       /* tensor dims disagree with the descriptor */               \
  X(ERR_UNSUPPORTED, 3, "valid but not supported")        /* e.g. > 2^31-1 elements for the kernels */                 \
  X(ERR_OUT_OF_MEMORY, 4, "out of memory")                /* host malloc or device allocation failed */                \
  X(ERR_SIZE_OVERFLOW, 5, "size computation overflows")   /* element or byte count does not fit */                     \
  X(ERR_DEVICE_NOT_FOUND, 6, "no matching OpenCL device") /* no platform, or CLCONV_DEVICE matched none */             \
  X(ERR_BUILD_FAILED, 7, "OpenCL program build failed")   /* options and full build log in last error */               \
  X(ERR_OPENCL, 8, "OpenCL call failed")                  /* the call and its cl_int in last error */                  \
  X(ERR_WRONG_CONTEXT, 9, "object belongs to another context")                                                        \
  X(ERR_DTYPE_MISMATCH, 10, "tensor element type mismatch") /* a tensor's dtype is not the descriptor's */

typedef enum clconv_status {
#define CLCONV_X(name, value, text) CLCONV_##name = value,
  CLCONV_STATUS_MAP(CLCONV_X)
#undef CLCONV_X
} clconv_status;

CLCONV_API const char *clconv_status_string(clconv_status s); /* static text, never NULL ("unknown status") */

typedef struct clconv_context clconv_context;
typedef struct clconv_tensor clconv_tensor;

/* Last failure on ctx (or on this thread when ctx is NULL): names the call, the field and the values, and for a
 * build failure the options and the full log. "" when nothing failed. Valid until the next call on ctx. */
CLCONV_API const char *clconv_last_error(const clconv_context *ctx);

/* ---------------------------------------------------------------------------------------------------------- */
/* Devices and contexts */

typedef struct clconv_device_info {
  char name[256], vendor[256], platform[256], version[256]; /* truncated, NUL-terminated */
  bool is_gpu;
  uint32_t compute_units;
  uint64_t global_mem_bytes, max_alloc_bytes, local_mem_bytes;
  size_t max_work_group_size;
} clconv_device_info;

/* Devices are numbered across all platforms in platform order, then device order. count is 0 and the status
 * CLCONV_ERR_DEVICE_NOT_FOUND when there is no OpenCL platform. */
CLCONV_API clconv_status clconv_device_count(uint32_t *count);
CLCONV_API clconv_status clconv_device_get_info(uint32_t index, clconv_device_info *info);

/* What the library's kernel choices are made for: a profile filled once per context from the device, each field
 * overridable for testing and for users whose driver misreports. Every choice rule (which kernel, its tile, its
 * work-group shape) reads the profile, never the device. */
typedef enum clconv_device_class {
  CLCONV_CLASS_AUTO = 0, /* options only: the CLCONV_DEVICE_CLASS environment variable, else the device's type */
  CLCONV_CLASS_CPU = 1,  /* vector-register kernels, small work-groups (any device that is not a GPU) */
  CLCONV_CLASS_GPU = 2,  /* local-memory kernels, 64-wide work-groups */
} clconv_device_class;

typedef struct clconv_device_profile {
  clconv_device_class device_class; /* CLCONV_CLASS_CPU or CLCONV_CLASS_GPU */
  uint32_t vector_width;            /* float lanes: 1, 2, 4, 8 or 16 (the kernels' vectors are at least 4) */
  uint32_t accumulator_registers;   /* vector registers a work-item's accumulators may take before spilling */
  uint32_t compute_units;           /* CL_DEVICE_MAX_COMPUTE_UNITS */
  size_t max_work_group_size;       /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
  size_t max_work_item_sizes[3];    /* CL_DEVICE_MAX_WORK_ITEM_SIZES */
  uint64_t local_mem_bytes;         /* CL_DEVICE_LOCAL_MEM_SIZE (0 where the device has no local memory) */
  uint64_t max_alloc_bytes;         /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
  uint32_t mem_align_bits;          /* CL_DEVICE_MEM_BASE_ADDR_ALIGN */
  size_t max_work_groups[3];        /* per launch and dimension: 2^31 - 1, 65535, 65535 on every device (what
                                       NVIDIA's CUDA grids allow; OpenCL has no query): launches that need more
                                       are split */
} clconv_device_profile;

typedef struct clconv_context_options {
  /* Device: a decimal index (see clconv_device_count) or a case-insensitive substring of the device name.
   * NULL = the CLCONV_DEVICE environment variable if set, else the first GPU, else the first device. */
  const char *device;
  /* Appended to every program's build options, after the library's own -D macros (so a -D here overrides
   * them). NULL = the CLCONV_BUILD_OPTIONS environment variable if set, else none. */
  const char *build_options;
  /* true: do not load the device's tuning file (see clconv_tune): CLBlast's own GEMM parameters, and auto = direct.
   * clconv_tune needs it, to measure the untuned baseline. */
  bool ignore_tuning;
  /* true: build CLBlast's GEMM kernels now (one tiny GEMM and one batched GEMM, after the tuning file's parameters
   * are applied) rather than in the first gemm-algorithm run, which then costs what later runs do. The build is
   * seconds on a CPU device the first time; OpenCL drivers with a program cache (PoCL, NVIDIA) make later processes
   * fast. A failure fails context creation with CLBlast's status. */
  bool warm_up_gemm;
  /* The profile's class: 0 = the CLCONV_DEVICE_CLASS environment variable ("cpu" or "gpu") if set, else GPU for a
   * device of type CL_DEVICE_TYPE_GPU and CPU for any other. */
  clconv_device_class device_class;
  /* The profile's vector width: 0 = the CLCONV_VECTOR_WIDTH environment variable (1, 2, 4, 8 or 16) if set, else
   * CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT rounded down to one of those. */
  uint32_t vector_width;
} clconv_context_options;

/* options may be NULL. Creates its own OpenCL context and an in-order queue with profiling enabled.
 * Fails with ERR_DEVICE_NOT_FOUND (no platform, index out of range, no name match), ERR_OPENCL, ERR_OUT_OF_MEMORY;
 * the message is in clconv_last_error(NULL). */
CLCONV_API clconv_status clconv_context_create(const clconv_context_options *options, clconv_context **out);
/* For host programs that already use OpenCL: the context retains cl_ctx, device and queue (an in-order queue on
 * that device) and releases them on destroy. options->device is ignored. */
CLCONV_API clconv_status clconv_context_create_from_cl(cl_context cl_ctx, cl_device_id device, cl_command_queue queue,
                                                       const clconv_context_options *options, clconv_context **out);
/* Waits for the ops enqueued on ctx, then frees it. Destroy every tensor and op of ctx first. */
CLCONV_API void clconv_context_destroy(clconv_context *ctx);
CLCONV_API clconv_status clconv_context_get_device_info(clconv_context *ctx, clconv_device_info *info);
/* The OpenCL context and device of ctx (borrowed: valid while ctx lives), for host code that enqueues its own
 * kernels beside clconv's. ERR_INVALID_ARGUMENT on NULL. */
CLCONV_API clconv_status clconv_context_get_cl(const clconv_context *ctx, cl_context *cl_ctx, cl_device_id *device);
/* The queue every op of ctx is enqueued on (owned by ctx). Ops are asynchronous; tensor reads wait. */
CLCONV_API cl_command_queue clconv_context_queue(const clconv_context *ctx);
CLCONV_API clconv_status clconv_context_finish(clconv_context *ctx); /* waits for every enqueued op */
/* Where ctx's tuning came from, one line for logs: "none (...)", "loaded PATH: ...", "ignored PATH: <why>" (a
 * corrupt, foreign or unreadable file is ignored, never an error), or what the last clconv_tune did. The file is
 * read at the context's first need of it (its first convolution, this call, or warm_up_gemm). Static in ctx. */
CLCONV_API const char *clconv_context_tuning(const clconv_context *ctx);
/* The device profile ctx's choices are made for (see clconv_device_profile). ERR_INVALID_ARGUMENT on NULL. */
CLCONV_API clconv_status clconv_context_profile(const clconv_context *ctx, clconv_device_profile *profile);
/* Compiled programs are also kept on disk, next to the tuning file (program-<key>.bin, the key covering device,
 * driver, versions, sources and options), so that a new process on a driver without its own cache skips the
 * compiler. A missing, damaged or refused file means a build from source that replaces it; an unwritable directory
 * means memory only; neither is an error. Off on PoCL while its own kernel cache is on (POCL_KERNEL_CACHE unset
 * or not 0): handing out a binary costs PoCL a second compilation. This says, for logs, "DIR: N loaded, N saved,
 * N ignored, N not saved" and the first reason one was ignored or not saved, or why it is off. Valid until the next
 * call with ctx. */
CLCONV_API const char *clconv_context_binaries(clconv_context *ctx);

/* ---------------------------------------------------------------------------------------------------------- */
/* Element types. A tensor has one; an op's descriptor names the one of its tensors (src, weights, bias, residual and
 * dst alike) and refuses others (ERR_DTYPE_MISMATCH naming both types). 16-bit types are storage only: kernels
 * widen each value to float32 on load, compute and accumulate in float32, and round once to nearest even on
 * store (OpenCL 1.2's vload_half / vstore_half_rte, no cl_khr_fp16 needed; bfloat16 by bit operations). */
typedef enum clconv_dtype {
  CLCONV_F32 = 0,  /* IEEE binary32, host float */
  CLCONV_F16 = 1,  /* IEEE binary16, host uint16_t bits (clconv_f32_to_f16) */
  CLCONV_BF16 = 2, /* bfloat16, a float32's top 16 bits, host uint16_t (clconv_f32_to_bf16) */
} clconv_dtype;
#define CLCONV_DTYPE_COUNT 3
CLCONV_API const char *clconv_dtype_name(clconv_dtype t); /* "float32", "float16", "bfloat16"; NULL out of range */
CLCONV_API size_t clconv_dtype_size(clconv_dtype t);      /* bytes per element: 4, 2, 2; 0 out of range */

/* ---------------------------------------------------------------------------------------------------------- */
/* Tensors: 1 to 5 dims of one element type, row-major on the device of a context. */
#define CLCONV_MAX_DIMS 5

/* dims[0..ndim-1], outermost first, each >= 1. Fails with ERR_SIZE_OVERFLOW when the byte count overflows and
 * ERR_OUT_OF_MEMORY when it exceeds the device's max allocation or the allocation fails. Contents undefined. */
CLCONV_API clconv_status clconv_tensor_create(clconv_context *ctx, clconv_dtype dtype, uint32_t ndim,
                                              const uint32_t *dims, clconv_tensor **out);
/* Wraps a buffer of ctx's OpenCL context holding at least count * clconv_dtype_size(dtype) bytes; retains it (the
 * caller keeps its own reference). */
CLCONV_API clconv_status clconv_tensor_wrap(clconv_context *ctx, cl_mem mem, clconv_dtype dtype, uint32_t ndim,
                                            const uint32_t *dims, clconv_tensor **out);
CLCONV_API void clconv_tensor_destroy(clconv_tensor *t);
/* Blocking copies of the whole tensor, host data of the tensor's type (float, or uint16_t bits for the 16-bit
 * types); count_elems must equal the tensor's element count. */
CLCONV_API clconv_status clconv_tensor_write(clconv_tensor *t, const void *host, size_t count_elems);
CLCONV_API clconv_status clconv_tensor_read(clconv_tensor *t, void *host, size_t count_elems);
CLCONV_API clconv_dtype clconv_tensor_dtype(const clconv_tensor *t);          /* CLCONV_F32 for NULL */
CLCONV_API uint32_t clconv_tensor_ndim(const clconv_tensor *t);               /* 0 for NULL */
CLCONV_API uint32_t clconv_tensor_dim(const clconv_tensor *t, uint32_t axis); /* 0 when axis >= ndim */
CLCONV_API size_t clconv_tensor_count(const clconv_tensor *t);                /* elements */
CLCONV_API cl_mem clconv_tensor_mem(const clconv_tensor *t);                  /* borrowed */

/* Host conversions between float32 and 16-bit storage: float16 (IEEE binary16) and bfloat16 (a float32's top 16
 * bits). To 16 bits: round to nearest, ties to even; past the largest finite value, inf; inf kept, NaN kept a
 * (quiet) NaN; -0 kept. From 16 bits: exact. n elements; src and dst must not overlap. ERR_INVALID_ARGUMENT when a
 * pointer is NULL and n > 0. */
CLCONV_API clconv_status clconv_f32_to_f16(const float *src, uint16_t *dst, size_t n);
CLCONV_API clconv_status clconv_f16_to_f32(const uint16_t *src, float *dst, size_t n);
CLCONV_API clconv_status clconv_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
CLCONV_API clconv_status clconv_bf16_to_f32(const uint16_t *src, float *dst, size_t n);

/* ---------------------------------------------------------------------------------------------------------- */
/* Activations (the detector stage): one row each, every consumer reads this table (names, parsing, defaults, the
 * tolerance, the CPU reference, the device code, clconv-bench's oneDNN peer). Columns:
 *   NAME, value (fixed forever), name, parameters (0 none, 1 alpha, 2 alpha and beta), alpha's default when 0 is
 *   given (0: 0 stays), Lipschitz constant L of f given a = alpha, tolerance factor c (4 for relu-like ops, 32
 *   where f rounds several times), f(x) in double for the reference (a = alpha, b = beta), f on the device (OpenCL C
 *   on T = float or float16, x a name, alpha and beta floats; NaN must propagate), and oneDNN's eltwise algorithm
 *   (dnnl_eltwise_<alg>) with its alpha and beta. Adding an activation is one row here and its tests. */
#define CLCONV_ACT_MAP(X)                                                                                              \
  X(IDENTITY, 0, "identity", 0, 0.0f, 1.0, 4, x, "x", linear, 1.0f, 0.0f)                                              \
  X(RELU, 1, "relu", 0, 0.0f, 1.0, 4, (x < 0.0 ? 0.0 : x), "select(x, (T)(0.0f), x < (T)(0.0f))", relu, 0.0f, 0.0f)    \
  X(LEAKY_RELU, 2, "leaky_relu", 1, 0.01f, (fabs(a) > 1.0 ? fabs(a) : 1.0), 4, (x < 0.0 ? a * x : x),                  \
    "select(x, (T)(alpha) * x, x < (T)(0.0f))", relu, a, 0.0f)                                                         \
  /* elu: expm1 keeps full relative accuracy near 0 where exp(x) - 1 cancels */                                        \
  X(ELU, 3, "elu", 1, 1.0f, (fabs(a) > 1.0 ? fabs(a) : 1.0), 32, (x < 0.0 ? a * expm1(x) : x),                         \
    "select(x, (T)(alpha) * expm1(x), x < (T)(0.0f))", elu, a, 0.0f)                                                   \
  X(RELU6, 4, "relu6", 0, 0.0f, 1.0, 4, (x < 0.0 ? 0.0 : (x > 6.0 ? 6.0 : x)),                                         \
    "select(select(x, (T)(6.0f), x > (T)(6.0f)), (T)(0.0f), x < (T)(0.0f))", clip_v2, 0.0f, 6.0f)                      \
  X(CLIP, 5, "clip", 2, 0.0f, 1.0, 4, (x < a ? a : (x > b ? b : x)),                                                   \
    "select(select(x, (T)(beta), x > (T)(beta)), (T)(alpha), x < (T)(alpha))", clip_v2, a, b)                          \
  /* sigmoid: one exp, never of a positive number: 1 / (1 + e) for x >= 0, e / (1 + e) below, e = exp(-|x|) */        \
  X(SIGMOID, 6, "sigmoid", 0, 0.0f, 0.25, 32, 1.0 / (1.0 + exp(-x)),                                                   \
    "select(exp(-fabs(x)), (T)(1.0f), x >= (T)(0.0f)) / ((T)(1.0f) + exp(-fabs(x)))", logistic, 0.0f, 0.0f)            \
  X(TANH, 7, "tanh", 0, 0.0f, 1.0, 32, tanh(x), "tanh(x)", tanh, 0.0f, 0.0f)                                           \
  /* softplus: max(x, 0) + log1p(exp(-|x|)) neither overflows nor loses the small tail */                              \
  X(SOFTPLUS, 8, "softplus", 0, 0.0f, 1.0, 32, ((x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x)))),                           \
    "select((T)(0.0f), x, x > (T)(0.0f)) + log1p(exp(-fabs(x)))", soft_relu, 0.0f, 0.0f)                               \
  /* swish (SiLU at alpha = 1): x * sigmoid(alpha * x), one exp of -alpha * x rounded, times (1 + the rounding's       \
   * error, an fma; 0 where alpha * x is infinite): at alpha * x = -67 the rounded exponent alone is 3e-6 off;         \
   * |f'| <= 1.1 whatever alpha */                                                                                     \
  X(SWISH, 9, "swish", 1, 1.0f, 1.1, 32, x / (1.0 + exp(-a * x)),                                                      \
    "x / ((T)(1.0f) + exp((T)(-alpha) * x) * "                                                                         \
    "((T)(1.0f) + select(fma((T)(-alpha), x, (T)(alpha) * x), (T)(0.0f), isinf((T)(alpha) * x))))",                    \
    swish, a, 0.0f)                                                                                                    \
  /* hardswish: x * relu6(x + 3) / 6, by pieces so that -inf gives 0 */                                                \
  X(HARDSWISH, 10, "hardswish", 0, 0.0f, 1.5, 32, (x <= -3.0 ? 0.0 : (x >= 3.0 ? x : x * (x + 3.0) / 6.0)),            \
    "select(select(x * (x + (T)(3.0f)) * (T)(1.0f / 6.0f), x, x >= (T)(3.0f)), (T)(0.0f), x <= (T)(-3.0f))",           \
    hardswish, 0.0f, 0.0f)                                                                                             \
  /* gelu (the erf form): x * Phi(x), Phi the standard normal distribution function (erfc(-x / sqrt(2)) / 2: erfc      \
   * keeps the small tail below 0; on the device clconv_phi_T, kernels/common.cl); -inf gives 0; |f'| <= 1.129 */      \
  X(GELU, 11, "gelu", 0, 0.0f, 1.13, 32, (x == -INFINITY ? 0.0 : 0.5 * x * erfc(-x * 0.70710678118654752)),            \
    "select(x * clconv_phi_##T(x), (T)(0.0f), x == (T)(-INFINITY))", gelu_erf, 0.0f, 0.0f)

typedef enum clconv_act_kind {
#define CLCONV_X(NAME, value, ...) CLCONV_ACT_##NAME = value,
  CLCONV_ACT_MAP(CLCONV_X)
#undef CLCONV_X
} clconv_act_kind;
#define CLCONV_ACT_ONE_(...) +1
#define CLCONV_ACT_COUNT (0 CLCONV_ACT_MAP(CLCONV_ACT_ONE_))

typedef struct clconv_activation {
  clconv_act_kind kind; /* 0 = identity */
  float alpha;          /* the table's: leaky_relu slope (0 = 0.01), elu scale (0 = 1.0), clip lower bound */
  float beta;           /* clip upper bound, >= alpha; unused otherwise */
} clconv_activation;

CLCONV_API const char *clconv_act_name(clconv_act_kind kind); /* "relu", ...; NULL if out of range */
/* Parses "relu", "leaky_relu:0.1", "elu:1.5", "clip:-1,1" into *act. ERR_INVALID_ARGUMENT on an unknown name. */
CLCONV_API clconv_status clconv_act_parse(const char *text, clconv_activation *act);

/* ---------------------------------------------------------------------------------------------------------- */
/* Convolution. out[i] = floor((in[i] + pad_before[i] + pad_after[i] - dilation[i]*(kernel[i]-1) - 1) / stride[i]) + 1
 * Cross-correlation (default): y[n,k,o] = b[k] + sum_{c,t} x[n, g*C/G + c, o*s - p + t*d] * w[k, c, t]
 * Convolution: the same with the kernel flipped in every spatial axis, w[k, c, kernel-1-t].
 * The epilogue, in the same pass: dst = f(y + beta * z) with f the activation and z the residual (has_residual;
 * a tensor of dst's shape, which may be dst itself: the sum in place, as ResNet's skip connections need). Batch
 * norm after a convolution folds into its weights and bias (clconv_fold_batch_norm). */
typedef enum clconv_conv_mode { CLCONV_MODE_XCORR = 0, CLCONV_MODE_CONV = 1 } clconv_conv_mode;

/* How a convolution is computed; every algorithm gives the same result within clconv_conv_tolerance.
 * - direct: clconv's own kernels (kernels/conv.cl).
 * - gemm: im2col into a workspace (kernels/conv.cl), then CLBlast SGEMM (strided-batched over groups), then bias and
 *   activation in one pass. A 1x1 kernel with stride 1 and no padding multiplies the input directly.
 * - auto: the faster one for this device and shape as measured by clconv_tune (clconv-bench --tune), else direct,
 *   which the bench suite measured ahead on every case of a CPU device (docs/PERFORMANCE.md). */
typedef enum clconv_conv_algo { CLCONV_ALGO_AUTO = 0, CLCONV_ALGO_DIRECT = 1, CLCONV_ALGO_GEMM = 2 } clconv_conv_algo;
#define CLCONV_ALGO_COUNT 3
CLCONV_API const char *clconv_algo_name(clconv_conv_algo algo); /* "auto", "direct", "gemm"; NULL if out of range */

typedef struct clconv_conv_desc {
  uint32_t ndim;                        /* spatial dims, 1..3; required */
  uint32_t batch;                       /* N; 0 = 1 */
  uint32_t in_channels, out_channels;   /* C and K of the whole tensor (not per group); required */
  uint32_t groups;                      /* 0 = 1; must divide C and K; groups = C = K is depthwise */
  uint32_t in_size[3];                  /* elements, outermost first: {W}, {H,W} or {D,H,W}; required */
  uint32_t kernel_size[3];              /* same order; required, each >= 1 */
  uint32_t stride[3], dilation[3];      /* 0 = 1 */
  uint32_t pad_before[3], pad_after[3]; /* implicit zeros, in elements; 0 = none */
  clconv_conv_mode mode;                /* 0 = cross-correlation */
  bool has_bias;                        /* bias is float[K] */
  bool has_residual;                    /* a residual z of dst's shape is added before the activation (below) */
  float residual_scale;                 /* beta, the residual's factor; 0 = 1 (finite; 0 without has_residual) */
  clconv_activation activation;         /* fused after bias and residual; zero = identity */
  clconv_conv_algo algorithm;           /* 0 = auto */
  clconv_dtype dtype;                   /* of src, weights, bias, residual and dst; 0 = float32 */
} clconv_conv_desc;

/* Checks d (no device needed). ERR_INVALID_ARGUMENT naming the field, or ERR_SIZE_OVERFLOW. */
CLCONV_API clconv_status clconv_conv_validate(const clconv_conv_desc *d);
/* out_size[0..ndim-1] per the formula above; fails like clconv_conv_validate. */
CLCONV_API clconv_status clconv_conv_output_size(const clconv_conv_desc *d, uint32_t out_size[3]);
/* Sets pad_before/pad_after so out = ceil(in / stride) ("same"): total = max((out-1)*s + d*(k-1) + 1 - in, 0),
 * before = floor(total/2), after = total - before. Stride 1, odd k: floor(k/2) on both sides. */
CLCONV_API clconv_status clconv_conv_same_padding(clconv_conv_desc *d);
/* Trainable parameters: kernel volume * C/groups * K (+ K with bias). LeNet C1: 5*5*3*6+6 = 456. */
CLCONV_API clconv_status clconv_conv_param_count(const clconv_conv_desc *d, uint64_t *count);
/* Tensor shapes the op expects, as {N, C, spatial...}, {K, C/groups, kernel...}, {N, K, out...}; ndim + 2 dims. */
CLCONV_API clconv_status clconv_conv_shapes(const clconv_conv_desc *d, uint32_t src[CLCONV_MAX_DIMS],
                                            uint32_t weights[CLCONV_MAX_DIMS], uint32_t dst[CLCONV_MAX_DIMS]);

typedef struct clconv_conv clconv_conv;
/* Validates, then compiles (once per context and specialisation) and allocates what the op's kernel reads besides
 * the tensors: the weights packed for it, and where the kernel's windows reach into the padding often enough a
 * zero-padded copy of one src (clconv_conv_kernel "+pad"; about src's size). */
CLCONV_API clconv_status clconv_conv_create(clconv_context *ctx, const clconv_conv_desc *desc, clconv_conv **out);
/* Enqueues on the context's queue. bias is NULL unless has_bias, residual NULL unless has_residual; residual may be
 * dst (in place). dst must not alias src, weights or bias.
 * weights = NULL (and bias = NULL) runs with the weights given to clconv_conv_set_weights, without repacking them.
 * ERR_SHAPE_MISMATCH when a tensor's dims differ from clconv_conv_shapes; dst is untouched on any failure. */
CLCONV_API clconv_status clconv_conv_run(clconv_conv *op, clconv_tensor *src, clconv_tensor *weights,
                                         clconv_tensor *bias, clconv_tensor *residual, clconv_tensor *dst);
/* For inference: packs weights (and copies bias) into op's own buffers once, in the layout its kernel reads, so
 * that runs with weights = NULL skip that work. The caller may change or destroy weights and bias afterwards;
 * calling again replaces them. Runs with explicit weights do not touch the set ones. */
CLCONV_API clconv_status clconv_conv_set_weights(clconv_conv *op, clconv_tensor *weights, clconv_tensor *bias);
CLCONV_API void clconv_conv_destroy(clconv_conv *op);
/* The algorithm op runs: the descriptor's, or auto's choice. */
CLCONV_API clconv_conv_algo clconv_conv_algorithm(const clconv_conv *op);
/* The kernel op runs, for logs and benchmarks: "tiled 32x7" (output channels x positions per work-item),
 * "wide 8x16", "direct" (one output per work-item) or "gemm"; "+pad" appended where the kernel reads a zero-padded
 * copy of src made at each run (the wide kernel on small padded images: cheaper than testing its edges); static in
 * op. "" for NULL. */
CLCONV_API const char *clconv_conv_kernel(const clconv_conv *op);
/* Device workspace of the gemm algorithm, in bytes: *min_bytes for one image (the least a run can chunk down to),
 * *full_bytes for the whole batch in one pass. Both 0 for direct and for a 1x1 gemm that needs none. */
CLCONV_API clconv_status clconv_conv_workspace_size(const clconv_conv *op, size_t *min_bytes, size_t *full_bytes);
/* Runs use mem (of op's OpenCL context, at least min_bytes, retained until replaced or op is destroyed) as the
 * workspace instead of the context's own, chunking the batch to what bytes holds. mem = NULL goes back to the
 * context's workspace, which grows on demand up to the device's max allocation and is shared by the ops of ctx. */
CLCONV_API clconv_status clconv_conv_set_workspace(clconv_conv *op, cl_mem mem, size_t bytes);
/* Tuning, per device. The tuning file lives in $CLCONV_CACHE_DIR, else $XDG_CACHE_HOME/clconv, else
 * $HOME/.cache/clconv, named after a hash of the device, driver and library versions (a change of any starts a new
 * file). It holds CLBlast GEMM parameters, applied with CLBlastOverrideParameters when a context first reads it (they
 * then hold for that device in the whole process: CLBlast keeps them globally), and the faster algorithm per
 * measured convolution shape, which auto follows. Written atomically; when it cannot be written, the results hold
 * for ctx only and clconv_context_tuning says why.
 *
 * clconv_tune: (1) times the gemm algorithm with CLBlast's defaults on each descriptor's shape; (2) searches
 * CLBlast's Xgemm parameters (a grid of legal work-group and vector sizes, in a fixed order, until budget_s runs
 * out) and the size at which CLBlast switches from its direct to its tiled kernel, timing every candidate on every
 * shape and validating its output against the CPU reference first: a wrong candidate is never timed or kept; (3)
 * keeps the best only if it is no slower than the defaults on any shape (within 10% noise); (4) times direct against
 * the final gemm per shape for auto; (5) times the direct algorithm's kernels per shape (tiled with 8, 16 or 32
 * channels x 7, 8 or 10 positions, the wide kernel where it applies, and the built-in choice), each validated, and
 * keeps the fastest for that shape. ctx must be created with ignore_tuning, first in the process to touch CLBlast's
 * parameters for its device (CLBlast cannot restore its defaults once overridden). Takes minutes on a CPU device:
 * every candidate rebuilds CLBlast's kernels. */
typedef struct clconv_tune_options {
  double budget_s; /* time for each search (CLBlast's parameters, then direct kernels); 0 = 120 */
  uint32_t reps;   /* timed runs per shape and candidate (median); 0 = 5 */
} clconv_tune_options;
typedef struct clconv_tune_shape {
  double untuned_ms, tuned_ms;             /* gemm with CLBlast's defaults, gemm as tuned */
  double untuned_sgemm_ms, tuned_sgemm_ms; /* CLBlast's SGEMM alone, within those (no im2col, no epilogue) */
  double direct_ms, direct_tuned_ms;       /* direct with the built-in kernel choice, with the tuned one */
  char direct_kernel[32];                  /* the tuned one, as clconv_conv_kernel names it */
  clconv_conv_algo algo;                   /* auto's choice from now on */
} clconv_tune_shape;
typedef struct clconv_tune_report {
  uint32_t candidates_tried, candidates_wrong; /* CLBlast sets; wrong: output outside tolerance, never kept */
  uint32_t kernels_tried, kernels_wrong;       /* direct kernels, the same */
  bool gemm_tuned;                             /* a parameter set beat the defaults and is in use */
  bool saved;                                  /* written to path; else see clconv_context_tuning */
  char path[1024];
} clconv_tune_report;
/* per_shape (n entries) may be NULL. */
CLCONV_API clconv_status clconv_tune(clconv_context *ctx, const clconv_conv_desc *descs, size_t n,
                                     const clconv_tune_options *options, clconv_tune_shape *per_shape,
                                     clconv_tune_report *report);

/* One-shot: as create + run. The op is kept in ctx's cache of one-shot ops (8 ops of any kind — conv, act, pool,
 * layer — least recently used out, each holding what its op holds), so repeated calls with one descriptor build,
 * choose and allocate nothing again; the weights are packed at every call (they may change). For inference with
 * fixed weights, an op with clconv_conv_set_weights is the plan to keep. The act, pool and layer one-shot calls
 * keep their ops the same way. */
CLCONV_API clconv_status clconv_conv_forward(clconv_context *ctx, const clconv_conv_desc *desc, clconv_tensor *src,
                                             clconv_tensor *weights, clconv_tensor *bias, clconv_tensor *residual,
                                             clconv_tensor *dst);

/* Batch normalisation after a convolution, out = gamma (y - mean) / sqrt(var + eps) + beta per output channel k,
 * folded into the convolution (host arrays in place, computed in double): weights of channel k times
 * s = gamma[k] / sqrt(var[k] + eps), bias[k] = (bias[k] - mean[k]) * s + beta[k]. bias holds K floats (zeros for a
 * convolution that had none; set has_bias after). ERR_INVALID_ARGUMENT naming the channel and its values where
 * var + eps is not positive or a parameter is not finite, with weights and bias untouched. */
CLCONV_API clconv_status clconv_fold_batch_norm(const clconv_conv_desc *d, float *weights, float *bias,
                                                const float *gamma, const float *beta, const float *mean,
                                                const float *var, float eps);

/* ---------------------------------------------------------------------------------------------------------- */
/* Activation on a whole tensor of any shape and element type (src and dst of one type; the op builds a kernel per
 * type it meets); src == dst (in place) is allowed. */
typedef struct clconv_act clconv_act;
CLCONV_API clconv_status clconv_act_create(clconv_context *ctx, const clconv_activation *act, clconv_act **out);
/* src and dst must have the same element count. */
CLCONV_API clconv_status clconv_act_run(clconv_act *op, clconv_tensor *src, clconv_tensor *dst);
CLCONV_API void clconv_act_destroy(clconv_act *op);
CLCONV_API clconv_status clconv_act_forward(clconv_context *ctx, const clconv_activation *act, clconv_tensor *src,
                                            clconv_tensor *dst);

/* ---------------------------------------------------------------------------------------------------------- */
/* Pooling. out = floor-or-ceil((in + pad_before + pad_after - window) / stride) + 1; in ceil mode (PyTorch's rule)
 * the last window is dropped when it would start in the right padding. Padding is never counted by max; average
 * divides by the in-input part of the window, or with count_include_pad by the window clipped to the padded
 * input (padding counts, the part past the right padding does not). Each pad must be < window, so every window
 * holds at least one input element. */
typedef enum clconv_pool_kind { CLCONV_POOL_MAX = 0, CLCONV_POOL_AVG = 1 } clconv_pool_kind;

typedef struct clconv_pool_desc {
  uint32_t ndim;                        /* spatial dims, 1..3; required */
  uint32_t batch;                       /* N; 0 = 1 */
  uint32_t channels;                    /* C; required */
  uint32_t in_size[3];                  /* outermost first; required */
  uint32_t window[3];                   /* required unless global */
  uint32_t stride[3];                   /* 0 = window */
  uint32_t pad_before[3], pad_after[3]; /* 0 = none */
  clconv_pool_kind kind;                /* 0 = max */
  bool count_include_pad;               /* average only */
  bool ceil_mode;
  bool global;        /* window = in_size, stride 1, no padding; window/stride/pad must be 0 */
  clconv_dtype dtype; /* of src and dst; 0 = float32 */
} clconv_pool_desc;

CLCONV_API clconv_status clconv_pool_validate(const clconv_pool_desc *d);
CLCONV_API clconv_status clconv_pool_output_size(const clconv_pool_desc *d, uint32_t out_size[3]);
/* {N, C, spatial...} for src and dst. */
CLCONV_API clconv_status clconv_pool_shapes(const clconv_pool_desc *d, uint32_t src[CLCONV_MAX_DIMS],
                                            uint32_t dst[CLCONV_MAX_DIMS]);

typedef struct clconv_pool clconv_pool;
CLCONV_API clconv_status clconv_pool_create(clconv_context *ctx, const clconv_pool_desc *desc, clconv_pool **out);
CLCONV_API clconv_status clconv_pool_run(clconv_pool *op, clconv_tensor *src, clconv_tensor *dst);
CLCONV_API void clconv_pool_destroy(clconv_pool *op);
CLCONV_API clconv_status clconv_pool_forward(clconv_context *ctx, const clconv_pool_desc *desc, clconv_tensor *src,
                                             clconv_tensor *dst);

/* ---------------------------------------------------------------------------------------------------------- */
/* Layer, as in the notes: convolution -> activation (conv.activation) -> pooling. The pool's ndim, batch,
 * channels, in_size and dtype are taken from the convolution's output and must be 0 or equal to it. An unfused
 * layer keeps the convolution's output in float32 whatever the type: one rounding, at the pooled output. A residual
 * (conv.has_residual) has the convolution's output shape and is added before the activation. */
typedef struct clconv_layer_desc {
  clconv_conv_desc conv;
  clconv_pool_desc pool;
} clconv_layer_desc;

CLCONV_API clconv_status clconv_layer_validate(const clconv_layer_desc *d);
/* src {N,C,...}, weights {K,C/g,...}, dst {N,K,pooled...}. */
CLCONV_API clconv_status clconv_layer_shapes(const clconv_layer_desc *d, uint32_t src[CLCONV_MAX_DIMS],
                                             uint32_t weights[CLCONV_MAX_DIMS], uint32_t dst[CLCONV_MAX_DIMS]);

typedef struct clconv_layer clconv_layer;
/* One launch where the pooling can run inside the convolution's kernel: the CPU kernels (clconv_conv_kernel "wide
 * ..." for few output or input channels at stride 1 along W, "tiled ..." for the others) with pooling windows that
 * tile the conv output without overlap or padding, 1 deep, and as wide as divides the kernel's outputs along W per
 * work-item (wide: 1, 2, 4, 8 or 16; tiled: a divisor of one of its 3 to 10 positions); LeNet's max 2x2/2, VGG's,
 * M5's 1-D 4/4, say. The pooled outputs are computed in registers and no intermediate tensor is made. Otherwise
 * two launches: the convolution with its activation fused into a tensor the layer owns, then the pooling. */
CLCONV_API clconv_status clconv_layer_create(clconv_context *ctx, const clconv_layer_desc *desc, clconv_layer **out);
/* weights = NULL (and bias = NULL) runs with those given to clconv_layer_set_weights, as clconv_conv_run does. */
CLCONV_API clconv_status clconv_layer_run(clconv_layer *op, clconv_tensor *src, clconv_tensor *weights,
                                          clconv_tensor *bias, clconv_tensor *residual, clconv_tensor *dst);
/* For inference: the convolution's weights (and bias) packed once, as clconv_conv_set_weights. */
CLCONV_API clconv_status clconv_layer_set_weights(clconv_layer *op, clconv_tensor *weights, clconv_tensor *bias);
CLCONV_API void clconv_layer_destroy(clconv_layer *op);
/* The convolution kernel op runs (clconv_conv_kernel), "+pool" appended when the pooling runs inside it:
 * "wide 6x16+pool". "" for NULL. */
CLCONV_API const char *clconv_layer_kernel(const clconv_layer *op);
CLCONV_API clconv_status clconv_layer_forward(clconv_context *ctx, const clconv_layer_desc *desc, clconv_tensor *src,
                                              clconv_tensor *weights, clconv_tensor *bias, clconv_tensor *residual,
                                              clconv_tensor *dst);

/* ---------------------------------------------------------------------------------------------------------- */
/* CPU reference, plain C on host arrays in the layouts above, accumulating in double and rounding once, to the
 * descriptor's dtype (the arrays are float; for a 16-bit type they hold values of that type: the inputs as stored,
 * exact in float, and dst rounded to nearest even in it, out of range to inf). The layer rounds its convolution to
 * float32 first, as the device keeps it.
 * mag (optional, NULL to skip, same length as dst) receives the error scale used by clconv_compare:
 *   conv:  S = sum |x*w| + |b| + |beta*z| (before the activation; z the residual, NULL unless has_residual)
 *   pool:  max: 0; avg: sum |x| / divisor
 *   layer: pooled (max over the window) of L*S of the convolution, plus for avg the pooling's own term.
 * Errors (ERR_INVALID_ARGUMENT, ERR_SIZE_OVERFLOW, ERR_OUT_OF_MEMORY) go to clconv_last_error(NULL). */
CLCONV_API clconv_status clconv_ref_conv(const clconv_conv_desc *d, const float *src, const float *weights,
                                         const float *bias, const float *residual, float *dst, float *mag);
CLCONV_API clconv_status clconv_ref_act(const clconv_activation *act, clconv_dtype dtype, const float *src, float *dst,
                                        size_t count);
CLCONV_API clconv_status clconv_ref_pool(const clconv_pool_desc *d, const float *src, float *dst, float *mag);
CLCONV_API clconv_status clconv_ref_layer(const clconv_layer_desc *d, const float *src, const float *weights,
                                          const float *bias, const float *residual, float *dst, float *mag);

/* Per-element tolerance, with u = 2^-24 and r the reference:
 *   |got - r| <= u * (rel_factor*|r| + min(K, 8*sqrt(K)) * lipschitz * mag) + 2^-126 + out
 * The first term covers the final float32 rounding and the activation, the second Higham's bound for a K-term dot
 * product (proven for K <= 64) or the sqrt(K) random-walk bound with margin above that. out is the output type's
 * rounding, done by both sides (the device rounds its float32 result, the reference its exact one: they may land
 * on neighbouring values): 0 for float32, 2 * (2^-11 |r| + 2^-25) for float16 (half an ulp relative, half the
 * smallest subnormal), 2 * 2^-8 |r| for bfloat16. Non-finite values must match in class (NaN, +inf, -inf). */
typedef struct clconv_tolerance {
  uint64_t reduction_len; /* K: C/groups * kernel volume, window volume for pooling, 0 for activations */
  double lipschitz;       /* L of the activation applied after the reduction; 0 = 1 */
  double rel_factor;      /* c: 4 for relu-like ops and pooling, 32 for the curved ones (sigmoid, ...); 0 = 4 */
  clconv_dtype dtype;     /* the output's type (the descriptor's; activations: set it to the tensors') */
} clconv_tolerance;

CLCONV_API clconv_status clconv_conv_tolerance(const clconv_conv_desc *d, clconv_tolerance *tol);
CLCONV_API clconv_status clconv_pool_tolerance(const clconv_pool_desc *d, clconv_tolerance *tol);
CLCONV_API clconv_status clconv_act_tolerance(const clconv_activation *act, clconv_tolerance *tol);
CLCONV_API clconv_status clconv_layer_tolerance(const clconv_layer_desc *d, clconv_tolerance *tol);
CLCONV_API double clconv_act_lipschitz(const clconv_activation *act);

typedef struct clconv_compare_result {
  double max_abs_err;    /* over finite pairs */
  double max_rel_err;    /* |got - r| / |r| over finite pairs with r != 0 */
  size_t worst_index;    /* element with the largest error relative to its tolerance */
  double worst_ratio;    /* that error / its tolerance; <= 1 everywhere means pass */
  size_t mismatches;     /* elements over tolerance or with a different non-finite class */
  size_t first_mismatch; /* index of the first, or count when none */
} clconv_compare_result;

/* Compares got with ref element by element; mag may be NULL (treated as 0), tol NULL means exact equality.
 * Returns CLCONV_OK whether or not they match: read res->mismatches. */
CLCONV_API clconv_status clconv_compare(const float *got, const float *ref, const float *mag, size_t count,
                                        const clconv_tolerance *tol, clconv_compare_result *res);

#ifdef __cplusplus
}
#endif
#endif /* CLCONV_H */
