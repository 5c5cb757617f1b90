// CUDA implementation of mforce/rng.h: each thread makes one Philox block (four numbers).
#include "common.cuh"
#include "mforce/rng.h"
#include "mforce/detail/bf16.h"
#include "mforce/detail/philox.h"
#include "mforce/detail/check.h"

using namespace mforce;

namespace {

constexpr int kThreads = 256;

template <typename T, bool Normal>
__global__ void __launch_bounds__(kThreads) random_kernel(int64_t n, uint64_t seed, uint64_t offset, T* out) {
  // positions offset .. offset+n-1 touch blocks first_block .. last_block
  uint64_t first_block = offset >> 2, last_block = (offset + n - 1) >> 2;
  uint64_t blocks = last_block - first_block + 1;
  for (uint64_t k = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; k < blocks;
       k += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    uint64_t block = first_block + k;
    float v[4];
    if (Normal) philox_normal4(seed, block, v); else philox_uniform4(seed, block, v);
#pragma unroll
    for (int lane = 0; lane < 4; ++lane) {
      uint64_t p = block * 4 + lane;
      if (p >= offset && p < offset + static_cast<uint64_t>(n)) {
        out[p - offset] = Normal ? from_float<T>(v[lane]) : unit_to<T>(v[lane]);
      }
    }
  }
}

template <bool Normal>
mf_status launch_random(const char* kernel, void* stream, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset,
                        void* out) {
  if (n == 0) return MF_OK;
  return with_float_dtype(dtype, kernel, [&](auto tag) {
    using T = decltype(tag);
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    int64_t blocks = static_cast<int64_t>(((offset + n - 1) >> 2) - (offset >> 2) + 1);
    random_kernel<T, Normal><<<cuda::grid_for(blocks, kThreads), kThreads, 0, s>>>(n, seed, offset, (T*)out);
    return cuda::check_launch(kernel, s);
  });
}

}  // namespace

extern "C" {

mf_status mfcuda_rng_normal(mf_device, void* stream, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset,
                            void* out) {
  return launch_random<true>("rng_normal", stream, dtype, n, seed, offset, out);
}

mf_status mfcuda_rng_uniform(mf_device, void* stream, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset,
                             void* out) {
  return launch_random<false>("rng_uniform", stream, dtype, n, seed, offset, out);
}

}  // extern "C"
