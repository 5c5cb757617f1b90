/* The chunk mask of mforce/attention.h as code both backends share: the per-pair predicate,
 * and the test that lets a kernel skip a whole (query tile, key tile) pair. */
#ifndef MFORCE_DETAIL_ATTENTION_MASK_H
#define MFORCE_DETAIL_ATTENTION_MASK_H

#include "mforce/attention.h"
#include "mforce/detail/hd.h"

namespace mforce::attn {

struct ChunkMask {
  int32_t masked;
  int32_t window;  // <= 0: no window
  int32_t sinks;

  // Whether a query in chunk cq sees a key in chunk ck (the rule of mforce/attention.h);
  // 64-bit arithmetic so that cq - window never overflows.
  MF_HD bool visible(int32_t cq, int32_t ck) const {
    if (ck == MF_ATTN_EMPTY) return false;
    if (!masked) return true;
    if (ck > cq) return false;
    return window <= 0 || static_cast<int64_t>(ck) > static_cast<int64_t>(cq) - window || ck < sinks;
  }

  // True when no query with a chunk in [q_lo, q_hi] sees any key with a chunk in [k_lo, k_hi]
  // (the non-empty keys of a tile; a tile without any passes has_keys = false). Conservative:
  // false means "maybe visible", and the per-pair predicate decides.
  MF_HD bool invisible(int32_t q_lo, int32_t q_hi, bool has_keys, int32_t k_lo, int32_t k_hi) const {
    if (!has_keys) return true;
    if (!masked) return false;
    if (k_lo > q_hi) return true;  // every key is in a later chunk than every query
    // every key has left every query's window and none is a sink
    return window > 0 && static_cast<int64_t>(k_hi) <= static_cast<int64_t>(q_lo) - window && k_lo >= sinks;
  }

  // True when every query with a chunk in [q_lo, q_hi] sees every key with a chunk in
  // [k_lo, k_hi] (no_empty: none of the tile's keys is MF_ATTN_EMPTY): the per-pair predicate
  // can be skipped. Conservative like invisible().
  MF_HD bool all_visible(int32_t q_lo, int32_t q_hi, bool no_empty, int32_t k_lo, int32_t k_hi) const {
    if (!no_empty) return false;
    if (!masked) return true;
    if (k_hi > q_lo) return false;  // some key is in a later chunk than some query
    return window <= 0 || static_cast<int64_t>(k_lo) > static_cast<int64_t>(q_hi) - window || k_hi < sinks;
  }
};

}  // namespace mforce::attn
#endif
