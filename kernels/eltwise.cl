/* kernels/eltwise.cl: an activation over a whole tensor; ACT as in common.cl. src may equal dst (in place),
 * so neither pointer is restrict. */
__kernel void clconv_act(__global const float *src, __global float *dst, const float alpha, const float beta,
                         const int total) {
  const int gid = (int)get_global_id(0);
  if (gid < total) dst[gid] = clconv_activate(src[gid], alpha, beta);
}
