// Entry points of the tensor utilities in mforce/runtime.h.
#include "mforce/runtime.h"

#include "mforce/detail/check.h"
#include "cuda_library.h"

extern "C" {

mf_status mf_fill(mf_device dev, void* stream, mf_dtype dtype, int64_t n, double value, void* out) {
  MF_REQUIRE(n >= 0, "fill: negative count %lld", (long long)n);
  MF_REQUIRE(n == 0 || out, "fill: argument 'out' is null");
  // truncation to int32 is defined only for values that truncate into its range (not NaN)
  MF_REQUIRE(dtype != MF_I32 || (value > -2147483649.0 && value < 2147483648.0),
             "fill: value %g does not truncate to an int32", value);
  MF_ROUTE(fill, dev, dev, stream, dtype, n, value, out);
}

mf_status mf_convert(mf_device dev, void* stream, mf_dtype in_dtype, int64_t n, const void* in, mf_dtype out_dtype,
                     void* out) {
  MF_REQUIRE(n >= 0, "convert: negative count %lld", (long long)n);
  MF_REQUIRE(n == 0 || (in && out), "convert: null input or output");
  MF_ROUTE(convert, dev, dev, stream, in_dtype, n, in, out_dtype, out);
}

}  // extern "C"
