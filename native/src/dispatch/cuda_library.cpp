#include "cuda_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "mforce/runtime.h"

namespace {

std::mutex load_mutex;
void* handle = nullptr;           // guarded by load_mutex while loading
std::atomic<bool> ready{false};   // set once a device answered
std::string failure = "mf_cuda_load was not called";

}  // namespace

namespace mforce::dispatch {

void* cuda_symbol(const char* symbol) {
  if (!ready.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(load_mutex);
    mf_set_error("no CUDA device: %s", failure.c_str());
    return nullptr;
  }
  void* p = dlsym(handle, symbol);
  if (!p) mf_set_error("libmforce_cuda has no symbol %s (mismatched build?)", symbol);
  return p;
}

}  // namespace mforce::dispatch

extern "C" {

mf_status mf_cuda_load(const char* path) {
  std::lock_guard<std::mutex> lock(load_mutex);
  if (ready.load()) return MF_OK;
  if (!path || !*path) {
    failure = "libmforce_cuda is not part of this build (nvcc was not found when it was built)";
    mf_set_error("no CUDA device: %s", failure.c_str());
    return MF_ERR_NO_CUDA;
  }
  if (!handle) handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    failure = std::string("cannot load ") + path + ": " + (why ? why : "unknown error");
    mf_set_error("no CUDA device: %s", failure.c_str());
    return MF_ERR_NO_CUDA;
  }
  auto info = reinterpret_cast<decltype(&mfcuda_info)>(dlsym(handle, "mfcuda_info"));
  if (!info) {
    failure = "libmforce_cuda lacks mfcuda_info";
    mf_set_error("no CUDA device: %s", failure.c_str());
    return MF_ERR_NO_CUDA;
  }
  int32_t runtime = 0, driver = 0, devices = 0;
  mf_status status = info(&runtime, &driver, &devices);
  if (status != MF_OK || devices == 0) {
    failure = status != MF_OK ? mf_last_error() : "no CUDA-capable device is present";
    mf_set_error("no CUDA device: %s", failure.c_str());
    return MF_ERR_NO_CUDA;
  }
  ready.store(true, std::memory_order_release);
  return MF_OK;
}

int32_t mf_cuda_ready(void) { return ready.load() ? 1 : 0; }

mf_status mf_cuda_info(int32_t* runtime_version, int32_t* driver_version, int32_t* device_count) {
  static mforce::dispatch::CudaSymbol<decltype(&mfcuda_info)> impl("mfcuda_info");
  auto f = impl.get();
  if (!f) return MF_ERR_NO_CUDA;
  return f(runtime_version, driver_version, device_count);
}

const char* mf_cuda_architectures(void) {
  if (!ready.load()) return "";
  auto f = reinterpret_cast<decltype(&mfcuda_architectures)>(dlsym(handle, "mfcuda_architectures"));
  return f ? f() : "";
}

}  // extern "C"
