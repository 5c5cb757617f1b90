// The emulator's scheduler (every block of a grid in turn, its threads as fibers
// switched until all finish; a step where none can progress is a deadlock) and the host helpers of
// cuda-kernels/common.cu the attention launch code calls.
#include "cuda_runtime.h"
#include <numeric>
namespace emu {
int sms = 132;
std::vector<Thread> threads; std::vector<Warp> warps; Thread* cur = nullptr; Fiber sched;
dim3 g_block, g_grid, g_bdim; std::vector<unsigned char> smem; size_t smem_size = 0;
int block_arrived = 0; uint64_t block_gen = 0; bool eager_cp = false, block_eager = false, progress = false; size_t max_smem_request = 0; uint64_t block_serial = 0;
static std::vector<std::vector<char>> stacks;
static const std::function<void()>* g_body;
static std::mt19937 rng(1234);
#if defined(__x86_64__)
// switch_fiber(from, to): pushes the System V callee-saved registers (rbp, rbx, r12-r15) and the
// SSE and x87 control words, stores the stack pointer in from, loads to's and pops the same.
extern "C" void mforce_emu_switch(void** from_sp, void* to_sp);
asm(R"(
  .text
  .globl mforce_emu_switch
  .hidden mforce_emu_switch
  .type mforce_emu_switch, @function
mforce_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size mforce_emu_switch, .-mforce_emu_switch
)");
static void raw_switch(Fiber& from, Fiber& to) { mforce_emu_switch(&from.sp, to.sp); }
static void raw_start(Fiber& f, char* stack, size_t size, void (*entry)()) {
  // the frame the switch pops, from the 16-byte aligned top down: a zero return address for
  // entry (so that entry starts with the stack aligned as after a call), entry itself (the
  // switch's ret), six zero registers, then this thread's control words
  auto* top = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(stack + size) & ~uintptr_t{15});
  uint64_t* sp = top - 9;
  std::fill(sp, top, uint64_t{0});
  top[-2] = reinterpret_cast<uint64_t>(entry);
  uint32_t mxcsr; uint16_t fcw;
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fcw));
  memcpy(sp, &mxcsr, 4); memcpy(reinterpret_cast<char*>(sp) + 4, &fcw, 2);
  f.sp = sp;
}
#else
static void raw_switch(Fiber& from, Fiber& to) { swapcontext(&from.uc, &to.uc); }
static void raw_start(Fiber& f, char* stack, size_t size, void (*entry)()) {
  getcontext(&f.uc); f.uc.uc_stack.ss_sp = stack; f.uc.uc_stack.ss_size = size; f.uc.uc_link = nullptr;
  makecontext(&f.uc, entry, 0);
}
#endif
// With AddressSanitizer (build.sh --asan), every switch tells it which stack runs next, and a
// fiber's stack, reused from block to block, starts with no poison left from its last user.
#if defined(__SANITIZE_ADDRESS__)
void start_fiber(Fiber& f, char* stack, size_t size, void (*entry)()) {
  ASAN_UNPOISON_MEMORY_REGION(stack, size);
  f.stack = stack; f.stack_size = size;
  raw_start(f, stack, size, entry);
}
void switch_fiber(Fiber& from, Fiber& to) {
  __sanitizer_start_switch_fiber(&from.fake_stack, to.stack, to.stack_size);
  raw_switch(from, to);
  __sanitizer_finish_switch_fiber(from.fake_stack, nullptr, nullptr);
}
// No leak report at exit: the drivers keep what they allocate until then.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
// A fiber's first instructions: it was entered from the scheduler, whose stack ASan reports here.
static void fiber_entered() { __sanitizer_finish_switch_fiber(nullptr, &sched.stack, &sched.stack_size); }
#else
void start_fiber(Fiber& f, char* stack, size_t size, void (*entry)()) { raw_start(f, stack, size, entry); }
void switch_fiber(Fiber& from, Fiber& to) { raw_switch(from, to); }
static void fiber_entered() {}
#endif
static void trampoline() { fiber_entered(); (*g_body)(); cur->done = true; if (!cur->pending.empty() || !cur->groups.empty()) { for (auto& g : cur->groups) if (!g.empty()) fail("thread exited with cp.async in flight"); if (!cur->pending.empty()) fail("uncommitted cp.async at exit"); } switch_fiber(cur->ctx, sched); }
void run_kernel(dim3 grid, dim3 block, size_t smem_bytes, const std::function<void()>& body) {
  // A GPU refuses these launches (cudaErrorInvalidConfiguration, or a too-large shared memory
  // request) and runs nothing; a kernel launched for empty work, with a zero grid, is one of them.
  if (grid.x < 1 || grid.y < 1 || grid.z < 1) fail("launch with an empty grid");
  if (grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) fail("grid dimension above the device limit (x < 2^31, y and z <= 65535)");
  if (block.x > 1024 || block.y > 1024 || block.z > 64 || uint64_t(block.x) * block.y * block.z > 1024) fail("block above the device limit (1024 threads; z <= 64)");
  if (smem_bytes > kMaxSharedOptin) fail("dynamic shared memory above the device's opt-in limit");
  const int n = block.x * block.y * block.z;
  if (n < 1) fail("empty block");
  g_grid = grid; g_bdim = block; g_body = &body;
  smem_size = smem_bytes; unguard(smem.data(), smem.size()); smem.assign(smem_bytes + 16, 0xFF); guard(smem.data() + smem_bytes, 16);
  if (stacks.size() < (size_t)n) stacks.resize(n, std::vector<char>(512 * 1024));
  // Two schedules, drawn per block (seeded, so runs repeat; EMU_SCHEDULE=threads or =warps fixes one):
  // - threads: every live thread runs to its next barrier or warp-wide operation, in a fresh random
  //   order at every step (EMU_SHUFFLE=0: round-robin), so that a missing barrier is not hidden
  //   behind one fixed order; warps stay within about one such operation of each other;
  // - warps: one warp at a time, in random order, runs until all its threads wait at __syncthreads
  //   (or are done), with its cp.async copies landing at issue. Warps then drift as far apart as a
  //   GPU lets them between barriers, so a warp that overwrites shared memory another still reads
  //   (a ring slot reloaded before the barrier that ends its use) is caught: the threads schedule
  //   keeps warps in step and cannot show it.
  const char* order_env = getenv("EMU_SHUFFLE");
  const bool shuffle = !(order_env && std::string(order_env) == "0");
  const char* schedule_env = getenv("EMU_SCHEDULE");
  const std::string schedule = schedule_env ? schedule_env : "";
  // Blocks run one after another in an order drawn anew at every launch (seeded): a GPU promises
  // no order between blocks, so nothing may depend on it but the rounding of float atomics, on
  // which the deterministic modes must not depend either (with one fixed order, their repeat
  // tests could not tell atomics from none).
  std::vector<uint64_t> block_order(uint64_t(grid.x) * grid.y * grid.z);
  std::iota(block_order.begin(), block_order.end(), uint64_t{0});
  std::shuffle(block_order.begin(), block_order.end(), rng);
  for (const uint64_t b : block_order) {
    g_block = dim3(b % grid.x, b / grid.x % grid.y, b / (uint64_t(grid.x) * grid.y)); ++block_serial;
    std::fill(smem.begin(), smem.begin() + smem_size, 0xFF);
    // threads are reset in place, not assigned fresh ones: a Thread's deque allocates when built,
    // which for small blocks cost more than running them
    threads.resize(n); warps.assign((n + 31) / 32, Warp{}); block_arrived = 0;
    if (n % 32) warps.back().size = n % 32;
    for (int i = 0; i < n; ++i) {
      Thread& t = threads[i]; t.tid = dim3(i % block.x, i / block.x % block.y, i / (block.x * block.y)); t.lane = i % 32; t.warp = i / 32;
      t.done = false; t.at_barrier = false; t.pending.clear(); t.groups.clear(); t.ctx = Fiber{};
      start_fiber(t.ctx, stacks[i].data(), stacks[i].size(), trampoline);
    }
    const bool by_warp = schedule == "warps" || (schedule != "threads" && (rng() & 1));
    block_eager = eager_cp || by_warp;
    std::vector<int> order(n); for (int i = 0; i < n; ++i) order[i] = i;
    std::vector<int> warp_order(warps.size()); for (size_t w = 0; w < warps.size(); ++w) warp_order[w] = (int)w;
    int live = n;
    // one step of thread i: runs it to its next barrier or warp-wide operation
    auto step = [&](int i) { Thread& t = threads[i]; cur = &t; switch_fiber(sched, t.ctx); if (t.done) --live; };
    while (live > 0) {
      progress = false;
      int before = live;
      if (by_warp) {
        std::shuffle(warp_order.begin(), warp_order.end(), rng);
        for (int w : warp_order) {
          // the warp's threads step in turn while any of them moves (a warp-wide operation
          // completes, or a thread reaches the barrier or ends)
          for (bool moved = true; moved;) {
            moved = false;
            for (int i = w * 32; i < std::min(n, w * 32 + 32); ++i) {
              Thread& t = threads[i];
              if (t.done || t.at_barrier) continue;
              bool was = progress; progress = false;
              step(i);
              moved |= progress || t.done || t.at_barrier;
              progress |= was;
            }
          }
        }
      } else {
        if (shuffle) std::shuffle(order.begin(), order.end(), rng);
        for (int i : order) if (!threads[i].done) step(i);
      }
      if (!progress && live == before && live > 0) fail("deadlock: no thread can progress");
    }
    cur = nullptr;
  }
}
}  // namespace emu
#include "mforce/common.h"
namespace mforce::cuda {
// as common.cu's: a failed allocation is MF_ERR_OUT_OF_MEMORY, any other error MF_ERR_CUDA
mf_status fail(const char* what, cudaError_t err) {
  if (err == cudaErrorMemoryAllocation) {
    mf_set_error("%s: out of memory (cudaErrorMemoryAllocation, emulated)", what);
    return MF_ERR_OUT_OF_MEMORY;
  }
  mf_set_error("%s: emulated CUDA error %d", what, err);
  return MF_ERR_CUDA;
}
mf_status check_launch(const char*, cudaStream_t) { return MF_OK; }
int sm_count() { return emu::sms; }
}
