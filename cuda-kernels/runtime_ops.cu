// CUDA implementation of the tensor utilities of mforce/runtime.h (fill, convert).
#include "common.cuh"
#include "mforce/runtime.h"
#include "mforce/detail/bf16.h"
#include "mforce/detail/check.h"

using namespace mforce;

namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void fill_kernel(int64_t n, T value, T* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = value;
}

template <typename In, typename Out>
__global__ void convert_kernel(int64_t n, const In* in, Out* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = from_float<Out>(to_float(in[i]));
}

template <typename T>
mf_status launch_fill(void* stream, int64_t n, T value, void* out) {
  if (n == 0) return MF_OK;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  fill_kernel<T><<<cuda::grid_for(n, kThreads), kThreads, 0, s>>>(n, value, static_cast<T*>(out));
  return cuda::check_launch("fill", s);
}

}  // namespace

extern "C" {

mf_status mfcuda_fill(mf_device, void* stream, mf_dtype dtype, int64_t n, double value, void* out) {
  // n == 0 returns after the dtype check, as the CPU backend does.
  switch (dtype) {
    case MF_F32: return launch_fill<float>(stream, n, static_cast<float>(value), out);
    case MF_BF16: return launch_fill<bf16>(stream, n, float_to_bf16(static_cast<float>(value)), out);
    case MF_I32: return launch_fill<int32_t>(stream, n, static_cast<int32_t>(value), out);
    default: mf_set_error("fill: unknown dtype %d", (int)dtype); return MF_ERR_INVALID_ARGUMENT;
  }
}

mf_status mfcuda_convert(mf_device, void* stream, mf_dtype in_dtype, int64_t n, const void* in, mf_dtype out_dtype,
                         void* out) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  return with_float_dtype(in_dtype, "convert", [&](auto in_tag) {
    using In = decltype(in_tag);
    return with_float_dtype(out_dtype, "convert", [&](auto out_tag) {
      using Out = decltype(out_tag);
      if (n == 0) return mf_status{MF_OK};  // after both dtype checks, as the CPU backend does
      convert_kernel<In, Out><<<cuda::grid_for(n, kThreads), kThreads, 0, s>>>(n, (const In*)in, (Out*)out);
      return cuda::check_launch("convert", s);
    });
  });
}

}  // extern "C"
