// CPU implementation of mforce/rope.h: the shared per-(token, pair) op (mforce/detail/rope_ops.h).
#include "mforce/rope.h"

#include "mforce/detail/check.h"
#include "mforce/detail/rope_ops.h"
#include "rope_pairs.h"

using namespace mforce;

extern "C" mf_status mfcpu_rope_apply(mf_device, void*, mf_dtype dtype, int64_t batch, int64_t len, int32_t heads,
                                      int32_t head_dim, const void* x, int64_t x_batch_stride, int64_t x_token_stride,
                                      void* out, int64_t out_batch_stride, int64_t out_token_stride,
                                      const float* positions, float theta, int32_t inverse) {
  return with_float_dtype(dtype, "rope_apply", [&](auto tag) {
    using T = decltype(tag);
    rope::Apply<T> op{(const T*)x, x_batch_stride, x_token_stride, (T*)out, out_batch_stride, out_token_stride,
                      batch, heads, head_dim, positions, inverse != 0};
    cpu::for_each_rope_pair(batch > 0 ? len : 0, head_dim, theta, op);
    return MF_OK;
  });
}
