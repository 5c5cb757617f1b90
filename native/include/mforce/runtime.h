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

/* The CPU GEMM's BLAS: the address of a CBLAS cblas_sgemm (OpenBLAS's, which the Java layer
 * loads; libmforce_cpu links no BLAS). mf_cpu_sgemm calls it from the CPU threads, each call on
 * its own piece of C, so it should run single-threaded. */
MF_API mf_status mf_cpu_set_sgemm(void* cblas_sgemm);
/* c_i = alpha * op(a_i) op(b_i) + beta * c_i for i < batch, row-major float32: op(a_i) [m, k]
 * (a_i = a + i * stride_a, [k, m] when trans_a), op(b_i) [k, n] ([n, k] when trans_b), c_i [m, n],
 * rows lda, ldb, ldc apart. C is cut into pieces along its longer side by its shape alone, and the
 * pieces (of the whole batch) run on the CPU threads; a small GEMM runs on the calling thread.
 * So C is bitwise the same with any thread count. MF_ERR_UNSUPPORTED before mf_cpu_set_sgemm.
 * Few rows through a weight (trans_b, not trans_a, m <= mf_cpu_gemm_rows_max()) run on mforce's
 * own kernel instead, which reads b in place, where this CPU has AVX2 and FMA. */
MF_API mf_status mf_cpu_sgemm(int32_t trans_a, int32_t trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                              float alpha, const float* a, int64_t lda, int64_t stride_a, const float* b,
                              int64_t ldb, int64_t stride_b, float beta, float* c, int64_t ldc,
                              int64_t stride_c);
/* The most rows mf_cpu_sgemm gives its own kernel on this CPU: 0 where it lacks AVX2 or FMA. */
MF_API int32_t mf_cpu_gemm_rows_max(void);

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
