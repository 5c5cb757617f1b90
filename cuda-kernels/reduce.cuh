// Fixed-order reductions inside a warp or a block (the same bits on every run).
#ifndef MFORCE_CUDA_REDUCE_CUH
#define MFORCE_CUDA_REDUCE_CUH

namespace mforce::cuda {

// Sum over the 32 lanes of a warp (butterfly: every lane gets the total); T float or double.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over a block of `Threads` threads (a multiple of 32); the total is valid in thread 0.
template <int Threads, class T>
__device__ __forceinline__ T block_sum(T v) {
  __shared__ T warps[Threads / 32];
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0) warps[threadIdx.x >> 5] = v;
  __syncthreads();
  T total = 0;
  if (threadIdx.x == 0)
    for (int w = 0; w < Threads / 32; ++w) total += warps[w];
  return total;
}

}  // namespace mforce::cuda
#endif
