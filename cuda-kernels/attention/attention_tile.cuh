// Warp-level building blocks of the bf16 tensor-core kernels: swizzled shared-memory tiles,
// their cp.async loads, the two warp GEMM shapes, fragment conversions and the output store.
#ifndef MFORCE_CUDA_ATTENTION_TILE_CUH
#define MFORCE_CUDA_ATTENTION_TILE_CUH

#include "attention_mask.cuh"
#include "attention_ptx.cuh"
#include "mforce/detail/bf16.h"

namespace mforce::cuda::attn {

// Element offset of (row, 8 * chunk) in a [rows, COLS] bf16 tile whose 16-byte chunks are
// XOR-swizzled by row % 8: the 8 rows that one ldmatrix matrix (or 8 lanes of a cp.async
// row) touch at one chunk index land in 8 different bank groups.
template <int COLS>
__device__ __forceinline__ int swizzle(int row, int chunk) {
  static_assert(COLS % 64 == 0, "rows of at least 8 chunks");
  return row * COLS + ((chunk ^ (row & 7)) << 3);
}

// tile[r, :] = src[r * row_stride, 0 .. COLS) for r < rows, zeros for rows .. ROWS-1 and, when
// `chunk` (the rows' chunk indices) is given, for rows whose chunk is MF_ATTN_EMPTY: an unused
// cache slot may hold anything, NaN included, and a masked probability of 0 times NaN is NaN.
// 16-byte cp.async per thread and chunk; the caller commits the group.
template <int ROWS, int COLS, int THREADS>
__device__ __forceinline__ void load_tile_async(bf16* tile, const bf16* src, int64_t row_stride, int rows,
                                                const int32_t* chunk = nullptr) {
  constexpr int kChunks = COLS / 8;
  static_assert((ROWS * kChunks) % THREADS == 0, "whole chunks per thread");
#pragma unroll
  for (int k = 0; k < ROWS * kChunks / THREADS; ++k) {
    const int i = k * THREADS + static_cast<int>(threadIdx.x);
    const int r = i / kChunks, c = i % kChunks;
    const bool ok = r < rows && (chunk == nullptr || chunk[r] != MF_ATTN_EMPTY);
    cp_async_16(tile + swizzle<COLS>(r, c), ok ? src + r * row_stride + c * 8 : src, ok);
  }
}

// dst[i] = src[i] for i < n, zeros up to N (4-byte cp.async).
template <int N, int THREADS>
__device__ __forceinline__ void load_row_async(float* dst, const float* src, int n) {
  for (int i = static_cast<int>(threadIdx.x); i < N; i += THREADS) cp_async_4(dst + i, i < n ? src + i : src, i < n);
}

// acc[MT x 16, NT x 8] += A[MT x 16, 16 KS] * B^T where A (rows a_row0..) and B (rows
// b_row0.., NT x 8 of them) are both [rows, K] tiles in shared memory: S = Q K^T and kin.
template <int MT, int NT, int KS, int A_COLS, int B_COLS>
__device__ __forceinline__ void warp_gemm_nt(float (&acc)[MT][NT][4], const bf16* a_tile, int a_row0,
                                             const bf16* b_tile, int b_row0) {
  static_assert(NT % 2 == 0, "B fragments come two n8 tiles at a time");
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll
  for (int kk = 0; kk < KS; ++kk) {
    uint32_t a[MT][4];
#pragma unroll
    for (int mi = 0; mi < MT; ++mi)
      ldmatrix_x4(a[mi], a_tile + swizzle<A_COLS>(a_row0 + mi * 16 + (lane & 15), 2 * kk + (lane >> 4)));
#pragma unroll
    for (int np = 0; np < NT / 2; ++np) {
      uint32_t b[4];  // b0, b1 of n8 tile 2np, then of 2np+1
      ldmatrix_x4(b, b_tile + swizzle<B_COLS>(b_row0 + np * 16 + (lane & 7) + ((lane >> 4) << 3),
                                              2 * kk + ((lane >> 3) & 1)));
#pragma unroll
      for (int mi = 0; mi < MT; ++mi) {
        mma_bf16(acc[mi][2 * np], a[mi], b[0], b[1]);
        mma_bf16(acc[mi][2 * np + 1], a[mi], b[2], b[3]);
      }
    }
  }
}

// acc[MT x 16, NT x 8] += A * B where A [MT x 16, 16 KS] is in registers (from
// accumulator_to_a or load_a_transposed) and B [16 KS, NT x 8] is columns 8 chunk0 .. of a
// [K rows, N cols] tile in shared memory: O += P V and kin.
template <int MT, int NT, int KS, int B_COLS>
__device__ __forceinline__ void warp_gemm_rn(float (&acc)[MT][NT][4], const uint32_t (&a)[MT][KS][4],
                                             const bf16* b_tile, int chunk0 = 0) {
  static_assert(NT % 2 == 0, "B fragments come two n8 tiles at a time");
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll
  for (int kk = 0; kk < KS; ++kk) {
#pragma unroll
    for (int np = 0; np < NT / 2; ++np) {
      uint32_t b[4];
      ldmatrix_x4_trans(b, b_tile + swizzle<B_COLS>(16 * kk + (lane & 15), chunk0 + 2 * np + (lane >> 4)));
#pragma unroll
      for (int mi = 0; mi < MT; ++mi) {
        mma_bf16(acc[mi][2 * np], a[mi][kk], b[0], b[1]);
        mma_bf16(acc[mi][2 * np + 1], a[mi][kk], b[2], b[3]);
      }
    }
  }
}

// acc += A * B as warp_gemm_rn, on the CUDA cores, with a term added only where A's entry is not
// 0: a zero of A stands for no term at all, whatever B holds (the tensor cores' 0 * NaN is NaN).
// For each k, every lane reads A[row, k] of its rows from the lane of its quad that holds it (the
// A layout of attention_ptx.cuh) and B's elements of its columns from shared memory. Many times
// slower than the tensor cores: for the rare tiles masked_gemm_rn sends here.
template <int MT, int NT, int KS, int B_COLS>
__device__ __forceinline__ void warp_gemm_rn_skipping_zeros(float (&acc)[MT][NT][4], const uint32_t (&a)[MT][KS][4],
                                                            const bf16* b_tile, int chunk0) {
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll 1
  for (int k = 0; k < 16 * KS; ++k) {
    // A[g + 8 half, k] is in lane 4 g + (k % 8) / 2, register 2 (k % 16 / 8) + half of k step
    // k / 16, in its upper bf16 for odd k
    const int step = k / 16, reg = (k / 8) % 2, from = (lane & ~3) | ((k / 2) % 4), shift = k % 2 ? 0 : 16;
    float w[MT][2];
#pragma unroll
    for (int mi = 0; mi < MT; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        uint32_t pair = 0;  // the register, picked with constant indices (no local-memory copy of a)
#pragma unroll
        for (int s = 0; s < KS; ++s)
#pragma unroll
          for (int r = 0; r < 2; ++r)
            if (s == step && r == reg) pair = a[mi][s][2 * r + half];
        w[mi][half] = mf_bits_float((__shfl_sync(0xffffffffu, pair, from) << shift) & 0xffff0000u);
      }
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const uint32_t b = *reinterpret_cast<const uint32_t*>(b_tile + swizzle<B_COLS>(k, chunk0 + n) + 2 * (lane & 3));
#pragma unroll
      for (int mi = 0; mi < MT; ++mi)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          if (w[mi][half] == 0.f) continue;
          acc[mi][n][2 * half] = fmaf(w[mi][half], mf_bits_float(b << 16), acc[mi][n][2 * half]);
          acc[mi][n][2 * half + 1] = fmaf(w[mi][half], mf_bits_float(b & 0xffff0000u), acc[mi][n][2 * half + 1]);
        }
    }
  }
}

// Whether every element of the bf16 tile [ROWS, COLS] (swizzled or not) is finite, i.e. has an
// exponent that is not all ones; the whole warp reads the whole tile.
template <int ROWS, int COLS>
__device__ __forceinline__ bool tile_finite(const bf16* tile) {
  // (w & 0x7f807f80) + 0x00800080 sets bit 15 (31) iff the lower (upper) bf16 of w has an
  // exponent of all ones
  auto top = [](uint32_t w) { return (w & 0x7f807f80u) + 0x00800080u; };
  const uint4* chunks = reinterpret_cast<const uint4*>(tile);
  uint32_t any = 0;
  for (int i = static_cast<int>(threadIdx.x & 31); i < ROWS * COLS / 8; i += 32) {
    const uint4 c = chunks[i];
    any |= top(c.x) | top(c.y) | top(c.z) | top(c.w);
  }
  return __all_sync(0xffffffffu, (any & 0x80008000u) == 0);
}

// acc += A * B as warp_gemm_rn, where A holds probabilities (or dS) of the warp's queries against
// a tile's keys, 0 for the pairs the chunk mask hides, and B the keys' v (or k) rows. A hidden key
// has no effect on a query whatever its row of B holds (a future chunk's NaN, a stale cache
// slot's): `hidden_nonfinite`, that the mask hides some pair of the tiles and B is not all finite
// (tile_finite), takes warp_gemm_rn_skipping_zeros instead of the tensor cores.
template <int MT, int NT, int KS, int B_COLS>
__device__ __forceinline__ void masked_gemm_rn(float (&acc)[MT][NT][4], const uint32_t (&a)[MT][KS][4],
                                               const bf16* b_tile, bool hidden_nonfinite, int chunk0 = 0) {
  if (hidden_nonfinite) {
    warp_gemm_rn_skipping_zeros<MT, NT, KS, B_COLS>(acc, a, b_tile, chunk0);
  } else {
    warp_gemm_rn<MT, NT, KS, B_COLS>(acc, a, b_tile, chunk0);
  }
}

// The A fragments of rows m0 .. m0 + 15 of A = T^T [M, 16 KS], where T [16 KS rows, M cols] is a
// swizzled tile in shared memory: lanes 8i .. 8i + 7 address matrix i (rows k 0-7 / 8-15 of T,
// columns m0 .. m0 + 7 / m0 + 8 ..), and the transposing load hands each lane its A elements.
// dQ = dS K from a dS^T tile.
template <int KS, int T_COLS>
__device__ __forceinline__ void load_a_transposed(uint32_t (&a)[1][KS][4], const bf16* t_tile, int m0) {
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll
  for (int kk = 0; kk < KS; ++kk)
    ldmatrix_x4_trans(a[0][kk], t_tile + swizzle<T_COLS>(16 * kk + (lane & 7) + ((lane >> 4) << 3),
                                                         (m0 >> 3) + ((lane >> 3) & 1)));
}

// The accumulator layout of two adjacent n8 tiles is the A layout of one k16 step: the
// probabilities (or dS) feed the next GEMM from registers, rounded to bf16.
template <int MT, int NT>
__device__ __forceinline__ void accumulator_to_a(const float (&acc)[MT][NT][4], uint32_t (&a)[MT][NT / 2][4]) {
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int kk = 0; kk < NT / 2; ++kk) {
      a[mi][kk][0] = pack_bf16x2(acc[mi][2 * kk][0], acc[mi][2 * kk][1]);
      a[mi][kk][1] = pack_bf16x2(acc[mi][2 * kk][2], acc[mi][2 * kk][3]);
      a[mi][kk][2] = pack_bf16x2(acc[mi][2 * kk + 1][0], acc[mi][2 * kk + 1][1]);
      a[mi][kk][3] = pack_bf16x2(acc[mi][2 * kk + 1][2], acc[mi][2 * kk + 1][3]);
    }
}

template <int MT, int NT>
__device__ __forceinline__ void clear(float (&acc)[MT][NT][4]) {
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[mi][n][e] = 0.f;
}

// The warp's tokens of a fragment: row (mi, half) is tile row row0 + 16 mi + lane/4 + 8 half.
__device__ __forceinline__ int fragment_row(int row0, int mi, int half) {
  return row0 + mi * 16 + static_cast<int>((threadIdx.x & 31) >> 2) + 8 * half;
}

// Column (n, c) of a fragment: n8 tile n, element c (0, 1) of the lane's pair.
__device__ __forceinline__ int fragment_col(int n, int c) {
  return n * 8 + 2 * static_cast<int>(threadIdx.x & 3) + c;
}

// Sets acc to `value` wherever (row token, column token) is not visible. rows: the warp's own
// tokens (QueryToken or KeyToken); column_at(j) gives the token of tile column j (the other kind).
template <int MT, int NT, class RowToken, class ColumnAt>
__device__ __forceinline__ void mask_fragment(float (&acc)[MT][NT][4], const RowToken (&rows)[MT][2],
                                              ColumnAt&& column_at, float value) {
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int c = 0; c < 2; ++c) {
      const auto col = column_at(fragment_col(n, c));
#pragma unroll
      for (int mi = 0; mi < MT; ++mi)
#pragma unroll
        for (int half = 0; half < 2; ++half)
          if (!visible(rows[mi][half], col)) acc[mi][n][2 * half + c] = value;
    }
}

// Writes the warp's MT x 16 rows (tile rows row0..) of acc [.., COLS] as bf16 into the same rows
// of the swizzled shared tile `tile` [.., COLS].
template <int MT, int COLS>
__device__ __forceinline__ void store_fragment(const float (&acc)[MT][COLS / 8][4], bf16* tile, int row0) {
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int n = 0; n < COLS / 8; ++n)
#pragma unroll
      for (int half = 0; half < 2; ++half)
        *reinterpret_cast<uint32_t*>(tile + swizzle<COLS>(fragment_row(row0, mi, half), n) + 2 * (lane & 3)) =
            pack_bf16x2(acc[mi][n][2 * half], acc[mi][n][2 * half + 1]);
}

// Writes the warp's MT x 16 rows (tile rows row0..) of acc [.., D] as bf16 to dst (tile row 0
// at dst, rows row_stride apart), rows < rows only. Staged through the same rows of the
// swizzled shared tile `stage` (the caller's warp must own them) for 16-byte global stores.
template <int MT, int D>
__device__ __forceinline__ void store_rows(const float (&acc)[MT][D / 8][4], bf16* stage, int row0, bf16* dst,
                                           int64_t row_stride, int rows) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  __syncwarp();
  store_fragment<MT, D>(acc, stage, row0);
  __syncwarp();
  constexpr int kChunks = D / 8;
#pragma unroll
  for (int i = lane; i < MT * 16 * kChunks; i += 32) {
    const int r = row0 + i / kChunks, c = i % kChunks;
    if (r < rows)
      *reinterpret_cast<uint4*>(dst + r * row_stride + c * 8) = *reinterpret_cast<const uint4*>(stage + swizzle<D>(r, c));
  }
}

}  // namespace mforce::cuda::attn
#endif
