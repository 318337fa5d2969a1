/* kernels/common.cl: prepended to every family's source: the output index and the detector stage.
 *
 * ACT selects f (the clconv_act_kind values); alpha and beta are kernel arguments so that changing them builds
 * nothing. Strict IEEE math only (no native_ or half_ functions): results are checked against a double
 * reference. Comparisons are written so that NaN propagates, as the reference does. */
#ifndef ACT
#define ACT 0
#endif
#if ACT < 0 || ACT > 8
#error "ACT must be 0..8 (clconv_act_kind)"
#endif

inline float clconv_activate(float x, float alpha, float beta) {
#if ACT == 0 /* identity */
  return x;
#elif ACT == 1 /* relu */
  return x < 0.0f ? 0.0f : x;
#elif ACT == 2 /* leaky_relu */
  return x < 0.0f ? alpha * x : x;
#elif ACT == 3 /* elu: expm1 keeps full relative accuracy near 0 where exp(x) - 1 cancels */
  return x < 0.0f ? alpha * expm1(x) : x;
#elif ACT == 4 /* relu6 */
  return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
#elif ACT == 5 /* clip to [alpha, beta] */
  return x < alpha ? alpha : (x > beta ? beta : x);
#elif ACT == 6 /* sigmoid: never exp of a large positive number */
  if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
  const float e = exp(x);
  return e / (1.0f + e);
#elif ACT == 7 /* tanh */
  return tanh(x);
#else /* softplus: max(x, 0) + log1p(exp(-|x|)) neither overflows nor loses the small tail */
  return (x > 0.0f ? x : 0.0f) + log1p(exp(-fabs(x)));
#endif
}

/* Splits a flat output index over (outer, D, H, W) with extents osz = (D, H, W): returns (d, h, w, outer). */
inline int4 clconv_unflatten(int i, int4 osz) {
  const int w = i % osz.z;
  i /= osz.z;
  const int h = i % osz.y;
  i /= osz.y;
  return (int4)(i % osz.x, h, w, i / osz.x);
}
