// CPU implementation of mforce/kv_cache.h: the shared per-(token, pair) op
// (mforce/detail/kv_cache_ops.h) over the chunk's region.
#include "mforce/kv_cache.h"

#include "mforce/detail/check.h"
#include "mforce/detail/kv_cache_ops.h"
#include "rope_pairs.h"

using namespace mforce;

extern "C" mf_status mfcpu_kv_cache_append(mf_device, void*, mf_dtype dtype, int32_t batch, int32_t kv_heads,
                                           int32_t head_dim, int32_t chunk_tokens, int32_t sinks, int32_t window,
                                           int64_t tokens, const void* k, const void* v, int64_t batch_stride,
                                           int64_t token_stride, const float* positions, float theta,
                                           int32_t chunk_index, const int32_t* chunk_index_device, void* cache_k,
                                           void* cache_v, int32_t* cache_chunk) {
  const int32_t chunk = chunk_index_device ? *chunk_index_device : chunk_index;
  if (chunk < 0) return MF_OK;  // as on CUDA: a negative index read from memory writes nothing
  return with_float_dtype(dtype, "kv_cache_append", [&](auto tag) {
    using T = decltype(tag);
    kv_cache::Append<T> op{(const T*)k, (const T*)v, batch_stride, token_stride, positions, batch, tokens, kv_heads,
                           head_dim, chunk_tokens, sinks, window, (T*)cache_k, (T*)cache_v, cache_chunk};
    cpu::for_each_rope_pair(chunk_tokens, head_dim, theta,
                            [&](int64_t t, int j, double freq) { op(chunk, t, j, freq); });
    return MF_OK;
  });
}
