// Entry points of mforce/rng.h.
#include "mforce/rng.h"

#include "mforce/detail/check.h"
#include "cuda_library.h"

extern "C" {

mf_status mf_rng_normal(mf_device dev, void* stream, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset,
                        void* out) {
  MF_REQUIRE(n >= 0, "rng_normal: negative count %lld", (long long)n);
  MF_REQUIRE(n == 0 || out, "rng_normal: argument 'out' is null");
  MF_REQUIRE(static_cast<uint64_t>(n) <= UINT64_MAX - offset,
             "rng_normal: offset %llu + count %lld passes the end of the stream (2^64 numbers)",
             (unsigned long long)offset, (long long)n);
  MF_ROUTE(rng_normal, dev, dev, stream, dtype, n, seed, offset, out);
}

mf_status mf_rng_uniform(mf_device dev, void* stream, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset,
                         void* out) {
  MF_REQUIRE(n >= 0, "rng_uniform: negative count %lld", (long long)n);
  MF_REQUIRE(n == 0 || out, "rng_uniform: argument 'out' is null");
  MF_REQUIRE(static_cast<uint64_t>(n) <= UINT64_MAX - offset,
             "rng_uniform: offset %llu + count %lld passes the end of the stream (2^64 numbers)",
             (unsigned long long)offset, (long long)n);
  MF_ROUTE(rng_uniform, dev, dev, stream, dtype, n, seed, offset, out);
}

}  // extern "C"
