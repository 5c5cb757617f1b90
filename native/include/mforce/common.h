/* The C ABI shared by every mforce kernel.
 *
 * Conventions (DESIGN.md §1, §2):
 *  - every entry point returns an mf_status; on failure mf_last_error() holds a readable
 *    message for the calling thread; no C++ exception and no abort ever crosses the ABI;
 *  - every kernel takes (mf_device dev, void* stream) first: dev picks the implementation
 *    (libmforce_cpu or libmforce_cuda), stream is a cudaStream_t on CUDA and ignored on CPU;
 *  - tensors are raw pointers to dense row-major (token-major) memory; the Java layer has
 *    validated shapes, dtypes and devices before the call, the native side checks again
 *    what is cheap (null pointers, negative sizes, unknown dtypes);
 *  - per-sample scalars (flow times, weights) are float32 arrays of length `batch` on the
 *    same device as the data.
 */
#ifndef MFORCE_COMMON_H
#define MFORCE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MF_API __attribute__((visibility("default")))

typedef int32_t mf_status;
enum {
  MF_OK = 0,
  MF_ERR_INVALID_ARGUMENT = 1,
  MF_ERR_UNSUPPORTED = 2,   /* a valid request this build or device cannot serve */
  MF_ERR_NO_CUDA = 3,       /* libmforce_cuda not loaded, no driver or no device */
  MF_ERR_CUDA = 4,          /* a CUDA call or kernel launch failed */
  MF_ERR_OUT_OF_MEMORY = 5,
  MF_ERR_INTERNAL = 6
};

typedef int32_t mf_device;
enum { MF_DEVICE_CPU = 0, MF_DEVICE_CUDA = 1 };

typedef int32_t mf_dtype;
enum { MF_F32 = 0, MF_BF16 = 1, MF_I32 = 2 };

/* The message of the last failed call on this thread ("" when none). */
MF_API const char* mf_last_error(void);
/* Sets this thread's message; used by both backends. */
MF_API void mf_set_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
MF_API const char* mf_version(void);

/* Declares one kernel three times with a single parameter list: mf_<name>, the entry point
 * that dispatches on `dev`, and the two implementations mfcpu_<name> (libmforce_cpu) and
 * mfcuda_<name> (libmforce_cuda, looked up at run time so libmforce_cpu never needs CUDA). */
#define MF_KERNEL(name, params)          \
  MF_API mf_status mf_##name params;     \
  MF_API mf_status mfcpu_##name params;  \
  MF_API mf_status mfcuda_##name params;

#ifdef __cplusplus
}
#endif
#endif
