// CPU driver of the shared elementwise ops (mforce/detail/elementwise.h) and of per-row
// reductions, over a [batch, n] problem split across the thread pool.
#ifndef MFORCE_CPU_ELEMENTWISE_H
#define MFORCE_CPU_ELEMENTWISE_H

#include <algorithm>
#include <cstdint>
#include <vector>

#include "parallel.h"

namespace mforce::cpu {

// Elements per task: large enough that scheduling costs nothing next to the work.
constexpr int64_t kGrain = 1 << 15;

// Applies op to every element of [batch, n], eight at a time where a row allows it.
template <typename Op>
void run_rows(const Op& op, int64_t batch, int64_t n) {
  parallel_for(batch * n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end;) {
      int64_t b = i / n;
      int64_t row_end = std::min(end, (b + 1) * n);
      for (; i + 8 <= row_end; i += 8) op.template operator()<8>(b, i);
      for (; i < row_end; ++i) op.template operator()<1>(b, i);
    }
  });
}

// out[b] = sum over the row b of term(i), accumulated in double (the CPU is the reference).
template <typename Term>
void row_sums(const Term& term, int64_t batch, int64_t n, double* out) {
  // one task per (row, block) so that a single long row still uses every thread
  const int64_t blocks_per_row = std::max<int64_t>(1, std::min<int64_t>(64, n / kGrain));
  const int64_t block = (n + blocks_per_row - 1) / std::max<int64_t>(1, blocks_per_row);
  std::vector<double> partial(static_cast<size_t>(batch * blocks_per_row), 0.0);
  parallel_for(batch * blocks_per_row, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      int64_t b = task / blocks_per_row, k = task % blocks_per_row;
      int64_t lo = b * n + k * block, hi = b * n + std::min(n, (k + 1) * block);
      double s = 0.0;
      for (int64_t i = lo; i < hi; ++i) s += term(i);
      partial[static_cast<size_t>(task)] = s;
    }
  });
  for (int64_t b = 0; b < batch; ++b) {
    double s = 0.0;
    for (int64_t k = 0; k < blocks_per_row; ++k) s += partial[static_cast<size_t>(b * blocks_per_row + k)];
    out[b] = s;
  }
}

}  // namespace mforce::cpu
#endif
