// A host stand-in for libcudart.so.13: the part of the CUDA runtime API that mforce's Java layer
// (through the org.bytedeco cuda presets) and the emulated libmforce_cuda call, over host memory.
// Built against the real CUDA headers, so that signatures and struct layouts (cudaDeviceProp)
// are the ones the presets were compiled with. See README.md.
//
// Device memory is host memory; every stream runs its work at once, in submission order, on the
// calling thread (one lock for all), which is one of the orders a device may take. A stream
// being captured (cudaStreamBeginCapture) records its work instead; cudaGraphLaunch runs the
// recording. Functions not defined here are absent: a call to one fails to resolve (the presets
// load with lazy binding), which names the missing function.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace {

using Work = std::function<void()>;

struct Recording {
  std::vector<Work> work;
};

constexpr size_t kDeviceMemory = size_t(16) << 30;  // what cudaGetDeviceProperties reports
std::recursive_mutex lock;                       // one device: work never overlaps
std::map<cudaStream_t, std::shared_ptr<Recording>> capturing;  // streams being captured
std::set<void*> allocations;                     // what cudaMalloc returned and cudaFree has not taken
thread_local cudaError_t last_error = cudaSuccess;

cudaError_t fail(cudaError_t e) {
  last_error = e;
  return e;
}

}  // namespace

// The two hooks of tools/cuda-emu/cuda_runtime.h (declared weak there): the emulated kernels,
// memsets and scratch frees of libmforce_cuda go through them.
void mforce_emu_submit(void* stream, std::function<void()> work) {
  std::lock_guard<std::recursive_mutex> g(lock);
  auto it = capturing.find(static_cast<cudaStream_t>(stream));
  if (it != capturing.end()) {
    it->second->work.push_back(std::move(work));
  } else {
    work();
  }
}

bool mforce_emu_capturing(void* stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  return capturing.count(static_cast<cudaStream_t>(stream)) != 0;
}

extern "C" {

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  std::memset(p, 0, sizeof *p);
  std::strncpy(p->name, "mforce host emulator", sizeof p->name - 1);
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 132;  // emu::sms, what the emulated kernels see
  p->totalGlobalMem = kDeviceMemory;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->sharedMemPerBlockOptin = 232448;
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    default: return "error (host emulator)";
  }
}

// ---- memory ----

cudaError_t cudaMalloc(void** p, size_t bytes) {
  // no more than the device's memory in one piece (the host may overcommit far past it);
  // 256-byte aligned as cudaMalloc's; filled with a pattern, as device memory is not zeroed
  *p = bytes > kDeviceMemory ? nullptr : std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
  if (!*p) return fail(cudaErrorMemoryAllocation);
  std::memset(*p, 0xA5, bytes);
  std::lock_guard<std::recursive_mutex> g(lock);
  allocations.insert(*p);
  return cudaSuccess;
}

// An address cudaMalloc did not return is an invalid argument, as on a device.
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::recursive_mutex> g(lock);
  if (!allocations.erase(p)) return fail(cudaErrorInvalidValue);
  std::free(p);
  return cudaSuccess;
}

// The stream-ordered allocator's pool (AttentionCudaBench keeps it from releasing memory):
// scratch comes from malloc here, so there is nothing to configure.
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  if (device != 0) return fail(cudaErrorInvalidDevice);
  static char the_pool;
  *pool = reinterpret_cast<cudaMemPool_t>(&the_pool);
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void*) { return cudaSuccess; }

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t s) {
  mforce_emu_submit(s, [=] { std::memmove(dst, src, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind, cudaStream_t s) {
  if (width > dpitch || width > spitch) return fail(cudaErrorInvalidPitchValue);
  mforce_emu_submit(s, [=] {
    for (size_t r = 0; r < height; ++r)
      std::memmove(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
  });
  return cudaSuccess;
}

// ---- streams and events ----

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  *s = reinterpret_cast<cudaStream_t>(new char[16]);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> g(lock);
  capturing.erase(s);
  delete[] reinterpret_cast<char*>(s);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (mforce_emu_capturing(s)) return fail(cudaErrorStreamCaptureUnsupported);
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }

struct EventState {
  std::chrono::steady_clock::time_point at;
};

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) {
  *e = reinterpret_cast<cudaEvent_t>(new EventState{std::chrono::steady_clock::now()});
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  auto* state = reinterpret_cast<EventState*>(e);
  mforce_emu_submit(s, [state] { state->at = std::chrono::steady_clock::now(); });
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  auto d = reinterpret_cast<EventState*>(end)->at - reinterpret_cast<EventState*>(start)->at;
  *ms = std::chrono::duration<float, std::milli>(d).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete reinterpret_cast<EventState*>(e);
  return cudaSuccess;
}

// ---- graphs ----

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (capturing.count(s)) return fail(cudaErrorIllegalState);
  capturing[s] = std::make_shared<Recording>();
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  std::lock_guard<std::recursive_mutex> g(lock);
  auto it = capturing.find(s);
  if (it == capturing.end()) return fail(cudaErrorIllegalState);
  *graph = reinterpret_cast<cudaGraph_t>(new Recording(*it->second));
  capturing.erase(it);
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = reinterpret_cast<cudaGraphExec_t>(new Recording(*reinterpret_cast<Recording*>(graph)));
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
  for (const Work& w : reinterpret_cast<Recording*>(exec)->work) mforce_emu_submit(s, w);
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete reinterpret_cast<Recording*>(graph);
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete reinterpret_cast<Recording*>(exec);
  return cudaSuccess;
}

}  // extern "C"
