/* The chunk mask of mforce/attention.h as code both backends share: the per-pair predicate,
 * and the tests that let a kernel skip a whole (query tile, key tile) pair or skip the per-pair
 * predicate inside it. The one place where the rule is written down in code. */
#ifndef MFORCE_DETAIL_ATTENTION_MASK_H
#define MFORCE_DETAIL_ATTENTION_MASK_H

#include "mforce/attention.h"
#include "mforce/detail/hd.h"

namespace mforce::attn {

// The mask between the queries of a problem and one key source, written in the chunk distance
// cq - ck (64-bit, so that no difference of two int32 chunks overflows): the source's relation
// allows the distances [nearest(), farthest()], the window those below `window`, and sink keys
// (ck < sinks) are exempt from the window.
struct ChunkMask {
  int32_t masked;
  int32_t window;    // <= 0: no window
  int32_t sinks;
  int32_t relation;  // MF_ATTN_CAUSAL, MF_ATTN_PAST or MF_ATTN_SAME

  // A distance beyond that of any two int32 chunks: "no limit".
  static constexpr int64_t kFar = int64_t(1) << 32;

  // The query chunks [first, last] that see one key (first > last: none), clamped to int32.
  struct Seen {
    int32_t first, last;
    MF_HD bool contains(int32_t cq) const { return first <= cq && cq <= last; }
  };

  // The mask of problem p's queries against a key source with relation `relation`.
  MF_HD static ChunkMask of(const mf_attn_problem& p, int32_t relation) {
    return ChunkMask{p.masked, p.window, p.sinks, relation};
  }

  // CAUSAL: ck <= cq; PAST: ck < cq; SAME: ck == cq.
  MF_HD int64_t nearest() const { return relation == MF_ATTN_PAST ? 1 : 0; }
  MF_HD int64_t farthest() const { return relation == MF_ATTN_SAME ? 0 : kFar; }

  // The queries that see a key in chunk ck. Kernels compute it once per key and then test each
  // query with two comparisons.
  MF_HD Seen seen_by(int32_t ck) const {
    if (ck == MF_ATTN_EMPTY) return Seen{INT32_MAX, INT32_MIN};
    if (!masked) return Seen{INT32_MIN, INT32_MAX};
    int64_t far = farthest();
    if (window > 0 && ck >= sinks && window - 1 < far) far = window - 1;  // ck > cq - window
    return Seen{clamp(ck + nearest()), clamp(ck + far)};
  }

  // Whether a query in chunk cq sees a key in chunk ck (the rule of mforce/attention.h).
  MF_HD bool visible(int32_t cq, int32_t ck) const { return seen_by(ck).contains(cq); }

  // True when no query with a chunk in [q_lo, q_hi] sees any key with a chunk in [k_lo, k_hi]
  // (the non-empty keys of a tile; a tile without any passes has_keys = false). Conservative:
  // false means "maybe visible", and the per-pair predicate decides. The pairs' distances span
  // [q_lo - k_hi, q_hi - k_lo].
  MF_HD bool invisible(int32_t q_lo, int32_t q_hi, bool has_keys, int32_t k_lo, int32_t k_hi) const {
    if (!has_keys) return true;
    if (!masked) return false;
    const int64_t min_distance = static_cast<int64_t>(q_lo) - k_hi;
    const int64_t max_distance = static_cast<int64_t>(q_hi) - k_lo;
    if (max_distance < nearest() || min_distance > farthest()) return true;  // the relation allows none
    // every key has left every query's window and none is a sink
    return window > 0 && min_distance >= window && k_lo >= sinks;
  }

  // True when every query with a chunk in [q_lo, q_hi] sees every key with a chunk in
  // [k_lo, k_hi] (no_empty: none of the tile's keys is MF_ATTN_EMPTY): the per-pair predicate
  // can be skipped. Conservative like invisible().
  MF_HD bool all_visible(int32_t q_lo, int32_t q_hi, bool no_empty, int32_t k_lo, int32_t k_hi) const {
    if (!no_empty) return false;
    if (!masked) return true;
    const int64_t min_distance = static_cast<int64_t>(q_lo) - k_hi;
    const int64_t max_distance = static_cast<int64_t>(q_hi) - k_lo;
    if (min_distance < nearest() || max_distance > farthest()) return false;  // the relation hides some
    return window <= 0 || max_distance < window || k_hi < sinks;
  }

 private:
  MF_HD static int32_t clamp(int64_t x) {
    return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : static_cast<int32_t>(x);
  }
};

}  // namespace mforce::attn
#endif
