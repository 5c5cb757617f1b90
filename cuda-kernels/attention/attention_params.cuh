// What every attention kernel receives by value (one __grid_constant__ parameter): the problem
// exactly as the caller described it (mforce/attention.h) plus what the host derived from it.
#ifndef MFORCE_CUDA_ATTENTION_PARAMS_CUH
#define MFORCE_CUDA_ATTENTION_PARAMS_CUH

#include <stdint.h>

#include "mforce/attention.h"

namespace mforce::cuda::attn {

constexpr int kMaxSeg = MF_ATTN_MAX_SEGMENTS;

// The chunk range of one tile of tokens (a query tile or a key tile), written once per call by
// the summary kernel so that kernels classify a (query tile, key tile) pair without reading the
// chunk arrays. lo/hi: smallest/largest chunk of the tile's non-empty tokens (lo > hi: none);
// full: every slot of the tile holds a token (and, for keys, none is MF_ATTN_EMPTY);
// relation: for key tiles their source's mf_attn_keys.relation (0 for query tiles).
struct alignas(16) TileSummary {
  int32_t lo, hi, full, relation;
};

// The tiles of one side (the query runs, or the key sources) at one tile size.
struct TileSet {
  const TileSummary* summary;   // [offset[count]]: run/source by run/source, tile by tile
  int32_t tile;                 // tokens per tile
  int32_t count;                // runs or sources
  int32_t offset[kMaxSeg + 1];  // index of the first tile of each run/source; offset[count] = total
};

struct Params {
  mf_attn_problem prob;
  float scale_log2;  // prob.scale * log2(e): kernels work in the exp2 domain
  int32_t group;     // heads / kv_heads: query heads per key/value head
  TileSet q;         // query tiles
  TileSet k;         // key tiles
  // Backward only, per query run r: float [batch, heads, len] starting at stat_offset[r].
  const float* delta;  // rowsum(dO * O)
  const float* lse2;   // lse * log2(e); +inf where lse = -inf (a row that sees no key)
  // Backward with atomic dQ (prob.deterministic == 0, tensor-core path), else null: float
  // [rows, head_dim], row as delta's; zeroed, summed into by the dK/dV kernel, then scaled and
  // converted into each run's dq.
  float* dq_accum;
  int64_t stat_offset[kMaxSeg];
  int64_t stat_rows;  // rows over all runs
  // Forward with the keys split (splits > 1: too few query tiles to fill the device): block
  // (tile, split) walks the split's share of the key tiles and writes, at [split, row] with row
  // as delta's, its normalized fp32 output and its lse; attention_split_combine_kernel merges them.
  int32_t splits;     // 1: no split
  float* o_part;      // [splits, stat_rows, head_dim]
  float* lse_part;    // [splits, stat_rows]
};

template <typename A, typename B>
__host__ __device__ __forceinline__ A min_of(A a, B b) {
  return a < static_cast<A>(b) ? a : static_cast<A>(b);
}

// Run/source `i` of a fixed-size array in kernel parameter space, selected with constant
// indices only (no dynamically indexed parameter array, which would cost a local-memory copy).
template <typename S>
__device__ __forceinline__ S pick(const S (&all)[kMaxSeg], int i) {
  S r = all[0];
#pragma unroll
  for (int j = 1; j < kMaxSeg; ++j)
    if (j == i) r = all[j];
  return r;
}

// The run/source that tile `index` of `set` belongs to.
__device__ __forceinline__ int segment_of(const TileSet& set, int index) {
  int seg = 0;
#pragma unroll
  for (int j = 1; j < kMaxSeg; ++j)
    if (j < set.count && index >= set.offset[j]) seg = j;
  return seg;
}

__device__ __forceinline__ int first_tile(const TileSet& set, int seg) {
  int r = set.offset[0];
#pragma unroll
  for (int j = 1; j <= kMaxSeg; ++j)
    if (j == seg) r = set.offset[j];
  return r;
}

// The query tile a block owns (block: blockIdx.x, or its tile part in a split forward), counted
// from the last tile: under causal-like masks the last tiles see the most keys, and starting
// them first shortens the tail of the grid.
struct QueryTile {
  int index;  // among the tiles of all runs
  int run;
  mf_attn_queries r;
  int64_t t0;  // first token of the tile within the run
  int rows;    // tokens in the tile
};

__device__ __forceinline__ QueryTile query_tile(const Params& p, int block) {
  QueryTile t;
  t.index = first_tile(p.q, p.q.count) - 1 - block;
  t.run = segment_of(p.q, t.index);
  t.r = pick(p.prob.queries, t.run);
  t.t0 = int64_t(t.index - first_tile(p.q, t.run)) * p.q.tile;
  t.rows = static_cast<int>(min_of(t.r.len - t.t0, p.q.tile));
  return t;
}

__device__ __forceinline__ QueryTile query_tile(const Params& p) { return query_tile(p, static_cast<int>(blockIdx.x)); }

// The key tile a dK/dV block owns: blockIdx.x in source order.
struct KeyTile {
  int index;
  int source;
  mf_attn_keys r;
  int64_t t0;
  int rows;
};

__device__ __forceinline__ KeyTile key_tile(const Params& p) {
  KeyTile t;
  t.index = static_cast<int>(blockIdx.x);
  t.source = segment_of(p.k, t.index);
  t.r = pick(p.prob.keys, t.source);
  t.t0 = int64_t(t.index - first_tile(p.k, t.source)) * p.k.tile;
  t.rows = static_cast<int>(min_of(t.r.len - t.t0, p.k.tile));
  return t;
}

// Index of token t of run `run` in lse ([batch, heads, len] per run) or, plus
// stat_offset[run], in the backward's delta and lse2.
__device__ __forceinline__ int64_t row_stat(const Params& p, int64_t len, int b, int h, int64_t t) {
  return (int64_t(b) * p.prob.heads + h) * len + t;
}

}  // namespace mforce::cuda::attn
#endif
