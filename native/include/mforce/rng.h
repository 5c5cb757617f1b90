/* Counter-based random numbers (Philox4x32-10). The same (seed, offset) gives the same
 * numbers bit for bit on the CPU and on CUDA, whatever the thread layout: number j of a call
 * is a pure function of (seed, offset + j). See mforce/detail/philox.h for the mapping. */
#ifndef MFORCE_RNG_H
#define MFORCE_RNG_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[j] ~ N(0, 1), j < n; stream position offset + j (in numbers). */
MF_KERNEL(rng_normal, (mf_device dev, void* stream, mf_dtype dtype, int64_t n, uint64_t seed,
                       uint64_t offset, void* out))
/* out[j] ~ U(0, 1), j < n, both ends excluded in the stored dtype: F32 in [2^-24, 1 - 2^-24],
 * BF16 the rounded F32 value, at most 0.99609375 (its largest value below 1). */
MF_KERNEL(rng_uniform, (mf_device dev, void* stream, mf_dtype dtype, int64_t n, uint64_t seed,
                        uint64_t offset, void* out))

#ifdef __cplusplus
}
#endif
#endif
