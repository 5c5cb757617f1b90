// bf16 tensor-core forward, head_dim 64.
#include "attention_instances.cuh"

template mf_status mforce::cuda::attn::forward_mma<64>(const Params&, cudaStream_t);
template int mforce::cuda::attn::forward_blocks_per_sm<64>();
