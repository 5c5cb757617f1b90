// CPU implementation of mforce/runtime.h: the tensor utilities (fill, convert), the CPU threads
// and the process environment.
#include "mforce/runtime.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "mforce/detail/check.h"
#include "elementwise.h"

using namespace mforce;

namespace {

template <typename T>
void fill_with(int64_t n, T value, T* out) {
  cpu::parallel_for(n, cpu::kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = value;
  });
}

template <typename In, typename Out>
void convert_with(int64_t n, const In* in, Out* out) {
  cpu::parallel_for(n, cpu::kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = from_float<Out>(to_float(in[i]));
  });
}

}  // namespace

extern "C" {

mf_status mfcpu_fill(mf_device, void*, mf_dtype dtype, int64_t n, double value, void* out) {
  switch (dtype) {
    case MF_F32: fill_with<float>(n, (float)value, (float*)out); return MF_OK;
    case MF_BF16: fill_with<bf16>(n, float_to_bf16((float)value), (bf16*)out); return MF_OK;
    case MF_I32: fill_with<int32_t>(n, (int32_t)value, (int32_t*)out); return MF_OK;
    default: mf_set_error("fill: unknown dtype %d", (int)dtype); return MF_ERR_INVALID_ARGUMENT;
  }
}

mf_status mfcpu_convert(mf_device, void*, mf_dtype in_dtype, int64_t n, const void* in, mf_dtype out_dtype,
                        void* out) {
  return with_float_dtype(in_dtype, "convert", [&](auto in_tag) {
    using In = decltype(in_tag);
    return with_float_dtype(out_dtype, "convert", [&](auto out_tag) {
      using Out = decltype(out_tag);
      convert_with<In, Out>(n, (const In*)in, (Out*)out);
      return MF_OK;
    });
  });
}

mf_status mf_cpu_set_threads(int32_t threads) {
  if (threads < 1 || threads > cpu::kMaxThreads) {
    mf_set_error("cpu threads: %d requested, expected 1..%d", (int)threads, cpu::kMaxThreads);
    return MF_ERR_INVALID_ARGUMENT;
  }
  try {
    cpu::set_threads(threads);
  } catch (const std::system_error& e) {  // the system would not start that many threads
    mf_set_error("cpu threads: could not start %d threads (%s); the kernels run on %d", (int)threads, e.what(),
                 cpu::threads());
    return MF_ERR_OUT_OF_MEMORY;
  }
  return MF_OK;
}

int32_t mf_cpu_threads(void) { return cpu::threads(); }

mf_status mf_setenv_default(const char* name, const char* value) {
  if (name == nullptr || value == nullptr || *name == '\0' || std::strchr(name, '=') != nullptr) {
    mf_set_error("setenv: the name '%s' is not a variable name (expected a non-empty name without '=')",
                 name == nullptr ? "(null)" : name);
    return MF_ERR_INVALID_ARGUMENT;
  }
  if (setenv(name, value, 0) != 0) {
    mf_set_error("setenv %s=%s: %s", name, value, std::strerror(errno));
    return MF_ERR_OUT_OF_MEMORY;
  }
  return MF_OK;
}

const char* mf_getenv(const char* name) { return name == nullptr ? nullptr : std::getenv(name); }

}  // extern "C"
