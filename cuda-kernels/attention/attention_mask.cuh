// The chunk mask of mforce/attention.h at three granularities: one (query, key) pair, one
// (query tile, key tile) pair from the tile summaries, and the walk over the visible tiles.
// Every decision goes through the rule both backends share (mforce/detail/attention_mask.h),
// with the relation of the key's source.
#ifndef MFORCE_CUDA_ATTENTION_MASK_CUH
#define MFORCE_CUDA_ATTENTION_MASK_CUH

#include <limits.h>

#include "attention_params.cuh"
#include "mforce/detail/attention_mask.h"

namespace mforce::cuda::attn {

using mforce::attn::ChunkMask;

// A query token: its chunk, and whether it exists (index < len).
struct QueryToken {
  int32_t chunk;
  bool ok;
};

// A key token: the query chunks that see it (its source's relation, the window and the sinks
// folded in once), so that each (query, key) pair costs two comparisons.
using KeyToken = ChunkMask::Seen;

// Query token i of a run of `len` tokens; `chunk` may be null (unmasked problems: chunk 0).
__device__ __forceinline__ QueryToken query_at(const int32_t* chunk, int64_t i, int64_t len) {
  const bool ok = i < len;
  return QueryToken{ok && chunk ? chunk[i] : 0, ok};
}

// Key token i of a source of `len` tokens under its source's `mask`; a slot past the end is
// treated as an empty slot (seen by no query). `chunk` may be null (unmasked problems: chunk 0).
__device__ __forceinline__ KeyToken key_at(const ChunkMask& mask, const int32_t* chunk, int64_t i, int64_t len) {
  return mask.seen_by(i >= len ? MF_ATTN_EMPTY : chunk ? chunk[i] : 0);
}

__device__ __forceinline__ bool visible(QueryToken q, KeyToken k) { return q.ok && k.contains(q.chunk); }
__device__ __forceinline__ bool visible(KeyToken k, QueryToken q) { return visible(q, k); }

enum TileClass : int { kInvisible = 0, kPartial = 1, kFull = 2 };

// kInvisible: no pair of the two tiles is visible; kFull: every pair is (no elementwise mask
// needed: every slot of both tiles holds a token, none empty); kPartial otherwise (or when the
// summaries cannot tell). Conservative both ways. The key tile's summary carries its relation.
__device__ __forceinline__ int classify(const TileSummary& q, const TileSummary& k, const mf_attn_problem& p) {
  const ChunkMask mask = ChunkMask::of(p, k.relation);
  if (mask.invisible(q.lo, q.hi, k.lo <= k.hi, k.lo, k.hi)) return kInvisible;
  return mask.all_visible(q.lo, q.hi, q.full && k.full, k.lo, k.hi) ? kFull : kPartial;
}

// One tile of a walk: run/source `seg`, tile `tile` within it; seg < 0 past the end.
struct TileRef {
  int seg;
  int tile;
  bool full;
  __device__ __forceinline__ bool valid() const { return seg >= 0; }
};

// Walks, run by run (or source by source) and tile by tile, over the tiles of `set` that may
// be visible from one fixed tile of the other side. kWalkKeys: the fixed tile is a query tile
// and the walk goes over key tiles; otherwise the reverse. Only tiles whose index among all of
// `set`'s tiles is in [lo, hi) are walked (a split of the keys). Every warp keeps an identical
// copy: each step is warp-uniform, reads only the tile summaries (32 per refill, one per lane,
// then two ballots) and needs neither shared memory nor a barrier.
template <bool kWalkKeys>
class TileWalk {
 public:
  __device__ __forceinline__ TileWalk(const TileSet& set, const TileSummary& fixed, const mf_attn_problem& prob,
                                      int lo = 0, int hi = INT_MAX)
      : set_(set), prob_(prob), fixed_(fixed), hi_(hi) {
    seg_ = segment_of(set, lo);
    base_ = lo - first_tile(set, seg_) - 32;
  }

  __device__ __forceinline__ TileRef next() {
    while (any_ == 0)
      if (!refill()) return TileRef{-1, 0, false};
    const int j = __ffs(any_) - 1;
    any_ &= any_ - 1;
    return TileRef{seg_, base_ + j, ((full_ >> j) & 1u) != 0};
  }

 private:
  __device__ __forceinline__ int tiles_in(int seg) const {
    return seg < set_.count ? first_tile(set_, seg + 1) - first_tile(set_, seg) : 0;
  }

  // Classifies the next 32 tiles; false once every run/source is done.
  __device__ __forceinline__ bool refill() {
    base_ += 32;
    while (base_ >= tiles_in(seg_)) {
      if (seg_ >= set_.count) return false;
      ++seg_;
      base_ = 0;
    }
    if (first_tile(set_, seg_) + base_ >= hi_) return false;
    const int t = base_ + static_cast<int>(threadIdx.x & 31);
    int c = kInvisible;
    if (t < tiles_in(seg_) && first_tile(set_, seg_) + t < hi_) {
      const TileSummary s = set_.summary[first_tile(set_, seg_) + t];
      c = kWalkKeys ? classify(fixed_, s, prob_) : classify(s, fixed_, prob_);
    }
    any_ = __ballot_sync(0xffffffffu, c != kInvisible);
    full_ = __ballot_sync(0xffffffffu, c == kFull);
    return true;
  }

  const TileSet& set_;
  const mf_attn_problem& prob_;
  const TileSummary& fixed_;  // in global memory: read again at each refill, not held in registers
  int hi_;
  int seg_;
  int base_;
  uint32_t any_ = 0;
  uint32_t full_ = 0;
};

// dK/dV walk: every visible query tile, once for each query head of the key/value head's group.
struct HeadTileRef {
  TileRef t;
  int head;  // 0 .. group-1 within the group
  __device__ __forceinline__ bool valid() const { return t.valid(); }
};

class GroupWalk {
 public:
  __device__ __forceinline__ GroupWalk(const TileSet& queries, const TileSummary& key_tile,
                                       const mf_attn_problem& prob, int group)
      : walk_(queries, key_tile, prob), group_(group) {}

  __device__ __forceinline__ HeadTileRef next() {
    if (cur_.valid() && head_ + 1 < group_) {
      ++head_;
    } else {
      cur_ = walk_.next();
      head_ = 0;
    }
    return HeadTileRef{cur_, head_};
  }

 private:
  TileWalk<false> walk_;
  int group_;
  TileRef cur_{-1, 0, false};
  int head_ = 0;
};

}  // namespace mforce::cuda::attn
#endif
