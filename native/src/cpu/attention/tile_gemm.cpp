#include "tile_gemm.h"

#include <cstring>

namespace mforce::cpu::attn {
namespace {

// Eight floats; GCC lowers it to one AVX register or two SSE registers.
typedef float v8 __attribute__((vector_size(32)));

// C[0..4, 0..8·NV) (+)= A[0..4, :]·B[:, 0..8·NV): 4·NV accumulators stay in registers over k.
template <bool TransA, int NV>
__attribute__((always_inline)) inline void block4(int k, const float* a, int lda, const float* b, int ldb, float* c,
                                                  int ldc, bool accumulate) {
  v8 acc[4][NV];
  for (int i = 0; i < 4; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = v8{};
  for (int kk = 0; kk < k; ++kk) {
    v8 bv[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&bv[v], b + static_cast<long>(kk) * ldb + 8 * v, sizeof(v8));
    for (int i = 0; i < 4; ++i) {
      float s = TransA ? a[static_cast<long>(kk) * lda + i] : a[static_cast<long>(i) * lda + kk];
      for (int v = 0; v < NV; ++v) acc[i][v] += s * bv[v];
    }
  }
  for (int i = 0; i < 4; ++i) {
    for (int v = 0; v < NV; ++v) {
      float* out = c + static_cast<long>(i) * ldc + 8 * v;
      if (accumulate) {
        v8 old;
        std::memcpy(&old, out, sizeof(v8));
        acc[i][v] += old;
      }
      std::memcpy(out, &acc[i][v], sizeof(v8));
    }
  }
}

template <bool TransA>
__attribute__((always_inline)) inline void gemm(bool accumulate, int m, int n, int k, const float* a, int lda,
                                                const float* b, int ldb, float* c, int ldc) {
  for (int i = 0; i < m; i += 4) {
    const float* ai = TransA ? a + i : a + static_cast<long>(i) * lda;
    float* ci = c + static_cast<long>(i) * ldc;
    int j = 0;
    for (; j + 16 <= n; j += 16) block4<TransA, 2>(k, ai, lda, b + j, ldb, ci + j, ldc, accumulate);
    if (j < n) block4<TransA, 1>(k, ai, lda, b + j, ldb, ci + j, ldc, accumulate);
  }
}

}  // namespace

MF_CPU_VECTORIZED
void tile_gemm(bool trans_a, bool accumulate, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
               float* c, int ldc) {
  if (trans_a) {
    gemm<true>(accumulate, m, n, k, a, lda, b, ldb, c, ldc);
  } else {
    gemm<false>(accumulate, m, n, k, a, lda, b, ldb, c, ldc);
  }
}

}  // namespace mforce::cpu::attn
