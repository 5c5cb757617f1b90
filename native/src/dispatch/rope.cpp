// Entry point of mforce/rope.h: the checks both backends share, then the backend.
#include "mforce/rope.h"

#include <cmath>

#include "mforce/detail/check.h"
#include "cuda_library.h"

extern "C" mf_status mf_rope_apply(mf_device dev, void* stream, mf_dtype dtype, int64_t batch, int64_t len,
                                   int32_t heads, int32_t head_dim, const void* x, int64_t x_batch_stride,
                                   int64_t x_token_stride, void* out, int64_t out_batch_stride,
                                   int64_t out_token_stride, const float* positions, float theta, int32_t inverse) {
  MF_REQUIRE_SIZES(batch, len, "rope_apply");
  MF_REQUIRE(heads >= 1, "rope_apply: heads = %d; expected >= 1", (int)heads);
  MF_REQUIRE(head_dim >= 8 && head_dim <= 256 && head_dim % 8 == 0,
             "rope_apply: head_dim = %d; expected a multiple of 8 in [8, 256]", (int)head_dim);
  MF_REQUIRE(std::isfinite(theta) && theta > 0.f, "rope_apply: theta = %g; expected a finite value > 0",
             (double)theta);
  MF_REQUIRE(x_batch_stride >= 0 && x_token_stride >= 0 && out_batch_stride >= 0 && out_token_stride >= 0,
             "rope_apply: negative stride");
  MF_REQUIRE(mforce::rows_disjoint(batch, len, out_batch_stride, out_token_stride, (int64_t)heads * head_dim),
             "rope_apply: out's strides (batch %lld, token %lld) make its tokens of %lld elements overlap; expected "
             "a [batch, len, heads, head_dim] layout without overlap",
             (long long)out_batch_stride, (long long)out_token_stride, (long long)heads * head_dim);
  if (batch * len > 0) {
    MF_REQUIRE_PTR(x, "rope_apply"); MF_REQUIRE_PTR(out, "rope_apply"); MF_REQUIRE_PTR(positions, "rope_apply");
  }
  MF_ROUTE(rope_apply, dev, dev, stream, dtype, batch, len, heads, head_dim, x, x_batch_stride, x_token_stride, out,
           out_batch_stride, out_token_stride, positions, theta, inverse);
}
