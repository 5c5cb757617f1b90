// CUDA implementation of the norms of mforce/layers.h (host side): LayerNorm with AdaLN
// modulation and RMSNorm, forward and backward. Device code: norm_kernels.cuh (the row passes,
// shared by both norms), columns.cuh with the shared column terms (parameter and modulation
// gradients).
#include "columns.cuh"
#include "mforce/detail/check.h"
#include "mforce/detail/layer_ops.h"
#include "mforce/layers.h"
#include "norm_kernels.cuh"

using namespace mforce;
using namespace mforce::cuda;

namespace {

// Launches the forward or backward row pass over a.total rows, vectorized when dim and the
// pointers allow.
template <bool Forward, bool Centered, typename T>
mf_status launch_norm(const char* kernel, void* stream, const NormArgs<T>& a,
                      std::initializer_list<const void*> ptrs) {
  if (a.total * a.dim == 0) return MF_OK;
  constexpr int K = 16 / sizeof(T);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const unsigned blocks = static_cast<unsigned>((a.total + kNormWarps - 1) / kNormWarps);
  const bool vec = a.dim % K == 0 && aligned16(ptrs);
  if (Forward && vec) {
    norm_forward_kernel<K, Centered, T><<<blocks, kNormWarps * 32, 0, s>>>(a);
  } else if (Forward) {
    norm_forward_kernel<1, Centered, T><<<blocks, kNormWarps * 32, 0, s>>>(a);
  } else if (vec) {
    norm_backward_kernel<K, Centered, T><<<blocks, kNormWarps * 32, 0, s>>>(a);
  } else {
    norm_backward_kernel<1, Centered, T><<<blocks, kNormWarps * 32, 0, s>>>(a);
  }
  return check_launch(kernel, s);
}

// From the per-group sums S0 = Σdy, S1 = Σdy·a, S2 = Σdy·xhat ([groups, 3, dim]):
// dshift = S0, dscale = S1 (per group); dbeta += Σ_g (1+scale)·S0, dgamma += Σ_g (1+scale)·S2.
__global__ void layernorm_param_finish(const float* sums, int64_t groups, int64_t dim, const float* scale,
                                       int64_t stride, float* dgamma, float* dbeta, float* dshift, float* dscale,
                                       int64_t dstride) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < dim;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float db = 0.f, dg = 0.f;
    for (int64_t g = 0; g < groups; ++g) {
      const float* s = sums + g * 3 * dim;
      float m = scale ? 1.0f + scale[g * stride + c] : 1.0f;
      db += m * s[c];
      dg += m * s[2 * dim + c];
      if (scale) {
        dshift[g * dstride + c] = s[c];
        dscale[g * dstride + c] = s[dim + c];
      }
    }
    if (dgamma) {
      dbeta[c] += db;
      dgamma[c] += dg;
    }
  }
}

}  // namespace

extern "C" {

mf_status mfcuda_layernorm_forward(mf_device, void* stream, mf_dtype dtype, int64_t groups, int64_t rows, int64_t dim,
                                   float eps, const void* x, const float* gamma, const float* beta,
                                   const float* shift, const float* scale, int64_t mod_stride, void* y, float* mean,
                                   float* rstd) {
  return with_float_dtype(dtype, "layernorm_forward", [&](auto tag) {
    using T = decltype(tag);
    NormArgs<T> a{groups * rows, rows, dim, eps, (const T*)x, gamma, beta, shift, scale, mod_stride, (T*)y, mean,
                  rstd, nullptr, nullptr, nullptr, nullptr, 0};
    return launch_norm<true, true>("layernorm_forward", stream, a, {x, y});
  });
}

mf_status mfcuda_layernorm_backward(mf_device, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                    int64_t dim, const void* x, const float* gamma, const float* beta,
                                    const float* scale, int64_t mod_stride, const float* mean, const float* rstd,
                                    const void* dy, void* dx, int32_t accumulate, float* dgamma, float* dbeta,
                                    float* dshift, float* dscale, int64_t dmod_stride) {
  return with_float_dtype(dtype, "layernorm_backward", [&](auto tag) -> mf_status {
    using T = decltype(tag);
    const char* k = "layernorm_backward";
    if (gamma || scale) {  // parameter and modulation gradients first: dx may overwrite dy
      const int64_t sum_groups = scale ? groups : 1;
      Scratch sums(stream);
      if (mf_status st = sums.allocate(k, sizeof(float) * sum_groups * 3 * dim)) return st;
      mf_status st = column_sums<T>(k, stream,
                                    layers::LayerNormParamTerm<T>{(const T*)x, (const T*)dy, mean, rstd, gamma, beta, dim},
                                    sum_groups, scale ? rows : groups * rows, dim, aligned16({x, dy}), sums.as<float>());
      if (st != MF_OK) return st;
      cudaStream_t s = static_cast<cudaStream_t>(stream);
      layernorm_param_finish<<<grid_for(dim, kThreads), kThreads, 0, s>>>(sums.as<float>(), sum_groups, dim, scale,
                                                                         mod_stride, dgamma, dbeta, dshift, dscale,
                                                                         dmod_stride);
      st = check_launch(k, s);
      if (st != MF_OK) return st;
    }
    NormArgs<T> a{groups * rows, rows, dim, 0.f, (const T*)x, gamma, nullptr, nullptr, scale, mod_stride, nullptr,
                  nullptr, nullptr, mean, rstd, (const T*)dy, (T*)dx, accumulate};
    return launch_norm<false, true>(k, stream, a, {x, dy, dx});
  });
}

mf_status mfcuda_rmsnorm_forward(mf_device, void* stream, mf_dtype dtype, int64_t rows, int64_t dim, float eps,
                                 const void* x, const float* weight, void* y, float* rstd) {
  return with_float_dtype(dtype, "rmsnorm_forward", [&](auto tag) {
    using T = decltype(tag);
    NormArgs<T> a{rows, rows, dim, eps, (const T*)x, weight, nullptr, nullptr, nullptr, 0, (T*)y, nullptr, rstd,
                  nullptr, nullptr, nullptr, nullptr, 0};
    return launch_norm<true, false>("rmsnorm_forward", stream, a, {x, y});
  });
}

mf_status mfcuda_rmsnorm_backward(mf_device, void* stream, mf_dtype dtype, int64_t rows, int64_t dim, const void* x,
                                  const float* weight, const float* rstd, const void* dy, void* dx, int32_t accumulate,
                                  float* dweight) {
  return with_float_dtype(dtype, "rmsnorm_backward", [&](auto tag) -> mf_status {
    using T = decltype(tag);
    const char* k = "rmsnorm_backward";
    Scratch sums(stream);
    if (mf_status st = sums.allocate(k, sizeof(float) * dim)) return st;
    mf_status st = column_sums<T>(k, stream, layers::RmsNormWeightTerm<T>{(const T*)x, (const T*)dy, rstd, dim}, 1,
                                  rows, dim, aligned16({x, dy}), sums.as<float>());
    if (st == MF_OK) st = store_sums(k, stream, sums.as<float>(), 1, 0, 1, dim, dweight, 0, true);
    if (st != MF_OK) return st;
    NormArgs<T> a{rows, rows, dim, 0.f, (const T*)x, weight, nullptr, nullptr, nullptr, 0, nullptr, nullptr, nullptr,
                  nullptr, rstd, (const T*)dy, (T*)dx, accumulate};
    return launch_norm<false, false>(k, stream, a, {x, dy, dx});
  });
}

}  // extern "C"
