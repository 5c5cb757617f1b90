// The bodies of the per-instantiation entry points declared in attention_launch.cuh; each
// fwd_*/bwd_*/simt_* .cu file includes this and instantiates one of them.
#ifndef MFORCE_CUDA_ATTENTION_INSTANCES_CUH
#define MFORCE_CUDA_ATTENTION_INSTANCES_CUH

#include "attention_bwd_kernel.cuh"
#include "attention_fwd_kernel.cuh"
#include "attention_launch.cuh"
#include "attention_simt_kernel.cuh"
#include "attention_traits.cuh"

namespace mforce::cuda::attn {

// The tiles prepare() summarized (plan_for's choice) must be the kernels' own; a mismatch would
// be a bug of the launch code, never of the caller's input.
template <class Tr>
mf_status check_tiles(const Params& p, const char* op) {
  if (p.q.tile == Tr::kBlockM && p.k.tile == Tr::kBlockN) return MF_OK;
  mf_set_error("%s: internal error: tiles summarized as %d x %d, kernel tiles %d x %d", op, (int)p.q.tile,
               (int)p.k.tile, Tr::kBlockM, Tr::kBlockN);
  return MF_ERR_INTERNAL;
}

template <int D>
mf_status forward_mma(const Params& p, cudaStream_t stream) {
  using Tr = FwdTraits<D>;
  if (mf_status s = check_tiles<Tr>(p, "attention_forward")) return s;
  if (p.splits > 1) {  // p.o_part and p.lse_part were allocated by prepare()
    dim3 grid = query_grid(p);
    grid.x *= static_cast<unsigned>(p.splits);
    mf_status s = launch("attention_forward (split keys)", attention_fwd_mma_kernel<Tr, true>, grid, Tr::kThreads,
                         Tr::kSmem, stream, p);
    if (s != MF_OK) return s;
    return launch_split_combine(p, stream);
  }
  return launch("attention_forward", attention_fwd_mma_kernel<Tr, false>, query_grid(p), Tr::kThreads, Tr::kSmem,
                stream, p);
}

// Asked once per device (the answer depends on the device, not on the call). 0 where the device
// cannot say, or cannot give the kernel its shared memory: the forward then runs unsplit, and its
// launch reports the shared-memory limit clearly.
template <int D>
int forward_blocks_per_sm() {
  using Tr = FwdTraits<D>;
  constexpr int kMaxDevices = 64;
  static int cached[kMaxDevices] = {0};
  int device = 0, blocks = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return 0;
  if (cached[device] > 0) return cached[device];
  if (cudaFuncSetAttribute(attention_fwd_mma_kernel<Tr, true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(Tr::kSmem)) != cudaSuccess ||
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, attention_fwd_mma_kernel<Tr, true>, Tr::kThreads,
                                                    Tr::kSmem) != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it, so that it is not blamed on a later call
    return 0;
  }
  cached[device] = blocks;
  return blocks;
}

template <int D>
mf_status backward_mma(const Params& p, cudaStream_t stream) {
  // the tiles prepare() summarized follow the same choice (plan_for)
  if (!p.prob.deterministic) {  // atomic dQ: dq_accum was zeroed by prepare() (null: no query rows)
    using Tr = BwdAtomicTraits<D>;
    if (mf_status s = check_tiles<Tr>(p, "attention_backward")) return s;
    mf_status s = launch("attention_backward (dK, dV, dQ)", attention_bwd_dkdv_mma_kernel<Tr>, key_grid(p),
                         Tr::kThreads, Tr::kSmemDkdv, stream, p);
    if (s != MF_OK) return s;
    return launch_dq_convert(p, stream);
  }
  using Tr = BwdTraits<D>;
  if (mf_status s = check_tiles<Tr>(p, "attention_backward")) return s;
  mf_status s = launch("attention_backward (dK, dV)", attention_bwd_dkdv_mma_kernel<Tr>, key_grid(p), Tr::kThreads,
                       Tr::kSmemDkdv, stream, p);
  if (s != MF_OK) return s;
  return launch("attention_backward (dQ)", attention_bwd_dq_mma_kernel<Tr>, query_grid(p), Tr::kThreads, Tr::kSmemDq,
                stream, p);
}

template <typename T, int DL>
mf_status forward_simt(const Params& p, cudaStream_t stream) {
  using Tr = SimtTraits<DL>;
  return launch("attention_forward", attention_fwd_simt_kernel<T, DL>, query_grid(p), Tr::kThreads, Tr::kSmemFwd,
                stream, p);
}

template <typename T, int DL>
mf_status backward_simt(const Params& p, cudaStream_t stream) {
  using Tr = SimtTraits<DL>;
  mf_status s = launch("attention_backward (dK, dV)", attention_bwd_dkdv_simt_kernel<T, DL>, key_grid(p),
                       Tr::kThreads, Tr::kSmemDkdv, stream, p);
  if (s != MF_OK) return s;
  return launch("attention_backward (dQ)", attention_bwd_dq_simt_kernel<T, DL>, query_grid(p), Tr::kThreads,
                Tr::kSmemDq, stream, p);
}

}  // namespace mforce::cuda::attn
#endif
