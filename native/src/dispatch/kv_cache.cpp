// Entry point of mforce/kv_cache.h: the checks both backends share, then the backend.
#include "mforce/kv_cache.h"

#include <cmath>

#include "mforce/detail/check.h"
#include "cuda_library.h"

extern "C" mf_status mf_kv_cache_append(mf_device dev, void* stream, mf_dtype dtype, int32_t batch, int32_t kv_heads,
                                        int32_t head_dim, int32_t chunk_tokens, int32_t sinks, int32_t window,
                                        int64_t tokens, const void* k, const void* v, int64_t batch_stride,
                                        int64_t token_stride, const float* positions, float theta,
                                        int32_t chunk_index, const int32_t* chunk_index_device, void* cache_k,
                                        void* cache_v, int32_t* cache_chunk) {
  const char* kernel = "kv_cache_append";
  MF_REQUIRE(batch >= 1 && kv_heads >= 1, "%s: batch = %d, kv_heads = %d; expected >= 1", kernel, (int)batch,
             (int)kv_heads);
  MF_REQUIRE(head_dim >= 8 && head_dim <= 256 && head_dim % 8 == 0,
             "%s: head_dim = %d; expected a multiple of 8 in [8, 256]", kernel, (int)head_dim);
  MF_REQUIRE(chunk_tokens >= 1 && sinks >= 0 && window >= 1,
             "%s: chunk_tokens = %d, sinks = %d, window = %d; expected >= 1, >= 0, >= 1", kernel, (int)chunk_tokens,
             (int)sinks, (int)window);
  MF_REQUIRE(tokens >= 0 && tokens <= chunk_tokens, "%s: %lld tokens do not fit a chunk region of %d slots", kernel,
             (long long)tokens, (int)chunk_tokens);
  MF_REQUIRE(batch_stride >= 0 && token_stride >= 0, "%s: negative stride", kernel);
  MF_REQUIRE(std::isfinite(theta) && theta > 0.f, "%s: theta = %g; expected a finite value > 0", kernel,
             (double)theta);
  MF_REQUIRE(chunk_index_device || chunk_index >= 0, "%s: chunk_index = %d; expected >= 0", kernel,
             (int)chunk_index);
  MF_REQUIRE_PTR(cache_k, kernel); MF_REQUIRE_PTR(cache_v, kernel); MF_REQUIRE_PTR(cache_chunk, kernel);
  if (tokens > 0) {
    MF_REQUIRE_PTR(k, kernel); MF_REQUIRE_PTR(v, kernel); MF_REQUIRE_PTR(positions, kernel);
  }
  MF_ROUTE(kv_cache_append, dev, dev, stream, dtype, batch, kv_heads, head_dim, chunk_tokens, sinks, window, tokens,
           k, v, batch_stride, token_stride, positions, theta, chunk_index, chunk_index_device, cache_k, cache_v,
           cache_chunk);
}
