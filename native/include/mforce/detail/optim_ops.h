/* The per-element math of the optimizer kernels (mforce/optim.h), compiled into both
 * libmforce_cpu and libmforce_cuda: elementwise ops over a flat [1, n] problem. */
#ifndef MFORCE_DETAIL_OPTIM_OPS_H
#define MFORCE_DETAIL_OPTIM_OPS_H

#include "mforce/detail/elementwise.h"

namespace mforce {
namespace optim {

struct AdamW {
  float* param; const float* grad; float* m; float* v;
  float beta1; float beta2; float eps; float decay_factor;  // decay_factor = 1 - lr·weight_decay
  float step_size; float sqrt_bc2;                          // lr / bias_correction1, sqrt(bias_correction2)
  const float* grad_scale; bf16* working;
  template <int K> MF_HD void operator()(int64_t, int64_t i) const {
    float p[K], g[K], ms[K], vs[K];
    load<K>(param, i, p);
    load<K>(grad, i, g);
    load<K>(m, i, ms);
    load<K>(v, i, vs);
    float s = grad_scale ? *grad_scale : 1.0f;
MF_UNROLL
    for (int k = 0; k < K; ++k) {
      float gk = g[k] * s;
      ms[k] = beta1 * ms[k] + (1.0f - beta1) * gk;
      vs[k] = beta2 * vs[k] + (1.0f - beta2) * (gk * gk);
      float denom = sqrtf(vs[k]) / sqrt_bc2 + eps;
      p[k] = p[k] * decay_factor - step_size * (ms[k] / denom);
    }
    store<K>(param, i, p);
    store<K>(m, i, ms);
    store<K>(v, i, vs);
    if (working) store<K>(working, i, p);
  }
};

struct Ema {  // ema = decay·ema + (1 - decay)·w
  float* ema; const float* w; float decay;
  template <int K> MF_HD void operator()(int64_t, int64_t i) const {
    float e[K], ws[K];
    load<K>(ema, i, e);
    load<K>(w, i, ws);
MF_UNROLL
    for (int k = 0; k < K; ++k) e[k] = decay * e[k] + (1.0f - decay) * ws[k];
    store<K>(ema, i, e);
  }
};

/* Slice j of the partial norms covers [j·c, min(n, (j+1)·c)), c = ceil(n / slices). */
MF_HD int64_t norm_slice(int64_t n, int64_t slices) { return (n + slices - 1) / slices; }

/* The clipping multiplier for a gradient of L2 norm `norm` (double: it may exceed the float
 * range; see mforce/optim.h). */
MF_HD float clip_multiplier(double norm, float max_norm) {
  const bool finite = norm < INFINITY;  // false for +inf and NaN
  return max_norm > 0.0f && finite && norm > max_norm ? static_cast<float>(max_norm / (norm + 1e-6)) : 1.0f;
}

}  // namespace optim
}  // namespace mforce
#endif
