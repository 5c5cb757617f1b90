/* Runtime services of the native layer: CPU threads, loading the CUDA library, and the
 * elementwise tensor utilities every other layer needs (fill, dtype conversion). */
#ifndef MFORCE_RUNTIME_H
#define MFORCE_RUNTIME_H

#include "mforce/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Worker threads of the CPU kernels (default: the machine's hardware threads), 1 .. 4096. */
MF_API mf_status mf_cpu_set_threads(int32_t threads);
MF_API int32_t mf_cpu_threads(void);

/* Sets the process environment variable `name` to `value` unless it is set already (the
 * caller's setting wins): for a library that reads its settings once, when it is loaded, such as
 * OpenBLAS. Java's System.getenv does not see the change; mf_getenv does. */
MF_API mf_status mf_setenv_default(const char* name, const char* value);
/* The variable's value in the process environment now, or NULL when it is not set. */
MF_API const char* mf_getenv(const char* name);

/* Loads libmforce_cuda from `path` and checks that a device is usable. On failure the
 * status is MF_ERR_NO_CUDA and mf_last_error() says why (no library, no driver, no device);
 * CUDA kernels then fail with MF_ERR_NO_CUDA. Safe to call again. */
MF_API mf_status mf_cuda_load(const char* path);
/* 1 when mf_cuda_load succeeded. */
MF_API int32_t mf_cuda_ready(void);
/* Facts about the loaded CUDA library: runtime and driver versions, device count. */
MF_API mf_status mf_cuda_info(int32_t* runtime_version, int32_t* driver_version, int32_t* device_count);
MF_API mf_status mfcuda_info(int32_t* runtime_version, int32_t* driver_version, int32_t* device_count);
/* The architectures libmforce_cuda was built for, e.g. "sm_80 sm_90a compute_90" ("" if not loaded). */
MF_API const char* mf_cuda_architectures(void);
MF_API const char* mfcuda_architectures(void);

/* out[i] = value, n elements of dtype (value converted to dtype; for MF_I32 it is truncated, and a
 * value that does not truncate into int32, or NaN, is an invalid argument). */
MF_KERNEL(fill, (mf_device dev, void* stream, mf_dtype dtype, int64_t n, double value, void* out))
/* out[i] = (out_dtype) in[i], n elements; bf16 rounding is round-to-nearest-even. */
MF_KERNEL(convert, (mf_device dev, void* stream, mf_dtype in_dtype, int64_t n, const void* in,
                    mf_dtype out_dtype, void* out))

#ifdef __cplusplus
}
#endif
#endif
