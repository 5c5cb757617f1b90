// CUDA implementation of mforce/kv_cache.h: the shared per-(token, pair) op
// (mforce/detail/kv_cache_ops.h) over the chunk's region. The chunk index may live in device
// memory and is read by each thread, so that a captured CUDA graph appends whichever chunk
// that memory names at replay.
#include "mforce/kv_cache.h"
#include "mforce/detail/check.h"
#include "mforce/detail/kv_cache_ops.h"
#include "rope_pairs.cuh"

using namespace mforce;

namespace {

template <typename T>
struct AppendAt {
  kv_cache::Append<T> op;
  int32_t chunk;                // used when chunk_device is null
  const int32_t* chunk_device;  // int32 on the device, or null

  __device__ void operator()(int64_t token, int pair, double freq) const {
    const int32_t c = chunk_device ? *chunk_device : chunk;
    if (c >= 0) op(c, token, pair, freq);
  }
};

}  // namespace

extern "C" mf_status mfcuda_kv_cache_append(mf_device, void* stream, mf_dtype dtype, int32_t batch, int32_t kv_heads,
                                            int32_t head_dim, int32_t chunk_tokens, int32_t sinks, int32_t window,
                                            int64_t tokens, const void* k, const void* v, int64_t batch_stride,
                                            int64_t token_stride, const float* positions, float theta,
                                            int32_t chunk_index, const int32_t* chunk_index_device, void* cache_k,
                                            void* cache_v, int32_t* cache_chunk) {
  return with_float_dtype(dtype, "kv_cache_append", [&](auto tag) {
    using T = decltype(tag);
    kv_cache::Append<T> op{(const T*)k, (const T*)v, batch_stride, token_stride, positions, batch, tokens, kv_heads,
                           head_dim, chunk_tokens, sinks, window, (T*)cache_k, (T*)cache_v, cache_chunk};
    return cuda::launch_rope_pairs("kv_cache_append", stream, chunk_tokens, head_dim, theta,
                                   AppendAt<T>{op, chunk_index, chunk_index_device});
  });
}
