// The fp32 tile products of the CPU attention (S = Q·Kᵀ, O += P·V, dV += Pᵀ·dO, ...): one
// register-blocked kernel (see isa.h for how it is compiled).
#ifndef MFORCE_CPU_ATTENTION_TILE_GEMM_H
#define MFORCE_CPU_ATTENTION_TILE_GEMM_H

#include "isa.h"

namespace mforce::cpu::attn {

// C = A·B (accumulate: C += A·B) on row-major fp32 tiles: A is [m, k] with row stride lda, or,
// with trans_a, stored transposed as [k, m]; B is [k, n] (ldb); C is [m, n] (ldc).
// Requires m % 4 == 0 and n % 8 == 0: callers pad their tiles with zeros. Each element of C is
// summed over k in order, so every build and ISA gives the same bits.
MF_CPU_HIDDEN void tile_gemm(bool trans_a, bool accumulate, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
               float* c, int ldc);

// C [m, n] += P [m, k]·B [k, n] (row strides ldp, ldb, ldc; m % 4 == 0, n % 8 == 0) where P holds
// probabilities (or dS) of m queries against k keys, 0 for the pairs the chunk mask hides, and B
// the keys' v (or k) rows. A hidden key has no effect on a query whatever its row of B holds (a
// future chunk's, a stale cache slot's NaN): where the mask hides some pair (`hidden`) and B holds
// a value that is not finite, P's zeros are skipped instead of multiplied (0·NaN is NaN). The
// check costs a pass over B; the skipping product runs only when B is not finite.
MF_CPU_HIDDEN void masked_product(bool hidden, int m, int n, int k, const float* p, int ldp, const float* b, int ldb,
                                  float* c, int ldc);

}  // namespace mforce::cpu::attn
#endif
