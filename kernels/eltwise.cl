/* kernels/eltwise.cl: an activation over a whole tensor; ACT picks it (its code is prepended to the program,
 * activation.c). Each work-item does 16 consecutive elements with whole-vector loads and stores (one element per
 * work-item ran at a quarter of the speed on PoCL); the last one also does the tail past the last whole vector. src
 * may equal dst (in place: a work-item reads its elements before it writes them), so neither pointer is restrict.
 * i0 is below total + 16 * 32768 (the range rounded up to a work-group, or to a row of CLCONV__FLAT_ROW work-items
 * when folded), within int: the host keeps tensors 2^20 elements below 2^31. */
__kernel void clconv_act(__global const XT *src, __global YT *dst, const float alpha, const float beta,
                         const int total) {
  const int i0 = clconv_flat_id() * 16;
  if (i0 + 16 <= total) {
    STYV(16, clconv_activate16(LDXV(16, src + i0), alpha, beta), dst + i0);
  } else {
    for (int i = i0; i < total; i++) STY(dst + i, clconv_activate(LDX(src + i), alpha, beta));
  }
}
