// Host emulation of the CUDA runtime subset used by cuda-kernels (verification only).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif
#include <vector>
#include <deque>
#include <functional>
#include <algorithm>
#include <random>
#include <utility>
#include <tuple>
#include <string>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __grid_constant__
#define __shared__

struct dim3 { unsigned x, y, z; dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) float2 { float x, y; };
inline float2 make_float2(float x, float y) { return float2{x, y}; }
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2, cudaErrorLaunchFailure = 719 };
typedef struct CUstream_st* cudaStream_t;
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrMaxSharedMemoryPerBlockOptin = 97 };
enum cudaStreamCaptureStatus { cudaStreamCaptureStatusNone = 0, cudaStreamCaptureStatusActive = 1 };

namespace emu {
// A suspended fiber. On x86-64, its stack pointer, with its callee-saved registers pushed below
// it by emu.cpp's switch; elsewhere a ucontext, whose swapcontext costs a signal-mask system call
// per switch (on x86-64 that was nearly half of the emulator's time).
struct Fiber {
#if defined(__x86_64__)
  void* sp = nullptr;
#else
  ucontext_t uc;
#endif
  // for AddressSanitizer's fiber annotations (the scheduler's stack is learnt at its first switch)
  const void* stack = nullptr;
  size_t stack_size = 0;
  void* fake_stack = nullptr;
};
// Makes `f` a fiber that runs entry() on stack[0, size) when first switched to; entry must never return.
void start_fiber(Fiber& f, char* stack, size_t size, void (*entry)());
// Saves the running fiber into `from` and resumes `to`.
void switch_fiber(Fiber& from, Fiber& to);
struct Thread {
  Fiber ctx;
  dim3 tid;
  int lane, warp;
  bool done;
  bool at_barrier = false;  // waiting in __syncthreads (the warp-greedy schedule runs others then)
  std::vector<std::pair<void*, std::pair<const void*, std::pair<int, int>>>> pending;  // dst, src, n, size
  std::deque<std::vector<std::pair<void*, std::pair<const void*, std::pair<int, int>>>>> groups;
};
// size: the warp's lanes (32, or fewer in the last warp of a block that is not whole warps).
struct Warp { int arrived = 0; uint64_t gen = 0; int kind = 0; int size = 32; unsigned char in[2][32][64]; unsigned char out[2][32][64]; };
// The SM count the launch code sees (sm_count(), cudaDevAttrMultiProcessorCount): 132 as on an
// H100; the driver raises it to run the forward unsplit (attention_launch.cu splits the keys only
// when the blocks cannot fill the device).
extern int sms;
// An H100's shared memory per block with the opt-in (cudaDevAttrMaxSharedMemoryPerBlockOptin).
constexpr size_t kMaxSharedOptin = 232448;
extern std::vector<Thread> threads;
extern std::vector<Warp> warps;
extern Thread* cur;
extern Fiber sched;
extern dim3 g_block, g_grid, g_bdim;
extern std::vector<unsigned char> smem;
extern size_t smem_size;
extern int block_arrived; extern uint64_t block_gen;
extern bool eager_cp, progress;
extern bool block_eager;  // this block's cp.async copies land at issue: eager_cp, or a warp-greedy block
extern size_t max_smem_request;
extern uint64_t block_serial;  // counts the blocks run so far
// Guard bytes around a buffer: with AddressSanitizer (build.sh's default where the compiler has
// it), a kernel that reads them, not only one that writes them, stops the run; unguard before the
// host checks them. Without it, no-ops.
inline void guard(const void* p, size_t n) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_POISON_MEMORY_REGION(p, n);
#endif
  (void)p; (void)n;
}
inline void unguard(const void* p, size_t n) {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
  (void)p; (void)n;
}
[[noreturn]] inline void fail(const char* m) { fprintf(stderr, "EMU FAILURE: %s (block %u,%u,%u thread %u,%u,%u)\n", m, g_block.x, g_block.y, g_block.z, cur ? cur->tid.x : 0, cur ? cur->tid.y : 0, cur ? cur->tid.z : 0); abort(); }
inline void yield() { switch_fiber(cur->ctx, sched); }

template <class In, class Out, class F>
Out warp_collective(int kind, const In& in, F compute) {
  static_assert(sizeof(In) <= 64 && sizeof(Out) <= 64, "slot");
  Thread& t = *cur; Warp& w = warps[t.warp];
  if (w.size != 32) fail("full-warp collective in a warp of fewer than 32 threads");
  if (w.arrived == 0) w.kind = kind; else if (w.kind != kind) fail("divergent warp collective");
  const int slot = w.gen & 1; const uint64_t my = w.gen;
  memcpy(w.in[slot][t.lane], &in, sizeof(In));
  if (++w.arrived == 32) {
    In ins[32]; Out outs[32];
    for (int l = 0; l < 32; ++l) memcpy(&ins[l], w.in[slot][l], sizeof(In));
    compute(ins, outs);
    for (int l = 0; l < 32; ++l) memcpy(w.out[slot][l], &outs[l], sizeof(Out));
    w.arrived = 0; w.gen++; progress = true;
  } else {
    while (w.gen == my) yield();
  }
  Out o; memcpy(&o, w.out[slot][t.lane], sizeof(Out));
  return o;
}

// A kernel's __launch_bounds__(max threads[, min blocks per SM]), checked by each of its threads
// (build.sh puts the call first in its body): a GPU refuses a launch of larger blocks.
inline void launch_bounds(unsigned max_threads, unsigned = 0) {
  if (uint64_t(g_bdim.x) * g_bdim.y * g_bdim.z > max_threads) fail("block larger than the kernel's __launch_bounds__");
}

inline void block_barrier() {
  const uint64_t my = block_gen;
  if (++block_arrived == (int)threads.size()) {
    block_arrived = 0; block_gen++; progress = true;
    for (Thread& t : threads) t.at_barrier = false;
  } else {
    cur->at_barrier = true;
    while (block_gen == my) yield();
  }
}

inline void do_copy(const std::pair<void*, std::pair<const void*, std::pair<int, int>>>& c) {
  unsigned char* d = (unsigned char*)c.first;
  if (d < smem.data() || d + c.second.second.second > smem.data() + smem_size) fail("cp.async outside shared memory");
  if (((uintptr_t)d % c.second.second.second) || (c.second.second.first && ((uintptr_t)c.second.first % c.second.second.second))) fail("cp.async misaligned");
  memset(d, 0, c.second.second.second);
  if (c.second.second.first) memcpy(d, c.second.first, c.second.second.first);
}

void run_kernel(dim3 grid, dim3 block, size_t smem_bytes, const std::function<void()>& body);
}  // namespace emu

#define threadIdx (::emu::cur->tid)
#define blockIdx (::emu::g_block)
#define blockDim (::emu::g_bdim)
#define gridDim (::emu::g_grid)

inline void __syncthreads() { emu::block_barrier(); }
// The warp-wide operations run on whole warps only (warp_collective), so every lane must name all
// 32 in its mask; each lane's own operand (its xor mask, its source lane) is its own, as on a GPU.
namespace emu {
inline void full_mask(unsigned mask) { if (mask != 0xffffffffu) fail("warp operation with a mask other than all 32 lanes"); }
}  // namespace emu
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::full_mask(mask); emu::warp_collective<int, int>(1, 0, [](int*, int* o) { for (int l = 0; l < 32; ++l) o[l] = 0; }); }
// A lane whose source is outside the warp (l ^ m >= 32) reads its own value, as on a GPU.
template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int m) {
  emu::full_mask(mask);
  struct P { T v; int m; };
  return emu::warp_collective<P, T>(2, P{v, m}, [](P* in, T* out) { for (int l = 0; l < 32; ++l) { const int s = l ^ in[l].m; out[l] = in[s >= 0 && s < 32 ? s : l].v; } });
}
template <class T> inline T __shfl_sync(unsigned mask, T v, int src) {
  emu::full_mask(mask);
  struct P { T v; int s; };
  return emu::warp_collective<P, T>(3, P{v, src}, [](P* in, T* out) { for (int l = 0; l < 32; ++l) out[l] = in[in[l].s & 31].v; });
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  emu::full_mask(mask);
  return emu::warp_collective<int, unsigned>(4, pred != 0, [](int* in, unsigned* out) { unsigned b = 0; for (int l = 0; l < 32; ++l) if (in[l]) b |= 1u << l; for (int l = 0; l < 32; ++l) out[l] = b; });
}
inline int __all_sync(unsigned mask, int pred) {
  emu::full_mask(mask);
  return emu::warp_collective<int, int>(5, pred != 0, [](int* in, int* out) { int a = 1; for (int l = 0; l < 32; ++l) a &= in[l]; for (int l = 0; l < 32; ++l) out[l] = a; });
}
inline int __ffs(unsigned x) { return __builtin_ffs((int)x); }

// The device hooks of the host libcudart (host-runtime/cudart.cpp), which emulates several
// devices: the current one, and whether a launch into `stream` is refused (the reason, or nullptr).
// In the drivers: one device, every launch allowed.
int mforce_emu_current_device() __attribute__((weak));
const char* mforce_emu_launch_refused(void* stream) __attribute__((weak));
inline cudaError_t cudaGetDevice(int* d) { *d = mforce_emu_current_device ? mforce_emu_current_device() : 0; return 0; }
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) { *v = a == cudaDevAttrMaxSharedMemoryPerBlockOptin ? int(emu::kMaxSharedOptin) : emu::sms; return 0; }
template <class T> cudaError_t cudaFuncSetAttribute(T*, cudaFuncAttribute, int v) { emu::max_smem_request = v; return 0; }
// Work on a stream. In the drivers it runs at once. Inside the host runtime (host-runtime/:
// libmforce_cuda built with these sources, and a host libcudart that defines the two functions
// below), a stream being captured into a graph records it instead, to run at each replay.
void mforce_emu_submit(void* stream, std::function<void()> work) __attribute__((weak));
bool mforce_emu_capturing(void* stream) __attribute__((weak));
// Scratch (cudaMallocAsync/cudaFreeAsync) from the host libcudart's model of the device's default
// stream-ordered pool, which counts what it holds; in the drivers, plain malloc and free.
void* mforce_emu_scratch_allocate(size_t bytes, void* stream) __attribute__((weak));
void mforce_emu_scratch_free(void* p) __attribute__((weak));
namespace emu {
inline void submit(cudaStream_t s, std::function<void()> work) {
  if (mforce_emu_submit) mforce_emu_submit(s, std::move(work)); else work();
}
// Stops the run where a GPU would refuse to launch a kernel into `s` (a stream of another device).
inline void check_launch_device(cudaStream_t s) {
  if (const char* why = mforce_emu_launch_refused ? mforce_emu_launch_refused(s) : nullptr) {
    fprintf(stderr, "EMU FAILURE: %s\n", why);
    abort();
  }
}
inline bool capturing(cudaStream_t s) { return mforce_emu_capturing && mforce_emu_capturing(s); }
}  // namespace emu
// Scratch allocated while a graph is captured is the graph's (on a device: a memory node, from the
// device's graph memory, not the default pool), kept for its replays (here: never freed).
inline cudaError_t cudaMallocAsync(void** p, size_t n, cudaStream_t s) {
  *p = mforce_emu_scratch_allocate && !emu::capturing(s) ? mforce_emu_scratch_allocate(n, s) : malloc(n);
  if (!*p) return cudaErrorMemoryAllocation;
  memset(*p, 0xAB, n);
  return 0;
}
// The free is stream-ordered: it happens after the work queued before it (the kernels using p).
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t s) {
  if (emu::capturing(s)) return 0;
  emu::submit(s, [p] { if (mforce_emu_scratch_free) mforce_emu_scratch_free(p); else free(p); });
  return 0;
}
// Two blocks per SM: what ptxas's 255 registers x 128 threads allow the tensor-core forward on an
// H100 (the emulator knows no register counts).
template <class T> cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, T*, int, size_t) { *n = 2; return 0; }
inline cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t s) { emu::submit(s, [=] { memset(p, v, n); }); return 0; }
inline cudaError_t cudaGetLastError() { return 0; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return 0; }
inline cudaError_t cudaStreamIsCapturing(cudaStream_t st, cudaStreamCaptureStatus* s) { *s = emu::capturing(st) ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusNone; return 0; }
inline const char* cudaGetErrorString(cudaError_t) { return "emulated error"; }
inline const char* cudaGetErrorName(cudaError_t) { return "cudaErrorEmulated"; }

// Kernels launched with <<<grid, block, smem, stream>>>: tools/cuda-emu/build.sh rewrites
// `kernel<<<cfg>>>(args)` to `emu::Launch(cfg)([](auto... a) { kernel(a...); }, args)`, so that
// the kernel's template arguments are deduced from the call's arguments as nvcc does.
namespace emu {
struct Launch {
  dim3 grid, block; size_t smem; cudaStream_t stream;
  Launch(dim3 g, dim3 b, size_t shared = 0, cudaStream_t s = nullptr) : grid(g), block(b), smem(shared), stream(s) {}
  template <class Kernel, class... Args>
  void operator()(Kernel kernel, Args... args) const {
    if (smem > 48 * 1024) fail("dynamic smem above 48 KB without opt-in");
    check_launch_device(stream);
    submit(stream, [g = grid, b = block, m = smem, kernel, args...] { run_kernel(g, b, m, [&] { kernel(args...); }); });
  }
};
}  // namespace emu
// A kernel's static shared array: build.sh rewrites `__shared__ float a[N][M];` to
// `auto& a = emu::shared<float[N][M], __COUNTER__>();`. One object for all the threads of a block
// (fibers on one host thread; blocks run one after another), filled with NaN bytes when the
// block first touches it, so that a read before any write, or before a missing barrier, sees NaN.
namespace emu {
template <class T, int Site>
T& shared() {
  static T storage;
  static uint64_t filled = ~0ull;
  if (filled != block_serial) {
    memset(&storage, 0xFF, sizeof storage);
    filled = block_serial;
  }
  return storage;
}
}  // namespace emu
// Device-side helpers of the CUDA math API that the kernels use.
template <class T> inline T min(T a, T b) { return b < a ? b : a; }
template <class T> inline T max(T a, T b) { return a < b ? b : a; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }

template <class... A, size_t... I>
std::tuple<std::decay_t<A>...> emu_args(void** args, std::index_sequence<I...>) { return {*static_cast<std::decay_t<A>*>(args[I])...}; }
template <class... A>
cudaError_t cudaLaunchKernel(void (*f)(A...), dim3 grid, dim3 block, void** args, size_t smem, cudaStream_t stream) {
  if (smem > 48 * 1024 && smem > emu::max_smem_request) emu::fail("dynamic smem above 48 KB without opt-in");
  emu::max_smem_request = 0;
  emu::check_launch_device(stream);
  // the arguments copied now, as a launch does: the caller's variables may be gone when it runs
  auto values = emu_args<A...>(args, std::index_sequence_for<A...>{});
  emu::submit(stream, [=] { emu::run_kernel(grid, block, smem, [&] { std::apply(f, values); }); });
  return 0;
}
