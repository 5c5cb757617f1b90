#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mforce::cpu {
namespace {

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop_workers(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    std::lock_guard<std::mutex> busy(busy_);
    stop_workers();
    stopping_ = false;
    // A new worker starts at the current generation: starting from 0 after regions had run, it
    // woke at once for a finished region and counted itself done in the next one as well, so
    // run() could wait forever or return while another worker was still in its body.
    // busy_ is held: no region runs, generation_ does not move.
    const uint64_t start = generation_;
    for (int w = 1; w < std::max(1, n); ++w) workers_.emplace_back([this, start] { work(start); });
  }

  void run(int64_t total, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
    int64_t pieces = (total + grain - 1) / grain;
    // nested calls (from a worker, or from the caller inside its own region) run inline: the
    // check comes before try_lock, which must not be called by the thread that holds busy_
    if (in_parallel || workers_.empty() || pieces <= 1) {
      body(0, total);
      return;
    }
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) {  // another thread's region is running
      body(0, total);
      return;
    }
    struct Region {
      Region() { in_parallel = true; }
      ~Region() { in_parallel = false; }
    } region;
    {
      std::lock_guard<std::mutex> lock(m_);
      body_ = &body;
      total_ = total;
      grain_ = grain;
      next_.store(0);
      pending_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [this] { return pending_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void drain() {
    for (;;) {
      int64_t begin = next_.fetch_add(grain_);
      if (begin >= total_) return;
      try {
        (*body_)(begin, std::min(total_, begin + grain_));
      } catch (...) {
        std::lock_guard<std::mutex> lock(m_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void work(uint64_t seen) {
    in_parallel = true;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(m_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      drain();
      std::lock_guard<std::mutex> lock(m_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  static thread_local bool in_parallel;  // a worker, or a caller inside run()
  std::vector<std::thread> workers_;
  std::mutex busy_, m_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* body_ = nullptr;
  int64_t total_ = 0, grain_ = 1;
  std::atomic<int64_t> next_{0};
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

thread_local bool Pool::in_parallel = false;

Pool& pool() {
  static Pool instance(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return instance;
}

}  // namespace

void parallel_for(int64_t total, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (total <= 0) return;
  pool().run(total, std::max<int64_t>(1, grain), body);
}

int threads() { return pool().size(); }
void set_threads(int n) { pool().resize(n); }

}  // namespace mforce::cpu
