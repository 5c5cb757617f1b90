// The general path: plain fp32 SIMT kernels for every dtype (float or bf16 storage, fp32
// math) and every head_dim that is a multiple of 8 up to 32 * DL. Same structure as the tensor-
// core path (one block owns 32 tokens, 4 per warp, and walks 32-token tiles of the other side
// chosen by the same tile summaries) but with the tiles in fp32 shared memory: lane j scores
// token j of the walked tile (a full dot product, no reduction), then every lane accumulates
// its DL head dims over the 32 tokens, the weights passed by shuffles.
#ifndef MFORCE_CUDA_ATTENTION_SIMT_KERNEL_CUH
#define MFORCE_CUDA_ATTENTION_SIMT_KERNEL_CUH

#include <math.h>

#include "attention_mask.cuh"
#include "attention_params.cuh"
#include "attention_ptx.cuh"
#include "attention_traits.cuh"
#include "mforce/detail/bf16.h"

namespace mforce::cuda::attn {

// tile[r, d] = src[r * stride + d] as float for r < rows and d < head_dim, 0 elsewhere in
// the kTile x kMaxHeadDim tile (rows kStride floats apart), and 0 in the rows whose chunk is
// MF_ATTN_EMPTY when `chunk` (the rows' chunk indices) is given: an unused cache slot may hold
// NaN, and a masked probability of 0 times NaN is NaN. All threads of the block take part.
template <class Tr, typename T>
__device__ __forceinline__ void load_simt_tile(float* tile, const T* src, int64_t stride, int rows, int head_dim,
                                               const int32_t* chunk = nullptr) {
  for (int i = static_cast<int>(threadIdx.x); i < Tr::kTile * Tr::kMaxHeadDim; i += Tr::kThreads) {
    const int r = i / Tr::kMaxHeadDim, d = i % Tr::kMaxHeadDim;
    const bool ok = r < rows && d < head_dim && (chunk == nullptr || chunk[r] != MF_ATTN_EMPTY);
    tile[r * Tr::kStride + d] = ok ? to_float(src[r * stride + d]) : 0.f;
  }
}

__device__ __forceinline__ float dot(const float* a, const float* b, int n) {
  float s = 0.f;
#pragma unroll 8
  for (int d = 0; d < n; ++d) s = fmaf(a[d], b[d], s);
  return s;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

// acc[c] += sum over the warp's lanes j of w_j * tile[j, lane + 32 c] (w_j: lane j's weight), a
// zero weight adding nothing: w_j is 0 where the mask hides the pair, and the tile's row j (a
// hidden key's v or k) may then hold anything, NaN included (0 * NaN is NaN).
template <class Tr>
__device__ __forceinline__ void accumulate_rows(float (&acc)[Tr::kDimsPerLane], float w, const float* tile) {
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll 4
  for (int j = 0; j < 32; ++j) {
    const float wj = __shfl_sync(0xffffffffu, w, j);
    if (wj == 0.f) continue;  // warp-uniform
    const float* row = tile + j * Tr::kStride + lane;
#pragma unroll
    for (int c = 0; c < Tr::kDimsPerLane; ++c) acc[c] = fmaf(wj, row[32 * c], acc[c]);
  }
}

// dst[lane + 32 c] = acc[c] * factor for the head dims this lane holds.
template <class Tr, typename T>
__device__ __forceinline__ void store_simt_row(T* dst, const float (&acc)[Tr::kDimsPerLane], float factor, int head_dim) {
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll
  for (int c = 0; c < Tr::kDimsPerLane; ++c)
    if (lane + 32 * c < head_dim) dst[lane + 32 * c] = from_float<T>(acc[c] * factor);
}

// Loads walked key tile t (kv head hk of batch entry b) into k_tile and v_tile once every warp
// is done with the previous one, MF_ATTN_EMPTY rows as zeros (a tile the walk takes whole has
// none); returns the key token this lane stands for.
template <class Tr, typename T>
__device__ __forceinline__ KeyToken load_simt_kv(const Params& p, const TileRef& t, int b, int hk, float* k_tile,
                                                   float* v_tile) {
  const mf_attn_keys ks = pick(p.prob.keys, t.seg);
  const int D = p.prob.head_dim;
  const int64_t k0 = int64_t(t.tile) * Tr::kTile;
  const int64_t off = int64_t(b) * ks.batch_stride + k0 * ks.token_stride + int64_t(hk) * D;
  const int n = static_cast<int>(min_of(ks.len - k0, Tr::kTile));
  const int32_t* chunk = t.full ? nullptr : ks.chunk + k0;
  __syncthreads();  // every warp is done with the previous K, V
  load_simt_tile<Tr>(k_tile, static_cast<const T*>(ks.k) + off, ks.token_stride, n, D, chunk);
  load_simt_tile<Tr>(v_tile, static_cast<const T*>(ks.v) + off, ks.token_stride, n, D, chunk);
  __syncthreads();
  return key_at(ChunkMask::of(p.prob, ks.relation), ks.chunk, k0 + static_cast<int>(threadIdx.x & 31), ks.len);
}

template <typename T, int DL>
__global__ void __launch_bounds__(SimtTraits<DL>::kThreads) attention_fwd_simt_kernel(const __grid_constant__ Params p) {
  using Tr = SimtTraits<DL>;
  constexpr int R = Tr::kRowsPerWarp;
  const int D = p.prob.head_dim, lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x / 32);
  const int b = static_cast<int>(blockIdx.z), h = static_cast<int>(blockIdx.y), hk = h / p.group;
  const QueryTile qt = query_tile(p);

  float* const q_tile = reinterpret_cast<float*>(dynamic_smem());  // Q | K | V
  float* const k_tile = q_tile + Tr::kTile * Tr::kStride;
  float* const v_tile = k_tile + Tr::kTile * Tr::kStride;
  const int64_t q_off = int64_t(b) * qt.r.batch_stride + qt.t0 * qt.r.token_stride + int64_t(h) * D;
  load_simt_tile<Tr>(q_tile, static_cast<const T*>(qt.r.q) + q_off, qt.r.token_stride, qt.rows, D);

  QueryToken rows[R];
  float acc[R][DL], row_max[R], row_sum[R];  // row_sum: this lane's keys; reduced at the end
#pragma unroll
  for (int i = 0; i < R; ++i) {
    rows[i] = query_at(p.prob.masked ? qt.r.chunk : nullptr, qt.t0 + warp * R + i, qt.r.len);
    row_max[i] = -INFINITY;
    row_sum[i] = 0.f;
#pragma unroll
    for (int c = 0; c < DL; ++c) acc[i][c] = 0.f;
  }

  TileWalk<true> walk(p.k, p.q.summary[qt.index], p.prob);
  for (TileRef t = walk.next(); t.valid(); t = walk.next()) {
    const KeyToken key = load_simt_kv<Tr, T>(p, t, b, hk, k_tile, v_tile);
#pragma unroll
    for (int i = 0; i < R; ++i) {
      float s = dot(q_tile + (warp * R + i) * Tr::kStride, k_tile + lane * Tr::kStride, D) * p.scale_log2;
      if (!t.full && !visible(rows[i], key)) s = -INFINITY;
      const float mx = fmaxf(row_max[i], warp_max(s));
      const float base = mx == -INFINITY ? 0.f : mx;
      const float alpha = exp2_approx(row_max[i] - base);
      const float e = exp2_approx(s - base);
      row_max[i] = mx;
      row_sum[i] = row_sum[i] * alpha + e;
#pragma unroll
      for (int c = 0; c < DL; ++c) acc[i][c] *= alpha;
      accumulate_rows<Tr>(acc[i], e, v_tile);
    }
  }

#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int r = warp * R + i;
    const float sum = warp_sum(row_sum[i]);
    if (r >= qt.rows) continue;
    store_simt_row<Tr>(static_cast<T*>(qt.r.o) + q_off + r * qt.r.token_stride, acc[i], sum > 0.f ? 1.f / sum : 0.f, D);
    if (lane == 0)
      qt.r.lse[row_stat(p, qt.r.len, b, h, qt.t0 + r)] =
          sum == 0.f ? -INFINITY : (row_max[i] + log2f(sum)) * 0.69314718055994531f;  // NaN scores: NaN
  }
}

template <typename T, int DL>
__global__ void __launch_bounds__(SimtTraits<DL>::kThreads) attention_bwd_dq_simt_kernel(const __grid_constant__ Params p) {
  using Tr = SimtTraits<DL>;
  constexpr int R = Tr::kRowsPerWarp;
  const int D = p.prob.head_dim, lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x / 32);
  const int b = static_cast<int>(blockIdx.z), h = static_cast<int>(blockIdx.y), hk = h / p.group;
  const QueryTile qt = query_tile(p);

  float* const q_tile = reinterpret_cast<float*>(dynamic_smem());  // Q | dO | K | V
  float* const do_tile = q_tile + Tr::kTile * Tr::kStride;
  float* const k_tile = do_tile + Tr::kTile * Tr::kStride;
  float* const v_tile = k_tile + Tr::kTile * Tr::kStride;
  const int64_t q_off = int64_t(b) * qt.r.batch_stride + qt.t0 * qt.r.token_stride + int64_t(h) * D;
  load_simt_tile<Tr>(q_tile, static_cast<const T*>(qt.r.q) + q_off, qt.r.token_stride, qt.rows, D);
  load_simt_tile<Tr>(do_tile, static_cast<const T*>(qt.r.d_o) + q_off, qt.r.token_stride, qt.rows, D);

  const int64_t stat = pick(p.stat_offset, qt.run) + row_stat(p, qt.r.len, b, h, qt.t0);
  QueryToken rows[R];
  float lse2[R], delta[R], acc[R][DL];
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int r = warp * R + i;
    rows[i] = query_at(p.prob.masked ? qt.r.chunk : nullptr, qt.t0 + r, qt.r.len);
    lse2[i] = r < qt.rows ? p.lse2[stat + r] : INFINITY;
    delta[i] = r < qt.rows ? p.delta[stat + r] : 0.f;
#pragma unroll
    for (int c = 0; c < DL; ++c) acc[i][c] = 0.f;
  }

  TileWalk<true> walk(p.k, p.q.summary[qt.index], p.prob);
  for (TileRef t = walk.next(); t.valid(); t = walk.next()) {
    const KeyToken key = load_simt_kv<Tr, T>(p, t, b, hk, k_tile, v_tile);
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const int r = warp * R + i;
      float pr = exp2_approx(fmaf(dot(q_tile + r * Tr::kStride, k_tile + lane * Tr::kStride, D), p.scale_log2, -lse2[i]));
      if (!t.full && !visible(rows[i], key)) pr = 0.f;
      const float dp = dot(do_tile + r * Tr::kStride, v_tile + lane * Tr::kStride, D);
      // dQ += dS K, dS 0 where P is (a hidden key's dP may be NaN)
      accumulate_rows<Tr>(acc[i], pr == 0.f ? 0.f : pr * (dp - delta[i]), k_tile);
    }
  }

#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int r = warp * R + i;
    if (r < qt.rows)
      store_simt_row<Tr>(static_cast<T*>(qt.r.dq) + q_off + r * qt.r.token_stride, acc[i], p.prob.scale, D);
  }
}

template <typename T, int DL>
__global__ void __launch_bounds__(SimtTraits<DL>::kThreads) attention_bwd_dkdv_simt_kernel(const __grid_constant__ Params p) {
  using Tr = SimtTraits<DL>;
  constexpr int R = Tr::kRowsPerWarp;
  const KeyTile kt = key_tile(p);
  if (kt.r.dk == nullptr) return;  // no gradient wanted for this source
  const int D = p.prob.head_dim, lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x / 32);
  const int b = static_cast<int>(blockIdx.z), hk = static_cast<int>(blockIdx.y);

  float* const k_tile = reinterpret_cast<float*>(dynamic_smem());  // K | V | Q | dO | lse2 | delta
  float* const v_tile = k_tile + Tr::kTile * Tr::kStride;
  float* const q_tile = v_tile + Tr::kTile * Tr::kStride;
  float* const do_tile = q_tile + Tr::kTile * Tr::kStride;
  float* const lse2 = do_tile + Tr::kTile * Tr::kStride;
  float* const delta = lse2 + Tr::kTile;
  const int64_t k_off = int64_t(b) * kt.r.batch_stride + kt.t0 * kt.r.token_stride + int64_t(hk) * D;
  // MF_ATTN_EMPTY rows zero, so that their dK, dV rows come out 0 whatever the slots hold
  const int32_t* k_chunk = kt.r.chunk + kt.t0;
  load_simt_tile<Tr>(k_tile, static_cast<const T*>(kt.r.k) + k_off, kt.r.token_stride, kt.rows, D, k_chunk);
  load_simt_tile<Tr>(v_tile, static_cast<const T*>(kt.r.v) + k_off, kt.r.token_stride, kt.rows, D, k_chunk);

  const ChunkMask mask = ChunkMask::of(p.prob, kt.r.relation);
  KeyToken keys[R];
  float dk[R][DL], dv[R][DL];
#pragma unroll
  for (int i = 0; i < R; ++i) {
    keys[i] = key_at(mask, kt.r.chunk, kt.t0 + warp * R + i, kt.r.len);
#pragma unroll
    for (int c = 0; c < DL; ++c) dk[i][c] = dv[i][c] = 0.f;
  }

  GroupWalk walk(p.q, p.k.summary[kt.index], p.prob, p.group);
  for (HeadTileRef it = walk.next(); it.valid(); it = walk.next()) {
    const mf_attn_queries qr = pick(p.prob.queries, it.t.seg);
    const int h = hk * p.group + it.head;
    const int64_t t0 = int64_t(it.t.tile) * Tr::kTile;
    const int64_t q_off = int64_t(b) * qr.batch_stride + t0 * qr.token_stride + int64_t(h) * D;
    const int n = static_cast<int>(min_of(qr.len - t0, Tr::kTile));
    const int64_t stat = pick(p.stat_offset, it.t.seg) + row_stat(p, qr.len, b, h, t0);
    __syncthreads();
    load_simt_tile<Tr>(q_tile, static_cast<const T*>(qr.q) + q_off, qr.token_stride, n, D);
    load_simt_tile<Tr>(do_tile, static_cast<const T*>(qr.d_o) + q_off, qr.token_stride, n, D);
    if (threadIdx.x < Tr::kTile) {
      lse2[threadIdx.x] = static_cast<int>(threadIdx.x) < n ? p.lse2[stat + threadIdx.x] : INFINITY;
      delta[threadIdx.x] = static_cast<int>(threadIdx.x) < n ? p.delta[stat + threadIdx.x] : 0.f;
    }
    __syncthreads();
    const QueryToken query = query_at(p.prob.masked ? qr.chunk : nullptr, t0 + lane, qr.len);
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const int r = warp * R + i;
      float pr = exp2_approx(fmaf(dot(k_tile + r * Tr::kStride, q_tile + lane * Tr::kStride, D), p.scale_log2, -lse2[lane]));
      if (!it.t.full && !visible(query, keys[i])) pr = 0.f;
      const float dp = dot(v_tile + r * Tr::kStride, do_tile + lane * Tr::kStride, D);
      accumulate_rows<Tr>(dv[i], pr, do_tile);                      // dV += P^T dO
      accumulate_rows<Tr>(dk[i], pr == 0.f ? 0.f : pr * (dp - delta[lane]), q_tile);  // dK += dS^T Q, 0 where P is
    }
  }

#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int r = warp * R + i;
    if (r >= kt.rows) continue;
    store_simt_row<Tr>(static_cast<T*>(kt.r.dk) + k_off + r * kt.r.token_stride, dk[i], p.prob.scale, D);
    store_simt_row<Tr>(static_cast<T*>(kt.r.dv) + k_off + r * kt.r.token_stride, dv[i], 1.f, D);
  }
}

}  // namespace mforce::cuda::attn
#endif
