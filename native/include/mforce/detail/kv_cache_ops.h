/* kv_cache_append of mforce/kv_cache.h as one op per (token of the chunk region, pair), shared
 * by the CPU and CUDA drivers. */
#ifndef MFORCE_DETAIL_KV_CACHE_OPS_H
#define MFORCE_DETAIL_KV_CACHE_OPS_H

#include "mforce/attention.h"
#include "mforce/detail/rope_ops.h"

namespace mforce::kv_cache {

// The first slot of chunk `chunk`'s region (chunk >= 0, window >= 1).
MF_HD int64_t first_slot(int32_t chunk, int32_t sinks, int32_t window, int32_t chunk_tokens) {
  int64_t region = chunk < sinks ? chunk : sinks + (static_cast<int64_t>(chunk) - sinks) % window;
  return region * chunk_tokens;
}

template <typename T>
struct Append {
  const T* k;
  const T* v;
  int64_t bs, ts;          // strides of k and v
  const float* positions;  // [tokens, 3]
  int64_t batch, tokens;
  int kv_heads, head_dim;
  int32_t chunk_tokens, sinks, window;
  T* cache_k;
  T* cache_v;
  int32_t* cache_chunk;

  // Slots per batch entry, (sinks + window) · chunk_tokens, added in int64 (two int32s may not fit).
  MF_HD int64_t capacity() const { return (static_cast<int64_t>(sinks) + window) * chunk_tokens; }

  // Token `token` < chunk_tokens of the region of chunk `chunk` >= 0, pair `pair`.
  MF_HD void operator()(int32_t chunk, int64_t token, int pair, double freq) const {
    const int64_t slot = first_slot(chunk, sinks, window, chunk_tokens) + token;
    if (pair == 0) cache_chunk[slot] = token < tokens ? chunk : MF_ATTN_EMPTY;
    if (token >= tokens) return;
    const int64_t cache_bs = capacity() * kv_heads * head_dim, cache_ts = static_cast<int64_t>(kv_heads) * head_dim;
    float c, s;
    rope::rotation(positions + 3 * token, pair, head_dim / 2, freq, false, &c, &s);
    rope::rotate_token_pair(k + token * ts, bs, cache_k + slot * cache_ts, cache_bs, batch, kv_heads, head_dim, pair,
                            c, s);
    for (int64_t b = 0; b < batch; ++b) {
      for (int h = 0; h < kv_heads; ++h) {
        int64_t e = static_cast<int64_t>(h) * head_dim + 2 * pair;
        cache_v[b * cache_bs + slot * cache_ts + e] = v[b * bs + token * ts + e];
        cache_v[b * cache_bs + slot * cache_ts + e + 1] = v[b * bs + token * ts + e + 1];
      }
    }
  }
};

}  // namespace mforce::kv_cache
#endif
