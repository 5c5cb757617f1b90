#include <cstdlib>
#include <cstring>

#include "common.cuh"
#include "mforce/runtime.h"

namespace mforce::cuda {

mf_status fail(const char* what, cudaError_t err) {
  mf_set_error("%s: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return MF_ERR_OUT_OF_MEMORY;
  }
  return MF_ERR_CUDA;
}

mf_status check_launch(const char* kernel, cudaStream_t stream) {
  static const bool sync_each = [] {
    const char* v = std::getenv("MFORCE_CUDA_SYNC");
    return v && std::strcmp(v, "0") != 0;
  }();
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return fail(kernel, err);
  if (sync_each) {
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    cudaStreamIsCapturing(stream, &capture);
    if (capture == cudaStreamCaptureStatusNone) {
      err = cudaStreamSynchronize(stream);
      if (err != cudaSuccess) return fail(kernel, err);
    }
  }
  return MF_OK;
}

int sm_count() {
  constexpr int kMaxDevices = 64;
  static int cached[kMaxDevices] = {0};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kMaxDevices) return 132;
  if (cached[device] == 0) {
    int n = 0;
    cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device);
    cached[device] = n > 0 ? n : 132;
  }
  return cached[device];
}

}  // namespace mforce::cuda

extern "C" {

mf_status mfcuda_info(int32_t* runtime_version, int32_t* driver_version, int32_t* device_count) {
  int runtime = 0, driver = 0, count = 0;
  MF_CUDA_TRY("cudaRuntimeGetVersion", cudaRuntimeGetVersion(&runtime));
  MF_CUDA_TRY("cudaDriverGetVersion", cudaDriverGetVersion(&driver));
  if (driver == 0) {
    mf_set_error("the NVIDIA driver is not installed (libcuda.so.1 not found)");
    return MF_ERR_NO_CUDA;
  }
  MF_CUDA_TRY("cudaGetDeviceCount", cudaGetDeviceCount(&count));
  if (runtime_version) *runtime_version = runtime;
  if (driver_version) *driver_version = driver;
  if (device_count) *device_count = count;
  return MF_OK;
}

const char* mfcuda_architectures(void) { return MFORCE_CUDA_ARCHS; }

}  // extern "C"
