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

// op over the elements [begin, end) of [batch, n], eight at a time where a row allows it.
template <typename Op>
inline void rows_range(const Op& op, int64_t n, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end;) {
    int64_t b = i / n;
    int64_t row_end = std::min(end, (b + 1) * n);
    for (; i + 8 <= row_end; i += 8) op.template operator()<8>(b, i);
    for (; i < row_end; ++i) op.template operator()<1>(b, i);
  }
}

// MF_FMA_CLONES: the function is compiled twice, for x86-64-v3 (AVX2, FMA) and for the baseline
// x86-64 the library targets, and the loader picks one by the CPU's features (target_clones, an
// ifunc: Linux x86-64 only); flatten inlines every call into each copy. Worth it where fmaf
// dominates, as in the Philox transforms (about twenty per pair of normals, a libm call each on
// the baseline): 1.55x on noisePhiloxFused (RESULTS.md). Not for the plain elementwise ops: their
// x86-64-v3 copy measured 20-25% slower on F32 (FlowBench cfg, euler on the build VM's EPYC; its
// 256-bit vectors: with 128-bit ones it ties the baseline, see NOTES.md).
// Both copies give the same bits: every operation rounds as IEEE-754 says (-ffp-contract=off;
// fmaf is fused on both).
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#define MF_FMA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))
#else
#define MF_FMA_CLONES
#endif

template <typename Op>
MF_FMA_CLONES void rows_range_fma(const Op& op, int64_t n, int64_t begin, int64_t end) {
  rows_range(op, n, begin, end);
}

// Applies op to every element of [batch, n]; kFmaHeavy: through rows_range_fma.
template <bool kFmaHeavy = false, typename Op>
void run_rows(const Op& op, int64_t batch, int64_t n) {
  parallel_for(batch * n, kGrain, [&](int64_t begin, int64_t end) {
    if constexpr (kFmaHeavy) {
      rows_range_fma(op, n, begin, end);
    } else {
      rows_range(op, n, begin, end);
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
