// CPU backward of mforce/attention.h (flash-attention 2's math): p is recomputed from the
// forward's lse, D_i = Σ_c dO_ic·O_ic, dS = p∘(dP − D_i) with dP = dO·Vᵀ; then
// dV = pᵀ·dO, dK = scale·dSᵀ·Q and dQ = scale·dS·K. Deterministic without atomics: dK and dV
// are summed by tasks that own a key tile (over every query head of its group and every query
// tile), dQ by tasks that own a query tile, in a second pass; each sums in a fixed order.
#include <cmath>
#include <limits>

#include "../parallel.h"
#include "mforce/attention.h"
#include "mforce/detail/check.h"
#include "row_ops.h"
#include "tile_gemm.h"
#include "tiles.h"

using namespace mforce;
using namespace mforce::cpu::attn;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct BackwardScratch {
  std::vector<float> q, d_o, k, kt, vt, s, dp, acc_a, acc_b;
  void reserve(int d) {
    const size_t rows = static_cast<size_t>(kQueryTile) * d, keys = static_cast<size_t>(kKeyTile) * d;
    q.resize(rows);      // [query rows, d]
    d_o.resize(rows);    // [query rows, d]
    k.resize(keys);      // [keys, d]
    kt.resize(keys);     // [d, keys]
    vt.resize(keys);     // [d, keys]
    s.resize(static_cast<size_t>(kQueryTile) * kKeyTile);   // scores, then p [query rows, keys]
    dp.resize(static_cast<size_t>(kQueryTile) * kKeyTile);  // dP, then dS [query rows, keys]
    acc_a.resize(std::max(rows, keys));  // dQ [query rows, d] or dK [keys, d]
    acc_b.resize(keys);                  // dV [keys, d]
  }
};

// This thread's scratch, large enough for head_dim d.
BackwardScratch& scratch(int d) {
  thread_local BackwardScratch w;
  w.reserve(d);
  return w;
}

// The per-row values of one query tile the backward needs besides q and dO: lse and D.
struct RowStats {
  const float* lse;
  const float* delta;
};

// The query side of one (query tile, key tile) pair, loaded once per query tile.
struct QueryTile {
  int rows, rows_pad;
  const int32_t* chunk;
  ChunkRange range;
  RowStats stats;
};

// The key side of a pair: where the tile starts in its source, its size, and its chunks.
struct KeyTile {
  const mf_attn_keys* src;
  int64_t first;
  int cols, cols_pad;
  const int32_t* chunk;
  ChunkRange range;
};

KeyTile key_tile(const mf_attn_keys& src, size_t index) {
  int64_t first = static_cast<int64_t>(index) * kKeyTile;
  int cols = static_cast<int>(std::min<int64_t>(kKeyTile, src.len - first));
  return KeyTile{&src, first, cols, pad8(cols), src.chunk + first, chunk_range(src.chunk + first, cols, true)};
}

// s [rows_pad, cols_pad] = q·kᵀ becomes p = exp(scale·s − lse) (0 where the mask hides the
// pair, in padding, and in rows that saw no key); all_visible: the mask hides no pair of the tiles.
void probabilities(float* s, const QueryTile& qt, const KeyTile& kt, const attn::ChunkMask& mask, float scale,
                   bool all_visible) {
  for (int i = 0; i < qt.rows_pad; ++i) {
    float* row = s + static_cast<int64_t>(i) * kt.cols_pad;
    float lse = i < qt.rows ? qt.stats.lse[i] : kNegInf;
    if (lse == kNegInf) {
      std::fill(row, row + kt.cols_pad, 0.f);
      continue;
    }
    // the raw scores, masked; scale·s − lse is formed in double inside exp_affine
    visible_scores(row, kt.cols, kt.cols_pad, all_visible, qt.chunk[i], kt.chunk, mask, 1.f);
    exp_affine(row, kt.cols_pad, scale, lse);
  }
}

// dp [rows_pad, cols_pad] = dO·vᵀ becomes dS = p∘(dP − D_i), 0 where p is: a hidden key's v may
// hold anything (NaN), and its dP with it, which must reach neither dQ nor the key's own dK.
void score_gradients(float* dp, const float* p, const QueryTile& qt, int cols_pad) {
  for (int i = 0; i < qt.rows_pad; ++i) {
    float delta = i < qt.rows ? qt.stats.delta[i] : 0.f;
    float* row = dp + static_cast<int64_t>(i) * cols_pad;
    const float* prow = p + static_cast<int64_t>(i) * cols_pad;
    for (int j = 0; j < cols_pad; ++j) row[j] = prow[j] == 0.f ? 0.f : prow[j] * (row[j] - delta);
  }
}

template <typename T>
void load_key_tile(const KeyTile& kt, int b, int kvh, int d, bool rows_too, BackwardScratch& w) {
  const mf_attn_keys& src = *kt.src;
  const T* k = token_at(static_cast<const T*>(src.k), src.batch_stride, src.token_stride, b, kt.first, kvh, d);
  const T* v = token_at(static_cast<const T*>(src.v), src.batch_stride, src.token_stride, b, kt.first, kvh, d);
  load_columns(k, src.token_stride, kt.cols, kt.cols_pad, d, kt.chunk, w.kt.data());
  load_columns(v, src.token_stride, kt.cols, kt.cols_pad, d, kt.chunk, w.vt.data());
  if (rows_too) load_rows(k, src.token_stride, kt.cols, kt.cols_pad, d, kt.chunk, w.k.data());
}

// Loads q and dO of a query tile and describes it; delta[r] is run r's D [batch, heads, len].
template <typename T>
QueryTile load_query_tile(const mf_attn_problem& p, const std::vector<std::vector<float>>& delta, int r, int b, int h,
                          int64_t first, int rows, BackwardScratch& w) {
  const mf_attn_queries& run = p.queries[r];
  const int d = p.head_dim;
  QueryTile qt{rows, pad4(rows), run.chunk + first, chunk_range(run.chunk + first, rows, false), {}};
  int64_t row0 = (static_cast<int64_t>(b) * p.heads + h) * run.len + first;
  qt.stats = RowStats{run.lse + row0, delta[r].data() + row0};
  load_rows(token_at(static_cast<const T*>(run.q), run.batch_stride, run.token_stride, b, first, h, d),
            run.token_stride, rows, qt.rows_pad, d, nullptr, w.q.data());
  load_rows(token_at(static_cast<const T*>(run.d_o), run.batch_stride, run.token_stride, b, first, h, d),
            run.token_stride, rows, qt.rows_pad, d, nullptr, w.d_o.data());
  return qt;
}

// p and dS of a pair into w.s and w.dp (w.q, w.d_o, w.kt, w.vt loaded); returns whether the mask
// hides no pair of the two tiles.
bool pair_gradients(const QueryTile& qt, const KeyTile& kt, const attn::ChunkMask& mask, float scale, int d,
                    BackwardScratch& w) {
  const bool all_visible = mask.all_visible(qt.range.lo, qt.range.hi, kt.range.no_empty, kt.range.lo, kt.range.hi);
  tile_gemm(false, false, qt.rows_pad, kt.cols_pad, d, w.q.data(), d, w.kt.data(), kt.cols_pad, w.s.data(),
            kt.cols_pad);
  probabilities(w.s.data(), qt, kt, mask, scale, all_visible);
  tile_gemm(false, false, qt.rows_pad, kt.cols_pad, d, w.d_o.data(), d, w.vt.data(), kt.cols_pad, w.dp.data(),
            kt.cols_pad);
  score_gradients(w.dp.data(), w.s.data(), qt, kt.cols_pad);
  return all_visible;
}

// D = Σ_c dO·O per query row (summed in double), fp32 [batch, heads, len] per run.
template <typename T>
std::vector<std::vector<float>> row_deltas(const mf_attn_problem& p, const TaskGrid& grid) {
  std::vector<std::vector<float>> delta(static_cast<size_t>(p.num_queries));
  for (int r = 0; r < p.num_queries; ++r)
    delta[r].resize(static_cast<size_t>(p.batch) * p.heads * static_cast<size_t>(p.queries[r].len));
  const int d = p.head_dim;
  cpu::parallel_for(grid.total(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t id = begin; id < end; ++id) {
      TaskGrid::Task t = grid.task(id);
      const mf_attn_queries& run = p.queries[t.segment];
      const T* o = token_at(static_cast<const T*>(run.o), run.batch_stride, run.token_stride, t.b, t.first, t.head, d);
      const T* g = token_at(static_cast<const T*>(run.d_o), run.batch_stride, run.token_stride, t.b, t.first, t.head, d);
      float* out = delta[t.segment].data() + (static_cast<int64_t>(t.b) * p.heads + t.head) * run.len + t.first;
      for (int i = 0; i < t.rows; ++i) {  // in double: dP − D cancels, D's own error should not add to it
        double sum = 0.0;
        for (int c = 0; c < d; ++c)
          sum += static_cast<double>(to_float(o[i * run.token_stride + c])) * to_float(g[i * run.token_stride + c]);
        out[i] = static_cast<float>(sum);
      }
    }
  });
  return delta;
}

// dK and dV of one key tile of one source: every query head of the kv head's group, every run,
// every query tile that can see it.
template <typename T>
void key_tile_gradients(const mf_attn_problem& p, const std::vector<std::vector<float>>& delta, const TaskGrid::Task& t,
                        BackwardScratch& w) {
  const mf_attn_keys& src = p.keys[t.segment];
  if (!src.dk) return;
  const int d = p.head_dim, group = p.heads / p.kv_heads;
  const attn::ChunkMask mask = attn::ChunkMask::of(p, src.relation);
  const KeyTile kt = key_tile(src, static_cast<size_t>(t.first / kKeyTile));
  const ChunkRange& kr = kt.range;
  float* dk = w.acc_a.data();  // [cols_pad, d]
  float* dv = w.acc_b.data();  // [cols_pad, d]
  std::fill(dk, dk + static_cast<int64_t>(kt.cols_pad) * d, 0.f);
  std::fill(dv, dv + static_cast<int64_t>(kt.cols_pad) * d, 0.f);
  load_key_tile<T>(kt, t.b, t.head, d, false, w);
  for (int h = t.head * group; h < (t.head + 1) * group; ++h) {
    for (int r = 0; r < p.num_queries; ++r) {
      const int64_t len = p.queries[r].len;
      for (int64_t first = 0; first < len; first += kQueryTile) {
        const int rows = static_cast<int>(std::min<int64_t>(kQueryTile, len - first));
        ChunkRange qr = chunk_range(p.queries[r].chunk + first, rows, false);
        if (mask.invisible(qr.lo, qr.hi, kr.has_keys, kr.lo, kr.hi)) continue;
        QueryTile qt = load_query_tile<T>(p, delta, r, t.b, h, first, rows, w);
        pair_gradients(qt, kt, mask, p.scale, d, w);
        // dV += pᵀ·dO and dK += dSᵀ·Q: [cols_pad, rows_pad]·[rows_pad, d]
        tile_gemm(true, true, kt.cols_pad, d, qt.rows_pad, w.s.data(), kt.cols_pad, w.d_o.data(), d, dv, d);
        tile_gemm(true, true, kt.cols_pad, d, qt.rows_pad, w.dp.data(), kt.cols_pad, w.q.data(), d, dk, d);
      }
    }
  }
  store_rows(dk, kt.cols, d, p.scale,
             token_at(static_cast<T*>(src.dk), src.batch_stride, src.token_stride, t.b, kt.first, t.head, d),
             src.token_stride);
  store_rows(dv, kt.cols, d, 1.f,
             token_at(static_cast<T*>(src.dv), src.batch_stride, src.token_stride, t.b, kt.first, t.head, d),
             src.token_stride);
}

// dQ of one query tile: every key tile of every source it can see.
template <typename T>
void query_tile_gradients(const mf_attn_problem& p, const std::vector<std::vector<ChunkRange>>& key_ranges,
                          const std::vector<std::vector<float>>& delta, const TaskGrid::Task& t, BackwardScratch& w) {
  const int d = p.head_dim, kvh = t.head / (p.heads / p.kv_heads);
  const mf_attn_queries& run = p.queries[t.segment];
  QueryTile qt = load_query_tile<T>(p, delta, t.segment, t.b, t.head, t.first, t.rows, w);
  float* dq = w.acc_a.data();  // [rows_pad, d]
  std::fill(dq, dq + static_cast<int64_t>(qt.rows_pad) * d, 0.f);
  for (int s = 0; s < p.num_keys; ++s) {
    const attn::ChunkMask mask = attn::ChunkMask::of(p, p.keys[s].relation);
    for (size_t index = 0; index < key_ranges[s].size(); ++index) {
      const ChunkRange& kr = key_ranges[s][index];
      if (mask.invisible(qt.range.lo, qt.range.hi, kr.has_keys, kr.lo, kr.hi)) continue;
      const KeyTile kt = key_tile(p.keys[s], index);
      load_key_tile<T>(kt, t.b, kvh, d, true, w);
      const bool all_visible = pair_gradients(qt, kt, mask, p.scale, d, w);
      masked_product(!all_visible, qt.rows_pad, d, kt.cols_pad, w.dp.data(), kt.cols_pad, w.k.data(), d, dq, d);
    }
  }
  store_rows(dq, t.rows, d, p.scale,
             token_at(static_cast<T*>(run.dq), run.batch_stride, run.token_stride, t.b, t.first, t.head, d),
             run.token_stride);
}

template <typename T>
void backward(const mf_attn_problem& p) {
  int64_t qlens[MF_ATTN_MAX_SEGMENTS], klens[MF_ATTN_MAX_SEGMENTS];
  for (int r = 0; r < p.num_queries; ++r) qlens[r] = p.queries[r].len;
  for (int s = 0; s < p.num_keys; ++s) klens[s] = p.keys[s].len;
  const TaskGrid query_grid(p.num_queries, qlens, p.batch, p.heads, kQueryTile);
  const TaskGrid key_grid(p.num_keys, klens, p.batch, p.kv_heads, kKeyTile);
  const auto key_ranges = key_tile_ranges(p);
  const auto delta = row_deltas<T>(p, query_grid);
  cpu::parallel_for(key_grid.total(), 1, [&](int64_t begin, int64_t end) {
    BackwardScratch& w = scratch(p.head_dim);
    for (int64_t id = begin; id < end; ++id) key_tile_gradients<T>(p, delta, key_grid.task(id), w);
  });
  cpu::parallel_for(query_grid.total(), 1, [&](int64_t begin, int64_t end) {
    BackwardScratch& w = scratch(p.head_dim);
    for (int64_t id = begin; id < end; ++id) query_tile_gradients<T>(p, key_ranges, delta, query_grid.task(id), w);
  });
}

}  // namespace

extern "C" mf_status mfcpu_attention_backward(mf_device, void*, const mf_attn_problem* p) {
  return with_float_dtype(p->dtype, "attention_backward", [&](auto tag) {
    backward<decltype(tag)>(*p);
    return MF_OK;
  });
}
