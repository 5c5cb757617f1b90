/* The key/value cache of a stream: one per layer and modality (DESIGN.md §2, §4).
 *
 * A cache holds chunks of up to chunk_tokens tokens in (sinks + window) chunk regions:
 *   cache_k, cache_v  [batch, capacity, kv_heads, head_dim], contiguous, the problem's dtype;
 *   cache_chunk       int32 [capacity]: each slot's chunk index, or MF_ATTN_EMPTY;
 *   capacity = (sinks + window) · chunk_tokens.
 * Chunk c < sinks lives in region c (a sink: never evicted); chunk c >= sinks in region
 * sinks + (c - sinks) mod window, where it overwrites (evicts) chunk c - window. Appending
 * chunks in increasing order therefore keeps the sinks and the last `window` chunks: what the
 * chunk mask of mforce/attention.h with the same window and sinks lets a query see. The
 * caches are ordinary key sources of the attention (keys [batch, capacity, kv_heads, head_dim],
 * chunk = cache_chunk).
 */
#ifndef MFORCE_KV_CACHE_H
#define MFORCE_KV_CACHE_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends one chunk of `tokens` <= chunk_tokens tokens: k and v ([batch, tokens, kv_heads,
 * head_dim], sharing batch_stride and token_stride) go to the chunk's region, k rotated by the
 * 3D RoPE of mforce/rope.h at positions (float32 [tokens, 3]) with `theta`; the region's slot
 * chunk indices become the chunk index for its first `tokens` slots and MF_ATTN_EMPTY for the
 * rest (ragged chunks).
 * The chunk index is chunk_index, or, when chunk_index_device is not NULL, the int32 it points
 * to on the data's device, read by the kernel: a captured CUDA graph can then append each new
 * chunk when replayed after that value is advanced. A negative index read there writes
 * nothing (a kernel cannot report it); a negative chunk_index is an invalid argument. */
MF_KERNEL(kv_cache_append, (mf_device dev, void* stream, mf_dtype dtype, int32_t batch, int32_t kv_heads,
                            int32_t head_dim, int32_t chunk_tokens, int32_t sinks, int32_t window, int64_t tokens,
                            const void* k, const void* v, int64_t batch_stride, int64_t token_stride,
                            const float* positions, float theta, int32_t chunk_index,
                            const int32_t* chunk_index_device, void* cache_k, void* cache_v, int32_t* cache_chunk))

#ifdef __cplusplus
}
#endif
#endif
