/* kernels/pack.cl: the weights (as floats), and the wide kernel's padded input (in the input's type), in the
 * layouts the convolution kernels read, made on the device. No compile-time options but the storage type DT: one
 * program per type serves every shape and kernel variant (each distinct program is a compilation, and PoCL
 * compiles each kernel once more per work-group shape). */

/* Packs weights K C/G kd kh kw into [G][blocks][taps][C/G][kt] (see clconv_conv_tiled), mirroring the taps for
 * convolution (flip != 0) and writing zeros for the channels past K/G in the last block. One work-item per
 * (block, tap, channel) writes its kt values; total = G * blocks * taps * C/G. */
__kernel void clconv_conv_pack(__global const XT *restrict wei, __global float *restrict wpack, const int kt,
                               const int cin_g, const int cout_g, const int kvol, const int flip,
                               const int total) {
  const int i = clconv_flat_id();
  if (i >= total) return;
  const int c = i % cin_g, tap = (i / cin_g) % kvol, gb = i / (cin_g * kvol);
  const int blocks = (cout_g + kt - 1) / kt, g = gb / blocks, k0 = (gb % blocks) * kt;
  const int src_tap = flip ? kvol - 1 - tap : tap; /* mirroring every axis = reversing the flattened taps */
  __global const XT *w = wei + ((g * cout_g + k0) * cin_g + c) * kvol + src_tap;
  __global float *out = wpack + i * kt;
  for (int t = 0; t < kt; t++) out[t] = k0 + t < cout_g ? LDX(w + t * cin_g * kvol) : 0.0f;
}

/* The weights wei [G][N][T] (OIHW as it is) packed as [copies][tp][np] at the start of ws, copy c being group
 * c % G's; zeros past T and past N. Range: (np, tp, copies). */
__kernel void clconv_gemm_weights(__global const XT *restrict wei, __global float *restrict ws, const int groups,
                                  const int t, const int n, const int tp, const int np) {
  const int j = (int)get_global_id(0), r = (int)get_global_id(1), c = (int)get_global_id(2);
  if (j < np && r < tp)
    ws[(c * tp + r) * np + j] = j < n && r < t ? LDX(wei + ((c % groups) * n + j) * t + r) : 0.0f;
}

/* The input of clconv_conv_wide zero-padded: each image and channel of src (isz) shifted by pad along each axis into
 * psz, zeros around it, so that every window, and every 16-lane vector the kernel loads, lies inside a row of the
 * copy (conv.c: the copy's rows are as long as the work-items' vectors reach) and the kernel's edge paths never
 * run. A work-item writes 16 floats of one row. Range: (psz.x * psz.y rows x ceil(psz.z / 16) tiles
 * (clconv_tile_row), 1, N * C). */
__kernel void clconv_conv_pad(__global const XT *restrict src, __global YT *restrict dst, const int4 isz,
                              const int4 psz, const int4 pad) {
  const int2 tr = clconv_tile_row((int)get_global_id(0), (psz.z + 15) / 16);
  const int j0 = 16 * tr.x, dh = tr.y, nc = (int)get_global_id(2);
  if (j0 >= psz.z || dh >= psz.x * psz.y) return;
  const int d = dh / psz.y - pad.x, h = dh % psz.y - pad.y, plane = isz.x * isz.y * isz.z,
            rowoff = (d * isz.y + h) * isz.z, iw = j0 - pad.z;
  float16 v = (float16)(0.0f);
  if (d >= 0 && d < isz.x && h >= 0 && h < isz.y)
    v = clconv_edge16(src + nc * plane + rowoff, rowoff, plane, iw, 1, isz.z, clconv_lanes16(iw, 1, isz.z));
  clconv_store16(dst + (nc * psz.x * psz.y + dh) * psz.z + j0, v, min(16, psz.z - j0));
}
