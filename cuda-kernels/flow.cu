// CUDA implementation of mforce/flow.h: the shared per-element ops (mforce/detail/flow_ops.h)
// on the CUDA driver. All are memory-bound: one pass, 16-byte vector accesses.
#include "elementwise.cuh"
#include "mforce/flow.h"
#include "mforce/detail/flow_ops.h"
#include "mforce/detail/check.h"

using namespace mforce;
using mforce::cuda::launch_rows;
using mforce::cuda::row_reduce;
using mforce::cuda::Scratch;

namespace {

__device__ float mse_grad_coef(const float* weight, int64_t b, int64_t n, float grad_scale) {  // 2·w·scale/n
  float w = weight ? weight[b] : 1.f;
  return n > 0 ? grad_scale * w * 2.f * (1.f / static_cast<float>(n)) : 0.f;
}

// The squared difference, and (when grad is set) the gradient written in the same pass: its
// per-row coefficient does not depend on the sum, so MSE reads pred and target once.
template <typename T>
struct SquaredDiffAndGrad {
  const T* pred; const T* target; int64_t n; const float* weight; float grad_scale; T* grad;
  __device__ double operator()(int64_t i) const {
    float d = to_float(pred[i]) - to_float(target[i]);
    if (grad) grad[i] = from_float<T>(mse_grad_coef(weight, i / n, n, grad_scale) * d);
    return static_cast<double>(d) * d;
  }
};

template <typename T>
struct AbsDiff {
  const T* a; const T* b;
  __device__ float operator()(int64_t i) const { return fabsf(to_float(a[i]) - to_float(b[i])); }
};

struct MseFinish {  // loss[b] = w·sum/n
  const float* weight; int64_t n; float* loss;
  __device__ void operator()(int64_t b, double sum) const {
    double w = weight ? weight[b] : 1.0;
    loss[b] = n > 0 ? static_cast<float>(w * sum / static_cast<double>(n)) : 0.f;
  }
};

struct DmdScaleFinish {  // scale[b] = 1 / (mean|few - real| + 1e-6)
  int64_t n; float* scale;
  __device__ void operator()(int64_t b, double sum) const {
    scale[b] = static_cast<float>(1.0 / (sum / static_cast<double>(n > 0 ? n : 1) + 1e-6));
  }
};

}  // namespace

extern "C" {

mf_status mfcuda_flow_noise(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                            const void* x, const void* z, void* x_t, void* v) {
  return with_float_dtype(dtype, "flow_noise", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_noise", stream, flow::Noise<T>{t, (const T*)x, (const T*)z, (T*)x_t, (T*)v},
                          batch, n, {x, z, x_t, v});
  });
}

mf_status mfcuda_flow_euler(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                            const float* t2, const void* x, const void* v, void* out) {
  return with_float_dtype(dtype, "flow_euler", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_euler", stream, flow::Euler<T>{t1, t2, (const T*)x, (const T*)v, (T*)out}, batch,
                          n, {x, v, out});
  });
}

mf_status mfcuda_flow_x0(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t,
                         const void* x_t, const void* v, void* x0) {
  return with_float_dtype(dtype, "flow_x0", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_x0", stream, flow::X0<T>{t, (const T*)x_t, (const T*)v, (T*)x0}, batch, n,
                          {x_t, v, x0});
  });
}

mf_status mfcuda_flow_renoise(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* tau,
                              const void* x0, const void* eps, void* out) {
  return with_float_dtype(dtype, "flow_renoise", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_renoise", stream, flow::Renoise<T>{tau, (const T*)x0, (const T*)eps, (T*)out},
                          batch, n, {x0, eps, out});
  });
}

mf_status mfcuda_flow_cfg(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, float w,
                          const void* v_u, const void* v_c, void* out) {
  return with_float_dtype(dtype, "flow_cfg", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_cfg", stream, flow::Cfg<T>{w, (const T*)v_u, (const T*)v_c, (T*)out}, batch, n,
                          {v_u, v_c, out});
  });
}

mf_status mfcuda_flow_mse(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* weight,
                          const void* pred, const void* target, float grad_scale, float* loss, void* grad) {
  return with_float_dtype(dtype, "flow_mse", [&](auto tag) {
    using T = decltype(tag);
    return row_reduce("flow_mse", stream,
                      SquaredDiffAndGrad<T>{(const T*)pred, (const T*)target, n, weight, grad_scale, (T*)grad}, batch,
                      n, MseFinish{weight, n, loss});
  });
}

mf_status mfcuda_flow_dmd_target(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                                 const void* x0_few, const void* x0_fake, const void* x0_real, int32_t normalize,
                                 void* out) {
  return with_float_dtype(dtype, "flow_dmd_target", [&](auto tag) -> mf_status {
    using T = decltype(tag);
    Scratch scale(stream);  // [batch] per-row normalizers, or none
    if (normalize) {
      if (mf_status st = scale.allocate("flow_dmd_target", sizeof(float) * batch)) return st;
      if (mf_status st = row_reduce("flow_dmd_target", stream, AbsDiff<T>{(const T*)x0_few, (const T*)x0_real}, batch,
                                    n, DmdScaleFinish{n, scale.as<float>()}))
        return st;
    }
    return launch_rows<T>("flow_dmd_target", stream,
                          flow::DmdTarget<T>{(const T*)x0_few, (const T*)x0_fake, (const T*)x0_real,
                                             scale.as<float>(), (T*)out},
                          batch, n, {x0_few, x0_fake, x0_real, out});
  });
}

mf_status mfcuda_flow_shortcut_target(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                                      const float* t1, const float* tm, const float* t2, const void* v1,
                                      const void* v2, void* out) {
  return with_float_dtype(dtype, "flow_shortcut_target", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_shortcut_target", stream,
                          flow::ShortcutTarget<T>{t1, tm, t2, (const T*)v1, (const T*)v2, (T*)out}, batch, n,
                          {v1, v2, out});
  });
}

mf_status mfcuda_flow_noise_philox(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                                   const float* t, const void* x, uint64_t seed, uint64_t offset, void* z_out,
                                   void* x_t, void* v) {
  return with_float_dtype(dtype, "flow_noise_philox", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_noise_philox", stream,
                          flow::NoisePhilox<T>{t, (const T*)x, seed, offset, (T*)z_out, (T*)x_t, (T*)v}, batch, n,
                          {x, z_out, x_t, v});
  });
}

mf_status mfcuda_flow_cfg_euler(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n, const float* t1,
                                const float* t2, float w, const void* x, const void* v_u, const void* v_c,
                                void* out) {
  return with_float_dtype(dtype, "flow_cfg_euler", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_cfg_euler", stream,
                          flow::CfgEuler<T>{t1, t2, w, (const T*)x, (const T*)v_u, (const T*)v_c, (T*)out}, batch, n,
                          {x, v_u, v_c, out});
  });
}

mf_status mfcuda_flow_dmd_renoise(mf_device, void* stream, mf_dtype dtype, int64_t batch, int64_t n,
                                  const float* t1, const float* tau, const void* x_t1, const void* v_few,
                                  uint64_t seed, uint64_t offset, void* x0_out, void* x_tau) {
  return with_float_dtype(dtype, "flow_dmd_renoise", [&](auto tag) {
    using T = decltype(tag);
    return launch_rows<T>("flow_dmd_renoise", stream,
                          flow::DmdRenoise<T>{t1, tau, (const T*)x_t1, (const T*)v_few, seed, offset, (T*)x0_out,
                                              (T*)x_tau},
                          batch, n, {x_t1, v_few, x0_out, x_tau});
  });
}

}  // extern "C"
