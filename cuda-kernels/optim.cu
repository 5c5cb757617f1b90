// CUDA implementation of mforce/optim.h. AdamW and EMA are the shared per-element ops
// (mforce/detail/optim_ops.h) on the elementwise driver; the global norm is two fixed-order
// passes in double: one block per slice of each buffer, then one thread over all partial norms.
#include "elementwise.cuh"
#include "mforce/detail/check.h"
#include "mforce/detail/optim_ops.h"
#include "mforce/optim.h"
#include "reduce.cuh"

using namespace mforce;
using namespace mforce::cuda;

namespace {

constexpr int kNormThreads = 256;

// In double, as on the CPU: an fp32 square overflows from |x| ~ 1.8e19 on. The pass reads
// memory at one double multiply-add per 4 bytes, far below an H100's fp64 rate.
__global__ void __launch_bounds__(kNormThreads) norm_partials_kernel(int64_t n, const float* x, float* partials) {
  const int64_t slice = optim::norm_slice(n, MF_NORM_PARTIALS);
  const int64_t lo = blockIdx.x * slice, hi = min(n, lo + slice);
  double s = 0.0;
  for (int64_t i = lo + threadIdx.x; i < hi; i += kNormThreads) s += static_cast<double>(x[i]) * x[i];
  s = block_sum<kNormThreads>(s);
  if (threadIdx.x == 0) partials[blockIdx.x] = static_cast<float>(sqrt(s));
}

__global__ void clip_factor_kernel(int64_t count, const float* partials, float max_norm, float* norm, float* factor) {
  // in double, as the CPU implementation: the same norm, bit for bit, on both backends
  double s = 0.0;
  for (int64_t j = 0; j < count; ++j) s += static_cast<double>(partials[j]) * partials[j];
  const double nd = sqrt(s);
  *norm = static_cast<float>(nd);
  *factor = optim::clip_multiplier(nd, max_norm);
}

}  // namespace

extern "C" {

mf_status mfcuda_adamw_step(mf_device, void* stream, int64_t n, float* param, const float* grad, float* m, float* v,
                            float lr, float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
                            float bias_correction2, const float* grad_scale, void* working) {
  return launch_rows<float>("adamw_step", stream,
                            optim::AdamW{param, grad, m, v, beta1, beta2, eps, 1.0f - lr * weight_decay,
                                         lr / bias_correction1, sqrtf(bias_correction2), grad_scale,
                                         static_cast<bf16*>(working)},
                            1, n, {param, grad, m, v, working});
}

mf_status mfcuda_norm_partials(mf_device, void* stream, int64_t n, const float* x, float* partials) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  norm_partials_kernel<<<MF_NORM_PARTIALS, kNormThreads, 0, s>>>(n, x, partials);
  return check_launch("norm_partials", s);
}

mf_status mfcuda_clip_factor(mf_device, void* stream, int64_t count, const float* partials, float max_norm,
                             float* norm, float* factor) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  clip_factor_kernel<<<1, 1, 0, s>>>(count, partials, max_norm, norm, factor);
  return check_launch("clip_factor", s);
}

mf_status mfcuda_ema_update(mf_device, void* stream, int64_t n, float* ema, const float* w, float decay) {
  return launch_rows<float>("ema_update", stream, optim::Ema{ema, w, decay}, 1, n, {ema, w});
}

}  // extern "C"
