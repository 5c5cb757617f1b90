// Entry points of mforce/attention.h: the problem's checks both backends share, then the backend.
#include "mforce/attention.h"

#include <cmath>

#include "mforce/detail/check.h"
#include "cuda_library.h"

namespace {

// The checks of everything the forward reads and writes; `kernel` names the entry point.
mf_status check_problem(const mf_attn_problem* p, const char* kernel) {
  MF_REQUIRE(p != nullptr, "%s: argument 'p' (the problem) is null", kernel);
  MF_REQUIRE(p->dtype == MF_F32 || p->dtype == MF_BF16, "%s: dtype %d; expected F32=0 or BF16=1", kernel,
             (int)p->dtype);
  MF_REQUIRE(p->batch >= 0, "%s: batch = %d; expected >= 0", kernel, (int)p->batch);
  MF_REQUIRE(p->heads >= 1 && p->kv_heads >= 1, "%s: heads = %d, kv_heads = %d; expected >= 1", kernel,
             (int)p->heads, (int)p->kv_heads);
  MF_REQUIRE(p->heads % p->kv_heads == 0, "%s: heads = %d is not a multiple of kv_heads = %d", kernel,
             (int)p->heads, (int)p->kv_heads);
  MF_REQUIRE(p->head_dim >= 8 && p->head_dim <= 256 && p->head_dim % 8 == 0,
             "%s: head_dim = %d; expected a multiple of 8 in [8, 256]", kernel, (int)p->head_dim);
  MF_REQUIRE(std::isfinite(p->scale), "%s: scale = %g; expected a finite value", kernel, (double)p->scale);
  MF_REQUIRE(p->sinks >= 0, "%s: sinks = %d; expected >= 0", kernel, (int)p->sinks);
  MF_REQUIRE(p->num_queries >= 1 && p->num_queries <= MF_ATTN_MAX_SEGMENTS,
             "%s: num_queries = %d; expected 1..%d", kernel, (int)p->num_queries, MF_ATTN_MAX_SEGMENTS);
  MF_REQUIRE(p->num_keys >= 1 && p->num_keys <= MF_ATTN_MAX_SEGMENTS, "%s: num_keys = %d; expected 1..%d",
             kernel, (int)p->num_keys, MF_ATTN_MAX_SEGMENTS);
  for (int r = 0; r < p->num_queries; ++r) {
    const mf_attn_queries& q = p->queries[r];
    MF_REQUIRE(q.len >= 0 && q.batch_stride >= 0 && q.token_stride >= 0,
               "%s: queries[%d] has a negative len or stride (len=%lld, batch_stride=%lld, token_stride=%lld)",
               kernel, r, (long long)q.len, (long long)q.batch_stride, (long long)q.token_stride);
    if (q.len == 0 || p->batch == 0) continue;
    MF_REQUIRE(q.q && q.o && q.lse && q.chunk, "%s: queries[%d]: q, o, lse and chunk must not be null", kernel, r);
    // o (and dq) share q's strides and are written row by row in parallel.
    MF_REQUIRE(mforce::rows_disjoint(p->batch, q.len, q.batch_stride, q.token_stride, (int64_t)p->heads * p->head_dim),
               "%s: queries[%d]: strides (batch %lld, token %lld) make its tokens of %lld elements overlap", kernel, r,
               (long long)q.batch_stride, (long long)q.token_stride, (long long)p->heads * p->head_dim);
  }
  for (int s = 0; s < p->num_keys; ++s) {
    const mf_attn_keys& k = p->keys[s];
    MF_REQUIRE(k.len >= 0 && k.batch_stride >= 0 && k.token_stride >= 0,
               "%s: keys[%d] has a negative len or stride (len=%lld, batch_stride=%lld, token_stride=%lld)",
               kernel, s, (long long)k.len, (long long)k.batch_stride, (long long)k.token_stride);
    MF_REQUIRE(k.relation == MF_ATTN_CAUSAL || k.relation == MF_ATTN_PAST || k.relation == MF_ATTN_SAME,
               "%s: keys[%d].relation = %d; expected MF_ATTN_CAUSAL=0, MF_ATTN_PAST=1 or MF_ATTN_SAME=2", kernel, s,
               (int)k.relation);
    if (k.len == 0 || p->batch == 0) continue;
    MF_REQUIRE(k.k && k.v && k.chunk, "%s: keys[%d]: k, v and chunk must not be null", kernel, s);
  }
  return MF_OK;
}

}  // namespace

extern "C" {

mf_status mf_attention_forward(mf_device dev, void* stream, const mf_attn_problem* p) {
  mf_status status = check_problem(p, "attention_forward");
  if (status != MF_OK) return status;
  MF_ROUTE(attention_forward, dev, dev, stream, p);
}

mf_status mf_attention_backward(mf_device dev, void* stream, const mf_attn_problem* p) {
  mf_status status = check_problem(p, "attention_backward");
  if (status != MF_OK) return status;
  for (int r = 0; r < p->num_queries; ++r) {
    const mf_attn_queries& q = p->queries[r];
    if (q.len == 0 || p->batch == 0) continue;
    MF_REQUIRE(q.d_o && q.dq, "attention_backward: queries[%d]: d_o and dq must not be null", r);
  }
  for (int s = 0; s < p->num_keys; ++s) {
    const mf_attn_keys& k = p->keys[s];
    MF_REQUIRE((k.dk == nullptr) == (k.dv == nullptr),
               "attention_backward: keys[%d]: dk and dv must both be set or both be null", s);
    // dk and dv share k's strides; keys that are only read may overlap.
    MF_REQUIRE(k.dk == nullptr ||
                   mforce::rows_disjoint(p->batch, k.len, k.batch_stride, k.token_stride,
                                         (int64_t)p->kv_heads * p->head_dim),
               "attention_backward: keys[%d]: strides (batch %lld, token %lld) make its dk, dv tokens of %lld elements "
               "overlap", s, (long long)k.batch_stride, (long long)k.token_stride,
               (long long)p->kv_heads * p->head_dim);
  }
  MF_ROUTE(attention_backward, dev, dev, stream, p);
}

}  // extern "C"
