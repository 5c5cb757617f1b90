// CPU implementation of mforce/optim.h: the shared per-element ops on the CPU driver; the
// partial norms and their sum are computed in double.
#include "mforce/optim.h"

#include <cmath>

#include "elementwise.h"
#include "mforce/detail/check.h"
#include "mforce/detail/optim_ops.h"

using namespace mforce;
using mforce::cpu::run_rows;

extern "C" {

mf_status mfcpu_adamw_step(mf_device, void*, int64_t n, float* param, const float* grad, float* m, float* v,
                           float lr, float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
                           float bias_correction2, const float* grad_scale, void* working) {
  run_rows(optim::AdamW{param, grad, m, v, beta1, beta2, eps, 1.0f - lr * weight_decay, lr / bias_correction1,
                        sqrtf(bias_correction2), grad_scale, static_cast<bf16*>(working)},
           1, n);
  return MF_OK;
}

mf_status mfcpu_norm_partials(mf_device, void*, int64_t n, const float* x, float* partials) {
  const int64_t slice = optim::norm_slice(n, MF_NORM_PARTIALS);
  cpu::parallel_for(MF_NORM_PARTIALS, 1, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      double s = 0.0;
      for (int64_t i = j * slice; i < std::min(n, (j + 1) * slice); ++i) s += static_cast<double>(x[i]) * x[i];
      partials[j] = static_cast<float>(std::sqrt(s));
    }
  });
  return MF_OK;
}

mf_status mfcpu_clip_factor(mf_device, void*, int64_t count, const float* partials, float max_norm, float* norm,
                            float* factor) {
  double s = 0.0;
  for (int64_t j = 0; j < count; ++j) s += static_cast<double>(partials[j]) * partials[j];
  const double nd = std::sqrt(s);
  *norm = static_cast<float>(nd);
  *factor = optim::clip_multiplier(nd, max_norm);
  return MF_OK;
}

mf_status mfcpu_ema_update(mf_device, void*, int64_t n, float* ema, const float* w, float decay) {
  run_rows(optim::Ema{ema, w, decay}, 1, n);
  return MF_OK;
}

}  // extern "C"
