/* Building blocks of the elementwise kernels shared by CPU and CUDA.
 *
 * An elementwise op is a functor with
 *     template <int K> MF_HD void operator()(int64_t b, int64_t i) const;
 * that handles the K consecutive elements i .. i+K-1 of row b of a [batch, n] problem
 * (i is a flat index; the K elements never straddle two rows). The CPU driver
 * (native/src/cpu/elementwise.h) and the CUDA driver (cuda-kernels/elementwise.cuh) decide
 * K and the thread layout; the op only says what one element is. */
#ifndef MFORCE_DETAIL_ELEMENTWISE_H
#define MFORCE_DETAIL_ELEMENTWISE_H

#include "mforce/detail/bf16.h"

namespace mforce {

/* K elements of p starting at i, widened to float. On CUDA a 16-byte group is read with one
 * vector load (the driver guarantees alignment whenever K·sizeof(T) == 16). */
template <int K, typename T>
MF_HD void load(const T* p, int64_t i, float (&v)[K]) {
#if defined(__CUDA_ARCH__)
  if constexpr (K * sizeof(T) == 16) {
    uint4 raw = *reinterpret_cast<const uint4*>(p + i);
    const T* e = reinterpret_cast<const T*>(&raw);
    MF_UNROLL
    for (int k = 0; k < K; ++k) v[k] = to_float(e[k]);
  } else
#endif
  {
    MF_UNROLL
    for (int k = 0; k < K; ++k) v[k] = to_float(p[i + k]);
  }
}

template <int K, typename T>
MF_HD void store(T* p, int64_t i, const float (&v)[K]) {
#if defined(__CUDA_ARCH__)
  if constexpr (K * sizeof(T) == 16) {
    uint4 raw;
    T* e = reinterpret_cast<T*>(&raw);
    MF_UNROLL
    for (int k = 0; k < K; ++k) e[k] = from_float<T>(v[k]);
    *reinterpret_cast<uint4*>(p + i) = raw;
  } else
#endif
  {
    MF_UNROLL
    for (int k = 0; k < K; ++k) p[i + k] = from_float<T>(v[k]);
  }
}

}  // namespace mforce
#endif
