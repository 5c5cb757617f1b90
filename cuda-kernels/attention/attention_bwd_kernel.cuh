// bf16 tensor-core backward (FlashAttention-2 style, deterministic) for sm_80+, after the
// delta kernel (attention_prep.cuh) has written delta = rowsum(dO * O) and lse2 = lse * log2(e):
//  dK/dV kernel: one block per (key tile, kv head, batch entry); each warp owns 16 keys and
//    walks every visible query tile of every run, for every query head of its group, in one
//    fixed order: dV += P^T dO, dK += dS^T Q, so GQA reduces without atomics;
//  dQ kernel: one block per (query tile, head, batch entry); each warp owns 16 queries and
//    walks the visible key tiles of every source: dQ += dS K.
// with P = 2^(S * scale_log2 - lse2), dS = P * (dP - delta), dP = dO V^T, and the softmax
// scale applied once to dK and dQ at the end. Both kernels recompute S and dP (7 GEMMs against
// the 5 of a kernel that accumulates dQ with atomics) and write every output exactly once.
#ifndef MFORCE_CUDA_ATTENTION_BWD_KERNEL_CUH
#define MFORCE_CUDA_ATTENTION_BWD_KERNEL_CUH

#include <math.h>

#include "attention_fwd_kernel.cuh"

namespace mforce::cuda::attn {

template <class Tr>
__global__ void __launch_bounds__(Tr::kThreads) attention_bwd_dkdv_mma_kernel(const __grid_constant__ Params p) {
  constexpr int D = Tr::kHeadDim, BT = Tr::kTile, NT = BT / 8, DT = D / 8;
  const KeyTile kt = key_tile(p);
  if (kt.r.dk == nullptr) return;  // no gradient wanted for this source
  const int b = static_cast<int>(blockIdx.z), hk = static_cast<int>(blockIdx.y);
  const int row0 = static_cast<int>(threadIdx.x / 32) * 16;

  // shared memory: K [BT, D], V [BT, D] | ring slot s: Q [BT, D], dO [BT, D], lse2 [BT], delta [BT]
  constexpr int kSlot = 2 * BT * D * 2 + 2 * BT * 4;  // bytes
  bf16* const k_tile = reinterpret_cast<bf16*>(dynamic_smem());
  bf16* const v_tile = k_tile + BT * D;
  unsigned char* const ring = reinterpret_cast<unsigned char*>(v_tile + BT * D);
  auto q_of = [&](int slot) { return reinterpret_cast<bf16*>(ring + slot * kSlot); };
  auto do_of = [&](int slot) { return q_of(slot) + BT * D; };
  auto lse2_of = [&](int slot) { return reinterpret_cast<float*>(do_of(slot) + BT * D); };
  auto delta_of = [&](int slot) { return lse2_of(slot) + BT; };

  const int64_t k_off = int64_t(b) * kt.r.batch_stride + kt.t0 * kt.r.token_stride + int64_t(hk) * D;
  // MF_ATTN_EMPTY rows zero, so that their dK, dV rows come out 0 whatever the slots hold
  const int32_t* k_chunk = kt.r.chunk + kt.t0;
  load_tile_async<BT, D, Tr::kThreads>(k_tile, static_cast<const bf16*>(kt.r.k) + k_off, kt.r.token_stride, kt.rows,
                                       k_chunk);
  load_tile_async<BT, D, Tr::kThreads>(v_tile, static_cast<const bf16*>(kt.r.v) + k_off, kt.r.token_stride, kt.rows,
                                       k_chunk);

  const ChunkMask mask = ChunkMask::of(p.prob, kt.r.relation);
  KeyToken keys[1][2];
#pragma unroll
  for (int half = 0; half < 2; ++half)
    keys[0][half] = key_at(mask, kt.r.chunk, kt.t0 + fragment_row(row0, 0, half), kt.r.len);

  float dk[1][DT][4], dv[1][DT][4];
  clear(dk);
  clear(dv);

  GroupWalk walk(p.q, p.k.summary[kt.index], p.prob, p.group);
  run_pipeline<Tr::kStages>(
      walk,
      [&](int slot, const HeadTileRef& it) {
        const mf_attn_queries qr = pick(p.prob.queries, it.t.seg);
        const int h = hk * p.group + it.head;
        const int64_t t0 = int64_t(it.t.tile) * BT;
        const int n = static_cast<int>(min_of(qr.len - t0, BT));
        const int64_t q_off = int64_t(b) * qr.batch_stride + t0 * qr.token_stride + int64_t(h) * D;
        load_tile_async<BT, D, Tr::kThreads>(q_of(slot), static_cast<const bf16*>(qr.q) + q_off, qr.token_stride, n);
        load_tile_async<BT, D, Tr::kThreads>(do_of(slot), static_cast<const bf16*>(qr.d_o) + q_off, qr.token_stride, n);
        const int64_t stat = pick(p.stat_offset, it.t.seg) + row_stat(p, qr.len, b, h, t0);
        load_row_async<BT, Tr::kThreads>(lse2_of(slot), p.lse2 + stat, n);
        load_row_async<BT, Tr::kThreads>(delta_of(slot), p.delta + stat, n);
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
          const int64_t q0 = int64_t(it.t.tile) * BT;
          mask_fragment(pt, keys, [&](int j) { return query_at(chunk, q0 + j, qr.len); }, 0.f);
        }
        float dpt[1][NT][4];  // dP^T = V dO^T
        clear(dpt);
        warp_gemm_nt<1, NT, D / 16, D, D>(dpt, v_tile, row0, d_o, 0);
        uint32_t a[1][NT / 2][4];
        accumulator_to_a(pt, a);
        warp_gemm_rn<1, DT, NT / 2, D>(dv, a, d_o);  // dV += P^T dO
#pragma unroll
        for (int n = 0; n < NT; ++n)
#pragma unroll
          for (int e = 0; e < 4; ++e) dpt[0][n][e] = pt[0][n][e] * (dpt[0][n][e] - delta[fragment_col(n, e & 1)]);
        accumulator_to_a(dpt, a);
        warp_gemm_rn<1, DT, NT / 2, D>(dk, a, q);  // dK += dS^T Q
      });

#pragma unroll
  for (int n = 0; n < DT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[0][n][e] *= p.prob.scale;
  store_rows<1, D>(dk, k_tile, row0, static_cast<bf16*>(kt.r.dk) + k_off, kt.r.token_stride, kt.rows);
  store_rows<1, D>(dv, v_tile, row0, static_cast<bf16*>(kt.r.dv) + k_off, kt.r.token_stride, kt.rows);
}

template <class Tr>
__global__ void __launch_bounds__(Tr::kThreads) attention_bwd_dq_mma_kernel(const __grid_constant__ Params p) {
  constexpr int D = Tr::kHeadDim, BT = Tr::kTile, NT = BT / 8, DT = D / 8;
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
          for (int e = 0; e < 4; ++e) ds[0][n][e] = pr[0][n][e] * (ds[0][n][e] - delta[e >> 1]);
        uint32_t a[1][NT / 2][4];
        accumulator_to_a(ds, a);
        warp_gemm_rn<1, DT, NT / 2, D>(dq, a, k_tile);  // dQ += dS K
      });

#pragma unroll
  for (int n = 0; n < DT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dq[0][n][e] *= p.prob.scale;
  store_rows<1, D>(dq, q_tile, row0, static_cast<bf16*>(qt.r.dq) + q_off, qt.r.token_stride, qt.rows);
}

}  // namespace mforce::cuda::attn
#endif
