// mfcuda_attention_forward / mfcuda_attention_backward (mforce/attention.h): check the CUDA
// limits, pick the kernels, summarize the tiles, launch.
//   bf16, head_dim 64 or 128, 16-byte aligned rows -> tensor-core kernels (fwd/bwd_bf16_d*.cu)
//   everything else (fp32; other head dims; unaligned; a forward with scale <= 0, which the
//   tensor-core forward cannot fold into its exponent)  -> SIMT kernels (simt_*.cu)

#include "attention_launch.cuh"
#include "attention_prep.cuh"
#include "attention_traits.cuh"
#include "mforce/detail/check.h"

namespace mforce::cuda::attn {
namespace {

constexpr int kMaxGridYZ = 65535;

// The entry point (native/src/dispatch/attention.cpp) has checked the problem for both
// backends; what is left are the limits of this one.
mf_status validate(const mf_attn_problem* p, const char* op) {
  if (p->heads > kMaxGridYZ || p->batch > kMaxGridYZ) {
    mf_set_error("%s: heads (%d) and batch (%d) must be at most %d on CUDA", op, (int)p->heads, (int)p->batch,
                 kMaxGridYZ);
    return MF_ERR_UNSUPPORTED;
  }
  return MF_OK;
}

bool aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15u) == 0; }

// The tensor-core kernels move rows as 16-byte vectors: every pointer they touch must be
// 16-byte aligned and every stride a multiple of 8 elements.
bool rows_vectorizable(const mf_attn_problem& p, bool backward) {
  bool ok = true;
  for (int i = 0; i < p.num_queries; ++i) {
    const mf_attn_queries& r = p.queries[i];
    if (r.len == 0) continue;
    ok = ok && r.batch_stride % 8 == 0 && r.token_stride % 8 == 0 && aligned16(r.q) && aligned16(r.o);
    if (backward) ok = ok && aligned16(r.d_o) && aligned16(r.dq);
  }
  for (int i = 0; i < p.num_keys; ++i) {
    const mf_attn_keys& s = p.keys[i];
    if (s.len == 0) continue;
    ok = ok && s.batch_stride % 8 == 0 && s.token_stride % 8 == 0 && aligned16(s.k) && aligned16(s.v);
    if (backward) ok = ok && aligned16(s.dk) && aligned16(s.dv);
  }
  return ok;
}

enum class Path { kMma64, kMma128, kSimt64, kSimt128, kSimt256 };

struct Plan {
  Path path;
  int q_tile, k_tile;  // tokens per query tile and per key tile
};

template <class Tr>
Plan plan_of(Path path) {
  return Plan{path, Tr::kBlockM, Tr::kBlockN};
}

template <int D>
Plan mma_plan(Path path, const mf_attn_problem& p, bool backward) {
  if (!backward) return plan_of<FwdTraits<D>>(path);
  return p.deterministic ? plan_of<BwdTraits<D>>(path) : plan_of<BwdAtomicTraits<D>>(path);
}

Plan plan_for(const mf_attn_problem& p, bool backward) {
  if (p.dtype == MF_BF16 && (p.head_dim == 64 || p.head_dim == 128) && rows_vectorizable(p, backward) &&
      (backward || p.scale > 0.f))
    return p.head_dim == 64 ? mma_plan<64>(Path::kMma64, p, backward) : mma_plan<128>(Path::kMma128, p, backward);
  const Path path = p.head_dim <= 64 ? Path::kSimt64 : p.head_dim <= 128 ? Path::kSimt128 : Path::kSimt256;
  return Plan{path, SimtTraits<2>::kTile, SimtTraits<2>::kTile};
}

// Tile offsets of one side; false when the tiles do not fit a grid dimension.
template <typename Seg>
bool tile_set(TileSet& set, const Seg* segs, int count, int tile) {
  set = TileSet{};
  set.tile = tile;
  set.count = count;
  int64_t total = 0;
  for (int i = 0; i <= kMaxSeg; ++i) {
    set.offset[i] = static_cast<int32_t>(total);
    if (i < count) total += (segs[i].len + tile - 1) / tile;
    if (total > INT32_MAX) return false;
  }
  return true;
}

constexpr int kPrepWarps = kPrepThreads / 32;

// Key splits of the tensor-core forward. A grid of `blocks` (query tile, head, batch) blocks
// that cannot fill the device's `slots` block slots in one wave leaves SMs idle for the whole
// call (issue #3's (b)-(d): 156 or 64 blocks for 264 slots). Splitting the key tiles of each
// query tile S ways multiplies the blocks by S and divides their work by S; the time goes as
// waves(S) / S = ceil(blocks S / slots) / S, for blocks of equal cost. Each split also costs a
// block start (Q load, pipeline fill), an fp32 partial output and its share of the merge, which
// this model leaves out; so: the smallest S within 5% of the best time, S <= kMaxSplits, each
// split keeping at least kMinSplitTiles key tiles. The split follows the key tiles' order, not
// the mask: under a causal mask some blocks find nothing to do (small calls only: the large
// masked ones fill the device and are never split).
constexpr int kMaxSplits = 16;
constexpr int kMinSplitTiles = 2;

int choose_splits(int64_t blocks, int64_t slots, int64_t key_tiles) {
  if (blocks <= 0 || blocks >= slots) return 1;
  auto time = [&](int s) { return double((blocks * s + slots - 1) / slots) / s; };
  int max_splits = 1;
  double best = 1.0;  // one wave, whole key range
  while (max_splits < kMaxSplits && key_tiles / (max_splits + 1) >= kMinSplitTiles) {
    ++max_splits;
    best = time(max_splits) < best ? time(max_splits) : best;
  }
  for (int s = 1; s < max_splits; ++s)
    if (time(s) <= best * 1.05) return s;
  return max_splits;
}

// Everything the kernels of one call need: the parameters (with the tile summaries written
// into scratch memory) and, for a split forward (slots: the device's block slots for it, 0 where
// the keys are never split), room for the partial results; for the backward, room for delta and
// lse2 and, when dQ is summed with atomics (tensor-core path, prob.deterministic == 0), the
// zeroed fp32 dq_accum.
mf_status prepare(const mf_attn_problem& prob, const Plan& plan, bool backward, int64_t slots, cudaStream_t stream,
                  Scratch& scratch, Params& p, const char* op) {
  p = Params{};
  p.prob = prob;
  p.scale_log2 = prob.scale * 1.4426950408889634f;
  p.group = prob.heads / prob.kv_heads;
  if (!tile_set(p.q, prob.queries, prob.num_queries, plan.q_tile) ||
      !tile_set(p.k, prob.keys, prob.num_keys, plan.k_tile)) {
    mf_set_error("%s: too many tokens for one call (more than %d tiles)", op, INT32_MAX);
    return MF_ERR_UNSUPPORTED;
  }
  int64_t rows = 0;  // query rows over all runs, batch entries and heads
  for (int i = 0; i < prob.num_queries; ++i) {
    p.stat_offset[i] = rows;
    rows += int64_t(prob.batch) * prob.heads * prob.queries[i].len;
  }
  p.stat_rows = rows;
  const int q_tiles = p.q.offset[kMaxSeg], k_tiles = p.k.offset[kMaxSeg];
  const size_t summary_bytes = sizeof(TileSummary) * (size_t(q_tiles) + k_tiles);
  const size_t stat_bytes = backward ? sizeof(float) * size_t(rows) : 0;
  const bool atomic_dq = backward && !prob.deterministic && (plan.path == Path::kMma64 || plan.path == Path::kMma128);
  const size_t accum_bytes = atomic_dq ? sizeof(float) * size_t(rows) * prob.head_dim : 0;
  p.splits = backward ? 1 : choose_splits(int64_t(q_tiles) * prob.heads * prob.batch, slots, k_tiles);
  const size_t part_bytes = p.splits > 1 ? sizeof(float) * size_t(p.splits) * size_t(rows) * (prob.head_dim + 1) : 0;
  if (mf_status s = scratch.allocate(op, summary_bytes + 2 * stat_bytes + accum_bytes + part_bytes)) return s;
  TileSummary* summaries = reinterpret_cast<TileSummary*>(scratch.as<unsigned char>());
  p.q.summary = summaries;
  p.k.summary = summaries + q_tiles;
  if (p.splits > 1) {
    p.o_part = reinterpret_cast<float*>(scratch.as<unsigned char>() + summary_bytes + 2 * stat_bytes + accum_bytes);
    p.lse_part = p.o_part + size_t(p.splits) * rows * prob.head_dim;
  }

  SummaryJobs jobs{};
  jobs.out = summaries;
  for (int i = 0; i < prob.num_queries; ++i, ++jobs.count) {
    jobs.chunk[jobs.count] = prob.masked ? prob.queries[i].chunk : nullptr;
    jobs.len[jobs.count] = prob.queries[i].len;
    jobs.tile[jobs.count] = plan.q_tile;
    jobs.first[jobs.count] = p.q.offset[i];
  }
  for (int i = 0; i < prob.num_keys; ++i, ++jobs.count) {
    jobs.chunk[jobs.count] = prob.keys[i].chunk;
    jobs.len[jobs.count] = prob.keys[i].len;
    jobs.tile[jobs.count] = plan.k_tile;
    jobs.keys[jobs.count] = 1;
    jobs.relation[jobs.count] = prob.keys[i].relation;
    jobs.first[jobs.count] = q_tiles + p.k.offset[i];
  }
  jobs.first[jobs.count] = q_tiles + k_tiles;
  if (mf_status s = launch("attention tile summaries", attention_summary_kernel,
                           dim3(static_cast<unsigned>((q_tiles + k_tiles + kPrepWarps - 1) / kPrepWarps)),
                           kPrepThreads, 0, stream, jobs))
    return s;
  if (!backward || rows == 0) return MF_OK;

  float* delta = reinterpret_cast<float*>(scratch.as<unsigned char>() + summary_bytes);
  float* lse2 = delta + rows;
  p.delta = delta;
  p.lse2 = lse2;
  if (atomic_dq) {
    p.dq_accum = lse2 + rows;
    MF_CUDA_TRY(op, cudaMemsetAsync(p.dq_accum, 0, accum_bytes, stream));
  }
  const dim3 grid(static_cast<unsigned>((rows + kPrepWarps - 1) / kPrepWarps));
  return prob.dtype == MF_F32
             ? launch("attention_backward (delta)", attention_delta_kernel<float>, grid, kPrepThreads, 0, stream, p,
                      delta, lse2, rows)
             : launch("attention_backward (delta)", attention_delta_kernel<bf16>, grid, kPrepThreads, 0, stream, p,
                      delta, lse2, rows);
}

mf_status run(const mf_attn_problem* prob, void* stream_ptr, bool backward) {
  const char* op = backward ? "attention_backward" : "attention_forward";
  if (mf_status s = validate(prob, op)) return s;
  if (prob->batch == 0) return MF_OK;
  const cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  const Plan plan = plan_for(*prob, backward);
  // blocks of the split forward kernel per SM; 0: this call never splits
  const int per_sm = backward                      ? 0
                     : plan.path == Path::kMma64  ? forward_blocks_per_sm<64>()
                     : plan.path == Path::kMma128 ? forward_blocks_per_sm<128>()
                                                   : 0;
  Scratch scratch(stream);
  Params p;
  if (mf_status s = prepare(*prob, plan, backward, int64_t(sm_count()) * per_sm, stream, scratch, p, op)) return s;
  const bool f32 = prob->dtype == MF_F32;
  switch (plan.path) {
    case Path::kMma64: return backward ? backward_mma<64>(p, stream) : forward_mma<64>(p, stream);
    case Path::kMma128: return backward ? backward_mma<128>(p, stream) : forward_mma<128>(p, stream);
    case Path::kSimt64:
      if (f32) return backward ? backward_simt<float, 2>(p, stream) : forward_simt<float, 2>(p, stream);
      return backward ? backward_simt<bf16, 2>(p, stream) : forward_simt<bf16, 2>(p, stream);
    case Path::kSimt128:
      if (f32) return backward ? backward_simt<float, 4>(p, stream) : forward_simt<float, 4>(p, stream);
      return backward ? backward_simt<bf16, 4>(p, stream) : forward_simt<bf16, 4>(p, stream);
    case Path::kSimt256:
      if (f32) return backward ? backward_simt<float, 8>(p, stream) : forward_simt<float, 8>(p, stream);
      return backward ? backward_simt<bf16, 8>(p, stream) : forward_simt<bf16, 8>(p, stream);
  }
  mf_set_error("%s: internal error: no kernel path", op);
  return MF_ERR_INTERNAL;
}

}  // namespace

mf_status launch_split_combine(const Params& p, cudaStream_t stream) {
  return launch("attention_forward (merge splits)", attention_split_combine_kernel,
                dim3(static_cast<unsigned>((p.stat_rows + kPrepWarps - 1) / kPrepWarps)), kPrepThreads, 0, stream, p);
}

mf_status launch_dq_convert(const Params& p, cudaStream_t stream) {
  return launch("attention_backward (dQ convert)", attention_dq_convert_kernel,
                dim3(static_cast<unsigned>((p.stat_rows + kPrepWarps - 1) / kPrepWarps)), kPrepThreads, 0, stream, p);
}

}  // namespace mforce::cuda::attn

extern "C" {

mf_status mfcuda_attention_forward(mf_device, void* stream, const mf_attn_problem* p) {
  return mforce::cuda::attn::run(p, stream, false);
}

mf_status mfcuda_attention_backward(mf_device, void* stream, const mf_attn_problem* p) {
  return mforce::cuda::attn::run(p, stream, true);
}

}  // extern "C"
