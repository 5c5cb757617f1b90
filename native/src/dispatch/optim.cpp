// Entry points of mforce/optim.h: the checks both backends share, then the backend.
#include "mforce/optim.h"

#include <cmath>

#include "cuda_library.h"
#include "mforce/detail/check.h"

extern "C" {

mf_status mf_adamw_step(mf_device dev, void* stream, int64_t n, float* param, const float* grad, float* m, float* v,
                        float lr, float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
                        float bias_correction2, const float* grad_scale, void* working) {
  const char* k = "adamw_step";
  MF_REQUIRE(n >= 0, "%s: negative size %lld", k, (long long)n);
  MF_REQUIRE(std::isfinite(lr) && lr >= 0.0f, "%s: learning rate %g must be finite and >= 0", k, (double)lr);
  MF_REQUIRE(beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f && beta2 < 1.0f, "%s: betas (%g, %g) must be in [0, 1)",
             k, (double)beta1, (double)beta2);
  MF_REQUIRE(eps > 0.0f, "%s: eps %g must be positive", k, (double)eps);
  MF_REQUIRE(std::isfinite(weight_decay) && weight_decay >= 0.0f, "%s: weight decay %g must be finite and >= 0", k,
             (double)weight_decay);
  MF_REQUIRE(bias_correction1 > 0.0f && bias_correction1 <= 1.0f && bias_correction2 > 0.0f &&
                 bias_correction2 <= 1.0f,
             "%s: bias corrections (%g, %g) must be in (0, 1]", k, (double)bias_correction1, (double)bias_correction2);
  if (n > 0) { MF_REQUIRE_PTR(param, k); MF_REQUIRE_PTR(grad, k); MF_REQUIRE_PTR(m, k); MF_REQUIRE_PTR(v, k); }
  MF_ROUTE(adamw_step, dev, dev, stream, n, param, grad, m, v, lr, beta1, beta2, eps, weight_decay, bias_correction1,
           bias_correction2, grad_scale, working);
}

mf_status mf_norm_partials(mf_device dev, void* stream, int64_t n, const float* x, float* partials) {
  MF_REQUIRE(n >= 0, "norm_partials: negative size %lld", (long long)n);
  MF_REQUIRE(n == 0 || x, "norm_partials: argument 'x' is null");
  MF_REQUIRE_PTR(partials, "norm_partials");
  MF_ROUTE(norm_partials, dev, dev, stream, n, x, partials);
}

mf_status mf_clip_factor(mf_device dev, void* stream, int64_t count, const float* partials, float max_norm,
                         float* norm, float* factor) {
  const char* k = "clip_factor";
  MF_REQUIRE(count >= 0, "%s: negative count %lld", k, (long long)count);
  MF_REQUIRE(count == 0 || partials, "%s: argument 'partials' is null", k);
  MF_REQUIRE(std::isfinite(max_norm), "%s: max_norm %g must be finite", k, (double)max_norm);
  MF_REQUIRE_PTR(norm, k); MF_REQUIRE_PTR(factor, k);
  MF_ROUTE(clip_factor, dev, dev, stream, count, partials, max_norm, norm, factor);
}

mf_status mf_ema_update(mf_device dev, void* stream, int64_t n, float* ema, const float* w, float decay) {
  const char* k = "ema_update";
  MF_REQUIRE(n >= 0, "%s: negative size %lld", k, (long long)n);
  MF_REQUIRE(decay >= 0.0f && decay <= 1.0f, "%s: decay %g must be in [0, 1]", k, (double)decay);
  if (n > 0) { MF_REQUIRE_PTR(ema, k); MF_REQUIRE_PTR(w, k); }
  MF_ROUTE(ema_update, dev, dev, stream, n, ema, w, decay);
}

}  // extern "C"
