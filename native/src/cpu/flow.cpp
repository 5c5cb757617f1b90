// CPU implementation of mforce/flow.h: the shared per-element ops run by the CPU driver.
#include "mforce/flow.h"

#include <cmath>
#include <vector>

#include "mforce/detail/check.h"
#include "elementwise.h"
#include "mforce/detail/flow_ops.h"

using namespace mforce;
using mforce::cpu::row_sums;
using mforce::cpu::run_rows;

extern "C" {

mf_status mfcpu_flow_noise(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                           const void* x, const void* z, void* x_t, void* v) {
  return with_float_dtype(dtype, "flow_noise", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::Noise<T>{t, (const T*)x, (const T*)z, (T*)x_t, (T*)v}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_euler(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                           const float* t2, const void* x, const void* v, void* out) {
  return with_float_dtype(dtype, "flow_euler", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::Euler<T>{t1, t2, (const T*)x, (const T*)v, (T*)out}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_x0(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                        const void* x_t, const void* v, void* x0) {
  return with_float_dtype(dtype, "flow_x0", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::X0<T>{t, (const T*)x_t, (const T*)v, (T*)x0}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_renoise(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* tau,
                             const void* x0, const void* eps, void* out) {
  return with_float_dtype(dtype, "flow_renoise", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::Renoise<T>{tau, (const T*)x0, (const T*)eps, (T*)out}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_cfg(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, float w, const void* v_u,
                         const void* v_c, void* out) {
  return with_float_dtype(dtype, "flow_cfg", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::Cfg<T>{w, (const T*)v_u, (const T*)v_c, (T*)out}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_mse(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* weight,
                         const void* pred, const void* target, float grad_scale, float* loss, void* grad) {
  return with_float_dtype(dtype, "flow_mse", [&](auto tag) {
    using T = decltype(tag);
    const T* p = (const T*)pred;
    const T* q = (const T*)target;
    std::vector<double> sums(static_cast<size_t>(batch));
    row_sums([&](int64_t i) {
      double d = (double)to_float(p[i]) - (double)to_float(q[i]);
      return d * d;
    }, batch, n, sums.data());
    std::vector<float> coef(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) {
      double w = weight ? weight[b] : 1.0;
      loss[b] = n > 0 ? (float)(w * sums[b] / (double)n) : 0.0f;
      coef[b] = n > 0 ? (float)(grad_scale * w * 2.0 / (double)n) : 0.0f;
    }
    if (grad) run_rows(flow::MseGrad<T>{p, q, coef.data(), (T*)grad}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_dmd_target(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const void* x0_few,
                                const void* x0_fake, const void* x0_real, int32_t normalize, void* out) {
  return with_float_dtype(dtype, "flow_dmd_target", [&](auto tag) {
    using T = decltype(tag);
    const T* few = (const T*)x0_few;
    const T* real = (const T*)x0_real;
    std::vector<float> scale;
    if (normalize) {
      std::vector<double> sums(static_cast<size_t>(batch));
      row_sums([&](int64_t i) { return std::fabs((double)to_float(few[i]) - (double)to_float(real[i])); },
               batch, n, sums.data());
      scale.resize(static_cast<size_t>(batch));
      for (int64_t b = 0; b < batch; ++b) scale[b] = (float)(1.0 / (sums[b] / (double)std::max<int64_t>(1, n) + 1e-6));
    }
    run_rows(flow::DmdTarget<T>{few, (const T*)x0_fake, real, normalize ? scale.data() : nullptr, (T*)out},
             batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_shortcut_target(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n,
                                     const float* t1, const float* tm, const float* t2, const void* v1,
                                     const void* v2, void* out) {
  return with_float_dtype(dtype, "flow_shortcut_target", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::ShortcutTarget<T>{t1, tm, t2, (const T*)v1, (const T*)v2, (T*)out}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_noise_philox(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                                  const void* x, uint64_t seed, uint64_t offset, void* z_out, void* x_t,
                                  void* v) {
  return with_float_dtype(dtype, "flow_noise_philox", [&](auto tag) {
    using T = decltype(tag);
    run_rows<true>(flow::NoisePhilox<T>{t, (const T*)x, seed, offset, (T*)z_out, (T*)x_t, (T*)v}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_cfg_euler(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                               const float* t2, float w, const void* x, const void* v_u, const void* v_c,
                               void* out) {
  return with_float_dtype(dtype, "flow_cfg_euler", [&](auto tag) {
    using T = decltype(tag);
    run_rows(flow::CfgEuler<T>{t1, t2, w, (const T*)x, (const T*)v_u, (const T*)v_c, (T*)out}, batch, n);
    return MF_OK;
  });
}

mf_status mfcpu_flow_dmd_renoise(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                                 const float* tau, const void* x_t1, const void* v_few, uint64_t seed,
                                 uint64_t offset, void* x0_out, void* x_tau) {
  return with_float_dtype(dtype, "flow_dmd_renoise", [&](auto tag) {
    using T = decltype(tag);
    run_rows<true>(flow::DmdRenoise<T>{t1, tau, (const T*)x_t1, (const T*)v_few, seed, offset, (T*)x0_out, (T*)x_tau},
             batch, n);
    return MF_OK;
  });
}

}  // extern "C"
