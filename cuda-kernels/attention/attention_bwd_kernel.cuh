// bf16 tensor-core backward (FlashAttention-2 style) for sm_80+, after the delta kernel
// (attention_prep.cuh) has written delta = rowsum(dO * O) and lse2 = lse * log2(e):
//  dK/dV kernel: one block per (key tile, kv head, batch entry); each warp owns 16 keys and
//    walks every visible query tile of every run, for every query head of its group, in one
//    fixed order: dV += P^T dO, dK += dS^T Q, so GQA reduces without atomics;
//  dQ, deterministic (prob.deterministic != 0): one block per (query tile, head, batch entry);
//    each warp owns 16 queries and walks the visible key tiles of every source: dQ += dS K.
//    S and dP are computed in both kernels: 7 GEMMs, every output written exactly once;
//  dQ, atomic (otherwise): the dK/dV kernel (128-key tiles) stages dS^T in shared memory and
//    each warp adds dS K for 16 queries of the tile and a slice of the head dims into the fp32
//    p.dq_accum with atomicAdd: 5 GEMMs, as FlashAttention-2; the order of the additions varies from run to run, so the last bits of
//    dQ do. attention_dq_convert_kernel then scales and rounds dq_accum into dq.
// with P = 2^(S * scale_log2 - lse2), dS = P * (dP - delta), dP = dO V^T, and the softmax
// scale applied once to dK and dQ at the end.
#ifndef MFORCE_CUDA_ATTENTION_BWD_KERNEL_CUH
#define MFORCE_CUDA_ATTENTION_BWD_KERNEL_CUH

#include <math.h>

#include "attention_fwd_kernel.cuh"

namespace mforce::cuda::attn {

// The warp's share of dQ += dS K for one (key tile, query tile) pair of the atomic mode. ds_t
// holds the warp's 16 keys (key_row0 ..) of dS^T [BN keys, BM queries] (fp32 fragments). After the
// block's barrier each warp reads dS^T back transposed for one m16 tile of the queries and adds
// dS K over the BN keys for one slice of the D columns (rows < rows of dq_rows [BM, D], fp32),
// 64 columns at a time (register budget). hidden_nonfinite: see masked_gemm_rn.
template <int BN, int BM, int D, int W>
__device__ __forceinline__ void add_dq_atomic(const float (&ds_t)[1][BM / 8][4], bf16* ds_tile, const bf16* k_tile,
                                              int key_row0, float* dq_rows, int rows, bool hidden_nonfinite) {
  constexpr int kQueryTiles = BM / 16;
  constexpr int kWarpCols = D / (W / kQueryTiles);  // columns per warp
  constexpr int kCols = kWarpCols < 64 ? kWarpCols : 64;
  static_assert(kWarpCols % kCols == 0 && kCols % 16 == 0, "whole 16-column steps");
  const int warp = static_cast<int>(threadIdx.x / 32);
  const int q0 = (warp % kQueryTiles) * 16, col0 = (warp / kQueryTiles) * kWarpCols;
  store_fragment<1, BM>(ds_t, ds_tile, key_row0);
  __syncthreads();
  uint32_t ds[1][BN / 16][4];  // A of dQ = dS K: rows the warp's 16 queries, k the tile's keys
  load_a_transposed<BN / 16, BM>(ds, ds_tile, q0);
#pragma unroll
  for (int c0 = col0; c0 < col0 + kWarpCols; c0 += kCols) {
    float dq[1][kCols / 8][4];
    clear(dq);
    masked_gemm_rn<1, kCols / 8, BN / 16, D>(dq, ds, k_tile, hidden_nonfinite, c0 / 8);
#pragma unroll
    for (int n = 0; n < kCols / 8; ++n)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int r = fragment_row(q0, 0, half);
        if (r < rows)
          atomic_add_pair(dq_rows + int64_t(r) * D + c0 + fragment_col(n, 0), dq[0][n][2 * half], dq[0][n][2 * half + 1]);
      }
  }
}

// One block per (key tile, kv head, batch entry); Tr::kAtomicDq selects the mode.
template <class Tr>
__global__ void __launch_bounds__(Tr::kThreads) attention_bwd_dkdv_mma_kernel(const __grid_constant__ Params p) {
  constexpr int D = Tr::kHeadDim, BM = Tr::kBlockM, BN = Tr::kBlockN, NT = BM / 8, DT = D / 8;
  constexpr bool kAtomicDq = Tr::kAtomicDq;
  const KeyTile kt = key_tile(p);
  const bool want_dkdv = kt.r.dk != nullptr;  // block-uniform
  if (!want_dkdv && !kAtomicDq) return;       // nothing to do here for a source without gradients
  const int b = static_cast<int>(blockIdx.z), hk = static_cast<int>(blockIdx.y);
  const int row0 = static_cast<int>(threadIdx.x / 32) * 16;

  // shared memory: K [BN, D], V [BN, D] | ring slot s: Q [BM, D], dO [BM, D], lse2 [BM], delta [BM]
  //   | atomic dQ only: dS^T [BN keys, BM queries]
  constexpr int kSlot = Tr::kSmemSlot;  // bytes
  bf16* const k_tile = reinterpret_cast<bf16*>(dynamic_smem());
  bf16* const v_tile = k_tile + BN * D;
  unsigned char* const ring = reinterpret_cast<unsigned char*>(v_tile + BN * D);
  bf16* const ds_tile = reinterpret_cast<bf16*>(ring + Tr::kStages * kSlot);
  auto q_of = [&](int slot) { return reinterpret_cast<bf16*>(ring + slot * kSlot); };
  auto do_of = [&](int slot) { return q_of(slot) + BM * D; };
  auto lse2_of = [&](int slot) { return reinterpret_cast<float*>(do_of(slot) + BM * D); };
  auto delta_of = [&](int slot) { return lse2_of(slot) + BM; };

  const int64_t k_off = int64_t(b) * kt.r.batch_stride + kt.t0 * kt.r.token_stride + int64_t(hk) * D;
  // MF_ATTN_EMPTY rows zero, so that their dK, dV rows come out 0 whatever the slots hold
  const int32_t* k_chunk = kt.r.chunk + kt.t0;
  load_tile_async<BN, D, Tr::kThreads>(k_tile, static_cast<const bf16*>(kt.r.k) + k_off, kt.r.token_stride, kt.rows,
                                       k_chunk);
  load_tile_async<BN, D, Tr::kThreads>(v_tile, static_cast<const bf16*>(kt.r.v) + k_off, kt.r.token_stride, kt.rows,
                                       k_chunk);

  const ChunkMask mask = ChunkMask::of(p.prob, kt.r.relation);
  KeyToken keys[1][2];
#pragma unroll
  for (int half = 0; half < 2; ++half)
    keys[0][half] = key_at(mask, kt.r.chunk, kt.t0 + fragment_row(row0, 0, half), kt.r.len);

  float dk[1][DT][4], dv[1][DT][4];
  clear(dk);
  clear(dv);
  int k_finite = -1;  // whether the K tile is all finite (atomic dQ): read at the first pair hidden in part

  GroupWalk walk(p.q, p.k.summary[kt.index], p.prob, p.group);
  run_pipeline<Tr::kStages>(
      walk,
      [&](int slot, const HeadTileRef& it) {
        const mf_attn_queries qr = pick(p.prob.queries, it.t.seg);
        const int h = hk * p.group + it.head;
        const int64_t t0 = int64_t(it.t.tile) * BM;
        const int n = static_cast<int>(min_of(qr.len - t0, BM));
        const int64_t q_off = int64_t(b) * qr.batch_stride + t0 * qr.token_stride + int64_t(h) * D;
        load_tile_async<BM, D, Tr::kThreads>(q_of(slot), static_cast<const bf16*>(qr.q) + q_off, qr.token_stride, n);
        load_tile_async<BM, D, Tr::kThreads>(do_of(slot), static_cast<const bf16*>(qr.d_o) + q_off, qr.token_stride, n);
        const int64_t stat = pick(p.stat_offset, it.t.seg) + row_stat(p, qr.len, b, h, t0);
        load_row_async<BM, Tr::kThreads>(lse2_of(slot), p.lse2 + stat, n);
        load_row_async<BM, Tr::kThreads>(delta_of(slot), p.delta + stat, n);
      },
      [&](int slot, const HeadTileRef& it) {
        const bf16* q = q_of(slot);
        const bf16* d_o = do_of(slot);
        const float* lse2 = lse2_of(slot);
        const float* delta = delta_of(slot);
        // P^T = 2^(S^T * scale_log2 - lse2[query]): rows are the warp's keys, columns the queries
        float pt[1][NT][4];
        clear(pt);
        warp_gemm_nt<1, NT, D / 16, D, D>(pt, k_tile, row0, q, 0);
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e)
            pt[0][n][e] = exp2_approx(fmaf(pt[0][n][e], p.scale_log2, -lse2[fragment_col(n, e & 1)]));
        if (!it.t.full) {
          const mf_attn_queries qr = pick(p.prob.queries, it.t.seg);
          const int32_t* chunk = p.prob.masked ? qr.chunk : nullptr;
          const int64_t q0 = int64_t(it.t.tile) * BM;
          mask_fragment(pt, keys, [&](int j) { return query_at(chunk, q0 + j, qr.len); }, 0.f);
        }
        float dpt[1][NT][4];  // dP^T = V dO^T
        clear(dpt);
        warp_gemm_nt<1, NT, D / 16, D, D>(dpt, v_tile, row0, d_o, 0);
        uint32_t a[1][NT / 2][4];
        if (want_dkdv) {
          accumulator_to_a(pt, a);
          warp_gemm_rn<1, DT, NT / 2, D>(dv, a, d_o);  // dV += P^T dO
        }
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e)  // 0 where P is: a hidden pair's dP may be NaN (a NaN v, a NaN query's delta)
            dpt[0][n][e] = pt[0][n][e] == 0.f ? 0.f : pt[0][n][e] * (dpt[0][n][e] - delta[fragment_col(n, e & 1)]);
        if (want_dkdv) {
          accumulator_to_a(dpt, a);
          warp_gemm_rn<1, DT, NT / 2, D>(dk, a, q);  // dK += dS^T Q
        }
        if constexpr (kAtomicDq) {
          const mf_attn_queries qr = pick(p.prob.queries, it.t.seg);
          const int h = hk * p.group + it.head;
          const int64_t t0 = int64_t(it.t.tile) * BM;
          const int64_t row = pick(p.stat_offset, it.t.seg) + row_stat(p, qr.len, b, h, t0);
          if (!it.t.full && k_finite < 0) k_finite = tile_finite<BN, D>(k_tile);
          add_dq_atomic<BN, BM, D, Tr::kWarps>(dpt, ds_tile, k_tile, row0, p.dq_accum + row * D,
                               static_cast<int>(min_of(qr.len - t0, BM)), !it.t.full && k_finite == 0);
        }
      });
  if (!want_dkdv) return;

#pragma unroll
  for (int n = 0; n < DT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[0][n][e] *= p.prob.scale;
  store_rows<1, D>(dk, k_tile, row0, static_cast<bf16*>(kt.r.dk) + k_off, kt.r.token_stride, kt.rows);
  store_rows<1, D>(dv, v_tile, row0, static_cast<bf16*>(kt.r.dv) + k_off, kt.r.token_stride, kt.rows);
}

template <class Tr>
__global__ void __launch_bounds__(Tr::kThreads) attention_bwd_dq_mma_kernel(const __grid_constant__ Params p) {
  static_assert(!Tr::kAtomicDq, "the atomic mode forms dQ in the dK/dV kernel");
  constexpr int D = Tr::kHeadDim, BT = Tr::kBlockM, NT = BT / 8, DT = D / 8;
  const int b = static_cast<int>(blockIdx.z), h = static_cast<int>(blockIdx.y), hk = h / p.group;
  const int row0 = static_cast<int>(threadIdx.x / 32) * 16;
  const QueryTile qt = query_tile(p);

  // shared memory: Q [BT, D], dO [BT, D] | ring slot s: K [BT, D], V [BT, D]
  bf16* const q_tile = reinterpret_cast<bf16*>(dynamic_smem());
  bf16* const do_tile = q_tile + BT * D;
  bf16* const ring = do_tile + BT * D;

  const int64_t q_off = int64_t(b) * qt.r.batch_stride + qt.t0 * qt.r.token_stride + int64_t(h) * D;
  load_tile_async<BT, D, Tr::kThreads>(q_tile, static_cast<const bf16*>(qt.r.q) + q_off, qt.r.token_stride, qt.rows);
  load_tile_async<BT, D, Tr::kThreads>(do_tile, static_cast<const bf16*>(qt.r.d_o) + q_off, qt.r.token_stride, qt.rows);

  QueryToken rows[1][2];
  float lse2[2], delta[2];
  const int64_t stat = pick(p.stat_offset, qt.run) + row_stat(p, qt.r.len, b, h, qt.t0);
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int r = fragment_row(row0, 0, half);
    rows[0][half] = query_at(p.prob.masked ? qt.r.chunk : nullptr, qt.t0 + r, qt.r.len);
    lse2[half] = r < qt.rows ? p.lse2[stat + r] : INFINITY;
    delta[half] = r < qt.rows ? p.delta[stat + r] : 0.f;
  }

  float dq[1][DT][4];
  clear(dq);

  TileWalk<true> walk(p.k, p.q.summary[qt.index], p.prob);
  run_pipeline<Tr::kStages>(
      walk,
      [&](int slot, const TileRef& t) {
        bf16* k_tile = ring + slot * 2 * BT * D;
        load_kv_async<BT, D, Tr::kThreads>(p, t, b, hk, k_tile, k_tile + BT * D);
      },
      [&](int slot, const TileRef& t) {
        const bf16* k_tile = ring + slot * 2 * BT * D;
        float pr[1][NT][4];  // P = 2^(S * scale_log2 - lse2[query])
        clear(pr);
        warp_gemm_nt<1, NT, D / 16, D, D>(pr, q_tile, row0, k_tile, 0);
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e) pr[0][n][e] = exp2_approx(fmaf(pr[0][n][e], p.scale_log2, -lse2[e >> 1]));
        if (!t.full) {
          const mf_attn_keys ks = pick(p.prob.keys, t.seg);
          const ChunkMask mask = ChunkMask::of(p.prob, ks.relation);
          const int64_t k0 = int64_t(t.tile) * BT;
          mask_fragment(pr, rows, [&](int j) { return key_at(mask, ks.chunk, k0 + j, ks.len); }, 0.f);
        }
        float ds[1][NT][4];  // dP = dO V^T, then dS = P * (dP - delta)
        clear(ds);
        warp_gemm_nt<1, NT, D / 16, D, D>(ds, do_tile, row0, k_tile + BT * D, 0);
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e)  // 0 where P is: a hidden key's dP may be NaN (a NaN v)
            ds[0][n][e] = pr[0][n][e] == 0.f ? 0.f : pr[0][n][e] * (ds[0][n][e] - delta[e >> 1]);
        uint32_t a[1][NT / 2][4];
        accumulator_to_a(ds, a);
        masked_gemm_rn<1, DT, NT / 2, D>(dq, a, k_tile, !t.full && !tile_finite<BT, D>(k_tile));  // dQ += dS K
      });

#pragma unroll
  for (int n = 0; n < DT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dq[0][n][e] *= p.prob.scale;
  store_rows<1, D>(dq, q_tile, row0, static_cast<bf16*>(qt.r.dq) + q_off, qt.r.token_stride, qt.rows);
}

}  // namespace mforce::cuda::attn
#endif
