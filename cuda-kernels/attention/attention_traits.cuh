// Kernel traits of every attention instantiation, in one place: tile sizes, warps, pipeline
// stages and the shared memory they imply. Host code reads them to size grids, the tile
// summaries and dynamic shared memory; device code reads them to size its loops.
#ifndef MFORCE_CUDA_ATTENTION_TRAITS_CUH
#define MFORCE_CUDA_ATTENTION_TRAITS_CUH

#include <stddef.h>

namespace mforce::cuda::attn {

// Opt-in dynamic shared memory per block on the H100 (sm_90). The A100 (sm_80) allows 163 KB;
// the launch code checks the device's limit at run time.
constexpr size_t kSmemLimit = 227 * 1024;

// ---------------------------------------------------------------- bf16 tensor-core paths
// mma.sync m16n8k16 (bf16 in, fp32 accumulate) on sm_80+. Every shared-memory tile is
// [tokens, head_dim] bf16 with its 16-byte chunks XOR-swizzled by row % 8 (attention_tile.cuh),
// which needs rows of at least 8 chunks: head_dim a multiple of 64.
template <int D, int BM, int BN, int W, int ST>
struct MmaConfig {
  static constexpr int kHeadDim = D;
  static constexpr int kBlockM = BM;  // query tile
  static constexpr int kBlockN = BN;  // key tile
  static constexpr int kWarps = W;
  static constexpr int kThreads = 32 * W;
  static constexpr int kStages = ST;  // cp.async ring depth for the walked tiles
  static_assert(D % 64 == 0 && D <= 256, "swizzled rows need 8..32 chunks of 8 bf16");
  static_assert(BM % 16 == 0 && BN % 16 == 0, "tiles are whole m16/k16 steps");
  static_assert(ST >= 2, "the pipeline keeps at least one tile in flight");
};

// Forward: a block owns kBlockM query rows of one (batch, head); each warp owns
// kBlockM / kWarps of them (kMTiles m16 tiles) and walks the visible key tiles of all sources.
// Per thread: O accumulator kMTiles*D/8*4 floats, scores kMTiles*kBlockN/8*4 floats.
template <int D, int BM, int BN, int W, int ST>
struct FwdConfig : MmaConfig<D, BM, BN, W, ST> {
  static constexpr int kWarpRows = BM / W;
  static constexpr int kMTiles = kWarpRows / 16;
  static_assert(kWarpRows % 16 == 0, "each warp owns whole m16 tiles");
  // Q tile + kStages x (K tile + V tile), bf16
  static constexpr size_t kSmem = (size_t(BM) * D + size_t(ST) * 2 * BN * D) * 2;
  static_assert(kSmem <= kSmemLimit, "forward tiles exceed shared memory");
};

template <int D> struct FwdTraits;
// d64: 128 x 128 tiles; O 64 + S 128 floats per thread. 80 KB: two blocks per H100 SM.
template <> struct FwdTraits<64> : FwdConfig<64, 128, 128, 4, 2> {};
// d128: 128 x 64 tiles; O 128 + S 64 floats per thread. 96 KB: two blocks per H100 SM.
template <> struct FwdTraits<128> : FwdConfig<128, 128, 64, 4, 2> {};

// Backward: a dK/dV block owns kBlockN = 16 x kWarps keys of one (batch, kv head), one m16 tile
// per warp, and walks the visible query tiles (kBlockM tokens) of every run and every query head
// of its group (deterministic GQA reduction). dQ comes one of two ways:
//  deterministic: a second kernel, a block per kBlockM queries of one (batch, head), walks the
//                 visible key tiles (square tiles: kBlockM = kBlockN);
//  atomic:        the dK/dV kernel stages dS^T [kBlockN, kBlockM] in shared memory and its warps
//                 add dS K into an fp32 scratch, each warp one m16 query tile x a slice of the
//                 head dims. Its 128-key tiles (FlashAttention-2's at d128) halve the atomic additions
//                 and the Q/dO tile loads per key against 64-key tiles.
// Per thread: dK+dV D floats, P^T and dS^T 2 x kBlockM / 2 floats (+ the dQ slice, atomic).
template <int D, int W, int BM, int ST, bool ATOMIC>
struct BwdConfig : MmaConfig<D, BM, 16 * W, W, ST> {
  static constexpr bool kAtomicDq = ATOMIC;
  // one dK/dV ring slot: Q tile + dO tile (bf16) + lse2 and delta rows (fp32)
  static constexpr size_t kSmemSlot = size_t(2) * BM * D * 2 + 2 * BM * 4;
  // K, V tiles + kStages slots (+ the dS^T tile [kBlockN, kBlockM] bf16 of the atomic mode)
  static constexpr size_t kSmemDkdv =
      size_t(2) * 16 * W * D * 2 + size_t(ST) * kSmemSlot + (ATOMIC ? size_t(16) * W * BM * 2 : 0);
  // deterministic dQ: Q, dO tiles + kStages x (K tile + V tile)
  static constexpr size_t kSmemDq = size_t(2) * BM * D * 2 + size_t(ST) * 2 * 16 * W * D * 2;
  static_assert(kSmemDkdv <= kSmemLimit && (ATOMIC || kSmemDq <= kSmemLimit), "backward tiles exceed shared memory");
  static_assert(ATOMIC || BM == 16 * W, "the deterministic dQ kernel's warps own one m16 tile of a square tile");
  static_assert(!ATOMIC || (BM % 64 == 0 && W % (BM / 16) == 0 && D % (W / (BM / 16)) == 0),
                "dS^T is swizzled (rows of at least 8 chunks) and each query m16 tile gets whole column slices");
};

template <int D> struct BwdTraits;        // deterministic
template <int D> struct BwdAtomicTraits;  // atomic dQ (the default)
// 64 x 64 tiles, 4 warps; dK/dV kernel 49 KB (d64) / 97 KB (d128), dQ kernel 48 / 96 KB: two blocks per SM
template <> struct BwdTraits<64> : BwdConfig<64, 4, 64, 2, false> {};
template <> struct BwdTraits<128> : BwdConfig<128, 4, 64, 2, false> {};
// 128 keys x 64 queries, 8 warps; 81 KB (d64) / 145 KB (d128): one block per SM (registers; at d128 shared memory too)
template <> struct BwdAtomicTraits<64> : BwdConfig<64, 8, 64, 2, true> {};
template <> struct BwdAtomicTraits<128> : BwdConfig<128, 8, 64, 2, true> {};

// ---------------------------------------------------------------- general SIMT path
// Any dtype, any head_dim that is a multiple of 8 up to 32 * kDimsPerLane. A block owns 32
// tokens (queries, or keys for dK/dV), 4 per warp, and walks tiles of 32 tokens of the other
// side: lane j scores token j of the tile, then each lane accumulates kDimsPerLane head dims.
// Tiles are fp32 in shared memory with an odd row stride (conflict-free column reads).
template <int DL>
struct SimtTraits {
  static constexpr int kDimsPerLane = DL;
  static constexpr int kMaxHeadDim = 32 * DL;
  static constexpr int kWarps = 8;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kRowsPerWarp = 4;
  static constexpr int kTile = kWarps * kRowsPerWarp;  // both the owned and the walked tile
  static constexpr int kStride = kMaxHeadDim + 1;      // floats per shared-memory row
  static constexpr size_t kTileBytes = size_t(kTile) * kStride * 4;
  static constexpr size_t kSmemFwd = 3 * kTileBytes;                  // Q | K, V
  static constexpr size_t kSmemDq = 4 * kTileBytes;                   // Q, dO | K, V
  static constexpr size_t kSmemDkdv = 4 * kTileBytes + 2 * kTile * 4;  // K, V | Q, dO, lse2, delta
  static_assert(kTile == 32, "lane j of a warp stands for token j of the walked tile");
  static_assert(kSmemDkdv <= kSmemLimit, "SIMT tiles exceed shared memory");
};

}  // namespace mforce::cuda::attn
#endif
