// The cp.async ring shared by the tensor-core kernels.
#ifndef MFORCE_CUDA_ATTENTION_PIPELINE_CUH
#define MFORCE_CUDA_ATTENTION_PIPELINE_CUH

#include "attention_ptx.cuh"

namespace mforce::cuda::attn {

// The block walks a sequence of items (walk.next(): warp-uniform and identical in every warp)
// and keeps up to kStages - 1 of them in flight: load(slot, item) issues the cp.async copies of
// one item into ring slot `slot`, compute(slot, item) consumes it; item i lives in slot
// i % kStages. Copies the caller issued before (its fixed tiles) join the first group, so they
// have landed when the first item has. On return every copy has landed and the block is
// synchronized, so the caller may reuse any shared memory.
template <int kStages, class Walk, class Load, class Compute>
__device__ __forceinline__ void run_pipeline(Walk& walk, Load&& load, Compute&& compute) {
  using Item = decltype(walk.next());
  Item ahead[kStages - 1];  // loaded or loading, oldest first
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    ahead[s] = walk.next();
    if (ahead[s].valid()) load(s, ahead[s]);
    cp_async_commit();
  }
  for (int i = 0; ahead[0].valid(); ++i) {
    cp_async_wait<kStages - 2>();  // this thread's copies of item i have landed
    __syncthreads();               // everyone's; and every warp is done with item i - 1
    const Item cur = ahead[0];
#pragma unroll
    for (int s = 0; s + 1 < kStages - 1; ++s) ahead[s] = ahead[s + 1];
    ahead[kStages - 2] = walk.next();
    if (ahead[kStages - 2].valid()) load((i + kStages - 1) % kStages, ahead[kStages - 2]);  // item i - 1's slot
    cp_async_commit();
    compute(i % kStages, cur);
  }
  cp_async_wait<0>();
  __syncthreads();
}

}  // namespace mforce::cuda::attn
#endif
