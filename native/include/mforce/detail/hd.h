/* Code shared by the CPU (g++) and CUDA (nvcc) implementations.
 *
 * MF_HD marks functions compiled for both. The mf_* arithmetic helpers round each operation
 * exactly as IEEE-754 binary32 says, on both sides: on CUDA they map to the _rn intrinsics,
 * which the compiler never contracts into FMAs; the CPU library is built with
 * -ffp-contract=off. Code that must give bit-identical results on both sides (the random
 * number transforms) uses only these helpers. */
#ifndef MFORCE_DETAIL_HD_H
#define MFORCE_DETAIL_HD_H

#include <stdint.h>
#include <math.h>

#if defined(__CUDACC__)
#define MF_HD __host__ __device__ __forceinline__
#else
#define MF_HD inline
#endif
#if defined(__CUDA_ARCH__)
#define MF_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define MF_UNROLL /* nvcc's host pass: host loops of CUDA files are not hot */
#else
#define MF_UNROLL _Pragma("GCC unroll 16")
#endif

namespace mforce {

MF_HD float mf_add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
MF_HD float mf_mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MF_HD float mf_div(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
MF_HD float mf_fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return fmaf(a, b, c);
#endif
}
MF_HD float mf_sqrt(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return sqrtf(a);
#endif
}
MF_HD uint32_t mf_float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  return u;
#endif
}
MF_HD float mf_bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
#endif
}

}  // namespace mforce
#endif
