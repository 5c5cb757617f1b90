// Entry points of mforce/layers.h: the checks both backends share, then the backend.
#include "mforce/layers.h"

#include "cuda_library.h"
#include "mforce/detail/check.h"

#define LAYER_SIZES(kernel, a, b, c)                                                              \
  MF_REQUIRE((a) >= 0 && (b) >= 0 && (c) >= 0, "%s: negative size (%lld, %lld, %lld)", kernel, \
             (long long)(a), (long long)(b), (long long)(c))
#define LAYER_ACT(kernel, act)                                                                   \
  MF_REQUIRE((act) == MF_ACT_NONE || (act) == MF_ACT_GELU_TANH || (act) == MF_ACT_SILU,          \
             "%s: unknown activation %d (expected NONE=0, GELU_TANH=1 or SILU=2)", kernel, (int)(act))
// Modulation vectors of `groups` groups at `stride` must not overlap within a group.
#define LAYER_MOD(kernel, groups, dim, stride)                                                          \
  MF_REQUIRE((groups) <= 1 || (stride) >= (dim), "%s: modulation stride %lld is below dim %lld", kernel, \
             (long long)(stride), (long long)(dim))

extern "C" {

mf_status mf_layernorm_forward(mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                               int64_t dim, float eps, const void* x, const float* gamma, const float* beta,
                               const float* shift, const float* scale, int64_t mod_stride, void* y, float* mean,
                               float* rstd) {
  const char* k = "layernorm_forward";
  LAYER_SIZES(k, groups, rows, dim);
  MF_REQUIRE(eps > 0.0f, "%s: eps %g must be positive", k, (double)eps);
  MF_REQUIRE(!gamma == !beta, "%s: gamma and beta must both be given or both be null", k);
  MF_REQUIRE(!shift == !scale, "%s: shift and scale must both be given or both be null", k);
  if (scale) LAYER_MOD(k, groups, dim, mod_stride);
  if (groups * rows * dim > 0) { MF_REQUIRE_PTR(x, k); MF_REQUIRE_PTR(y, k); }
  MF_ROUTE(layernorm_forward, dev, dev, stream, dtype, groups, rows, dim, eps, x, gamma, beta, shift, scale,
           mod_stride, y, mean, rstd);
}

mf_status mf_layernorm_backward(mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                int64_t dim, const void* x, const float* gamma, const float* beta, const float* scale,
                                int64_t mod_stride, const float* mean, const float* rstd, const void* dy, void* dx,
                                int32_t accumulate, float* dgamma, float* dbeta, float* dshift, float* dscale,
                                int64_t dmod_stride) {
  const char* k = "layernorm_backward";
  LAYER_SIZES(k, groups, rows, dim);
  MF_REQUIRE(!gamma == !beta && !gamma == !dgamma && !gamma == !dbeta,
             "%s: gamma, beta, dgamma and dbeta must all be given or all be null", k);
  MF_REQUIRE(!scale == !dshift && !scale == !dscale, "%s: scale, dshift and dscale must all be given or all be null",
             k);
  if (scale) {
    LAYER_MOD(k, groups, dim, mod_stride);
    LAYER_MOD(k, groups, dim, dmod_stride);
  }
  if (groups * rows > 0) { MF_REQUIRE_PTR(mean, k); MF_REQUIRE_PTR(rstd, k); }  // read per row, even of 0 elements
  if (groups * rows * dim > 0) { MF_REQUIRE_PTR(x, k); MF_REQUIRE_PTR(dy, k); MF_REQUIRE_PTR(dx, k); }
  MF_ROUTE(layernorm_backward, dev, dev, stream, dtype, groups, rows, dim, x, gamma, beta, scale, mod_stride, mean,
           rstd, dy, dx, accumulate, dgamma, dbeta, dshift, dscale, dmod_stride);
}

mf_status mf_rmsnorm_forward(mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t dim, float eps,
                             const void* x, const float* weight, void* y, float* rstd) {
  const char* k = "rmsnorm_forward";
  LAYER_SIZES(k, rows, dim, 0);
  MF_REQUIRE(eps > 0.0f, "%s: eps %g must be positive", k, (double)eps);
  if (rows * dim > 0) { MF_REQUIRE_PTR(x, k); MF_REQUIRE_PTR(weight, k); MF_REQUIRE_PTR(y, k); }
  MF_ROUTE(rmsnorm_forward, dev, dev, stream, dtype, rows, dim, eps, x, weight, y, rstd);
}

mf_status mf_rmsnorm_backward(mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t dim, const void* x,
                              const float* weight, const float* rstd, const void* dy, void* dx, int32_t accumulate,
                              float* dweight) {
  const char* k = "rmsnorm_backward";
  LAYER_SIZES(k, rows, dim, 0);
  if (dim > 0) MF_REQUIRE_PTR(dweight, k);  // accumulated into even without rows
  if (rows > 0) MF_REQUIRE_PTR(rstd, k);      // read per row, even of 0 elements
  if (rows * dim > 0) {
    MF_REQUIRE_PTR(x, k); MF_REQUIRE_PTR(weight, k); MF_REQUIRE_PTR(dy, k); MF_REQUIRE_PTR(dx, k);
  }
  MF_ROUTE(rmsnorm_backward, dev, dev, stream, dtype, rows, dim, x, weight, rstd, dy, dx, accumulate, dweight);
}

mf_status mf_gated_residual_forward(mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                    int64_t dim, const void* x, const void* y, const float* gate, int64_t mod_stride,
                                    void* out) {
  const char* k = "gated_residual_forward";
  LAYER_SIZES(k, groups, rows, dim);
  LAYER_MOD(k, groups, dim, mod_stride);
  if (groups * rows * dim > 0) {
    MF_REQUIRE_PTR(x, k); MF_REQUIRE_PTR(y, k); MF_REQUIRE_PTR(gate, k); MF_REQUIRE_PTR(out, k);
  }
  MF_ROUTE(gated_residual_forward, dev, dev, stream, dtype, groups, rows, dim, x, y, gate, mod_stride, out);
}

mf_status mf_gated_residual_backward(mf_device dev, void* stream, mf_dtype dtype, int64_t groups, int64_t rows,
                                     int64_t dim, const void* y, const float* gate, int64_t mod_stride,
                                     const void* dout, void* dy, float* dgate, int64_t dmod_stride) {
  const char* k = "gated_residual_backward";
  LAYER_SIZES(k, groups, rows, dim);
  LAYER_MOD(k, groups, dim, mod_stride);
  LAYER_MOD(k, groups, dim, dmod_stride);
  if (groups * dim > 0) {
    MF_REQUIRE_PTR(gate, k); MF_REQUIRE_PTR(dgate, k);
  }
  if (groups * rows * dim > 0) {
    MF_REQUIRE_PTR(y, k); MF_REQUIRE_PTR(dout, k); MF_REQUIRE_PTR(dy, k);
  }
  MF_ROUTE(gated_residual_backward, dev, dev, stream, dtype, groups, rows, dim, y, gate, mod_stride, dout, dy, dgate,
           dmod_stride);
}

mf_status mf_bias_act_forward(mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t cols,
                              mf_activation act, const void* x, const float* bias, void* h, void* y) {
  const char* k = "bias_act_forward";
  LAYER_SIZES(k, rows, cols, 0);
  LAYER_ACT(k, act);
  MF_REQUIRE(!h || h != y, "%s: h and y must not be the same memory", k);
  if (rows * cols > 0) { MF_REQUIRE_PTR(x, k); MF_REQUIRE_PTR(y, k); }
  MF_ROUTE(bias_act_forward, dev, dev, stream, dtype, rows, cols, act, x, bias, h, y);
}

mf_status mf_bias_act_backward(mf_device dev, void* stream, mf_dtype dtype, int64_t rows, int64_t cols,
                               mf_activation act, const void* h, const void* dy, void* dh, int32_t accumulate,
                               float* dbias) {
  const char* k = "bias_act_backward";
  LAYER_SIZES(k, rows, cols, 0);
  LAYER_ACT(k, act);
  if (rows * cols > 0) {
    MF_REQUIRE_PTR(dy, k);
    MF_REQUIRE(act == MF_ACT_NONE || h, "%s: argument 'h' is null (needed by the activation's derivative)", k);
  }
  MF_ROUTE(bias_act_backward, dev, dev, stream, dtype, rows, cols, act, h, dy, dh, accumulate, dbias);
}

mf_status mf_modulation_forward(mf_device dev, void* stream, int64_t groups, int64_t count, int64_t dim,
                                int64_t base_count, const float* base, const float* table, float* mod) {
  const char* k = "modulation_forward";
  LAYER_SIZES(k, groups, count, dim);
  MF_REQUIRE(base_count == 1 || base_count == count, "%s: base_count %lld must be 1 or count (%lld)", k,
             (long long)base_count, (long long)count);
  if (groups * count * dim > 0) { MF_REQUIRE_PTR(base, k); MF_REQUIRE_PTR(table, k); MF_REQUIRE_PTR(mod, k); }
  MF_ROUTE(modulation_forward, dev, dev, stream, groups, count, dim, base_count, base, table, mod);
}

mf_status mf_modulation_backward(mf_device dev, void* stream, int64_t groups, int64_t count, int64_t dim,
                                 int64_t base_count, const float* dmod, float* dbase, int32_t accumulate,
                                 float* dtable) {
  const char* k = "modulation_backward";
  LAYER_SIZES(k, groups, count, dim);
  MF_REQUIRE(base_count == 1 || base_count == count, "%s: base_count %lld must be 1 or count (%lld)", k,
             (long long)base_count, (long long)count);
  if (count * dim > 0) MF_REQUIRE_PTR(dtable, k);  // accumulated into even without groups
  if (groups * count * dim > 0) MF_REQUIRE_PTR(dmod, k);
  MF_ROUTE(modulation_backward, dev, dev, stream, groups, count, dim, base_count, dmod, dbase, accumulate, dtable);
}

mf_status mf_timestep_embedding(mf_device dev, void* stream, int64_t batch, int64_t dim, const float* t, float scale,
                                float max_period, int32_t zero_nonpositive, float* out) {
  const char* k = "timestep_embedding";
  LAYER_SIZES(k, batch, dim, 0);
  MF_REQUIRE(dim % 2 == 0, "%s: dim %lld must be even", k, (long long)dim);
  MF_REQUIRE(max_period > 1.0f, "%s: max_period %g must exceed 1", k, (double)max_period);
  if (batch * dim > 0) { MF_REQUIRE_PTR(t, k); MF_REQUIRE_PTR(out, k); }
  MF_ROUTE(timestep_embedding, dev, dev, stream, batch, dim, t, scale, max_period, zero_nonpositive, out);
}

mf_status mf_embedding_forward(mf_device dev, void* stream, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                               const int32_t* ids, const float* table, void* out) {
  const char* k = "embedding_forward";
  LAYER_SIZES(k, n, dim, vocab);
  MF_REQUIRE(n == 0 || vocab > 0, "%s: empty vocabulary", k);
  if (n * dim > 0) { MF_REQUIRE_PTR(ids, k); MF_REQUIRE_PTR(table, k); MF_REQUIRE_PTR(out, k); }
  MF_ROUTE(embedding_forward, dev, dev, stream, dtype, n, dim, vocab, ids, table, out);
}

mf_status mf_embedding_backward(mf_device dev, void* stream, mf_dtype dtype, int64_t n, int64_t dim, int64_t vocab,
                                const int32_t* ids, const int32_t* order, const int32_t* seg_start,
                                int64_t segments, const void* dout, float* dtable) {
  const char* k = "embedding_backward";
  LAYER_SIZES(k, n, dim, vocab);
  MF_REQUIRE(segments >= 0 && segments <= n, "%s: %lld segments for %lld tokens", k, (long long)segments,
             (long long)n);
  if (segments * dim > 0) {
    MF_REQUIRE_PTR(ids, k); MF_REQUIRE_PTR(order, k); MF_REQUIRE_PTR(seg_start, k); MF_REQUIRE_PTR(dout, k);
    MF_REQUIRE_PTR(dtable, k);
  }
  MF_ROUTE(embedding_backward, dev, dev, stream, dtype, n, dim, vocab, ids, order, seg_start, segments, dout, dtable);
}

}  // extern "C"
