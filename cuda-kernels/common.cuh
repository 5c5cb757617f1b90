// Host-side helpers of libmforce_cuda: error mapping and launch bookkeeping.
#ifndef MFORCE_CUDA_COMMON_CUH
#define MFORCE_CUDA_COMMON_CUH

#include <cuda_runtime.h>

#include "mforce/common.h"

namespace mforce::cuda {

// Maps a CUDA error to a status with "<what>: <CUDA's message>" as the thread's error:
// MF_ERR_OUT_OF_MEMORY for an allocation that failed (cleared from cudaGetLastError, as it does
// not poison the context), MF_ERR_CUDA for everything else.
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

// Device scratch for one call: stream-ordered memory from the device's default pool
// (cudaMallocAsync, so graph-capturable), given back on the same stream when it goes out of scope,
// on every path out. The Java runtime keeps that pool from returning freed memory to the driver
// at each synchronization (io.mforce.runtime.CudaAllocator), so steady-state calls reuse it.
class Scratch {
 public:
  explicit Scratch(void* stream) : stream_(static_cast<cudaStream_t>(stream)) {}
  ~Scratch() {
    if (ptr_) cudaFreeAsync(ptr_, stream_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Takes `bytes` (nothing for 0; once per object); on failure the status of fail(op, ...).
  mf_status allocate(const char* op, size_t bytes) {
    if (bytes == 0) return MF_OK;
    cudaError_t err = cudaMallocAsync(&ptr_, bytes, stream_);
    if (err != cudaSuccess) {
      ptr_ = nullptr;
      return fail(op, err);
    }
    return MF_OK;
  }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  cudaStream_t stream_;
  void* ptr_ = nullptr;
};

}  // namespace mforce::cuda

#define MF_CUDA_TRY(what, call)                                        \
  do {                                                                 \
    cudaError_t mf_cuda_err = (call);                                  \
    if (mf_cuda_err != cudaSuccess) return ::mforce::cuda::fail(what, mf_cuda_err); \
  } while (0)

#endif
