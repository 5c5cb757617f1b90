// What the CPU attention's forward and backward share: tile sizes, the task grid over
// (run, batch, head, tile), per-tile chunk ranges, and moving tiles between the problem's
// strided [batch, len, heads, head_dim] runs (fp32 or bf16) and fp32 scratch.
#ifndef MFORCE_CPU_ATTENTION_TILES_H
#define MFORCE_CPU_ATTENTION_TILES_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "mforce/attention.h"
#include "mforce/detail/attention_mask.h"
#include "mforce/detail/bf16.h"
#include "row_ops.h"

namespace mforce::cpu::attn {

constexpr int kQueryTile = 64;  // query rows per tile
constexpr int kKeyTile = 64;    // keys per tile

inline int pad4(int n) { return (n + 3) & ~3; }
inline int pad8(int n) { return (n + 7) & ~7; }

// The tasks (segment, batch, head, tile) over up to MF_ATTN_MAX_SEGMENTS runs of tokens cut into
// tiles of `tile` tokens; task ids run segment-major so that neighbours share memory.
struct TaskGrid {
  struct Task {
    int segment, b, head;
    int64_t first;  // first token of the tile
    int rows;       // tokens in the tile
  };

  TaskGrid(int segments, const int64_t* lens, int batch, int heads, int tile) : batch_(batch), heads_(heads), tile_(tile) {
    offsets_[0] = 0;
    for (int s = 0; s < segments; ++s) {
      lens_[s] = lens[s];
      tiles_[s] = (lens[s] + tile - 1) / tile;
      offsets_[s + 1] = offsets_[s] + tiles_[s] * batch * heads;
    }
    segments_ = segments;
  }

  int64_t total() const { return offsets_[segments_]; }

  Task task(int64_t id) const {
    int s = 0;
    while (id >= offsets_[s + 1]) ++s;
    int64_t local = id - offsets_[s];
    int64_t tile = local % tiles_[s];
    int64_t bh = local / tiles_[s];
    int64_t first = tile * tile_;
    return Task{s, static_cast<int>(bh / heads_), static_cast<int>(bh % heads_), first,
                static_cast<int>(std::min<int64_t>(tile_, lens_[s] - first))};
  }

 private:
  int segments_ = 0, batch_, heads_, tile_;
  int64_t lens_[MF_ATTN_MAX_SEGMENTS] = {}, tiles_[MF_ATTN_MAX_SEGMENTS] = {};
  int64_t offsets_[MF_ATTN_MAX_SEGMENTS + 1] = {};
};

// The chunk range of the tokens of a tile. For keys (keys = true) MF_ATTN_EMPTY tokens are left
// out: has_keys = false when all are empty, no_empty = true when none is. For queries every value
// counts (the mask treats a query's chunk as a plain number).
struct ChunkRange {
  bool has_keys, no_empty;
  int32_t lo, hi;
};

inline ChunkRange chunk_range(const int32_t* chunk, int n, bool keys) {
  ChunkRange r{false, true, 0, 0};
  for (int i = 0; i < n; ++i) {
    if (keys && chunk[i] == MF_ATTN_EMPTY) {
      r.no_empty = false;
      continue;
    }
    r.lo = r.has_keys ? std::min(r.lo, chunk[i]) : chunk[i];
    r.hi = r.has_keys ? std::max(r.hi, chunk[i]) : chunk[i];
    r.has_keys = true;
  }
  return r;
}

// The chunk range of every key tile of every source: [source][tile].
inline std::vector<std::vector<ChunkRange>> key_tile_ranges(const mf_attn_problem& p) {
  std::vector<std::vector<ChunkRange>> ranges(static_cast<size_t>(p.num_keys));
  for (int s = 0; s < p.num_keys; ++s) {
    const mf_attn_keys& k = p.keys[s];
    for (int64_t first = 0; first < k.len; first += kKeyTile)
      ranges[s].push_back(
          chunk_range(k.chunk + first, static_cast<int>(std::min<int64_t>(kKeyTile, k.len - first)), true));
  }
  return ranges;
}

// Where head `head` of token `first` of batch entry b starts in a run ([batch, len, heads, d]).
template <typename T>
inline T* token_at(T* base, int64_t batch_stride, int64_t token_stride, int b, int64_t first, int head, int d) {
  return base + b * batch_stride + first * token_stride + static_cast<int64_t>(head) * d;
}

// dst [rows_pad, d] fp32 <- `rows` tokens of one head (token stride ts); rows past `rows`, and
// rows whose chunk is MF_ATTN_EMPTY when `chunk` is given, become zeros (never read garbage:
// an empty cache slot may hold anything, and 0·NaN would leak into the products).
template <typename T>
void load_rows(const T* src, int64_t ts, int rows, int rows_pad, int d, const int32_t* chunk, float* dst) {
  for (int i = 0; i < rows_pad; ++i) {
    float* out = dst + static_cast<int64_t>(i) * d;
    if (i >= rows || (chunk && chunk[i] == MF_ATTN_EMPTY)) {
      std::fill(out, out + d, 0.f);
      continue;
    }
    const T* in = src + i * ts;
    for (int c = 0; c < d; ++c) out[c] = to_float(in[c]);
  }
}

// dst [d, cols_pad] fp32 <- the transpose of `cols` tokens of one head, zeros as in load_rows.
template <typename T>
void load_columns(const T* src, int64_t ts, int cols, int cols_pad, int d, const int32_t* chunk, float* dst) {
  for (int j = 0; j < cols_pad; ++j) {
    bool zero = j >= cols || (chunk && chunk[j] == MF_ATTN_EMPTY);
    const T* in = src + j * ts;
    for (int c = 0; c < d; ++c) dst[static_cast<int64_t>(c) * cols_pad + j] = zero ? 0.f : to_float(in[c]);
  }
}

// One row of scores s [cols_pad] of query chunk cq against keys with chunks kchunk [cols]:
// s = scale·s where the key is visible (scale = 1 leaves them), -inf where it is not and in the
// padding (the per-pair predicate is skipped when the whole tile is visible).
inline void visible_scores(float* s, int cols, int cols_pad, bool all_visible, int32_t cq, const int32_t* kchunk,
                           const mforce::attn::ChunkMask& mask, float scale) {
  if (all_visible) {
    if (scale != 1.f) scale_row(s, cols_pad, scale);
  } else {
    for (int j = 0; j < cols; ++j) s[j] = mask.visible(cq, kchunk[j]) ? s[j] * scale : -INFINITY;
  }
  std::fill(s + cols, s + cols_pad, -INFINITY);
}

// `rows` tokens of one head (token stride ts) <- mul · src [rows, d].
template <typename T>
void store_rows(const float* src, int rows, int d, float mul, T* dst, int64_t ts) {
  for (int i = 0; i < rows; ++i) {
    const float* in = src + static_cast<int64_t>(i) * d;
    T* out = dst + i * ts;
    for (int c = 0; c < d; ++c) out[c] = from_float<T>(in[c] * mul);
  }
}

}  // namespace mforce::cpu::attn
#endif
