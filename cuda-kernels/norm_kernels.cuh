// Device code of the row-wise norms and their backward row passes. One pair of kernels serves
// LayerNorm (Centered: subtract the mean, optional affine and AdaLN modulation) and RMSNorm
// (not centered, gain only): one warp per row, each lane reading K consecutive elements at a
// time (16-byte loads when K > 1), statistics by fixed-order warp sums. Memory-bound: x (and
// dy) are read once per pass, the later passes mostly from L1/L2.
#ifndef MFORCE_CUDA_NORM_KERNELS_CUH
#define MFORCE_CUDA_NORM_KERNELS_CUH

#include "mforce/detail/elementwise.h"
#include "reduce.cuh"

namespace mforce::cuda {

constexpr int kNormWarps = 8;  // rows per block of 256 threads

template <typename T>
struct NormArgs {
  int64_t total, rows, dim;  // total rows; rows per modulation group; row length
  float eps;
  const T* x;
  const float* gamma;        // gain [dim] or null
  const float* beta;         // bias [dim] or null
  const float* shift;        // modulation of group g at shift + g·stride, or null
  const float* scale;
  int64_t stride;
  T* y; float* mean; float* rstd;                            // forward outputs (may be null)
  const float* saved_mean; const float* saved_rstd;          // backward inputs
  const T* dy; T* dx; int32_t accumulate;
};

// y = (gamma·xhat + beta)·(1 + scale) + shift, xhat = (x - mean)·rstd (mean = 0 when not centered)
template <int K, bool Centered, typename T>
__global__ void __launch_bounds__(kNormWarps * 32) norm_forward_kernel(NormArgs<T> a) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(kNormWarps) + threadIdx.x / 32;
  const int64_t lane = threadIdx.x & 31;
  if (r >= a.total) return;  // whole warps leave together
  const T* xr = a.x + r * a.dim;
  const float inv_dim = 1.0f / static_cast<float>(a.dim);
  float mu = 0.f;
  if (Centered) {
    float s = 0.f;
    for (int64_t c = lane * K; c < a.dim; c += 32 * K) {
      float v[K];
      load<K>(xr, c, v);
      for (int k = 0; k < K; ++k) s += v[k];
    }
    mu = warp_sum(s) * inv_dim;
  }
  float q = 0.f;
  for (int64_t c = lane * K; c < a.dim; c += 32 * K) {
    float v[K];
    load<K>(xr, c, v);
    for (int k = 0; k < K; ++k) q += (v[k] - mu) * (v[k] - mu);
  }
  const float rs = 1.0f / sqrtf(warp_sum(q) * inv_dim + a.eps);
  const float* sh = a.shift ? a.shift + (r / a.rows) * a.stride : nullptr;
  const float* sc = a.scale ? a.scale + (r / a.rows) * a.stride : nullptr;
  for (int64_t c = lane * K; c < a.dim; c += 32 * K) {
    float v[K];
    load<K>(xr, c, v);
    for (int k = 0; k < K; ++k) {
      float xhat = (v[k] - mu) * rs;
      float y = a.gamma ? a.gamma[c + k] * xhat + (a.beta ? a.beta[c + k] : 0.0f) : xhat;
      v[k] = sc ? y * (1.0f + sc[c + k]) + sh[c + k] : y;
    }
    store<K>(a.y + r * a.dim, c, v);
  }
  if (lane == 0) {
    if (Centered && a.mean) a.mean[r] = mu;
    if (a.rstd) a.rstd[r] = rs;
  }
}

// dx = rstd·(g - mean(g) - xhat·mean(g·xhat)), g = dy·(1 + scale)·gamma (no mean(g) when not centered)
template <int K, bool Centered, typename T>
__global__ void __launch_bounds__(kNormWarps * 32) norm_backward_kernel(NormArgs<T> a) {
  const int64_t r = blockIdx.x * static_cast<int64_t>(kNormWarps) + threadIdx.x / 32;
  const int64_t lane = threadIdx.x & 31;
  if (r >= a.total) return;
  const T* xr = a.x + r * a.dim;
  const T* dr = a.dy + r * a.dim;
  const float* sc = a.scale ? a.scale + (r / a.rows) * a.stride : nullptr;
  const float mu = Centered ? a.saved_mean[r] : 0.f, rs = a.saved_rstd[r];
  const float inv_dim = 1.0f / static_cast<float>(a.dim);
  float m1 = 0.f, m2 = 0.f;
  for (int64_t c = lane * K; c < a.dim; c += 32 * K) {
    float xs[K], ds[K];
    load<K>(xr, c, xs);
    load<K>(dr, c, ds);
    for (int k = 0; k < K; ++k) {
      float g = ds[k] * (sc ? 1.0f + sc[c + k] : 1.0f) * (a.gamma ? a.gamma[c + k] : 1.0f);
      m1 += g;
      m2 += g * ((xs[k] - mu) * rs);
    }
  }
  m1 = Centered ? warp_sum(m1) * inv_dim : 0.f;
  m2 = warp_sum(m2) * inv_dim;
  T* out = a.dx + r * a.dim;
  for (int64_t c = lane * K; c < a.dim; c += 32 * K) {
    float xs[K], ds[K], old[K];
    load<K>(xr, c, xs);
    load<K>(dr, c, ds);
    if (a.accumulate) load<K>(out, c, old);
    for (int k = 0; k < K; ++k) {
      float g = ds[k] * (sc ? 1.0f + sc[c + k] : 1.0f) * (a.gamma ? a.gamma[c + k] : 1.0f);
      float d = rs * (g - m1 - ((xs[k] - mu) * rs) * m2);
      ds[k] = a.accumulate ? old[k] + d : d;
    }
    store<K>(out, c, ds);
  }
}

}  // namespace mforce::cuda
#endif
