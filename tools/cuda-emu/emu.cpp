// The emulator's scheduler (every block of a grid in turn, its threads as ucontext fibers
// switched until all finish; a step where none can progress is a deadlock) and the host helpers of
// cuda-kernels/common.cu the attention launch code calls.
#include "cuda_runtime.h"
namespace emu {
int sms = 132;
std::vector<Thread> threads; std::vector<Warp> warps; Thread* cur = nullptr; ucontext_t sched;
dim3 g_block, g_grid, g_bdim; std::vector<unsigned char> smem; size_t smem_size = 0;
int block_arrived = 0; uint64_t block_gen = 0; bool eager_cp = false, progress = false; size_t max_smem_request = 0; uint64_t block_serial = 0;
static std::vector<std::vector<char>> stacks;
static const std::function<void()>* g_body;
static std::mt19937 rng(1234);
static void trampoline() { (*g_body)(); cur->done = true; if (!cur->pending.empty() || !cur->groups.empty()) { for (auto& g : cur->groups) if (!g.empty()) fail("thread exited with cp.async in flight"); if (!cur->pending.empty()) fail("uncommitted cp.async at exit"); } swapcontext(&cur->ctx, &sched); }
void run_kernel(dim3 grid, dim3 block, size_t smem_bytes, const std::function<void()>& body) {
  const int n = block.x * block.y * block.z;
  if (n < 1) fail("empty block");
  g_grid = grid; g_bdim = block; g_body = &body;
  smem_size = smem_bytes; smem.assign(smem_bytes + 16, 0xFF);
  if (stacks.size() < (size_t)n) stacks.resize(n, std::vector<char>(512 * 1024));
  // threads run in a fresh random (seeded, so reproducible) order at every step, so that a missing
  // barrier is not hidden by one fixed order; EMU_SHUFFLE=0: round-robin instead
  const char* order_env = getenv("EMU_SHUFFLE");
  const bool shuffle = !(order_env && std::string(order_env) == "0");
  for (unsigned z = 0; z < grid.z; ++z) for (unsigned y = 0; y < grid.y; ++y) for (unsigned x = 0; x < grid.x; ++x) {
    g_block = dim3(x, y, z); ++block_serial;
    std::fill(smem.begin(), smem.end(), 0xFF);
    threads.assign(n, Thread{}); warps.assign((n + 31) / 32, Warp{}); block_arrived = 0;
    if (n % 32) warps.back().size = n % 32;
    for (int i = 0; i < n; ++i) {
      Thread& t = threads[i]; t.tid = dim3(i % block.x, i / block.x % block.y, i / (block.x * block.y)); t.lane = i % 32; t.warp = i / 32; t.done = false;
      getcontext(&t.ctx); t.ctx.uc_stack.ss_sp = stacks[i].data(); t.ctx.uc_stack.ss_size = stacks[i].size(); t.ctx.uc_link = nullptr;
      makecontext(&t.ctx, trampoline, 0);
    }
    std::vector<int> order(n); for (int i = 0; i < n; ++i) order[i] = i;
    int live = n;
    while (live > 0) {
      progress = false;
      if (shuffle) std::shuffle(order.begin(), order.end(), rng);
      int before = live;
      for (int i : order) { Thread& t = threads[i]; if (t.done) continue; cur = &t; swapcontext(&sched, &t.ctx); if (t.done) --live; }
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
