// bf16 tensor-core forward, head_dim 128.
#include "attention_instances.cuh"

template mf_status mforce::cuda::attn::forward_mma<128>(const Params&, cudaStream_t);
template int mforce::cuda::attn::forward_blocks_per_sm<128>();
