// CPU driver of the column terms of mforce/detail/layer_ops.h: per-group column sums over the
// rows of a [groups, rows, cols] problem, in an order fixed by the sizes (deterministic).
#ifndef MFORCE_CPU_COLUMNS_H
#define MFORCE_CPU_COLUMNS_H

#include <algorithm>
#include <cstdint>
#include <vector>

#include "parallel.h"

namespace mforce::cpu {

// Rows of one group are split into this many chunks (a function of the sizes only, so the
// summation order never depends on the thread count): about 64 chunks over all groups.
inline int64_t column_chunks(int64_t groups, int64_t rows) {
  int64_t wanted = std::max<int64_t>(1, 64 / std::max<int64_t>(1, groups));
  return std::max<int64_t>(1, std::min(wanted, rows / 16));
}

// Returns sums[(g·NS + s)·cols + c] = Σ over the rows r of group g of value s of term(g, r, c),
// accumulated in double (the CPU is the reference). Calls term exactly once per element.
template <typename Term>
std::vector<double> column_sums(const Term& term, int64_t groups, int64_t rows, int64_t cols) {
  constexpr int NS = Term::NS;
  constexpr int64_t kBlock = 256;  // columns per task
  const int64_t chunks = column_chunks(groups, rows);
  const int64_t chunk = (rows + chunks - 1) / chunks;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(groups * chunks * NS * cols), 0.0);
  parallel_for(groups * chunks * blocks, 1, [&](int64_t begin, int64_t end) {
    double acc[NS][kBlock];
    for (int64_t task = begin; task < end; ++task) {
      int64_t g = task / (chunks * blocks), ch = task / blocks % chunks, cb = task % blocks;
      int64_t r0 = g * rows + ch * chunk, r1 = g * rows + std::min(rows, (ch + 1) * chunk);
      int64_t c0 = cb * kBlock, c1 = std::min(cols, c0 + kBlock);
      for (int s = 0; s < NS; ++s) std::fill(acc[s], acc[s] + kBlock, 0.0);
      for (int64_t r = r0; r < r1; ++r) {
        int64_t c = c0;
        for (; c + 8 <= c1; c += 8) {
          float v[NS][8];
          term.template operator()<8>(g, r, c, v);
          for (int s = 0; s < NS; ++s)
            for (int k = 0; k < 8; ++k) acc[s][c - c0 + k] += v[s][k];
        }
        for (; c < c1; ++c) {
          float v[NS][1];
          term.template operator()<1>(g, r, c, v);
          for (int s = 0; s < NS; ++s) acc[s][c - c0] += v[s][0];
        }
      }
      for (int s = 0; s < NS; ++s)
        std::copy(acc[s], acc[s] + (c1 - c0), &partial[static_cast<size_t>(((g * chunks + ch) * NS + s) * cols + c0)]);
    }
  });
  std::vector<double> sums(static_cast<size_t>(groups * NS * cols), 0.0);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t ch = 0; ch < chunks; ++ch)
      for (int64_t sc = 0; sc < NS * cols; ++sc)
        sums[static_cast<size_t>(g * NS * cols + sc)] += partial[static_cast<size_t>((g * chunks + ch) * NS * cols + sc)];
  return sums;
}

}  // namespace mforce::cpu
#endif
