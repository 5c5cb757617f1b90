// General (SIMT) forward and backward, f32 storage, head_dim up to 64, 128 and 256.
#include "attention_instances.cuh"

namespace mforce::cuda::attn {
template mf_status forward_simt<float, 2>(const Params&, cudaStream_t);
template mf_status forward_simt<float, 4>(const Params&, cudaStream_t);
template mf_status forward_simt<float, 8>(const Params&, cudaStream_t);
template mf_status backward_simt<float, 2>(const Params&, cudaStream_t);
template mf_status backward_simt<float, 4>(const Params&, cudaStream_t);
template mf_status backward_simt<float, 8>(const Params&, cudaStream_t);
}  // namespace mforce::cuda::attn
