// A host stand-in for libcudart.so.13: the part of the CUDA runtime API that mforce's Java layer
// (through the org.bytedeco cuda presets) and the emulated libmforce_cuda call, over host memory.
// Built against the real CUDA headers, so that signatures and struct layouts (cudaDeviceProp)
// are the ones the presets were compiled with. See README.md.
//
// Devices: EMU_DEVICES of them (default 2, at most 8), alike, each with its own memory count,
// scratch pool and legacy stream; a stream and an event belong to the device current when they were
// made. Where the CUDA programming guide says a call fails across devices, it does here: a kernel
// launched into a stream of a device that is not current (the emulator stops with the reason, as
// for every launch a GPU refuses), an event recorded into another device's stream
// (cudaErrorInvalidResourceHandle); copies, waits and synchronizations across devices work.
//
// Device memory is host memory. A stream's work runs in submission order, but only when the host
// waits for it (a synchronization of the stream, an event recorded after it, or the device, and
// cudaFree, which synchronizes the device) or another stream waits for it (cudaStreamWaitEvent),
// on the waiting thread, under one lock for all. That is one of the schedules a device may take,
// and the one furthest from submission: work the host reads without waiting for, or another
// stream uses without an event between them, has not run yet. A stream being captured
// (cudaStreamBeginCapture) records its work instead; cudaGraphLaunch queues the recording. Functions not defined here are absent: a call to one fails to resolve (the presets
// load with lazy binding), which names the missing function.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using Work = std::function<void()>;

struct Recording {
  std::vector<Work> work;
  std::thread::id thread;                            // that began the capture
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  bool invalidated = false;                          // an unsafe call was made during the capture
};

// What cudaGetDeviceProperties reports, and all that cudaMalloc and the scratch pool may hold
// together: small enough that a test can fill it (the pattern cudaMalloc writes is real host memory)
constexpr size_t kDeviceMemory = size_t(4) << 30;
constexpr int kMaxDevices = 8;
std::recursive_mutex lock;                       // work of every device runs under it, never overlapping
std::map<cudaStream_t, std::shared_ptr<Recording>> capturing;  // streams being captured

// A stream's work not yet run; `submitted` and `done` count all its work so far, so that an event
// is the position `submitted` had when it was recorded.
struct Queue {
  std::deque<Work> work;
  uint64_t submitted = 0, done = 0;
};
std::map<cudaStream_t, Queue> queues;            // every stream that was given work (nullptr: the legacy one)

// Runs `stream`'s work until `position` of it is done (lock held). A work may drain other streams
// (a cudaStreamWaitEvent); map references stay valid across those insertions.
void drain(cudaStream_t stream, uint64_t position) {
  Queue& q = queues[stream];
  while (q.done < position && !q.work.empty()) {
    Work w = std::move(q.work.front());
    q.work.pop_front();
    ++q.done;
    w();
  }
}

void drain_all() {
  for (auto& [stream, q] : queues) drain(stream, q.submitted);
}
thread_local cudaError_t last_error = cudaSuccess;
thread_local cudaStreamCaptureMode thread_mode = cudaStreamCaptureModeGlobal;  // cudaThreadExchangeStreamCaptureMode

cudaError_t fail(cudaError_t e) {
  last_error = e;
  return e;
}

// The device's default stream-ordered pool, which the emulated kernels' scratch (cudaMallocAsync)
// comes from, as the CUDA documentation describes it: it holds `reserved` bytes from the device,
// `used` of them handed out; at a synchronization it gives back what it holds above the release
// threshold (default 0), and cudaMemPoolTrimTo gives back what it holds above the bytes to keep,
// never what is in use. Without the threshold mforce sets, scratch would go back at every
// synchronization here too.
struct ScratchPool {
  uint64_t threshold = 0, reserved = 0, used = 0, reserved_high = 0, used_high = 0;
  void shrink_to(uint64_t keep) { reserved = std::max(used, std::min(reserved, keep)); }
};

struct DeviceState {
  size_t allocated = 0;  // what cudaMalloc handed out on it and cudaFree has not taken back
  ScratchPool scratch;
  char legacy_stream = 0;  // its address is the device's legacy (null) stream in `queues`
};
DeviceState devices[kMaxDevices];
thread_local int current_device = 0;

int device_count() {
  static const int n = [] {
    const char* env = std::getenv("EMU_DEVICES");
    const int v = env ? std::atoi(env) : 2;
    return std::clamp(v, 1, kMaxDevices);
  }();
  return n;
}

struct Allocation { size_t bytes; int device; };
std::map<void*, Allocation> allocations;         // what cudaMalloc returned and cudaFree has not taken
std::map<void*, Allocation> scratch_blocks;      // what the scratch pools handed out
std::map<cudaStream_t, int> stream_devices;      // the streams cudaStreamCreateWithFlags made

// The stream work goes to: the current device's legacy stream for the null stream.
cudaStream_t resolve(cudaStream_t s) {
  return s ? s : reinterpret_cast<cudaStream_t>(&devices[current_device].legacy_stream);
}

// The device a resolved stream belongs to.
int device_of(cudaStream_t s) {
  for (int d = 0; d < kMaxDevices; ++d)
    if (s == reinterpret_cast<cudaStream_t>(&devices[d].legacy_stream)) return d;
  auto it = stream_devices.find(s);
  return it == stream_devices.end() ? -1 : it->second;
}

ScratchPool* pool_of(cudaMemPool_t pool) {
  for (int d = 0; d < device_count(); ++d)
    if (pool == reinterpret_cast<cudaMemPool_t>(&devices[d].scratch)) return &devices[d].scratch;
  return nullptr;
}

// Whether `more` bytes fit on `device` beside what cudaMalloc and its scratch pool hold (lock held).
bool fits(int device, uint64_t more) {
  return devices[device].allocated + devices[device].scratch.reserved + more <= kDeviceMemory;
}

// After a synchronization of `device`: its scratch pool gives back what it holds above its release threshold.
cudaError_t synchronized_now(int device) {
  std::lock_guard<std::recursive_mutex> g(lock);
  devices[device].scratch.shrink_to(devices[device].scratch.threshold);
  return cudaSuccess;
}

// A "potentially unsafe" call (cudaMalloc, cudaFree) while a capture is going on, as the CUDA
// documentation of cudaThreadExchangeStreamCaptureMode has it: a thread in relaxed mode may make
// it; otherwise it is refused, and the capture invalidated, when the thread itself began a capture
// that is not relaxed, or (a thread in global mode) when another thread's capture is global.
cudaError_t unsafe_call_allowed() {
  if (thread_mode == cudaStreamCaptureModeRelaxed) return cudaSuccess;
  for (auto& [stream, rec] : capturing) {
    if (rec->mode == cudaStreamCaptureModeRelaxed) continue;
    const bool own = rec->thread == std::this_thread::get_id();
    if (own || (rec->mode == cudaStreamCaptureModeGlobal && thread_mode == cudaStreamCaptureModeGlobal)) {
      rec->invalidated = true;
      return fail(cudaErrorStreamCaptureUnsupported);
    }
  }
  return cudaSuccess;
}

}  // namespace

// The stream hooks of tools/cuda-emu/cuda_runtime.h (declared weak there): the emulated kernels,
// memsets and scratch frees of libmforce_cuda go through them.
void mforce_emu_submit(void* stream, std::function<void()> work) {
  std::lock_guard<std::recursive_mutex> g(lock);
  const cudaStream_t s = resolve(static_cast<cudaStream_t>(stream));
  auto it = capturing.find(s);
  if (it != capturing.end()) {
    it->second->work.push_back(std::move(work));
  } else {
    Queue& q = queues[s];
    q.work.push_back(std::move(work));
    ++q.submitted;
  }
}

bool mforce_emu_capturing(void* stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  return capturing.count(resolve(static_cast<cudaStream_t>(stream))) != 0;
}

// The device hooks of tools/cuda-emu/cuda_runtime.h: how many devices the emulated library
// reports, the calling thread's current one, and the check of every kernel launch (the emulated
// kernels' and cuBLASLt's), whose stream must belong to the current device.
int mforce_emu_device_count() { return device_count(); }

int mforce_emu_current_device() { return current_device; }

const char* mforce_emu_launch_refused(void* stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  const int d = device_of(resolve(static_cast<cudaStream_t>(stream)));
  if (d == current_device) return nullptr;
  static thread_local char why[160];
  std::snprintf(why, sizeof why, "kernel launched into a stream of device %d while device %d is current (a GPU "
                "refuses it: cudaErrorInvalidResourceHandle)", d, current_device);
  return why;
}

// The scratch hooks of tools/cuda-emu/cuda_runtime.h: cudaMallocAsync and cudaFreeAsync of the
// emulated kernels. nullptr (cudaMallocAsync: cudaErrorMemoryAllocation) when the pool would have
// to grow past what the device has left.
// From the pool of the stream's device, as cudaMallocAsync's.
void* mforce_emu_scratch_allocate(size_t bytes, void* stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  const int device = device_of(resolve(static_cast<cudaStream_t>(stream)));
  if (device < 0) return nullptr;
  ScratchPool& pool = devices[device].scratch;
  const uint64_t needed = pool.used + bytes;
  if (needed > pool.reserved && !fits(device, needed - pool.reserved)) return nullptr;
  void* p = std::malloc(bytes ? bytes : 1);
  scratch_blocks[p] = {bytes, device};
  pool.used += bytes;
  pool.reserved = std::max(pool.reserved, pool.used);
  pool.used_high = std::max(pool.used_high, pool.used);
  pool.reserved_high = std::max(pool.reserved_high, pool.reserved);
  return p;
}

void mforce_emu_scratch_free(void* p) {
  std::lock_guard<std::recursive_mutex> g(lock);
  auto it = scratch_blocks.find(p);
  if (it == scratch_blocks.end()) std::abort();  // not from mforce_emu_scratch_allocate: a kernel bug
  devices[it->second.device].scratch.used -= it->second.bytes;
  scratch_blocks.erase(it);
  std::free(p);
}

extern "C" {

cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count()) return fail(cudaErrorInvalidDevice);
  current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue);
  *device = current_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue);
  *count = device_count();
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device < 0 || device >= device_count()) return fail(cudaErrorInvalidDevice);
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
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    default: return "error (host emulator)";
  }
}

// ---- memory ----

cudaError_t cudaMalloc(void** p, size_t bytes) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (cudaError_t e = unsafe_call_allowed()) return e;
  // no more than the device has left (the host may overcommit far past it); 256-byte aligned as
  // cudaMalloc's; filled with a pattern, as device memory is not zeroed
  *p = fits(current_device, bytes) ? std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256) : nullptr;
  if (!*p) return fail(cudaErrorMemoryAllocation);
  std::memset(*p, 0xA5, bytes);
  allocations[*p] = {bytes, current_device};
  devices[current_device].allocated += bytes;
  return cudaSuccess;
}

// An address cudaMalloc did not return is an invalid argument, as on a device. cudaFree waits for
// the device's work first, as on a device.
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::recursive_mutex> g(lock);
  if (cudaError_t e = unsafe_call_allowed()) return e;
  auto it = allocations.find(p);
  if (it == allocations.end()) return fail(cudaErrorInvalidValue);
  drain_all();
  devices[it->second.device].allocated -= it->second.bytes;
  allocations.erase(it);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  if (device < 0 || device >= device_count()) return fail(cudaErrorInvalidDevice);
  *pool = reinterpret_cast<cudaMemPool_t>(&devices[device].scratch);
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  ScratchPool* scratch_pool = pool_of(pool);
  if (!scratch_pool || !value) return fail(cudaErrorInvalidValue);
  std::lock_guard<std::recursive_mutex> g(lock);
  switch (attr) {
    case cudaMemPoolAttrReleaseThreshold: scratch_pool->threshold = *static_cast<uint64_t*>(value); break;
    case cudaMemPoolAttrReservedMemHigh: scratch_pool->reserved_high = 0; break;  // only 0 may be set: a reset
    case cudaMemPoolAttrUsedMemHigh: scratch_pool->used_high = 0; break;
    default: return fail(cudaErrorInvalidValue);  // the attributes mforce does not use
  }
  return cudaSuccess;
}

cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t pool, cudaMemPoolAttr attr, void* value) {
  const ScratchPool* scratch_pool = pool_of(pool);
  if (!scratch_pool || !value) return fail(cudaErrorInvalidValue);
  std::lock_guard<std::recursive_mutex> g(lock);
  uint64_t* out = static_cast<uint64_t*>(value);
  switch (attr) {
    case cudaMemPoolAttrReleaseThreshold: *out = scratch_pool->threshold; break;
    case cudaMemPoolAttrReservedMemCurrent: *out = scratch_pool->reserved; break;
    case cudaMemPoolAttrReservedMemHigh: *out = scratch_pool->reserved_high; break;
    case cudaMemPoolAttrUsedMemCurrent: *out = scratch_pool->used; break;
    case cudaMemPoolAttrUsedMemHigh: *out = scratch_pool->used_high; break;
    default: return fail(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaMemPoolTrimTo(cudaMemPool_t pool, size_t keep) {
  ScratchPool* scratch_pool = pool_of(pool);
  if (!scratch_pool) return fail(cudaErrorInvalidValue);
  std::lock_guard<std::recursive_mutex> g(lock);
  scratch_pool->shrink_to(keep);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  mforce_emu_submit(s, [=] { std::memset(p, value, bytes); });
  return cudaSuccess;
}

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
  std::lock_guard<std::recursive_mutex> g(lock);
  *s = reinterpret_cast<cudaStream_t>(new char[16]);
  stream_devices[*s] = current_device;
  return cudaSuccess;
}

// Work queued on the stream still runs (a device finishes it after the call returns).
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> g(lock);
  capturing.erase(s);
  drain(s, queues[s].submitted);
  queues.erase(s);
  stream_devices.erase(s);
  delete[] reinterpret_cast<char*>(s);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  const cudaStream_t s = resolve(stream);
  const int device = device_of(s);
  if (device < 0) return fail(cudaErrorInvalidResourceHandle);  // not a stream (destroyed, or never made)
  if (mforce_emu_capturing(s)) return fail(cudaErrorStreamCaptureUnsupported);
  drain(s, queues[s].submitted);
  return synchronized_now(device);
}

// The current device's streams only: another device's work may still be pending after it.
cudaError_t cudaDeviceSynchronize(void) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (!capturing.empty()) return fail(cudaErrorStreamCaptureUnsupported);
  for (auto& [stream, q] : queues)
    if (device_of(stream) == current_device) drain(stream, q.submitted);
  return synchronized_now(current_device);
}

// The work before an event: its stream and position there (none before the first record, which
// a wait or synchronization then passes at once, as on a device). A handle owns one reference and
// each queued record another: a destroyed event whose record has not run yet lives until it has,
// as on a device.
struct EventState {
  int device = 0;  // current when it was created
  std::chrono::steady_clock::time_point at;
  cudaStream_t stream = nullptr;
  uint64_t position = 0;
  bool happened() const { return queues[stream].done >= position; }
};
using EventHandle = std::shared_ptr<EventState>;
EventState& event(cudaEvent_t e) { return **reinterpret_cast<EventHandle*>(e); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) {
  auto state = std::make_shared<EventState>();
  state->device = current_device;
  *e = reinterpret_cast<cudaEvent_t>(new EventHandle(state));
  return cudaSuccess;
}

// The event and the stream must belong to one device (the programming guide's rule).
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t stream) {
  std::lock_guard<std::recursive_mutex> g(lock);
  EventHandle state = *reinterpret_cast<EventHandle*>(e);
  const cudaStream_t s = resolve(stream);
  if (device_of(s) != state->device) return fail(cudaErrorInvalidResourceHandle);
  mforce_emu_submit(s, [state] { state->at = std::chrono::steady_clock::now(); });
  if (!mforce_emu_capturing(s)) {
    state->stream = s;
    state->position = queues[s].submitted;
  }
  return cudaSuccess;
}

// The stream's later work runs only once the event's stream has run up to the event.
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  std::lock_guard<std::recursive_mutex> g(lock);
  mforce_emu_submit(resolve(s), [source = event(e).stream, position = event(e).position] { drain(source, position); });
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t e) {
  std::lock_guard<std::recursive_mutex> g(lock);
  return event(e).happened() ? cudaSuccess : fail(cudaErrorNotReady);
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  std::lock_guard<std::recursive_mutex> g(lock);
  drain(event(e).stream, event(e).position);
  return synchronized_now(event(e).device);
}

// Both events must have happened (cudaErrorNotReady otherwise, as on a device), on one device.
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  std::lock_guard<std::recursive_mutex> g(lock);
  if (event(start).device != event(end).device) return fail(cudaErrorInvalidResourceHandle);
  if (!event(start).happened() || !event(end).happened()) return fail(cudaErrorNotReady);
  *ms = std::chrono::duration<float, std::milli>(event(end).at - event(start).at).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  std::lock_guard<std::recursive_mutex> g(lock);
  delete reinterpret_cast<EventHandle*>(e);
  return cudaSuccess;
}

// ---- graphs ----

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  std::lock_guard<std::recursive_mutex> g(lock);
  const cudaStream_t s = resolve(stream);
  if (capturing.count(s)) return fail(cudaErrorIllegalState);
  auto rec = std::make_shared<Recording>();
  rec->thread = std::this_thread::get_id();
  rec->mode = mode;
  capturing[s] = rec;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  std::lock_guard<std::recursive_mutex> g(lock);
  auto it = capturing.find(resolve(s));
  if (it == capturing.end()) return fail(cudaErrorIllegalState);
  std::shared_ptr<Recording> rec = it->second;
  capturing.erase(it);
  if (rec->invalidated) return fail(cudaErrorStreamCaptureInvalidated);
  *graph = reinterpret_cast<cudaGraph_t>(new Recording(*rec));
  return cudaSuccess;
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (!mode) return fail(cudaErrorInvalidValue);
  std::swap(thread_mode, *mode);
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
