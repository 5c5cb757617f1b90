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

template <int D>
mf_status forward_mma(const Params& p, cudaStream_t stream) {
  using Tr = FwdTraits<D>;
  return launch("attention_forward", attention_fwd_mma_kernel<Tr>, query_grid(p), Tr::kThreads, Tr::kSmem, stream, p);
}

template <int D>
mf_status backward_mma(const Params& p, cudaStream_t stream) {
  using Tr = BwdTraits<D>;
  if (p.dq_accum != nullptr) {  // atomic dQ: dq_accum was zeroed by prepare()
    mf_status s = launch("attention_backward (dK, dV, dQ)", attention_bwd_dkdv_mma_kernel<Tr, true>, key_grid(p),
                         Tr::kThreads, Tr::kSmemDkdvAtomic, stream, p);
    if (s != MF_OK) return s;
    return launch_dq_convert(p, stream);
  }
  mf_status s = launch("attention_backward (dK, dV)", attention_bwd_dkdv_mma_kernel<Tr, false>, key_grid(p),
                       Tr::kThreads, Tr::kSmemDkdv, stream, p);
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
