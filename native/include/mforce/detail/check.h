// Argument checks at the native entry points. The Java layer validates everything first;
// these catch what reaches the ABI from other callers (C, tests) and turn it into a status.
#ifndef MFORCE_DETAIL_CHECK_H
#define MFORCE_DETAIL_CHECK_H

#include "mforce/common.h"
#include "mforce/detail/bf16.h"

#define MF_REQUIRE(cond, ...)         \
  do {                                \
    if (!(cond)) {                    \
      mf_set_error(__VA_ARGS__);      \
      return MF_ERR_INVALID_ARGUMENT; \
    }                                 \
  } while (0)

#define MF_REQUIRE_PTR(p, kernel) MF_REQUIRE((p) != nullptr, "%s: argument '%s' is null", kernel, #p)
#define MF_REQUIRE_SIZES(batch, n, kernel)                                                  \
  MF_REQUIRE((batch) >= 0 && (n) >= 0, "%s: negative size (batch=%lld, n=%lld)", kernel, \
             (long long)(batch), (long long)(n))

namespace mforce {

// Whether `batch` × `len` rows of `row` elements at the given strides never share an element, so
// that a kernel writing them in parallel does not race: one dimension nests inside the other
// (token-major or batch-major; a dimension of size <= 1 takes no room). The rule of the Java
// layer's RunLayout.
inline bool rows_disjoint(int64_t batch, int64_t len, int64_t batch_stride, int64_t token_stride, int64_t row) {
  if (batch <= 0 || len <= 0) return true;
  int64_t ts = len > 1 ? token_stride : row;
  int64_t bs = batch > 1 ? batch_stride : row;
  bool token_major = (len <= 1 || ts >= row) && (batch <= 1 || bs >= len * ts);
  bool batch_major = (batch <= 1 || bs >= row) && (len <= 1 || ts >= batch * bs);
  return token_major || batch_major;
}

// Calls fn with a value of the element type of a float dtype (float or bf16).
template <typename Fn>
mf_status with_float_dtype(mf_dtype dtype, const char* kernel, Fn&& fn) {
  switch (dtype) {
    case MF_F32: return fn(float{});
    case MF_BF16: return fn(bf16{});
    default:
      mf_set_error("%s: dtype %d is not a float dtype (expected F32=0 or BF16=1)", kernel, (int)dtype);
      return MF_ERR_INVALID_ARGUMENT;
  }
}

}  // namespace mforce
#endif
