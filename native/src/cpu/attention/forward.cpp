// CPU forward of mforce/attention.h: one task per (query run, batch, head, query tile); the task
// walks the key tiles of every source with an online softmax in fp32 (flash-attention's
// recurrence), skipping tiles the chunk mask hides entirely.
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

// Per-thread fp32 tiles for head_dim d, reused from call to call.
struct ForwardScratch {
  std::vector<float> q, kt, v, s, o, m, l;
  void reserve(int d) {
    q.resize(static_cast<size_t>(kQueryTile) * d);   // [query rows, d]
    kt.resize(static_cast<size_t>(kKeyTile) * d);    // [d, keys]
    v.resize(static_cast<size_t>(kKeyTile) * d);     // [keys, d]
    s.resize(static_cast<size_t>(kQueryTile) * kKeyTile);  // [query rows, keys]
    o.resize(static_cast<size_t>(kQueryTile) * d);   // [query rows, d]
    m.resize(kQueryTile);                            // running row max of the scaled scores
    l.resize(kQueryTile);                            // running row sum of exp(score - m)
  }
};

// One key tile of the online softmax: s [rows_pad, cols_pad] holds q·k; it becomes
// p = exp(scale·s - m_new) (0 where the mask hides the pair), and each row's running max m,
// sum l and output accumulator o [rows_pad, d] are rescaled to the new max.
void online_softmax_step(float* s, int rows, int rows_pad, int cols, int cols_pad, const int32_t* qchunk,
                         const int32_t* kchunk, bool all_visible, const attn::ChunkMask& mask, float scale, float* m,
                         float* l, float* o, int d) {
  for (int i = 0; i < rows_pad; ++i) {
    float* row = s + static_cast<int64_t>(i) * cols_pad;
    if (i >= rows) {  // padding rows stay 0 so that they add nothing to p·v
      std::fill(row, row + cols_pad, 0.f);
      continue;
    }
    visible_scores(row, cols, cols_pad, all_visible, qchunk[i], kchunk, mask, scale);
    float m_new = std::max(m[i], row_max(row, cols_pad));  // the max ignores NaN scores
    // -inf: no visible finite score yet; shifting by 0 then gives p = 0 for the hidden keys and
    // NaN for NaN scores, which must reach o and l (as on CUDA), not be taken for "no key"
    float base = m_new == kNegInf ? 0.f : m_new;
    float alpha = std::exp(m[i] - base);  // 0 when m[i] = -inf (o and l are still 0 then, or NaN)
    l[i] = l[i] * alpha + exp_affine(row, cols_pad, 1.f, base);
    m[i] = m_new;
    if (alpha != 1.f) scale_row(o + static_cast<int64_t>(i) * d, d, alpha);
  }
}

template <typename T>
void forward_tile(const mf_attn_problem& p, const std::vector<std::vector<ChunkRange>>& key_ranges,
                  const TaskGrid::Task& t, ForwardScratch& w) {
  const int d = p.head_dim;
  const int kvh = t.head / (p.heads / p.kv_heads);
  const mf_attn_queries& run = p.queries[t.segment];
  const int rows = t.rows, rows_pad = pad4(rows);
  const int32_t* qchunk = run.chunk + t.first;
  ChunkRange qr = chunk_range(qchunk, rows, false);

  load_rows(token_at(static_cast<const T*>(run.q), run.batch_stride, run.token_stride, t.b, t.first, t.head, d),
            run.token_stride, rows, rows_pad, d, nullptr, w.q.data());
  std::fill(w.o.begin(), w.o.begin() + static_cast<int64_t>(rows_pad) * d, 0.f);
  std::fill(w.m.begin(), w.m.end(), kNegInf);
  std::fill(w.l.begin(), w.l.end(), 0.f);

  for (int s = 0; s < p.num_keys; ++s) {
    const mf_attn_keys& src = p.keys[s];
    const attn::ChunkMask mask = attn::ChunkMask::of(p, src.relation);
    for (size_t kt = 0; kt < key_ranges[s].size(); ++kt) {
      const ChunkRange& kr = key_ranges[s][kt];
      if (mask.invisible(qr.lo, qr.hi, kr.has_keys, kr.lo, kr.hi)) continue;
      const int64_t first = static_cast<int64_t>(kt) * kKeyTile;
      const int cols = static_cast<int>(std::min<int64_t>(kKeyTile, src.len - first)), cols_pad = pad8(cols);
      const int32_t* kchunk = src.chunk + first;
      load_columns(token_at(static_cast<const T*>(src.k), src.batch_stride, src.token_stride, t.b, first, kvh, d),
                   src.token_stride, cols, cols_pad, d, kchunk, w.kt.data());
      load_rows(token_at(static_cast<const T*>(src.v), src.batch_stride, src.token_stride, t.b, first, kvh, d),
                src.token_stride, cols, cols_pad, d, kchunk, w.v.data());
      const bool all_visible = mask.all_visible(qr.lo, qr.hi, kr.no_empty, kr.lo, kr.hi);
      tile_gemm(false, false, rows_pad, cols_pad, d, w.q.data(), d, w.kt.data(), cols_pad, w.s.data(), cols_pad);
      online_softmax_step(w.s.data(), rows, rows_pad, cols, cols_pad, qchunk, kchunk, all_visible, mask, p.scale,
                          w.m.data(), w.l.data(), w.o.data(), d);
      masked_product(!all_visible, rows_pad, d, cols_pad, w.s.data(), cols_pad, w.v.data(), d, w.o.data(), d);
    }
  }

  // o = o / l and lse = m + log(l); a row that saw no key gets o = 0 and lse = -inf, one with NaN
  // scores (l NaN) o and lse NaN, so that the backward does not take it for a row without keys
  float* lse = run.lse + (static_cast<int64_t>(t.b) * p.heads + t.head) * run.len + t.first;
  for (int i = 0; i < rows; ++i) {
    float inv = w.l[i] > 0.f ? 1.f / w.l[i] : 0.f;
    float* orow = w.o.data() + static_cast<int64_t>(i) * d;
    for (int c = 0; c < d; ++c) orow[c] *= inv;
    lse[i] = w.l[i] == 0.f ? kNegInf : w.m[i] + std::log(w.l[i]);
  }
  store_rows(w.o.data(), rows, d, 1.f,
             token_at(static_cast<T*>(run.o), run.batch_stride, run.token_stride, t.b, t.first, t.head, d),
             run.token_stride);
}

template <typename T>
void forward(const mf_attn_problem& p) {
  int64_t lens[MF_ATTN_MAX_SEGMENTS];
  for (int r = 0; r < p.num_queries; ++r) lens[r] = p.queries[r].len;
  const TaskGrid grid(p.num_queries, lens, p.batch, p.heads, kQueryTile);
  const auto key_ranges = key_tile_ranges(p);
  cpu::parallel_for(grid.total(), 1, [&](int64_t begin, int64_t end) {
    thread_local ForwardScratch scratch;
    scratch.reserve(p.head_dim);
    for (int64_t id = begin; id < end; ++id) forward_tile<T>(p, key_ranges, grid.task(id), scratch);
  });
}

}  // namespace

extern "C" mf_status mfcpu_attention_forward(mf_device, void*, const mf_attn_problem* p) {
  return with_float_dtype(p->dtype, "attention_forward", [&](auto tag) {
    forward<decltype(tag)>(*p);
    return MF_OK;
  });
}
