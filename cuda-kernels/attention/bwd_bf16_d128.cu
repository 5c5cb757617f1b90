// bf16 tensor-core backward, head_dim 128.
#include "attention_instances.cuh"

template mf_status mforce::cuda::attn::backward_mma<128>(const Params&, cudaStream_t);
