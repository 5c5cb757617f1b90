// CUDA driver of the shared elementwise ops (mforce/detail/elementwise.h) and of per-row
// reductions over a [batch, n] problem.
#ifndef MFORCE_CUDA_ELEMENTWISE_CUH
#define MFORCE_CUDA_ELEMENTWISE_CUH

#include <initializer_list>

#include "common.cuh"
#include "reduce.cuh"
#include "mforce/detail/elementwise.h"

namespace mforce::cuda {

constexpr int kThreads = 256;

// One thread handles K consecutive elements per grid-stride step (a 16-byte vector when K > 1).
template <int K, typename Op>
__global__ void __launch_bounds__(kThreads) rows_kernel(Op op, int64_t n, int64_t slots) {
  for (int64_t s = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; s < slots;
       s += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t i = s * K;
    op.template operator()<K>(i / n, i);
  }
}

inline bool aligned16(std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (p && (reinterpret_cast<uintptr_t>(p) & 15u) != 0) return false;
  return true;
}

// Runs op over [batch, n] of element type T: 16-byte vectors when every row length is a
// multiple of the vector and every pointer in `ptrs` is 16-byte aligned, single elements
// otherwise.
template <typename T, typename Op>
mf_status launch_rows(const char* kernel, void* stream, const Op& op, int64_t batch, int64_t n,
                      std::initializer_list<const void*> ptrs) {
  constexpr int K = 16 / sizeof(T);
  int64_t total = batch * n;
  if (total == 0) return MF_OK;
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  if (n % K == 0 && aligned16(ptrs)) {
    int64_t slots = total / K;
    rows_kernel<K><<<grid_for(slots, kThreads), kThreads, 0, s>>>(op, n, slots);
  } else {
    rows_kernel<1><<<grid_for(total, kThreads), kThreads, 0, s>>>(op, n, total);
  }
  return check_launch(kernel, s);
}

// partial[b * chunks + c] = sum of term(i) over chunk c of row b (deterministic order). In double,
// as the CPU's row_sums: a loss of squares overflows fp32 from |difference| ~1.8e19 on, and the
// pass is memory-bound, so the wider additions cost nothing that shows.
template <typename Term>
__global__ void __launch_bounds__(kThreads) row_partial_sums(Term term, int64_t n, int64_t chunk, double* partial) {
  int64_t b = blockIdx.y, c = blockIdx.x;
  int64_t lo = c * chunk, hi = min(n, lo + chunk);
  double s = 0.0;
  for (int64_t j = lo + threadIdx.x; j < hi; j += blockDim.x) s += term(b * n + j);
  s = block_sum<kThreads>(s);
  if (threadIdx.x == 0) partial[b * gridDim.x + c] = s;
}

template <typename Finish>
__global__ void finish_rows(Finish finish, const double* partial, int64_t chunks, int64_t batch) {
  int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (b >= batch) return;
  double s = 0.0;
  for (int64_t c = 0; c < chunks; ++c) s += partial[b * chunks + c];
  finish(b, s);
}

// Reduces term over each row of [batch, n] and calls finish(b, row_sum) (a double) on the device, in a
// fixed order (the same result every run). Scratch is stream-ordered (graph-capturable).
template <typename Term, typename Finish>
mf_status row_reduce(const char* kernel, void* stream, const Term& term, int64_t batch, int64_t n,
                     const Finish& finish) {
  if (batch == 0) return MF_OK;
  if (batch > 65535) {
    mf_set_error("%s: batch %lld exceeds 65535 rows", kernel, (long long)batch);
    return MF_ERR_UNSUPPORTED;
  }
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  int64_t chunks = (n + kThreads * 64 - 1) / (kThreads * 64);
  chunks = chunks < 1 ? 1 : (chunks > 1024 ? 1024 : chunks);
  int64_t chunk = (n + chunks - 1) / chunks;
  Scratch partial(stream);
  if (mf_status st = partial.allocate(kernel, sizeof(double) * batch * chunks)) return st;
  row_partial_sums<<<dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(batch)), kThreads, 0, s>>>(
      term, n, chunk, partial.as<double>());
  finish_rows<<<static_cast<unsigned>((batch + 255) / 256), 256, 0, s>>>(finish, partial.as<double>(), chunks, batch);
  return check_launch(kernel, s);
}

}  // namespace mforce::cuda
#endif
