// CUDA driver of the column terms of mforce/detail/layer_ops.h: per-group column sums over the
// rows of a [groups, rows, cols] problem, in an order fixed by the sizes (deterministic).
//
// Pass 1: a block covers 32·K columns (one warp across them, 16-byte loads when K > 1) and one
// chunk of rows of one group; its 8 warps stride over the chunk's rows, then add their partial
// sums in warp order. Pass 2 adds the chunks of each group in order.
#ifndef MFORCE_CUDA_COLUMNS_CUH
#define MFORCE_CUDA_COLUMNS_CUH

#include "common.cuh"
#include "elementwise.cuh"

namespace mforce::cuda {

constexpr int kColumnLanes = 32;  // threads across columns
constexpr int kRowLanes = 8;      // warps across rows

// Chunks of rows per group: about 256 chunks over all groups, at least 64 rows each.
inline int64_t column_chunks(int64_t groups, int64_t rows) {
  int64_t wanted = 256 / (groups > 0 ? groups : 1);
  int64_t most = (rows + 63) / 64;
  int64_t chunks = wanted < most ? wanted : most;
  return chunks > 0 ? chunks : 1;
}

template <int K, typename Term>
__global__ void __launch_bounds__(kColumnLanes* kRowLanes)
    column_partials(Term term, int64_t rows, int64_t cols, int64_t chunk, float* partial) {
  constexpr int NS = Term::NS;
  __shared__ float tile[kRowLanes][NS][kColumnLanes * K];
  const int64_t g = blockIdx.z, ch = blockIdx.y, chunks = gridDim.y;
  const int64_t c = (static_cast<int64_t>(blockIdx.x) * kColumnLanes + threadIdx.x) * K;
  float acc[NS][K];
  for (int s = 0; s < NS; ++s)
    for (int k = 0; k < K; ++k) acc[s][k] = 0.f;
  if (c < cols) {
    const int64_t r1 = min(rows, (ch + 1) * chunk);
    for (int64_t r = ch * chunk + threadIdx.y; r < r1; r += kRowLanes) {
      float v[NS][K];
      term.template operator()<K>(g, g * rows + r, c, v);
      for (int s = 0; s < NS; ++s)
        for (int k = 0; k < K; ++k) acc[s][k] += v[s][k];
    }
  }
  for (int s = 0; s < NS; ++s)
    for (int k = 0; k < K; ++k) tile[threadIdx.y][s][threadIdx.x * K + k] = acc[s][k];
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    for (int s = 0; s < NS; ++s)
      for (int k = 0; k < K; ++k) {
        float sum = 0.f;
        for (int y = 0; y < kRowLanes; ++y) sum += tile[y][s][threadIdx.x * K + k];
        partial[((g * chunks + ch) * NS + s) * cols + c + k] = sum;
      }
  }
}

// sums[g·width + j] = Σ_ch partial[(g·chunks + ch)·width + j], width = NS·cols.
__global__ void column_chunk_sums(const float* partial, int64_t groups, int64_t chunks, int64_t width, float* sums);

// Fills sums (device, [groups, NS, cols]) with the column sums of term. K > 1 (16-byte loads)
// only when the caller says the term's tensors allow it (cols % K == 0, 16-byte aligned).
template <typename T, typename Term>
mf_status column_sums(const char* kernel, void* stream, const Term& term, int64_t groups, int64_t rows, int64_t cols,
                      bool vectorize, float* sums) {
  constexpr int NS = Term::NS;
  constexpr int K = 16 / sizeof(T);
  if (groups * cols == 0) return MF_OK;
  if (groups > 65535) {
    mf_set_error("%s: %lld groups exceed 65535", kernel, (long long)groups);
    return MF_ERR_UNSUPPORTED;
  }
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const int64_t chunks = column_chunks(groups, rows);
  const int64_t chunk = (rows + chunks - 1) / chunks;
  Scratch scratch(stream);
  if (mf_status st = scratch.allocate(kernel, sizeof(float) * groups * chunks * NS * cols)) return st;
  float* partial = scratch.as<float>();
  const dim3 block(kColumnLanes, kRowLanes);
  if (vectorize && cols % K == 0) {
    const dim3 grid(static_cast<unsigned>((cols / K + kColumnLanes - 1) / kColumnLanes), static_cast<unsigned>(chunks),
                    static_cast<unsigned>(groups));
    column_partials<K><<<grid, block, 0, s>>>(term, rows, cols, chunk, partial);
  } else {
    const dim3 grid(static_cast<unsigned>((cols + kColumnLanes - 1) / kColumnLanes), static_cast<unsigned>(chunks),
                    static_cast<unsigned>(groups));
    column_partials<1><<<grid, block, 0, s>>>(term, rows, cols, chunk, partial);
  }
  const int64_t width = NS * cols;
  column_chunk_sums<<<grid_for(groups * width, kThreads), kThreads, 0, s>>>(partial, groups, chunks, width, sums);
  return check_launch(kernel, s);
}

// out[g·stride + c] (+)= sums[(g·ns + s)·cols + c] for g < groups, c < cols.
mf_status store_sums(const char* kernel, void* stream, const float* sums, int ns, int s, int64_t groups, int64_t cols,
                     float* out, int64_t stride, bool accumulate);

}  // namespace mforce::cuda
#endif
