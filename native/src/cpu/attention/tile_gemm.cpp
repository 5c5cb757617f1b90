#include "tile_gemm.h"

#include <cstring>

namespace mforce::cpu::attn {
namespace {

// Eight floats; GCC lowers it to one AVX register or two SSE registers.
typedef float v8 __attribute__((vector_size(32)));

// C[0..4, 0..8·NV) (+)= A[0..4, :]·B[:, 0..8·NV): 4·NV accumulators stay in registers over k.
// SkipZeros: a zero of A adds nothing, whatever B's row holds (0·NaN would add NaN).
template <bool TransA, int NV, bool SkipZeros>
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
      if (SkipZeros && s == 0.f) continue;
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

template <bool TransA, bool SkipZeros = false>
__attribute__((always_inline)) inline void gemm(bool accumulate, int m, int n, int k, const float* a, int lda,
                                                const float* b, int ldb, float* c, int ldc) {
  for (int i = 0; i < m; i += 4) {
    const float* ai = TransA ? a + i : a + static_cast<long>(i) * lda;
    float* ci = c + static_cast<long>(i) * ldc;
    int j = 0;
    for (; j + 16 <= n; j += 16) block4<TransA, 2, SkipZeros>(k, ai, lda, b + j, ldb, ci + j, ldc, accumulate);
    if (j < n) block4<TransA, 1, SkipZeros>(k, ai, lda, b + j, ldb, ci + j, ldc, accumulate);
  }
}

// Whether every element of the [rows, n] tile x (row stride ld, n % 8 == 0) is finite: x − x is 0
// for a finite x and NaN for an infinite or NaN one.
__attribute__((always_inline)) inline bool all_finite(int rows, int n, const float* x, int ld) {
  v8 sum{};
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < n; j += 8) {
      v8 v;
      std::memcpy(&v, x + static_cast<long>(r) * ld + j, sizeof(v8));
      sum += v - v;
    }
  }
  for (int e = 0; e < 8; ++e)
    if (sum[e] != 0.f) return false;
  return true;
}

}  // namespace

MF_CPU_VECTORIZED
void masked_product(bool hidden, int m, int n, int k, const float* p, int ldp, const float* b, int ldb, float* c,
                    int ldc) {
  if (!hidden || all_finite(k, n, b, ldb)) {
    gemm<false>(true, m, n, k, p, ldp, b, ldb, c, ldc);
  } else {
    gemm<false, true>(true, m, n, k, p, ldp, b, ldb, c, ldc);
  }
}

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
