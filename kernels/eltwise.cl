/* kernels/eltwise.cl: an activation over a whole tensor; ACT picks it (its code is prepended to the program,
 * activation.c). Each work-item does `per` runs of 16 consecutive elements with whole-vector loads and stores (one
 * element per work-item ran at a quarter of the speed on PoCL, and on a CPU several runs per work-item save PoCL's
 * per-work-item and per-work-group costs: eltwise.c); the last one also does the tail past the last whole vector.
 * src may equal dst (in place: a work-item reads its elements before it writes them), so neither pointer is
 * restrict. Work-items past the last run return before any index is formed, so i0 stays below total + 16 * per,
 * within int: the host keeps tensors 2^20 elements below 2^31. */
__kernel void clconv_act(__global const XT *src, __global YT *dst, const float alpha, const float beta,
                         const int total, const int per) {
  const int id = clconv_flat_id();
  if (id >= (total + 16 * per - 1) / (16 * per)) return;
  for (int i0 = id * 16 * per, end = min(i0 + 16 * per, total); i0 < end; i0 += 16) {
    if (i0 + 16 <= total) {
      STYV(16, clconv_activate16(LDXV(16, src + i0), alpha, beta), dst + i0);
    } else {
      for (int i = i0; i < total; i++) STY(dst + i, clconv_activate(LDX(src + i), alpha, beta));
    }
  }
}
