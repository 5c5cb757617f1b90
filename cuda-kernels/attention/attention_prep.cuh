// The small kernels around the attention kernels: the tile summaries that let a block classify
// a (query tile, key tile) pair without reading chunk arrays, the merge of a split forward's
// partial results, the backward's per-row statistics and, in the atomic-dQ backward, the final
// scaling and rounding of dQ.
#ifndef MFORCE_CUDA_ATTENTION_PREP_CUH
#define MFORCE_CUDA_ATTENTION_PREP_CUH

#include <limits.h>
#include <math.h>

#include "attention_params.cuh"
#include "attention_ptx.cuh"
#include "mforce/detail/bf16.h"

namespace mforce::cuda::attn {

// Summaries of the tiles of up to 2 x kMaxSeg runs/sources: job j covers `out` entries
// first[j] .. first[j + 1], one per `tile` tokens of its chunk array.
struct SummaryJobs {
  const int32_t* chunk[2 * kMaxSeg];  // null: every token is in chunk 0
  int64_t len[2 * kMaxSeg];
  int32_t tile[2 * kMaxSeg];
  int32_t keys[2 * kMaxSeg];           // key sources: MF_ATTN_EMPTY slots are not tokens
  int32_t relation[2 * kMaxSeg];       // key sources: their relation, copied into the summaries
  int32_t first[2 * kMaxSeg + 1];
  int32_t count;
  TileSummary* out;
};

constexpr int kPrepThreads = 256;  // one warp per tile (summaries) or per row (delta)

__global__ void __launch_bounds__(kPrepThreads) attention_summary_kernel(const __grid_constant__ SummaryJobs jobs) {
  const int w = static_cast<int>((int64_t(blockIdx.x) * kPrepThreads + threadIdx.x) / 32);
  const int lane = static_cast<int>(threadIdx.x & 31);
  if (w >= jobs.first[jobs.count]) return;
  int j = 0;
  while (j + 1 < jobs.count && w >= jobs.first[j + 1]) ++j;
  const int tile = jobs.tile[j];
  const int64_t t0 = int64_t(w - jobs.first[j]) * tile;
  const int64_t t1 = min_of(t0 + tile, jobs.len[j]);
  int lo = INT_MAX, hi = INT_MIN;
  bool full = t1 - t0 == tile;
  for (int64_t t = t0 + lane; t < t1; t += 32) {
    const int c = jobs.chunk[j] ? jobs.chunk[j][t] : 0;
    if (jobs.keys[j] && c == MF_ATTN_EMPTY) {
      full = false;
    } else {
      lo = c < lo ? c : lo;
      hi = c > hi ? c : hi;
    }
  }
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) {
    const int olo = __shfl_xor_sync(0xffffffffu, lo, m), ohi = __shfl_xor_sync(0xffffffffu, hi, m);
    lo = olo < lo ? olo : lo;
    hi = ohi > hi ? ohi : hi;
  }
  full = __all_sync(0xffffffffu, full);
  if (lane == 0) jobs.out[w] = TileSummary{lo, hi, full ? 1 : 0, jobs.relation[j]};
}

// Query row w of the backward's statistics (run r, batch b, head h, token t) sits at
// stat_offset[r] + (b heads + h) len + t.
struct StatRow {
  mf_attn_queries r;
  int64_t local;  // (b heads + h) len + t: the row's index in the run's lse
  int64_t off;    // element offset of the row's head in the run's q, o, d_o, dq
};

__device__ __forceinline__ StatRow stat_row(const Params& p, int64_t w) {
  int run = 0;
#pragma unroll
  for (int j = 1; j < kMaxSeg; ++j)
    if (j < p.prob.num_queries && w >= p.stat_offset[j]) run = j;
  StatRow row;
  row.r = pick(p.prob.queries, run);
  row.local = w - pick(p.stat_offset, run);
  const int64_t t = row.local % row.r.len, bh = row.local / row.r.len;
  const int64_t h = bh % p.prob.heads, b = bh / p.prob.heads;
  row.off = b * row.r.batch_stride + t * row.r.token_stride + h * p.prob.head_dim;
  return row;
}

// Split forward, after the attention kernel: one warp per query row merges the splits' partial
// outputs (each normalized over its own keys) with weights 2^(lse_s - max) / sum, and writes o
// (bf16; head_dim 64 or 128, two dims per lane at a time) and lse; a row no split saw gets o = 0,
// lse = -inf, and a NaN lse in any split makes o and lse NaN.
__global__ void __launch_bounds__(kPrepThreads) attention_split_combine_kernel(const __grid_constant__ Params p) {
  constexpr int kMaxDimsPerLane = 4;  // head_dim <= 128
  const int64_t w = (int64_t(blockIdx.x) * kPrepThreads + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x & 31);
  if (w >= p.stat_rows) return;
  const StatRow row = stat_row(p, w);
  const int dim = p.prob.head_dim;
  float m = -INFINITY;
  bool nan = false;  // a NaN lse (from NaN inputs) makes the row NaN, as without a split
  for (int s = 0; s < p.splits; ++s) {
    const float l = p.lse_part[s * p.stat_rows + w];
    nan = nan || isnan(l);
    m = fmaxf(m, l);
  }
  if (nan) m = NAN;
  float acc[kMaxDimsPerLane] = {0.f, 0.f, 0.f, 0.f}, total = 0.f;
  if (m != -INFINITY)
    for (int s = 0; s < p.splits; ++s) {
      const float weight = expf(p.lse_part[s * p.stat_rows + w] - m);  // 0 for a split that saw no key
      const float* part = p.o_part + (s * p.stat_rows + w) * dim;
      total += weight;
#pragma unroll
      for (int i = 0; i < kMaxDimsPerLane / 2; ++i) {
        const int d = 2 * lane + 64 * i;
        if (d < dim) {
          acc[2 * i] = fmaf(weight, part[d], acc[2 * i]);
          acc[2 * i + 1] = fmaf(weight, part[d + 1], acc[2 * i + 1]);
        }
      }
    }
  const float inv = total > 0.f || nan ? 1.f / total : 0.f;
  uint32_t* o = reinterpret_cast<uint32_t*>(static_cast<bf16*>(row.r.o) + row.off);
#pragma unroll
  for (int i = 0; i < kMaxDimsPerLane / 2; ++i) {
    const int d = 2 * lane + 64 * i;
    if (d < dim) o[d / 2] = pack_bf16x2(acc[2 * i] * inv, acc[2 * i + 1] * inv);
  }
  if (lane == 0) row.r.lse[row.local] = total > 0.f || nan ? m + logf(total) : -INFINITY;
}

// One warp per query row: delta = sum over the head dims of dO * O, lse2 = lse * log2(e) (+inf
// where lse = -inf, so that 2^(s - lse2) = 0 for a row that sees no key).
template <typename T>
__global__ void __launch_bounds__(kPrepThreads) attention_delta_kernel(const __grid_constant__ Params p, float* delta,
                                                                       float* lse2, int64_t total) {
  const int64_t w = (int64_t(blockIdx.x) * kPrepThreads + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x & 31);
  if (w >= total) return;
  const StatRow row = stat_row(p, w);
  const T* o = static_cast<const T*>(row.r.o) + row.off;
  const T* d_o = static_cast<const T*>(row.r.d_o) + row.off;
  float s = 0.f;
  for (int d = lane; d < p.prob.head_dim; d += 32) s = fmaf(to_float(d_o[d]), to_float(o[d]), s);
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) s += __shfl_xor_sync(0xffffffffu, s, m);
  if (lane == 0) {
    const float l = row.r.lse[row.local];
    delta[w] = s;
    lse2[w] = l == -INFINITY ? INFINITY : l * 1.4426950408889634f;
  }
}

// Atomic-dQ backward, after the dK/dV kernel: one warp per query row, dq = bf16(dq_accum * scale)
// two head dims per lane at a time (head_dim is 64 or 128 on this path).
__global__ void __launch_bounds__(kPrepThreads) attention_dq_convert_kernel(const __grid_constant__ Params p) {
  const int64_t w = (int64_t(blockIdx.x) * kPrepThreads + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x & 31);
  if (w >= p.stat_rows) return;
  const StatRow row = stat_row(p, w);
  const int dim = p.prob.head_dim;
  const float* acc = p.dq_accum + w * dim;
  uint32_t* dq = reinterpret_cast<uint32_t*>(static_cast<bf16*>(row.r.dq) + row.off);
  for (int d = 2 * lane; d < dim; d += 64)
    dq[d / 2] = pack_bf16x2(acc[d] * p.prob.scale, acc[d + 1] * p.prob.scale);
}

}  // namespace mforce::cuda::attn
#endif
