// CUDA implementation of mforce/optim.h. AdamW and EMA are the shared per-element ops
// (mforce/detail/optim_ops.h) on the elementwise driver; the global norm is two fixed-order
// passes: one block per slice of each buffer, then one thread over all partial sums.
#include "elementwise.cuh"
#include "mforce/detail/check.h"
#include "mforce/detail/optim_ops.h"
#include "mforce/optim.h"
#include "reduce.cuh"

using namespace mforce;
using namespace mforce::cuda;

namespace {

constexpr int kSumsqThreads = 256;

__global__ void __launch_bounds__(kSumsqThreads) sumsq_kernel(int64_t n, const float* x, float* partials) {
  const int64_t slice = optim::sumsq_slice(n, MF_SUMSQ_PARTIALS);
  const int64_t lo = blockIdx.x * slice, hi = min(n, lo + slice);
  float s = 0.f;
  for (int64_t i = lo + threadIdx.x; i < hi; i += kSumsqThreads) s += x[i] * x[i];
  s = block_sum<kSumsqThreads>(s);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void clip_factor_kernel(int64_t count, const float* partials, float max_norm, float* norm, float* factor) {
  // in double, as the CPU implementation: the same norm, bit for bit, on both backends
  double s = 0.0;
  for (int64_t j = 0; j < count; ++j) s += partials[j];
  float nf = static_cast<float>(sqrt(s));
  *norm = nf;
  *factor = optim::clip_multiplier(nf, max_norm);
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

mf_status mfcuda_sumsq_partials(mf_device, void* stream, int64_t n, const float* x, float* partials) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  sumsq_kernel<<<MF_SUMSQ_PARTIALS, kSumsqThreads, 0, s>>>(n, x, partials);
  return check_launch("sumsq_partials", s);
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
