// The CPU kernels' thread pool: parallel_for over an index range, run by the calling thread
// and the pool's workers together. A call made while the pool is busy (another Java thread,
// or a nested parallel_for) runs on the calling thread alone: correct, never a deadlock.
#ifndef MFORCE_CPU_PARALLEL_H
#define MFORCE_CPU_PARALLEL_H

#include <cstdint>
#include <functional>

namespace mforce::cpu {

// Calls body(begin, end) on disjoint pieces covering [0, total), each at least `grain` long
// (but the last). Exceptions thrown by body are rethrown on the calling thread.
void parallel_for(int64_t total, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

// The most threads set_threads accepts.
constexpr int kMaxThreads = 4096;

int threads();
// n in [1, kMaxThreads]. Throws std::system_error when the system will not start a thread; the
// pool then keeps the workers it has started.
void set_threads(int n);

}  // namespace mforce::cpu
#endif
