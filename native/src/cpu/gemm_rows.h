// The CPU GEMM for few rows: c[m, n] = alpha * x[m, k] w[n, k]^T + beta * c with m small (a
// streamed chunk's tokens through a linear layer), reading w where it lies. OpenBLAS packs the
// whole of w on every call, which with 16 to 40 rows cost as much as the product (perf over
// `mforce generate`: sgemm_incopy 23% of the samples, sgemm_kernel 12%).
#ifndef MFORCE_CPU_GEMM_ROWS_H
#define MFORCE_CPU_GEMM_ROWS_H

#include <cstdint>

namespace mforce::cpu {

// The most rows gemm_rows_nt is used for: up to here it beat single-threaded OpenBLAS on the
// build VM (3x at 16 rows, 1.2x at 42 and 1.15x at 64; even at 128).
constexpr int64_t kGemmRowsMax = 64;

// Whether this CPU runs gemm_rows_nt (AVX2 and FMA).
bool gemm_rows_available();

// c[i, j] = alpha * sum_p x[i, p] w[j, p] + beta * c[i, j] for i < m, j < n (c not read when
// beta is 0). Each element is summed the same way wherever it sits in the block: 8 running
// partial sums over p (FMA), added pairwise, then the k % 8 tail in order; so a block cut out of
// a larger C gives its elements bitwise as the whole would.
void gemm_rows_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* x, int64_t ldx, const float* w,
                  int64_t ldw, float beta, float* c, int64_t ldc);

}  // namespace mforce::cpu
#endif
