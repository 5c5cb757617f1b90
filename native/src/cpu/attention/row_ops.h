// Vectorized row operations of the CPU attention's softmax on fp32 tile rows (see isa.h for how
// they are compiled). Row lengths are multiples of 8: tiles are padded.
#ifndef MFORCE_CPU_ATTENTION_ROW_OPS_H
#define MFORCE_CPU_ATTENTION_ROW_OPS_H

#include "isa.h"

namespace mforce::cpu::attn {

// x[j] *= a.
MF_CPU_HIDDEN void scale_row(float* x, int n, float a);

// max_j x[j] (-inf when every x[j] is -inf).
MF_CPU_HIDDEN float row_max(const float* x, int n);

// x[j] = exp(scale·x[j] − shift) with the argument formed in double (rounded only once, at the
// end), returning Σ_j x[j] (summed in eight interleaved partial sums, in a fixed order).
// x[j] = -inf gives 0 whatever the scale; arguments below -87.3 (results below FLT_MIN) give 0.
// The exp is correctly rounded but in rare near-ties.
MF_CPU_HIDDEN float exp_affine(float* x, int n, float scale, float shift);

}  // namespace mforce::cpu::attn
#endif
