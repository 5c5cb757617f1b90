// The CPU loop of the RoPE-based kernels (rope_apply, kv_cache_append): one op per
// (token, rotation pair) over the thread pool, each pair's frequency computed once per call.
#ifndef MFORCE_CPU_ROPE_PAIRS_H
#define MFORCE_CPU_ROPE_PAIRS_H

#include <cstdint>
#include <vector>

#include "mforce/detail/rope_ops.h"
#include "parallel.h"

namespace mforce::cpu {

// Calls op(token, pair, frequency) for every token < len and pair < head_dim/2.
template <typename Op>
void for_each_rope_pair(int64_t len, int head_dim, float theta, const Op& op) {
  const int pairs = head_dim / 2;
  std::vector<double> freq(static_cast<size_t>(pairs));
  for (int j = 0; j < pairs; ++j) freq[j] = rope::frequency(j, pairs, theta);
  parallel_for(len, 16, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int j = 0; j < pairs; ++j) op(t, j, freq[j]);
  });
}

}  // namespace mforce::cpu
#endif
