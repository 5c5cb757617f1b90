// gemm_rows.h: register blocks of 4 rows of x by 3 rows of w (12 accumulators of 8 floats, plus
// 3 of w and 1 of x: the 16 AVX2 registers), so that each load of w feeds 4 FMAs.
#include "gemm_rows.h"

#include <immintrin.h>

#define MF_AVX2 __attribute__((target("avx2,fma")))

namespace mforce::cpu {
namespace {

constexpr int kRows = 4;  // rows of x per block
constexpr int kCols = 3;  // rows of w (columns of c) per block

MF_AVX2 inline float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// the element's sum from its 8 partial sums and the tail p in [k8, k)
MF_AVX2 inline float finish(__m256 acc, const float* x, const float* w, int64_t k8, int64_t k) {
  float s = sum8(acc);
  for (int64_t p = k8; p < k; ++p) s += x[p] * w[p];
  return s;
}

inline void store(float* c, float alpha, float beta, float sum) { *c = alpha * sum + (beta == 0 ? 0.f : beta * *c); }

// one element: the same partial sums as a block's
MF_AVX2 void element(int64_t k, float alpha, const float* x, const float* w, float beta, float* c) {
  const int64_t k8 = k / 8 * 8;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t p = 0; p < k8; p += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(w + p), acc);
  store(c, alpha, beta, finish(acc, x, w, k8, k));
}

MF_AVX2 void block(int64_t k, float alpha, const float* x, int64_t ldx, const float* w, int64_t ldw, float beta,
                   float* c, int64_t ldc) {
  const int64_t k8 = k / 8 * 8;
  __m256 acc[kRows][kCols];
  for (auto& row : acc)
    for (auto& a : row) a = _mm256_setzero_ps();
  for (int64_t p = 0; p < k8; p += 8) {
    __m256 wv[kCols];
    for (int s = 0; s < kCols; ++s) wv[s] = _mm256_loadu_ps(w + s * ldw + p);
    for (int r = 0; r < kRows; ++r) {
      __m256 xv = _mm256_loadu_ps(x + r * ldx + p);
      for (int s = 0; s < kCols; ++s) acc[r][s] = _mm256_fmadd_ps(xv, wv[s], acc[r][s]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int s = 0; s < kCols; ++s)
      store(c + r * ldc + s, alpha, beta, finish(acc[r][s], x + r * ldx, w + s * ldw, k8, k));
}

}  // namespace

bool gemm_rows_available() {
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return available;
}

MF_AVX2 void gemm_rows_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* x, int64_t ldx, const float* w,
                          int64_t ldw, float beta, float* c, int64_t ldc) {
  const int64_t m_blocks = m / kRows * kRows, n_blocks = n / kCols * kCols;
  for (int64_t j = 0; j < n_blocks; j += kCols) {
    for (int64_t i = 0; i < m_blocks; i += kRows) {
      block(k, alpha, x + i * ldx, ldx, w + j * ldw, ldw, beta, c + i * ldc + j, ldc);
    }
    for (int64_t i = m_blocks; i < m; ++i)
      for (int64_t s = j; s < j + kCols; ++s) element(k, alpha, x + i * ldx, w + s * ldw, beta, c + i * ldc + s);
  }
  for (int64_t s = n_blocks; s < n; ++s)
    for (int64_t i = 0; i < m; ++i) element(k, alpha, x + i * ldx, w + s * ldw, beta, c + i * ldc + s);
}

}  // namespace mforce::cpu
