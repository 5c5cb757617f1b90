// bf16 tensor-core forward (FlashAttention-2 style) for sm_80+: one block per (query tile,
// head, batch entry); 4 warps, each owning kWarpRows query rows; the key tiles of every
// source are walked in one loop (one online softmax across all sources) through a cp.async
// ring, skipping tiles the chunk mask hides entirely and masking elementwise only the tiles
// it hides in part. Scores live in the exp2 domain (scale * log2(e) folded in). Where the
// blocks cannot fill the device, the key tiles are split among several blocks per query tile
// (kSplit; the choice is attention_launch.cu's) and a merge kernel combines their results.
#ifndef MFORCE_CUDA_ATTENTION_FWD_KERNEL_CUH
#define MFORCE_CUDA_ATTENTION_FWD_KERNEL_CUH

#include <limits.h>
#include <math.h>

#include "attention_mask.cuh"
#include "attention_params.cuh"
#include "attention_pipeline.cuh"
#include "attention_tile.cuh"
#include "attention_traits.cuh"

namespace mforce::cuda::attn {

// K and V rows of walked key tile `t` ([BN tokens, D] of kv head hk, batch entry b) into the
// swizzled tiles k_tile and v_tile; rows past the source's end, and MF_ATTN_EMPTY rows, are zero
// (a tile the walk takes whole has no empty row: only the others read the chunk indices).
template <int BN, int D, int THREADS>
__device__ __forceinline__ void load_kv_async(const Params& p, const TileRef& t, int b, int hk, bf16* k_tile,
                                              bf16* v_tile) {
  const mf_attn_keys ks = pick(p.prob.keys, t.seg);
  const int64_t k0 = int64_t(t.tile) * BN;
  const int rows = static_cast<int>(min_of(ks.len - k0, BN));
  const int64_t off = int64_t(b) * ks.batch_stride + k0 * ks.token_stride + int64_t(hk) * D;
  const int32_t* chunk = t.full ? nullptr : ks.chunk + k0;
  load_tile_async<BN, D, THREADS>(k_tile, static_cast<const bf16*>(ks.k) + off, ks.token_stride, rows, chunk);
  load_tile_async<BN, D, THREADS>(v_tile, static_cast<const bf16*>(ks.v) + off, ks.token_stride, rows, chunk);
}

// One online-softmax step over a tile of scores s (-inf where hidden) whose log2-domain values
// are s * fold (fold > 0; the scale is folded into the exponent's FMA, as in FlashAttention-2,
// instead of costing a multiply per score): updates the running row maxima (of s) and sums,
// rescales the output accumulator, and turns s into the tile's unnormalized probabilities
// 2^((s - max) fold). A row that has seen no visible key keeps max -inf and contributes zeros
// (2^-inf = 0; the base 0 avoids -inf - -inf).
template <int MT, int NT, int DT>
__device__ __forceinline__ void online_softmax(float (&s)[MT][NT][4], float (&o)[MT][DT][4], float (&row_max)[MT][2],
                                               float (&row_sum)[MT][2], float fold) {
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float mx = row_max[mi][half];
#pragma unroll
      for (int n = 0; n < NT; ++n) mx = fmaxf(mx, fmaxf(s[mi][n][2 * half], s[mi][n][2 * half + 1]));
      // the 4 lanes of a quad hold the same row
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float base = (mx == -INFINITY ? 0.f : mx) * fold;
      const float alpha = exp2_approx(fmaf(row_max[mi][half], fold, -base));
      row_max[mi][half] = mx;
      float sum = 0.f;
#pragma unroll
      for (int n = 0; n < NT; ++n)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const float e = exp2_approx(fmaf(s[mi][n][2 * half + c], fold, -base));
          s[mi][n][2 * half + c] = e;
          sum += e;
        }
      row_sum[mi][half] = row_sum[mi][half] * alpha + sum;  // this lane's columns; quad-reduced at the end
#pragma unroll
      for (int n = 0; n < DT; ++n) {
        o[mi][n][2 * half] *= alpha;
        o[mi][n][2 * half + 1] *= alpha;
      }
    }
}

// kSplit: blockIdx.x = tile * p.splits + split; the block walks key tiles [lo, hi) of the split
// and writes its partial result to p.o_part / p.lse_part instead of o and lse.
template <class Tr, bool kSplit>
__global__ void __launch_bounds__(Tr::kThreads) attention_fwd_mma_kernel(const __grid_constant__ Params p) {
  constexpr int D = Tr::kHeadDim, BM = Tr::kBlockM, BN = Tr::kBlockN, MT = Tr::kMTiles;
  constexpr int NT = BN / 8, DT = D / 8;
  const int b = static_cast<int>(blockIdx.z), h = static_cast<int>(blockIdx.y), hk = h / p.group;
  const int row0 = static_cast<int>(threadIdx.x / 32) * Tr::kWarpRows;  // the warp's first tile row
  const int block = static_cast<int>(blockIdx.x);
  const int split = kSplit ? block % p.splits : 0;
  const QueryTile qt = query_tile(p, kSplit ? block / p.splits : block);
  const int64_t k_tiles = first_tile(p.k, p.k.count);
  const int k_lo = kSplit ? static_cast<int>(k_tiles * split / p.splits) : 0;
  const int k_hi = kSplit ? static_cast<int>(k_tiles * (split + 1) / p.splits) : INT_MAX;

  // shared memory: Q [BM, D] | ring slot s: K [BN, D], V [BN, D]
  bf16* const q_tile = reinterpret_cast<bf16*>(dynamic_smem());
  bf16* const ring = q_tile + BM * D;

  const int64_t q_off = int64_t(b) * qt.r.batch_stride + qt.t0 * qt.r.token_stride + int64_t(h) * D;
  load_tile_async<BM, D, Tr::kThreads>(q_tile, static_cast<const bf16*>(qt.r.q) + q_off, qt.r.token_stride, qt.rows);

  float o[MT][DT][4];
  clear(o);
  float row_max[MT][2], row_sum[MT][2];
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      row_max[mi][half] = -INFINITY;
      row_sum[mi][half] = 0.f;
    }

  // the softmax works on raw scores and applies the scale inside its exponent; the launch code
  // sends only positive scales here (a scale <= 0 reverses or erases the order of the scores)
  const float fold = p.scale_log2;
  TileWalk<true> walk(p.k, p.q.summary[qt.index], p.prob, k_lo, k_hi);
  run_pipeline<Tr::kStages>(
      walk,
      [&](int slot, const TileRef& t) {
        bf16* k_tile = ring + slot * 2 * BN * D;
        load_kv_async<BN, D, Tr::kThreads>(p, t, b, hk, k_tile, k_tile + BN * D);
      },
      [&](int slot, const TileRef& t) {
        const bf16* k_tile = ring + slot * 2 * BN * D;
        float s[MT][NT][4];
        clear(s);
        warp_gemm_nt<MT, NT, D / 16, D, D>(s, q_tile, row0, k_tile, 0);  // S = Q K^T
        if (!t.full) {
          const mf_attn_queries qr = pick(p.prob.queries, qt.run);
          QueryToken rows[MT][2];
#pragma unroll
          for (int mi = 0; mi < MT; ++mi)
#pragma unroll
            for (int half = 0; half < 2; ++half)
              rows[mi][half] = query_at(p.prob.masked ? qr.chunk : nullptr, qt.t0 + fragment_row(row0, mi, half), qr.len);
          const mf_attn_keys ks = pick(p.prob.keys, t.seg);
          const ChunkMask mask = ChunkMask::of(p.prob, ks.relation);
          const int64_t k0 = int64_t(t.tile) * BN;
          mask_fragment(s, rows, [&](int j) { return key_at(mask, ks.chunk, k0 + j, ks.len); }, -INFINITY);
        }
        online_softmax(s, o, row_max, row_sum, fold);
        uint32_t pa[MT][NT / 2][4];
        accumulator_to_a(s, pa);
        const bf16* v_tile = k_tile + BN * D;
        masked_gemm_rn<MT, DT, NT / 2, D>(o, pa, v_tile, !t.full && !tile_finite<BN, D>(v_tile));  // O += P V
      });

  // o /= rowsum; lse = ln(sum of exp(scale * s)) = (max + log2(sum)) * ln(2); no visible key: o 0,
  // lse -inf; a NaN score (sum NaN): o and lse NaN, so that the backward does not take the row for
  // one without keys
  float lse[MT][2];
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float sum = row_sum[mi][half];
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      const float inv = sum > 0.f ? 1.f / sum : 0.f;
      lse[mi][half] = sum == 0.f ? -INFINITY : fmaf(row_max[mi][half], fold, log2f(sum)) * 0.69314718055994531f;
#pragma unroll
      for (int n = 0; n < DT; ++n) {
        o[mi][n][2 * half] *= inv;
        o[mi][n][2 * half + 1] *= inv;
      }
    }
  if constexpr (kSplit) {
    // fp32 partials at [split, row]: each lane writes its column pairs of its rows
    const int64_t row_base = int64_t(split) * p.stat_rows + pick(p.stat_offset, qt.run) + row_stat(p, qt.r.len, b, h, qt.t0);
#pragma unroll
    for (int mi = 0; mi < MT; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int r = fragment_row(row0, mi, half);
        if (r >= qt.rows) continue;
        float* o_row = p.o_part + (row_base + r) * D;
#pragma unroll
        for (int n = 0; n < DT; ++n)
          *reinterpret_cast<float2*>(o_row + fragment_col(n, 0)) = make_float2(o[mi][n][2 * half], o[mi][n][2 * half + 1]);
        if ((threadIdx.x & 3) == 0) p.lse_part[row_base + r] = lse[mi][half];
      }
  } else {
    store_rows<MT, D>(o, q_tile, row0, static_cast<bf16*>(qt.r.o) + q_off, qt.r.token_stride, qt.rows);
    if ((threadIdx.x & 3) == 0)
#pragma unroll
      for (int mi = 0; mi < MT; ++mi)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int r = fragment_row(row0, mi, half);
          if (r < qt.rows) qt.r.lse[row_stat(p, qt.r.len, b, h, qt.t0 + r)] = lse[mi][half];
        }
  }
}

}  // namespace mforce::cuda::attn
#endif
