/* bench/peak.cl: the device's own ceilings, measured in the same run as the cases.
 * peak_fma: 8 independent fma chains on vectors of W floats per work-item (W from -DW=1|4|8|16; the bench keeps
 * the fastest), converging to 1 so no value overflows or goes subnormal. FLOP = global * iters * 8 * W * 2.
 * peak_copy: float4 copy; bytes moved = 2 * buffer size. */
#ifndef W
#define W 1
#endif
#if W == 1
#define VT float
#else
#define VT_(w) float##w
#define VT_X(w) VT_(w)
#define VT VT_X(W)
#endif

__kernel void peak_fma(__global VT *out, const int iters, const float a, const float b) {
  const int gid = (int)get_global_id(0);
  VT x0 = (VT)((float)gid * 1e-9f), x1 = x0 + 0.125f, x2 = x0 + 0.25f, x3 = x0 + 0.375f, x4 = x0 + 0.5f,
     x5 = x0 + 0.625f, x6 = x0 + 0.75f, x7 = x0 + 0.875f;
  for (int i = 0; i < iters; i++) {
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x3 = fma(x3, a, b);
    x4 = fma(x4, a, b);
    x5 = fma(x5, a, b);
    x6 = fma(x6, a, b);
    x7 = fma(x7, a, b);
  }
  out[gid] = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
}

__kernel void peak_copy(__global const float4 *restrict src, __global float4 *restrict dst) {
  const size_t i = get_global_id(0);
  dst[i] = src[i];
}
