// Host-side helpers of libmforce_cuda: error mapping and launch bookkeeping.
#ifndef MFORCE_CUDA_COMMON_CUH
#define MFORCE_CUDA_COMMON_CUH

#include <cuda_runtime.h>

#include "mforce/common.h"

namespace mforce::cuda {

// Maps a CUDA error to MF_ERR_CUDA with "<what>: <CUDA's message>" as the thread's error.
mf_status fail(const char* what, cudaError_t err);

// After a launch: a launch error becomes MF_ERR_CUDA naming the kernel. With MFORCE_CUDA_SYNC=1
// in the environment the stream is also synchronized, so that a fault inside the kernel is
// reported against this kernel rather than at some later synchronization.
mf_status check_launch(const char* kernel, cudaStream_t stream);

// Number of SMs of the current device (cached per device).
int sm_count();

// A grid for a grid-stride loop over `work` items with `threads` per block.
inline unsigned grid_for(int64_t work, int threads) {
  int64_t blocks = (work + threads - 1) / threads;
  int64_t cap = static_cast<int64_t>(sm_count()) * 32;
  if (blocks > cap) blocks = cap;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

}  // namespace mforce::cuda

#define MF_CUDA_TRY(what, call)                                        \
  do {                                                                 \
    cudaError_t mf_cuda_err = (call);                                  \
    if (mf_cuda_err != cudaSuccess) return ::mforce::cuda::fail(what, mf_cuda_err); \
  } while (0)

#endif
