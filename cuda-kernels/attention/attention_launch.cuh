// Host side of the attention kernels: the launch helper and the per-instantiation entry
// points that attention_launch.cu dispatches to. Each entry point is instantiated in its own
// translation unit (fwd_bf16_d64.cu, ..., see attention_instances.cuh) to keep compile times short.
#ifndef MFORCE_CUDA_ATTENTION_LAUNCH_CUH
#define MFORCE_CUDA_ATTENTION_LAUNCH_CUH

#include <cuda_runtime.h>

#include "attention_params.cuh"
#include "common.cuh"

namespace mforce::cuda::attn {

// bf16 tensor-core path, head_dim D (64 or 128): p.q/p.k tiles as FwdTraits<D>, and in the backward
// as BwdAtomicTraits<D> or, with prob.deterministic, BwdTraits<D>.
template <int D> mf_status forward_mma(const Params& p, cudaStream_t stream);  // split when p.splits > 1
// How many blocks of the split forward kernel at head_dim D fit on one SM (occupancy API; 0: unknown).
template <int D> int forward_blocks_per_sm();
template <int D> mf_status backward_mma(const Params& p, cudaStream_t stream);  // dK/dV, then dQ
// Split forward's last step (attention_launch.cu): o and lse of every run from p.o_part, p.lse_part.
mf_status launch_split_combine(const Params& p, cudaStream_t stream);
// Atomic-dQ backward's last step (attention_launch.cu): dq of every run from p.dq_accum.
mf_status launch_dq_convert(const Params& p, cudaStream_t stream);
// General path, element type T, head_dim <= 32 DL: p.q/p.k tiles as SimtTraits<DL>.
template <typename T, int DL> mf_status forward_simt(const Params& p, cudaStream_t stream);
template <typename T, int DL> mf_status backward_simt(const Params& p, cudaStream_t stream);

// Grids: one block per query tile (or key tile) x head (or kv head) x batch entry.
inline dim3 query_grid(const Params& p) {
  return dim3(static_cast<unsigned>(p.q.offset[p.q.count]), static_cast<unsigned>(p.prob.heads),
              static_cast<unsigned>(p.prob.batch));
}
inline dim3 key_grid(const Params& p) {
  return dim3(static_cast<unsigned>(p.k.offset[p.k.count]), static_cast<unsigned>(p.prob.kv_heads),
              static_cast<unsigned>(p.prob.batch));
}

// kernel<<<grid, threads, smem, stream>>>(args...) with the dynamic shared memory opt-in, and
// a clear error when this device cannot give `smem` bytes to a block. An empty grid is a no-op.
template <typename... Args>
mf_status launch(const char* name, void (*kernel)(Args...), dim3 grid, int threads, size_t smem,
                 cudaStream_t stream, Args... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return MF_OK;
  if (smem > 48 * 1024) {
    int device = 0, limit = 0;
    MF_CUDA_TRY(name, cudaGetDevice(&device));
    MF_CUDA_TRY(name, cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    if (smem > static_cast<size_t>(limit)) {
      mf_set_error("%s: needs %zu bytes of shared memory per block; this device allows %d", name, smem, limit);
      return MF_ERR_UNSUPPORTED;
    }
    MF_CUDA_TRY(name, cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  }
  void* arg_ptrs[] = {static_cast<void*>(&args)...};
  MF_CUDA_TRY(name, cudaLaunchKernel(kernel, grid, dim3(threads), arg_ptrs, smem, stream));
  return check_launch(name, stream);
}

}  // namespace mforce::cuda::attn
#endif
