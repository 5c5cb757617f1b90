/* bfloat16 storage as uint16_t, converted the same way on CPU and CUDA:
 * widening is exact; narrowing rounds to nearest, ties to even, and keeps NaN a NaN. */
#ifndef MFORCE_DETAIL_BF16_H
#define MFORCE_DETAIL_BF16_H

#include "mforce/detail/hd.h"

namespace mforce {

struct bf16 {
  uint16_t bits;
};

MF_HD float bf16_to_float(bf16 h) { return mf_bits_float(static_cast<uint32_t>(h.bits) << 16); }

MF_HD bf16 float_to_bf16(float f) {
  uint32_t u = mf_float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{static_cast<uint16_t>((u >> 16) | 0x0040u)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{static_cast<uint16_t>(u >> 16)};
}

/* Element access for the templated kernels: T is float or bf16, arithmetic is float. */
MF_HD float to_float(float v) { return v; }
MF_HD float to_float(bf16 v) { return bf16_to_float(v); }
template <typename T> MF_HD T from_float(float v);
template <> MF_HD float from_float<float>(float v) { return v; }
template <> MF_HD bf16 from_float<bf16>(float v) { return float_to_bf16(v); }

}  // namespace mforce
#endif
