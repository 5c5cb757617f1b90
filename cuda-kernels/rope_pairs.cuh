// CUDA driver of the RoPE-based kernels (rope_apply, kv_cache_append): one thread per
// (token, rotation pair), which handles that pair for every batch entry and head.
#ifndef MFORCE_CUDA_ROPE_PAIRS_CUH
#define MFORCE_CUDA_ROPE_PAIRS_CUH

#include "common.cuh"
#include "mforce/detail/rope_ops.h"

namespace mforce::cuda {

template <typename Op>
__global__ void __launch_bounds__(256) rope_pairs_kernel(Op op, int64_t len, int pairs, float theta) {
  const int64_t total = len * pairs;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int pair = static_cast<int>(i % pairs);
    op(i / pairs, pair, rope::frequency(pair, pairs, theta));
  }
}

// Runs op(token, pair, frequency) for every token < len and pair < head_dim/2 on `stream`.
template <typename Op>
mf_status launch_rope_pairs(const char* kernel, void* stream, int64_t len, int head_dim, float theta, const Op& op) {
  const int pairs = head_dim / 2;
  if (len == 0) return MF_OK;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  rope_pairs_kernel<<<grid_for(len * pairs, 256), 256, 0, s>>>(op, len, pairs, theta);
  return check_launch(kernel, s);
}

}  // namespace mforce::cuda
#endif
