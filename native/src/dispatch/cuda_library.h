// libmforce_cuda, loaded at run time: libmforce_cpu never links CUDA, so it loads on any
// x86-64 Linux; CUDA kernels are found by name (mfcuda_<kernel>) once mf_cuda_load succeeds.
#ifndef MFORCE_DISPATCH_CUDA_LIBRARY_H
#define MFORCE_DISPATCH_CUDA_LIBRARY_H

#include <atomic>
#include <exception>
#include <new>

#include "mforce/common.h"

namespace mforce::dispatch {

// The address of `symbol` in the loaded CUDA library, or nullptr (with the error set) when
// the library is not loaded or lacks it.
void* cuda_symbol(const char* symbol);

// One CUDA entry point, looked up on first use and cached.
template <typename Fn>
class CudaSymbol {
 public:
  explicit CudaSymbol(const char* name) : name_(name) {}
  Fn get() {
    Fn f = fn_.load(std::memory_order_acquire);
    if (!f) {
      f = reinterpret_cast<Fn>(cuda_symbol(name_));
      if (f) fn_.store(f, std::memory_order_release);
    }
    return f;
  }

 private:
  const char* name_;
  std::atomic<Fn> fn_{nullptr};
};

// Runs the implementation for `dev`; C++ exceptions become statuses here, at the boundary.
template <typename Fn, typename... Args>
mf_status route(const char* kernel, mf_device dev, Fn cpu, CudaSymbol<Fn>& cuda, Args... args) {
  try {
    if (dev == MF_DEVICE_CPU) return cpu(args...);
    if (dev == MF_DEVICE_CUDA) {
      Fn f = cuda.get();
      if (!f) return MF_ERR_NO_CUDA;
      return f(args...);
    }
    mf_set_error("%s: unknown device %d (expected CPU=0 or CUDA=1)", kernel, (int)dev);
    return MF_ERR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    mf_set_error("%s: out of host memory", kernel);
    return MF_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    mf_set_error("%s: internal error: %s", kernel, e.what());
    return MF_ERR_INTERNAL;
  } catch (...) {
    mf_set_error("%s: internal error", kernel);
    return MF_ERR_INTERNAL;
  }
}

}  // namespace mforce::dispatch

// Body of an mf_<name> entry point: forwards the parameters to mfcpu_<name> or mfcuda_<name>.
#define MF_ROUTE(name, dev, ...)                                                                  \
  do {                                                                                            \
    static ::mforce::dispatch::CudaSymbol<decltype(&mfcpu_##name)> cuda_impl("mfcuda_" #name);    \
    return ::mforce::dispatch::route(#name, dev, &mfcpu_##name, cuda_impl, __VA_ARGS__);          \
  } while (0)

#endif
