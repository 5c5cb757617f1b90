// The host helpers of cuda-kernels/common.cu that the emulated libmforce_cuda exports (the rest
// of common.cu is in emu.cpp): what mf_cuda_load asks before it uses the library.
#include "cuda_runtime.h"
#include "mforce/runtime.h"

int mforce_emu_device_count();  // host-runtime/cudart.cpp: EMU_DEVICES, default 2

extern "C" {

mf_status mfcuda_info(int32_t* runtime_version, int32_t* driver_version, int32_t* device_count) {
  if (runtime_version) *runtime_version = 13000;
  if (driver_version) *driver_version = 13000;
  if (device_count) *device_count = mforce_emu_device_count();
  return MF_OK;
}

const char* mfcuda_architectures(void) { return "host emulator (tools/cuda-emu)"; }

}  // extern "C"
