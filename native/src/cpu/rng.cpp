// CPU implementation of mforce/rng.h; the numbers come from the shared mforce/detail/philox.h.
#include "mforce/rng.h"

#include "elementwise.h"
#include "mforce/detail/check.h"
#include "mforce/detail/philox.h"

using namespace mforce;

namespace {

// Philox blocks [first, last) (four numbers each); positions outside [offset, offset + n) are dropped.
template <typename T, bool Normal>
MF_FMA_CLONES void fill_blocks(uint64_t first, uint64_t last, int64_t n, uint64_t seed, uint64_t offset, T* out) {
  for (uint64_t block = first; block < last; ++block) {
    float v[4];
    if (Normal) philox_normal4(seed, block, v); else philox_uniform4(seed, block, v);
    for (int lane = 0; lane < 4; ++lane) {
      uint64_t p = block * 4 + lane;
      if (p >= offset && p < offset + static_cast<uint64_t>(n)) {
        out[p - offset] = Normal ? from_float<T>(v[lane]) : unit_to<T>(v[lane]);
      }
    }
  }
}

template <typename T, bool Normal>
void fill_random(int64_t n, uint64_t seed, uint64_t offset, T* out) {
  uint64_t first_block = offset >> 2;
  int64_t blocks = static_cast<int64_t>(((offset + n - 1) >> 2) - first_block + 1);
  cpu::parallel_for(blocks, cpu::kGrain / 4, [&](int64_t begin, int64_t end) {
    fill_blocks<T, Normal>(first_block + static_cast<uint64_t>(begin), first_block + static_cast<uint64_t>(end), n,
                           seed, offset, out);
  });
}

template <bool Normal>
mf_status random(const char* kernel, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, void* out) {
  if (n == 0) return MF_OK;
  return with_float_dtype(dtype, kernel, [&](auto tag) {
    using T = decltype(tag);
    fill_random<T, Normal>(n, seed, offset, (T*)out);
    return MF_OK;
  });
}

}  // namespace

extern "C" {

mf_status mfcpu_rng_normal(mf_device, void*, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, void* out) {
  return random<true>("rng_normal", dtype, n, seed, offset, out);
}

mf_status mfcpu_rng_uniform(mf_device, void*, mf_dtype dtype, int64_t n, uint64_t seed, uint64_t offset, void* out) {
  return random<false>("rng_uniform", dtype, n, seed, offset, out);
}

}  // extern "C"
